// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the Rust grant table.
 *
 * grant_table/c_api.rs defines every function of include/xen/grant_table.h
 * under its C name. This file exports those that grant-table.c exports, with
 * the same licence, so that xenbus, xen-blkback, xen-netback, gntdev,
 * gntalloc and the front ends load unchanged, and defines the variable the
 * header declares.
 */

#include <linux/export.h>
#include <xen/grant_table.h>

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
