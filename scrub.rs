// SPDX-License-Identifier: GPL-2.0

//! The `xen_scrub_pages` switch and the operation that scrubs a page.
//!
//! A guest hands pages back to Xen when it balloons down and when it frees grant pages. Those
//! pages may hold secrets, and Xen gives them to other domains, so by default they are cleared
//! first. Clearing costs time, most of all when a guest booted with less memory than its
//! maximum balloons down for the first time: Qubes OS boots its VMs with `xen_scrub_pages=0`
//! and turns scrubbing on from the initramfs (through
//! `/sys/devices/system/xen_memory/xen_memory0/scrub_pages`) before any secret exists.
//!
//! This file replaces the switch defined in `drivers/xen/mem-reservation.c` and the inline
//! `xenmem_reservation_scrub_page()` of `include/xen/mem-reservation.h`. The C callers (the
//! balloon driver, the grant table, the sysfs file) are unchanged: they name the switch as
//! `extern bool xen_scrub_pages` and call `xenmem_reservation_scrub_page()`.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::page_ref::PageRef;

kernel::core_param_bool! {
    /// Whether pages are cleared before they are handed back to Xen.
    ///
    /// Set with `xen_scrub_pages=<bool>` on the kernel command line; the default is
    /// `CONFIG_XEN_SCRUB_PAGES_DEFAULT`.
    xen_scrub_pages = cfg!(CONFIG_XEN_SCRUB_PAGES_DEFAULT);
}

/// Pages cleared since boot, read by the balloon's `stats/scrubbed` (C name
/// `xenmem_scrubbed_pages`, an `unsigned long`).
#[no_mangle]
pub static xenmem_scrubbed_pages: AtomicUsize = AtomicUsize::new(0);

/// Clears `page` if scrubbing is on.
pub fn scrub_page(page: &mut PageRef<'_>) {
    if xen_scrub_pages.get() {
        page.clear();
        xenmem_scrubbed_pages.fetch_add(1, Ordering::Relaxed);
    }
}

/// Clears a page about to be handed back to Xen if `xen_scrub_pages` is on
/// (`xenmem_reservation_scrub_page()` of `include/xen/mem-reservation.h`, for built-in C code).
///
/// # Safety
///
/// `page` must be null or point to a valid page that the caller owns and lets nobody else use
/// for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn xenmem_reservation_scrub_page(page: *mut kernel::bindings::page) {
    // SAFETY: By this function's safety requirements: a page the caller owns exclusively for
    // the call, which outlives the borrow.
    if let Some(mut page) = unsafe { PageRef::from_raw(page) } {
        scrub_page(&mut page);
    }
}
