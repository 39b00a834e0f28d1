// SPDX-License-Identifier: GPL-2.0
/*
 * A module that asks for pages without init_on_alloc zeroing. It must not
 * link: neither the mm entry point nor the balloon driver's call site is
 * exported, so modpost reports both as undefined.
 */
#include <linux/gfp.h>
#include <linux/module.h>

struct page *xen_balloon_alloc_noinit(gfp_t gfp, unsigned int order);

static int __init noinit_c_init(void)
{
	struct page *page = balloon_alloc_pages_noinit(GFP_KERNEL, 0);

	if (page)
		__free_page(page);
	page = xen_balloon_alloc_noinit(GFP_KERNEL, 0);
	if (page)
		__free_page(page);
	return 0;
}
module_init(noinit_c_init);

MODULE_DESCRIPTION("Must not link: no-zeroing allocation from a module");
MODULE_LICENSE("GPL");
