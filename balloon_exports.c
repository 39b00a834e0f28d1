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
 * It makes the balloon's reservation hypercalls, with the fault attribute
 * fail_xen_reservation (debugfs, Documentation/fault-injection/): when it
 * fires, Xen is asked for fewer pages or blocks than the balloon wants, as
 * when it refuses the next one. What Xen did and what it reports then
 * agree, so the balloon's handling of each partial result can be tested on
 * a running guest. The pages of a block Xen stopped in are handed back one
 * by one without injection: see decrease_blocks() in balloon.rs.
 *
 * Last, it gives the Rust code what neither the bindings nor the helpers
 * can (balloon_rust.h): flush_tlb_all(), which only built-in code sees, the
 * kernel page-table entry of a frame, and the SYSCTL_ZERO and SYSCTL_ONE
 * bounds.
 */

#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/random.h>
#include <linux/sysctl.h>
#include <xen/balloon.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <asm/tlbflush.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>
#include <xen/page.h>

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

/* Xen frames per kernel page, as an extent order (mem-reservation.c's). */
#define XEN_BALLOON_PAGE_ORDER (PAGE_SHIFT - XEN_PAGE_SHIFT)

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(fail_xen_reservation);

static int __init setup_fail_xen_reservation(char *str)
{
	return setup_fault_attr(&fail_xen_reservation, str);
}
__setup("fail_xen_reservation=", setup_fail_xen_reservation);

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static int __init fail_xen_reservation_debugfs(void)
{
	return PTR_ERR_OR_ZERO(fault_create_debugfs_attr("fail_xen_reservation",
							 NULL,
							 &fail_xen_reservation));
}
late_initcall(fail_xen_reservation_debugfs);
#endif

/* How many of @count extents Xen is asked for: fewer when a fault fires. */
static unsigned long xen_balloon_extents(unsigned long count)
{
	if (count && should_fail(&fail_xen_reservation, 1))
		return get_random_u32_below(count);
	return count;
}
#else
static unsigned long xen_balloon_extents(unsigned long count)
{
	return count;
}
#endif

static long xen_balloon_memory_op(unsigned int cmd, xen_pfn_t *frames,
				  unsigned long count, unsigned int order)
{
	struct xen_memory_reservation reservation = {
		.nr_extents = count,
		.extent_order = order,
		.domid = DOMID_SELF,
	};

	set_xen_guest_handle(reservation.extent_start, frames);
	return HYPERVISOR_memory_op(cmd, &reservation);
}

long xen_balloon_increase(xen_pfn_t *frames, unsigned long count)
{
	return xen_balloon_memory_op(XENMEM_populate_physmap, frames,
				     xen_balloon_extents(count),
				     XEN_BALLOON_PAGE_ORDER);
}

long xen_balloon_decrease(xen_pfn_t *frames, unsigned long count, bool inject)
{
	if (inject)
		count = xen_balloon_extents(count);
	return xen_balloon_memory_op(XENMEM_decrease_reservation, frames,
				     count, XEN_BALLOON_PAGE_ORDER);
}

long xen_balloon_decrease_blocks(xen_pfn_t *frames, unsigned long count,
				 unsigned int order)
{
	return xen_balloon_memory_op(XENMEM_decrease_reservation, frames,
				     xen_balloon_extents(count),
				     order + XEN_BALLOON_PAGE_ORDER);
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

#ifdef CONFIG_XEN_BALLOON_RUST_KUNIT_TEST
#include "balloon_test.c"
#endif
