// SPDX-License-Identifier: GPL-2.0

//! Kernel threads.
//!
//! C header: [`include/linux/kthread.h`](srctree/include/linux/kthread.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{from_err_ptr, Result},
    ffi::{c_int, c_void},
    str::CStr,
};

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn trampoline<F: FnOnce() + Send + 'static>(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `KBox<Option<F>>` leaked by `run`, handed to this thread only.
    let mut f = unsafe { KBox::from_raw(arg.cast::<Option<F>>()) };
    if let Some(f) = f.take() {
        f();
    }
    0
}

/// Starts a kernel thread called `name` that runs `f`.
pub fn run<F: FnOnce() + Send + 'static>(name: &'static CStr, f: F) -> Result {
    let raw = KBox::into_raw(KBox::new(Some(f), GFP_KERNEL)?);
    // SAFETY: The trampoline matches the thread function type and takes ownership of `raw`;
    // the format is a plain `%s` for the NUL-terminated `name`.
    let task = unsafe {
        bindings::kthread_create_on_node(
            Some(trampoline::<F>),
            raw.cast(),
            bindings::NUMA_NO_NODE,
            crate::c_str!("%s").as_char_ptr(),
            name.as_char_ptr(),
        )
    };
    match from_err_ptr(task) {
        Ok(task) => {
            // SAFETY: `task` is a freshly created thread that has not run yet.
            unsafe { bindings::wake_up_process(task) };
            Ok(())
        }
        Err(e) => {
            // SAFETY: The thread was not created, so `raw` is still ours.
            drop(unsafe { KBox::from_raw(raw) });
            Err(e)
        }
    }
}

/// Whether somebody asked the current kernel thread to stop.
pub fn should_stop() -> bool {
    // SAFETY: No preconditions (false outside kernel threads).
    unsafe { bindings::kthread_should_stop() }
}

/// Lets the freezer freeze the current kernel thread (see [`try_to_freeze`]).
pub fn set_freezable() {
    // SAFETY: Only changes the current task's flags.
    unsafe { bindings::set_freezable() };
}

/// Enters the refrigerator if the system is being frozen; returns whether it did.
pub fn try_to_freeze() -> bool {
    // SAFETY: Called from process context by a thread that may sleep.
    unsafe { bindings::try_to_freeze() }
}

/// Gives the CPU to other tasks if they need it (`cond_resched()`).
pub fn cond_resched() {
    // SAFETY: Called from process context (all Rust callers of this may sleep).
    unsafe { bindings::cond_resched() };
}

/// Sleeps for `timeout` jiffies or until a signal or wake-up arrives; returns what is left.
pub fn sleep_interruptible(timeout: crate::time::Jiffies) -> crate::time::Jiffies {
    // SAFETY: Called from process context.
    unsafe { bindings::schedule_timeout_interruptible(timeout as _) as _ }
}

/// The current time in jiffies.
pub fn jiffies() -> crate::time::Jiffies {
    // SAFETY: `jiffies` is a word updated by the timer interrupt; a volatile read is what C's
    // READ_ONCE() does.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies)) as _ }
}

/// Whether the current task has `CAP_SYS_ADMIN` (and records its use, as `capable()` does).
pub fn capable_sys_admin() -> bool {
    // SAFETY: No preconditions.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as _) }
}

/// Sleeps for at least `ms` milliseconds (`msleep()`).
pub fn msleep(ms: u32) {
    // SAFETY: Called from process context (all Rust callers of this may sleep).
    unsafe { bindings::msleep(ms) };
}
