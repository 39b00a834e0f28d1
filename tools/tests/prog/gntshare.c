// SPDX-License-Identifier: GPL-2.0
/*
 * gntshare: the sharing side of a cross-domain grant test, run in a domU.
 *
 *   gntshare [-n PAGES] [-d DOMID] [-H HOG_MIB] [-t TIMEOUT_S] [-w]
 *
 * 1. Shares PAGES pages (default 256) with DOMID (default 0, dom0) through
 *    /dev/xen/gntalloc, fills them with a pattern and prints the grant
 *    references on the console, then "ready". The first 64 bytes of the
 *    first page are a mailbox the peer writes to (see gntpeer).
 * 2. Waits until the peer has mapped the pages, checked the pattern and
 *    written its own (mailbox 2), and checks that pattern.
 * 3. Closes its side first: unmaps and deallocates every grant while the
 *    peer still maps them, so the grant table must defer them, and prints
 *    how many are pending. Then it allocates HOG_MIB (default 96) of memory,
 *    fills it and holds it for 5 s, so that a page wrongly given back would
 *    be reused and overwritten under the peer's eyes (the peer keeps
 *    checking its pattern meanwhile), and prints "hogged".
 * 4. Waits (TIMEOUT_S, default 300) until the peer has unmapped and every
 *    deferred entry is reclaimed: /sys/module/grant_table/stats/pending back
 *    where it was, or without that file free memory back up.
 *
 * With -w it waits between steps 2 and 3 for commands on standard input,
 * one per line: "check" prints "kept ok" when every page still holds the
 * peer's pattern (else "kept bad BYTES"); "close" goes on with step 3. A
 * domain saved and restored meanwhile keeps its pages but not its grants.
 *
 * Output on stdout, one "XENRIG-GNTSHARE key value" line per fact: refs
 * (64 per line), ready, peer_writes (ok/bad), pending_deferred,
 * hogged, pending_after, deferred_delta, reclaimed_delta, leaked,
 * free_delta_kb, then "done". A failed step prints "XENRIG-GNTSHARE error
 * STEP ERRNO-NAME" and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#include "freemem.h"
#include "testlib.h"

#define PAGE SHARE_PAGE
#define MAILBOX SHARE_MAILBOX
#define STATS "/sys/module/grant_table/stats/"

static void say(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("XENRIG-GNTSHARE %s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	say("error", "%s %s", step, name ? name : "error");
	return 1;
}

int main(int argc, char **argv)
{
	unsigned int n = 256, domid = 0, timeout = 300, i;
	long hog_mib = 96, p0, d0, r0, f0, pend, fr;
	struct ioctl_gntalloc_alloc_gref *op;
	struct ioctl_gntalloc_dealloc_gref dg;
	volatile uint32_t *mbox;
	unsigned char *m, *hog;
	char line[64 * 12 + 1];
	int fd, c, len, wait_cmds = 0;
	time_t start;

	while ((c = getopt(argc, argv, "n:d:H:t:w")) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 10);
			break;
		case 'H':
			hog_mib = strtol(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			wait_cmds = 1;
			break;
		default:
			fprintf(stderr, "usage: gntshare [-n PAGES] [-d DOMID] [-H HOG_MIB] [-t TIMEOUT_S] [-w]\n");
			return 2;
		}
	}
	if (!n || n > 65536 || hog_mib < 0)
		return 2;

	p0 = stat_of("pending");
	d0 = stat_of("deferred");
	r0 = stat_of("reclaimed");
	f0 = free_kb();

	fd = open("/dev/xen/gntalloc", O_RDWR);
	if (fd < 0)
		return die("open-gntalloc");
	op = calloc(1, sizeof(*op) + n * sizeof(uint32_t));
	if (!op)
		return die("calloc");
	op->domid = domid;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = n;
	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op))
		return die("alloc");
	m = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, op->index);
	if (m == MAP_FAILED)
		return die("mmap");
	mbox = (volatile uint32_t *)m;
	*mbox = 0;
	check_fill(m, n, 0, 1);
	for (i = 0; i < n; i += 64) {
		unsigned int j;

		len = 0;
		for (j = i; j < n && j < i + 64; j++)
			len += snprintf(line + len, sizeof(line) - len, "%s%u",
					j > i ? " " : "", op->gref_ids[j]);
		say("refs", "%s", line);
	}
	say("ready", "%u", n);

	/* 2. the peer maps, checks pattern 1, writes pattern 2, sets mailbox 2. */
	start = time(NULL);
	while (*mbox != 2) {
		if (time(NULL) - start > timeout) {
			errno = ETIMEDOUT;
			return die("wait-peer");
		}
		usleep(20000);
	}
	__sync_synchronize();
	say("peer_writes", "%s", check_fill(m, n, 2, 0) ? "bad" : "ok");

	while (wait_cmds && fgets(line, sizeof(line), stdin)) {
		size_t bad;

		if (!strcmp(line, "close\n"))
			break;
		if (strcmp(line, "check\n"))
			continue;
		bad = check_fill(m, n, 2, 0);
		if (bad)
			say("kept", "bad %zu", bad);
		else
			say("kept", "ok");
	}

	/* 3. close first, while the peer still maps every page. */
	if (munmap(m, (size_t)n * PAGE))
		return die("munmap");
	dg.index = op->index;
	dg.count = n;
	if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &dg))
		return die("dealloc");
	close(fd);
	pend = stat_of("pending");
	say("pending_deferred", "%ld", pend < 0 ? -1 : pend - p0);
	hog = malloc((size_t)hog_mib << 20);
	if (hog_mib && !hog)
		return die("hog");
	memset(hog, 0xa5, (size_t)hog_mib << 20);
	sleep(5);
	free(hog);
	say("hogged", "%ld", hog_mib);

	/* 4. the peer unmaps; every deferred entry must come back. */
	start = time(NULL);
	for (;;) {
		pend = stat_of("pending");
		fr = free_kb();
		if (pend >= 0 ? pend == p0 : f0 - fr < (long)n * 4 / 10)
			break;
		if (time(NULL) - start > timeout)
			break;
		usleep(100000);
	}
	say("pending_after", "%ld", pend < 0 ? -1 : pend - p0);
	say("deferred_delta", "%ld", d0 < 0 ? -1 : stat_of("deferred") - d0);
	say("reclaimed_delta", "%ld", r0 < 0 ? -1 : stat_of("reclaimed") - r0);
	say("leaked", "%ld", stat_of("leaked"));
	say("free_delta_kb", "%ld", free_kb() - f0);
	say("done", "1");
	return 0;
}
