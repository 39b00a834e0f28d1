// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU TCG plugin: guest instructions executed per translated block of
 * kernel and hypervisor code (addresses in the upper half), snapshotted on
 * request. tools/rig/profile.py loads it and turns two snapshots into
 * instructions per function.
 *
 * The directory named by the "dir" argument (default /tmp) is polled every
 * 100 ms for a file "reqN" (N < 100): its presence asks for a snapshot,
 * written as "snapN.txt", one line per block: "ADDRESS COUNT LENGTH LOCKED"
 * (hex, then instructions executed, instructions in the block and atomic
 * instructions in it, decimal), and "reqN" is removed. Counts are 64-bit additions inlined into
 * the translated code, one per block execution; with several vCPUs they
 * race and may lose a few increments, which a profile can bear.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define NSLOT (1u << 22)	/* blocks kept; the kernel has far fewer */

struct block {
	uint64_t pc;
	uint64_t len;		/* instructions in the block */
	uint64_t count;		/* instructions executed in it */
	uint64_t locked;	/* atomic instructions in the block */
};

static struct block *blocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[512] = "/tmp";

/* The block at @pc of @len instructions, added if new; NULL when full. */
static struct block *lookup(uint64_t pc, uint64_t len)
{
	uint64_t h = (pc ^ (len << 56)) * 0x9E3779B97F4A7C15ull;
	uint32_t i = h >> 42, n;

	for (n = 0; n < NSLOT; n++, i++) {
		struct block *b = &blocks[i & (NSLOT - 1)];

		if (b->pc == pc && b->len == len)
			return b;
		if (!b->pc && !b->len) {
			b->pc = pc;
			b->len = len;
			return b;
		}
	}
	return NULL;
}

/*
 * Whether @insn is atomic: a LOCK prefix among its legacy and REX prefixes,
 * or XCHG with a memory operand (locked without one).
 */
static int atomic_insn(struct qemu_plugin_insn *insn)
{
	const uint8_t *p = qemu_plugin_insn_data(insn);
	size_t n = qemu_plugin_insn_size(insn), i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case 0xf0:
			return 1;
		case 0x66: case 0x67: case 0xf2: case 0xf3: case 0x2e: case 0x36:
		case 0x3e: case 0x26: case 0x64: case 0x65:
			continue;
		default:
			if (p[i] >= 0x40 && p[i] <= 0x4f)
				continue;
			return (p[i] == 0x86 || p[i] == 0x87) && i + 1 < n &&
				(p[i + 1] >> 6) != 3;
		}
	}
	return 0;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t pc = qemu_plugin_tb_vaddr(tb);
	size_t len = qemu_plugin_tb_n_insns(tb), i;
	uint64_t locked = 0;
	struct block *b;

	if (pc < 0xffff800000000000ull)
		return;
	for (i = 0; i < len; i++)
		locked += atomic_insn(qemu_plugin_tb_get_insn(tb, i));
	pthread_mutex_lock(&lock);
	b = lookup(pc, len);
	if (b)
		b->locked = locked;
	pthread_mutex_unlock(&lock);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &b->count, len);
}

static void snapshot(int k)
{
	char path[600], tmp[620];
	FILE *f;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/snap%d.txt", dir, k);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < NSLOT; i++)
		if (blocks[i].count)
			fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				blocks[i].pc, blocks[i].count, blocks[i].len,
				blocks[i].locked);
	pthread_mutex_unlock(&lock);
	fclose(f);
	rename(tmp, path);
}

static void *poll_requests(void *arg)
{
	char req[600];
	int k;

	for (;;) {
		for (k = 0; k < 100; k++) {
			snprintf(req, sizeof(req), "%s/req%d", dir, k);
			if (access(req, F_OK))
				continue;
			unlink(req);
			snapshot(k);
		}
		usleep(100000);
	}
	return NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	pthread_t t;
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			snprintf(dir, sizeof(dir), "%s", argv[i] + 4);
	blocks = calloc(NSLOT, sizeof(*blocks));
	if (!blocks)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	if (pthread_create(&t, NULL, poll_requests, NULL))
		return -1;
	pthread_detach(t);
	return 0;
}
