// SPDX-License-Identifier: GPL-2.0
/*
 * latency: the worst wakeup latency a high-priority task sees on each CPU.
 *
 *   latency [-t SECONDS] [-i INTERVAL_US]
 *
 * One SCHED_FIFO (priority 90) thread per online CPU, pinned to it, sleeps
 * INTERVAL_US (default 1000) at a time on an absolute CLOCK_MONOTONIC
 * deadline and records how late it woke up. It stops after SECONDS
 * (default 60) or on SIGINT/SIGTERM and prints "cpuN_max_us=..." per CPU,
 * "max_us=..." overall and "wakeups=...". Exits 1 if it cannot run threads
 * at real-time priority.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static long interval_us = 1000;

struct cpu {
	pthread_t t;
	int cpu;
	long max_us;
	long wakeups;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void *run(void *arg)
{
	struct cpu *c = arg;
	struct timespec next, now;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		long late;

		next.tv_nsec += interval_us * 1000;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = (now.tv_sec - next.tv_sec) * 1000000 +
		       (now.tv_nsec - next.tv_nsec) / 1000;
		if (late > c->max_us)
			c->max_us = late;
		c->wakeups++;
		/* After a long stall, restart from now rather than catch up. */
		if (late > interval_us)
			next = now;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long secs = 60, max = 0, wakeups = 0;
	struct sched_param sp = { .sched_priority = 90 };
	pthread_attr_t attr;
	struct cpu *cpus;
	int n, i, opt;

	while ((opt = getopt(argc, argv, "t:i:")) != -1) {
		if (opt == 't')
			secs = strtol(optarg, NULL, 10);
		else if (opt == 'i')
			interval_us = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	cpus = calloc(n, sizeof(*cpus));
	if (!cpus)
		return 2;
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	for (i = 0; i < n; i++) {
		cpus[i].cpu = i;
		if (pthread_create(&cpus[i].t, &attr, run, &cpus[i])) {
			printf("latency: cannot start a SCHED_FIFO thread\n");
			return 1;
		}
	}
	alarm(secs);
	for (i = 0; i < n; i++) {
		pthread_join(cpus[i].t, NULL);
		printf("cpu%d_max_us=%ld\n", i, cpus[i].max_us);
		if (cpus[i].max_us > max)
			max = cpus[i].max_us;
		wakeups += cpus[i].wakeups;
	}
	printf("max_us=%ld\nwakeups=%ld\n", max, wakeups);
	return 0;
}
