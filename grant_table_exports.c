// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the Rust grant table.
 *
 * grant_table.rs defines the functions of include/xen/grant_table.h that
 * keep grant-table state (through kernel::export_grant_table!), with the
 * prototypes of that header. Modules (xen-blkback, xen-netback, gntdev,
 * gntalloc, the front ends) link against them, so they are exported here
 * with the licence grant-table.c uses. The page helpers of the same header
 * live in the kernel crate (kernel::xen::grant_table), which exports its
 * symbols itself.
 */

#include <linux/export.h>
#include <xen/grant_table.h>

/* Filled by gnttab_setup_auto_xlat_frames() for HVM and PVH guests. */
struct grant_frames xen_auto_xlat_grant_frames;

EXPORT_SYMBOL_GPL(gnttab_init);
EXPORT_SYMBOL_GPL(gnttab_max_grant_frames);
EXPORT_SYMBOL_GPL(gnttab_setup_auto_xlat_frames);
EXPORT_SYMBOL_GPL(gnttab_free_auto_xlat_frames);

EXPORT_SYMBOL_GPL(gnttab_grant_foreign_access_ref);
EXPORT_SYMBOL_GPL(gnttab_grant_foreign_access);
EXPORT_SYMBOL_GPL(gnttab_end_foreign_access_ref);
EXPORT_SYMBOL_GPL(gnttab_try_end_foreign_access);
EXPORT_SYMBOL_GPL(gnttab_end_foreign_access);

EXPORT_SYMBOL_GPL(gnttab_free_grant_reference);
EXPORT_SYMBOL_GPL(gnttab_free_grant_references);
EXPORT_SYMBOL_GPL(gnttab_free_grant_reference_seq);
EXPORT_SYMBOL_GPL(gnttab_alloc_grant_references);
EXPORT_SYMBOL_GPL(gnttab_alloc_grant_reference_seq);
EXPORT_SYMBOL_GPL(gnttab_empty_grant_references);
EXPORT_SYMBOL_GPL(gnttab_claim_grant_reference);
EXPORT_SYMBOL_GPL(gnttab_release_grant_reference);
EXPORT_SYMBOL_GPL(gnttab_request_free_callback);
EXPORT_SYMBOL_GPL(gnttab_cancel_free_callback);

EXPORT_SYMBOL_GPL(gnttab_batch_map);
EXPORT_SYMBOL_GPL(gnttab_batch_copy);
EXPORT_SYMBOL_GPL(gnttab_map_refs);
EXPORT_SYMBOL_GPL(gnttab_unmap_refs);
EXPORT_SYMBOL_GPL(gnttab_unmap_refs_async);
EXPORT_SYMBOL_GPL(gnttab_unmap_refs_sync);
