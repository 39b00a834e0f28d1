// SPDX-License-Identifier: GPL-2.0

//! Structures C callers own and pass to the grant table, as typed handles.
//!
//! C headers: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h)
//!
//! Each handle is made by an `unsafe` constructor that [`super::c_api`] calls with what its own
//! C caller promised; from then on the handle's type keeps the rules: an [`OwnedPage`] owns one
//! page reference and drops it once, a [`FreeCallback`] is reachable only through the locked
//! [`CallbackList`], an [`UnmapItem`] is used by one thread until its completion runs.

use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    bindings,
    error::{code::*, Result},
    ffi::{c_int, c_uint, c_ulong, c_void},
    xen::grant_table::{DomId, Frame, GrantOp, GrantRef, MapOp, UnmapOp, XEN_PAGE_SIZE},
};

// `struct page` has members of empty structures on some configurations: only pointers to it
// cross, as in the generated bindings, which allow the same lint.
#[allow(improper_ctypes)]
extern "C" {
    // Defined in `grant_table_exports.c`, built in and not exported (see `grant_table_rust.h`).
    fn xen_gnttab_page_set_foreign(page: *mut bindings::page, domid: DomId, gref: u32);
    fn xen_gnttab_page_clear_foreign(page: *mut bindings::page);
}

/// The frames of the auto-translated grant table (`xen_auto_xlat_grant_frames`, defined in
/// `grant_table_exports.c`).
pub(crate) struct AutoXlatFrames;

impl AutoXlatFrames {
    /// Reserves a virtual mapping of `max` frames at physical address `addr` for the table.
    ///
    /// Fails with `EINVAL` if it exists already.
    ///
    /// # Safety
    ///
    /// `addr` must be a physical range of `max` frames reserved for the grant table (not RAM the
    /// guest uses), and nothing may use `xen_auto_xlat_grant_frames` concurrently: early boot,
    /// before the grant table is set up.
    pub(crate) unsafe fn setup(addr: u64, max: u32) -> Result {
        // SAFETY: Nobody else uses the structure now (safety requirements).
        let frames = unsafe { &mut *ptr::addr_of_mut!(bindings::xen_auto_xlat_grant_frames) };
        if frames.count != 0 {
            return Err(EINVAL);
        }
        let size = XEN_PAGE_SIZE as usize * max as usize;
        // SAFETY: Maps a physical range reserved for the grant table (safety requirements).
        let vaddr = unsafe { bindings::memremap(addr, size, bindings::MEMREMAP_WB as c_ulong) };
        if vaddr.is_null() {
            kernel::pr_warn!(
                "Failed to ioremap gnttab share frames (addr={:#x})!\n",
                addr
            );
            return Err(ENOMEM);
        }
        let mut pfns = match kernel::alloc::KVec::<Frame>::with_capacity(
            max as usize,
            kernel::alloc::flags::GFP_KERNEL,
        ) {
            Ok(v) => v,
            Err(_) => {
                // SAFETY: `vaddr` was mapped above and is used by nobody.
                unsafe { bindings::memunmap(vaddr) };
                return Err(ENOMEM);
            }
        };
        for i in 0..max as Frame {
            // Cannot fail: the capacity is `max`.
            let _ = pfns.push((addr >> 12) as Frame + i, kernel::alloc::flags::GFP_KERNEL);
        }
        // Freed with kfree() by `free`: a `KVec` is a kmalloc() allocation.
        let (pfn, _, _) = pfns.into_raw_parts();
        frames.vaddr = vaddr;
        frames.pfn = pfn;
        frames.count = max;
        Ok(())
    }

    /// Releases what [`AutoXlatFrames::setup`] reserved.
    ///
    /// # Safety
    ///
    /// Nothing may use the frames any more (the grant table is not mapped at them), and nothing
    /// may use `xen_auto_xlat_grant_frames` concurrently.
    pub(crate) unsafe fn free() {
        // SAFETY: Nobody else uses the structure now (safety requirements).
        let frames = unsafe { &mut *ptr::addr_of_mut!(bindings::xen_auto_xlat_grant_frames) };
        if frames.count == 0 {
            return;
        }
        // SAFETY: Both were allocated by `setup` (a non-zero count says so), and nothing uses
        // them any more (safety requirements).
        unsafe {
            bindings::kfree(frames.pfn.cast());
            bindings::memunmap(frames.vaddr);
        }
        frames.pfn = ptr::null_mut();
        frames.count = 0;
        frames.vaddr = ptr::null_mut();
    }

