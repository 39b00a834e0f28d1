// SPDX-License-Identifier: GPL-2.0
/*
 * gntpeer: the mapping side of a cross-domain grant test, run in dom0
 * against gntshare in a domU.
 *
 *   gntpeer -d DOMID -f REFFILE
 *
 * Maps the grant references listed in REFFILE (whitespace separated, as
 * gntshare prints them) from domain DOMID with /dev/xen/gntdev, checks the
 * sharer's pattern, writes its own and sets the mailbox (first 32-bit word
 * of the first page) to 2 so the sharer checks it. Then it reads commands
 * from standard input, one per line:
 *
 *   check    checks that every page still holds what it wrote last, writes
 *            a new pattern, prints "check=ok" or "check=bad BYTES"
 *   unmap    unmaps every page, prints "unmapped" and exits
 *
 * First output lines: pages, sharer_pattern (ok/bad), "mapped". A failed
 * step prints "gntpeer: STEP: ERRNO-NAME" and exits 1 (2 on bad usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntdev.h>

#include "testlib.h"

#define PAGE SHARE_PAGE
#define MAILBOX SHARE_MAILBOX
#define MAX_REFS 65536

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("gntpeer: %s: %s\n", step, name ? name : "error");
	return 1;
}

int main(int argc, char **argv)
{
	struct ioctl_gntdev_map_grant_ref *mg;
	struct ioctl_gntdev_unmap_grant_ref ug;
	unsigned int domid = 0, n = 0, seed = 2;
	const char *reffile = NULL;
	char cmd[64];
	unsigned char *m;
	unsigned long ref;
	FILE *f;
	int fd, c, have_domid = 0;

	while ((c = getopt(argc, argv, "d:f:")) != -1) {
		switch (c) {
		case 'd':
			domid = strtoul(optarg, NULL, 10);
			have_domid = 1;
			break;
		case 'f':
			reffile = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (!have_domid || !reffile)
		goto usage;
	mg = calloc(1, sizeof(*mg) + MAX_REFS * sizeof(mg->refs[0]));
	if (!mg)
		return die("calloc");
	f = fopen(reffile, "r");
	if (!f)
		return die("open-reffile");
	while (n < MAX_REFS && fscanf(f, "%lu", &ref) == 1) {
		mg->refs[n].domid = domid;
		mg->refs[n].ref = ref;
		n++;
	}
	fclose(f);
	if (!n) {
		printf("gntpeer: no references in %s\n", reffile);
		return 1;
	}
	printf("pages=%u\n", n);

	fd = open("/dev/xen/gntdev", O_RDWR);
	if (fd < 0)
		return die("open-gntdev");
	mg->count = n;
	if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, mg))
		return die("IOCTL_GNTDEV_MAP_GRANT_REF");
	m = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, mg->index);
	if (m == MAP_FAILED)
		return die("mmap");
	printf("sharer_pattern=%s\n", check_fill(m, n, 1, seed) ? "bad" : "ok");
	__sync_synchronize();
	*(volatile uint32_t *)m = 2;
	printf("mapped\n");
	fflush(stdout);

	while (fgets(cmd, sizeof(cmd), stdin)) {
		if (!strcmp(cmd, "check\n")) {
			size_t bad = check_fill(m, n, seed, seed + 1);

			seed++;
			if (bad)
				printf("check=bad %zu\n", bad);
			else
				printf("check=ok\n");
		} else if (!strcmp(cmd, "unmap\n")) {
			break;
		} else {
			printf("gntpeer: unknown command %s", cmd);
		}
		fflush(stdout);
	}
	if (munmap(m, (size_t)n * PAGE))
		return die("munmap");
	ug.index = mg->index;
	ug.count = n;
	if (ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &ug))
		return die("IOCTL_GNTDEV_UNMAP_GRANT_REF");
	close(fd);
	printf("unmapped\n");
	return 0;
usage:
	fprintf(stderr, "usage: gntpeer -d DOMID -f REFFILE\n");
	return 2;
}
