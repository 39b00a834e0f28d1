// SPDX-License-Identifier: GPL-2.0
/*
 * freemem: prints free memory in KiB as freemem.h's free_kb() counts it
 * (the allocator's free pages including per-cpu lists, less the balloon's
 * current_kb), for shell tests that look for leaked pages.
 */
#include <unistd.h>
#include "freemem.h"

int main(void)
{
	long kb = free_kb();

	if (kb == -1)
		return 1;
	printf("%ld\n", kb);
	return 0;
}
