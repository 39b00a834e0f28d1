// SPDX-License-Identifier: GPL-2.0
/*
 * gntloop: share pages with /dev/xen/gntalloc and map the same grants back
 * into this domain with /dev/xen/gntdev, then check both mappings show the
 * same memory.
 *
 *   gntloop [-n PAGES] [-d DOMID] [-c] [-e] [-F]
 *
 * DOMID (default 0) is both the domain the pages are granted to and the
 * domain gntdev maps them from, so it must be this domain's own id. gntdev
 * takes the pages it maps into from the balloon (xen_alloc_ballooned_pages()
 * or xen_alloc_unpopulated_pages()); the program reads the balloon's
 * info/{low,high,current}_kb before and while the grants are mapped and
 * prints how many KiB the balloon lent out.
 *
 * -c also copies with IOCTL_GNTDEV_GRANT_COPY, one segment per page: a
 * local buffer into the grants, then the grants into another buffer, each
 * checked through the gntalloc mapping. A segment whose status is not
 * GNTST_okay must have left its destination unchanged.
 *
 * -e expects grant operations to fail now and then (the fail_grant_op fault
 * attribute with an error status): a gntdev mmap() refused with EINVAL, or
 * copy segments that failed, are then reported, not fatal, and the program
 * cleans up all the same. Exits 3 when the mapping was refused.
 *
 * -F first sets this process's make-it-fail (/proc/self/make-it-fail), so
 * that fault attributes filtered by task (fail_page_alloc, failslab with
 * task-filter Y) fail its allocations, those of the drivers it calls among
 * them.
 *
 * Output, one "key=value" per line: grefs, index, balloon_before,
 * balloon_mapped (low+high+current in KiB), balloon_lent_kb, a_to_b,
 * b_to_a, with -c copy_in, copy_out and copy_failed (segments), then
 * "gntloop: ok". On a failed step it prints "gntloop: STEP: ERRNO-NAME" and
 * exits 1; 2 on bad usage.
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

/* Xen's grant_table.h (GNTTABOP_copy flags), which no uapi header carries. */
#define GNTCOPY_source_gref (1 << 0)
#define GNTCOPY_dest_gref (1 << 1)

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

/*
 * Copies @n pages between the grants and @buf (@in: buf into the grants) and
 * checks the result through @a, the gntalloc view. A page whose segment
 * failed must still hold @old (its previous pattern seed; -1: zeros) at
 * the destination. Returns the number of failed segments, or -1 (with a line
 * printed) on a wrong page or a failed ioctl.
 */
static int copy_check(int fd, unsigned char *a, unsigned char *buf,
		      unsigned int n, unsigned int domid, const uint32_t *refs,
		      int in, unsigned int seed, int old)
{
	struct gntdev_grant_copy_segment *seg = calloc(n, sizeof(*seg));
	struct ioctl_gntdev_grant_copy gc = { .count = n, .segments = seg };
	const char *what = in ? "copy_in" : "copy_out";
	unsigned int i, failed = 0;
	size_t j;

	if (!seg)
		return -1;
	for (j = 0; j < (size_t)n * PAGE; j++) {
		if (in)
			buf[j] = pattern(seed, j);
		else
			a[j] = pattern(seed, j);
	}
	if (!in)
		memset(buf, 0, (size_t)n * PAGE);
	for (i = 0; i < n; i++) {
		seg[i].len = PAGE;
		if (in) {
			seg[i].flags = GNTCOPY_dest_gref;
			seg[i].source.virt = buf + (size_t)i * PAGE;
			seg[i].dest.foreign.ref = refs[i];
			seg[i].dest.foreign.domid = domid;
		} else {
			seg[i].flags = GNTCOPY_source_gref;
			seg[i].source.foreign.ref = refs[i];
			seg[i].source.foreign.domid = domid;
			seg[i].dest.virt = buf + (size_t)i * PAGE;
		}
	}
	if (ioctl(fd, IOCTL_GNTDEV_GRANT_COPY, &gc)) {
		free(seg);
		die("IOCTL_GNTDEV_GRANT_COPY");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *dst = in ? a : buf;
		int ok = seg[i].status == 0;

		if (!ok)
			failed++;
		for (j = (size_t)i * PAGE; j < (size_t)(i + 1) * PAGE; j++) {
			unsigned char want = ok ? pattern(seed, j) :
					     in && old >= 0 ? pattern(old, j) : 0;

			if (dst[j] != want) {
				printf("%s=page %u (status %d) wrong at byte %zu\n",
				       what, i, seg[i].status, j);
				free(seg);
				return -1;
			}
		}
	}
	printf("%s=ok\n", what);
	free(seg);
	return failed;
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
	int copy = 0, errors = 0, fail_me = 0, refused = 0, c1, c2;
	unsigned char *a, *b, *buf;
	long before, mapped;
	int fa, fd, opt;
	size_t len, bad;

	while ((opt = getopt(argc, argv, "n:d:ceF")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			copy = 1;
			break;
		case 'e':
			errors = 1;
			break;
		case 'F':
			fail_me = 1;
			break;
		default:
			return 2;
		}
	}
	if (n == 0 || n > 1024)
		return 2;
	len = (size_t)n * PAGE;
	if (fail_me) {
		FILE *f = fopen("/proc/self/make-it-fail", "w");

		if (!f || fputs("1\n", f) < 0 || fclose(f))
			return die("make-it-fail");
	}

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
	if (b == MAP_FAILED && errors && errno == EINVAL) {
		printf("map=refused\n");
		refused = 1;
	} else if (b == MAP_FAILED) {
		return die("mmap gntdev");
	} else {
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
	}

	if (copy) {
		/* Page-aligned: one copy operation per segment. */
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return die("mmap buffer");
		/* Before the copy in, the grants hold pattern 2 (or 0 unmapped). */
		if (refused)
			memset(a, 0, len);
		c1 = copy_check(fd, a, buf, n, domid, ga->gref_ids, 1, 3,
				refused ? -1 : 2);
		if (c1 < 0)
			return 1;
		c2 = copy_check(fd, a, buf, n, domid, ga->gref_ids, 0, 4, -1);
		if (c2 < 0)
			return 1;
		printf("copy_failed=%d\n", c1 + c2);
		if ((c1 || c2) && !errors) {
			printf("gntloop: %d copy segments failed\n", c1 + c2);
			return 1;
		}
		munmap(buf, len);
	}

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
	if (refused) {
		printf("gntloop: map refused, cleaned up\n");
		return 3;
	}
	printf("gntloop: ok\n");
	return 0;
}
