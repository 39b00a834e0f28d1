// SPDX-License-Identifier: GPL-2.0
/*
 * The C interface of the Rust balloon driver (balloon.rs): the statistics
 * and functions that include/xen/balloon.h declares, with the names and
 * export licences of drivers/xen/balloon.c and xen-balloon.c, so that
 * gntdev, privcmd, the grant table and unpopulated-alloc build and load
 * unchanged. Each function calls its rust_ twin from balloon.rs.
 */

#include <linux/export.h>
#include <linux/mm_types.h>
#include <xen/balloon.h>

#include "balloon_rust.h"

struct balloon_stats balloon_stats;
EXPORT_SYMBOL_GPL(balloon_stats);

void balloon_set_new_target(unsigned long target)
{
	rust_balloon_set_new_target(target);
}
EXPORT_SYMBOL_GPL(balloon_set_new_target);

int xen_alloc_ballooned_pages(unsigned int nr_pages, struct page **pages)
{
	return rust_xen_alloc_ballooned_pages(nr_pages, pages);
}
EXPORT_SYMBOL(xen_alloc_ballooned_pages);

void xen_free_ballooned_pages(unsigned int nr_pages, struct page **pages)
{
	rust_xen_free_ballooned_pages(nr_pages, pages);
}
EXPORT_SYMBOL(xen_free_ballooned_pages);

void xen_balloon_init(void)
{
	rust_xen_balloon_init();
}
EXPORT_SYMBOL_GPL(xen_balloon_init);
