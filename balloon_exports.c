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
 *
 * Last, it gives the Rust code what neither the bindings nor the helpers
 * can (balloon_rust.h): flush_tlb_all(), which only built-in code sees, the
 * kernel page-table entry of a frame, and the SYSCTL_ZERO and SYSCTL_ONE
 * bounds.
 */

#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/sysctl.h>
#include <xen/balloon.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <asm/tlbflush.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>

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

/* flush_tlb_all() is declared for built-in code only, which this file is. */
void xen_balloon_flush_tlb_all(void)
{
	flush_tlb_all();
}

#ifdef CONFIG_XEN_HAVE_PVMMU
/* The kernel mapping of machine frame @mfn, as the direct map has it. */
pte_t xen_balloon_kernel_pte(unsigned long mfn)
{
	return mfn_pte(mfn, PAGE_KERNEL);
}
#endif

#ifdef CONFIG_XEN_BALLOON_MEMORY_HOTPLUG
/* The bounds of the hotplug_unpopulated sysctl. */
void *xen_balloon_sysctl_zero(void)
{
	return SYSCTL_ZERO;
}

void *xen_balloon_sysctl_one(void)
{
	return SYSCTL_ONE;
}
#endif
