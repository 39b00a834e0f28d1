// SPDX-License-Identifier: GPL-2.0
/*
 * fpcheck: do vector registers survive context switches?
 *   fpcheck -p PROCS -t SECONDS
 * Each process puts its own pattern in ymm0/xmm1 and yields in a loop,
 * checking the registers after each yield. Prints "fpcheck bad N of M".
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int procs = 4, secs = 10, o;
	while ((o = getopt(argc, argv, "p:t:")) != -1) {
		if (o == 'p') procs = atoi(optarg);
		else if (o == 't') secs = atoi(optarg);
	}
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			unsigned char pat[32], got[32], x1[16], g1[16];
			long long bad = 0, bad1 = 0, n = 0;
			time_t end = time(NULL) + secs;
			for (int i = 0; i < 32; i++) pat[i] = p * 37 + i + 1;
			for (int i = 0; i < 16; i++) x1[i] = p * 91 + i + 7;
			while (time(NULL) < end) {
				for (int k = 0; k < 100; k++) {
					asm volatile("vmovdqu %0, %%ymm0" :: "m"(pat));
					asm volatile("movdqu %0, %%xmm1" :: "m"(x1));
					for (volatile int s = 0; s < 2000; s++) ;
					asm volatile("vmovdqu %%ymm0, %0" : "=m"(got));
					asm volatile("movdqu %%xmm1, %0" : "=m"(g1));
					if (memcmp(pat, got, 32)) {
						if (!bad) { printf("fpcheck p%d ymm0 got ", p); for (int i=0;i<32;i++) printf("%02x", got[i]); printf("\n"); }
						bad++;
					}
					if (memcmp(x1, g1, 16)) bad1++;
					n++;
				}
				sched_yield();
			}
			printf("fpcheck p%d bad ymm0 %lld xmm1 %lld of %lld\n", p, bad, bad1, n);
			exit(0);
		}
	}
	while (wait(NULL) > 0) ;
	return 0;
}
