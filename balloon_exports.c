// SPDX-License-Identifier: GPL-2.0
/*
 * Module exports of the Rust balloon driver (balloon.rs), with the same
 * names and licences as drivers/xen/balloon.c and xen-balloon.c export
 * them, so modular users (gntdev, privcmd, ...) keep working.
 */

#include <linux/export.h>
#include <xen/balloon.h>

EXPORT_SYMBOL_GPL(balloon_stats);
EXPORT_SYMBOL_GPL(balloon_set_new_target);
EXPORT_SYMBOL(xen_alloc_ballooned_pages);
EXPORT_SYMBOL(xen_free_ballooned_pages);
EXPORT_SYMBOL_GPL(xen_balloon_init);
