// SPDX-License-Identifier: GPL-2.0

//! Xen grant tables: the shared entries, the grant-table hypercalls, and the C interface.
//!
//! C headers: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h),
//! [`include/xen/interface/grant_table.h`](srctree/include/xen/interface/grant_table.h)
//!
//! A guest lets another domain access one of its pages by filling an entry of its grant table,
//! a few frames of memory it shares with the hypervisor, and passing the entry's index (a grant
//! reference) to the other domain. The hypervisor marks an entry "reading"/"writing" while the
//! other domain maps it, so ending access is a compare-and-exchange on the entry's flags that
//! must fail while those bits are set.
//!
//! This module holds what touches memory or structures other code owns:
//!
//! - [`SharedTable`]: the mapped entries (layout v1 or v2) with the atomics the hypervisor
//!   protocol needs, bounds-checked against the frames mapped so far;
//! - the `GNTTABOP_*` hypercalls, with the operation arrays of the map, unmap and copy batches
//!   ([`MapOp`], [`UnmapOp`], [`CopyOp`]);
//! - handles to structures that C callers own and pass in: pages ([`PageHandle`],
//!   [`PageArray`]), free callbacks ([`FreeCallback`]), asynchronous unmap requests
//!   ([`UnmapItem`]);
//! - the page helpers of the C interface that keep no grant-table state (the page cache,
//!   `gnttab_alloc_pages()`, private flags, DMA buffers, iteration over the grants of a page);
//! - [`export_grant_table!`](crate::export_grant_table): the `gnttab_*` functions that
//!   `include/xen/grant_table.h` declares, each converting its raw arguments and calling the
//!   driver's safe [`Driver`] implementation.

use crate::{
    bindings,
    error::{code::*, to_result, Error, Result},
    ffi::{c_int, c_uint, c_ulong, c_void},
};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{fence, AtomicPtr, AtomicU16, AtomicU32, AtomicUsize, Ordering},
};

/// A grant reference: an index into the grant table.
pub type GrantRef = u32;
/// A domain id.
pub type DomId = u16;
/// A guest frame number as the grant-table hypercalls take it.
pub type Frame = bindings::xen_pfn_t;

/// The end of a list of grant references (`GNTTAB_LIST_END`, also `INVALID_GRANT_REF`).
pub const LIST_END: GrantRef = u32::MAX;
/// References the toolstack reserves at the start of every table (xenstore, console).
pub const NR_RESERVED_ENTRIES: GrantRef = bindings::GNTTAB_NR_RESERVED_ENTRIES;
/// Bytes in a Xen page (a grant frame).
pub const XEN_PAGE_SIZE: u32 = 4096;
/// Status entries (v2 layout) per status frame.
pub const STATUS_PER_FRAME: u32 = XEN_PAGE_SIZE / core::mem::size_of::<u16>() as u32;

/// The operation succeeded.
pub const GNTST_OKAY: i16 = bindings::GNTST_okay as i16;
/// The operation must be retried: the target page is paged out.
pub const GNTST_EAGAIN: i16 = bindings::GNTST_eagain as i16;
/// The mapping domain has no more maptrack entries.
pub const GNTST_NO_DEVICE_SPACE: i16 = bindings::GNTST_no_device_space as i16;
/// The target page is unusable.
pub const GNTST_BAD_PAGE: i16 = bindings::GNTST_bad_page as i16;
/// The operation failed for a reason without a status of its own.
pub const GNTST_GENERAL_ERROR: i16 = bindings::GNTST_general_error as i16;

const GTF_PERMIT_ACCESS: u16 = bindings::GTF_permit_access as u16;
const GTF_READONLY: u16 = bindings::GTF_readonly as u16;
const GTF_IN_USE: u16 = (bindings::GTF_reading | bindings::GTF_writing) as u16;
const DOMID_SELF: DomId = bindings::DOMID_SELF as DomId;

/// The layout of the shared entries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Version {
    /// Eight-byte entries with a 32-bit frame number.
    V1,
    /// Sixteen-byte entries with a 64-bit frame number and a separate status array.
    V2,
}

impl Version {
    /// The version number the hypervisor uses.
    pub const fn number(self) -> u32 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }

    /// Entries in one grant frame.
    pub const fn entries_per_frame(self) -> u32 {
        match self {
            Version::V1 => XEN_PAGE_SIZE / core::mem::size_of::<bindings::grant_entry_v1>() as u32,
            Version::V2 => XEN_PAGE_SIZE / core::mem::size_of::<bindings::grant_entry_v2>() as u32,
        }
    }
}

fn grant_table_op<T>(cmd: u32, op: *mut T, count: u32) -> c_int {
    // SAFETY: Every caller passes `count` valid operation structures of the kind `cmd` expects
    // at `op`, which the hypervisor reads and writes only during the call.
    unsafe { bindings::HYPERVISOR_grant_table_op(cmd, op.cast(), count) }
}

/// The largest number of grant frames the hypervisor allows this domain, if it says.
pub fn query_max_frames() -> Option<u32> {
    let mut query = bindings::gnttab_query_size {
        dom: DOMID_SELF,
        ..Default::default()
    };
    let rc = grant_table_op(bindings::GNTTABOP_query_size, &mut query, 1);
    (rc >= 0 && query.status == GNTST_OKAY).then_some(query.max_nr_frames)
}

/// Asks for grant-table layout `version`; returns the layout in force if the call succeeded.
pub fn set_version(version: Version) -> Option<Version> {
    let mut gsv = bindings::gnttab_set_version {
        version: version.number(),
    };
    let rc = grant_table_op(bindings::GNTTABOP_set_version, &mut gsv, 1);
    match (rc, gsv.version) {
        (0, 2) => Some(Version::V2),
        (0, _) => Some(Version::V1),
        _ => None,
    }
}

