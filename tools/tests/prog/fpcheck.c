// SPDX-License-Identifier: GPL-2.0
/*
 * fpcheck: do a process's vector registers survive context switches?
 *
 *   fpcheck [-p PROCS] [-t SECONDS]
 *
 * PROCS processes (default 2) each load their own pattern into ymm0 (AVX)
 * and xmm1 (SSE), spin a little, read both back and compare, yielding the
 * CPU every 100 checks, for SECONDS (default 10). A rig self-check: the
 * platform (Xen under QEMU's TCG) must keep each context's registers, or
 * user space that copies memory through them (glibc's memcpy, so
 * libxenvchan) corrupts data through no fault of the drivers. Prints
 *
 *   fpcheck checks N bad M
 *
 * and, for the first bad check of a process, what ymm0 held.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct total {
	long long checks, bad;
};

static void run(int p, int secs, struct total *t)
{
	unsigned char pat[32], got[32], x1[16], g1[16];
	time_t end = time(NULL) + secs;
	long long n = 0, bad = 0;

	for (int i = 0; i < 32; i++)
		pat[i] = p * 37 + i + 1;
	for (int i = 0; i < 16; i++)
		x1[i] = p * 91 + i + 7;
	while (time(NULL) < end) {
		for (int k = 0; k < 100; k++) {
			asm volatile("vmovdqu %0, %%ymm0" : : "m"(pat));
			asm volatile("movdqu %0, %%xmm1" : : "m"(x1));
			for (volatile int s = 0; s < 2000; s++)
				;
			asm volatile("vmovdqu %%ymm0, %0" : "=m"(got));
			asm volatile("movdqu %%xmm1, %0" : "=m"(g1));
			if (memcmp(pat, got, 32) || memcmp(x1, g1, 16)) {
				if (!bad) {
					printf("fpcheck process %d ymm0 held ", p);
					for (int i = 0; i < 32; i++)
						printf("%02x", got[i]);
					printf("\n");
					fflush(stdout);
				}
				bad++;
			}
			n++;
		}
		sched_yield();
	}
	__atomic_add_fetch(&t->checks, n, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&t->bad, bad, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv)
{
	int procs = 2, secs = 10, o;
	struct total *t;

	while ((o = getopt(argc, argv, "p:t:")) != -1) {
		if (o == 'p')
			procs = atoi(optarg);
		else if (o == 't')
			secs = atoi(optarg);
		else
			return 2;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED || procs < 1 || secs < 1)
		return 2;
	for (int p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (!pid) {
			run(p, secs, t);
			exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("fpcheck checks %lld bad %lld\n", t->checks, t->bad);
	return 0;
}
