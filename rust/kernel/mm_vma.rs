// SPDX-License-Identifier: GPL-2.0

//! A process's virtual memory area, as a driver's `mmap()` sets it up.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`Vma`] is the `struct vm_area_struct` that `mmap()` of a device file receives: the driver
//! reads the range and flags user space asked for, sets flags, inserts its pages and attaches
//! reference-counted data ([`Vma::set_shared_data`]). Every copy of the area (a split by a
//! partial `munmap()`, `fork()`) takes a reference on that data and every area that goes away
//! drops one, so the data's `Drop` runs when the last mapping of it is gone.

use crate::{bindings, error::to_result, page::Page, prelude::*, sync::Arc, types::Opaque};
use core::marker::PhantomData;

/// Flags of a [`Vma`] (`vm_flags`).
pub mod flags {
    use crate::bindings;

    /// Writes reach the file (a `MAP_SHARED` mapping).
    pub const SHARED: usize = bindings::VM_SHARED as usize;
    /// The area cannot grow with `mremap()`.
    pub const DONTEXPAND: usize = bindings::VM_DONTEXPAND as usize;
    /// The area is left out of core dumps.
    pub const DONTDUMP: usize = bindings::VM_DONTDUMP as usize;
}

/// A virtual memory area being set up by a driver's `mmap()`.
///
/// # Invariants
///
/// The wrapped `vm_area_struct` is valid, and the `mmap_lock` of its process is held for
/// writing, for as long as the reference to this `Vma` lives.
#[repr(transparent)]
pub struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// Wraps a VMA passed to `file_operations.mmap`.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid VMA whose process's `mmap_lock` is held for writing for `'a`, and
    /// nothing else accesses it during `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a mut Self {
        // SAFETY: `Vma` is a transparent wrapper; the caller guarantees validity for `'a`.
        unsafe { &mut *ptr.cast::<Self>() }
    }

    fn raw(&self) -> &bindings::vm_area_struct {
        // SAFETY: By the type invariant the VMA is valid and, with the `mmap_lock` held for
        // writing, not changed by anyone else.
        unsafe { &*self.0.get() }
    }

    /// The first address of the area.
    pub fn start(&self) -> usize {
        // SAFETY: `vm_start` is the active member of the union while the VMA is in use.
        unsafe { self.raw().__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// The address just past the area.
    pub fn end(&self) -> usize {
        // SAFETY: As in `start`.
        unsafe { self.raw().__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// The number of pages the area covers.
    pub fn pages(&self) -> usize {
        (self.end() - self.start()) >> crate::page::PAGE_SHIFT
    }

    /// The offset user space passed to `mmap()`, in pages.
    pub fn pgoff(&self) -> usize {
        self.raw().vm_pgoff
    }

    /// The area's [`flags`].
    pub fn flags(&self) -> usize {
        // SAFETY: Both union members are the same `vm_flags_t`.
        unsafe { self.raw().__bindgen_anon_2.vm_flags }
    }

    /// Sets `flags` (a combination of [`flags`] constants) on the area.
    pub fn set_flags(&mut self, flags: usize) {
        // SAFETY: The VMA is valid and its `mmap_lock` is held for writing, which
        // `vm_flags_set()` requires.
        unsafe { bindings::vm_flags_set(self.0.get(), flags) }
    }

    /// Maps `page` at `address`, which must lie in the area (`vm_insert_page()`).
    ///
    /// The mapping takes its own reference on the page, which the kernel drops when the
    /// mapping goes away; the caller keeps its own.
    pub fn insert_page(&mut self, address: usize, page: &Page) -> Result {
        if address < self.start() || address >= self.end() {
            return Err(EINVAL);
        }
        // SAFETY: The VMA is valid with its `mmap_lock` held; `page` is a valid order-0 page
        // that `vm_insert_page()` takes a reference on.
        to_result(unsafe { bindings::vm_insert_page(self.0.get(), address, page.as_ptr()) })
    }

    /// Attaches `data` to the area: each copy of the area takes a reference, and each area that
    /// is unmapped drops its own.
    ///
    /// Call it last, once everything that can fail has succeeded: when `mmap()` fails the
    /// kernel frees the area without calling `vm_ops->close`, so the reference would leak.
    pub fn set_shared_data<T: Send + Sync + 'static>(&mut self, data: Arc<T>) {
        let raw = self.0.get();
        // SAFETY: The VMA is valid and being set up by this `mmap()`, which owns these fields.
        unsafe {
            (*raw).vm_ops = &SharedDataOps::<T>::OPS;
            (*raw).vm_private_data = Arc::into_raw(data).cast_mut().cast();
        }
    }
}

struct SharedDataOps<T>(PhantomData<T>);

impl<T: Send + Sync + 'static> SharedDataOps<T> {
    const OPS: bindings::vm_operations_struct = {
        // SAFETY: All-zero is a valid `vm_operations_struct` (every callback absent).
        let mut ops: bindings::vm_operations_struct = unsafe { core::mem::zeroed() };
        ops.open = Some(shared_open::<T>);
        ops.close = Some(shared_close::<T>);
        ops
    };
}

/// # Safety
///
/// Called by the kernel for a new copy of an area that [`Vma::set_shared_data`] set up, whose
/// `vm_private_data` is the copied pointer.
unsafe extern "C" fn shared_open<T: Send + Sync + 'static>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: The pointer came from `Arc::into_raw` and the original area still holds its
    // reference (it is being copied), so the `Arc` is alive.
    let data = unsafe { crate::sync::ArcBorrow::from_raw((*vma).vm_private_data.cast::<T>()) };
    // The copy's reference, given back by `shared_close` of the copy.
    let _ = Arc::into_raw(Arc::from(data));
}

/// # Safety
///
/// Called by the kernel once for each area (original or copy) that [`Vma::set_shared_data`]
/// or [`shared_open`] gave a reference, when that area goes away.
unsafe extern "C" fn shared_close<T: Send + Sync + 'static>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: This area owns one reference, taken by `set_shared_data` or `shared_open`.
    drop(unsafe { Arc::<T>::from_raw((*vma).vm_private_data.cast::<T>()) });
}
