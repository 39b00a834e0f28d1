// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the Rust grant table.
 *
 * grant_table.rs implements the functions of include/xen/grant_table.h
 * (through kernel::export_grant_table!). Those that grant-table.c exports
 * to modules (xen-blkback, xen-netback, gntdev, gntalloc, the front ends)
 * are defined here under their own names as calls to their rust_ twins,
 * checked by the compiler against the header, and exported with the
 * licence grant-table.c uses. The page helpers of the same header live in
 * the kernel crate (kernel::xen::grant_table), which exports them itself.
 */

#include <linux/export.h>
#include <xen/grant_table.h>

#include "grant_table_rust.h"

/* Filled by gnttab_setup_auto_xlat_frames() for HVM and PVH guests. */
struct grant_frames xen_auto_xlat_grant_frames;

int gnttab_init(void)
{
	return rust_gnttab_init();
}
EXPORT_SYMBOL_GPL(gnttab_init);

unsigned int gnttab_max_grant_frames(void)
{
	return rust_gnttab_max_grant_frames();
}
EXPORT_SYMBOL_GPL(gnttab_max_grant_frames);

int gnttab_setup_auto_xlat_frames(phys_addr_t addr)
{
	return rust_gnttab_setup_auto_xlat_frames(addr);
}
EXPORT_SYMBOL_GPL(gnttab_setup_auto_xlat_frames);

void gnttab_free_auto_xlat_frames(void)
{
	rust_gnttab_free_auto_xlat_frames();
}
EXPORT_SYMBOL_GPL(gnttab_free_auto_xlat_frames);

void gnttab_grant_foreign_access_ref(grant_ref_t ref, domid_t domid,
				     unsigned long frame, int readonly)
{
	rust_gnttab_grant_foreign_access_ref(ref, domid, frame, readonly);
}
EXPORT_SYMBOL_GPL(gnttab_grant_foreign_access_ref);

int gnttab_grant_foreign_access(domid_t domid, unsigned long frame,
				int readonly)
{
	return rust_gnttab_grant_foreign_access(domid, frame, readonly);
}
EXPORT_SYMBOL_GPL(gnttab_grant_foreign_access);

int gnttab_end_foreign_access_ref(grant_ref_t ref)
{
	return rust_gnttab_end_foreign_access_ref(ref);
}
EXPORT_SYMBOL_GPL(gnttab_end_foreign_access_ref);

int gnttab_try_end_foreign_access(grant_ref_t ref)
{
	return rust_gnttab_try_end_foreign_access(ref);
}
EXPORT_SYMBOL_GPL(gnttab_try_end_foreign_access);

void gnttab_end_foreign_access(grant_ref_t ref, struct page *page)
{
	rust_gnttab_end_foreign_access(ref, page);
}
EXPORT_SYMBOL_GPL(gnttab_end_foreign_access);

void gnttab_free_grant_reference(grant_ref_t ref)
{
	rust_gnttab_free_grant_reference(ref);
}
EXPORT_SYMBOL_GPL(gnttab_free_grant_reference);

void gnttab_free_grant_references(grant_ref_t head)
{
	rust_gnttab_free_grant_references(head);
}
EXPORT_SYMBOL_GPL(gnttab_free_grant_references);

void gnttab_free_grant_reference_seq(grant_ref_t head, unsigned int count)
{
	rust_gnttab_free_grant_reference_seq(head, count);
}
EXPORT_SYMBOL_GPL(gnttab_free_grant_reference_seq);

int gnttab_alloc_grant_references(u16 count, grant_ref_t *pprivate_head)
{
	return rust_gnttab_alloc_grant_references(count, pprivate_head);
}
EXPORT_SYMBOL_GPL(gnttab_alloc_grant_references);

int gnttab_alloc_grant_reference_seq(unsigned int count, grant_ref_t *first)
{
	return rust_gnttab_alloc_grant_reference_seq(count, first);
}
EXPORT_SYMBOL_GPL(gnttab_alloc_grant_reference_seq);

int gnttab_empty_grant_references(const grant_ref_t *pprivate_head)
{
	return rust_gnttab_empty_grant_references(pprivate_head);
}
EXPORT_SYMBOL_GPL(gnttab_empty_grant_references);

int gnttab_claim_grant_reference(grant_ref_t *pprivate_head)
{
	return rust_gnttab_claim_grant_reference(pprivate_head);
}
EXPORT_SYMBOL_GPL(gnttab_claim_grant_reference);

void gnttab_release_grant_reference(grant_ref_t *private_head,
				    grant_ref_t release)
{
	rust_gnttab_release_grant_reference(private_head, release);
}
EXPORT_SYMBOL_GPL(gnttab_release_grant_reference);

void gnttab_request_free_callback(struct gnttab_free_callback *callback,
				  void (*fn)(void *), void *arg, u16 count)
{
	rust_gnttab_request_free_callback(callback, fn, arg, count);
}
EXPORT_SYMBOL_GPL(gnttab_request_free_callback);

void gnttab_cancel_free_callback(struct gnttab_free_callback *callback)
{
	rust_gnttab_cancel_free_callback(callback);
}
EXPORT_SYMBOL_GPL(gnttab_cancel_free_callback);

void gnttab_batch_map(struct gnttab_map_grant_ref *batch, unsigned int count)
{
	rust_gnttab_batch_map(batch, count);
}
EXPORT_SYMBOL_GPL(gnttab_batch_map);

void gnttab_batch_copy(struct gnttab_copy *batch, unsigned int count)
{
	rust_gnttab_batch_copy(batch, count);
}
EXPORT_SYMBOL_GPL(gnttab_batch_copy);

int gnttab_map_refs(struct gnttab_map_grant_ref *map_ops,
		    struct gnttab_map_grant_ref *kmap_ops, struct page **pages,
		    unsigned int count)
{
	return rust_gnttab_map_refs(map_ops, kmap_ops, pages, count);
}
EXPORT_SYMBOL_GPL(gnttab_map_refs);

int gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops,
		      struct gnttab_unmap_grant_ref *kunmap_ops,
		      struct page **pages, unsigned int count)
{
	return rust_gnttab_unmap_refs(unmap_ops, kunmap_ops, pages, count);
}
EXPORT_SYMBOL_GPL(gnttab_unmap_refs);

void gnttab_unmap_refs_async(struct gntab_unmap_queue_data *item)
{
	rust_gnttab_unmap_refs_async(item);
}
EXPORT_SYMBOL_GPL(gnttab_unmap_refs_async);

int gnttab_unmap_refs_sync(struct gntab_unmap_queue_data *item)
{
	return rust_gnttab_unmap_refs_sync(item);
}
EXPORT_SYMBOL_GPL(gnttab_unmap_refs_sync);
