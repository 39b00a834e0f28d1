// SPDX-License-Identifier: GPL-2.0
/*
 * gntspan: one mapping across two allocations of a file, with another
 * file's allocation made between them.
 *
 *   gntspan -l LIMIT
 *
 * File A allocates one page, file B one, file A one more: A's two pages are
 * neighbours in A (indexes i and i + 4096) but not in the order the driver
 * made them. A maps both in one mmap, writes them and unmaps. Then B's page
 * must still be B's (mappable, holding what B wrote, deallocatable) and A's
 * two pages must still be A's (deallocatable as one range). Once both files
 * are closed, LIMIT pages can be shared at once: nothing leaked. Prints
 *
 *   step NAME ok|bad ...
 *
 * gntalloc.c's vma close walks the driver-wide list instead of the file's,
 * so there the unmap drops B's page and keeps one of A's.
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
#include <xen/gntalloc.h>

#include "testlib.h"

#define PAGE 4096

static int bad;

static void step(const char *name, int ok, const char *why)
{
	const char *e = strerrorname_np(errno);

	printf("step %s %s", name, ok ? "ok" : "bad");
	if (!ok) {
		printf(" %s (%s)", why, e ? e : "?");
		bad++;
	}
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t a0 = 0, a1 = 0, b0 = 0, x = 0;
	int limit = 0, a, b, o;
	uint32_t *p, *q;

	while ((o = getopt(argc, argv, "l:")) != -1) {
		if (o == 'l')
			limit = atoi(optarg);
		else
			return 2;
	}
	a = open("/dev/xen/gntalloc", O_RDWR);
	b = open("/dev/xen/gntalloc", O_RDWR);
	if (a < 0 || b < 0 || limit < 2) {
		perror("gntspan");
		return 2;
	}
	step("alloc", !gntalloc_alloc(a, 0, 1, &a0) && !gntalloc_alloc(b, 0, 1, &b0) && !gntalloc_alloc(a, 0, 1, &a1),
	     "alloc failed");
	step("neighbours", a1 == a0 + PAGE, "A's pages are not neighbours");
	q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, b, b0);
	step("map-b", q != MAP_FAILED, "mmap of B failed");
	if (q == MAP_FAILED)
		return 1;
	q[7] = 0xb0b0b0b0;
	munmap(q, PAGE);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a, a0);
	step("map-a-both", p != MAP_FAILED, "one mmap of A's two pages failed");
	if (p == MAP_FAILED)
		return 1;
	p[7] = 0xa0a0a0a0;
	p[1024 + 7] = 0xa1a1a1a1;
	munmap(p, 2 * PAGE);

	q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, b, b0);
	step("b-still-mapped", q != MAP_FAILED, "B's page is gone");
	if (q != MAP_FAILED) {
		step("b-keeps-data", q[7] == 0xb0b0b0b0, "B's page lost its data");
		munmap(q, PAGE);
	}
	step("b-dealloc", !gntalloc_dealloc(b, b0, 1), "B's page cannot be deallocated");
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a, a0);
	step("a-still-mapped", p != MAP_FAILED, "A's pages are gone");
	if (p != MAP_FAILED) {
		step("a-keeps-data", p[7] == 0xa0a0a0a0 && p[1024 + 7] == 0xa1a1a1a1,
		     "A's pages lost their data");
		munmap(p, 2 * PAGE);
	}
	step("a-dealloc", !gntalloc_dealloc(a, a0, 2), "A's pages cannot be deallocated");
	close(a);
	close(b);

	/* Nothing leaked: the whole limit can be shared, and not one more. */
	a = open("/dev/xen/gntalloc", O_RDWR);
	o = gntalloc_alloc(a, 0, limit, &x);
	step("limit-free", !o, "the limit cannot be shared any more");
	b = open("/dev/xen/gntalloc", O_RDWR);
	step("limit-holds", gntalloc_alloc(b, 0, 1, &x) < 0 && errno == ENOSPC,
	     "one page over the limit was shared");
	close(a);
	close(b);
	printf("gntspan %s\n", bad ? "bad" : "ok");
	return 0;
}
