// SPDX-License-Identifier: GPL-2.0

//! A process's virtual memory area, as a driver's `mmap()` sets it up.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`Vma`] is the `struct vm_area_struct` that `mmap()` of a device file receives: the driver
//! reads the range and flags user space asked for, sets the few flags that are harmless on any
//! area ([`Vma::set_dontexpand`], [`Vma::set_dontdump`]), inserts its pages and attaches
//! reference-counted data ([`Vma::set_shared_data`]). Every copy of the area (a split by a
//! partial `munmap()`, `fork()`) takes a reference on that data and every area that goes away
//! drops one, so the data's `Drop` runs when the last mapping of it is gone.

use crate::{bindings, error::to_result, page::Page, prelude::*, sync::Arc, types::Opaque};
use core::marker::PhantomData;

/// Flags of a [`Vma`] (`vm_flags`), to test what [`Vma::flags`] returns.
pub mod flags {
    use crate::bindings;

    /// Writes reach the file (a `MAP_SHARED` mapping).
    pub const SHARED: usize = bindings::VM_SHARED as usize;
    /// The area cannot grow with `mremap()`.
    pub const DONTEXPAND: usize = bindings::VM_DONTEXPAND as usize;
    /// The area is left out of core dumps.
    pub const DONTDUMP: usize = bindings::VM_DONTDUMP as usize;
    /// The area maps page frames without `struct page` (`remap_pfn_range()`).
    pub const PFNMAP: usize = bindings::VM_PFNMAP as usize;
}

