// SPDX-License-Identifier: GPL-2.0

#include <linux/mm.h>

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

struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

unsigned long rust_helper_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

void *rust_helper_lowmem_page_address(const struct page *page)
{
	return lowmem_page_address(page);
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

unsigned long rust_helper_get_num_physpages(void)
{
	return get_num_physpages();
}

void rust_helper_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

bool rust_helper_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}
