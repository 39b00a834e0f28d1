// SPDX-License-Identifier: GPL-2.0
/*
 * gntreuse: how soon the grant table hands out again a reference that
 * gntalloc has just released.
 *
 *   gntreuse [-d DOMID] [-n N]
 *
 * Shares one page (reference R) and releases it, then shares and releases
 * one page N times (default: as many as the grant table's free entries
 * right after the release, from /sys/module/grant_table/stats/entries,
 * minus one: every other free reference), and reports when R came back:
 * "released R free F tries N reused-at K" (K = 0: never within N). Exits 1
 * when an ioctl fails, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#include "testlib.h"

/* Shares one page and releases it at once; its reference, or -1. */
static long share_release(int fd, uint16_t domid)
{
	struct {
		struct ioctl_gntalloc_alloc_gref op;
		uint32_t more[1];
	} a = { .op = { .domid = domid, .flags = GNTALLOC_FLAG_WRITABLE,
			.count = 1 } };
	struct ioctl_gntalloc_dealloc_gref d = { .count = 1 };

	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, &a.op))
		return -1;
	d.index = a.op.index;
	if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &d))
		return -1;
	return a.op.gref_ids[0];
}

int main(int argc, char **argv)
{
	long r, g, n = -1, free_after = -1, i, at = 0;
	unsigned int domid = 0;
	char line[64];
	FILE *f;
	int fd, o;

	while ((o = getopt(argc, argv, "d:n:")) != -1) {
		switch (o) {
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = strtol(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	fd = open("/dev/xen/gntalloc", O_RDWR);
	if (fd < 0) {
		perror("gntreuse: open");
		return 1;
	}
	r = share_release(fd, domid);
	if (r < 0) {
		perror("gntreuse: share");
		return 1;
	}
	f = fopen("/sys/module/grant_table/stats/entries", "r");
	if (f && fgets(line, sizeof(line), f))
		sscanf(line, "%*d %ld", &free_after);
	if (f)
		fclose(f);
	if (n < 0)
		n = free_after > 1 ? free_after - 1 : 1000;
	for (i = 1; i <= n; i++) {
		g = share_release(fd, domid);
		if (g < 0) {
			perror("gntreuse: share");
			return 1;
		}
		if (g == r) {
			at = i;
			break;
		}
	}
	printf("released %ld free %ld tries %ld reused-at %ld\n", r, free_after,
	       n, at);
	close(fd);
	return 0;
}
