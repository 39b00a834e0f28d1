// SPDX-License-Identifier: GPL-2.0
/*
 * balloontime: time a balloon-down and the balloon-up back through
 * /sys/devices/system/xen_memory/xen_memory0/target_kb.
 *
 *   balloontime KIB [TIMEOUT_S]
 *
 * Lowers the target by KIB, waits until info/current_kb reaches it, raises it
 * back and waits again. Prints "down SECONDS MB/s" and "up SECONDS MB/s"
 * (monotonic clock, 1 ms polling). Exits 1 if a target is not reached in
 * TIMEOUT_S seconds (default 120), 2 on bad usage or unreadable files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define M "/sys/devices/system/xen_memory/xen_memory0/"

static int write_kb(long kb)
{
	FILE *f = fopen(M "target_kb", "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", kb);
	return fclose(f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int move_to(long kb, double timeout, const char *what, long delta)
{
	double t0 = now(), t;

	if (write_kb(kb))
		return 2;
	while (read_long(M "info/current_kb", NULL) != kb) {
		if (now() - t0 > timeout) {
			printf("%s timeout current_kb=%ld target=%ld\n", what,
			       read_long(M "info/current_kb", NULL), kb);
			return 1;
		}
		usleep(1000);
	}
	t = now() - t0;
	printf("%s %.3f %.1f\n", what, t, delta / 1024.0 / t);
	return 0;
}

int main(int argc, char **argv)
{
	long delta, start;
	double timeout = 120;
	int rc;

	if (argc < 2)
		return 2;
	delta = atol(argv[1]);
	if (delta <= 0)
		return 2;
	if (argc > 2)
		timeout = atof(argv[2]);
	start = read_long(M "info/current_kb", NULL);
	if (start < 0 || start <= delta)
		return 2;
	rc = move_to(start - delta, timeout, "down", delta);
	if (rc)
		return rc;
	return move_to(start, timeout, "up", delta);
}
