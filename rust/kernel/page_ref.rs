// SPDX-License-Identifier: GPL-2.0

//! Borrowed pages: `struct page` pointers that C code lends to Rust for a while.
//!
//! C header: [`include/linux/highmem.h`](srctree/include/linux/highmem.h)
//!
//! [`crate::page::Page`] owns the page it points to and frees it on drop. Drivers that replace C
//! code are also handed pages they do not own (a page on its way back to the hypervisor, a page
//! in a caller's array): [`PageRef`] is such a page, borrowed exclusively for a lifetime.

#![warn(clippy::undocumented_unsafe_blocks, clippy::unnecessary_safety_comment)]

use crate::bindings;
use core::{marker::PhantomData, ptr::NonNull};

/// A page lent by its owner for the lifetime `'a`.
///
/// # Invariants
///
/// `page` points to a valid `struct page` that nobody else reads, writes, frees or maps for
/// `'a`.
pub struct PageRef<'a> {
    page: NonNull<bindings::page>,
    _borrow: PhantomData<&'a mut bindings::page>,
}

impl PageRef<'_> {
    /// Borrows the page `page` points to; returns `None` for a null pointer.
    ///
    /// # Safety
    ///
    /// If `page` is not null, it must point to a valid `struct page` that the caller owns and
    /// does not let anybody else use while the returned value exists.
    pub unsafe fn from_raw(page: *mut bindings::page) -> Option<Self> {
        // INVARIANT: Non-null, valid and exclusive by the safety requirements.
        Some(Self {
            page: NonNull::new(page)?,
            _borrow: PhantomData,
        })
    }

    /// Fills the page with zeroes, mapping it first if it is a high-memory page.
    pub fn clear(&mut self) {
        // SAFETY: The page is valid and exclusively ours (type invariant), so writing all of it
        // races with nobody.
        unsafe { bindings::clear_highpage(self.page.as_ptr()) };
    }

    /// Returns the raw pointer, for abstractions that hand the page back to C.
    pub fn as_ptr(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }
}
