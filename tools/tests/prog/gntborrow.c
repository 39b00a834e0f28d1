// SPDX-License-Identifier: GPL-2.0
/*
 * gntborrow: make gntdev borrow N pages from the balloon at once.
 *
 *   gntborrow N
 *
 * IOCTL_GNTDEV_MAP_GRANT_REF of N references (dom0's own reference 1; the
 * ioctl only reserves the pages, nothing is mapped) takes N pages through
 * xen_alloc_ballooned_pages(), which balloons them out while the caller
 * waits. Prints "borrow-start S" and "borrow-done S" (CLOCK_MONOTONIC
 * seconds, the clock of /proc/uptime on a guest that never suspends) around
 * the ioctl, then "borrow-ok", and returns the pages by closing the device.
 * Exits 1 when the ioctl fails, 2 on bad usage.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* gntdev.h's grant-copy structures use these Xen types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntdev.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct ioctl_gntdev_map_grant_ref *mg;
	long n, i;
	int fd;

	if (argc != 2)
		return 2;
	n = strtol(argv[1], NULL, 10);
	if (n <= 0)
		return 2;
	fd = open("/dev/xen/gntdev", O_RDWR);
	mg = calloc(1, sizeof(*mg) + n * sizeof(mg->refs[0]));
	if (fd < 0 || !mg) {
		perror("gntborrow: open /dev/xen/gntdev");
		return 1;
	}
	mg->count = n;
	for (i = 0; i < n; i++) {
		mg->refs[i].domid = 0;
		mg->refs[i].ref = 1;
	}
	printf("borrow-start %.3f\n", now());
	fflush(stdout);
	if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, mg)) {
		perror("gntborrow: IOCTL_GNTDEV_MAP_GRANT_REF");
		return 1;
	}
	printf("borrow-done %.3f\nborrow-ok\n", now());
	fflush(stdout);
	close(fd);
	return 0;
}
