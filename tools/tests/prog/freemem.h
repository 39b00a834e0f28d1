/* SPDX-License-Identifier: GPL-2.0 */
/*
 * free_kb(): free memory in KiB as the page allocator sees it, exactly
 * enough to count a few hundred pages, and not moved by ballooning.
 *
 * MemFree alone moves by megabytes on its own: pages freed to a CPU's
 * per-cpu lists are not in it until they are drained, and the per-cpu
 * counter deltas are folded in only now and then. So this folds the deltas
 * (writes /proc/sys/vm/stat_refresh), then adds every zone's free pages and
 * the pages on its per-cpu lists from /proc/zoneinfo. From that it
 * subtracts the balloon's current_kb: gntdev borrows its pages from the
 * balloon and the balloon refills itself after the unmap, and both move
 * free memory and current_kb alike. Returns -1 when a file is missing.
 */
#ifndef FREEMEM_H
#define FREEMEM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long free_kb(void)
{
	long pages = 0, cur = 0, v;
	char line[256];
	FILE *f;

	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			pages += v;
	}
	fclose(f);
	f = fopen("/sys/devices/system/xen_memory/xen_memory0/info/current_kb", "r");
	if (f) {
		if (fscanf(f, "%ld", &cur) != 1)
			cur = 0;
		fclose(f);
	}
	return pages * (sysconf(_SC_PAGESIZE) / 1024) - cur;
}

#endif