/// Fills `frames` with the machine frames of the first `frames.len()` grant frames, growing
/// the table to that size (`GNTTABOP_setup_table`).
pub fn setup_table(frames: &mut [Frame]) -> Result {
    let mut setup = bindings::gnttab_setup_table {
        dom: DOMID_SELF,
        nr_frames: u32::try_from(frames.len()).map_err(|_| EINVAL)?,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    to_result(grant_table_op(
        bindings::GNTTABOP_setup_table,
        &mut setup,
        1,
    ))?;
    if setup.status != GNTST_OKAY {
        return Err(EIO);
    }
    Ok(())
}

/// Fills `frames` with the frames of the v2 status array (`GNTTABOP_get_status_frames`).
pub fn get_status_frames(frames: &mut [u64]) -> Result {
    let mut get = bindings::gnttab_get_status_frames {
        nr_frames: u32::try_from(frames.len()).map_err(|_| EINVAL)?,
        dom: DOMID_SELF,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    to_result(grant_table_op(
        bindings::GNTTABOP_get_status_frames,
        &mut get,
        1,
    ))?;
    if get.status != GNTST_OKAY {
        return Err(EIO);
    }
    Ok(())
}

/// Places grant frame `idx` at guest frame `gpfn` (auto-translated guests).
pub fn add_to_physmap(idx: u32, gpfn: Frame) -> Result {
    let mut xatp = bindings::xen_add_to_physmap {
        domid: DOMID_SELF,
        idx: idx as _,
        space: bindings::XENMAPSPACE_grant_table,
        gpfn,
        ..Default::default()
    };
    // SAFETY: `xatp` is a valid argument of `XENMEM_add_to_physmap` for the whole call.
    to_result(unsafe {
        bindings::HYPERVISOR_memory_op(
            bindings::XENMEM_add_to_physmap,
            ptr::addr_of_mut!(xatp).cast(),
        )
    })
}

/// Whether grant frames need more than 32 bits: what makes the v2 layout necessary.
pub fn frames_need_64_bits() -> bool {
    if crate::xen::pv_domain() {
        // SAFETY: Reads CPUID leaves of the hypervisor.
        let width = unsafe { bindings::xen_pv_machine_address_width() };
        return width > 32 + bindings::PAGE_SHIFT;
    }
    // SAFETY: Reads a variable written only during early boot.
    unsafe { bindings::xen_max_possible_pfn() >> 32 != 0 }
}

/// Prepares the virtual areas for `frames` grant frames and `status` status frames (PV).
pub fn arch_init(frames: u32, status: u32) -> Result {
    // SAFETY: Called once at initialisation, before any other arch_gnttab_* call.
    to_result(unsafe { bindings::arch_gnttab_init(frames as c_ulong, status as c_ulong) })
}

/// The frames of the auto-translated grant table (`xen_auto_xlat_grant_frames`).
pub struct AutoXlatFrames;

impl AutoXlatFrames {
    /// Reserves a virtual mapping of `max` frames at physical address `addr` for the table.
    ///
    /// Fails with `EINVAL` if it exists already.
    pub fn setup(addr: u64, max: u32) -> Result {
        // SAFETY: Boot-time data: set here or by `free`, both called during early setup only.
        let frames = unsafe { &mut *ptr::addr_of_mut!(bindings::xen_auto_xlat_grant_frames) };
        if frames.count != 0 {
            return Err(EINVAL);
        }
        let size = XEN_PAGE_SIZE as usize * max as usize;
        // SAFETY: Maps a physical range the caller reserved for the grant table.
        let vaddr = unsafe { bindings::memremap(addr, size, bindings::MEMREMAP_WB as c_ulong) };
        if vaddr.is_null() {
            crate::pr_warn!(
                "Failed to ioremap gnttab share frames (addr={:#x})!\n",
                addr
            );
            return Err(ENOMEM);
        }
        let mut pfns = match crate::alloc::KVec::<Frame>::with_capacity(
            max as usize,
            crate::alloc::flags::GFP_KERNEL,
        ) {
            Ok(v) => v,
            Err(_) => {
                // SAFETY: `vaddr` was mapped above.
                unsafe { bindings::memunmap(vaddr) };
                return Err(ENOMEM);
            }
        };
        for i in 0..max as Frame {
            // Cannot fail: the capacity is `max`.
            let _ = pfns.push((addr >> 12) as Frame + i, crate::alloc::flags::GFP_KERNEL);
        }
        // Freed with kfree() by `free`: a `KVec` is a kmalloc() allocation.
        let (pfn, _, _) = pfns.into_raw_parts();
        frames.vaddr = vaddr;
        frames.pfn = pfn;
        frames.count = max;
        Ok(())
    }

    /// Releases what [`AutoXlatFrames::setup`] reserved.
    pub fn free() {
        // SAFETY: As in `setup`.
        let frames = unsafe { &mut *ptr::addr_of_mut!(bindings::xen_auto_xlat_grant_frames) };
        if frames.count == 0 {
            return;
        }
        // SAFETY: Both were allocated by `setup`, and nothing uses them any more.
        unsafe {
            bindings::kfree(frames.pfn.cast());
            bindings::memunmap(frames.vaddr);
        }
        frames.pfn = ptr::null_mut();
        frames.count = 0;
        frames.vaddr = ptr::null_mut();
    }

    /// The number of frames reserved.
    pub fn count() -> u32 {
        // SAFETY: Boot-time data (see `setup`).
        unsafe { bindings::xen_auto_xlat_grant_frames.count }
    }

    /// The guest frame reserved for grant frame `i`.
    pub fn pfn(i: u32) -> Option<Frame> {
        if i >= Self::count() {
            return None;
        }
        // SAFETY: `pfn` has `count` entries (see `setup`).
        Some(unsafe { *bindings::xen_auto_xlat_grant_frames.pfn.add(i as usize) })
    }

    fn vaddr() -> *mut c_void {
        // SAFETY: Boot-time data (see `setup`).
        unsafe { bindings::xen_auto_xlat_grant_frames.vaddr }
    }
}

/// The grant entries this domain shares with the hypervisor.
///
/// # Invariants
///
/// `entries` is null or points to a mapping of at least `capacity` entries of the layout
/// `version` (and `status` to as many status words for v2) that is never unmapped while
/// `capacity` counts them, except between [`SharedTable::suspend`] and the next map.
pub struct SharedTable {
    entries: AtomicPtr<c_void>,
    status: AtomicPtr<u16>,
    version: AtomicU32,
    capacity: AtomicU32,
}

/// The grant entries of this kernel.
pub static SHARED: SharedTable = SharedTable {
    entries: AtomicPtr::new(ptr::null_mut()),
    status: AtomicPtr::new(ptr::null_mut()),
    version: AtomicU32::new(1),
    capacity: AtomicU32::new(0),
};

impl SharedTable {
    /// The layout in use.
    pub fn version(&self) -> Version {
        match self.version.load(Ordering::Relaxed) {
            2 => Version::V2,
            _ => Version::V1,
        }
    }

    /// Selects the layout; the entries must be mapped again afterwards.
    pub fn set_version(&self, version: Version) {
        self.capacity.store(0, Ordering::Release);
        self.version.store(version.number(), Ordering::Relaxed);
    }

    /// Entries usable now.
    pub fn capacity(&self) -> u32 {
        self.capacity.load(Ordering::Acquire)
    }

    /// Uses the auto-translated reservation as the entries (HVM/PVH).
    pub fn use_auto_xlat(&self) -> Result {
        let vaddr = AutoXlatFrames::vaddr();
        if vaddr.is_null() {
            return Err(ENOMEM);
        }
        self.entries.store(vaddr, Ordering::Release);
        Ok(())
    }

    /// Maps grant `frames` (their machine frames from [`setup_table`]) into the PV table area,
    /// which has room for `max` frames.
    pub fn map_frames(&self, frames: &mut [Frame], max: u32) -> Result {
        let mut addr = self.entries.load(Ordering::Acquire);
        // SAFETY: `frames` holds `frames.len()` frames; the arch code maps them into the area
        // that `arch_init` reserved for `max` frames and stores its address in `addr` if null.
        to_result(unsafe {
            bindings::arch_gnttab_map_shared(
                frames.as_mut_ptr(),
                frames.len() as c_ulong,
                max as c_ulong,
                &mut addr,
            )
        })?;
        self.entries.store(addr, Ordering::Release);
        Ok(())
    }

    /// Maps the v2 status `frames` into the PV status area, which has room for `max` frames.
    pub fn map_status(&self, frames: &mut [u64], max: u32) -> Result {
        let mut addr = self.status.load(Ordering::Acquire);
        // SAFETY: As in `map_frames`, for the status area.
        to_result(unsafe {
            bindings::arch_gnttab_map_status(
                frames.as_mut_ptr(),
                frames.len() as c_ulong,
                max as c_ulong,
                &mut addr,
            )
        })?;
        self.status.store(addr, Ordering::Release);
        Ok(())
    }

    /// Records that `entries` entries are mapped and usable.
    pub fn set_capacity(&self, entries: u32) {
        self.capacity.store(entries, Ordering::Release);
    }

    /// Unmaps `frames` grant frames and `status` status frames before suspending (PV).
    pub fn suspend(&self, frames: u32, status: u32) {
        self.capacity.store(0, Ordering::Release);
        let entries = self.entries.load(Ordering::Acquire);
        if !entries.is_null() {
            // SAFETY: `entries` maps at least `frames` frames (type invariant); nothing reads
            // them until they are mapped again (capacity is 0).
            unsafe { bindings::arch_gnttab_unmap(entries, frames as c_ulong) };
        }
        let st = self.status.load(Ordering::Acquire);
        if self.version() == Version::V2 && !st.is_null() {
            // SAFETY: As above, for the status frames.
            unsafe { bindings::arch_gnttab_unmap(st.cast(), status as c_ulong) };
        }
    }

    fn check(&self, r: GrantRef) -> Option<*mut c_void> {
        let entries = self.entries.load(Ordering::Acquire);
        (r < self.capacity() && !entries.is_null()).then_some(entries)
    }

    /// Lets `domid` access `frame` through entry `r`; returns `false` if `r` is not mapped.
    pub fn grant(&self, r: GrantRef, domid: DomId, frame: u64, readonly: bool) -> bool {
        let Some(entries) = self.check(r) else {
            return false;
        };
        let flags = GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 };
        match self.version() {
            Version::V1 => {
                let e = entries.cast::<bindings::grant_entry_v1>();
                // SAFETY: `r` is below the capacity (checked), so the entry is mapped (type
                // invariant). The domain id and frame are written before the flags, with a
                // release store, so the hypervisor never sees a valid entry with stale data.
                unsafe {
                    let e = e.add(r as usize);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).domid), domid);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).frame), frame as u32);
                    fence(Ordering::Release);
                    AtomicU16::from_ptr(ptr::addr_of_mut!((*e).flags))
                        .store(flags, Ordering::Release);
                }
            }
            Version::V2 => {
                let e = entries.cast::<bindings::grant_entry_v2>();
                // SAFETY: As for v1.
                unsafe {
                    let e = e.add(r as usize);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).hdr.domid), domid);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).full_page.frame), frame);
                    fence(Ordering::Release);
                    AtomicU16::from_ptr(ptr::addr_of_mut!((*e).hdr.flags))
                        .store(flags, Ordering::Release);
                }
            }
        }
        true
    }

    /// Ends access through entry `r` unless the remote domain maps it now.
    ///
    /// Returns `Some(true)` if the entry is no longer accessible, `Some(false)` if it is still
    /// in use (it stays granted), `None` if `r` is not a mapped entry.
    pub fn end_access(&self, r: GrantRef) -> Option<bool> {
        let entries = self.check(r)?;
        match self.version() {
            Version::V1 => {
                let e = entries.cast::<bindings::grant_entry_v1>();
                // SAFETY: The entry is mapped (checked); the hypervisor updates its flags with
                // atomic operations too, which is what `AtomicU16` does here.
                let flags =
                    unsafe { AtomicU16::from_ptr(ptr::addr_of_mut!((*e.add(r as usize)).flags)) };
                let mut cur = flags.load(Ordering::Relaxed);
                loop {
                    if cur & GTF_IN_USE != 0 {
                        return Some(false);
                    }
                    match flags.compare_exchange(cur, 0, Ordering::SeqCst, Ordering::Relaxed) {
                        Ok(_) => return Some(true),
                        Err(now) => cur = now,
                    }
                }
            }
            Version::V2 => {
                let st = self.status.load(Ordering::Acquire);
                if st.is_null() {
                    return None;
                }
                let e = entries.cast::<bindings::grant_entry_v2>();
                // SAFETY: The entry and its status word are mapped (checked). Clearing the
                // flags, a full barrier, then reading the status: if the status shows no
                // mapping, the hypervisor can no longer start one.
                unsafe {
                    AtomicU16::from_ptr(ptr::addr_of_mut!((*e.add(r as usize)).hdr.flags))
                        .store(0, Ordering::SeqCst);
                    fence(Ordering::SeqCst);
                    let status = AtomicU16::from_ptr(st.add(r as usize)).load(Ordering::Acquire);
                    Some(status & GTF_IN_USE == 0)
                }
            }
        }
    }

    /// The frame entry `r` grants.
    pub fn frame(&self, r: GrantRef) -> Option<u64> {
        let entries = self.check(r)?;
        // SAFETY: The entry is mapped (checked); a volatile read of a field the hypervisor
        // does not change.
        Some(unsafe {
            match self.version() {
                Version::V1 => {
                    let e = entries.cast::<bindings::grant_entry_v1>().add(r as usize);
                    u64::from(ptr::read_volatile(ptr::addr_of!((*e).frame)))
                }
                Version::V2 => {
                    let e = entries.cast::<bindings::grant_entry_v2>().add(r as usize);
                    ptr::read_volatile(ptr::addr_of!((*e).full_page.frame))
                }
            }
        })
    }
}