    /// The number of frames reserved.
    pub(crate) fn count() -> u32 {
        // SAFETY: Written only by `setup` and `free`, whose callers rule out concurrent use.
        unsafe { bindings::xen_auto_xlat_grant_frames.count }
    }

    /// The guest frame reserved for grant frame `i`.
    pub(crate) fn pfn(i: u32) -> Option<Frame> {
        if i >= Self::count() {
            return None;
        }
        // SAFETY: `pfn` has `count` entries (`setup`), and `i < count`.
        Some(unsafe { *bindings::xen_auto_xlat_grant_frames.pfn.add(i as usize) })
    }

    /// The virtual address of the reserved frames, null if none.
    pub(crate) fn vaddr() -> *mut c_void {
        // SAFETY: As in `count`.
        unsafe { bindings::xen_auto_xlat_grant_frames.vaddr }
    }
}

/// A page reference the grant table owns: the page of an entry whose access it ends later.
///
/// Not `Copy`: dropping it drops the reference (`put_page()`), once.
///
/// # Invariants
///
/// `page` points to a valid `struct page` on which this value owns one reference.
pub(crate) struct OwnedPage {
    page: NonNull<bindings::page>,
}

// SAFETY: A page reference may be dropped on any CPU.
unsafe impl Send for OwnedPage {}

impl OwnedPage {
    /// Takes over a reference C code hands in; `None` for a null page.
    ///
    /// # Safety
    ///
    /// `page` is null or a valid page on which the caller gives up one reference it owns.
    pub(crate) unsafe fn from_raw(page: *mut bindings::page) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        NonNull::new(page).map(|page| Self { page })
    }

    /// The page of guest frame `gfn`, with a new reference.
    ///
    /// # Safety
    ///
    /// If `gfn` is a frame of this domain backed by a `struct page`, that page must stay
    /// allocated while the reference is taken: a frame this domain granted and has not freed.
    /// Returns `None` for a frame without a `struct page` (not RAM of this domain).
    pub(crate) unsafe fn get_by_gfn(gfn: u64) -> Option<Self> {
        // SAFETY: Translating a frame number reads the physical-to-machine tables only.
        let pfn = unsafe { bindings::gfn_to_pfn(gfn as c_ulong) };
        // SAFETY: `pfn_valid()` only looks the number up in the memory map.
        if !unsafe { bindings::pfn_valid(pfn) } {
            return None;
        }
        // SAFETY: `pfn` has a `struct page` (checked above), an allocated page of this domain
        // (safety requirements).
        let page = unsafe { bindings::pfn_to_page(pfn) };
        let page = NonNull::new(page)?;
        // SAFETY: A valid, allocated page: taking a reference is allowed.
        unsafe { bindings::get_page(page.as_ptr()) };
        // INVARIANT: We took the reference just now.
        Some(Self { page })
    }

    /// The page frame number.
    pub(crate) fn pfn(&self) -> u64 {
        // SAFETY: Valid page (type invariant).
        unsafe { bindings::page_to_pfn(self.page.as_ptr()) as u64 }
    }
}

impl Drop for OwnedPage {
    fn drop(&mut self) {
        // SAFETY: Valid page, and this value owns one reference (type invariant), given up now.
        unsafe { bindings::put_page(self.page.as_ptr()) }
    }
}

/// A page of a [`PageArray`], borrowed from it.
///
/// # Invariants
///
/// `page` points to a page of the array it was taken from, with the array's guarantees.
pub(crate) struct ArrayPage<'a> {
    page: NonNull<bindings::page>,
    _array: PhantomData<&'a ()>,
}

