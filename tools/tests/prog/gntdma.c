// SPDX-License-Identifier: GPL-2.0
/*
 * gntdma: gntdev's DMA buffers (gnttab_dma_alloc_pages(),
 * gnttab_dma_free_pages()) made and freed RUNS times.
 *
 *   gntdma -n PAGES -r RUNS [-d DOMID]
 *
 * Each run asks /dev/xen/gntdev for a dma-buf of PAGES coherent pages that
 * maps grant references of DOMID (default 0) which do not exist
 * (IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS). gntdev allocates the DMA buffer and
 * gives its frames to Xen (gnttab_dma_alloc_pages()), fails to map the
 * references (EINVAL) and frees the buffer, which takes the frames back from
 * Xen (gnttab_dma_free_pages()). When the buffer cannot be made (the fault
 * attribute fail_gnttab_dma_decrease: Xen took only part of its frames), the
 * answer is ENOMEM. Prints one line:
 *
 *   gntdma: runs=N mapfail=N allocfail=N ok=N other=N
 *
 * ok counts dma-bufs that were made (closed at once); other, any other
 * answer. Only auto-translated guests (PVH, HVM) have these dma-bufs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
/* gntdev.h's grant-copy structures use these Xen types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntdev.h>

/* References far beyond any grant table: Xen answers GNTST_bad_gntref. */
#define NO_SUCH_REF 0x7fffff00u

int main(int argc, char **argv)
{
	unsigned int pages = 16, runs = 1, domid = 0, i, r;
	unsigned int mapfail = 0, allocfail = 0, ok = 0, other = 0;
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int fd, opt;

	while ((opt = getopt(argc, argv, "n:r:d:")) != -1) {
		switch (opt) {
		case 'n':
			pages = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			domid = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: gntdma -n PAGES -r RUNS [-d DOMID]\n");
			return 2;
		}
	}
	if (!pages || pages > 256) {
		fprintf(stderr, "gntdma: PAGES must be 1 to 256\n");
		return 2;
	}
	fd = open("/dev/xen/gntdev", O_RDWR);
	if (fd < 0) {
		perror("gntdma: /dev/xen/gntdev");
		return 1;
	}
	op = calloc(1, sizeof(*op) + pages * sizeof(op->refs[0]));
	if (!op)
		return 1;
	for (r = 0; r < runs; r++) {
		op->flags = GNTDEV_DMA_FLAG_COHERENT;
		op->count = pages;
		op->domid = domid;
		op->fd = -1;
		for (i = 0; i < pages; i++)
			op->refs[i] = NO_SUCH_REF + i;
		if (ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op) == 0) {
			ok++;
			close(op->fd);
		} else if (errno == EINVAL) {
			mapfail++;
		} else if (errno == ENOMEM) {
			allocfail++;
		} else {
			other++;
			fprintf(stderr, "gntdma: run %u: %s\n", r,
				strerrorname_np(errno));
		}
	}
	printf("gntdma: runs=%u mapfail=%u allocfail=%u ok=%u other=%u\n",
	       runs, mapfail, allocfail, ok, other);
	close(fd);
	free(op);
	return 0;
}