/// A page that C code passes in, with its reference count.
///
/// # Invariants
///
/// `page` points to a valid `struct page`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PageHandle {
    page: NonNull<bindings::page>,
}

// SAFETY: `struct page` is a global object; the operations used here are safe on any CPU.
unsafe impl Send for PageHandle {}

impl PageHandle {
    /// `page->flags`, which the kernel changes with atomic bit operations.
    fn flags(&self) -> &AtomicUsize {
        // SAFETY: The page is valid (type invariant); `flags` is an aligned `unsigned long`
        // that every writer changes atomically (`set_bit()` and friends).
        unsafe { AtomicUsize::from_ptr(ptr::addr_of_mut!((*self.as_ptr()).flags).cast()) }
    }

    /// `SetPagePrivate()`: `page->private` holds data.
    pub fn set_private(&self) {
        self.flags()
            .fetch_or(1 << bindings::pageflags_PG_private, Ordering::Relaxed);
    }

    /// `ClearPagePrivate()` if `PagePrivate()`.
    pub fn clear_private(&self) {
        let bit = 1 << bindings::pageflags_PG_private;
        if self.flags().load(Ordering::Relaxed) & bit != 0 {
            self.flags().fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Wraps `page`, or returns `None` for a null pointer.
    ///
    /// # Safety
    ///
    /// `page` is null or points to a valid `struct page` that outlives the handle.
    pub unsafe fn from_raw(page: *mut bindings::page) -> Option<Self> {
        NonNull::new(page).map(|page| Self { page })
    }

    /// The page that holds guest frame `gfn`, with a new reference.
    pub fn get_by_gfn(gfn: u64) -> Option<Self> {
        // SAFETY: `gfn` is a frame this domain granted, so it maps to one of its pages, as C's
        // gnttab_add_deferred() assumes too.
        let page = unsafe { bindings::pfn_to_page(bindings::gfn_to_pfn(gfn as c_ulong)) };
        // SAFETY: A page of this domain, or null (checked).
        let this = unsafe { Self::from_raw(page) }?;
        this.get();
        Some(this)
    }

    /// Takes a reference (`get_page`).
    pub fn get(&self) {
        // SAFETY: Valid page (type invariant).
        unsafe { bindings::get_page(self.page.as_ptr()) }
    }

    /// Drops a reference (`put_page`): the caller gives up one it owned.
    pub fn put(self) {
        // SAFETY: Valid page (type invariant); the caller owned the reference.
        unsafe { bindings::put_page(self.page.as_ptr()) }
    }

    /// The reference count.
    pub fn count(&self) -> i32 {
        // SAFETY: Valid page (type invariant).
        unsafe { bindings::page_count(self.page.as_ptr()) }
    }

    /// The page frame number.
    pub fn pfn(&self) -> u64 {
        // SAFETY: Valid page (type invariant).
        unsafe { bindings::page_to_pfn(self.page.as_ptr()) as u64 }
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }
}

/// An array of pages a C caller passes in (`struct page **pages`, `count`).
///
/// # Invariants
///
/// `pages` points to `len` valid page pointers for the lifetime `'a`.
pub struct PageArray<'a> {
    pages: *mut *mut bindings::page,
    len: usize,
    _p: core::marker::PhantomData<&'a mut [*mut bindings::page]>,
}

impl<'a> PageArray<'a> {
    /// Wraps a C page array.
    ///
    /// # Safety
    ///
    /// `pages` points to `len` pointers to valid pages, for `'a`.
    pub unsafe fn from_raw(pages: *mut *mut bindings::page, len: usize) -> Self {
        Self {
            pages,
            len,
            _p: core::marker::PhantomData,
        }
    }