impl ArrayPage<'_> {
    /// `page->flags`, which the kernel changes with atomic bit operations.
    fn flags(&self) -> &AtomicUsize {
        // SAFETY: The page is valid (type invariant); `flags` is an aligned `unsigned long`
        // that every writer changes atomically (`set_bit()` and friends).
        unsafe { AtomicUsize::from_ptr(ptr::addr_of_mut!((*self.page.as_ptr()).flags).cast()) }
    }

    /// `SetPagePrivate()`: `page->private` holds data.
    pub(crate) fn set_private(&self) {
        self.flags()
            .fetch_or(1 << bindings::pageflags_PG_private, Ordering::Relaxed);
    }

    /// `ClearPagePrivate()` if `PagePrivate()`.
    pub(crate) fn clear_private(&self) {
        let bit = 1 << bindings::pageflags_PG_private;
        if self.flags().load(Ordering::Relaxed) & bit != 0 {
            self.flags().fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// The reference count.
    pub(crate) fn count(&self) -> i32 {
        // SAFETY: Valid page (type invariant).
        unsafe { bindings::page_count(self.page.as_ptr()) }
    }
}

/// An array of pages a C caller passes in (`struct page **pages`, `count`): pages it maps
/// grants into or lends to the grant table's helpers.
///
/// # Invariants
///
/// `pages` points to `len` pointers to valid pages for `'a`, each the caller's to mark
/// (private and foreign flags, `page->private`, the P2M entry) while the array lives.
pub(crate) struct PageArray<'a> {
    pages: *mut *mut bindings::page,
    len: usize,
    _p: PhantomData<&'a mut [*mut bindings::page]>,
}

impl<'a> PageArray<'a> {
    /// Wraps a C page array.
    ///
    /// # Safety
    ///
    /// `pages` points to `len` pointers to valid pages, for `'a`, each one the caller owns in
    /// the sense of the grant-table API: allocated for grant mappings (`gnttab_alloc_pages()`,
    /// `xen_alloc_ballooned_pages()`) or the caller's own, and not in the page cache.
    pub(crate) unsafe fn from_raw(pages: *mut *mut bindings::page, len: usize) -> Self {
        // INVARIANT: By the safety requirements.
        Self {
            pages,
            len,
            _p: PhantomData,
        }
    }

    /// The number of pages.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Page `i`.
    pub(crate) fn get(&self, i: usize) -> Option<ArrayPage<'_>> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i` is in bounds (type invariant).
        let page = NonNull::new(unsafe { *self.pages.add(i) })?;
        // INVARIANT: A page of this array.
        Some(ArrayPage {
            page,
            _array: PhantomData,
        })
    }

    /// Marks page `i` as mapping grant `gref` of `domid` (`SetPageForeign`).
    pub(crate) fn set_foreign(&self, i: usize, domid: DomId, gref: Option<GrantRef>) {
        let gref = gref.map_or(u32::MAX, GrantRef::get);
        if let Some(p) = self.get(i) {
            // SAFETY: A valid page the caller may mark (type invariant).
            unsafe { xen_gnttab_page_set_foreign(p.page.as_ptr(), domid, gref) }
        }
    }

    /// Clears the foreign mark of page `i`.
    pub(crate) fn clear_foreign(&self, i: usize) {
        if let Some(p) = self.get(i) {
            // SAFETY: A valid page the caller may mark (type invariant).
            unsafe { xen_gnttab_page_clear_foreign(p.page.as_ptr()) }
        }
    }
}

/// The operations of a C batch as a slice.
///
/// # Safety
///
/// `ops` points to `count` valid operations of type `C`, of which `T` is the transparent
/// wrapper, each one its submitter may hand to the hypervisor (`T`'s invariant), not used
/// elsewhere while the slice lives.
pub(crate) unsafe fn ops_from_raw<'a, T: GrantOp, C>(ops: *mut C, count: c_uint) -> &'a mut [T] {
    if ops.is_null() || count == 0 {
        return &mut [];
    }
    // SAFETY: By the safety requirements.
    unsafe { core::slice::from_raw_parts_mut(ops.cast::<T>(), count as usize) }
}

/// The optional kernel-mapping operations a caller passes beside a map or unmap batch.
///
/// # Invariants
///
/// `ops` is null, or points to `len` valid operations of type `T` (a transparent wrapper of
/// the C structure) their submitter may hand to the hypervisor.
pub(crate) struct KernelOps<T> {
    ops: *mut T,
    len: usize,
}

impl<T: GrantOp> KernelOps<T> {
    /// Wraps the optional kernel operations of a batch of `len`.
    ///
    /// # Safety
    ///
    /// `ops` is null or points to `len` operations as [`ops_from_raw`] requires.
    pub(crate) unsafe fn from_raw<C>(ops: *mut C, len: usize) -> Self {
        // INVARIANT: By the safety requirements.
        Self {
            ops: ops.cast(),
            len,
        }
    }

