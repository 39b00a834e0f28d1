// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the Rust balloon driver (balloon.rs).
 *
 * balloon/c_api.rs defines the functions of include/xen/balloon.h under their
 * C names; this file exports them with the licences of drivers/xen/balloon.c
 * and xen-balloon.c, and defines balloon_stats, so that gntdev, privcmd, the
 * grant table and unpopulated-alloc build and load unchanged.
 *
 * It also holds the only call of balloon_alloc_pages_noinit() in the kernel.
 * That call, like everything of balloon.rs, is built in and not exported:
 * no module can obtain a page that init_on_alloc did not zero.
 */

#include <linux/export.h>
#include <linux/gfp.h>
#include <xen/balloon.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <asm/xen/hypercall.h>

#include "balloon_rust.h"

struct balloon_stats balloon_stats;
EXPORT_SYMBOL_GPL(balloon_stats);

/* The functions are defined in Rust: export them by name, as rust/exports.c does, */
#define EXPORT_RUST(sym) EXPORT_SYMBOL(sym)
/* with the licence balloon.c gives each. */
#define EXPORT_RUST_GPL(sym) EXPORT_SYMBOL_GPL(sym)

EXPORT_RUST_GPL(balloon_set_new_target);
EXPORT_RUST(xen_alloc_ballooned_pages);
EXPORT_RUST(xen_free_ballooned_pages);
EXPORT_RUST_GPL(xen_balloon_init);

/*
 * balloon_alloc_pages_noinit() is a macro (alloc_hooks()): memory allocation
 * profiling charges the balloon's pages to this line.
 */
struct page *xen_balloon_alloc_noinit(gfp_t gfp, unsigned int order)
{
	return balloon_alloc_pages_noinit(gfp, order);
}

long xen_balloon_decrease_blocks(xen_pfn_t *frames, unsigned long count,
				 unsigned int order)
{
	struct xen_memory_reservation reservation = {
		.nr_extents = count,
		.extent_order = order,
		.domid = DOMID_SELF,
	};

	set_xen_guest_handle(reservation.extent_start, frames);
	return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &reservation);
}
