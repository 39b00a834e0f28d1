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
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

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

/// Storage of an `unsigned int` parameter, shared with C code as a `uint`.
///
/// [`AtomicU32`] has the size and alignment of `unsigned int`; the C parameter operations
/// (`param_ops_uint`) read and write it with aligned word accesses, which do not tear.
#[repr(transparent)]
pub struct UintParam(AtomicU32);

impl UintParam {
    /// Creates the storage with its default value.
    pub const fn new(value: u32) -> Self {
        Self(AtomicU32::new(value))
    }

    /// Returns the current value.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Returns a pointer to the word C code reads and writes.
    pub const fn as_ptr(&self) -> *mut u32 {
        self.0.as_ptr()
    }
}

/// Storage of an `int` parameter, shared with C code as an `int`.
///
/// [`AtomicI32`] has the size and alignment of `int`; `param_ops_int` reads and writes it with
/// aligned word accesses, which do not tear.
#[repr(transparent)]
pub struct IntParam(AtomicI32);

impl IntParam {
    /// Creates the storage with its default value.
    pub const fn new(value: i32) -> Self {
        Self(AtomicI32::new(value))
    }

    /// Returns the current value.
    pub fn get(&self) -> i32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Returns a pointer to the word C code reads and writes.
    pub const fn as_ptr(&self) -> *mut i32 {
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
// `'static` (type invariant); the storage is a `BoolParam`, `UintParam` or `IntParam`, which
// are `Sync`, and the operations are the kernel's own, which are safe to call from any thread.
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

impl KernelParam {
    /// Describes an `unsigned int` parameter with the full name `name` (`prefix.param` for a
    /// built-in driver's parameter), stored in `storage`, shown in
    /// `/sys/module/PREFIX/parameters/PARAM` with permissions `perm` (none if 0).
    pub const fn uint(name: &'static CStr, storage: &'static UintParam, perm: u16) -> Self {
        // INVARIANT: `name`, `param_ops_uint` and `storage` are `'static`, and
        // `param_ops_uint` stores an `unsigned int`, which is the layout of `UintParam`.
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: core::ptr::null_mut(),
            ops: &raw const bindings::param_ops_uint,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: storage.as_ptr().cast(),
            },
        })
    }
}

impl KernelParam {
    /// Describes an `int` parameter called `name` (`prefix.param` when built in, `param` in a
    /// loadable module), stored in `storage`, shown in `/sys/module/PREFIX/parameters/PARAM`
    /// with permissions `perm` (none if 0).
    pub const fn int(name: &'static CStr, storage: &'static IntParam, perm: u16) -> Self {
        // INVARIANT: `name`, `param_ops_int` and `storage` are `'static`, and `param_ops_int`
        // stores an `int`, which is the layout of `IntParam`.
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: core::ptr::null_mut(),
            ops: &raw const bindings::param_ops_int,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: storage.as_ptr().cast(),
            },
        })
    }
}

/// Declares an `int` parameter of a driver that may be built in or a loadable module.
///
/// Built in, the command line sets it as `module.param=`; as a module, `modprobe` passes
/// `param=` (and the command line `module.param=`). With a non-zero `perm` the value appears in
/// `/sys/module/module/parameters/param` either way.
///
/// # Examples
///
/// ```ignore
/// kernel::module_param_int! {
///     /// Most things at once.
///     limit = 1024, "mydrv", "limit", 0o644;
/// }
/// ```
#[macro_export]
macro_rules! module_param_int {
    (
        $(#[$meta:meta])* $name:ident = $default:expr, $module:literal, $param:literal, $perm:expr;
    ) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        static $name: $crate::param::IntParam = $crate::param::IntParam::new($default);

        const _: () = {
            #[cfg(MODULE)]
            const NAME: &$crate::str::CStr = $crate::c_str!($param);
            #[cfg(not(MODULE))]
            const NAME: &$crate::str::CStr = $crate::c_str!(::core::concat!($module, ".", $param));
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::param::KernelParam =
                $crate::param::KernelParam::int(NAME, &$name, $perm);
        };
    };
}

/// Declares an `unsigned int` parameter of built-in code and its storage.
///
/// `"prefix.name"` is what the command line uses (C's `MODULE_PARAM_PREFIX` plus the
/// parameter's name); with a non-zero `perm` the value also appears in
/// `/sys/module/prefix/parameters/name`.
///
/// # Examples
///
/// ```ignore
/// kernel::module_param_uint! {
///     /// Seconds to wait.
///     timeout = 180, "mydrv.timeout", 0o444;
/// }
/// ```
#[macro_export]
macro_rules! module_param_uint {
    ($(#[$meta:meta])* $name:ident = $default:expr, $full:literal, $perm:expr;) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        static $name: $crate::param::UintParam = $crate::param::UintParam::new($default);

        const _: () = {
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::param::KernelParam =
                $crate::param::KernelParam::uint($crate::c_str!($full), &$name, $perm);
        };
    };
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