    /// The pointer to pass to C beside `n` operations, if the kernel operations cover them.
    fn for_batch(&self, n: usize) -> Option<*mut T> {
        (self.ops.is_null() || self.len >= n).then_some(self.ops)
    }
}

/// Records the foreign mappings `ops` made in the P2M (`set_foreign_p2m_mapping`).
pub(crate) fn set_foreign_p2m(
    ops: &mut [MapOp],
    kops: &KernelOps<MapOp>,
    pages: &PageArray<'_>,
) -> c_int {
    let n = ops.len().min(pages.len());
    let Some(k) = kops.for_batch(n) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `ops`, `k` (null or covering `n`, type invariant) and `pages` describe `n`
    // operations; the pages are the caller's to mark (`PageArray`'s invariant).
    unsafe {
        bindings::set_foreign_p2m_mapping(
            ops.as_mut_ptr().cast(),
            k.cast(),
            pages.pages,
            n as c_uint,
        )
    }
}

/// Removes the foreign mappings `ops` undid from the P2M (`clear_foreign_p2m_mapping`).
pub(crate) fn clear_foreign_p2m(
    ops: &mut [UnmapOp],
    kops: &KernelOps<UnmapOp>,
    pages: &PageArray<'_>,
) -> c_int {
    let n = ops.len().min(pages.len());
    let Some(k) = kops.for_batch(n) else {
        return EINVAL.to_errno();
    };
    // SAFETY: As in `set_foreign_p2m`.
    unsafe {
        bindings::clear_foreign_p2m_mapping(
            ops.as_mut_ptr().cast(),
            k.cast(),
            pages.pages,
            n as c_uint,
        )
    }
}

/// The function and argument of a free callback.
pub(crate) struct CallbackFn {
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
}

impl CallbackFn {
    /// Pairs a C function with its argument.
    ///
    /// # Safety
    ///
    /// `func(arg)` must be sound to call from any context that frees grant references (with the
    /// grant table's lock held and interrupts off), until the callback ran or was cancelled.
    pub(crate) unsafe fn new(
        func: Option<unsafe extern "C" fn(*mut c_void)>,
        arg: *mut c_void,
    ) -> Self {
        Self { func, arg }
    }
}

/// A free callback a C caller registers (`struct gnttab_free_callback`).
///
/// Not `Clone`, and its fields are reached only through a [`CallbackList`], whose `&mut` the
/// grant table holds under its lock.
///
/// # Invariants
///
/// `cb` points to a valid callback structure that its owner keeps alive, and does not touch,
/// until it has run or been cancelled (the contract of `gnttab_request_free_callback()`).
pub(crate) struct FreeCallback {
    cb: NonNull<bindings::gnttab_free_callback>,
}

// SAFETY: The structure is only touched through the list, under the grant table's lock.
unsafe impl Send for FreeCallback {}

impl FreeCallback {
    /// Wraps a C callback structure.
    ///
    /// # Safety
    ///
    /// `cb` is null or valid, and left to the grant table, until it has run or been cancelled.
    pub(crate) unsafe fn from_raw(cb: *mut bindings::gnttab_free_callback) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        NonNull::new(cb).map(|cb| Self { cb })
    }

    /// Takes the next callback out of this one's link.
    fn take_next(&mut self) -> Option<FreeCallback> {
        // SAFETY: Valid (type invariant); its `next` is null or a listed callback, which the
        // list owned through this link.
        let next =
            unsafe { ptr::replace(ptr::addr_of_mut!((*self.cb.as_ptr()).next), ptr::null_mut()) };
        // INVARIANT: A registered callback, moved out of the list's link.
        NonNull::new(next).map(|cb| Self { cb })
    }

    /// Links `next` after this callback.
    fn set_next(&mut self, next: Option<FreeCallback>) {
        let p = next.map_or(ptr::null_mut(), |n| n.cb.as_ptr());
        // SAFETY: Valid (type invariant), and ours to change (the list holds it).
        unsafe { (*self.cb.as_ptr()).next = p };
    }

    fn count(&self) -> u16 {
        // SAFETY: Valid (type invariant).
        unsafe { (*self.cb.as_ptr()).count }
    }
}

/// The callbacks waiting for free references, linked through their own `next` fields, as C's
/// `gnttab_free_callback_list`.
///
/// The list is part of the grant table's locked state: `&mut` access to it is access under
/// the lock, which is what the callbacks' owners rely on.
pub(crate) struct CallbackList {
    head: Option<FreeCallback>,
}

