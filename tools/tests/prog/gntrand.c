// SPDX-License-Identifier: GPL-2.0
/*
 * gntrand: a randomized sequence of gntalloc operations from several
 * processes.
 *
 *   gntrand -l LIMIT [-p PROCS] [-n OPS] [-s SEED] [-d DOMID]
 *
 * PROCS processes (default 4) run OPS operations between them (default
 * 100000), each drawn at random: open and close /dev/xen/gntalloc (up to four
 * files each), allocate 0..8 pages (now and then more than LIMIT), deallocate
 * a run of pages (valid or not), set an unmap notification (any byte, clear
 * and/or an invalid event port), mmap a run (shared or private, inside the
 * allocation or past it), munmap the whole or part of a mapping (splitting
 * it), write and read back a mapped page, and fork a child that writes to
 * every mapping and exits. Files are closed while their pages are still
 * mapped, and mappings outlive deallocation, as user space may do.
 *
 * Every answer is checked against what gntalloc.c gives for it: a valid
 * request succeeds, allocation beyond LIMIT fails with ENOSPC, unknown runs
 * fail with EINVAL (dealloc) or ENOENT (notify, mmap), a private mmap with
 * EINVAL. Unexpected answers and data mismatches are printed and counted.
 * At the end every process has closed and unmapped everything; then LIMIT
 * pages can be shared at once and one more cannot (the count is back to
 * zero). The last line is
 *
 *   gntrand ops N unexpected U children C check ok|bad
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/gntalloc.h>

#define PAGE 4096ULL
#define FILES 4
#define PAGES_PER_FILE 32
#define MAPS 16

static unsigned int limit, domid;
static uint64_t rng;
static long unexpected, ops, children;

struct file {
	int fd;
	int n;				/* pages the file lists */
	uint64_t page[PAGES_PER_FILE];	/* their offsets, increasing */
};

struct map {
	char *addr;
	int pages;
};

static struct file files[FILES];
static struct map maps[MAPS];

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int below(unsigned int n)
{
	return n ? next() % n : 0;
}

static void bad(const char *what, int rc, int err)
{
	unexpected++;
	if (unexpected <= 20)
		printf("gntrand %d: unexpected %s: rc %d %s\n", getpid(), what, rc,
		       rc < 0 ? strerrorname_np(err) : "");
}

static void expect(const char *what, int rc, int want_errno)
{
	int err = errno;

	if (want_errno == 0 ? rc != 0 : rc == 0 || err != want_errno)
		bad(what, rc, err);
}

/* The position of a run of COUNT listed pages from INDEX, or -1. */
static int find(struct file *f, uint64_t index, int count)
{
	for (int i = 0; i < f->n; i++) {
		if (f->page[i] != index)
			continue;
		if (count <= 0 || i + count > f->n)
			return -1;
		for (int j = 1; j < count; j++)
			if (f->page[i + j] != index + j * PAGE)
				return -1;
		return i;
	}
	return -1;
}

static void op_open(struct file *f)
{
	f->fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	f->n = 0;
	if (f->fd < 0)
		bad("open", -1, errno);
}

static void op_close(struct file *f)
{
	close(f->fd);
	f->fd = -1;
	f->n = 0;
}

