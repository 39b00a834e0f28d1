// SPDX-License-Identifier: GPL-2.0

//! Xen grant tables: the shared entries and the grant-table hypercalls.
//!
//! C headers: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h),
//! [`include/xen/interface/grant_table.h`](srctree/include/xen/interface/grant_table.h)
//!
//! A guest lets another domain access one of its pages by filling an entry of its grant table,
//! a few frames of memory it shares with the hypervisor, and passing the entry's index (a
//! [`GrantRef`]) to the other domain. The hypervisor marks an entry "reading"/"writing" while
//! the other domain maps it, so ending access is a compare-and-exchange on the entry's flags
//! that must fail while those bits are set.
//!
//! This module holds what any grant-table implementation needs:
//!
//! - [`SharedTable`]: the mapped entries (layout v1 or v2) with the atomics the hypervisor
//!   protocol needs, bounds-checked against the entries mapped so far;
//! - the `GNTTABOP_*` hypercalls, with the operations of the map, unmap and copy batches
//!   ([`MapOp`], [`UnmapOp`], [`CopyOp`]).
//!
//! Whatever changes what memory another domain can reach, or what lies behind a frame of this
//! one, is `unsafe`: granting a frame, mapping the table, choosing its layout.

use crate::{
    bindings,
    error::{code::*, to_result, Error, Result},
    ffi::{c_int, c_ulong, c_void},
};
use core::{
    ptr,
    sync::atomic::{fence, AtomicPtr, AtomicU16, AtomicU32, Ordering},
};

/// A grant reference: an index into a grant table.
///
/// # Invariants
///
/// Never `INVALID_GRANT_REF` (`u32::MAX`, also `GNTTAB_LIST_END`): C's "no reference" is
/// `Option<GrantRef>` here.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub struct GrantRef(u32);

impl GrantRef {
    /// The reference `r`, or `None` for `INVALID_GRANT_REF`.
    pub const fn new(r: u32) -> Option<Self> {
        if r == u32::MAX {
            None
        } else {
            // INVARIANT: Checked above.
            Some(Self(r))
        }
    }

    /// The index into the table.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl core::fmt::LowerHex for GrantRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::LowerHex::fmt(&self.0, f)
    }
}
/// A domain id.
pub type DomId = u16;
/// A guest frame number as the grant-table hypercalls take it.
pub type Frame = bindings::xen_pfn_t;

/// References the toolstack reserves at the start of every table (xenstore, console).
pub const NR_RESERVED_ENTRIES: u32 = bindings::GNTTAB_NR_RESERVED_ENTRIES;
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

/// Issues `GNTTABOP_*` command `cmd` on `count` operations at `op`.
///
/// # Safety
///
/// `op` must point to `count` valid operation structures of the kind `cmd` expects, which the
/// hypervisor reads and writes during the call, and every address or frame they name must be
/// the caller's to hand to the hypervisor for that command.
unsafe fn grant_table_op<T>(cmd: u32, op: *mut T, count: u32) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { bindings::HYPERVISOR_grant_table_op(cmd, op.cast(), count) }
}

/// The largest number of grant frames the hypervisor allows this domain, if it says (`None`
/// too when the kernel does not run on Xen).
pub fn query_max_frames() -> Option<u32> {
    if !super::domain() {
        return None;
    }
    let mut query = bindings::gnttab_query_size {
        dom: DOMID_SELF,
        ..Default::default()
    };
    // SAFETY: One query for this domain, which the hypervisor only fills in.
    let rc = unsafe { grant_table_op(bindings::GNTTABOP_query_size, &mut query, 1) };
    (rc >= 0 && query.status == GNTST_OKAY).then_some(query.max_nr_frames)
}

/// Asks for grant-table layout `version`; returns the layout in force if the call succeeded.
///
/// # Safety
///
/// No [`SharedTable`] of this domain may be in use: the layout of its entries changes, and it
/// must be told the new one ([`SharedTable::set_version`]) before it is used again.
pub unsafe fn set_version(version: Version) -> Option<Version> {
    let mut gsv = bindings::gnttab_set_version {
        version: version.number(),
    };
    // SAFETY: One request the hypervisor reads and fills in; nothing uses the entries whose
    // layout changes (safety requirements).
    let rc = unsafe { grant_table_op(bindings::GNTTABOP_set_version, &mut gsv, 1) };
    match (rc, gsv.version) {
        (0, 2) => Some(Version::V2),
        (0, _) => Some(Version::V1),
        _ => None,
    }
}

