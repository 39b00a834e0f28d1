// SPDX-License-Identifier: GPL-2.0

//! Misc devices: character devices with a dynamic minor and a node under `/dev`.
//!
//! C headers: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h),
//! [`include/linux/fs.h`](srctree/include/linux/fs.h)
//!
//! A driver implements [`MiscDevice`] for the state of one open file and registers a
//! [`MiscDeviceRegistration`]. Every `open()` of the node creates that state, `ioctl()` and
//! `mmap()` get a shared reference to it, and the last `close()` of the file drops it.
//!
//! The `file_operations` of a device are a constant of its [`MiscDevice`] type, not part of the
//! registration: an open file keeps using them after the registration is gone. They name
//! [`MiscDevice::OWNER`] as their owner, so every open file holds a reference on the module
//! that the callbacks (and the constant itself) belong to, and that module cannot be unloaded
//! while a file is open.

use crate::{
    bindings,
    error::{to_result, Error, Result, VTABLE_DEFAULT_ERROR},
    mm_vma::Vma,
    prelude::*,
    str::CStr,
    types::Opaque,
    ThisModule,
};
use core::{marker::PhantomData, mem::MaybeUninit, pin::Pin};

/// The state of one open file of a misc device, and what the device does with it.
///
/// # Safety
///
/// [`MiscDevice::OWNER`] must be the module of the crate that implements the trait (its
/// `THIS_MODULE`), or a module that is never unloaded while any of that crate's code or data can
/// still run or be used: the device's files keep it, and only it, loaded.
#[vtable]
pub unsafe trait MiscDevice: Sized + Send + Sync + 'static {
    /// The module the implementation belongs to: `&THIS_MODULE` of the crate that implements
    /// the trait (the static that `module!` defines there).
    ///
    /// It is the `owner` of the device's `file_operations`: every open file holds a reference
    /// on it, so the module stays loaded while one of its files is open.
    const OWNER: &'static ThisModule;

    /// Called by `open()`: the returned value is the file's state until it is released.
    fn open() -> Result<Pin<KBox<Self>>>;

    /// Called when the last reference to the file goes away (`release`).
    fn release(this: Pin<KBox<Self>>) {
        drop(this);
    }

    /// Handles `ioctl()`. Returning [`ENOIOCTLCMD`] makes the system call fail with `ENOTTY`.
    ///
    /// [`ENOIOCTLCMD`]: crate::error::code::ENOIOCTLCMD
    fn ioctl(&self, _cmd: u32, _arg: usize) -> Result<isize> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Handles `mmap()`: sets up `vma`, which covers the range user space asked for.
    fn mmap(&self, _vma: &Vma) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// The `file_operations` of the misc devices of `T`, one constant per type.
struct MiscDeviceVTable<T: MiscDevice>(PhantomData<T>);

impl<T: MiscDevice> MiscDeviceVTable<T> {
    /// Calls the callbacks of `T`; owned by [`MiscDevice::OWNER`].
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: T::OWNER.as_ptr(),
        open: Some(open::<T>),
        release: Some(release::<T>),
        unlocked_ioctl: if T::HAS_IOCTL { Some(ioctl::<T>) } else { None },
        mmap: if T::HAS_MMAP { Some(mmap::<T>) } else { None },
        // SAFETY: All-zero is a valid `file_operations`: no flags and every other callback
        // absent.
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// The `file_operations`, which live as long as the module of `T`.
    const fn get() -> &'static bindings::file_operations {
        &Self::FOPS
    }
}

