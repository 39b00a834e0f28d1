// SPDX-License-Identifier: GPL-2.0

//! A Rust module that asks for pages without `init_on_alloc` zeroing. It must not link: the
//! kernel crate has no way to it, and the binding bindgen generates for the mm entry point
//! names a symbol that is not exported, so modpost reports it as undefined.

use kernel::prelude::*;

module! {
    type: NoinitRust,
    name: "noinit_rust",
    license: "GPL",
}

struct NoinitRust;

impl kernel::Module for NoinitRust {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Deliberately out of bounds of what a module may do: this module exists to
        // show that it cannot be linked.
        let page = unsafe {
            kernel::bindings::balloon_alloc_pages_noinit_noprof(kernel::bindings::GFP_KERNEL, 0)
        };
        if !page.is_null() {
            // SAFETY: A page just allocated, order 0.
            unsafe { kernel::bindings::__free_pages(page, 0) };
        }
        Ok(NoinitRust)
    }
}