impl CallbackList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self { head: None }
    }

    /// Whether any callback waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Whether `cb` is listed.
    fn contains(&mut self, cb: &FreeCallback) -> bool {
        let mut rest = self.head.take();
        let mut found = false;
        let mut kept = CallbackList::new();
        while let Some(mut c) = rest {
            rest = c.take_next();
            found |= c.cb == cb.cb;
            kept.push_front(c);
        }
        // `kept` holds the callbacks in reverse; restore the order.
        while let Some(mut c) = kept.head.take() {
            kept.head = c.take_next();
            self.push_front(c);
        }
        found
    }

    fn push_front(&mut self, mut cb: FreeCallback) {
        cb.set_next(self.head.take());
        self.head = Some(cb);
    }

    /// Adds `cb`, to run `func` once `count` references are free, unless it is listed already
    /// (`gnttab_request_free_callback()`).
    pub(crate) fn add(&mut self, cb: FreeCallback, func: CallbackFn, count: u16) {
        if self.contains(&cb) {
            return;
        }
        // SAFETY: Valid (type invariant), and not listed: ours to fill.
        unsafe {
            let p = cb.cb.as_ptr();
            (*p).fn_ = func.func;
            (*p).arg = func.arg;
            (*p).count = count;
        }
        self.push_front(cb);
    }

    /// Unlinks `cb` if it is listed (`gnttab_cancel_free_callback()`).
    pub(crate) fn remove(&mut self, cb: &FreeCallback) {
        let mut rest = self.head.take();
        let mut kept = CallbackList::new();
        while let Some(mut c) = rest {
            rest = c.take_next();
            if c.cb != cb.cb {
                kept.push_front(c);
            }
        }
        while let Some(mut c) = kept.head.take() {
            kept.head = c.take_next();
            self.push_front(c);
        }
    }

    /// Runs, and unlinks, every callback that waits for at most `free` references; the others
    /// stay listed (`check_free_callbacks()`).
    pub(crate) fn run_ready(&mut self, free: u32) {
        let mut rest = self.head.take();
        while let Some(mut c) = rest {
            rest = c.take_next();
            if free >= u32::from(c.count()) {
                // SAFETY: Valid (type invariant), and unlinked above.
                let (func, arg) = unsafe { ((*c.cb.as_ptr()).fn_, (*c.cb.as_ptr()).arg) };
                if let Some(func) = func {
                    // SAFETY: The function and argument its owner registered together
                    // (`CallbackFn::new`'s contract). `c` is not used after this: once the
                    // callback ran, the owner may free or reuse the structure.
                    unsafe { func(arg) };
                }
            } else {
                self.push_front(c);
            }
        }
    }
}

/// An asynchronous unmap request (`struct gntab_unmap_queue_data`).
///
/// # Invariants
///
/// `item` points to a valid request that its owner keeps alive, and leaves to the grant table,
/// until `done` was called; its arrays hold `count` entries as [`ops_from_raw`] and
/// [`PageArray::from_raw`] require; its delayed work is initialised to run [`unmap_work`].
pub(crate) struct UnmapItem {
    item: NonNull<bindings::gntab_unmap_queue_data>,
}

// SAFETY: The owner hands the request over until `done`; it is used by one thread at a time.
unsafe impl Send for UnmapItem {}

const _: () = assert!(core::mem::offset_of!(bindings::gntab_unmap_queue_data, gnttab_work) == 0);

/// The delayed work of a request that [`UnmapItem::schedule`] queued.
///
/// # Safety
///
/// `work` is the work of a request queued by [`UnmapItem::schedule`].
unsafe extern "C" fn unmap_work(work: *mut bindings::work_struct) {
    // `gnttab_work.work` is at offset 0 of the request (asserted above).
    let item = work.cast::<bindings::gntab_unmap_queue_data>();
    if let Some(item) = NonNull::new(item) {
        // INVARIANT: The request `schedule` queued, with its guarantees (safety requirements).
        let mut item = UnmapItem { item };
        item.set_age(item.age().saturating_add(1));
        crate::unmap_refs_async(item);
    }
}

