// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the Rust grant table.
 *
 * grant_table/c_api.rs defines every function of include/xen/grant_table.h
 * under its C name. This file exports those that grant-table.c exports, with
 * the same licence, so that xenbus, xen-blkback, xen-netback, gntdev,
 * gntalloc and the front ends load unchanged, and defines the variable the
 * header declares.
 *
 * It also holds what the Rust code needs beyond the bindings and helpers
 * (grant_table_rust.h): built in, never exported. Among it is the fault
 * attribute fail_grant_op (debugfs, Documentation/fault-injection/): when it
 * fires, only the first operations of a map or copy batch reach Xen and the
 * others answer GNTST_eagain, as for a paged-out frame, so the retries of
 * gnttab_map_refs(), gnttab_batch_map() and gnttab_batch_copy() can be
 * tested on a running guest; its file "status" makes them answer another
 * error instead (the GNTST_ code negated, 1 to 13), to test how callers
 * take a failed operation. With CONFIG_XEN_GRANT_DMA_ALLOC, two more,
 * fail_gnttab_dma_decrease and fail_gnttab_dma_increase, make Xen take or
 * give back only the first frames of a DMA buffer (gnttab_dma_alloc_pages(),
 * gnttab_dma_free_pages()), as if it had stopped early.
 */

#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <xen/grant_table.h>
#include <xen/mem-reservation.h>
#include <xen/xen.h>
#ifdef CONFIG_X86
#include <asm/xen/cpuid.h>
#include <asm/xen/hypervisor.h>
#endif

#include "grant_table_rust.h"

/* Filled by gnttab_setup_auto_xlat_frames() for HVM and PVH guests. */
struct grant_frames xen_auto_xlat_grant_frames;

/* The functions are defined in Rust: export them by name, as rust/exports.c does. */
#define EXPORT_RUST_GPL(sym) EXPORT_SYMBOL_GPL(sym)

EXPORT_RUST_GPL(gnttab_init);
EXPORT_RUST_GPL(gnttab_max_grant_frames);
EXPORT_RUST_GPL(gnttab_setup_auto_xlat_frames);
EXPORT_RUST_GPL(gnttab_free_auto_xlat_frames);
EXPORT_RUST_GPL(gnttab_grant_foreign_access_ref);
EXPORT_RUST_GPL(gnttab_grant_foreign_access);
EXPORT_RUST_GPL(gnttab_end_foreign_access_ref);
EXPORT_RUST_GPL(gnttab_try_end_foreign_access);
EXPORT_RUST_GPL(gnttab_end_foreign_access);
EXPORT_RUST_GPL(gnttab_end_foreign_access_user);
EXPORT_RUST_GPL(gnttab_end_foreign_access_user_batch);
EXPORT_RUST_GPL(gnttab_grant_foreign_access_batch);
EXPORT_RUST_GPL(gnttab_free_grant_reference);
EXPORT_RUST_GPL(gnttab_free_grant_references);
EXPORT_RUST_GPL(gnttab_free_grant_reference_seq);
EXPORT_RUST_GPL(gnttab_alloc_grant_references);
EXPORT_RUST_GPL(gnttab_alloc_grant_reference_seq);
EXPORT_RUST_GPL(gnttab_empty_grant_references);
EXPORT_RUST_GPL(gnttab_claim_grant_reference);
EXPORT_RUST_GPL(gnttab_release_grant_reference);
EXPORT_RUST_GPL(gnttab_request_free_callback);
EXPORT_RUST_GPL(gnttab_cancel_free_callback);
EXPORT_RUST_GPL(gnttab_batch_map);
EXPORT_RUST_GPL(gnttab_batch_copy);
EXPORT_RUST_GPL(gnttab_map_refs);
EXPORT_RUST_GPL(gnttab_unmap_refs);
EXPORT_RUST_GPL(gnttab_unmap_refs_async);
EXPORT_RUST_GPL(gnttab_unmap_refs_sync);
EXPORT_RUST_GPL(gnttab_pages_set_private);
EXPORT_RUST_GPL(gnttab_pages_clear_private);
EXPORT_RUST_GPL(gnttab_alloc_pages);
EXPORT_RUST_GPL(gnttab_free_pages);
EXPORT_RUST_GPL(gnttab_page_cache_init);
EXPORT_RUST_GPL(gnttab_page_cache_get);
EXPORT_RUST_GPL(gnttab_page_cache_put);
EXPORT_RUST_GPL(gnttab_page_cache_shrink);
EXPORT_RUST_GPL(gnttab_foreach_grant_in_range);
#ifdef CONFIG_XEN_GRANT_DMA_ALLOC
EXPORT_RUST_GPL(gnttab_dma_alloc_pages);
EXPORT_RUST_GPL(gnttab_dma_free_pages);
#endif

