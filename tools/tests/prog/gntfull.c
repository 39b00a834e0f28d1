// SPDX-License-Identifier: GPL-2.0
/*
 * gntfull: gntalloc when the grant table has no free reference left.
 *
 *   gntfull [-d DOMID] [-b BATCH]
 *
 * Shares pages in requests of BATCH (default 512), then 16, then 1 page,
 * until each size is refused, so that every reference the grant table can
 * hold is in use (it grows up to its maximum on the way). Then, with the
 * table full:
 *   - a request of 16 pages and one of 1 page are refused;
 *   - one request of BATCH pages is given back, BATCH pages written first;
 *     a request of BATCH + 64 pages is refused: the driver gets BATCH
 *     references and must give every one of them back;
 *   - a request of BATCH pages then succeeds (all of those references came
 *     back) and its pages read as zero.
 * Then everything is given back. One line:
 *   "gntfull shared N full16 E full1 E partial E refill E zero Z"
 * with E an errno name or "ok", Z "ok" or the count of non-zero bytes.
 * Exits 1 when something other than an expected answer failed, 2 on bad
 * usage. The caller raises gntalloc's limit above the table's size first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testlib.h"

#define MAX_REQS 200000

static uint64_t idx[MAX_REQS];
static uint32_t cnt[MAX_REQS];
static unsigned int nreq;

static const char *ename(int rc)
{
	if (rc == 0)
		return "ok";
	switch (errno) {
	case ENOSPC:
		return "ENOSPC";
	case ENOMEM:
		return "ENOMEM";
	case EINVAL:
		return "EINVAL";
	default:
		return strerror(errno);
	}
}

/* Shares @count pages and records the request; the ioctl's result. */
static int share(int fd, uint16_t domid, uint32_t count)
{
	uint64_t i;
	int rc;

	if (nreq == MAX_REQS) {
		fprintf(stderr, "gntfull: more than %d requests\n", MAX_REQS);
		exit(1);
	}
	rc = gntalloc_alloc(fd, domid, count, &i);
	if (rc == 0) {
		idx[nreq] = i;
		cnt[nreq++] = count;
	}
	return rc;
}

int main(int argc, char **argv)
{
	uint32_t batch = 512, sizes[3], s;
	unsigned long shared = 0, full;
	unsigned int domid = 0, k;
	char e16[32], e1[32], epart[32], erefill[32];
	const char *zero = "not-checked";
	char zbuf[32];
	size_t bad;
	unsigned char *m;
	int fd, o, rc;

	while ((o = getopt(argc, argv, "d:b:")) != -1) {
		switch (o) {
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (batch < 17)
		return 2;
	fd = open("/dev/xen/gntalloc", O_RDWR);
	if (fd < 0) {
		perror("gntfull: open");
		return 1;
	}
	sizes[0] = batch;
	sizes[1] = 16;
	sizes[2] = 1;
	for (k = 0; k < 3; k++) {
		s = sizes[k];
		while ((rc = share(fd, domid, s)) == 0)
			shared += s;
		if (errno != ENOSPC) {
			fprintf(stderr, "gntfull: filling with %u: %s after %lu\n",
				s, strerror(errno), shared);
			return 1;
		}
	}
	full = shared;
	rc = share(fd, domid, 16);
	snprintf(e16, sizeof(e16), "%s", ename(rc));
	rc = share(fd, domid, 1);
	snprintf(e1, sizeof(e1), "%s", ename(rc));

	/* Give back the first request of BATCH pages, written first. */
	if (cnt[0] != batch) {
		fprintf(stderr, "gntfull: the table held fewer than %u\n", batch);
		return 1;
	}
	m = mmap(NULL, (size_t)batch * SHARE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, idx[0]);
	if (m == MAP_FAILED) {
		perror("gntfull: mmap");
		return 1;
	}
	memset(m, 0x5a, (size_t)batch * SHARE_PAGE);
	munmap(m, (size_t)batch * SHARE_PAGE);
	if (gntalloc_dealloc(fd, idx[0], batch)) {
		perror("gntfull: dealloc");
		return 1;
	}
	cnt[0] = 0;
	shared -= batch;

	rc = share(fd, domid, batch + 64);
	snprintf(epart, sizeof(epart), "%s", ename(rc));
	if (rc == 0)
		shared += batch + 64;
	rc = share(fd, domid, batch);
	snprintf(erefill, sizeof(erefill), "%s", ename(rc));
	if (rc == 0) {
		shared += batch;
		m = mmap(NULL, (size_t)batch * SHARE_PAGE, PROT_READ,
			 MAP_SHARED, fd, idx[nreq - 1]);
		if (m == MAP_FAILED) {
			perror("gntfull: mmap");
			return 1;
		}
		bad = 0;
		for (size_t i = 0; i < (size_t)batch * SHARE_PAGE; i++)
			bad += m[i] != 0;
		munmap(m, (size_t)batch * SHARE_PAGE);
		if (bad) {
			snprintf(zbuf, sizeof(zbuf), "%zu", bad);
			zero = zbuf;
		} else {
			zero = "ok";
		}
	}
	printf("gntfull shared %lu full16 %s full1 %s partial %s refill %s zero %s\n",
	       full, e16, e1, epart, erefill, zero);
	fflush(stdout);
	for (k = 0; k < nreq; k++)
		if (cnt[k] && gntalloc_dealloc(fd, idx[k], cnt[k])) {
			perror("gntfull: dealloc");
			return 1;
		}
	close(fd);
	return 0;
}