/// A registered misc device.
///
/// # Invariants
///
/// `misc` is registered with `misc_register()`, with the `file_operations` of
/// `MiscDeviceVTable::<T>`, and stays registered (in place: the registration is pinned) until
/// `drop` deregisters it.
#[pin_data(PinnedDrop)]
pub struct MiscDeviceRegistration<T: MiscDevice> {
    #[pin]
    misc: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: The registration is only deregistered (from any thread) in `drop`; the C structure
// is not touched otherwise.
unsafe impl<T: MiscDevice> Send for MiscDeviceRegistration<T> {}
// SAFETY: A shared reference gives access to nothing.
unsafe impl<T: MiscDevice> Sync for MiscDeviceRegistration<T> {}

impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// Registers the device `/dev/<name>` with a dynamic minor.
    ///
    /// The initialiser fails, leaving nothing registered, when `misc_register()` fails.
    pub fn register(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            misc <- Self::register_misc(name),
            _t: PhantomData,
        })
    }

    /// Fills in the `miscdevice` in place and registers it.
    fn register_misc(name: &'static CStr) -> impl PinInit<Opaque<bindings::miscdevice>, Error> {
        let fill_and_register = move |slot: *mut Opaque<bindings::miscdevice>| {
            let misc = Opaque::raw_get(slot);
            // SAFETY: All-zero is a valid `miscdevice` to fill in.
            let mut raw: bindings::miscdevice = unsafe { MaybeUninit::zeroed().assume_init() };
            raw.minor = bindings::MISC_DYNAMIC_MINOR as i32;
            raw.name = name.as_char_ptr();
            raw.fops = MiscDeviceVTable::<T>::get();
            // SAFETY: The closure only runs as the initialiser of a `PinInit`, which is given a
            // slot valid for writes.
            unsafe { misc.write(raw) };
            // SAFETY: `misc` is a filled-in `miscdevice`. It is pinned, so it stays where it is
            // until the registration is dropped, which deregisters it; its `name` is `'static`
            // and its `fops` live as long as the module of `T`, which stays loaded as long as
            // the code of `T` can run. (A registration a loadable module leaks instead, with
            // `mem::forget` or a never-freed box, outlives the module, as upstream's does: Rust
            // cannot make a destructor run. `Global`, which never drops what it holds, takes a
            // `BuiltIn` for that reason.)
            // INVARIANT: On success `misc` is registered with the `file_operations` of `T`; on
            // failure the initialiser fails and no registration exists.
            to_result(unsafe { bindings::misc_register(misc) })
        };
        // SAFETY: The closure writes the whole `Opaque` (any contents are valid for it) before
        // it can fail, never moves it, and when `misc_register()` fails it has undone all it
        // did, so the slot needs no cleanup and may be freed without being dropped.
        unsafe { crate::init::pin_init_from_closure(fill_and_register) }
    }
}

#[pinned_drop]
impl<T: MiscDevice> PinnedDrop for MiscDeviceRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant, `misc` is registered.
        unsafe { bindings::misc_deregister(self.misc.get()) };
    }
}

/// # Safety
///
/// Called by the VFS for `open()` of a node whose `file_operations` are those of `T`; `file`
/// is valid.
unsafe extern "C" fn open<T: MiscDevice>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> core::ffi::c_int {
    match T::open() {
        Ok(state) => {
            // SAFETY: The state stays pinned: `release` turns the pointer back into the same
            // `Pin<KBox<T>>`, and nothing moves it in between.
            let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(state) });
            // SAFETY: By the function's requirements `file` is valid and being opened, and the
            // VFS hands its `private_data` to the driver.
            unsafe { (*file).private_data = raw.cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the VFS once for a file that [`open`] set up, after every other call on it.
unsafe extern "C" fn release<T: MiscDevice>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> core::ffi::c_int {
    // SAFETY: By the function's requirements, `private_data` is the pinned `KBox<T>` that `open`
    // leaked and no other file operation runs any more, so ownership can be taken back, still
    // pinned.
    let state = unsafe { Pin::new_unchecked(KBox::from_raw((*file).private_data.cast::<T>())) };
    T::release(state);
    0
}

/// Returns the state of a file that [`open`] set up.
///
/// # Safety
///
/// `file` is a file whose `file_operations` are those of `T`, that [`open`] set up and that has
/// not been released; the returned reference must not outlive the current file operation.
unsafe fn state<'a, T: MiscDevice>(file: *mut bindings::file) -> &'a T {
    // SAFETY: By the function's requirements, `private_data` is the live `KBox<T>` of `open`.
    unsafe { &*(*file).private_data.cast::<T>() }
}

/// # Safety
///
/// Called by the VFS for `ioctl()` on an open file whose `file_operations` are those of `T`.
unsafe extern "C" fn ioctl<T: MiscDevice>(
    file: *mut bindings::file,
    cmd: u32,
    arg: usize,
) -> isize {
    // SAFETY: By the function's requirements the file was opened (by `open`, as its operations
    // are those of `T`) and stays open for the duration of the call.
    let this = unsafe { state::<T>(file) };
    match T::ioctl(this, cmd, arg) {
        Ok(v) => v,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by the VFS for `mmap()` on an open file whose `file_operations` are those of `T`, with
/// the new, not yet inserted `vma` and the `mmap_lock` held for writing.
unsafe extern "C" fn mmap<T: MiscDevice>(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> core::ffi::c_int {
    // SAFETY: By the function's requirements the file was opened (by `open`, as its operations
    // are those of `T`) and stays open for the duration of the call.
    let this = unsafe { state::<T>(file) };
    // SAFETY: By the function's requirements `vma` is being set up by this `mmap()` call, which
    // lasts as long as the reference. Its `vm_file` is `file`, whose `file_operations.owner` is
    // `T::OWNER`, the module of the code the reference is passed to (safety requirement of the
    // `MiscDevice` trait).
    let vma = unsafe { Vma::from_raw(vma) };
    match T::mmap(this, vma) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
