// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: hold memory until killed, for tests of ballooning under pressure.
 *
 *   memhog [-l] MIB
 *
 * Maps MIB MiB of anonymous memory, writes to every page (so each one is
 * really allocated; the rig has no swap), optionally mlock()s it (-l), prints
 * "memhog: holding MIB MiB" and sleeps until a signal ends it. Exits 1 if the
 * memory cannot be mapped or locked, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int lock = 0, opt;
	size_t len, i;
	long mib;
	char *p;

	while ((opt = getopt(argc, argv, "l")) != -1) {
		if (opt != 'l')
			return 2;
		lock = 1;
	}
	if (optind >= argc)
		return 2;
	mib = strtol(argv[optind], NULL, 10);
	if (mib <= 0)
		return 2;
	len = (size_t)mib << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("memhog: mmap");
		return 1;
	}
	for (i = 0; i < len; i += 4096)
		p[i] = (char)(i >> 12 | 1);
	if (lock && mlock(p, len)) {
		perror("memhog: mlock");
		return 1;
	}
	printf("memhog: holding %ld MiB\n", mib);
	fflush(stdout);
	for (;;)
		pause();
}
