// SPDX-License-Identifier: GPL-2.0
/*
 * gntbad: bad requests to /dev/xen/gntalloc, one line per case.
 *
 *   gntbad -l LIMIT [-d DOMID] [-x CASE]...
 *   gntbad -Q -l LIMIT [-d DOMID] [-x CASE]...
 *
 * LIMIT must be what /sys/module/xen_gntalloc/parameters/limit holds (the
 * caller sets it; small, 64 say). Each case prints
 *
 *   case NAME rc ERRNO-NAME|0
 *
 * with what the kernel answered, so the caller compares it with what
 * gntalloc.c answers. -x skips a case (its line says "skipped"). Between the
 * cases and at the end the program proves that nothing leaked and nothing
 * changed: LIMIT pages can still be shared at once and one more cannot
 * ("check NAME ok" or "check NAME bad ..."). Pages are shared with DOMID
 * (default 0: dom0 itself), nobody maps them.
 *
 * -Q runs the boundary cases of a large LIMIT instead (Qubes writes 2^30):
 * counts of LIMIT, LIMIT + 1, 2^31 - 1, 2^31 and 2^32 - 1, and 2^32 - 16
 * while 16 pages are shared (LIMIT + 16 wraps to 0 in 32 bits). None can be
 * shared (far more than a grant table holds); each must be refused before
 * anything is allocated, without a kernel warning. Then 16 pages must still
 * be shared and given back ("case qubes-small-after rc 0").
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

static unsigned int limit;
static unsigned int domid;
static const char *skip[16];
static int nskip;

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void report(const char *name, int rc)
{
	if (rc < 0)
		printf("case %s rc %s\n", name, errname(errno));
	else
		printf("case %s rc 0\n", name);
	fflush(stdout);
}

static int skipped(const char *name)
{
	for (int i = 0; i < nskip; i++) {
		if (!strcmp(skip[i], name)) {
			printf("case %s skipped\n", name);
			return 1;
		}
	}
	return 0;
}

static int dev(void)
{
	int fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("open /dev/xen/gntalloc");
		exit(1);
	}
	return fd;
}

/* Allocates COUNT pages; returns the ioctl's result, the index in *index. */
static int notify(int fd, uint64_t index, uint32_t action, uint32_t port)
{
	struct ioctl_gntalloc_unmap_notify op = {
		.index = index, .action = action, .event_channel_port = port,
	};

	return ioctl(fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &op);
}

/* LIMIT pages can be shared at once, LIMIT + 1 cannot: the count is back. */
static void check(const char *name)
{
	int fd = dev(), a, b, c;
	uint64_t idx;

	a = gntalloc_alloc(fd, domid, limit, &idx);
	b = gntalloc_alloc(fd, domid, 1, NULL);
	c = errno;
	if (a == 0 && b < 0 && c == ENOSPC)
		printf("check %s ok\n", name);
	else
		printf("check %s bad all=%d one-more=%d(%s)\n", name, a, b,
		       b < 0 ? errname(c) : "ok");
	close(fd);
	fflush(stdout);
}

/* Prints the VmFlags smaps shows for the mapping at P: "vmflags rd wr ...". */
static void vmflags(void *p)
{
	char want[32], line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			found = 1;
		else if (found && !strncmp(line, "VmFlags:", 8)) {
			printf("vmflags%s", line + 8);
			break;
		}
	}
	if (f)
		fclose(f);
	fflush(stdout);
}

