// SPDX-License-Identifier: GPL-2.0

//! Devices under `/sys/devices/system/` and their attribute files.
//!
//! C headers: [`include/linux/device.h`](srctree/include/linux/device.h),
//! [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)
//!
//! A driver that owns one system-wide device (like `xen_memory0`) declares its attributes as
//! statics with [`DeviceAttribute::new`], groups them with [`attribute_group!`] and
//! [`attribute_groups!`], and registers a [`SystemDevice`]. Show functions write text into a
//! [`ShowBuf`]; store functions get the written bytes and return `Ok` or an error code, which
//! the writer sees as the result of `write()`.
//!
//! Built-in code with module parameters has a directory `/sys/module/NAME/`; files that belong
//! beside those parameters (statistics of what the parameters tune) are [`ModuleAttribute`]s in
//! a group declared with [`module_attribute_group!`] and added with [`add_module_group`].
//!
//! The kind of attribute is part of the group's type ([`AttributeGroup<DeviceAttribute>`] or
//! [`AttributeGroup<ModuleAttribute>`]), because the C code that calls an attribute's functions
//! depends on the directory it is in.
//!
//! [`attribute_group!`]: crate::attribute_group
//! [`attribute_groups!`]: crate::attribute_groups
//! [`module_attribute_group!`]: crate::module_attribute_group

use crate::{
    bindings,
    error::{code::EBUSY, to_result, Result},
    ffi::c_char,
    global::BuiltIn,
    str::CStr,
};
use core::{
    cell::UnsafeCell,
    fmt,
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};

const SYSFS_BUF: usize = bindings::PAGE_SIZE;

/// The page a show function writes into.
pub struct ShowBuf {
    buf: *mut u8,
    len: usize,
}

impl fmt::Write for ShowBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if bytes.len() > SYSFS_BUF - self.len {
            return Err(fmt::Error);
        }
        // SAFETY: `buf` has room for `SYSFS_BUF` bytes (sysfs hands out a page) and the check
        // above keeps the copy inside it.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.add(self.len), bytes.len())
        };
        self.len += bytes.len();
        Ok(())
    }
}

/// Formats into a [`ShowBuf`]; a show function's usual last line.
#[macro_export]
macro_rules! sysfs_emit {
    ($buf:expr, $($arg:tt)*) => {
        ::core::fmt::Write::write_fmt($buf, ::core::format_args!($($arg)*))
            .map_err(|_| $crate::error::code::EINVAL)
    };
}

/// Reads an attribute into a [`ShowBuf`].
pub type ShowFn = fn(&mut ShowBuf) -> Result;
/// Handles a write of the given bytes to an attribute.
pub type StoreFn = fn(&[u8]) -> Result;

/// A device attribute file, for a `static`.
#[repr(C)]
pub struct DeviceAttribute {
    attr: UnsafeCell<bindings::device_attribute>,
    show: ShowFn,
    store: Option<StoreFn>,
}

