// SPDX-License-Identifier: GPL-2.0

//! Xenstore access: reading nodes and watching them.
//!
//! C header: [`include/xen/xenbus.h`](srctree/include/xen/xenbus.h)

use crate::{bindings, ffi::c_char, str::CStr};
use core::cell::UnsafeCell;

/// Reads `dir/node` as an unsigned decimal number.
pub fn read_u64(dir: &CStr, node: &CStr) -> Option<u64> {
    let mut value: u64 = 0;
    // SAFETY: The strings are NUL-terminated, the format converts one `unsigned long long` into
    // `value`, which lives for the call.
    let n = unsafe {
        bindings::xenbus_scanf(
            bindings::xenbus_transaction { id: 0 },
            dir.as_char_ptr(),
            node.as_char_ptr(),
            crate::c_str!("%llu").as_char_ptr(),
            &mut value as *mut u64,
        )
    };
    (n == 1).then_some(value)
}

/// A watch on a xenstore node, for a `static`.
#[repr(C)]
pub struct Watch {
    watch: UnsafeCell<bindings::xenbus_watch>,
    callback: fn(),
}

// SAFETY: Only xenbus writes the C structure (its list linkage), under its own lock, after
// `register`; the callback pointer is immutable.
unsafe impl Sync for Watch {}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn watch_trampoline(
    watch: *mut bindings::xenbus_watch,
    _path: *const c_char,
    _token: *const c_char,
) {
    // SAFETY: `watch` is the first field of a `#[repr(C)]` `Watch` (only those are registered
    // with this trampoline).
    let this = unsafe { &*watch.cast::<Watch>() };
    (this.callback)();
}

impl Watch {
    /// Describes a watch on `node` that calls `callback` (from the xenwatch thread) when the
    /// node changes, and once when the watch is registered.
    pub const fn new(node: &'static CStr, callback: fn()) -> Self {
        // SAFETY: All-zeroes is a valid `xenbus_watch`.
        let mut watch: bindings::xenbus_watch = unsafe { core::mem::zeroed() };
        watch.node = node.as_char_ptr().cast_mut();
        watch.callback = Some(watch_trampoline);
        Self {
            watch: UnsafeCell::new(watch),
            callback,
        }
    }

    /// Starts watching. Call once, when xenstore is up (see [`XenstoreNotifier`]).
    pub fn register(&'static self) -> crate::error::Result {
        // SAFETY: The watch is `'static` and registered once by the caller's contract; xenbus
        // initialises the list linkage.
        crate::error::to_result(unsafe { bindings::register_xenbus_watch(self.watch.get()) })
    }
}

/// A callback run once xenstore is available (at once if it already is), for a `static`.
#[repr(C)]
pub struct XenstoreNotifier {
    nb: UnsafeCell<bindings::notifier_block>,
    callback: fn(),
}

// SAFETY: Only the notifier chain writes the C structure, under its own lock.
unsafe impl Sync for XenstoreNotifier {}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn notifier_trampoline(
    nb: *mut bindings::notifier_block,
    _event: crate::ffi::c_ulong,
    _data: *mut crate::ffi::c_void,
) -> crate::ffi::c_int {
    // SAFETY: `nb` is the first field of a `#[repr(C)]` `XenstoreNotifier`.
    let this = unsafe { &*nb.cast::<XenstoreNotifier>() };
    (this.callback)();
    bindings::NOTIFY_DONE as crate::ffi::c_int
}

impl XenstoreNotifier {
    /// Describes a notifier calling `callback`.
    pub const fn new(callback: fn()) -> Self {
        // SAFETY: All-zeroes is a valid `notifier_block`.
        let mut nb: bindings::notifier_block = unsafe { core::mem::zeroed() };
        nb.notifier_call = Some(notifier_trampoline);
        Self {
            nb: UnsafeCell::new(nb),
            callback,
        }
    }

    /// Registers the notifier; call once.
    pub fn register(&'static self) {
        // SAFETY: `'static`, registered once by the caller's contract.
        unsafe { bindings::register_xenstore_notifier(self.nb.get()) };
    }
}
