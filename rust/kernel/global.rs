// SPDX-License-Identifier: GPL-2.0

//! Objects that are created once, while the kernel boots, and never freed.
//!
//! Built-in drivers that implement functions other C code calls (exported symbols, callbacks
//! registered with C subsystems) need their state reachable from a `static`. [`Global`] holds a
//! pinned, heap-allocated object that is initialised once and then lives for the rest of the
//! kernel's life, so shared references to it are `'static`.
//!
//! Handing C a `static` or a function for the rest of the kernel's life, with no way to take it
//! back (a xenstore watch, a system device, a kernel thread), is only sound for code that is never
//! unloaded: in a loadable module, `'static` lasts until `rmmod`. Functions that do so take a
//! [`BuiltIn`], which [`built_in!`](crate::built_in) gives to built-in code only.

use crate::{
    alloc::{Flags, KBox},
    error::{code::EBUSY, Error, Result},
    init::{InPlaceInit, PinInit},
};
use core::{
    pin::Pin,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};

/// A `'static` slot for one object, set once.
///
/// # Examples
///
/// ```
/// use kernel::{global::Global, prelude::*};
///
/// static EMPTY: Global<u32> = Global::new();
/// assert!(EMPTY.get().is_none());
/// ```
///
/// # Invariants
///
/// `ptr` is null or points to a valid, pinned `T` that is never freed nor moved.
pub struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Sync + 'static> Global<T> {
    /// Creates an empty slot.
    pub const fn new() -> Self {
        // INVARIANT: `ptr` is null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Allocates and initialises the object; fails with `EBUSY` if it already exists.
    ///
    /// The object is never dropped, so whatever it holds (a registration with C, say) is kept
    /// for good: only built-in code may create one (see [`BuiltIn`]).
    pub fn init(
        &self,
        init: impl PinInit<T, Error>,
        flags: Flags,
        _built_in: BuiltIn,
    ) -> Result<&'static T> {
        let pinned: Pin<KBox<T>> = KBox::try_pin_init(init, flags)?;
        // SAFETY: The object is never moved out of its allocation: the box is leaked below (or
        // rebuilt and dropped in place if the slot is taken).
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(pinned) });
        // INVARIANT: The slot only changes from null to `raw`, which points to a valid, pinned `T`
        // that is leaked here (never freed nor moved) once it is in the slot; a non-null slot is
        // never changed again.
        if let Err(_other) =
            self.ptr
                .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
        {
            // SAFETY: `raw` comes from `KBox::into_raw` above and was never shared.
            drop(unsafe { KBox::from_raw(raw) });
            return Err(EBUSY);
        }
        // SAFETY: `raw` is valid, initialised and never freed (it was leaked into the slot).
        Ok(unsafe { &*raw })
    }

    /// Returns the object, creating it with `init()` if it does not exist yet. Should another
    /// caller create it meanwhile, that object is returned and the one made here is dropped.
    /// Only built-in code may create one, as with [`Global::init`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{global::Global, prelude::*};
    ///
    /// static ANSWER: Global<u32> = Global::new();
    /// let a = ANSWER.get_or_init(|| Ok(42), GFP_KERNEL, kernel::built_in!())?;
    /// let b = ANSWER.get_or_init(|| Ok(7), GFP_KERNEL, kernel::built_in!())?;
    /// assert_eq!((*a, *b), (42, 42));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn get_or_init<I: PinInit<T, Error>>(
        &self,
        init: impl FnOnce() -> Result<I>,
        flags: Flags,
        built_in: BuiltIn,
    ) -> Result<&'static T> {
        if let Some(obj) = self.get() {
            return Ok(obj);
        }
        match self.init(init()?, flags, built_in) {
            Err(e) if e == EBUSY => self.get().ok_or(EBUSY),
            other => other,
        }
    }

    /// Returns the object, or `None` before [`Global::init`] succeeded.
    pub fn get(&self) -> Option<&'static T> {
        let raw = self.ptr.load(Ordering::Acquire);
        // SAFETY: By the type invariant `raw` is null or valid forever.
        unsafe { raw.as_ref() }
    }
}

impl<T: Sync + 'static> Default for Global<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Proof that the code holding it is built into the kernel image.
///
/// The code and the `static`s of built-in code are never freed, so for it `'static` means the
/// rest of the kernel's life. In a loadable module they are freed by `rmmod`: a function that
/// gives C a `'static` object or callback to keep for good (and cannot take it back) would let C
/// use freed memory or run freed code once the module is gone. Such functions take a `BuiltIn`.
///
/// Obtained with [`built_in!`](crate::built_in), which does not compile in a module.
///
/// # Examples
///
/// ```
/// use kernel::global::BuiltIn;
///
/// fn start(_built_in: BuiltIn) {}
/// start(kernel::built_in!());
/// ```
#[derive(Clone, Copy)]
pub struct BuiltIn(());

impl BuiltIn {
    /// Creates the proof; [`built_in!`](crate::built_in) is the safe way.
    ///
    /// # Safety
    ///
    /// Whatever the caller hands over with the proof (`'static` objects, functions, closures and
    /// the code of generic functions instantiated for them) is never freed: it is the code and
    /// `static`s of a crate built into the kernel image (its `.init` sections aside, which
    /// nothing here hands out).
    #[doc(hidden)]
    pub const unsafe fn new_unchecked() -> Self {
        Self(())
    }
}

/// Gives a [`BuiltIn`] to code built into the kernel; in a loadable module (`cfg(MODULE)`, set
/// by Kbuild for every object of a module) it does not compile.
///
/// `cfg(MODULE)` is that of the crate the macro is expanded in. The kernel crate itself must not
/// use it in a generic or `#[inline]` function: a module could instantiate that function's code
/// in the module.
#[macro_export]
macro_rules! built_in {
    () => {{
        #[cfg(MODULE)]
        ::core::compile_error!("only code built into the kernel gets a `BuiltIn`");
        // SAFETY: Kbuild compiles every crate of a loadable module with `--cfg MODULE`, so this
        // crate, which compiled, is built into the kernel image: its code and its `static`s are
        // never freed.
        unsafe { $crate::global::BuiltIn::new_unchecked() }
    }};
}
