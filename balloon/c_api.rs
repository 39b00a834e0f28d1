// SPDX-License-Identifier: GPL-2.0

//! The C interface of the balloon: the functions of `include/xen/balloon.h`.
//!
//! C header: [`include/xen/balloon.h`](srctree/include/xen/balloon.h)
//!
//! Each function is defined once, here, under its C name; `balloon_exports.c` only exports
//! them (with the licences of `drivers/xen/balloon.c`), so that gntdev, privcmd, the grant
//! table and unpopulated-alloc build and load unchanged. The pointers C passes are turned into
//! [`PagesOut`] and [`PagesIn`] here and nowhere else.

use crate::pages::BalloonPage;
use core::ptr;
use kernel::{
    bindings,
    ffi::{c_int, c_uint, c_ulong},
};

/// Where `xen_alloc_ballooned_pages()` puts the pages it hands out.
///
/// # Invariants
///
/// `pages` is writable for `len` entries while the value lives; the first `filled` entries
/// hold pages handed to the caller.
pub(crate) struct PagesOut {
    pages: *mut *mut bindings::page,
    len: usize,
    filled: usize,
}

impl PagesOut {
    /// # Safety
    ///
    /// `pages` must be writable for `len` entries for the lifetime of the value.
    unsafe fn new(pages: *mut *mut bindings::page, len: usize) -> Self {
        // INVARIANT: By the safety requirements; nothing is filled yet.
        Self {
            pages,
            len,
            filled: 0,
        }
    }

    /// How many pages are still wanted.
    pub(crate) fn wanted(&self) -> usize {
        self.len - self.filled
    }

    /// Hands a page to the caller; gives it back if the caller's array is full.
    pub(crate) fn push(&mut self, page: BalloonPage) -> Result<(), BalloonPage> {
        if self.filled == self.len {
            return Err(page);
        }
        // SAFETY: `filled < len`: inside the caller's array (type invariant).
        unsafe { *self.pages.add(self.filled) = page.into_raw() };
        // INVARIANT: The entry now holds a page handed out.
        self.filled += 1;
        Ok(())
    }

    /// Takes back the last page handed out, to undo a failed request.
    pub(crate) fn pop(&mut self) -> Option<BalloonPage> {
        if self.filled == 0 {
            return None;
        }
        // INVARIANT: The entry is cleared and its page taken back below.
        self.filled -= 1;
        // SAFETY: Inside the caller's array, and the entry holds a page `push` handed out
        // (type invariant): its ownership comes back.
        unsafe { BalloonPage::from_raw(ptr::replace(self.pages.add(self.filled), ptr::null_mut())) }
    }
}

/// The pages given back through `xen_free_ballooned_pages()`.
///
/// # Invariants
///
/// `pages` is readable for `len` entries, each null or a page of the balloon given back.
pub(crate) struct PagesIn {
    pages: *mut *mut bindings::page,
    len: usize,
}

impl PagesIn {
    /// The number of entries (the count the caller passed).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Takes the pages, skipping null entries.
    pub(crate) fn take(self, mut f: impl FnMut(BalloonPage)) {
        for i in 0..self.len {
            // SAFETY: Within the caller's array (type invariant).
            let raw = unsafe { *self.pages.add(i) };
            // SAFETY: Null or a page given back to the balloon (type invariant), taken once:
            // `self` is consumed.
            if let Some(page) = unsafe { BalloonPage::from_raw(raw) } {
                f(page);
            }
        }
    }
}

/// Hands out `nr_pages` pages without memory behind them.
///
/// Returns 0, or a negative error code with no page handed out.
///
/// # Safety
///
/// `pages` must be writable for `nr_pages` entries.
#[no_mangle]
pub unsafe extern "C" fn xen_alloc_ballooned_pages(
    nr_pages: c_uint,
    pages: *mut *mut bindings::page,
) -> c_int {
    // SAFETY: By this function's safety requirements.
    let mut out = unsafe { PagesOut::new(pages, nr_pages as usize) };
    match crate::alloc_ballooned(&mut out) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Takes back pages from [`xen_alloc_ballooned_pages`].
///
/// # Safety
///
/// `pages` must hold `nr_pages` entries, each null or a page the caller got from
/// `xen_alloc_ballooned_pages()` and no longer uses, given back once.
#[no_mangle]
pub unsafe extern "C" fn xen_free_ballooned_pages(
    nr_pages: c_uint,
    pages: *mut *mut bindings::page,
) {
    // INVARIANT: By this function's safety requirements.
    crate::free_ballooned(PagesIn {
        pages,
        len: nr_pages as usize,
    })
}

/// Sets the balloon target, in pages.
#[no_mangle]
pub extern "C" fn balloon_set_new_target(target: c_ulong) {
    crate::set_target(target as u64)
}

/// Registers the `xen_memory` sysfs device and the xenstore target watch; once.
#[no_mangle]
pub extern "C" fn xen_balloon_init() {
    crate::sysfs_init()
}