unsigned int xen_gnttab_pv_machine_address_width(void)
{
#ifdef CONFIG_X86
	u32 base;

	if (!xen_pv_domain())
		return 0;
	base = xen_cpuid_base();
	if (cpuid_eax(base) < 5)
		return 0;
	return cpuid_ebx(base + 5) & XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK;
#else
	return 0;
#endif
}

void xen_gnttab_page_set_foreign(struct page *page, domid_t domid,
				 grant_ref_t gref)
{
	struct xen_page_foreign *foreign;

	SetPageForeign(page);
	foreign = xen_page_foreign(page);
	foreign->domid = domid;
	foreign->gref = gref;
}

void xen_gnttab_page_clear_foreign(struct page *page)
{
	ClearPageForeign(page);
}

#ifdef CONFIG_XEN_UNPOPULATED_ALLOC
void *xen_gnttab_page_zone_device_data(struct page *page)
{
	return page->zone_device_data;
}

void xen_gnttab_page_set_zone_device_data(struct page *page, void *data)
{
	page->zone_device_data = data;
}
#endif

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(fail_grant_op);
/* What the operations not handed to Xen answer: a GNTST_ code, never okay. */
static s16 fail_grant_op_status = GNTST_eagain;

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static int fail_grant_op_status_get(void *data, u64 *val)
{
	*val = -fail_grant_op_status;
	return 0;
}

/* The file holds the code negated: 12 is GNTST_eagain, 1 GNTST_general_error. */
static int fail_grant_op_status_set(void *data, u64 val)
{
	if (val < -GNTST_general_error || val > -GNTST_no_space)
		return -ERANGE;
	WRITE_ONCE(fail_grant_op_status, -(s16)val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fail_grant_op_status_fops, fail_grant_op_status_get,
			 fail_grant_op_status_set, "%llu\n");

static int __init fail_grant_op_debugfs(void)
{
	struct dentry *dir = fault_create_debugfs_attr("fail_grant_op", NULL,
						       &fail_grant_op);

	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file_unsafe("status", 0600, dir, NULL,
				   &fail_grant_op_status_fops);
	return 0;
}
late_initcall(fail_grant_op_debugfs);
#endif

unsigned int xen_gnttab_ops_to_submit(unsigned int count, s16 *status)
{
	*status = READ_ONCE(fail_grant_op_status);
	if (count && should_fail(&fail_grant_op, 1))
		return get_random_u32_below(count);
	return count;
}
#else
unsigned int xen_gnttab_ops_to_submit(unsigned int count, s16 *status)
{
	*status = GNTST_eagain;
	return count;
}
#endif

#ifdef CONFIG_XEN_GRANT_DMA_ALLOC
#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(fail_gnttab_dma_decrease);
static DECLARE_FAULT_ATTR(fail_gnttab_dma_increase);

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static int __init fail_gnttab_dma_debugfs(void)
{
	struct dentry *dir;

	dir = fault_create_debugfs_attr("fail_gnttab_dma_decrease", NULL,
					&fail_gnttab_dma_decrease);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	dir = fault_create_debugfs_attr("fail_gnttab_dma_increase", NULL,
					&fail_gnttab_dma_increase);
	return PTR_ERR_OR_ZERO(dir);
}
late_initcall(fail_gnttab_dma_debugfs);
#endif

/* How many of @count frames to hand Xen: fewer when the attribute fires. */
static int xen_gnttab_dma_frames(bool increase, int count)
{
	struct fault_attr *attr = increase ? &fail_gnttab_dma_increase :
					     &fail_gnttab_dma_decrease;

	if (count > 0 && should_fail(attr, 1))
		return get_random_u32_below(count);
	return count;
}
#else
static int xen_gnttab_dma_frames(bool increase, int count)
{
	return count;
}
#endif

int xen_gnttab_dma_decrease(int count, xen_pfn_t *frames)
{
	count = xen_gnttab_dma_frames(false, count);
	return xenmem_reservation_decrease(count, frames);
}

int xen_gnttab_dma_increase(int count, xen_pfn_t *frames)
{
	count = xen_gnttab_dma_frames(true, count);
	return xenmem_reservation_increase(count, frames);
}
#endif
