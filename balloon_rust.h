/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions balloon_exports.c provides to the Rust balloon driver
 * (balloon/pages.rs, balloon/hotplug.rs). Built in, never exported to
 * modules.
 */
#ifndef _XEN_RUST_BALLOON_RUST_H
#define _XEN_RUST_BALLOON_RUST_H

#include <linux/types.h>
#include <xen/interface/xen.h>

struct page;

/* balloon_alloc_pages_noinit(): pages without init_on_alloc zeroing. */
struct page *xen_balloon_alloc_noinit(gfp_t gfp, unsigned int order);
/*
 * The reservation hypercalls: XENMEM_populate_physmap and
 * XENMEM_decrease_reservation of @count kernel pages, given by their first
 * Xen frame, and XENMEM_decrease_reservation of @count blocks of 2^@order
 * kernel pages. Each returns how many it did or an error, as Xen does; with
 * fail_xen_reservation they may do fewer.
 */
long xen_balloon_increase(xen_pfn_t *frames, unsigned long count);
long xen_balloon_decrease(xen_pfn_t *frames, unsigned long count, bool inject);
long xen_balloon_decrease_blocks(xen_pfn_t *frames, unsigned long count,
				 unsigned int order);
/* flush_tlb_all(), which modules, and so the bindings, do not see. */
void xen_balloon_flush_tlb_all(void);
#ifdef CONFIG_XEN_HAVE_PVMMU
#include <asm/pgtable_types.h>

/* mfn_pte(@mfn, PAGE_KERNEL). */
pte_t xen_balloon_kernel_pte(unsigned long mfn);
#endif
#ifdef CONFIG_XEN_BALLOON_MEMORY_HOTPLUG
/* SYSCTL_ZERO and SYSCTL_ONE. */
void *xen_balloon_sysctl_zero(void);
void *xen_balloon_sysctl_one(void);
#endif

#endif /* _XEN_RUST_BALLOON_RUST_H */
