/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test programs share: reading a number from a sysfs or proc
 * file, the grant table's stats/ totals, the page pattern the sharing tests
 * write and check (gntshare and gntpeer agree on it), and gntalloc's
 * alloc/dealloc ioctls.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/gntalloc.h>

/*
 * The first number in @path (@key NULL), or the number after the first line
 * that starts with @key; -1 when the file or the line is missing.
 */
static inline long read_long(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtol(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, strlen(key))) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A total of the Rust grant table's stats/, or -1 without it. */
static inline long stat_of(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/grant_table/stats/%s", name);
	return read_long(path, NULL);
}

#define SHARE_PAGE 4096
/* The first bytes of the first page are the sharing tests' mailbox. */
#define SHARE_MAILBOX 64

/* The byte at offset @i of page @page for pattern @seed; never zero. */
static inline unsigned char page_pattern(unsigned int seed, size_t page,
					 size_t i)
{
	return (unsigned char)((i * 131 + page * 17 + seed * 7) | 1);
}

/*
 * Over @n pages at @m, past the mailbox: counts the bytes that differ from
 * pattern @check (0: none checked), then writes pattern @fill (0: none).
 */
static inline size_t check_fill(unsigned char *m, unsigned int n,
				unsigned int check, unsigned int fill)
{
	size_t bad = 0, p, i;

	for (p = 0; p < n; p++)
		for (i = p ? 0 : SHARE_MAILBOX; i < SHARE_PAGE; i++) {
			unsigned char *b = m + p * SHARE_PAGE + i;

			if (check && *b != page_pattern(check, p, i))
				bad++;
			if (fill)
				*b = page_pattern(fill, p, i);
		}
	return bad;
}

/*
 * IOCTL_GNTALLOC_ALLOC_GREF of @count writable pages for @domid; the
 * allocation's index goes to @index. Counts above 65536 get room for 65536
 * references only: the call must refuse them.
 */
static inline int gntalloc_alloc(int fd, uint16_t domid, uint32_t count,
				 uint64_t *index)
{
	size_t refs = count == 0 ? 1 : count > 65536 ? 65536 : count;
	struct ioctl_gntalloc_alloc_gref *op;
	int rc;

	op = calloc(1, sizeof(*op) + refs * sizeof(uint32_t));
	if (!op) {
		perror("calloc");
		exit(1);
	}
	op->domid = domid;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = count;
	rc = ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
	if (index)
		*index = op->index;
	free(op);
	return rc;
}

/* IOCTL_GNTALLOC_DEALLOC_GREF of @count pages from @index. */
static inline int gntalloc_dealloc(int fd, uint64_t index, uint32_t count)
{
	struct ioctl_gntalloc_dealloc_gref op = {
		.index = index, .count = count,
	};

	return ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op);
}

#endif
