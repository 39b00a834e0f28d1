// SPDX-License-Identifier: GPL-2.0
/*
 * memfill: check that memory the allocator hands out is really there.
 *
 *   memfill MIB
 *
 * Maps MIB MiB of anonymous memory, writes a pattern unique to each word of
 * each page (its index and a seed from the clock), reads all of it back and
 * prints "memfill: MIB MiB ok" or "memfill: BAD page N word W: got X want Y"
 * at the first difference. A page the guest gave to Xen but still uses would
 * read back as something else (or fault). Exits 0 when every word matched, 1
 * on a difference or when the memory cannot be mapped, 2 on bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t word(uint64_t seed, size_t page, size_t w)
{
	return seed ^ ((uint64_t)page << 20) ^ w;
}

int main(int argc, char **argv)
{
	size_t len, pages, i, w, per = 4096 / sizeof(uint64_t);
	uint64_t *p, seed;
	long mib;

	if (argc != 2)
		return 2;
	mib = strtol(argv[1], NULL, 10);
	if (mib <= 0)
		return 2;
	len = (size_t)mib << 20;
	pages = len / 4096;
	seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("memfill: mmap");
		return 1;
	}
	for (i = 0; i < pages; i++)
		for (w = 0; w < per; w++)
			p[i * per + w] = word(seed, i, w);
	for (i = 0; i < pages; i++)
		for (w = 0; w < per; w++)
			if (p[i * per + w] != word(seed, i, w)) {
				printf("memfill: BAD page %zu word %zu: got %llx want %llx\n",
				       i, w, (unsigned long long)p[i * per + w],
				       (unsigned long long)word(seed, i, w));
				return 1;
			}
	printf("memfill: %ld MiB ok\n", mib);
	return 0;
}
