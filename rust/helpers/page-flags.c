// SPDX-License-Identifier: GPL-2.0

#include <linux/mm.h>
#include <linux/page-flags.h>

struct folio *rust_helper_page_folio(struct page *page)
{
	return page_folio(page);
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