impl UnmapItem {
    /// Takes a new request from C (`gnttab_unmap_refs_async()`): its retry count starts at 0.
    ///
    /// # Safety
    ///
    /// `item` is null or a valid request whose `unmap_ops`, `kunmap_ops` (or null) and `pages`
    /// hold `count` entries as [`ops_from_raw`], [`KernelOps::from_raw`] and
    /// [`PageArray::from_raw`] require, left to the grant table until its `done` runs.
    pub(crate) unsafe fn from_raw(item: *mut bindings::gntab_unmap_queue_data) -> Option<Self> {
        let item = NonNull::new(item)?;
        // SAFETY: A valid request the grant table owns now (safety requirements); its delayed
        // work is idle, since nobody queued it yet.
        unsafe {
            bindings::init_delayed_work(
                ptr::addr_of_mut!((*item.as_ptr()).gnttab_work),
                Some(unmap_work),
            );
            (*item.as_ptr()).age = 0;
        }
        // INVARIANT: By the safety requirements; the work was initialised above.
        Some(Self { item })
    }

    /// How many times the request was retried.
    pub(crate) fn age(&self) -> u32 {
        // SAFETY: Valid (type invariant).
        unsafe { (*self.item.as_ptr()).age }
    }

    fn set_age(&mut self, age: u32) {
        // SAFETY: Valid (type invariant), ours until `done`.
        unsafe { (*self.item.as_ptr()).age = age };
    }

    /// Whether any of the pages still has other users than the mapping.
    pub(crate) fn pages_busy(&mut self) -> bool {
        self.with_batch(|_, _, pages| {
            (0..pages.len()).any(|i| pages.get(i).is_some_and(|p| p.count() > 1))
        })
    }

    /// Calls `f` with the operations, kernel operations and pages of the request.
    pub(crate) fn with_batch<R>(
        &mut self,
        f: impl FnOnce(&mut [UnmapOp], &KernelOps<UnmapOp>, &PageArray<'_>) -> R,
    ) -> R {
        let item = self.item.as_ptr();
        // SAFETY: Valid request (type invariant) whose arrays hold `count` entries as the
        // constructors require; `&mut self` makes this the only view of them.
        unsafe {
            let n = (*item).count as usize;
            let ops = ops_from_raw::<UnmapOp, _>((*item).unmap_ops, n as c_uint);
            let kops = KernelOps::from_raw((*item).kunmap_ops, n);
            let pages = PageArray::from_raw((*item).pages, n);
            f(ops, &kops, &pages)
        }
    }

    /// Runs the owner's completion with `result`; the request is the owner's again.
    pub(crate) fn done(self, result: c_int) {
        let item = self.item.as_ptr();
        // SAFETY: Valid (type invariant); `done` is the owner's callback for this request.
        unsafe {
            if let Some(done) = (*item).done {
                done(result, item);
            }
        }
    }

    /// Runs the request again after `delay_ms` milliseconds, on the system workqueue.
    pub(crate) fn schedule(self, delay_ms: u32) {
        let item = self.item.as_ptr();
        // SAFETY: The request (and so its delayed work) stays valid until `done`; the work was
        // initialised to run `unmap_work` (type invariant) and is idle: the request is ours.
        unsafe {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
                bindings::system_wq,
                ptr::addr_of_mut!((*item).gnttab_work),
                bindings::__msecs_to_jiffies(delay_ms),
            );
        }
    }
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
    // SAFETY: `data` was set to a live `SyncData` by `unmap_refs_sync`, which waits for this
    // (safety requirements).
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
/// `item` is null or a request as [`UnmapItem::from_raw`] requires.
pub(crate) unsafe fn unmap_refs_sync(item: *mut bindings::gntab_unmap_queue_data) -> c_int {
    if item.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: All-zeroes is a valid completion before `init_completion`.
    let mut data: SyncData = unsafe { core::mem::zeroed() };
    // SAFETY: `data` lives on this stack frame until the completion fires (waited for below);
    // `item` is a valid request (safety requirements), whose completion we set before handing
    // it over.
    unsafe {
        bindings::init_completion(ptr::addr_of_mut!(data.completion));
        (*item).data = ptr::addr_of_mut!(data).cast();
        (*item).done = Some(sync_done);
        if let Some(item) = UnmapItem::from_raw(item) {
            crate::unmap_refs_async(item);
        }
        bindings::wait_for_completion(ptr::addr_of_mut!(data.completion));
    }
    data.result
}
