// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/sysctl.h>
#include <xen/features.h>
#include <xen/mem-reservation.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/interface/memory.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/hypervisor.h>
#include <asm/tlbflush.h>

bool rust_helper_xen_domain(void)
{
	return xen_domain();
}

bool rust_helper_xen_pv_domain(void)
{
	return xen_pv_domain();
}

bool rust_helper_xen_initial_domain(void)
{
	return xen_initial_domain();
}

bool rust_helper_xen_auto_translated(void)
{
	return xen_feature(XENFEAT_auto_translated_physmap);
}

unsigned long rust_helper_xen_nr_unpopulated_pages(void)
{
	return xen_unpopulated_pages;
}

unsigned long rust_helper_xen_start_info_nr_pages(void)
{
	return xen_pv_domain() ? xen_start_info->nr_pages : 0;
}

long rust_helper_xen_current_reservation(void)
{
	domid_t domid = DOMID_SELF;

	return HYPERVISOR_memory_op(XENMEM_current_reservation, &domid);
}

xen_pfn_t rust_helper_page_to_xen_pfn(struct page *page)
{
	return page_to_xen_pfn(page);
}

unsigned long rust_helper_xen_page_to_gfn(struct page *page)
{
	return xen_page_to_gfn(page);
}

void rust_helper_xenmem_reservation_va_mapping_update(unsigned long count,
						      struct page **pages,
						      xen_pfn_t *frames)
{
	xenmem_reservation_va_mapping_update(count, pages, frames);
}

void rust_helper_xenmem_reservation_va_mapping_reset(unsigned long count,
						     struct page **pages)
{
	xenmem_reservation_va_mapping_reset(count, pages);
}

bool rust_helper_folio_test_highmem(struct folio *folio)
{
	return folio_test_highmem(folio);
}

void rust_helper___folio_set_offline(struct folio *folio)
{
	__folio_set_offline(folio);
}

void rust_helper___folio_clear_offline(struct folio *folio)
{
	__folio_clear_offline(folio);
}

void *rust_helper_lowmem_page_address(const struct page *page)
{
	return lowmem_page_address(page);
}

#ifdef CONFIG_XEN_HAVE_PVMMU
void rust_helper_MULTI_update_va_mapping(struct multicall_entry *mcl,
					 unsigned long va, pte_t new_val,
					 unsigned long flags)
{
	MULTI_update_va_mapping(mcl, va, new_val, flags);
}

int rust_helper_HYPERVISOR_multicall(void *call_list, uint32_t nr_calls)
{
	return HYPERVISOR_multicall(call_list, nr_calls);
}

unsigned long rust_helper___pfn_to_mfn(unsigned long pfn)
{
	return __pfn_to_mfn(pfn);
}

/* The kernel mapping of machine frame @mfn, as the direct map has it. */
pte_t rust_helper_xen_kernel_pte(unsigned long mfn)
{
	return mfn_pte(mfn, PAGE_KERNEL);
}
#endif

struct folio *rust_helper_page_folio(struct page *page)
{
	return page_folio(page);
}

struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

unsigned long rust_helper_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

void rust_helper_INIT_LIST_HEAD(struct list_head *list)
{
	INIT_LIST_HEAD(list);
}

void rust_helper_list_add(struct list_head *new, struct list_head *head)
{
	list_add(new, head);
}

void rust_helper_list_add_tail(struct list_head *new, struct list_head *head)
{
	list_add_tail(new, head);
}

void rust_helper_list_del(struct list_head *entry)
{
	list_del(entry);
}

bool rust_helper_want_init_on_alloc(gfp_t flags)
{
	return want_init_on_alloc(flags);
}

bool rust_helper_want_init_on_free(void)
{
	return want_init_on_free();
}

void rust_helper_free_reserved_page(struct page *page)
{
	free_reserved_page(page);
}

/*
 * flush_tlb_all() is declared for built-in code only; the helpers are
 * built in, but bindgen reads this file as module code.
 */
void rust_helper_flush_tlb_all(void)
{
#ifndef MODULE
	flush_tlb_all();
#endif
}

void rust_helper_kmap_flush_unused(void)
{
	kmap_flush_unused();
}

unsigned long rust_helper_get_num_physpages(void)
{
	return get_num_physpages();
}

#ifdef CONFIG_MEMORY_HOTPLUG
unsigned long rust_helper_pages_per_section(void)
{
	return PAGES_PER_SECTION;
}

int rust_helper_memory_add_physaddr_to_nid(u64 start)
{
	return memory_add_physaddr_to_nid(start);
}
#endif

void *rust_helper_sysctl_zero(void)
{
	return SYSCTL_ZERO;
}

void *rust_helper_sysctl_one(void)
{
	return SYSCTL_ONE;
}
#endif /* CONFIG_XEN */
