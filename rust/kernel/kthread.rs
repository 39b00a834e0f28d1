// SPDX-License-Identifier: GPL-2.0

//! Kernel threads.
//!
//! C header: [`include/linux/kthread.h`](srctree/include/linux/kthread.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{from_err_ptr, Result},
    ffi::{c_int, c_void},
    global::BuiltIn,
    str::CStr,
    task::Task,
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
///
/// Nothing stops the thread from the outside, so only built-in code, whose code is never freed,
/// may start one (see [`BuiltIn`]).
pub fn run<F: FnOnce() + Send + 'static>(name: &'static CStr, f: F, _built_in: BuiltIn) -> Result {
    let raw = KBox::into_raw(KBox::new(Some(f), GFP_KERNEL)?);
    // SAFETY: The trampoline matches the thread function type and takes ownership of `raw`;
    // the format is a plain `%s` for the NUL-terminated `name`. The thread may run for the rest
    // of the kernel's life: the trampoline, `f`'s code and `name` are never freed (`BuiltIn`: the
    // caller is built into the kernel, and so is this crate).
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
///
/// Returns `false` if the current task is not a kernel thread (for example a user task or an
/// io_uring worker), so it may be called from any context.
pub fn should_stop() -> bool {
    // SAFETY: The task reference is dropped at the end of this function, while the current task
    // still runs.
    let current = unsafe { Task::current() };
    let task: &Task = &current;
    let ptr = task.0.get();
    // SAFETY: `ptr` points to a valid task (type invariant of `Task`). `flags` and
    // `worker_private` are plain fields of it; a volatile read, as C's `READ_ONCE()`, copes with
    // other contexts (interrupts, softirqs) changing `flags` meanwhile.
    let (flags, kthread) = unsafe {
        (
            core::ptr::read_volatile(core::ptr::addr_of!((*ptr).flags)),
            core::ptr::read_volatile(core::ptr::addr_of!((*ptr).worker_private)),
        )
    };
    // `kthread_should_stop()` uses `to_kthread(current)`, which is only valid for kernel threads;
    // like `__to_kthread()` in `kernel/kthread.c`, require both `PF_KTHREAD` and the
    // `struct kthread` pointer (io_uring workers have `worker_private` set too, to something
    // else, but not `PF_KTHREAD`).
    if flags & bindings::PF_KTHREAD == 0 || kthread.is_null() {
        return false;
    }
    // SAFETY: The current task is a kernel thread (`PF_KTHREAD`, which only fork sets, is set)
    // with a non-null `worker_private`, so `to_kthread(current)` is its `struct kthread`, which
    // lives until the task is freed; `kthread_should_stop()` only tests a bit in it.
    unsafe { bindings::kthread_should_stop() }
}

/// Lets the freezer freeze the current kernel thread (see [`try_to_freeze`]).
///
/// May sleep: it enters the refrigerator at once if the system is being frozen. Call it with
/// interrupts enabled: it enables them.
pub fn set_freezable() {
    // SAFETY: `set_freezable()` has no preconditions: it only clears `PF_NOFREEZE` of the current
    // task, under the freezer's lock, and then calls `try_to_freeze()`, which may sleep. Sleeping
    // in atomic context is a bug (`might_sleep()` reports it), and so is calling it with
    // interrupts disabled (its `spin_unlock_irq()` enables them, which can deadlock a lock taken
    // with interrupts off), but neither is undefined behaviour.
    unsafe { bindings::set_freezable() };
}

/// Enters the refrigerator if the system is being frozen; returns whether it did.
///
/// May sleep; must not be called in atomic context.
pub fn try_to_freeze() -> bool {
    // SAFETY: `try_to_freeze()` has no preconditions: it only acts on the current task. It may
    // sleep, and sleeping in atomic context is a bug (`might_sleep()` reports it), not
    // undefined behaviour.
    unsafe { bindings::try_to_freeze() }
}

/// Gives the CPU to other tasks if they need it (`cond_resched()`).
///
/// May sleep; in atomic context it does nothing.
pub fn cond_resched() {
    // SAFETY: `cond_resched()` has no preconditions: it only reschedules when preemption is
    // possible (the preemption count is zero), and sleeping is not undefined behaviour anyway.
    unsafe { bindings::cond_resched() };
}

/// Sleeps for `timeout` jiffies or until a signal or wake-up arrives; returns what is left.
///
/// May sleep; must not be called in atomic context. A `timeout` above `MAX_SCHEDULE_TIMEOUT`
/// returns at once, with a warning.
pub fn sleep_interruptible(timeout: crate::time::Jiffies) -> crate::time::Jiffies {
    // SAFETY: `schedule_timeout_interruptible()` only changes the current task's state and
    // sleeps; it takes any value (out-of-range ones are reported and return at once). Sleeping
    // in atomic context is a bug (`might_sleep()` reports it), not undefined behaviour.
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
///
/// May sleep; must not be called in atomic context.
pub fn msleep(ms: u32) {
    // SAFETY: `msleep()` takes any value and only puts the current task to sleep. Sleeping in
    // atomic context is a bug (`might_sleep()` reports it), not undefined behaviour.
    unsafe { bindings::msleep(ms) };
}
