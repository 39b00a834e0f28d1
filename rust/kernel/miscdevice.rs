// SPDX-License-Identifier: GPL-2.0

//! Misc devices: character devices with a dynamic minor and a node under `/dev`.
//!
//! C headers: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h),
//! [`include/linux/fs.h`](srctree/include/linux/fs.h)
//!
//! A driver implements [`MiscDevice`] for the state of one open file and registers a
//! [`MiscDeviceRegistration`]. Every `open()` of the node creates that state, `ioctl()` and
//! `mmap()` get a shared reference to it, and the last `close()` of the file drops it. The
//! registration holds a reference on the module for every open file (`file_operations.owner`),
//! so a loadable module cannot go away while a file is open.

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{to_result, Result, VTABLE_DEFAULT_ERROR},
    mm_vma::Vma,
    prelude::*,
    str::CStr,
    types::Opaque,
    ThisModule,
};
use core::{marker::PhantomData, pin::Pin};

/// The state of one open file of a misc device, and what the device does with it.
#[vtable]
pub trait MiscDevice: Sized + Send + Sync + 'static {
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
    fn mmap(&self, _vma: &mut Vma) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// A registered misc device.
///
/// # Invariants
///
/// `misc` is registered with `misc_register()` and points at `fops`, which holds the callbacks
/// of `T`; both stay where they are (the registration is pinned) until `drop` deregisters.
#[pin_data(PinnedDrop)]
pub struct MiscDeviceRegistration<T: MiscDevice> {
    #[pin]
    misc: Opaque<bindings::miscdevice>,
    #[pin]
    fops: Opaque<bindings::file_operations>,
    _t: PhantomData<T>,
}

// SAFETY: The registration is only deregistered (from any thread) in `drop`; the C structures
// are not touched otherwise.
unsafe impl<T: MiscDevice> Send for MiscDeviceRegistration<T> {}
// SAFETY: A shared reference gives access to nothing.
unsafe impl<T: MiscDevice> Sync for MiscDeviceRegistration<T> {}

impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// Registers the device `/dev/<name>` with a dynamic minor; `module` owns the callbacks.
    pub fn register(name: &'static CStr, module: &'static ThisModule) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin_init(
            pin_init!(Self {
                misc: Opaque::uninit(),
                fops: Opaque::uninit(),
                _t: PhantomData,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: All-zero is a valid `file_operations` (every callback absent).
        let mut fops: bindings::file_operations = unsafe { core::mem::zeroed() };
        fops.owner = module.as_ptr();
        fops.open = Some(open::<T>);
        fops.release = Some(release::<T>);
        if T::HAS_IOCTL {
            fops.unlocked_ioctl = Some(ioctl::<T>);
        }
        if T::HAS_MMAP {
            fops.mmap = Some(mmap::<T>);
        }
        // SAFETY: All-zero is a valid `miscdevice` to fill in.
        let mut misc: bindings::miscdevice = unsafe { core::mem::zeroed() };
        misc.minor = bindings::MISC_DYNAMIC_MINOR as i32;
        misc.name = name.as_char_ptr();
        misc.fops = this.fops.get();
        // SAFETY: Nobody else sees the two fields yet; they are pinned inside `this`.
        unsafe {
            this.fops.get().write(fops);
            this.misc.get().write(misc);
        }
        // SAFETY: `misc` is a filled-in `miscdevice` that stays put until `drop`.
        to_result(unsafe { bindings::misc_register(this.misc.get()) })?;
        // INVARIANT: registered just above; `fops` is what `misc` points at.
        Ok(this)
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
/// Called by the VFS for `open()` of a node whose `file_operations` are those of a
/// [`MiscDeviceRegistration<T>`]; `file` is valid.
unsafe extern "C" fn open<T: MiscDevice>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> core::ffi::c_int {
    match T::open() {
        Ok(state) => {
            // SAFETY: The state stays pinned: `release` turns the pointer back into the same
            // `Pin<KBox<T>>`, and nothing moves it in between.
            let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(state) });
            // SAFETY: `file` is valid and the VFS hands its `private_data` to the driver.
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
    // SAFETY: `private_data` is the pinned `KBox<T>` that `open` leaked; the VFS calls
    // `release` once, after every other file operation has returned, so ownership can be
    // taken back, still pinned.
    let state = unsafe { Pin::new_unchecked(KBox::from_raw((*file).private_data.cast::<T>())) };
    T::release(state);
    0
}

/// Returns the state of a file that [`open`] set up.
///
/// # Safety
///
/// `file` is a file of a [`MiscDeviceRegistration<T>`] that has not been released; the
/// returned reference must not outlive the current file operation.
unsafe fn state<'a, T: MiscDevice>(file: *mut bindings::file) -> &'a T {
    // SAFETY: By the function's requirements, `private_data` is the live `KBox<T>` of `open`.
    unsafe { &*(*file).private_data.cast::<T>() }
}

/// # Safety
///
/// Called by the VFS for `ioctl()` on an open file of a [`MiscDeviceRegistration<T>`].
unsafe extern "C" fn ioctl<T: MiscDevice>(
    file: *mut bindings::file,
    cmd: u32,
    arg: usize,
) -> isize {
    // SAFETY: The file is open for the duration of the call.
    let this = unsafe { state::<T>(file) };
    match T::ioctl(this, cmd, arg) {
        Ok(v) => v,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by the VFS for `mmap()` on an open file of a [`MiscDeviceRegistration<T>`], with the
/// new, not yet inserted `vma` and the `mmap_lock` held for writing.
unsafe extern "C" fn mmap<T: MiscDevice>(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> core::ffi::c_int {
    // SAFETY: The file is open for the duration of the call.
    let this = unsafe { state::<T>(file) };
    // SAFETY: The VFS passes a valid VMA that only this call may change until it returns.
    let vma = unsafe { Vma::from_raw(vma) };
    match T::mmap(this, vma) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
