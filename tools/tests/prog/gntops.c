// SPDX-License-Identifier: GPL-2.0
/*
 * gntops: how many grants per second this domain can create and end.
 *
 *   gntops [-b BATCH] [-t SECONDS] [-d DOMID]
 *
 * Each round asks /dev/xen/gntalloc for BATCH (default 64) pages granted to
 * DOMID (default 0) in one IOCTL_GNTALLOC_ALLOC_GREF, then gives them back
 * with IOCTL_GNTALLOC_DEALLOC_GREF. Nothing maps the grants, so every one is
 * ended at once: each round is BATCH grant-table claims, grants and ends,
 * plus the page allocations gntalloc does around them. It runs for SECONDS
 * (default 5) and checks that every reference it was given is distinct
 * within a round.
 *
 * Output, "key=value" per line: batch, rounds, grants, seconds, ops_per_s
 * (grants created and ended per second), alloc_ns and dealloc_ns (time per
 * grant in each of the two ioctls), then "gntops: ok". A failed step
 * prints "gntops: STEP: ERRNO-NAME" and exits 1 (2 on bad usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#define MAX_BATCH 4096

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("gntops: %s: %s\n", step, name ? name : "error");
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int batch = 64, domid = 0, i;
	double seconds = 5, start, end, t0, t1, in_alloc = 0, in_dealloc = 0;
	unsigned long rounds = 0;
	struct ioctl_gntalloc_alloc_gref *op;
	uint32_t *sorted;
	int fd, c;

	while ((c = getopt(argc, argv, "b:t:d:")) != -1) {
		switch (c) {
		case 'b':
			batch = strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: gntops [-b BATCH] [-t SECONDS] [-d DOMID]\n");
			return 2;
		}
	}
	if (!batch || batch > MAX_BATCH || seconds <= 0) {
		fprintf(stderr, "gntops: BATCH must be 1..%d, SECONDS > 0\n", MAX_BATCH);
		return 2;
	}
	op = calloc(1, sizeof(*op) + batch * sizeof(uint32_t));
	sorted = calloc(batch, sizeof(uint32_t));
	if (!op || !sorted)
		return die("calloc");
	fd = open("/dev/xen/gntalloc", O_RDWR);
	if (fd < 0)
		return die("open gntalloc");

	start = now();
	do {
		struct ioctl_gntalloc_dealloc_gref dealloc = { .count = batch };

		op->domid = domid;
		op->flags = GNTALLOC_FLAG_WRITABLE;
		op->count = batch;
		t0 = now();
		if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op))
			return die("alloc");
		in_alloc += now() - t0;
		memcpy(sorted, op->gref_ids, batch * sizeof(uint32_t));
		qsort(sorted, batch, sizeof(uint32_t), cmp_u32);
		for (i = 1; i < batch; i++) {
			if (sorted[i] == sorted[i - 1]) {
				printf("gntops: duplicate reference %u\n", sorted[i]);
				return 1;
			}
		}
		dealloc.index = op->index;
		t1 = now();
		if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc))
			return die("dealloc");
		end = now();
		in_dealloc += end - t1;
		rounds++;
	} while (end - start < seconds);

	printf("batch=%u\nrounds=%lu\ngrants=%lu\nseconds=%.3f\nops_per_s=%.0f\n",
	       batch, rounds, rounds * batch, end - start,
	       rounds * batch / (end - start));
	printf("alloc_ns=%.0f\ndealloc_ns=%.0f\n", in_alloc * 1e9 / (rounds * batch),
	       in_dealloc * 1e9 / (rounds * batch));
	printf("gntops: ok\n");
	close(fd);
	return 0;
}
