// SPDX-License-Identifier: GPL-2.0

#include <linux/completion.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/xen.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>
#ifdef CONFIG_X86
#include <asm/xen/cpuid.h>
#endif

unsigned long rust_helper_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void rust_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

void rust_helper_init_delayed_work(struct delayed_work *dwork, work_func_t func)
{
	INIT_DELAYED_WORK(dwork, func);
}

void rust_helper_init_completion(struct completion *x)
{
	init_completion(x);
}

int rust_helper_HYPERVISOR_grant_table_op(unsigned int cmd, void *uop,
					  unsigned int count)
{
	return HYPERVISOR_grant_table_op(cmd, uop, count);
}

int rust_helper_HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
	return HYPERVISOR_memory_op(cmd, arg);
}

/* Machine address width the hypervisor reports to a PV guest, 0 if unknown. */
unsigned int rust_helper_xen_pv_machine_address_width(void)
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

int rust_helper_page_count(struct page *page)
{
	return page_count(page);
}

void rust_helper_get_page(struct page *page)
{
	get_page(page);
}

void rust_helper_put_page(struct page *page)
{
	put_page(page);
}

unsigned long rust_helper_gfn_to_pfn(unsigned long gfn)
{
	return gfn_to_pfn(gfn);
}

unsigned long rust_helper_pfn_to_gfn(unsigned long pfn)
{
	return pfn_to_gfn(pfn);
}

void rust_helper_xen_page_set_foreign(struct page *page, domid_t domid,
				      grant_ref_t gref)
{
	struct xen_page_foreign *foreign;

	SetPageForeign(page);
	foreign = xen_page_foreign(page);
	foreign->domid = domid;
	foreign->gref = gref;
}

void rust_helper_xen_page_clear_foreign(struct page *page)
{
	ClearPageForeign(page);
}

int rust_helper_xen_set_foreign_p2m_mapping(struct gnttab_map_grant_ref *map_ops,
					    struct gnttab_map_grant_ref *kmap_ops,
					    struct page **pages, unsigned int count)
{
	return set_foreign_p2m_mapping(map_ops, kmap_ops, pages, count);
}

int rust_helper_xen_clear_foreign_p2m_mapping(struct gnttab_unmap_grant_ref *unmap_ops,
					      struct gnttab_unmap_grant_ref *kunmap_ops,
					      struct page **pages, unsigned int count)
{
	return clear_foreign_p2m_mapping(unmap_ops, kunmap_ops, pages, count);
}

int rust_helper_xen_unpopulated_alloc(unsigned int nr_pages,
				      struct page **pages)
{
	return xen_alloc_unpopulated_pages(nr_pages, pages);
}

void rust_helper_xen_unpopulated_free(unsigned int nr_pages,
				      struct page **pages)
{
	xen_free_unpopulated_pages(nr_pages, pages);
}

bool rust_helper_xen_hvm_domain(void)
{
	return xen_hvm_domain();
}

bool rust_helper_xen_pvh_domain(void)
{
	return xen_pvh_domain();
}

void *rust_helper_page_zone_device_data(struct page *page)
{
	return page->zone_device_data;
}

void rust_helper_page_set_zone_device_data(struct page *page, void *data)
{
	page->zone_device_data = data;
}

unsigned long rust_helper_xen_max_possible_pfn(void)
{
	return max_possible_pfn;
}
