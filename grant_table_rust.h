/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions grant_table_exports.c provides to the Rust grant table
 * (grant_table.rs, grant_table/c_api.rs, grant_table/handles.rs). Built in,
 * never exported to modules.
 */
#ifndef _XEN_RUST_GRANT_TABLE_RUST_H
#define _XEN_RUST_GRANT_TABLE_RUST_H

#include <xen/grant_table.h>

struct page;

/* Machine address width the hypervisor reports to a PV guest, 0 if unknown. */
unsigned int xen_gnttab_pv_machine_address_width(void);
/* Marks @page as mapping grant @gref of @domid (SetPageForeign()). */
void xen_gnttab_page_set_foreign(struct page *page, domid_t domid,
				 grant_ref_t gref);
/* Clears the foreign mark of @page (ClearPageForeign()). */
void xen_gnttab_page_clear_foreign(struct page *page);
/*
 * How many of @count map or copy operations to hand Xen: @count, or fewer
 * when fail_grant_op fires. The others then answer *@status (GNTST_eagain
 * unless the attribute's "status" file says otherwise; never GNTST_okay).
 */
unsigned int xen_gnttab_ops_to_submit(unsigned int count, s16 *status);
#ifdef CONFIG_XEN_GRANT_DMA_ALLOC
/*
 * xenmem_reservation_decrease() and xenmem_reservation_increase() for the
 * frames of a DMA buffer: Xen is asked for fewer of @count when
 * fail_gnttab_dma_decrease or fail_gnttab_dma_increase fires. Returns how
 * many of the first frames Xen took or populated, or a negative error.
 */
int xen_gnttab_dma_decrease(int count, xen_pfn_t *frames);
int xen_gnttab_dma_increase(int count, xen_pfn_t *frames);
#endif
#ifdef CONFIG_XEN_UNPOPULATED_ALLOC
/* The link of the page cache: page->zone_device_data. */
void *xen_gnttab_page_zone_device_data(struct page *page);
void xen_gnttab_page_set_zone_device_data(struct page *page, void *data);
#endif

#endif /* _XEN_RUST_GRANT_TABLE_RUST_H */
