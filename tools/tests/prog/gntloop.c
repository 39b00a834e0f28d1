// SPDX-License-Identifier: GPL-2.0
/*
 * gntloop: share pages with /dev/xen/gntalloc and map the same grants back
 * into this domain with /dev/xen/gntdev, then check both mappings show the
 * same memory.
 *
 *   gntloop [-n PAGES] [-d DOMID]
 *
 * DOMID (default 0) is both the domain the pages are granted to and the
 * domain gntdev maps them from, so it must be this domain's own id. gntdev
 * takes the pages it maps into from the balloon (xen_alloc_ballooned_pages()
 * or xen_alloc_unpopulated_pages()); the program reads the balloon's
 * info/{low,high,current}_kb before and while the grants are mapped and
 * prints how many KiB the balloon lent out.
 *
 * Output, one "key=value" per line: grefs, index, balloon_before,
 * balloon_mapped (low+high+current in KiB), balloon_lent_kb, a_to_b,
 * b_to_a, then "gntloop: ok". On a failed step it prints
 * "gntloop: STEP: ERRNO-NAME" and exits 1; 2 on bad usage.
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

/* gntdev.h's grant-copy structures use these Xen types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntdev.h>

#include "testlib.h"

#define M "/sys/devices/system/xen_memory/xen_memory0/info/"
#define PAGE 4096

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("gntloop: %s: %s\n", step, name ? name : "error");
	return 1;
}

static long read_kb(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), M "%s", name);
	return read_long(path, NULL);
}

/* Pages in the balloon plus pages the domain has: what gntdev borrows. */
static long balloon_sum(void)
{
	return read_kb("low_kb") + read_kb("high_kb") + read_kb("current_kb");
}

static unsigned char pattern(unsigned int seed, size_t i)
{
	return (unsigned char)((i * 131 + seed * 7 + (i >> 12)) | 1);
}

/* Writes a pattern through dst and checks it through src; 0 if equal. */
static int cross(unsigned char *dst, const unsigned char *src,
		 size_t len, unsigned int seed, size_t *bad)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = pattern(seed, i);
	for (i = 0; i < len; i++) {
		if (src[i] != pattern(seed, i)) {
			*bad = i;
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ioctl_gntalloc_alloc_gref *ga;
	struct ioctl_gntalloc_dealloc_gref gd;
	struct ioctl_gntdev_map_grant_ref *mg;
	struct ioctl_gntdev_unmap_grant_ref ug;
	unsigned int n = 4, domid = 0, i;
	unsigned char *a, *b;
	long before, mapped;
	int fa, fd, opt;
	size_t len, bad;

	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (n == 0 || n > 1024)
		return 2;
	len = (size_t)n * PAGE;

	fa = open("/dev/xen/gntalloc", O_RDWR);
	if (fa < 0)
		return die("open /dev/xen/gntalloc");
	fd = open("/dev/xen/gntdev", O_RDWR);
	if (fd < 0)
		return die("open /dev/xen/gntdev");

	ga = calloc(1, sizeof(*ga) + n * sizeof(uint32_t));
	mg = calloc(1, sizeof(*mg) + n * sizeof(mg->refs[0]));
	if (!ga || !mg)
		return 2;
	ga->domid = domid;
	ga->flags = GNTALLOC_FLAG_WRITABLE;
	ga->count = n;
	if (ioctl(fa, IOCTL_GNTALLOC_ALLOC_GREF, ga))
		return die("IOCTL_GNTALLOC_ALLOC_GREF");
	printf("grefs=");
	for (i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", ga->gref_ids[i]);
	printf("\n");
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fa, ga->index);
	if (a == MAP_FAILED)
		return die("mmap gntalloc");

	before = balloon_sum();
	mg->count = n;
	for (i = 0; i < n; i++) {
		mg->refs[i].domid = domid;
		mg->refs[i].ref = ga->gref_ids[i];
	}
	if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, mg))
		return die("IOCTL_GNTDEV_MAP_GRANT_REF");
	mapped = balloon_sum();
	printf("index=%llu\n", (unsigned long long)mg->index);
	printf("balloon_before=%ld\nballoon_mapped=%ld\nballoon_lent_kb=%ld\n",
	       before, mapped, before - mapped);
	fflush(stdout);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, mg->index);
	if (b == MAP_FAILED)
		return die("mmap gntdev");

	if (cross(a, b, len, 1, &bad)) {
		printf("a_to_b=mismatch at byte %zu\n", bad);
		return 1;
	}
	printf("a_to_b=ok\n");
	if (cross(b, a, len, 2, &bad)) {
		printf("b_to_a=mismatch at byte %zu\n", bad);
		return 1;
	}
	printf("b_to_a=ok\n");

	if (munmap(b, len))
		return die("munmap gntdev");
	ug.index = mg->index;
	ug.count = n;
	ug.pad = 0;
	if (ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &ug))
		return die("IOCTL_GNTDEV_UNMAP_GRANT_REF");
	close(fd);
	if (munmap(a, len))
		return die("munmap gntalloc");
	gd.index = ga->index;
	gd.count = n;
	if (ioctl(fa, IOCTL_GNTALLOC_DEALLOC_GREF, &gd))
		return die("IOCTL_GNTALLOC_DEALLOC_GREF");
	close(fa);
	printf("gntloop: ok\n");
	return 0;
}
