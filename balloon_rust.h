/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions balloon_exports.c provides to the Rust balloon driver
 * (balloon/pages.rs). Built in, never exported to modules.
 */
#ifndef _XEN_RUST_BALLOON_RUST_H
#define _XEN_RUST_BALLOON_RUST_H

#include <linux/types.h>
#include <xen/interface/xen.h>

struct page;

/* balloon_alloc_pages_noinit(): pages without init_on_alloc zeroing. */
struct page *xen_balloon_alloc_noinit(gfp_t gfp, unsigned int order);
/* XENMEM_decrease_reservation of @count blocks of 2^@order frames each. */
long xen_balloon_decrease_blocks(xen_pfn_t *frames, unsigned long count,
				 unsigned int order);

#endif /* _XEN_RUST_BALLOON_RUST_H */
