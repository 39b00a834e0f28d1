// SPDX-License-Identifier: GPL-2.0
/*
 * gntdefer: build a backlog of deferred grants and time its reclaim.
 *
 *   gntdefer -n GRANTS [-d DOMID] [-H HOG_MIB] [-r REUSE] [-t TIMEOUT_S] [-L]
 *            [-w HOLD_S] [-C]
 *
 * The program shares GRANTS pages with /dev/xen/gntalloc and maps every
 * grant back with /dev/xen/gntdev (DOMID, default 0, must be this domain's
 * id), so this domain is both the granting and the mapping side. Then:
 *
 * 1. It writes a pattern through the gntdev mapping and checks it through
 *    the gntalloc one, unmaps the gntalloc side and deallocates every grant:
 *    the grants are still mapped, so the grant table must defer them.
 * 2. While they are deferred it allocates HOG_MIB of memory and fills it
 *    (pressure that would reuse any page wrongly freed), allocates REUSE
 *    fresh grants and checks none of them reuses a deferred reference, then
 *    checks the pattern through the still-mapped gntdev pages is intact and
 *    rewrites it.
 *    With -C it then closes /dev/xen/gntalloc, so the file is released
 *    while the other side still maps its grants; with -w it waits HOLD_S
 *    seconds with everything still mapped and prints the CPU time all
 *    CPUs spent busy meanwhile (hold_busy_ms, from /proc/stat).
 * 3. It unmaps the gntdev side and measures how long the reclaim takes: until
 *    /sys/module/grant_table/stats/pending reads 0 when that file exists,
 *    else until free memory (free_kb() of freemem.h: the allocator's free
 *    pages less the balloon's) has grown by 90% of the granted pages. With -L,
 *    the "latency" program runs from the end of the unmap until the drain
 *    is over and prints the worst wakeup latency it saw (max_us=...).
 *
 * Output, "key=value" per line: granted, pending_deferred (-1 without the
 * stats file), pattern, reused_refs, unmap_ms, drain_ms (from the end of
 * the unmap), release_to_drained_ms (from its start), pending_after, then
 * "gntdefer: ok". A failed step prints "gntdefer: STEP: ERRNO-NAME" and
 * exits 1 (2 on bad usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#include "freemem.h"
#include "testlib.h"

typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntdev.h>

#define PAGE 4096
#define CHUNK 1024
#define STATS "/sys/module/grant_table/stats/"

/* CPU time spent busy (not idle or waiting) on all CPUs so far, in ms. */
static long busy_ms(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int got;

	if (!f)
		return -1;
	got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (got != 8)
		return -1;
	/* user nice system idle iowait irq softirq steal, in USER_HZ (100/s) */
	return (long)(v[0] + v[1] + v[2] + v[5] + v[6]) * 10;
}

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("gntdefer: %s: %s\n", step, name ? name : "error");
	fflush(stdout);
	return 1;
}