/// Fills `frames` with the machine frames of the first `frames.len()` grant frames, growing
/// the table to that size (`GNTTABOP_setup_table`). `ENODEV` when the kernel does not run on
/// Xen.
pub fn setup_table(frames: &mut [Frame]) -> Result {
    if !super::domain() {
        return Err(ENODEV);
    }
    let mut setup = bindings::gnttab_setup_table {
        dom: DOMID_SELF,
        nr_frames: u32::try_from(frames.len()).map_err(|_| EINVAL)?,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    // SAFETY: One request for this domain; the hypervisor writes `nr_frames` frames to
    // `frames`, which has room for them. Growing the table changes no memory of the guest.
    to_result(unsafe { grant_table_op(bindings::GNTTABOP_setup_table, &mut setup, 1) })?;
    if setup.status != GNTST_OKAY {
        return Err(EIO);
    }
    Ok(())
}

/// Fills `frames` with the frames of the v2 status array (`GNTTABOP_get_status_frames`).
/// `ENODEV` when the kernel does not run on Xen.
pub fn get_status_frames(frames: &mut [u64]) -> Result {
    if !super::domain() {
        return Err(ENODEV);
    }
    let mut get = bindings::gnttab_get_status_frames {
        nr_frames: u32::try_from(frames.len()).map_err(|_| EINVAL)?,
        dom: DOMID_SELF,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    // SAFETY: One request for this domain; the hypervisor writes `nr_frames` frames to
    // `frames`, which has room for them.
    to_result(unsafe { grant_table_op(bindings::GNTTABOP_get_status_frames, &mut get, 1) })?;
    if get.status != GNTST_OKAY {
        return Err(EIO);
    }
    Ok(())
}

/// Places grant frame `idx` at guest frame `gpfn` (auto-translated guests).
///
/// # Safety
///
/// `gpfn` must be a frame reserved for the grant table (not memory the guest uses): whatever
/// was behind it is replaced.
pub unsafe fn add_to_physmap(idx: u32, gpfn: Frame) -> Result {
    let mut xatp = bindings::xen_add_to_physmap {
        domid: DOMID_SELF,
        idx: idx as _,
        space: bindings::XENMAPSPACE_grant_table,
        gpfn,
        ..Default::default()
    };
    // SAFETY: `xatp` is a valid argument of `XENMEM_add_to_physmap` for the whole call, and
    // `gpfn` is the table's to replace (safety requirements).
    to_result(unsafe {
        bindings::HYPERVISOR_memory_op(
            bindings::XENMEM_add_to_physmap,
            ptr::addr_of_mut!(xatp).cast(),
        )
    })
}

/// Prepares the virtual areas for `frames` grant frames and `status` status frames (PV).
///
/// # Safety
///
/// Once per boot, before any other `arch_gnttab_*` call: the architecture keeps one area and
/// its fill index, which a second call would leave stale.
pub unsafe fn arch_init(frames: u32, status: u32) -> Result {
    // SAFETY: The first and only call (safety requirements).
    to_result(unsafe { bindings::arch_gnttab_init(frames as c_ulong, status as c_ulong) })
}

/// The grant entries this domain shares with the hypervisor.
///
/// Reading and ending access are safe; what changes the mapping, its layout, or what another
/// domain may reach is `unsafe`, with the rules in each function's `# Safety` section.
///
/// # Invariants
///
/// `entries` is null or points to a mapping of at least `capacity` entries of the layout
/// `version` (and, for v2, `status` to as many status words) that stays mapped while
/// `capacity` counts them.
pub struct SharedTable {
    entries: AtomicPtr<c_void>,
    status: AtomicPtr<u16>,
    version: AtomicU32,
    capacity: AtomicU32,
}

impl SharedTable {
    /// A table with no entries mapped yet, for a `static`.
    pub const fn new() -> Self {
        // INVARIANT: No entry counts as mapped.
        Self {
            entries: AtomicPtr::new(ptr::null_mut()),
            status: AtomicPtr::new(ptr::null_mut()),
            version: AtomicU32::new(1),
            capacity: AtomicU32::new(0),
        }
    }

    /// The layout in use.
    pub fn version(&self) -> Version {
        match self.version.load(Ordering::Relaxed) {
            2 => Version::V2,
            _ => Version::V1,
        }
    }

    /// Selects the layout; the entries must be mapped again afterwards.
    ///
    /// # Safety
    ///
    /// Nothing may use the table concurrently (the caller serialises every `unsafe` method of
    /// the table), and `version` must be the layout the hypervisor uses ([`set_version`]).
    pub unsafe fn set_version(&self, version: Version) {
        // INVARIANT: No entry counts as mapped until the table is mapped again.
        self.capacity.store(0, Ordering::Release);
        self.version.store(version.number(), Ordering::Relaxed);
    }

    /// Entries usable now.
    pub fn capacity(&self) -> u32 {
        self.capacity.load(Ordering::Acquire)
    }

    /// Uses the mapping at `vaddr` as the entries (the auto-translated reservation of HVM and
    /// PVH guests, `xen_auto_xlat_grant_frames.vaddr`).
    ///
    /// # Safety
    ///
    /// `vaddr` must map the grant frames the hypervisor placed there ([`add_to_physmap`]) for
    /// as long as the table is used, and nothing may use the table concurrently.
    pub unsafe fn use_mapping(&self, vaddr: *mut c_void) -> Result {
        if vaddr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: The capacity counts only entries mapped at `vaddr` (safety requirements;
        // `set_capacity` says how many).
        self.entries.store(vaddr, Ordering::Release);
        Ok(())
    }

    /// Maps grant `frames` (their machine frames from [`setup_table`]) into the PV table area,
    /// which has room for `max` frames.
    ///
    /// # Safety
    ///
    /// [`arch_init`] must have reserved the area for `max` frames, `frames.len() <= max`,
    /// `frames` must be the table's frames from [`setup_table`], and nothing may use the table
    /// concurrently.
    pub unsafe fn map_frames(&self, frames: &mut [Frame], max: u32) -> Result {
        let mut addr = self.entries.load(Ordering::Acquire);
        // SAFETY: `frames` holds `frames.len()` of the table's frames; the arch code maps them
        // into the area `arch_init` reserved for `max >= frames.len()` frames (safety
        // requirements) and stores its address in `addr` if null.
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
    ///
    /// # Safety
    ///
    /// As for [`SharedTable::map_frames`], with the status frames of [`get_status_frames`].
    pub unsafe fn map_status(&self, frames: &mut [u64], max: u32) -> Result {
        let mut addr = self.status.load(Ordering::Acquire);
        // SAFETY: As in `map_frames`, for the status area (safety requirements).
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
    ///
    /// # Safety
    ///
    /// The first `entries` entries (and, for v2, their status words) must be mapped, and stay
    /// so until the capacity is lowered again.
    pub unsafe fn set_capacity(&self, entries: u32) {
        // INVARIANT: By the safety requirements.
        self.capacity.store(entries, Ordering::Release);
    }

    /// Unmaps `frames` grant frames and `status` status frames before suspending (PV).
    ///
    /// # Safety
    ///
    /// `frames` and `status` must be the numbers of frames mapped by
    /// [`SharedTable::map_frames`] and [`SharedTable::map_status`], and nothing may use the
    /// table concurrently.
    pub unsafe fn suspend(&self, frames: u32, status: u32) {
        // INVARIANT: No entry counts as mapped any more.
        self.capacity.store(0, Ordering::Release);
        let entries = self.entries.load(Ordering::Acquire);
        if !entries.is_null() {
            // SAFETY: `entries` maps `frames` frames (safety requirements); nothing reads them
            // until they are mapped again (capacity is 0, and no concurrent user).
            unsafe { bindings::arch_gnttab_unmap(entries, frames as c_ulong) };
        }
        let st = self.status.load(Ordering::Acquire);
        if self.version() == Version::V2 && !st.is_null() {
            // SAFETY: As above, for the status frames.
            unsafe { bindings::arch_gnttab_unmap(st.cast(), status as c_ulong) };
        }
    }

    fn check(&self, r: GrantRef) -> Option<(*mut c_void, usize)> {
        let entries = self.entries.load(Ordering::Acquire);
        (r.get() < self.capacity() && !entries.is_null()).then_some((entries, r.get() as usize))
    }

    /// Whether an entry of the current layout can hold `frame`: a v1 entry holds 32 bits.
    pub fn holds(&self, frame: u64) -> bool {
        matches!(self.version(), Version::V2) || u32::try_from(frame).is_ok()
    }

    /// Lets `domid` access `frame` through entry `r`; returns `false` if `r` is not mapped or
    /// its entry cannot hold `frame` ([`SharedTable::holds`]): nothing is granted then.
    ///
    /// # Safety
    ///
    /// `r` must be a reference the caller allocated (nobody else grants through it), through
    /// which no access is granted now: a grant that is still in force (or still mapped) would be
    /// overwritten, losing the hypervisor's record that it is in use.
    ///
    /// `frame` must be memory the caller may lend: it must stay allocated to the caller, and not
    /// be reused for anything else, until access through `r` has ended
    /// ([`SharedTable::end_access`] returned `Some(true)`), since `domid` can read it (and
    /// write it unless `readonly`) until then.
    pub unsafe fn grant(&self, r: GrantRef, domid: DomId, frame: u64, readonly: bool) -> bool {
        let Some((entries, r)) = self.check(r) else {
            return false;
        };
        let flags = GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 };
        match self.version() {
            Version::V1 => {
                // Cut to 32 bits, the frame would be another page of this domain.
                let Ok(frame) = u32::try_from(frame) else {
                    return false;
                };
                let e = entries.cast::<bindings::grant_entry_v1>();
                // SAFETY: `r` is below the capacity (checked), so the entry is mapped (type
                // invariant). The domain id and frame are written before the flags, with a
                // release store, so the hypervisor never sees a valid entry with stale data.
                // The frame is the caller's to lend (safety requirements).
                unsafe {
                    let e = e.add(r);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).domid), domid);
                    ptr::write_volatile(ptr::addr_of_mut!((*e).frame), frame);
                    fence(Ordering::Release);
                    AtomicU16::from_ptr(ptr::addr_of_mut!((*e).flags))
                        .store(flags, Ordering::Release);
                }
            }
            Version::V2 => {
                let e = entries.cast::<bindings::grant_entry_v2>();
                // SAFETY: As for v1.
                unsafe {
                    let e = e.add(r);
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
        let (entries, r) = self.check(r)?;
        match self.version() {
            Version::V1 => {
                let e = entries.cast::<bindings::grant_entry_v1>();
                // SAFETY: The entry is mapped (checked); the hypervisor updates its flags with
                // atomic operations too, which is what `AtomicU16` does here.
                let flags = unsafe { AtomicU16::from_ptr(ptr::addr_of_mut!((*e.add(r)).flags)) };
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
                    AtomicU16::from_ptr(ptr::addr_of_mut!((*e.add(r)).hdr.flags))
                        .store(0, Ordering::SeqCst);
                    fence(Ordering::SeqCst);
                    let status = AtomicU16::from_ptr(st.add(r)).load(Ordering::Acquire);
                    Some(status & GTF_IN_USE == 0)
                }
            }
        }
    }

    /// The frame entry `r` grants.
    pub fn frame(&self, r: GrantRef) -> Option<u64> {
        let (entries, r) = self.check(r)?;
        // SAFETY: The entry is mapped (checked); a volatile read of a field the hypervisor
        // does not change.
        Some(unsafe {
            match self.version() {
                Version::V1 => {
                    let e = entries.cast::<bindings::grant_entry_v1>().add(r);
                    u64::from(ptr::read_volatile(ptr::addr_of!((*e).frame)))
                }
                Version::V2 => {
                    let e = entries.cast::<bindings::grant_entry_v2>().add(r);
                    ptr::read_volatile(ptr::addr_of!((*e).full_page.frame))
                }
            }
        })
    }
}

impl Default for SharedTable {
    fn default() -> Self {
        Self::new()
    }
}

mod private {
    /// Keeps [`super::GrantOp`] to the operations of this module.
    pub trait Sealed {}
}

/// A grant-table operation that can be batched and retried.
///
/// Sealed: [`batch_op`] hands the operations to the hypervisor, which reads and writes them as
/// the structure `CMD` names, so only the wrappers of this module implement it.
pub trait GrantOp: private::Sealed {
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
        ///
        /// A transparent wrapper of the C structure, so that an array of them passed by C is a
        /// slice of this type. There is no safe constructor: a value only exists where a caller
        /// of the C interface filled the structure.
        ///
        /// # Invariants
        ///
        /// The structure is an operation its submitter may hand to the hypervisor: every
        /// address, frame and reference it names is the submitter's to use that way.
        #[repr(transparent)]
        pub struct $name(bindings::$c);

        impl private::Sealed for $name {}

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

    /// The grant reference; `None` for `INVALID_GRANT_REF`.
    pub fn gref(&self) -> Option<GrantRef> {
        GrantRef::new(self.0.ref_)
    }
}

/// Runs `ops` as one hypercall; `Err` if the hypercall itself failed (each op has a status).
pub fn batch_op<T: GrantOp>(ops: &mut [T]) -> Result {
    let count = u32::try_from(ops.len()).map_err(|_| EINVAL)?;
    // SAFETY: `T` is one of this module's operation wrappers (sealed trait), transparent over
    // the structure `T::CMD` takes; `ops` holds `count` of them. Their content comes from the
    // C callers that filled them, whose contract covers what the operations name (see the
    // types' documentation).
    to_result(unsafe { grant_table_op(T::CMD, ops.as_mut_ptr(), count) })
}

/// An error for "the hypervisor refused": `GNTST_*` statuses are not errnos.
pub fn status_error(status: i16) -> Error {
    match status {
        GNTST_EAGAIN => EAGAIN,
        GNTST_NO_DEVICE_SPACE => ENOSPC,
        _ => EIO,
    }
}
