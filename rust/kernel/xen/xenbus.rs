// SPDX-License-Identifier: GPL-2.0

//! Xenstore access: reading nodes and watching them.
//!
//! C header: [`include/xen/xenbus.h`](srctree/include/xen/xenbus.h)

use crate::{
    bindings,
    error::{code::EBUSY, to_result, Result},
    ffi::c_char,
    global::BuiltIn,
    str::CStr,
};
use core::{
    cell::UnsafeCell,
    sync::atomic::{AtomicBool, Ordering},
};

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

/// A watch on a xenstore node, for a `static` of built-in code.
///
/// A registered watch is never unregistered, so only built-in code may register one (see
/// [`BuiltIn`]).
///
/// # Invariants
///
/// `watch` has `watch_trampoline` as its callback and a `'static` node name; it has been handed
/// to xenbus at most once, and only by the call of [`Watch::register`] that set `registered`.
#[repr(C)]
pub struct Watch {
    watch: UnsafeCell<bindings::xenbus_watch>,
    callback: fn(),
    registered: AtomicBool,
}

// SAFETY: Only xenbus writes the C structure (its list linkage and counters), under its own
// locks, after `register` handed it over; `registered` is atomic and the callback pointer is
// immutable.
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
    // with this trampoline), which is `'static`.
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
        // INVARIANT: The callback is `watch_trampoline`, `node` is `'static` and `registered` is
        // false: the watch has not been handed to xenbus.
        Self {
            watch: UnsafeCell::new(watch),
            callback,
            registered: AtomicBool::new(false),
        }
    }

    /// Starts watching, when xenstore is up (see [`XenstoreNotifier`]).
    ///
    /// Only the first call registers the watch; later calls fail with `EBUSY`, even if the first
    /// one failed. May sleep.
    pub fn register(&'static self, _built_in: BuiltIn) -> Result {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // INVARIANT: This is the call that set `registered`, so the watch is handed to xenbus
        // once.
        // SAFETY: The watch is `'static`, and its code and memory are never freed (`BuiltIn`: the
        // caller is built into the kernel). It never moves, and by the type invariant it is not on
        // the xenbus watch list: it has never been registered before (only the call that set
        // `registered` gets here). Its callback is `watch_trampoline` and its node name lives
        // forever. xenbus initialises the list linkage.
        to_result(unsafe { bindings::register_xenbus_watch(self.watch.get()) })
    }
}

/// A callback run once xenstore is available (at once if it already is), for a `static` of
/// built-in code.
///
/// A registered notifier is never unregistered, so only built-in code may register one (see
/// [`BuiltIn`]).
///
/// # Invariants
///
/// `nb` has `notifier_trampoline` as its callback; it has been handed to xenbus at most once, and
/// only by the call of [`XenstoreNotifier::register`] that set `registered`.
#[repr(C)]
pub struct XenstoreNotifier {
    nb: UnsafeCell<bindings::notifier_block>,
    callback: fn(),
    registered: AtomicBool,
}

// SAFETY: Only the notifier chain writes the C structure, under its own lock, after `register`
// handed it over; `registered` is atomic and the callback pointer is immutable.
unsafe impl Sync for XenstoreNotifier {}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn notifier_trampoline(
    nb: *mut bindings::notifier_block,
    _event: crate::ffi::c_ulong,
    _data: *mut crate::ffi::c_void,
) -> crate::ffi::c_int {
    // SAFETY: `nb` is the first field of a `#[repr(C)]` `XenstoreNotifier` (only those are
    // registered with this trampoline), which is `'static`.
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
        // INVARIANT: The callback is `notifier_trampoline` and `registered` is false: the
        // notifier has not been handed to xenbus.
        Self {
            nb: UnsafeCell::new(nb),
            callback,
            registered: AtomicBool::new(false),
        }
    }

    /// Registers the notifier; only the first call does, later calls do nothing.
    ///
    /// If xenstore is already up, the callback runs at once, from this call. May sleep.
    pub fn register(&'static self, _built_in: BuiltIn) {
        if self.registered.swap(true, Ordering::AcqRel) {
            return;
        }
        // INVARIANT: This is the call that set `registered`, so the notifier is handed to xenbus
        // once.
        // SAFETY: The notifier block is `'static` and never moves, and neither it nor its callback
        // is ever freed (`BuiltIn`: the caller is built into the kernel). By the type invariant
        // it has never been registered (only the call that set `registered` gets here), so it is
        // not on the xenstore notifier chain yet. Its callback is `notifier_trampoline`, which
        // expects the block of a `XenstoreNotifier`.
        unsafe { bindings::register_xenstore_notifier(self.nb.get()) };
    }
}