    /// The number of pages.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Page `i`.
    pub fn get(&self, i: usize) -> Option<PageHandle> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i` is in bounds and the pointers are valid pages (type invariant).
        unsafe { PageHandle::from_raw(*self.pages.add(i)) }
    }

    /// Marks page `i` as mapping grant `gref` of `domid` (`SetPageForeign`).
    pub fn set_foreign(&self, i: usize, domid: DomId, gref: GrantRef) {
        if let Some(p) = self.get(i) {
            // SAFETY: A valid page the caller is mapping a grant into.
            unsafe { bindings::xen_page_set_foreign(p.as_ptr(), domid, gref) }
        }
    }

    /// Clears the foreign mark of page `i`.
    pub fn clear_foreign(&self, i: usize) {
        if let Some(p) = self.get(i) {
            // SAFETY: A valid page the caller is unmapping.
            unsafe { bindings::xen_page_clear_foreign(p.as_ptr()) }
        }
    }

    fn as_ptr(&self) -> *mut *mut bindings::page {
        self.pages
    }
}

/// A grant-table operation that can be batched and retried.
pub trait GrantOp {
    /// The `GNTTABOP_*` command.
    const CMD: u32;
    /// The status the hypervisor left.
    fn status(&self) -> i16;
    /// Overrides the status (when the retries give up).
    fn set_status(&mut self, status: i16);
}

macro_rules! grant_op {
    ($(#[$m:meta])* $name:ident, $c:ident, $cmd:expr) => {
        $(#[$m])*
        #[repr(transparent)]
        pub struct $name(bindings::$c);

        impl GrantOp for $name {
            const CMD: u32 = $cmd;
            fn status(&self) -> i16 {
                // SAFETY: The hypervisor may have written the field during a call on another
                // batch element; a volatile read of an aligned i16.
                unsafe { ptr::read_volatile(ptr::addr_of!(self.0.status)) }
            }
            fn set_status(&mut self, status: i16) {
                self.0.status = status;
            }
        }
    };
}

grant_op!(
    /// A `struct gnttab_map_grant_ref`.
    MapOp, gnttab_map_grant_ref, bindings::GNTTABOP_map_grant_ref
);
grant_op!(
    /// A `struct gnttab_unmap_grant_ref`.
    UnmapOp, gnttab_unmap_grant_ref, bindings::GNTTABOP_unmap_grant_ref
);
grant_op!(
    /// A `struct gnttab_copy`.
    CopyOp, gnttab_copy, bindings::GNTTABOP_copy
);

impl MapOp {
    /// The granting domain.
    pub fn dom(&self) -> DomId {
        self.0.dom
    }

    /// The grant reference.
    pub fn gref(&self) -> GrantRef {
        self.0.ref_
    }
}

/// Runs `ops` as one hypercall; `Err` if the hypercall itself failed (each op has a status).
pub fn batch_op<T: GrantOp>(ops: &mut [T]) -> Result {
    to_result(grant_table_op(T::CMD, ops.as_mut_ptr(), ops.len() as u32))
}

/// The optional kernel-mapping operations a caller passes beside a map or unmap batch.
///
/// # Invariants
///
/// `ops` is null or points to as many operations as the batch it belongs to.
pub struct KernelOps<T> {
    ops: *mut T,
}

/// Records the foreign mappings `ops` made in the P2M (`set_foreign_p2m_mapping`).
pub fn set_foreign_p2m(ops: &mut [MapOp], kops: &KernelOps<MapOp>, pages: &PageArray<'_>) -> c_int {
    let n = ops.len().min(pages.len());
    // SAFETY: `ops`, `kops.ops` (type invariant) and `pages` describe `n` operations.
    unsafe {
        bindings::xen_set_foreign_p2m_mapping(
            ops.as_mut_ptr().cast(),
            kops.ops.cast(),
            pages.as_ptr(),
            n as c_uint,
        )
    }
}

/// Removes the foreign mappings `ops` undid from the P2M (`clear_foreign_p2m_mapping`).
pub fn clear_foreign_p2m(
    ops: &mut [UnmapOp],
    kops: &KernelOps<UnmapOp>,
    pages: &PageArray<'_>,
) -> c_int {
    let n = ops.len().min(pages.len());
    // SAFETY: As in `set_foreign_p2m`.
    unsafe {
        bindings::xen_clear_foreign_p2m_mapping(
            ops.as_mut_ptr().cast(),
            kops.ops.cast(),
            pages.as_ptr(),
            n as c_uint,
        )
    }
}

/// A free callback a C caller registers (`struct gnttab_free_callback`), linked through its
/// own `next` field.
///
/// Copies name the same structure; they are used under the grant table's lock only.
///
/// # Invariants
///
/// `cb` points to a valid callback structure that its owner keeps alive until it has run or
/// been cancelled (the contract of `gnttab_request_free_callback()`).
#[derive(Clone)]
pub struct FreeCallback {
    cb: NonNull<bindings::gnttab_free_callback>,
}

// SAFETY: The structure is only touched under the grant table's lock.
unsafe impl Send for FreeCallback {}

/// The function and argument of a free callback.
pub struct CallbackFn {
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
}

impl FreeCallback {
    /// Wraps a C callback structure.
    ///
    /// # Safety
    ///
    /// `cb` is null or valid until it has run or been cancelled.
    pub unsafe fn from_raw(cb: *mut bindings::gnttab_free_callback) -> Option<Self> {
        NonNull::new(cb).map(|cb| Self { cb })
    }

    /// Whether both name the same structure.
    pub fn same(&self, other: &FreeCallback) -> bool {
        self.cb == other.cb
    }

    /// The next callback of the list.
    pub fn next(&self) -> Option<FreeCallback> {
        // SAFETY: Valid (type invariant); its `next` is null or another registered callback.
        unsafe { Self::from_raw((*self.cb.as_ptr()).next) }
    }

    /// Links `next` after this callback.
    pub fn set_next(&self, next: Option<&FreeCallback>) {
        let p = next.map_or(ptr::null_mut(), |n| n.cb.as_ptr());
        // SAFETY: Valid (type invariant); the caller holds the list lock.
        unsafe { (*self.cb.as_ptr()).next = p };
    }

    /// The number of free references the callback waits for.
    pub fn count(&self) -> u16 {
        // SAFETY: Valid (type invariant).
        unsafe { (*self.cb.as_ptr()).count }
    }

    /// Sets what the callback runs and how many free references it waits for.
    pub fn fill(&self, func: &CallbackFn, count: u16) {
        // SAFETY: Valid (type invariant); the caller holds the list lock.
        unsafe {
            let cb = self.cb.as_ptr();
            (*cb).fn_ = func.func;
            (*cb).arg = func.arg;
            (*cb).count = count;
        }
    }

    /// Runs the callback; afterwards the owner may free or reuse it.
    pub fn call(self) {
        // SAFETY: Valid (type invariant).
        let (func, arg) = unsafe { ((*self.cb.as_ptr()).fn_, (*self.cb.as_ptr()).arg) };
        if let Some(func) = func {
            // SAFETY: The function and argument the owner registered together.
            unsafe { func(arg) }
        }
    }
}

/// An asynchronous unmap request (`struct gntab_unmap_queue_data`).
///
/// # Invariants
///
/// `item` points to a valid request that its owner keeps alive until `done` was called.
pub struct UnmapItem {
    item: NonNull<bindings::gntab_unmap_queue_data>,
}

// SAFETY: The owner hands the request over until `done`; it is used by one thread at a time.
unsafe impl Send for UnmapItem {}

impl UnmapItem {
    /// How many times the request was retried.
    pub fn age(&self) -> u32 {
        // SAFETY: Valid (type invariant).
        unsafe { (*self.item.as_ptr()).age }
    }

    /// Sets the retry count.
    pub fn set_age(&mut self, age: u32) {
        // SAFETY: Valid (type invariant), owned by us until `done`.
        unsafe { (*self.item.as_ptr()).age = age };
    }

    /// Whether any of the pages still has other users than the mapping.
    pub fn pages_busy(&self) -> bool {
        self.with_batch(|_, _, pages| {
            (0..pages.len()).any(|i| pages.get(i).is_some_and(|p| p.count() > 1))
        })
    }

    /// Calls `f` with the operations, kernel operations and pages of the request.
    pub fn with_batch<R>(
        &self,
        f: impl FnOnce(&mut [UnmapOp], &KernelOps<UnmapOp>, &PageArray<'_>) -> R,
    ) -> R {
        // SAFETY: Valid request (type invariant) whose arrays hold `count` entries.
        unsafe {
            let item = self.item.as_ptr();
            let n = (*item).count as usize;
            let ops = core::slice::from_raw_parts_mut((*item).unmap_ops.cast::<UnmapOp>(), n);
            let kops = KernelOps {
                ops: (*item).kunmap_ops.cast::<UnmapOp>(),
            };
            let pages = PageArray::from_raw((*item).pages, n);
            f(ops, &kops, &pages)
        }
    }

    /// Runs the owner's completion with `result`; the request is the owner's again.
    pub fn done(self, result: c_int) {
        let item = self.item.as_ptr();
        // SAFETY: Valid (type invariant); `done` is the owner's callback for this request.
        unsafe {
            if let Some(done) = (*item).done {
                done(result, item);
            }
        }
    }

    /// Runs the request's work again after `delay_ms` milliseconds, on the system workqueue.
    pub fn schedule(self, delay_ms: u32) {
        let item = self.item.as_ptr();
        // SAFETY: The request (and so its delayed work) stays valid until `done`; the work was
        // initialised by `init_work` when the request came in.
        unsafe {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
                bindings::system_wq,
                ptr::addr_of_mut!((*item).gnttab_work),
                bindings::__msecs_to_jiffies(delay_ms),
            );
        }
    }

    /// Prepares the request's delayed work to run `f`.
    pub fn init_work(&mut self, f: unsafe extern "C" fn(*mut bindings::work_struct)) {
        // SAFETY: Valid request owned by us; its delayed work is idle (a new request).
        unsafe {
            bindings::init_delayed_work(
                ptr::addr_of_mut!((*self.item.as_ptr()).gnttab_work),
                Some(f),
            )
        };
    }

    /// The request whose delayed work is `work`.
    ///
    /// # Safety
    ///
    /// `work` is the work of a valid `gntab_unmap_queue_data` queued by [`UnmapItem::schedule`].
    pub unsafe fn from_work(work: *mut bindings::work_struct) -> Self {
        // `gnttab_work.work` is at offset 0 of the request.
        let item = work.cast::<bindings::gntab_unmap_queue_data>();
        // SAFETY: Non-null by the safety requirements.
        let item = unsafe { NonNull::new_unchecked(item) };
        Self { item }
    }

    /// Wraps a C request.
    ///
    /// # Safety
    ///
    /// `item` is null or a valid request, owned by the callee until `done`.
    pub unsafe fn from_raw(item: *mut bindings::gntab_unmap_queue_data) -> Option<Self> {
        NonNull::new(item).map(|item| Self { item })
    }
}

const _: () = assert!(core::mem::offset_of!(bindings::gntab_unmap_queue_data, gnttab_work) == 0);

/// The grant-table driver: the functions of `include/xen/grant_table.h` that keep state.
pub trait Driver {
    /// `gnttab_init()`.
    fn init() -> Result;
    /// `gnttab_suspend()`.
    fn suspend() -> Result;
    /// `gnttab_resume()`.
    fn resume() -> Result;
    /// `gnttab_max_grant_frames()`.
    fn max_grant_frames() -> u32;
    /// `gnttab_setup_auto_xlat_frames()`.
    fn setup_auto_xlat_frames(addr: u64) -> Result;
    /// `gnttab_grant_foreign_access_ref()`.
    fn grant_access_ref(r: GrantRef, domid: DomId, frame: u64, readonly: bool);
    /// `gnttab_grant_foreign_access()`.
    fn grant_access(domid: DomId, frame: u64, readonly: bool) -> Result<GrantRef>;
    /// `gnttab_end_foreign_access_ref()`: `true` if access ended.
    fn end_access_ref(r: GrantRef) -> bool;
    /// `gnttab_try_end_foreign_access()`: `true` if access ended and `r` was freed.
    fn try_end_access(r: GrantRef) -> bool;
    /// `gnttab_end_foreign_access()`: ends access now or later, then frees `r` and `page`.
    fn end_access(r: GrantRef, page: Option<PageHandle>);
    /// `gnttab_free_grant_reference()`.
    fn free_ref(r: GrantRef);
    /// `gnttab_free_grant_references()`.
    fn free_refs(head: GrantRef);
    /// `gnttab_free_grant_reference_seq()`.
    fn free_refs_seq(first: GrantRef, count: u32);
    /// `gnttab_alloc_grant_references()`: the head of a private list of `count` references.
    fn alloc_refs(count: u32) -> Result<GrantRef>;
    /// `gnttab_alloc_grant_reference_seq()`: the first of `count` consecutive references.
    fn alloc_refs_seq(count: u32) -> Result<GrantRef>;
    /// `gnttab_claim_grant_reference()`.
    fn claim_ref(head: &mut GrantRef) -> Result<GrantRef>;
    /// `gnttab_release_grant_reference()`.
    fn release_ref(head: &mut GrantRef, r: GrantRef);
    /// `gnttab_request_free_callback()`.
    fn request_free_callback(cb: FreeCallback, func: CallbackFn, count: u16);
    /// `gnttab_cancel_free_callback()`.
    fn cancel_free_callback(cb: FreeCallback);
    /// `gnttab_batch_map()` and `gnttab_batch_copy()`.
    fn batch<T: GrantOp>(ops: &mut [T]);
    /// `gnttab_map_refs()`.
    fn map_refs(ops: &mut [MapOp], kops: &KernelOps<MapOp>, pages: &PageArray<'_>) -> c_int;
    /// `gnttab_unmap_refs()`.
    fn unmap_refs(ops: &mut [UnmapOp], kops: &KernelOps<UnmapOp>, pages: &PageArray<'_>) -> c_int;
    /// `gnttab_unmap_refs_async()`, and each retry of it.
    fn unmap_refs_async(item: UnmapItem);
}

/// Defines the C functions of `include/xen/grant_table.h` on top of a [`Driver`].
///
/// The functions `grant-table.c` exports to modules are defined with a `rust_` prefix: a C
/// file of the driver defines each under its own name as a call to its `rust_` twin and
/// exports it right after (`EXPORT_SYMBOL_GPL`, the licence `grant-table.c` uses), so that
/// the compiler checks it against the header's prototype. The others (`gnttab_init()`,
/// `gnttab_suspend()`, ...) only have built-in callers and keep their names here.
#[macro_export]
macro_rules! export_grant_table {
    ($d:ty) => {
        const _: () = {
            use gt::Driver as _;
            use $crate::bindings as b;
            use $crate::ffi::{c_int, c_uint, c_ulong, c_void};
            use $crate::xen::grant_table as gt;

            fn errno(e: $crate::error::Error) -> c_int {
                e.to_errno()
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_init() -> c_int {
                <$d>::init().map_or_else(errno, |()| 0)
            }

            #[no_mangle]
            extern "C" fn gnttab_suspend() -> c_int {
                <$d>::suspend().map_or_else(errno, |()| 0)
            }

            #[no_mangle]
            extern "C" fn gnttab_resume() -> c_int {
                <$d>::resume().map_or_else(errno, |()| 0)
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_max_grant_frames() -> c_uint {
                <$d>::max_grant_frames()
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_setup_auto_xlat_frames(addr: b::phys_addr_t) -> c_int {
                <$d>::setup_auto_xlat_frames(addr as u64).map_or_else(errno, |()| 0)
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_free_auto_xlat_frames() {
                gt::AutoXlatFrames::free()
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_grant_foreign_access_ref(
                r: b::grant_ref_t,
                domid: b::domid_t,
                frame: c_ulong,
                readonly: c_int,
            ) {
                <$d>::grant_access_ref(r, domid, frame as u64, readonly != 0)
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_grant_foreign_access(
                domid: b::domid_t,
                frame: c_ulong,
                readonly: c_int,
            ) -> c_int {
                match <$d>::grant_access(domid, frame as u64, readonly != 0) {
                    Ok(r) => r as c_int,
                    Err(_) => $crate::error::code::ENOSPC.to_errno(),
                }
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_end_foreign_access_ref(r: b::grant_ref_t) -> c_int {
                <$d>::end_access_ref(r) as c_int
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_try_end_foreign_access(r: b::grant_ref_t) -> c_int {
                <$d>::try_end_access(r) as c_int
            }

            /// # Safety
            ///
            /// `page` is null or a page whose reference the caller hands over.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_end_foreign_access(
                r: b::grant_ref_t,
                page: *mut b::page,
            ) {
                // SAFETY: By the safety requirements.
                <$d>::end_access(r, unsafe { gt::PageHandle::from_raw(page) })
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_free_grant_reference(r: b::grant_ref_t) {
                <$d>::free_ref(r)
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_free_grant_references(head: b::grant_ref_t) {
                <$d>::free_refs(head)
            }

            #[no_mangle]
            extern "C" fn rust_gnttab_free_grant_reference_seq(
                head: b::grant_ref_t,
                count: c_uint,
            ) {
                <$d>::free_refs_seq(head, count)
            }

            /// # Safety
            ///
            /// `head` is valid for writes.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_alloc_grant_references(
                count: u16,
                head: *mut b::grant_ref_t,
            ) -> c_int {
                match <$d>::alloc_refs(count.into()) {
                    Ok(h) => {
                        // SAFETY: By the safety requirements.
                        unsafe { *head = h };
                        0
                    }
                    Err(_) => $crate::error::code::ENOSPC.to_errno(),
                }
            }

            /// # Safety
            ///
            /// `first` is valid for writes.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_alloc_grant_reference_seq(
                count: c_uint,
                first: *mut b::grant_ref_t,
            ) -> c_int {
                match <$d>::alloc_refs_seq(count) {
                    Ok(h) => {
                        // SAFETY: By the safety requirements.
                        unsafe { *first = h };
                        0
                    }
                    Err(_) => $crate::error::code::ENOSPC.to_errno(),
                }
            }

            /// # Safety
            ///
            /// `head` is valid for reads.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_empty_grant_references(
                head: *const b::grant_ref_t,
            ) -> c_int {
                // SAFETY: By the safety requirements.
                (unsafe { *head } == gt::LIST_END) as c_int
            }

            /// # Safety
            ///
            /// `head` is valid for reads and writes.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_claim_grant_reference(
                head: *mut b::grant_ref_t,
            ) -> c_int {
                // SAFETY: By the safety requirements.
                let head = unsafe { &mut *head };
                match <$d>::claim_ref(head) {
                    Ok(r) => r as c_int,
                    Err(_) => $crate::error::code::ENOSPC.to_errno(),
                }
            }

            /// # Safety
            ///
            /// `head` is valid for reads and writes.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_release_grant_reference(
                head: *mut b::grant_ref_t,
                release: b::grant_ref_t,
            ) {
                // SAFETY: By the safety requirements.
                <$d>::release_ref(unsafe { &mut *head }, release)
            }

            /// # Safety
            ///
            /// `cb` stays valid until it ran or was cancelled; `func(arg)` may be called
            /// from any context that frees grant references.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_request_free_callback(
                cb: *mut b::gnttab_free_callback,
                func: Option<unsafe extern "C" fn(*mut c_void)>,
                arg: *mut c_void,
                count: u16,
            ) {
                // SAFETY: By the safety requirements.
                if let Some(cb) = unsafe { gt::FreeCallback::from_raw(cb) } {
                    <$d>::request_free_callback(cb, gt::CallbackFn::new(func, arg), count)
                }
            }

            /// # Safety
            ///
            /// `cb` is valid.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_cancel_free_callback(
                cb: *mut b::gnttab_free_callback,
            ) {
                // SAFETY: By the safety requirements.
                if let Some(cb) = unsafe { gt::FreeCallback::from_raw(cb) } {
                    <$d>::cancel_free_callback(cb)
                }
            }

            /// # Safety
            ///
            /// `batch` holds `count` operations.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_batch_map(
                batch: *mut b::gnttab_map_grant_ref,
                count: c_uint,
            ) {
                // SAFETY: By the safety requirements; `MapOp` is transparent.
                let ops = unsafe { gt::ops_from_raw::<gt::MapOp, _>(batch, count) };
                <$d>::batch(ops)
            }

            /// # Safety
            ///
            /// `batch` holds `count` operations.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_batch_copy(batch: *mut b::gnttab_copy, count: c_uint) {
                // SAFETY: By the safety requirements; `CopyOp` is transparent.
                let ops = unsafe { gt::ops_from_raw::<gt::CopyOp, _>(batch, count) };
                <$d>::batch(ops)
            }

            /// # Safety
            ///
            /// `map_ops` and `pages` hold `count` entries, `kmap_ops` is null or does too.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_map_refs(
                map_ops: *mut b::gnttab_map_grant_ref,
                kmap_ops: *mut b::gnttab_map_grant_ref,
                pages: *mut *mut b::page,
                count: c_uint,
            ) -> c_int {
                // SAFETY: By the safety requirements.
                let (ops, kops, pages) = unsafe {
                    (
                        gt::ops_from_raw::<gt::MapOp, _>(map_ops, count),
                        gt::KernelOps::from_raw(kmap_ops),
                        gt::PageArray::from_raw(pages, count as usize),
                    )
                };
                <$d>::map_refs(ops, &kops, &pages)
            }

            /// # Safety
            ///
            /// `unmap_ops` and `pages` hold `count` entries, `kunmap_ops` is null or does too.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_unmap_refs(
                unmap_ops: *mut b::gnttab_unmap_grant_ref,
                kunmap_ops: *mut b::gnttab_unmap_grant_ref,
                pages: *mut *mut b::page,
                count: c_uint,
            ) -> c_int {
                // SAFETY: By the safety requirements.
                let (ops, kops, pages) = unsafe {
                    (
                        gt::ops_from_raw::<gt::UnmapOp, _>(unmap_ops, count),
                        gt::KernelOps::from_raw(kunmap_ops),
                        gt::PageArray::from_raw(pages, count as usize),
                    )
                };
                <$d>::unmap_refs(ops, &kops, &pages)
            }

            /// # Safety
            ///
            /// `work` belongs to a request queued by `gnttab_unmap_refs_async`.
            unsafe extern "C" fn unmap_work(work: *mut b::work_struct) {
                // SAFETY: By the safety requirements.
                let mut item = unsafe { gt::UnmapItem::from_work(work) };
                if item.age() != u32::MAX {
                    item.set_age(item.age() + 1);
                }
                <$d>::unmap_refs_async(item)
            }

            /// # Safety
            ///
            /// `item` is a valid request, the callee's until its `done` runs.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_unmap_refs_async(
                item: *mut b::gntab_unmap_queue_data,
            ) {
                // SAFETY: By the safety requirements.
                if let Some(mut item) = unsafe { gt::UnmapItem::from_raw(item) } {
                    item.init_work(unmap_work);
                    item.set_age(0);
                    <$d>::unmap_refs_async(item)
                }
            }

            /// # Safety
            ///
            /// `item` is a valid request.
            #[no_mangle]
            unsafe extern "C" fn rust_gnttab_unmap_refs_sync(
                item: *mut b::gntab_unmap_queue_data,
            ) -> c_int {
                // SAFETY: By the safety requirements.
                unsafe { gt::unmap_refs_sync(item, rust_gnttab_unmap_refs_async) }
            }
        };
    };
}

impl CallbackFn {
    /// Pairs a C function with its argument.
    pub fn new(func: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) -> Self {
        Self { func, arg }
    }
}

impl<T> KernelOps<T> {
    /// Wraps the optional kernel operations of a batch.
    ///
    /// # Safety
    ///
    /// `ops` is null or points to as many operations as the batch it goes with.
    pub unsafe fn from_raw<C>(ops: *mut C) -> Self {
        // INVARIANT: By the safety requirements; `T` is a transparent wrapper of `C`.
        Self { ops: ops.cast() }
    }
}

/// The operations of a C batch as a slice.
///
/// # Safety
///
/// `ops` points to `count` valid operations of type `C`, of which `T` is a transparent
/// wrapper, not used elsewhere while the slice lives.
pub unsafe fn ops_from_raw<'a, T: GrantOp, C>(ops: *mut C, count: c_uint) -> &'a mut [T] {
    if ops.is_null() || count == 0 {
        return &mut [];
    }
    // SAFETY: By the safety requirements.
    unsafe { core::slice::from_raw_parts_mut(ops.cast::<T>(), count as usize) }
}

struct SyncData {
    completion: bindings::completion,
    result: c_int,
}

/// Completion callback of the asynchronous unmap that [`unmap_refs_sync`] waits for.
///
/// # Safety
///
/// Called by the asynchronous unmap with the request `unmap_refs_sync` queued, whose `data`
/// points at the `SyncData` it waits on.
unsafe extern "C" fn sync_done(result: c_int, item: *mut bindings::gntab_unmap_queue_data) {
    // SAFETY: `data` was set to a live `SyncData` by `unmap_refs_sync`, which waits for this.
    unsafe {
        let data = (*item).data.cast::<SyncData>();
        (*data).result = result;
        bindings::complete(ptr::addr_of_mut!((*data).completion));
    }
}

/// `gnttab_unmap_refs_sync()`: runs an asynchronous unmap and waits for its result.
///
/// # Safety
///
/// `item` is null or a valid request; `start` is the driver's `gnttab_unmap_refs_async()`
/// (`rust_gnttab_unmap_refs_async`).
pub unsafe fn unmap_refs_sync(
    item: *mut bindings::gntab_unmap_queue_data,
    start: unsafe extern "C" fn(*mut bindings::gntab_unmap_queue_data),
) -> c_int {
    if item.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: All-zeroes is a valid completion before `init_completion`.
    let mut data: SyncData = unsafe { core::mem::zeroed() };
    // SAFETY: `data` lives on this stack frame until the completion fires (waited for below);
    // `item` is valid by the safety requirements.
    unsafe {
        bindings::init_completion(ptr::addr_of_mut!(data.completion));
        (*item).data = ptr::addr_of_mut!(data).cast();
        (*item).done = Some(sync_done);
        start(item);
        bindings::wait_for_completion(ptr::addr_of_mut!(data.completion));
    }
    data.result
}

// ---------------------------------------------------------------------------------------------
// Page helpers of the C interface: no grant-table state.

/// # Safety
///
/// `pages` holds `nr` valid pages.
unsafe fn pages<'a>(nr: c_int, pages: *mut *mut bindings::page) -> PageArray<'a> {
    // SAFETY: By the safety requirements.
    unsafe { PageArray::from_raw(pages, nr.max(0) as usize) }
}

/// `gnttab_pages_set_private()`.
///
/// # Safety
///
/// `p` holds `nr` valid pages.
#[no_mangle]
pub unsafe extern "C" fn gnttab_pages_set_private(nr: c_int, p: *mut *mut bindings::page) -> c_int {
    // SAFETY: By the safety requirements.
    let p = unsafe { pages(nr, p) };
    for i in 0..p.len() {
        if let Some(page) = p.get(i) {
            // On 64-bit kernels (the only ones Rust builds for on x86) the foreign data fits
            // in `page->private`: no allocation.
            page.set_private();
        }
    }
    0
}

/// `gnttab_pages_clear_private()`.
///
/// # Safety
///
/// `p` holds `nr` valid pages.
#[no_mangle]
pub unsafe extern "C" fn gnttab_pages_clear_private(nr: c_int, p: *mut *mut bindings::page) {
    // SAFETY: By the safety requirements.
    let p = unsafe { pages(nr, p) };
    for i in 0..p.len() {
        if let Some(page) = p.get(i) {
            page.clear_private();
        }
    }
}

/// `gnttab_alloc_pages()`: pages suitable for mapping grants into.
///
/// # Safety
///
/// `p` has room for `nr` page pointers.
#[no_mangle]
pub unsafe extern "C" fn gnttab_alloc_pages(nr: c_int, p: *mut *mut bindings::page) -> c_int {
    let Ok(n) = c_uint::try_from(nr) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `p` has room for `n` pointers (safety requirements).
    let ret = unsafe { bindings::xen_unpopulated_alloc(n, p) };
    if ret < 0 {
        return ret;
    }
    // SAFETY: The allocation filled `p` with `nr` valid pages.
    let ret = unsafe { gnttab_pages_set_private(nr, p) };
    if ret < 0 {
        // SAFETY: As above.
        unsafe { gnttab_free_pages(nr, p) };
    }
    ret
}

/// `gnttab_free_pages()`: frees pages from [`gnttab_alloc_pages`].
///
/// # Safety
///
/// `p` holds `nr` pages from `gnttab_alloc_pages()`.
#[no_mangle]
pub unsafe extern "C" fn gnttab_free_pages(nr: c_int, p: *mut *mut bindings::page) {
    // SAFETY: By the safety requirements.
    unsafe {
        gnttab_pages_clear_private(nr, p);
        bindings::xen_unpopulated_free(nr.max(0) as c_uint, p);
    }
}

/// `gnttab_page_cache_init()`.
///
/// # Safety
///
/// `cache` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gnttab_page_cache_init(cache: *mut bindings::gnttab_page_cache) {
    // SAFETY: By the safety requirements.
    unsafe {
        bindings::__spin_lock_init(
            ptr::addr_of_mut!((*cache).lock),
            crate::c_str!("&cache->lock").as_char_ptr(),
            crate::static_lock_class!().as_ptr(),
        );
        cache_init(cache);
        (*cache).num_pages = 0;
    }
}

#[cfg(CONFIG_XEN_UNPOPULATED_ALLOC)]
mod cache {
    use super::*;

    /// # Safety
    ///
    /// `c` is a valid cache.
    pub(super) unsafe fn cache_init(c: *mut bindings::gnttab_page_cache) {
        // SAFETY: The caller passes a valid cache.
        unsafe { (*c).pages = ptr::null_mut() };
    }

    /// # Safety
    ///
    /// `c` is a valid cache whose lock the caller holds.
    pub(super) unsafe fn cache_empty(c: *mut bindings::gnttab_page_cache) -> bool {
        // SAFETY: The caller passes a valid cache and holds its lock.
        unsafe { (*c).pages.is_null() }
    }

    /// # Safety
    ///
    /// `c` is a valid, non-empty cache whose lock the caller holds.
    pub(super) unsafe fn cache_deq(c: *mut bindings::gnttab_page_cache) -> *mut bindings::page {
        // SAFETY: The caller passes a valid, non-empty cache and holds its lock; cached pages
        // are linked through `zone_device_data`.
        unsafe {
            let page = (*c).pages;
            (*c).pages = bindings::page_zone_device_data(page).cast();
            page
        }
    }

    /// # Safety
    ///
    /// `c` is a valid cache whose lock the caller holds; `page` is the caller's to give, with
    /// its `lru` unused.
    pub(super) unsafe fn cache_enq(c: *mut bindings::gnttab_page_cache, page: *mut bindings::page) {
        // SAFETY: As in `cache_deq`; the page is the caller's to give.
        unsafe {
            bindings::page_set_zone_device_data(page, (*c).pages.cast());
            (*c).pages = page;
        }
    }
}

#[cfg(not(CONFIG_XEN_UNPOPULATED_ALLOC))]
mod cache {
    use super::*;

    fn lru(page: *mut bindings::page) -> *mut bindings::list_head {
        page.cast::<u8>()
            .wrapping_add(bindings::PAGE_LRU_OFFSET)
            .cast()
    }

    /// # Safety
    ///
    /// `c` is a valid cache.
    pub(super) unsafe fn cache_init(c: *mut bindings::gnttab_page_cache) {
        // SAFETY: The caller passes a valid cache.
        unsafe { bindings::INIT_LIST_HEAD(ptr::addr_of_mut!((*c).pages)) };
    }

    /// # Safety
    ///
    /// `c` is a valid cache whose lock the caller holds.
    pub(super) unsafe fn cache_empty(c: *mut bindings::gnttab_page_cache) -> bool {
        // SAFETY: The caller passes a valid cache and holds its lock.
        unsafe { ptr::eq((*c).pages.next, ptr::addr_of!((*c).pages)) }
    }

    /// # Safety
    ///
    /// `c` is a valid, non-empty cache whose lock the caller holds.
    pub(super) unsafe fn cache_deq(c: *mut bindings::gnttab_page_cache) -> *mut bindings::page {
        // SAFETY: The caller passes a valid, non-empty cache and holds its lock; cached pages
        // are linked through `lru`.
        unsafe {
            let entry = (*c).pages.next;
            bindings::list_del(entry);
            entry.cast::<u8>().sub(bindings::PAGE_LRU_OFFSET).cast()
        }
    }

    /// # Safety
    ///
    /// `c` is a valid cache whose lock the caller holds; `page` is the caller's to give, with
    /// its `lru` unused.
    pub(super) unsafe fn cache_enq(c: *mut bindings::gnttab_page_cache, page: *mut bindings::page) {
        // SAFETY: As in `cache_deq`; the page is the caller's to give and its `lru` is free.
        unsafe { bindings::list_add(lru(page), ptr::addr_of_mut!((*c).pages)) };
    }
}

use cache::{cache_deq, cache_empty, cache_enq, cache_init};

/// `gnttab_page_cache_get()`: one page, from the cache or newly allocated.
///
/// # Safety
///
/// `cache` is initialised; `page` has room for one pointer.
#[no_mangle]
pub unsafe extern "C" fn gnttab_page_cache_get(
    cache: *mut bindings::gnttab_page_cache,
    page: *mut *mut bindings::page,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe {
        let flags = bindings::spin_lock_irqsave(ptr::addr_of_mut!((*cache).lock));
        if cache_empty(cache) {
            bindings::spin_unlock_irqrestore(ptr::addr_of_mut!((*cache).lock), flags);
            return gnttab_alloc_pages(1, page);
        }
        *page = cache_deq(cache);
        (*cache).num_pages -= 1;
        bindings::spin_unlock_irqrestore(ptr::addr_of_mut!((*cache).lock), flags);
    }
    0
}

/// `gnttab_page_cache_put()`: gives `num` pages to the cache.
///
/// # Safety
///
/// `cache` is initialised; `page` holds `num` pages from `gnttab_alloc_pages()`.
#[no_mangle]
pub unsafe extern "C" fn gnttab_page_cache_put(
    cache: *mut bindings::gnttab_page_cache,
    page: *mut *mut bindings::page,
    num: c_uint,
) {
    // SAFETY: By the safety requirements.
    unsafe {
        let flags = bindings::spin_lock_irqsave(ptr::addr_of_mut!((*cache).lock));
        for i in 0..num as usize {
            cache_enq(cache, *page.add(i));
        }
        (*cache).num_pages += num;
        bindings::spin_unlock_irqrestore(ptr::addr_of_mut!((*cache).lock), flags);
    }
}

/// `gnttab_page_cache_shrink()`: frees cached pages until at most `num` remain.
///
/// # Safety
///
/// `cache` is initialised.
#[no_mangle]
pub unsafe extern "C" fn gnttab_page_cache_shrink(
    cache: *mut bindings::gnttab_page_cache,
    num: c_uint,
) {
    let mut batch = [ptr::null_mut::<bindings::page>(); 10];
    let mut n = 0;
    // SAFETY: By the safety requirements; pages leave the cache under its lock and are freed
    // outside it, ten at a time, as in C.
    unsafe {
        let lock = ptr::addr_of_mut!((*cache).lock);
        let mut flags = bindings::spin_lock_irqsave(lock);
        while (*cache).num_pages > num {
            batch[n] = cache_deq(cache);
            (*cache).num_pages -= 1;
            n += 1;
            if n == batch.len() {
                bindings::spin_unlock_irqrestore(lock, flags);
                gnttab_free_pages(n as c_int, batch.as_mut_ptr());
                n = 0;
                flags = bindings::spin_lock_irqsave(lock);
            }
        }
        bindings::spin_unlock_irqrestore(lock, flags);
        if n != 0 {
            gnttab_free_pages(n as c_int, batch.as_mut_ptr());
        }
    }
}

/// `gnttab_foreach_grant_in_range()`: calls `f` for each Xen page of a range of `page`.
///
/// # Safety
///
/// `page` is valid; `f(…, data)` is safe to call.
#[no_mangle]
pub unsafe extern "C" fn gnttab_foreach_grant_in_range(
    page: *mut bindings::page,
    offset: c_uint,
    len: c_uint,
    f: bindings::xen_grant_fn_t,
    data: *mut c_void,
) {
    let Some(f) = f else { return };
    let page_size = bindings::PAGE_SIZE as c_uint;
    let mut len = len.min(page_size.saturating_sub(offset));
    let mut goffset = offset & (XEN_PAGE_SIZE - 1);
    // SAFETY: `page` is valid (safety requirements).
    let mut xen_pfn =
        unsafe { bindings::page_to_xen_pfn(page) } + (offset / XEN_PAGE_SIZE) as Frame;
    while len > 0 {
        let glen = (XEN_PAGE_SIZE - goffset).min(len);
        // SAFETY: By the safety requirements.
        unsafe { f(bindings::pfn_to_gfn(xen_pfn), goffset, glen, data) };
        goffset = 0;
        xen_pfn += 1;
        len -= glen;
    }
}

/// `gnttab_foreach_grant()`: calls `f` for each of the first `nr_grefs` Xen pages of `p`.
///
/// # Safety
///
/// `p` holds enough valid pages; `f(…, data)` is safe to call.
#[no_mangle]
pub unsafe extern "C" fn gnttab_foreach_grant(
    p: *mut *mut bindings::page,
    nr_grefs: c_uint,
    f: bindings::xen_grant_fn_t,
    data: *mut c_void,
) {
    let Some(f) = f else { return };
    let per_page = bindings::PAGE_SIZE as c_uint / XEN_PAGE_SIZE;
    let mut goffset = 0;
    let mut xen_pfn: Frame = 0;
    for i in 0..nr_grefs {
        if i % per_page == 0 {
            // SAFETY: `p` holds a page for every `per_page` grants (safety requirements).
            xen_pfn = unsafe { bindings::page_to_xen_pfn(*p.add((i / per_page) as usize)) };
            goffset = 0;
        }
        // SAFETY: By the safety requirements.
        unsafe { f(bindings::pfn_to_gfn(xen_pfn), goffset, XEN_PAGE_SIZE, data) };
        goffset += XEN_PAGE_SIZE;
        xen_pfn += 1;
    }
}

/// DMA buffers for mapping grants into (`CONFIG_XEN_GRANT_DMA_ALLOC`).
#[cfg(CONFIG_XEN_GRANT_DMA_ALLOC)]
pub mod dma {
    use super::*;

    /// Logs that Xen did not give back every frame of a DMA buffer (as C, at debug level).
    fn report_increase_failed() {
        crate::pr_debug!("Failed to increase reservation for DMA buffer\n");
    }

    /// `gnttab_dma_free_pages()`.
    ///
    /// # Safety
    ///
    /// `args` describes a buffer from `gnttab_dma_alloc_pages()`.
    #[no_mangle]
    pub unsafe extern "C" fn gnttab_dma_free_pages(
        args: *mut bindings::gnttab_dma_alloc_args,
    ) -> c_int {
        // SAFETY: By the safety requirements: `pages` and `frames` hold `nr_pages` entries.
        unsafe {
            let a = &mut *args;
            gnttab_pages_clear_private(a.nr_pages, a.pages);
            let n = a.nr_pages.max(0) as usize;
            for i in 0..n {
                *a.frames.add(i) = bindings::page_to_xen_pfn(*a.pages.add(i));
            }
            let got = bindings::xenmem_reservation_increase(a.nr_pages, a.frames);
            let ret = if got != a.nr_pages {
                report_increase_failed();
                EFAULT.to_errno()
            } else {
                0
            };
            bindings::xenmem_reservation_va_mapping_update(n as c_ulong, a.pages, a.frames);
            let size = n << bindings::PAGE_SHIFT;
            if a.coherent {
                bindings::dma_free_attrs(a.dev, size, a.vaddr, a.dev_bus_addr, 0);
            } else {
                bindings::dma_free_attrs(
                    a.dev,
                    size,
                    a.vaddr,
                    a.dev_bus_addr,
                    bindings::DMA_ATTR_WRITE_COMBINE as c_ulong,
                );
            }
            ret
        }
    }

    /// `gnttab_dma_alloc_pages()`: a DMA buffer whose frames are given back to Xen, ready
    /// for mapping grants into.
    ///
    /// # Safety
    ///
    /// `args` is valid, with `pages` and `frames` arrays of `nr_pages` entries.
    #[no_mangle]
    pub unsafe extern "C" fn gnttab_dma_alloc_pages(
        args: *mut bindings::gnttab_dma_alloc_args,
    ) -> c_int {
        // SAFETY: By the safety requirements.
        let a = unsafe { &mut *args };
        if a.nr_pages < 0 || a.nr_pages > (c_int::MAX >> bindings::PAGE_SHIFT) {
            return ENOMEM.to_errno();
        }
        let n = a.nr_pages as usize;
        let size = n << bindings::PAGE_SHIFT;
        let attrs = if a.coherent {
            0
        } else {
            bindings::DMA_ATTR_WRITE_COMBINE as c_ulong
        };
        // SAFETY: `dev` is the caller's device.
        a.vaddr = unsafe {
            bindings::dma_alloc_attrs(
                a.dev,
                size,
                &mut a.dev_bus_addr,
                bindings::GFP_KERNEL | bindings::__GFP_NOWARN,
                attrs,
            )
        };
        if a.vaddr.is_null() {
            crate::pr_debug!("Failed to allocate DMA buffer of size {}\n", size);
            return ENOMEM.to_errno();
        }
        let start_pfn = a.dev_bus_addr >> bindings::PAGE_SHIFT;
        for i in 0..n {
            // SAFETY: The buffer's pages are valid and ours; the arrays hold `n` entries.
            unsafe {
                let page = bindings::pfn_to_page((start_pfn + i as u64) as c_ulong);
                *a.pages.add(i) = page;
                *a.frames.add(i) = bindings::xen_page_to_gfn(page) as Frame;
                bindings::xenmem_reservation_scrub_page(page);
            }
        }
        // SAFETY: As above.
        let ret = unsafe {
            bindings::xenmem_reservation_va_mapping_reset(n as c_ulong, a.pages);
            bindings::xenmem_reservation_decrease(a.nr_pages, a.frames)
        };
        let ret = if ret != a.nr_pages {
            crate::pr_debug!("Failed to decrease reservation for DMA buffer\n");
            EFAULT.to_errno()
        } else {
            // SAFETY: `pages` holds `n` valid pages.
            unsafe { gnttab_pages_set_private(a.nr_pages, a.pages) }
        };
        if ret < 0 {
            // SAFETY: `args` describes the buffer allocated above.
            unsafe { gnttab_dma_free_pages(args) };
        }
        ret
    }
}

/// An error for "the hypervisor refused": `GNTST_*` statuses are not errnos.
pub fn status_error(status: i16) -> Error {
    match status {
        GNTST_EAGAIN => EAGAIN,
        GNTST_NO_DEVICE_SPACE => ENOSPC,
        _ => EIO,
    }
}