/// A virtual memory area being set up by a driver's `mmap()`.
///
/// A `Vma` is never owned, only borrowed, and is neither `Send` nor `Sync`: the reference stays
/// with the `mmap()` call on the thread that makes it.
///
/// # Invariants
///
/// For as long as a reference to it lives, the wrapped `vm_area_struct` is valid and being set
/// up by a `file_operations.mmap` call: the `mmap_lock` of its process is held for writing and
/// the area is not in the process's VMA tree yet, so only the holder of the reference accesses
/// it. Its `vm_file` is the file being mapped, whose `file_operations.owner` is the module of the
/// code that holds the reference (or none, for built-in code), so that module stays loaded
/// while the area exists.
#[repr(transparent)]
pub struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// Wraps a VMA passed to `file_operations.mmap`.
    ///
    /// # Safety
    ///
    /// For `'a`, `ptr` is a valid VMA being set up by a `file_operations.mmap` call that lasts at
    /// least as long: the `mmap_lock` of its process is held for writing, it is not yet in the
    /// process's VMA tree, and nothing else accesses it. Its `vm_file` keeps the module of the
    /// code given the reference loaded (its `file_operations.owner` is that module, or that
    /// code is built in).
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Self {
        // INVARIANT: The caller guarantees all of the type invariant for `'a`, the lifetime of
        // the reference.
        // SAFETY: `Vma` is a transparent wrapper of the `vm_area_struct`, which the caller
        // guarantees valid for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The first address of the area.
    pub fn start(&self) -> usize {
        // SAFETY: By the type invariant the VMA is valid and nobody else changes it; `vm_start`
        // is the active member of the union while the VMA is in use.
        unsafe { (*self.0.get()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// The address just past the area.
    pub fn end(&self) -> usize {
        // SAFETY: As in `start`.
        unsafe { (*self.0.get()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// The number of pages the area covers.
    pub fn pages(&self) -> usize {
        (self.end() - self.start()) >> crate::page::PAGE_SHIFT
    }

    /// The offset user space passed to `mmap()`, in pages.
    pub fn pgoff(&self) -> usize {
        // SAFETY: By the type invariant the VMA is valid and nobody else changes it.
        unsafe { (*self.0.get()).vm_pgoff }
    }

    /// The area's [`flags`].
    pub fn flags(&self) -> usize {
        // SAFETY: By the type invariant the VMA is valid and nobody else changes it; both
        // union members are the same `vm_flags_t`.
        unsafe { (*self.0.get()).__bindgen_anon_2.vm_flags }
    }

    /// Adds `flags` to the area's flags (`vm_flags_set()`).
    ///
    /// # Safety
    ///
    /// Setting `flags` on this area, whatever it maps, must not break what the memory manager
    /// assumes of an area with those flags: only flags that restrict what may be done with the
    /// area, not ones that describe its contents (such as `VM_PFNMAP`, `VM_IO`, `VM_HUGETLB`,
    /// `VM_MIXEDMAP`), and none that `vm_flags_set()` must not set.
    unsafe fn update_flags(&self, flags: usize) {
        // SAFETY: By the type invariant the VMA is valid and its `mmap_lock` is held for
        // writing, as `vm_flags_set()` requires; the function's requirements make the new
        // flags valid for the area.
        unsafe { bindings::vm_flags_set(self.0.get(), flags) }
    }

    /// Keeps `mremap()` from growing the area (`VM_DONTEXPAND`).
    pub fn set_dontexpand(&self) {
        // SAFETY: `VM_DONTEXPAND` only forbids growing the area, which is valid for any area.
        unsafe { self.update_flags(flags::DONTEXPAND) }
    }

    /// Leaves the area out of core dumps (`VM_DONTDUMP`).
    pub fn set_dontdump(&self) {
        // SAFETY: `VM_DONTDUMP` only leaves the area out of core dumps, which is valid for any
        // area.
        unsafe { self.update_flags(flags::DONTDUMP) }
    }

    /// Maps `page` at `address`, which must lie in the area (`vm_insert_page()`).
    ///
    /// Fails with `EINVAL` when `address` is outside the area or the area maps page frames
    /// without `struct page` ([`flags::PFNMAP`]). The mapping takes its own reference on the
    /// page, which the kernel drops when the mapping goes away; the caller keeps its own.
    pub fn insert_page(&self, address: usize, page: &Page) -> Result {
        if address < self.start() || address >= self.end() {
            return Err(EINVAL);
        }
        if self.flags() & flags::PFNMAP != 0 {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant the VMA is valid and its `mmap_lock` is held for
        // writing, and it was just checked not to be `VM_PFNMAP`, which is all that
        // `vm_insert_page()` requires of it; `page` is a valid order-0 page that the caller owns,
        // and `vm_insert_page()` takes its own reference on it (or refuses a page it cannot
        // map).
        to_result(unsafe { bindings::vm_insert_page(self.0.get(), address, page.as_ptr()) })
    }

    /// Attaches `data` to the area: each copy of the area takes a reference, and each area that
    /// is unmapped drops its own.
    ///
    /// Call it once, last, once everything that can fail has succeeded: when `mmap()` fails the
    /// kernel frees the area without calling `vm_ops->close`, and a second call replaces the
    /// first, so those references would leak (the data would never be dropped).
    pub fn set_shared_data<T: Send + Sync + 'static>(&self, data: Arc<T>) {
        let raw = self.0.get();
        // SAFETY: By the type invariant the VMA is valid and only this `mmap()` call accesses
        // it, so it may set these fields. The operations are a constant of the code this runs
        // in, whose module the area's `vm_file` keeps loaded as long as the area (and any copy
        // of it, which shares the file) exists; they give back the reference stored here.
        unsafe {
            (*raw).vm_ops = SharedDataOps::<T>::get();
            (*raw).vm_private_data = Arc::into_raw(data).cast_mut().cast();
        }
    }
}

/// The `vm_operations_struct` of areas with shared data of type `T`.
struct SharedDataOps<T>(PhantomData<T>);

impl<T: Send + Sync + 'static> SharedDataOps<T> {
    const OPS: bindings::vm_operations_struct = {
        // SAFETY: All-zero is a valid `vm_operations_struct` (every callback absent).
        let mut ops: bindings::vm_operations_struct = unsafe { core::mem::zeroed() };
        ops.open = Some(shared_open::<T>);
        ops.close = Some(shared_close::<T>);
        ops
    };

    const fn get() -> &'static bindings::vm_operations_struct {
        &Self::OPS
    }
}

/// # Safety
///
/// Called by the kernel for a new copy of an area that [`Vma::set_shared_data`] set up, whose
/// `vm_private_data` is the copied pointer.
unsafe extern "C" fn shared_open<T: Send + Sync + 'static>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: By the function's requirements the pointer came from `Arc::into_raw` and the
    // original area still holds its reference (it is being copied), so the `Arc` is alive.
    let data = unsafe { crate::sync::ArcBorrow::from_raw((*vma).vm_private_data.cast::<T>()) };
    // The copy's reference, given back by `shared_close` of the copy.
    let _ = Arc::into_raw(Arc::from(data));
}

/// # Safety
///
/// Called by the kernel once for each area (original or copy) that [`Vma::set_shared_data`]
/// or [`shared_open`] gave a reference, when that area goes away.
unsafe extern "C" fn shared_close<T: Send + Sync + 'static>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: By the function's requirements this area owns one reference, taken by
    // `set_shared_data` or `shared_open`, which is given back here once.
    drop(unsafe { Arc::<T>::from_raw((*vma).vm_private_data.cast::<T>()) });
}
