// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <xen/page.h>

unsigned long rust_helper_gfn_to_pfn(unsigned long gfn)
{
	return gfn_to_pfn(gfn);
}

unsigned long rust_helper_pfn_to_gfn(unsigned long pfn)
{
	return pfn_to_gfn(pfn);
}

#ifdef CONFIG_XEN_HAVE_PVMMU
unsigned long rust_helper___pfn_to_mfn(unsigned long pfn)
{
	return __pfn_to_mfn(pfn);
}
#endif

int rust_helper_set_foreign_p2m_mapping(struct gnttab_map_grant_ref *map_ops,
					struct gnttab_map_grant_ref *kmap_ops,
					struct page **pages, unsigned int count)
{
	return set_foreign_p2m_mapping(map_ops, kmap_ops, pages, count);
}

int rust_helper_clear_foreign_p2m_mapping(struct gnttab_unmap_grant_ref *unmap_ops,
					  struct gnttab_unmap_grant_ref *kunmap_ops,
					  struct page **pages, unsigned int count)
{
	return clear_foreign_p2m_mapping(unmap_ops, kunmap_ops, pages, count);
}

xen_pfn_t rust_helper_page_to_xen_pfn(struct page *page)
{
	return page_to_xen_pfn(page);
}

unsigned long rust_helper_xen_page_to_gfn(struct page *page)
{
	return xen_page_to_gfn(page);
}
#endif
