/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points defined in balloon.rs (kernel::export_balloon_api!), called
 * by balloon_exports.c.
 */
#ifndef _XEN_RUST_BALLOON_RUST_H
#define _XEN_RUST_BALLOON_RUST_H

struct page;

void rust_balloon_set_new_target(unsigned long target);
int rust_xen_alloc_ballooned_pages(unsigned int nr_pages, struct page **pages);
void rust_xen_free_ballooned_pages(unsigned int nr_pages, struct page **pages);
void rust_xen_balloon_init(void);

#endif /* _XEN_RUST_BALLOON_RUST_H */
