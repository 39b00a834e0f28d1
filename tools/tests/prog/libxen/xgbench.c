// SPDX-License-Identifier: GPL-2.0
/*
 * xgbench: pages shared and unshared per second through libxengnttab's
 * xengntshr_share_pages() / xengntshr_unshare(), as the Qubes GUI agent
 * shares its window buffers.
 *
 *   xgbench [-b BATCH] [-t SECONDS] [-d DOMID]
 *
 * Shares BATCH pages (default 16) with DOMID (default 0) in one call, writes
 * one word into each, unshares them, and repeats for SECONDS (default 5).
 * Nobody maps the pages, so every grant ends at once. Prints
 *
 *   pages_per_s=P
 *   xgbench: ok
 *
 * or "xgbench: error STEP ERRNAME" when a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xengnttab.h>

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int die(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("xgbench: error %s %s\n", step, name ? name : "?");
	return 1;
}

int main(int argc, char **argv)
{
	int batch = 16, secs = 5, domid = 0, o;
	double t0, t;
	long long pages = 0;
	xengntshr_handle *xgs;
	uint32_t *refs;

	while ((o = getopt(argc, argv, "b:t:d:")) != -1) {
		if (o == 'b')
			batch = atoi(optarg);
		else if (o == 't')
			secs = atoi(optarg);
		else if (o == 'd')
			domid = atoi(optarg);
		else
			return 2;
	}
	if (batch < 1 || batch > 65536 || secs < 1) {
		fprintf(stderr, "xgbench: bad batch or time\n");
		return 2;
	}
	refs = calloc(batch, sizeof(*refs));
	xgs = xengntshr_open(NULL, 0);
	if (!refs || !xgs)
		return die("open");
	/* The clock is read every 64 pages or so: at one page a batch a read
	 * per page (a system call in boots whose vDSO cannot read Xen's clock)
	 * would weigh on what is measured.
	 */
	int stride = batch >= 64 ? 1 : 64 / batch;
	long long iter = 0;

	t0 = now_s();
	t = t0;
	do {
		uint32_t *p = xengntshr_share_pages(xgs, domid, batch, refs, 1);

		if (!p)
			return die("share");
		for (int i = 0; i < batch; i++)
			p[i * 1024] = refs[i];
		if (xengntshr_unshare(xgs, p, batch))
			return die("unshare");
		pages += batch;
		if (++iter % stride == 0)
			t = now_s();
	} while (t - t0 < secs);
	t = now_s();
	printf("pages_per_s=%.0f\n", pages / (t - t0));
	xengntshr_close(xgs);
	printf("xgbench: ok\n");
	return 0;
}
