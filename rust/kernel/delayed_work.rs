// SPDX-License-Identifier: GPL-2.0

//! Delayed work items of built-in code that live for the kernel's lifetime.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)
//!
//! 6.12's [`workqueue`](crate::workqueue) module queues reference-counted items, immediately.
//! A built-in driver that retries something later (a reclaim pass a second from now) needs a
//! `struct delayed_work` in a `static` and a plain function to run: [`StaticDelayedWork`].

use crate::{bindings, global::BuiltIn, time::Jiffies, types::Opaque};
use core::sync::atomic::{AtomicU8, Ordering};

/// `init` has not started.
const UNINIT: u8 = 0;
/// One `init` call is initialising `dwork`.
const INITIALISING: u8 = 1;
/// `dwork` is initialised.
const READY: u8 = 2;

/// A `static` delayed work item that runs a function on the unbound system workqueue.
///
/// Nothing cancels it when its code goes away, so only built-in code may initialise one (see
/// [`BuiltIn`]); until then it cannot be queued.
///
/// # Invariants
///
/// `dwork` is initialised once `state` is `READY` and never moves (it is only used through
/// `&'static self`). Only the call of [`StaticDelayedWork::init`] that moved `state` from
/// `UNINIT` to `INITIALISING` initialises `dwork`, and nothing else touches it before `state` is
/// `READY`.
#[repr(C)]
pub struct StaticDelayedWork {
    dwork: Opaque<bindings::delayed_work>,
    func: fn(),
    state: AtomicU8,
}

// SAFETY: The C structure is initialised by one `init` call only, before `state` becomes `READY`
// (type invariant); afterwards it is only touched through the workqueue API, which does its own
// locking. `func` is immutable.
unsafe impl Sync for StaticDelayedWork {}

/// # Safety
///
/// Called by the workqueue with the `work_struct` of a [`StaticDelayedWork`].
unsafe extern "C" fn run(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of the `delayed_work`, which is the first field of a
    // `#[repr(C)]` `StaticDelayedWork` (only those are initialised with this function), and
    // that `StaticDelayedWork` is `'static`.
    let this = unsafe { &*work.cast::<StaticDelayedWork>() };
    (this.func)()
}

impl StaticDelayedWork {
    /// Describes a work item that runs `func`; [`StaticDelayedWork::init`] must run first.
    pub const fn new(func: fn()) -> Self {
        // INVARIANT: `state` is `UNINIT`, so nothing is claimed about `dwork` yet.
        Self {
            dwork: Opaque::uninit(),
            func,
            state: AtomicU8::new(UNINIT),
        }
    }

    /// Initialises the C structure; later calls do nothing.
    ///
    /// When this returns, the work item is initialised: a call racing with the first one waits
    /// (spinning) until that one has finished.
    pub fn init(&'static self, _built_in: BuiltIn) {
        match self.state.compare_exchange(
            UNINIT,
            INITIALISING,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                // SAFETY: `dwork` lives forever and never moves (`&'static self`), and neither it
                // nor `func` is ever freed (`BuiltIn`: the caller is built into the kernel). This
                // call moved `state` from `UNINIT` to `INITIALISING`, so it is the only one that
                // initialises `dwork`, and by the type invariant nothing else touches `dwork`
                // before `state` is `READY`, which happens only below.
                unsafe { bindings::init_delayed_work(self.dwork.get(), Some(run)) };
                // INVARIANT: `dwork` was initialised just above; `Release` publishes that to
                // whoever sees `READY` with `Acquire`.
                self.state.store(READY, Ordering::Release);
            }
            Err(_) => {
                while self.state.load(Ordering::Acquire) != READY {
                    core::hint::spin_loop();
                }
            }
        }
    }

    /// Whether [`StaticDelayedWork::init`] has finished, so `dwork` is initialised.
    fn ready(&self) -> bool {
        self.state.load(Ordering::Acquire) == READY
    }

    /// Queues the work to run after `delay` jiffies, unless it is already pending.
    ///
    /// Returns whether it was queued now; `false` too before [`StaticDelayedWork::init`].
    pub fn queue(&'static self, delay: Jiffies) -> bool {
        if !self.ready() {
            return false;
        }
        // SAFETY: `dwork` is initialised (it is `READY`, type invariant) and lives forever;
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
    ///
    /// Does nothing before [`StaticDelayedWork::init`].
    pub fn modify(&'static self, delay: Jiffies) {
        if !self.ready() {
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
    ///
    /// Does nothing before [`StaticDelayedWork::init`]. May sleep.
    pub fn flush(&'static self) {
        if !self.ready() {
            return;
        }
        // SAFETY: `dwork` is initialised (it is `READY`, type invariant) and lives forever.
        unsafe { bindings::flush_delayed_work(self.dwork.get()) };
    }
}
