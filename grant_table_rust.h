/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The grant-table functions of grant_table.rs that grant_table_exports.c
 * exports under their C names (kernel::export_grant_table! defines them).
 */

#ifndef XEN_RUST_GRANT_TABLE_RUST_H
#define XEN_RUST_GRANT_TABLE_RUST_H

#include <linux/types.h>
#include <xen/grant_table.h>

int rust_gnttab_init(void);
unsigned int rust_gnttab_max_grant_frames(void);
int rust_gnttab_setup_auto_xlat_frames(phys_addr_t addr);
void rust_gnttab_free_auto_xlat_frames(void);
void rust_gnttab_grant_foreign_access_ref(grant_ref_t ref, domid_t domid,
					  unsigned long frame, int readonly);
int rust_gnttab_grant_foreign_access(domid_t domid, unsigned long frame,
				     int readonly);
int rust_gnttab_end_foreign_access_ref(grant_ref_t ref);
int rust_gnttab_try_end_foreign_access(grant_ref_t ref);
void rust_gnttab_end_foreign_access(grant_ref_t ref, struct page *page);
void rust_gnttab_free_grant_reference(grant_ref_t ref);
void rust_gnttab_free_grant_references(grant_ref_t head);
void rust_gnttab_free_grant_reference_seq(grant_ref_t head, unsigned int count);
int rust_gnttab_alloc_grant_references(u16 count, grant_ref_t *pprivate_head);
int rust_gnttab_alloc_grant_reference_seq(unsigned int count,
					  grant_ref_t *first);
int rust_gnttab_empty_grant_references(const grant_ref_t *pprivate_head);
int rust_gnttab_claim_grant_reference(grant_ref_t *pprivate_head);
void rust_gnttab_release_grant_reference(grant_ref_t *private_head,
					 grant_ref_t release);
void rust_gnttab_request_free_callback(struct gnttab_free_callback *callback,
				       void (*fn)(void *), void *arg, u16 count);
void rust_gnttab_cancel_free_callback(struct gnttab_free_callback *callback);
void rust_gnttab_batch_map(struct gnttab_map_grant_ref *batch,
			   unsigned int count);
void rust_gnttab_batch_copy(struct gnttab_copy *batch, unsigned int count);
int rust_gnttab_map_refs(struct gnttab_map_grant_ref *map_ops,
			 struct gnttab_map_grant_ref *kmap_ops,
			 struct page **pages, unsigned int count);
int rust_gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops,
			   struct gnttab_unmap_grant_ref *kunmap_ops,
			   struct page **pages, unsigned int count);
void rust_gnttab_unmap_refs_async(struct gntab_unmap_queue_data *item);
int rust_gnttab_unmap_refs_sync(struct gntab_unmap_queue_data *item);

#endif
