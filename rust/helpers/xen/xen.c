// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <xen/xen.h>

bool rust_helper_xen_domain(void)
{
	return xen_domain();
}

bool rust_helper_xen_pv_domain(void)
{
	return xen_pv_domain();
}

bool rust_helper_xen_hvm_domain(void)
{
	return xen_hvm_domain();
}

bool rust_helper_xen_pvh_domain(void)
{
	return xen_pvh_domain();
}

bool rust_helper_xen_initial_domain(void)
{
	return xen_initial_domain();
}

int rust_helper_xen_alloc_unpopulated_pages(unsigned int nr_pages,
					    struct page **pages)
{
	return xen_alloc_unpopulated_pages(nr_pages, pages);
}

void rust_helper_xen_free_unpopulated_pages(unsigned int nr_pages,
					    struct page **pages)
{
	xen_free_unpopulated_pages(nr_pages, pages);
}
#endif