static long pending(void)
{
	return read_long(STATS "pending", NULL);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct chunk {
	struct ioctl_gntalloc_alloc_gref *ga;
	struct ioctl_gntdev_map_grant_ref *mg;
	unsigned char *a, *b;
	unsigned int n;
};

static int cmp_ref(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	unsigned int n = 256, domid = 0, reuse = 1024, timeout = 120;
	unsigned int nchunks, c, i, p, bad = 0, reused = 0;
	long hog_mib = 0, free_before, pend;
	struct chunk *ch;
	uint32_t *deferred;
	int fa, fd, opt, lat = 0, close_early = 0;
	unsigned int hold = 0;
	pid_t lp = -1;
	double t0, t1, t;

	while ((opt = getopt(argc, argv, "n:d:H:r:t:Lw:C")) != -1) {
		switch (opt) {
		case 'L':
			lat = 1;
			break;
		case 'C':
			close_early = 1;
			break;
		case 'w':
			hold = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 10);
			break;
		case 'H':
			hog_mib = strtol(optarg, NULL, 10);
			break;
		case 'r':
			reuse = strtoul(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (n == 0 || n > 1000000 || reuse > CHUNK)
		return 2;

	fa = open("/dev/xen/gntalloc", O_RDWR);
	if (fa < 0)
		return die("open /dev/xen/gntalloc");
	fd = open("/dev/xen/gntdev", O_RDWR);
	if (fd < 0)
		return die("open /dev/xen/gntdev");

	nchunks = (n + CHUNK - 1) / CHUNK;
	ch = calloc(nchunks, sizeof(*ch));
	deferred = calloc(n, sizeof(*deferred));
	if (!ch || !deferred)
		return 2;

	/* Share and map back, chunk by chunk. */
	for (c = 0; c < nchunks; c++) {
		struct chunk *k = &ch[c];
		size_t len;

		k->n = (c == nchunks - 1) ? n - c * CHUNK : CHUNK;
		len = (size_t)k->n * PAGE;
		k->ga = calloc(1, sizeof(*k->ga) + k->n * sizeof(uint32_t));
		k->mg = calloc(1, sizeof(*k->mg) + k->n * sizeof(k->mg->refs[0]));
		if (!k->ga || !k->mg)
			return 2;
		k->ga->domid = domid;
		k->ga->flags = GNTALLOC_FLAG_WRITABLE;
		k->ga->count = k->n;
		if (ioctl(fa, IOCTL_GNTALLOC_ALLOC_GREF, k->ga))
			return die("IOCTL_GNTALLOC_ALLOC_GREF");
		k->a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fa,
			    k->ga->index);
		if (k->a == MAP_FAILED)
			return die("mmap gntalloc");
		k->mg->count = k->n;
		for (i = 0; i < k->n; i++) {
			k->mg->refs[i].domid = domid;
			k->mg->refs[i].ref = k->ga->gref_ids[i];
			deferred[c * CHUNK + i] = k->ga->gref_ids[i];
		}
		if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, k->mg))
			return die("IOCTL_GNTDEV_MAP_GRANT_REF");
		k->b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    k->mg->index);
		if (k->b == MAP_FAILED)
			return die("mmap gntdev");
		for (p = 0; p < k->n; p++)
			for (i = 0; i < PAGE; i += 64)
				k->b[(size_t)p * PAGE + i] = page_pattern(1, c * CHUNK + p, i);
		for (p = 0; p < k->n; p++)
			for (i = 0; i < PAGE; i += 64)
				if (k->a[(size_t)p * PAGE + i] != page_pattern(1, c * CHUNK + p, i))
					bad++;
	}
	printf("granted=%u\nshared_pattern=%s\n", n, bad ? "mismatch" : "ok");

	/* End sharing while still mapped: every grant is deferred. */
	for (c = 0; c < nchunks; c++) {
		struct ioctl_gntalloc_dealloc_gref gd = {
			.index = ch[c].ga->index, .count = ch[c].n };

		if (munmap(ch[c].a, (size_t)ch[c].n * PAGE))
			return die("munmap gntalloc");
		if (ioctl(fa, IOCTL_GNTALLOC_DEALLOC_GREF, &gd))
			return die("IOCTL_GNTALLOC_DEALLOC_GREF");
	}
	printf("pending_deferred=%ld\n", pending());
	fflush(stdout);

	/* Pressure: fill memory a wrongly freed page would be handed out to. */
	if (hog_mib > 0) {
		size_t hl = (size_t)hog_mib << 20;
		unsigned char *h = mmap(NULL, hl, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
					-1, 0);

		if (h == MAP_FAILED)
			return die("mmap hog");
		memset(h, 0x5a, hl);
		munmap(h, hl);
	}

	/* Fresh grants must not reuse a deferred reference. */
	if (reuse) {
		struct ioctl_gntalloc_alloc_gref *ga =
			calloc(1, sizeof(*ga) + reuse * sizeof(uint32_t));
		struct ioctl_gntalloc_dealloc_gref gd;

		if (!ga)
			return 2;
		ga->domid = domid;
		ga->flags = GNTALLOC_FLAG_WRITABLE;
		ga->count = reuse;
		if (ioctl(fa, IOCTL_GNTALLOC_ALLOC_GREF, ga))
			return die("IOCTL_GNTALLOC_ALLOC_GREF (fresh)");
		qsort(deferred, n, sizeof(*deferred), cmp_ref);
		for (i = 0; i < reuse; i++)
			if (bsearch(&ga->gref_ids[i], deferred, n,
				    sizeof(*deferred), cmp_ref))
				reused++;
		gd.index = ga->index;
		gd.count = reuse;
		if (ioctl(fa, IOCTL_GNTALLOC_DEALLOC_GREF, &gd))
			return die("IOCTL_GNTALLOC_DEALLOC_GREF (fresh)");
		free(ga);
	}
	printf("reused_refs=%u\n", reused);

	/* The deferred pages still hold what we wrote; write again. */
	bad = 0;
	for (c = 0; c < nchunks; c++) {
		struct chunk *k = &ch[c];

		for (p = 0; p < k->n; p++)
			for (i = 0; i < PAGE; i += 64) {
				size_t o = (size_t)p * PAGE + i;

				if (k->b[o] != page_pattern(1, c * CHUNK + p, i))
					bad++;
				k->b[o] = page_pattern(2, c * CHUNK + p, i);
			}
	}
	printf("pattern=%s\n", bad ? "overwritten" : "intact");
	if (close_early) {
		close(fa);
		fa = -1;
	}
	if (hold) {
		long b0 = busy_ms();

		sleep(hold);
		printf("hold_busy_ms=%ld\n", busy_ms() - b0);
	}
	printf("pending_before_unmap=%ld\n", pending());
	fflush(stdout);

	/* Unmap: the remote side lets go, the backlog must drain. */
	free_before = free_kb();
	t0 = now_ms();
	for (c = 0; c < nchunks; c++) {
		struct ioctl_gntdev_unmap_grant_ref ug = {
			.index = ch[c].mg->index, .count = ch[c].n };

		if (munmap(ch[c].b, (size_t)ch[c].n * PAGE))
			return die("munmap gntdev");
		if (ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &ug))
			return die("IOCTL_GNTDEV_UNMAP_GRANT_REF");
	}
	/* The reclaim work runs at its next tick, after this. */
	if (lat) {
		lp = fork();
		if (lp == 0) {
			execlp("latency", "latency", "-t", "900", (char *)NULL);
			_exit(127);
		}
	}
	t1 = now_ms();
	printf("unmap_ms=%.0f\n", t1 - t0);
	fflush(stdout);
	for (;;) {
		t = now_ms();
		pend = pending();
		if (pend == 0)
			break;
		if (pend < 0 && free_kb() - free_before >= (long)n * 4 * 9 / 10)
			break;
		if (t - t1 > timeout * 1e3) {
			printf("drain_ms=timeout\npending_after=%ld\n", pend);
			return 1;
		}
		usleep(pend > 0 ? 2000 : 10000);
	}
	t = now_ms();
	printf("drain_ms=%.0f\nrelease_to_drained_ms=%.0f\npending_after=%ld\n",
	       t - t1, t - t0, pending());
	fflush(stdout);
	if (lp > 0) {
		usleep(200000);
		kill(lp, SIGINT);
		waitpid(lp, NULL, 0);
	}
	close(fd);
	close(fa);
	printf("gntdefer: ok\n");
	return 0;
}