// SAFETY: sysfs only reads the C structure; the function pointers are immutable.
unsafe impl Sync for DeviceAttribute {}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn show_trampoline(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of a `#[repr(C)]` `DeviceAttribute` (only those are
    // registered with this trampoline), so the cast gives back the containing static.
    let this = unsafe { &*attr.cast::<DeviceAttribute>() };
    let mut out = ShowBuf {
        buf: buf.cast(),
        len: 0,
    };
    match (this.show)(&mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn store_trampoline(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: As in `show_trampoline`.
    let this = unsafe { &*attr.cast::<DeviceAttribute>() };
    // SAFETY: sysfs passes `count` readable bytes at `buf`.
    let bytes = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match this.store {
        Some(store) => match store(bytes) {
            Ok(()) => count as isize,
            Err(e) => e.to_errno() as isize,
        },
        None => crate::error::code::EIO.to_errno() as isize,
    }
}

impl DeviceAttribute {
    /// Describes the file `name` with permissions `mode`; `store` is `None` for a read-only file.
    pub const fn new(name: &'static CStr, mode: u16, show: ShowFn, store: Option<StoreFn>) -> Self {
        // SAFETY: All-zeroes is a valid `device_attribute` (null pointers, no callbacks).
        let mut attr: bindings::device_attribute = unsafe { core::mem::zeroed() };
        attr.attr.name = name.as_char_ptr();
        attr.attr.mode = mode;
        attr.show = Some(show_trampoline);
        if store.is_some() {
            attr.store = Some(store_trampoline);
        }
        Self {
            attr: UnsafeCell::new(attr),
            show,
            store,
        }
    }

    /// The `struct attribute` to list in a group.
    pub const fn as_attr_ptr(&'static self) -> *mut bindings::attribute {
        // `attr` is the first field of the `device_attribute`.
        self.attr.get().cast()
    }
}

/// A file of a module's directory (`struct module_attribute`), for a `static`.
///
/// Files in `/sys/module/NAME/` go through the module kobject's `module_attr_show()`, which
/// expects this structure.
#[repr(C)]
pub struct ModuleAttribute {
    attr: UnsafeCell<bindings::module_attribute>,
    show: ShowFn,
}

// SAFETY: sysfs only reads the C structure; the function pointer is immutable.
unsafe impl Sync for ModuleAttribute {}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn module_show_trampoline(
    attr: *mut bindings::module_attribute,
    _mk: *mut bindings::module_kobject,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of a `#[repr(C)]` `ModuleAttribute` (only those are
    // registered with this trampoline), so the cast gives back the containing static.
    let this = unsafe { &*attr.cast::<ModuleAttribute>() };
    let mut out = ShowBuf {
        buf: buf.cast(),
        len: 0,
    };
    match (this.show)(&mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

impl ModuleAttribute {
    /// Describes the read-only file `name` with permissions `mode`.
    pub const fn new_ro(name: &'static CStr, mode: u16, show: ShowFn) -> Self {
        // SAFETY: All-zeroes is a valid `module_attribute` (null pointers, no callbacks).
        let mut attr: bindings::module_attribute = unsafe { core::mem::zeroed() };
        attr.attr.name = name.as_char_ptr();
        attr.attr.mode = mode;
        attr.show = Some(module_show_trampoline);
        Self {
            attr: UnsafeCell::new(attr),
            show,
        }
    }

    /// The `struct attribute` to list in a group.
    pub const fn as_attr_ptr(&'static self) -> *mut bindings::attribute {
        // `attr` is the first field of the `module_attribute`.
        self.attr.get().cast()
    }
}

/// Adds `group` to `/sys/module/NAME/`, the directory of built-in code with parameters.
///
/// The group is never removed, so only built-in code may add one (see [`BuiltIn`]).
///
/// The directory exists from `late_initcall` on (`param_sysfs_builtin_init()`), and only for
/// names that have a parameter with a sysfs file. Fails with `ENOENT` otherwise, and for the
/// directory of a loadable module (whose unloading the group would block). May sleep.
pub fn add_module_group(
    name: &'static CStr,
    group: &'static AttributeGroup<ModuleAttribute>,
    _built_in: BuiltIn,
) -> Result {
    // SAFETY: `module_kset` is a pointer that is set once during boot (it may be null before
    // that, checked below); the volatile read, as C's `READ_ONCE()`, copes with that write.
    let kset = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::module_kset)) };
    if kset.is_null() {
        return Err(crate::error::code::ENOENT);
    }
    // SAFETY: `kset` is the live module kset, which is never freed; `name` is NUL-terminated.
    let kobj = unsafe { bindings::kset_find_obj(kset, name.as_char_ptr()) };
    if kobj.is_null() {
        return Err(crate::error::code::ENOENT);
    }
    // SAFETY: `kobj` is in `module_kset`, so it is the `kobj` field of a live `module_kobject`
    // (we hold a reference on it); `mod_` is set when the kobject is made and never changes.
    let loadable = unsafe {
        let mk = crate::container_of!(kobj, bindings::module_kobject, kobj);
        !(*mk).mod_.is_null()
    };
    if loadable {
        // SAFETY: Drops the reference `kset_find_obj` took.
        unsafe { bindings::kobject_put(kobj) };
        return Err(crate::error::code::ENOENT);
    }
    // The reference `kset_find_obj` took is kept: the group lives as long as the kernel.
    // SAFETY: `kobj` is a live kobject (we hold a reference). It is in `module_kset`, so it is
    // the kobject of a `struct module_kobject`, whose sysfs operations expect
    // `struct module_attribute`s: by the type invariants of `AttributeGroup<ModuleAttribute>`,
    // `group` lists only those (of `ModuleAttribute`s), and it is `'static`. The files stay for
    // the rest of the kernel's life: the group, its attributes and their functions are never
    // freed (`BuiltIn`: the caller is built into the kernel).
    to_result(unsafe { bindings::sysfs_create_group(kobj, group.as_ptr()) })
}

/// A NULL-terminated array of pointers, as C attribute lists and group lists are.
///
/// `A` is the kind of the attributes involved: [`DeviceAttribute`] or [`ModuleAttribute`]. Lists
/// are built by [`attribute_group!`], [`module_attribute_group!`] and [`attribute_groups!`].
///
/// [`attribute_group!`]: crate::attribute_group
/// [`module_attribute_group!`]: crate::module_attribute_group
/// [`attribute_groups!`]: crate::attribute_groups
///
/// # Invariants
///
/// The last element is null. Every other element points to an object that lives forever and is
/// never written:
/// - in a list of attributes (`T` is `bindings::attribute`), to the `struct attribute` at the
///   start of the C structure of an `A` (so of a [`DeviceAttribute`] or a [`ModuleAttribute`]);
/// - in a list of groups (`T` is `bindings::attribute_group`), to the C structure of an
///   [`AttributeGroup<A>`].
#[repr(transparent)]
pub struct PtrList<T, A, const N: usize> {
    ptrs: [*mut T; N],
    _kind: PhantomData<A>,
}

// SAFETY: By the type invariants the list only holds pointers to objects that live forever and
// are never written, and the list itself is never written after it is built.
unsafe impl<T, A, const N: usize> Sync for PtrList<T, A, N> {}

impl<T, A, const N: usize> PtrList<T, A, N> {
    /// Builds a list; for the macros that declare attribute groups and group lists.
    ///
    /// # Safety
    ///
    /// The last element of `ptrs` must be null. Every other element must point to an object that
    /// lives forever and is never written: for a list of attributes (`T` is
    /// `bindings::attribute`), to the `struct attribute` at the start of the C structure of an `A`
    /// (such as [`DeviceAttribute::as_attr_ptr`] returns); for a list of groups (`T` is
    /// `bindings::attribute_group`), to the C structure of an [`AttributeGroup<A>`] (such as
    /// [`AttributeGroup::as_ptr`] returns).
    #[doc(hidden)]
    pub const unsafe fn new_unchecked(ptrs: [*mut T; N]) -> Self {
        // INVARIANT: The caller guarantees what the type invariants require.
        Self {
            ptrs,
            _kind: PhantomData,
        }
    }

    /// Returns a pointer to the first element.
    pub const fn as_ptr(&'static self) -> *mut *mut T {
        self.ptrs.as_ptr().cast_mut()
    }
}

/// An attribute group: a list of files, in a subdirectory if it has a name.
///
/// `A` is the kind of the files: [`DeviceAttribute`] for the groups of a [`SystemDevice`] (see
/// [`attribute_group!`]), [`ModuleAttribute`] for groups added with [`add_module_group`] (see
/// [`module_attribute_group!`]).
///
/// [`attribute_group!`]: crate::attribute_group
/// [`module_attribute_group!`]: crate::module_attribute_group
///
/// # Invariants
///
/// The C structure has a `'static` name or none, `attrs` points to a `'static` [`PtrList`] of
/// attributes of kind `A`, and all other fields are zero. It is never written.
#[repr(transparent)]
pub struct AttributeGroup<A>(UnsafeCell<bindings::attribute_group>, PhantomData<A>);

// SAFETY: sysfs only reads it; it is never written after it is built (type invariant).
unsafe impl<A> Sync for AttributeGroup<A> {}

impl<A> AttributeGroup<A> {
    /// Builds a group of the attributes in `attrs`; [`attribute_group!`] and
    /// [`module_attribute_group!`] build both.
    ///
    /// [`attribute_group!`]: crate::attribute_group
    /// [`module_attribute_group!`]: crate::module_attribute_group
    pub const fn new<const N: usize>(
        name: Option<&'static CStr>,
        attrs: &'static PtrList<bindings::attribute, A, N>,
    ) -> Self {
        // SAFETY: All-zeroes is a valid `attribute_group`.
        let mut group: bindings::attribute_group = unsafe { core::mem::zeroed() };
        if let Some(name) = name {
            group.name = name.as_char_ptr();
        }
        group.attrs = attrs.as_ptr();
        // INVARIANT: The name is `'static` or null, `attrs` is a `'static` list of attributes of
        // kind `A`, everything else is zero.
        Self(UnsafeCell::new(group), PhantomData)
    }

    /// The C structure, for group lists.
    pub const fn as_ptr(&'static self) -> *mut bindings::attribute_group {
        self.0.get()
    }
}

/// Declares a `static` [`AttributeGroup`] of [`DeviceAttribute`] statics, for a [`SystemDevice`].
///
/// # Examples
///
/// ```
/// use kernel::{
///     attribute_group, attribute_groups, c_str,
///     prelude::*,
///     sysfs::{DeviceAttribute, ShowBuf},
/// };
///
/// fn show_answer(buf: &mut ShowBuf) -> Result {
///     kernel::sysfs_emit!(buf, "42\n")
/// }
///
/// static ANSWER: DeviceAttribute =
///     DeviceAttribute::new(c_str!("answer"), 0o444, show_answer, None);
///
/// attribute_group! {
///     static INFO_GROUP = (Some(c_str!("info")), [ANSWER]);
/// }
/// attribute_groups! {
///     static GROUPS = [INFO_GROUP];
/// }
/// ```
#[macro_export]
macro_rules! attribute_group {
    ($vis:vis static $group:ident = ($name:expr, [$($attr:expr),* $(,)?]);) => {
        $vis static $group: $crate::sysfs::AttributeGroup<$crate::sysfs::DeviceAttribute> = {
            const __N: usize = <[&'static str]>::len(&[$(::core::stringify!($attr)),*]) + 1;
            static __ATTRS: $crate::sysfs::PtrList<
                $crate::bindings::attribute,
                $crate::sysfs::DeviceAttribute,
                __N,
            > =
                // SAFETY: The array ends with a null pointer; every other element is the
                // `struct attribute` of a `'static` `DeviceAttribute`, as returned by
                // `DeviceAttribute::as_attr_ptr` (whose argument type checks the kind).
                unsafe {
                    $crate::sysfs::PtrList::new_unchecked([
                        $($crate::sysfs::DeviceAttribute::as_attr_ptr(&$attr),)*
                        ::core::ptr::null_mut(),
                    ])
                };
            $crate::sysfs::AttributeGroup::new($name, &__ATTRS)
        };
    };
}

/// Declares a `static` [`AttributeGroup`] of [`ModuleAttribute`] statics, for
/// [`add_module_group`].
///
/// The syntax is that of [`attribute_group!`].
///
/// [`attribute_group!`]: crate::attribute_group
#[macro_export]
macro_rules! module_attribute_group {
    ($vis:vis static $group:ident = ($name:expr, [$($attr:expr),* $(,)?]);) => {
        $vis static $group: $crate::sysfs::AttributeGroup<$crate::sysfs::ModuleAttribute> = {
            const __N: usize = <[&'static str]>::len(&[$(::core::stringify!($attr)),*]) + 1;
            static __ATTRS: $crate::sysfs::PtrList<
                $crate::bindings::attribute,
                $crate::sysfs::ModuleAttribute,
                __N,
            > =
                // SAFETY: The array ends with a null pointer; every other element is the
                // `struct attribute` of a `'static` `ModuleAttribute`, as returned by
                // `ModuleAttribute::as_attr_ptr` (whose argument type checks the kind).
                unsafe {
                    $crate::sysfs::PtrList::new_unchecked([
                        $($crate::sysfs::ModuleAttribute::as_attr_ptr(&$attr),)*
                        ::core::ptr::null_mut(),
                    ])
                };
            $crate::sysfs::AttributeGroup::new($name, &__ATTRS)
        };
    };
}

/// Declares a `static` NULL-terminated list of [`AttributeGroup`] statics of
/// [`DeviceAttribute`]s, for [`SystemDevice::register`].
///
/// See [`attribute_group!`] for an example.
///
/// [`attribute_group!`]: crate::attribute_group
#[macro_export]
macro_rules! attribute_groups {
    ($vis:vis static $list:ident = [$($group:expr),* $(,)?];) => {
        $vis static $list: $crate::sysfs::PtrList<
            $crate::bindings::attribute_group,
            $crate::sysfs::DeviceAttribute,
            { <[&'static str]>::len(&[$(::core::stringify!($group)),*]) + 1 },
        > =
            // SAFETY: The array ends with a null pointer; every other element is the C structure
            // of a `'static` `AttributeGroup<DeviceAttribute>`, as returned by
            // `AttributeGroup::as_ptr` (whose argument type checks the kind).
            unsafe {
                $crate::sysfs::PtrList::new_unchecked([
                    $($crate::sysfs::AttributeGroup::<$crate::sysfs::DeviceAttribute>::as_ptr(
                        &$group,
                    ),)*
                    ::core::ptr::null_mut(),
                ])
            };
    };
}

/// A subsystem under `/sys/devices/system/NAME/` with one device `NAME0`, living forever.
///
/// It is never unregistered, so only built-in code may register one (see [`BuiltIn`]).
pub struct SystemDevice {
    bus: UnsafeCell<bindings::bus_type>,
    dev: UnsafeCell<bindings::device>,
    registered: AtomicBool,
}

// SAFETY: The C structures are written only by `register`, once (guarded by `registered`),
// before the driver core publishes them; afterwards the driver core owns their locking.
unsafe impl Sync for SystemDevice {}

impl SystemDevice {
    /// Describes the subsystem `name`.
    pub const fn new(name: &'static CStr) -> Self {
        // SAFETY: All-zeroes is a valid `bus_type` and `device` (as a C static would be).
        let mut bus: bindings::bus_type = unsafe { core::mem::zeroed() };
        bus.name = name.as_char_ptr();
        bus.dev_name = name.as_char_ptr();
        Self {
            bus: UnsafeCell::new(bus),
            // SAFETY: As above.
            dev: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            registered: AtomicBool::new(false),
        }
    }

    /// Registers the subsystem and its device `NAME0` with the attribute `groups` (declared with
    /// [`attribute_groups!`]).
    ///
    /// Fails with `EBUSY` if it was registered before. May sleep.
    ///
    /// [`attribute_groups!`]: crate::attribute_groups
    pub fn register<const N: usize>(
        &'static self,
        groups: &'static PtrList<bindings::attribute_group, DeviceAttribute, N>,
        _built_in: BuiltIn,
    ) -> Result {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: `bus` is a valid `'static` bus type, registered once (guarded above).
        to_result(unsafe {
            bindings::subsys_system_register(self.bus.get(), core::ptr::null_mut())
        })?;
        let dev = self.dev.get();
        // SAFETY: Nobody else has seen `dev` yet (guarded above); it is `'static`, so the
        // missing release callback is never needed.
        unsafe {
            (*dev).id = 0;
            (*dev).bus = self.bus.get();
            (*dev).groups = groups.as_ptr().cast();
        }
        // SAFETY: `dev` is a zero-initialised `'static` device prepared above. Its `groups` is a
        // `'static` NULL-terminated list of groups of `DeviceAttribute`s only (type invariants
        // of `PtrList` and `AttributeGroup`), so every file gets the `struct device_attribute`
        // that the device's sysfs operations expect. The device, the groups and the attributes'
        // functions are never freed (`BuiltIn`: the caller is built into the kernel).
        let ret = unsafe { bindings::device_register(dev) };
        if ret != 0 {
            // SAFETY: Registered above and not in use by a device.
            unsafe { bindings::bus_unregister(self.bus.get()) };
        }
        to_result(ret)
    }
}

/// Parses an unsigned number as `kstrtoull(s, 0, ...)` does: decimal, `0x` hex or `0` octal,
/// one trailing newline allowed.
///
/// # Examples
///
/// ```
/// use kernel::{error::code::{EINVAL, ERANGE}, sysfs::parse_u64};
///
/// assert_eq!(parse_u64(b"42\n"), Ok(42));
/// assert_eq!(parse_u64(b"0x20"), Ok(32));
/// assert_eq!(parse_u64(b"020"), Ok(16));
/// assert_eq!(parse_u64(b"abc"), Err(EINVAL));
/// assert_eq!(parse_u64(b"-1"), Err(EINVAL));
/// assert_eq!(parse_u64(b"\n"), Err(EINVAL));
/// assert_eq!(parse_u64(b"12abc"), Err(EINVAL));
/// assert_eq!(parse_u64(b"18446744073709551616"), Err(ERANGE));
/// assert_eq!(parse_u64(&[b'1'; 64]), Err(EINVAL));
/// ```
pub fn parse_u64(bytes: &[u8]) -> Result<u64> {
    let mut tmp = [0u8; 32];
    if bytes.len() >= tmp.len() {
        return Err(crate::error::code::EINVAL);
    }
    tmp[..bytes.len()].copy_from_slice(bytes);
    let mut value = 0u64;
    // SAFETY: `tmp` is NUL-terminated (it is longer than `bytes`) and `value` is writable.
    to_result(unsafe { bindings::kstrtoull(tmp.as_ptr().cast(), 0, &mut value) })?;
    Ok(value)
}

/// Parses a size as `memparse()` does (a C integer constant, decimal, `0x` hexadecimal or `0`
/// octal, then optionally one of the suffixes `K`, `M`, `G`, `T`, `P`, `E`), requiring at least
/// one digit and nothing after the number but a newline. Where `memparse()` wraps at 2^64, this
/// fails with `ERANGE`.
///
/// # Examples
///
/// ```
/// use kernel::{error::code::{EINVAL, ERANGE}, sysfs::parse_size};
///
/// assert_eq!(parse_size(b"512M\n"), Ok(512 << 20));
/// assert_eq!(parse_size(b"262144K"), Ok(256 << 20));
/// assert_eq!(parse_size(b"1g"), Ok(1 << 30));
/// assert_eq!(parse_size(b"4096"), Ok(4096));
/// assert_eq!(parse_size(b"0x1000"), Ok(4096));
/// assert_eq!(parse_size(b"010"), Ok(8));
/// assert_eq!(parse_size(b"15E"), Ok(15 << 60));
/// assert_eq!(parse_size(b"16E"), Err(ERANGE));
/// assert_eq!(parse_size(b"20000000000G"), Err(ERANGE));
/// assert_eq!(parse_size(b"18446744073709551616"), Err(ERANGE));
/// assert_eq!(parse_size(b"M"), Err(EINVAL));
/// assert_eq!(parse_size(b"-1"), Err(EINVAL));
/// assert_eq!(parse_size(b"1MB"), Err(EINVAL));
/// assert_eq!(parse_size(b"08"), Err(EINVAL));
/// assert_eq!(parse_size(b""), Err(EINVAL));
/// ```
pub fn parse_size(bytes: &[u8]) -> Result<u64> {
    use crate::error::code::{EINVAL, ERANGE};
    let s = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if !s.first().is_some_and(u8::is_ascii_digit) {
        return Err(EINVAL);
    }
    // The base as `simple_strtoull(.., 0)` picks it.
    let (radix, mut rest) = match s {
        [b'0', x, d, ..] if (x | 0x20) == b'x' && d.is_ascii_hexdigit() => (16, &s[2..]),
        [b'0', ..] => (8, s),
        _ => (10, s),
    };
    let mut value = 0u64;
    while let Some(d) = rest.first().and_then(|&c| (c as char).to_digit(radix)) {
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(ERANGE)?;
        rest = &rest[1..];
    }
    let shift = match rest.first().map(|c| c.to_ascii_uppercase()) {
        None => 0,
        Some(b'K') => 10,
        Some(b'M') => 20,
        Some(b'G') => 30,
        Some(b'T') => 40,
        Some(b'P') => 50,
        Some(b'E') => 60,
        Some(_) => return Err(EINVAL),
    };
    if rest.len() > usize::from(shift != 0) {
        return Err(EINVAL);
    }
    value.checked_mul(1 << shift).ok_or(ERANGE)
}

/// Parses a boolean as `kstrtobool()` does (`1/0`, `y/n`, `on/off`, `true/false`).
///
/// # Examples
///
/// ```
/// use kernel::{error::code::EINVAL, sysfs::parse_bool};
///
/// assert_eq!(parse_bool(b"1\n"), Ok(true));
/// assert_eq!(parse_bool(b"off"), Ok(false));
/// assert_eq!(parse_bool(b"Y"), Ok(true));
/// assert_eq!(parse_bool(b"2"), Err(EINVAL));
/// assert_eq!(parse_bool(b"maybe"), Err(EINVAL));
/// assert_eq!(parse_bool(b""), Err(EINVAL));
/// ```
pub fn parse_bool(bytes: &[u8]) -> Result<bool> {
    let mut tmp = [0u8; 8];
    let n = bytes.len().min(tmp.len() - 1);
    if bytes.is_empty() {
        return Err(crate::error::code::EINVAL);
    }
    tmp[..n].copy_from_slice(&bytes[..n]);
    let mut value = false;
    // SAFETY: `tmp` is NUL-terminated; `value` is writable.
    to_result(unsafe { bindings::kstrtobool(tmp.as_ptr().cast(), &mut value) })?;
    Ok(value)
}
