// SPDX-License-Identifier: GPL-2.0

//! Kernel command-line parameters whose storage C code shares.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)
//!
//! A built-in parameter is a `struct kernel_param` in the `__param` section: the boot-time
//! parser walks that section and calls the parameter's `set` operation with the value from the
//! command line. [`core_param_bool!`](crate::core_param_bool) declares such an entry for a
//! boolean with no module prefix (what C's `core_param()` does), together with its storage,
//! which C code may name as an `extern bool`.

#![warn(clippy::undocumented_unsafe_blocks, clippy::unnecessary_safety_comment)]

use crate::{bindings, str::CStr};
use core::sync::atomic::{AtomicBool, Ordering};

/// Storage of a boolean parameter, shared with C code as a `bool`.
///
/// [`AtomicBool`] has the size, alignment and bit validity of `bool`, so C code that declares
/// the symbol as `extern bool` (the parameter parser through `param_ops_bool`, a
/// `DEVICE_BOOL_ATTR` sysfs file) reads and writes the same byte. Those C accesses are single
/// byte loads and stores, which cannot tear; Rust accesses it atomically.
#[repr(transparent)]
pub struct BoolParam(AtomicBool);

impl BoolParam {
    /// Creates the storage with its default value.
    pub const fn new(value: bool) -> Self {
        Self(AtomicBool::new(value))
    }

    /// Returns the current value.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the value.
    pub fn set(&self, value: bool) {
        self.0.store(value, Ordering::Relaxed)
    }

    /// Returns a pointer to the byte C code reads and writes.
    pub const fn as_ptr(&self) -> *mut bool {
        self.0.as_ptr()
    }
}

/// An entry of the kernel's `__param` section.
///
/// # Invariants
///
/// `name` points to a `'static` NUL-terminated string, `ops` to `'static` operations and `arg`
/// to `'static` storage of the type those operations expect.
#[repr(transparent)]
pub struct KernelParam(bindings::kernel_param);

// SAFETY: The entry itself is never written after it is built. Everything it points to is
// `'static` (type invariant); the storage is a `BoolParam`, which is `Sync`, and the operations
// are the kernel's own, which are safe to call from any thread.
unsafe impl Sync for KernelParam {}

impl KernelParam {
    /// Describes a core (unprefixed) boolean parameter called `name`, stored in `storage`.
    ///
    /// `perm` is 0: like C's `core_param(..., 0)`, the parameter has no sysfs file of its own.
    pub const fn core_bool(name: &'static CStr, storage: &'static BoolParam) -> Self {
        // INVARIANT: `name`, `param_ops_bool` and `storage` are `'static`, and
        // `param_ops_bool` stores a `bool`, which is the layout of `BoolParam`.
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: core::ptr::null_mut(),
            ops: &raw const bindings::param_ops_bool,
            perm: 0,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: storage.as_ptr().cast(),
            },
        })
    }
}

/// Declares a core boolean kernel parameter and its storage.
///
/// The parameter is set on the kernel command line as `NAME=<bool>` (no module prefix) and
/// accepts the spellings of `kstrtobool()`: `1`/`0`, `y`/`n`, `on`/`off`, `true`/`false`, in
/// either case, and a bare `NAME` for true. The storage is exported under the symbol `NAME` so
/// that C code can declare it `extern bool NAME;`.
///
/// # Examples
///
/// ```ignore
/// kernel::core_param_bool! {
///     /// Whether to frobnicate.
///     frobnicate = true;
/// }
///
/// fn maybe_frobnicate() {
///     if frobnicate.get() {
///         // ...
///     }
/// }
/// ```
#[macro_export]
macro_rules! core_param_bool {
    ($(#[$meta:meta])* $name:ident = $default:expr;) => {
        $(#[$meta])*
        #[no_mangle]
        #[allow(non_upper_case_globals)]
        pub static $name: $crate::param::BoolParam = $crate::param::BoolParam::new($default);

        const _: () = {
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::param::KernelParam = $crate::param::KernelParam::core_bool(
                $crate::c_str!(::core::stringify!($name)),
                &$name,
            );
        };
    };
}
