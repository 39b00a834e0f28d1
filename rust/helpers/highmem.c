// SPDX-License-Identifier: GPL-2.0

#include <linux/highmem.h>

void rust_helper_clear_highpage(struct page *page)
{
	clear_highpage(page);
}
