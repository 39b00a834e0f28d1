// SPDX-License-Identifier: GPL-2.0

//! Delayed work items of built-in code that live for the kernel's lifetime.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)
//!
//! 6.12's [`workqueue`](crate::workqueue) module queues reference-counted items, immediately.
//! A built-in driver that retries something later (a reclaim pass a second from now) needs a
//! `struct delayed_work` in a `static` and a plain function to run: [`StaticDelayedWork`].

use crate::{bindings, time::Jiffies, types::Opaque};
use core::sync::atomic::{AtomicBool, Ordering};

/// A `static` delayed work item that runs a function on the unbound system workqueue.
///
/// # Invariants
///
/// `dwork` is initialised once `ready` is true, and never moves (it lives in a `static`).
#[repr(C)]
pub struct StaticDelayedWork {
    dwork: Opaque<bindings::delayed_work>,
    func: fn(),
    ready: AtomicBool,
}

// SAFETY: The C structure is only touched through the workqueue API, which does its own
// locking; `func` is immutable.
unsafe impl Sync for StaticDelayedWork {}

/// # Safety
///
/// Called by the workqueue with the `work_struct` of a [`StaticDelayedWork`].
unsafe extern "C" fn run(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of the `delayed_work`, which is the first field of a
    // `#[repr(C)]` `StaticDelayedWork` (only those are initialised with this function).
    let this = unsafe { &*work.cast::<StaticDelayedWork>() };
    (this.func)()
}

impl StaticDelayedWork {
    /// Describes a work item that runs `func`; [`StaticDelayedWork::init`] must run first.
    pub const fn new(func: fn()) -> Self {
        Self {
            dwork: Opaque::uninit(),
            func,
            ready: AtomicBool::new(false),
        }
    }

    /// Initialises the C structure; later calls do nothing.
    pub fn init(&'static self) {
        if self.ready.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `dwork` lives forever and nobody queues it before `ready` is set below.
        unsafe { bindings::init_delayed_work(self.dwork.get(), Some(run)) };
        // INVARIANT: initialised just above.
        self.ready.store(true, Ordering::Release);
    }

    /// Queues the work to run after `delay` jiffies, unless it is already pending.
    ///
    /// Returns whether it was queued now; `false` too before [`StaticDelayedWork::init`].
    pub fn queue(&'static self, delay: Jiffies) -> bool {
        if !self.ready.load(Ordering::Acquire) {
            return false;
        }
        // SAFETY: `dwork` is initialised (type invariant) and lives forever;
        // `system_unbound_wq` exists from early boot on.
        unsafe {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
                bindings::system_unbound_wq,
                self.dwork.get(),
                delay,
            )
        }
    }

    /// Queues the work to run after `delay` jiffies, moving it if it was already pending.
    pub fn modify(&'static self, delay: Jiffies) {
        if !self.ready.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: As in `queue`.
        unsafe {
            bindings::mod_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
                bindings::system_unbound_wq,
                self.dwork.get(),
                delay,
            )
        };
    }

    /// Runs a pending work item now and waits until no run of it is in progress.
    pub fn flush(&'static self) {
        if !self.ready.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `dwork` is initialised (type invariant) and lives forever.
        unsafe { bindings::flush_delayed_work(self.dwork.get()) };
    }
}
