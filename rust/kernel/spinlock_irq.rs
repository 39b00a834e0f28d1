// SPDX-License-Identifier: GPL-2.0

//! A spinlock that keeps local interrupts off while it is held.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)
//!
//! Data that interrupt handlers and softirqs also take (the free list of grant references that
//! network drivers use from their receive path, for example) needs `spin_lock_irqsave()`:
//! taking a plain spinlock in process context and again from an interrupt on the same CPU
//! deadlocks. 6.12's [`SpinLock`](crate::sync::SpinLock) only offers `spin_lock()`;
//! [`SpinLockIrq`] is the same C lock, taken with `spin_lock_irqsave()`. The guard keeps the
//! saved interrupt state and restores it with `spin_unlock_irqrestore()` when dropped.

use crate::{
    bindings,
    ffi::{c_char, c_ulong},
    sync::lock::{Backend, Lock},
};

/// A spinlock taken with local interrupts disabled.
///
/// # Examples
///
/// ```
/// use kernel::{new_spinlock_irq, prelude::*, spinlock_irq::SpinLockIrq};
///
/// let lock = KBox::pin_init(new_spinlock_irq!(0u32), GFP_KERNEL)?;
/// *lock.lock() += 1;
/// assert_eq!(*lock.lock(), 1);
/// # Ok::<(), Error>(())
/// ```
pub type SpinLockIrq<T> = Lock<T, SpinLockIrqBackend>;

/// Creates a [`SpinLockIrq`] initialiser with the given name and a new lock class.
#[macro_export]
macro_rules! new_spinlock_irq {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::spinlock_irq::SpinLockIrq::new(
            $inner,
            $crate::optional_name!($($name)?),
            $crate::static_lock_class!(),
        )
    };
}

/// The [`Backend`] of [`SpinLockIrq`]: the guard state is the saved interrupt flags.
pub struct SpinLockIrqBackend;

// SAFETY: `lock` takes the C spinlock with `spin_lock_irqsave()`, so only one guard exists at
// a time, and `unlock` releases it with the flags that same `lock` call returned (the guard
// keeps them). `relock` (the default) stores the flags of the new `lock` in the guard.
unsafe impl Backend for SpinLockIrqBackend {
    type State = bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(ptr: *mut Self::State, name: *const c_char, key: *mut bindings::lock_class_key) {
        // SAFETY: The safety requirements of `Backend::init` make `ptr` valid for writes, and
        // `name` and `key` valid for the lifetime of the lock.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The safety requirements of `Backend::lock` make `ptr` a valid, initialised
        // spinlock.
        unsafe { bindings::spin_lock_irqsave(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of `Backend::unlock` say the caller holds the lock;
        // `guard_state` holds the flags its `lock` saved.
        unsafe { bindings::spin_unlock_irqrestore(ptr, *guard_state) }
    }
}