/* The -Q cases: a LIMIT far above what the grant table holds. */
static int qubes_cases(void)
{
	static const struct {
		const char *name;
		uint32_t count;
	} big[] = {
		{ "qubes-alloc-limit-plus-1", 1 }, /* LIMIT + 1 */
		{ "qubes-alloc-2^31-1", 0x7fffffffu },
		{ "qubes-alloc-2^31", 0x80000000u },
		{ "qubes-alloc-2^32-1", 0xffffffffu },
	};
	int fd = dev(), rc;
	uint64_t idx;

	if (!skipped("qubes-alloc-at-limit"))
		report("qubes-alloc-at-limit", gntalloc_alloc(fd, domid, limit, NULL));
	for (unsigned int i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		uint32_t count = i == 0 ? limit + 1 : big[i].count;

		if (!skipped(big[i].name))
			report(big[i].name, gntalloc_alloc(fd, domid, count, NULL));
	}
	rc = gntalloc_alloc(fd, domid, 16, &idx);
	report("qubes-16-shared", rc);
	if (!skipped("qubes-alloc-wraps"))
		report("qubes-alloc-wraps", gntalloc_alloc(fd, domid, 0u - 16, NULL));
	if (rc == 0)
		gntalloc_dealloc(fd, idx, 16);
	close(fd);
	fd = dev();
	rc = gntalloc_alloc(fd, domid, 16, &idx);
	if (rc == 0)
		rc = gntalloc_dealloc(fd, idx, 16);
	report("qubes-small-after", rc);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t idx, idx2;
	void *p;
	int fd, o, qubes = 0;

	while ((o = getopt(argc, argv, "Ql:d:x:")) != -1) {
		switch (o) {
		case 'Q':
			qubes = 1;
			break;
		case 'l':
			limit = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			if (nskip < 16)
				skip[nskip++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: gntbad [-Q] -l LIMIT [-d DOMID] [-x CASE]...\n");
			return 2;
		}
	}
	if (!limit) {
		fprintf(stderr, "gntbad: -l LIMIT is needed\n");
		return 2;
	}
	if (qubes)
		return qubes_cases();
	check("start");

	fd = dev();
	/*
	 * A 4 GiB shared mapping of a file that shares nothing: refused before
	 * anything is allocated, without a kernel warning.
	 */
	p = mmap(NULL, 1ULL << 32, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	report("mmap-4G-before-alloc", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, 1ULL << 32);
	/* Allocation. */
	report("alloc-count-0", gntalloc_alloc(fd, domid, 0, &idx));
	report("alloc-over-limit", gntalloc_alloc(fd, domid, limit + 1, NULL));
	if (!skipped("alloc-huge"))
		report("alloc-huge", gntalloc_alloc(fd, domid, 0xffffffffu, NULL));
	report("alloc-bad-pointer", ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, (void *)16));
	report("unknown-ioctl", ioctl(fd, _IOC(_IOC_NONE, 'G', 9, 8), NULL));
	close(fd);
	check("after-alloc");

	/* Two pages at idx, one more at idx2 = idx + 2 pages. */
	fd = dev();
	if (gntalloc_alloc(fd, domid, 2, &idx) || gntalloc_alloc(fd, domid, 1, &idx2)) {
		perror("alloc");
		return 1;
	}
	printf("index first %llu second %llu\n", (unsigned long long)idx,
	       (unsigned long long)idx2);
	report("dealloc-unknown-index", gntalloc_dealloc(fd, idx2 + 64 * PAGE, 1));
	report("dealloc-unaligned-index", gntalloc_dealloc(fd, idx + 1, 1));
	report("dealloc-count-0", gntalloc_dealloc(fd, idx, 0));
	report("dealloc-past-the-end", gntalloc_dealloc(fd, idx2, 2));

	/* Unmap notifications. */
	report("notify-unknown-index", notify(fd, idx2 + 64 * PAGE, 1, 0));
	report("notify-offset-past-allocation", notify(fd, idx2 + PAGE, 1, 0));
	report("notify-unaligned-offset", notify(fd, idx + 4095, 1, 0));
	report("notify-bad-action", notify(fd, idx, 4, 0));
	report("notify-bad-port", notify(fd, idx, 2, 0xfffff));
	report("notify-clear-and-none", notify(fd, idx, 0, 0));

	/* mmap. */
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, idx);
	report("mmap-private", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, idx);
	report("mmap-past-allocation", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, 4 * PAGE);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, idx2 + 8 * PAGE);
	report("mmap-unknown-offset", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, idx);
	report("mmap-shared", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED) {
		void *q = mremap(p, 2 * PAGE, 3 * PAGE, 0);

		report("mremap-grow", q == MAP_FAILED ? -1 : 0);
		vmflags(p);
		memset(p, 0x5a, 2 * PAGE);
		munmap(p, 2 * PAGE);
	}
	report("dealloc-good", gntalloc_dealloc(fd, idx, 2));
	report("dealloc-again", gntalloc_dealloc(fd, idx, 2));
	close(fd);
	check("end");
	return 0;
}
