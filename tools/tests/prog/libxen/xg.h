/* SPDX-License-Identifier: GPL-2.0 */
/* What xgshr (the sharer) and xgmap (the mapper) agree on. */
#ifndef XG_H
#define XG_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#define XG_PAGE 4096
/* The byte the unmap notification clears in the notify page. */
#define NOTIFY_OFFSET 100
/* The mapper sets word 0 of the first page once it has written pattern B. */
#define MAILBOX_WROTE 0x600dfeedu
#define PATTERN_A 0xa5000000u
#define PATTERN_B 0x5a000000u

static inline uint32_t xg_word(uint32_t pattern, int page, int word)
{
	return pattern ^ ((uint32_t)page << 12) ^ (uint32_t)word;
}

/* Fills N pages with PATTERN, leaving word 0 of page 0 (the mailbox). */
static inline void xg_fill(uint32_t *p, int n, uint32_t pattern)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < XG_PAGE / 4; j++)
			if (i || j)
				p[i * XG_PAGE / 4 + j] = xg_word(pattern, i, j);
}

/* The number of words that differ from PATTERN (the mailbox left out). */
static inline int xg_check(const uint32_t *p, int n, uint32_t pattern)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < XG_PAGE / 4; j++)
			if ((i || j) && p[i * XG_PAGE / 4 + j] != xg_word(pattern, i, j))
				bad++;
	return bad;
}

static inline void xg_say(const char *key, const char *val)
{
	printf("XENRIG-XG %s %s\n", key, val);
	fflush(stdout);
}

static inline int xg_die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("XENRIG-XG error %s %s\n", step, name ? name : "?");
	fflush(stdout);
	return 1;
}
#endif