static void op_alloc(struct file *f)
{
	uint32_t count = below(9);
	struct ioctl_gntalloc_alloc_gref *op;
	int over = below(50) == 0, rc;

	if (over)
		count = limit + 1 + below(4);
	else if (f->n + count > PAGES_PER_FILE)
		count = PAGES_PER_FILE - f->n;
	op = calloc(1, sizeof(*op) + (count + 1) * sizeof(uint32_t));
	if (!op)
		return;
	op->domid = domid;
	op->flags = below(2) ? GNTALLOC_FLAG_WRITABLE : 0;
	op->count = count;
	rc = ioctl(f->fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
	if (over)
		expect("alloc over limit", rc, ENOSPC);
	else if (rc < 0 && errno != ENOSPC)
		bad("alloc", rc, errno);
	else if (rc == 0)
		for (uint32_t i = 0; i < count; i++)
			f->page[f->n++] = op->index + i * PAGE;
	free(op);
}

/* A run inside the file's pages, or (one time in four) anything. */
static void pick(struct file *f, uint64_t *index, int *count, int *valid)
{
	if (f->n == 0 || below(4) == 0) {
		*index = below(2) ? below(64) * PAGE : next() & ~(PAGE - 1);
		*count = below(3);
	} else {
		int i = below(f->n);

		*index = f->page[i];
		*count = 1 + below(f->n - i);
	}
	*valid = find(f, *index, *count) >= 0;
}

static void op_dealloc(struct file *f)
{
	struct ioctl_gntalloc_dealloc_gref op;
	int count, valid, i, rc;
	uint64_t index;

	pick(f, &index, &count, &valid);
	op.index = index;
	op.count = count;
	rc = ioctl(f->fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op);
	expect("dealloc", rc, valid ? 0 : EINVAL);
	if (rc == 0 && valid) {
		i = find(f, index, count);
		memmove(&f->page[i], &f->page[i + count],
			(f->n - i - count) * sizeof(f->page[0]));
		f->n -= count;
	}
}

static void op_notify(struct file *f)
{
	struct ioctl_gntalloc_unmap_notify op;
	int count, valid, rc, want;
	uint64_t index;

	pick(f, &index, &count, &valid);
	valid = find(f, index, 1) >= 0;
	op.index = index + below(PAGE);
	op.action = below(3) ? UNMAP_NOTIFY_CLEAR_BYTE : below(8);
	op.event_channel_port = 0xfffff;
	rc = ioctl(f->fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &op);
	if (!valid)
		want = ENOENT;
	else if (op.action & ~3u || op.action & UNMAP_NOTIFY_SEND_EVENT)
		want = EINVAL;
	else
		want = 0;
	expect("notify", rc, want);
}

static void op_mmap(struct file *f)
{
	int count, valid, shared = below(8) != 0, slot = below(MAPS);
	uint64_t index;
	char *p;

	pick(f, &index, &count, &valid);
	if (count == 0)
		count = 1;
	valid = find(f, index, count) >= 0;
	p = mmap(NULL, count * PAGE, PROT_READ | PROT_WRITE,
		 shared ? MAP_SHARED : MAP_PRIVATE, f->fd, index);
	if (!shared)
		expect("private mmap", p == MAP_FAILED ? -1 : 0, EINVAL);
	else
		expect("mmap", p == MAP_FAILED ? -1 : 0, valid ? 0 : ENOENT);
	if (p == MAP_FAILED)
		return;
	if (!shared || !valid) {
		munmap(p, count * PAGE);
		return;
	}
	if (maps[slot].addr)
		munmap(maps[slot].addr, maps[slot].pages * PAGE);
	maps[slot].addr = p;
	maps[slot].pages = count;
	memset(p, 0, count * PAGE);
}

static void op_munmap(void)
{
	struct map *m = &maps[below(MAPS)];
	int a, b;

	if (!m->addr)
		return;
	a = below(m->pages);
	b = a + 1 + below(m->pages - a);
	if (munmap(m->addr + a * PAGE, (b - a) * PAGE))
		bad("munmap", -1, errno);
	/* Keep the larger piece that is left, unmap the other. */
	if (a >= m->pages - b) {
		if (b < m->pages)
			munmap(m->addr + b * PAGE, (m->pages - b) * PAGE);
		m->pages = a;
	} else {
		if (a > 0)
			munmap(m->addr, a * PAGE);
		m->addr += b * PAGE;
		m->pages -= b;
	}
	if (m->pages == 0)
		m->addr = NULL;
}

static void op_touch(void)
{
	struct map *m = &maps[below(MAPS)];
	volatile uint64_t *w;
	uint64_t v = next();

	if (!m->addr)
		return;
	w = (uint64_t *)(m->addr + below(m->pages) * PAGE + below(PAGE / 8) * 8);
	*w = v;
	if (*w != v)
		bad("read back", 0, 0);
}

static void op_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return;
	if (pid == 0) {
		for (int i = 0; i < MAPS; i++)
			for (int j = 0; maps[i].addr && j < maps[i].pages; j++)
				maps[i].addr[j * PAGE + 1] ^= 1;
		_exit(0);
	}
	children++;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		bad("child", status, 0);
}

static void run(long n)
{
	for (int i = 0; i < FILES; i++)
		files[i].fd = -1;
	while (ops < n) {
		struct file *f = &files[below(FILES)];
		unsigned int r = below(100);

		ops++;
		if (f->fd < 0) {
			op_open(f);
			continue;
		}
		if (r < 3)
			op_close(f);
		else if (r < 25)
			op_alloc(f);
		else if (r < 40)
			op_dealloc(f);
		else if (r < 50)
			op_notify(f);
		else if (r < 70)
			op_mmap(f);
		else if (r < 82)
			op_munmap();
		else if (r < 99)
			op_touch();
		else
			op_fork();
	}
	for (int i = 0; i < MAPS; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].pages * PAGE);
	for (int i = 0; i < FILES; i++)
		if (files[i].fd >= 0)
			close(files[i].fd);
}

/* LIMIT pages can be shared at once, LIMIT + 1 cannot. */
static int count_is_zero(void)
{
	struct ioctl_gntalloc_alloc_gref *op;
	int fd = open("/dev/xen/gntalloc", O_RDWR), a, b, e;

	op = calloc(1, sizeof(*op) + (limit + 1) * sizeof(uint32_t));
	if (fd < 0 || !op)
		return 0;
	op->domid = domid;
	op->count = limit;
	a = ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
	op->count = 1;
	b = ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
	e = errno;
	close(fd);
	free(op);
	return a == 0 && b < 0 && e == ENOSPC;
}

int main(int argc, char **argv)
{
	long n = 100000, total = 0, bad_total = 0, kids = 0;
	int procs = 4, o, p[2];
	uint64_t seed = 1;

	while ((o = getopt(argc, argv, "l:p:n:s:d:")) != -1) {
		switch (o) {
		case 'l':
			limit = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (!limit || procs < 1) {
		fprintf(stderr, "usage: gntrand -l LIMIT [-p PROCS] [-n OPS] [-s SEED] [-d DOMID]\n");
		return 2;
	}
	if (pipe(p))
		return 1;
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			long r[3];

			close(p[0]);
			rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
			run(n / procs + (i < n % procs));
			r[0] = ops;
			r[1] = unexpected;
			r[2] = children;
			if (write(p[1], r, sizeof(r)) != sizeof(r))
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	for (int i = 0; i < procs; i++) {
		long r[3];
		int status;

		if (read(p[0], r, sizeof(r)) == sizeof(r)) {
			total += r[0];
			bad_total += r[1];
			kids += r[2];
		}
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("gntrand: a process ended badly (status %#x)\n", status);
			bad_total++;
		}
	}
	printf("gntrand ops %ld unexpected %ld children %ld check %s\n", total,
	       bad_total, kids, count_is_zero() ? "ok" : "bad");
	return 0;
}
