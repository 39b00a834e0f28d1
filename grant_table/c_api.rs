// SPDX-License-Identifier: GPL-2.0

//! The C interface of the grant table: every function of `include/xen/grant_table.h`.
//!
//! C header: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h)
//!
//! Each function is defined once, here, under its C name; `grant_table_exports.c` only exports
//! those `grant-table.c` exports (with its licence), so that xenbus, the front and back ends,
//! gntdev and gntalloc build and load unchanged. The interface is inherently unsafe (raw
//! pointers, references and frames whose use C callers promise): each function states its
//! caller's contract in `# Safety`, and turns what it is given into the typed handles of
//! [`super::handles`] before the driver sees it.

use super::handles::{
    ops_from_raw, unmap_refs_sync, AutoXlatFrames, CallbackFn, FreeCallback, KernelOps, OwnedPage,
    PageArray, UnmapItem,
};
use crate::{Driver, LIST_END};
use core::ptr;
use kernel::{
    bindings,
    error::{code::*, Error},
    ffi::{c_int, c_uint, c_ulong, c_void},
    xen::grant_table::{CopyOp, Frame, MapOp, UnmapOp, XEN_PAGE_SIZE},
};

fn errno(e: Error) -> c_int {
    e.to_errno()
}

/// A list head or reference as C passes it: `GNTTAB_LIST_END` is `None`.
fn opt(r: bindings::grant_ref_t) -> Option<u32> {
    (r != LIST_END).then_some(r)
}

/// Sets the table up (`gnttab_init()`); later calls do nothing.
#[no_mangle]
pub extern "C" fn gnttab_init() -> c_int {
    Driver::init().map_or_else(errno, |()| 0)
}

/// Unmaps the shared frames before the domain suspends.
///
/// # Safety
///
/// Only from the domain's suspend path, with nothing using the grant table until
/// [`gnttab_resume`].
#[no_mangle]
pub unsafe extern "C" fn gnttab_suspend() -> c_int {
    // SAFETY: Nothing uses the table until it is resumed (safety requirements).
    unsafe { Driver::suspend() }.map_or_else(errno, |()| 0)
}

/// Sets the table up again after the domain resumed (or was restored).
///
/// # Safety
///
/// Only from the domain's resume path, after [`gnttab_suspend`], with nothing using the grant
/// table concurrently.
#[no_mangle]
pub unsafe extern "C" fn gnttab_resume() -> c_int {
    // SAFETY: Nothing uses the table concurrently (safety requirements).
    unsafe { Driver::resume() }.map_or_else(errno, |()| 0)
}

/// The most grant frames the table may use.
#[no_mangle]
pub extern "C" fn gnttab_max_grant_frames() -> c_uint {
    Driver::max_grant_frames()
}

/// Reserves the frames of the table of an auto-translated guest at `addr`.
///
/// # Safety
///
/// `addr` is the start of a physical range reserved for the grant table, large enough for the
/// most grant frames Xen allows this domain (`gnttab_max_grant_frames()` as Xen answers it now),
/// during early boot, before the table is set up.
#[no_mangle]
pub unsafe extern "C" fn gnttab_setup_auto_xlat_frames(addr: bindings::phys_addr_t) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { AutoXlatFrames::setup(addr, crate::max_frames_now()) }.map_or_else(errno, |()| 0)
}

/// Releases what [`gnttab_setup_auto_xlat_frames`] reserved.
///
/// # Safety
///
/// The table is not set up at those frames (its setup failed), and nothing else uses them.
#[no_mangle]
pub unsafe extern "C" fn gnttab_free_auto_xlat_frames() {
    // SAFETY: By the safety requirements.
    unsafe { AutoXlatFrames::free() }
}

/// Lets `domid` access `frame` through the caller's reference `r`.
///
/// # Safety
///
/// `r` is a reference the caller allocated, through which no access is granted now; `frame` is
/// memory the caller may lend until it ended access through `r`.
#[no_mangle]
pub unsafe extern "C" fn gnttab_grant_foreign_access_ref(
    r: bindings::grant_ref_t,
    domid: bindings::domid_t,
    frame: c_ulong,
    readonly: c_int,
) {
    // SAFETY: By the safety requirements.
    unsafe { Driver::grant_access_ref(r, domid, frame as u64, readonly != 0) }
}

/// Allocates a reference and lets `domid` access `frame` through it; the reference or a
/// negative error code.
///
/// # Safety
///
/// `frame` is memory the caller may lend until it ended access through the reference.
#[no_mangle]
pub unsafe extern "C" fn gnttab_grant_foreign_access(
    domid: bindings::domid_t,
    frame: c_ulong,
    readonly: c_int,
) -> c_int {
    // SAFETY: By the safety requirements.
    match unsafe { Driver::grant_access(domid, frame as u64, readonly != 0) } {
        Ok(r) => r as c_int,
        Err(_) => ENOSPC.to_errno(),
    }
}

/// Ends access through `r` unless the other domain maps it; 1 if it ended.
#[no_mangle]
pub extern "C" fn gnttab_end_foreign_access_ref(r: bindings::grant_ref_t) -> c_int {
    Driver::end_access_ref(r) as c_int
}

/// Ends access through `r` and frees it, unless the other domain maps it; 1 if it did.
///
/// # Safety
///
/// `r` is a reference the caller allocated and no longer uses.
#[no_mangle]
pub unsafe extern "C" fn gnttab_try_end_foreign_access(r: bindings::grant_ref_t) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { Driver::try_end_access(r) as c_int }
}

/// Ends access through `r` now, or once the other domain unmapped it, then frees `r` and
/// drops the caller's reference on `page`.
///
/// # Safety
///
/// `r` is a reference the caller allocated and no longer uses, and what it grants is the frame
/// the caller lent through it, still allocated (with a null `page`, the grant table takes a
/// reference on that frame's page if the end is deferred); `page` is null or a page on which the
/// caller hands over one reference.
#[no_mangle]
pub unsafe extern "C" fn gnttab_end_foreign_access(
    r: bindings::grant_ref_t,
    page: *mut bindings::page,
) {
    // SAFETY: By the safety requirements.
    unsafe { Driver::end_access(r, OwnedPage::from_raw(page)) }
}

/// As `gnttab_end_foreign_access()`, for a page user space shared through gntalloc: a deferral
/// is expected, so it is counted apart (`stats/deferred_user`) and never reported. Returns 1 if
/// the end was deferred, 0 if access ended at once.
///
/// # Safety
///
/// As for `gnttab_end_foreign_access()`.
#[no_mangle]
pub unsafe extern "C" fn gnttab_end_foreign_access_user(
    r: bindings::grant_ref_t,
    page: *mut bindings::page,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { Driver::end_access_user(r, OwnedPage::from_raw(page)) as c_int }
}

/// [`gnttab_grant_foreign_access`] for `count` frames, the references taken under one lock:
/// 0 and `refs[i]` granting `frames[i]`, or `-ENOSPC` and nothing granted.
///
/// # Safety
///
/// `frames` and `refs` point to `count` frames and references (`refs` writable); each frame is
/// memory the caller may lend until it ended access through its reference.
#[no_mangle]
pub unsafe extern "C" fn gnttab_grant_foreign_access_batch(
    domid: bindings::domid_t,
    frames: *const c_ulong,
    readonly: c_int,
    refs: *mut bindings::grant_ref_t,
    count: c_uint,
) -> c_int {
    let n = count as usize;
    if n == 0 {
        return 0;
    }
    // SAFETY: By the safety requirements, `count` frames are readable at `frames`.
    let frames = unsafe { core::slice::from_raw_parts(frames, n) };
    // SAFETY: By the safety requirements, `count` references are writable at `refs`, and
    // nothing else uses them during the call.
    let refs = unsafe { core::slice::from_raw_parts_mut(refs, n) };
    // SAFETY: By the safety requirements.
    match unsafe { Driver::grant_access_many(domid, frames, readonly != 0, refs) } {
        Ok(()) => 0,
        Err(_) => ENOSPC.to_errno(),
    }
}

/// [`gnttab_end_foreign_access_user`] for `count` grants, the ones that end freed under one
/// lock; how many were deferred.
///
/// # Safety
///
/// `refs` and `pages` point to `count` references and pages; for each pair, as for
/// [`gnttab_end_foreign_access_user`].
#[no_mangle]
pub unsafe extern "C" fn gnttab_end_foreign_access_user_batch(
    refs: *const bindings::grant_ref_t,
    pages: *const *mut bindings::page,
    count: c_uint,
) -> c_uint {
    let n = count as usize;
    if n == 0 {
        return 0;
    }
    // SAFETY: By the safety requirements, `count` references and pages are readable.
    let (refs, pages) = unsafe {
        (
            core::slice::from_raw_parts(refs, n),
            core::slice::from_raw_parts(pages, n),
        )
    };
    // SAFETY: By the safety requirements.
    unsafe { Driver::end_access_user_many(refs, pages) }
}

/// Frees reference `r`.
///
/// # Safety
///
/// `r` is a reference the caller allocated, with access ended, and no longer uses.
#[no_mangle]
pub unsafe extern "C" fn gnttab_free_grant_reference(r: bindings::grant_ref_t) {
    // SAFETY: By the safety requirements.
    unsafe { Driver::free_ref(r) }
}

/// Frees the caller's private list of references starting at `head`.
///
/// # Safety
///
/// `head` is `GNTTAB_LIST_END` or the head of a list from
/// [`gnttab_alloc_grant_references`], whose references the caller no longer uses.
#[no_mangle]
pub unsafe extern "C" fn gnttab_free_grant_references(head: bindings::grant_ref_t) {
    // SAFETY: By the safety requirements.
    unsafe { Driver::free_refs(opt(head)) }
}

/// Frees `count` consecutive references from `head`.
///
/// # Safety
///
/// They come from [`gnttab_alloc_grant_reference_seq`] and the caller no longer uses them.
#[no_mangle]
pub unsafe extern "C" fn gnttab_free_grant_reference_seq(
    head: bindings::grant_ref_t,
    count: c_uint,
) {
    // SAFETY: By the safety requirements.
    unsafe { Driver::free_refs_seq(head, count) }
}

/// Allocates a private list of `count` references; writes its head to `*head`.
///
/// # Safety
///
/// `head` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gnttab_alloc_grant_references(
    count: u16,
    head: *mut bindings::grant_ref_t,
) -> c_int {
    match Driver::alloc_refs(count.into()) {
        Ok(h) => {
            // SAFETY: By the safety requirements.
            unsafe { *head = h.unwrap_or(LIST_END) };
            0
        }
        Err(_) => ENOSPC.to_errno(),
    }
}

/// Allocates `count` consecutive references; writes the first to `*first`.
///
/// # Safety
///
/// `first` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gnttab_alloc_grant_reference_seq(
    count: c_uint,
    first: *mut bindings::grant_ref_t,
) -> c_int {
    match Driver::alloc_refs_seq(count) {
        Ok(h) => {
            // SAFETY: By the safety requirements.
            unsafe { *first = h.unwrap_or(LIST_END) };
            0
        }
        Err(_) => ENOSPC.to_errno(),
    }
}

/// Whether the private list at `*head` is empty.
///
/// # Safety
///
/// `head` is valid for reads.
#[no_mangle]
pub unsafe extern "C" fn gnttab_empty_grant_references(
    head: *const bindings::grant_ref_t,
) -> c_int {
    // SAFETY: By the safety requirements.
    opt(unsafe { *head }).is_none() as c_int
}

/// Takes a reference from the private list at `*head`; the reference or `-ENOSPC`.
///
/// # Safety
///
/// `head` is valid for reads and writes and holds the head of the caller's private list.
#[no_mangle]
pub unsafe extern "C" fn gnttab_claim_grant_reference(head: *mut bindings::grant_ref_t) -> c_int {
    // SAFETY: By the safety requirements.
    let mut list = opt(unsafe { *head });
    let r = Driver::claim_ref(&mut list);
    // SAFETY: By the safety requirements.
    unsafe { *head = list.unwrap_or(LIST_END) };
    match r {
        Ok(r) => r as c_int,
        Err(_) => ENOSPC.to_errno(),
    }
}

/// Puts `release` back on the private list at `*head`.
///
/// # Safety
///
/// `head` is valid for reads and writes and holds the head of the caller's private list;
/// `release` is a reference the caller claimed from it and no longer uses.
#[no_mangle]
pub unsafe extern "C" fn gnttab_release_grant_reference(
    head: *mut bindings::grant_ref_t,
    release: bindings::grant_ref_t,
) {
    // SAFETY: By the safety requirements.
    let mut list = opt(unsafe { *head });
    // SAFETY: By the safety requirements.
    unsafe { Driver::release_ref(&mut list, release) };
    // SAFETY: By the safety requirements.
    unsafe { *head = list.unwrap_or(LIST_END) };
}

/// Runs `func(arg)` once `count` references are free.
///
/// # Safety
///
/// `cb` stays valid, and untouched by the caller, until it ran or was cancelled; `func(arg)`
/// may be called from any context that frees grant references.
#[no_mangle]
pub unsafe extern "C" fn gnttab_request_free_callback(
    cb: *mut bindings::gnttab_free_callback,
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
    count: u16,
) {
    // SAFETY: By the safety requirements.
    let (cb, func) = unsafe { (FreeCallback::from_raw(cb), CallbackFn::new(func, arg)) };
    if let Some(cb) = cb {
        Driver::request_free_callback(cb, func, count)
    }
}

/// Cancels a callback of [`gnttab_request_free_callback`].
///
/// # Safety
///
/// `cb` is null or a valid callback structure (registered or not) that stays valid until this
/// returns.
#[no_mangle]
pub unsafe extern "C" fn gnttab_cancel_free_callback(cb: *mut bindings::gnttab_free_callback) {
    // SAFETY: `cb` is null or valid for the call (safety requirements).
    if let Some(cb) = unsafe { FreeCallback::from_raw(cb) } {
        Driver::cancel_free_callback(cb)
    }
}

/// Maps a batch of grants, retrying those Xen answers `GNTST_eagain`.
///
/// # Safety
///
/// `batch` holds `count` valid map operations the caller may submit.
#[no_mangle]
pub unsafe extern "C" fn gnttab_batch_map(
    batch: *mut bindings::gnttab_map_grant_ref,
    count: c_uint,
) {
    // SAFETY: By the safety requirements; `MapOp` is transparent.
    let ops = unsafe { ops_from_raw::<MapOp, _>(batch, count) };
    Driver::batch(ops)
}

/// Copies a batch of grants, retrying those Xen answers `GNTST_eagain`.
///
/// # Safety
///
/// `batch` holds `count` valid copy operations the caller may submit.
#[no_mangle]
pub unsafe extern "C" fn gnttab_batch_copy(batch: *mut bindings::gnttab_copy, count: c_uint) {
    // SAFETY: By the safety requirements; `CopyOp` is transparent.
    let ops = unsafe { ops_from_raw::<CopyOp, _>(batch, count) };
    Driver::batch(ops)
}

/// Maps grants into `pages` and records the foreign mappings.
///
/// # Safety
///
/// `map_ops` and `pages` hold `count` entries, `kmap_ops` is null or does too; the operations
/// are the caller's to submit and the pages are the caller's (see [`PageArray::from_raw`]).
#[no_mangle]
pub unsafe extern "C" fn gnttab_map_refs(
    map_ops: *mut bindings::gnttab_map_grant_ref,
    kmap_ops: *mut bindings::gnttab_map_grant_ref,
    pages: *mut *mut bindings::page,
    count: c_uint,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (ops, kops, pages) = unsafe {
        (
            ops_from_raw::<MapOp, _>(map_ops, count),
            KernelOps::from_raw(kmap_ops, count as usize),
            PageArray::from_raw(pages, count as usize),
        )
    };
    Driver::map_refs(ops, &kops, &pages)
}

/// Unmaps grants from `pages` and removes the foreign mappings.
///
/// # Safety
///
/// As for [`gnttab_map_refs`], with unmap operations.
#[no_mangle]
pub unsafe extern "C" fn gnttab_unmap_refs(
    unmap_ops: *mut bindings::gnttab_unmap_grant_ref,
    kunmap_ops: *mut bindings::gnttab_unmap_grant_ref,
    pages: *mut *mut bindings::page,
    count: c_uint,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (ops, kops, pages) = unsafe {
        (
            ops_from_raw::<UnmapOp, _>(unmap_ops, count),
            KernelOps::from_raw(kunmap_ops, count as usize),
            PageArray::from_raw(pages, count as usize),
        )
    };
    Driver::unmap_refs(ops, &kops, &pages)
}

/// Unmaps the grants of `item` once its pages have no other user, then runs `item->done`.
///
/// # Safety
///
/// `item` is null or a valid request whose arrays hold `count` entries as for
/// [`gnttab_unmap_refs`], left to the grant table until its `done` runs.
#[no_mangle]
pub unsafe extern "C" fn gnttab_unmap_refs_async(item: *mut bindings::gntab_unmap_queue_data) {
    // SAFETY: By the safety requirements.
    if let Some(item) = unsafe { UnmapItem::from_raw(item) } {
        crate::unmap_refs_async(item)
    }
}

/// Like [`gnttab_unmap_refs_async`], and waits for the result.
///
/// # Safety
///
/// As for [`gnttab_unmap_refs_async`]; the function sets `item->done` and `item->data`.
#[no_mangle]
pub unsafe extern "C" fn gnttab_unmap_refs_sync(
    item: *mut bindings::gntab_unmap_queue_data,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { unmap_refs_sync(item) }
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
    let ret = unsafe { bindings::xen_alloc_unpopulated_pages(n, p) };
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
        bindings::xen_free_unpopulated_pages(nr.max(0) as c_uint, p);
    }
}

/// The lock class of every page cache's lock, as `spin_lock_init()` in C gives one call site.
struct CacheLockClass(core::cell::UnsafeCell<bindings::lock_class_key>);

// SAFETY: Only lockdep touches the key, with its own synchronisation.
unsafe impl Sync for CacheLockClass {}

/// The key is static storage, as lockdep requires.
static CACHE_LOCK_CLASS: CacheLockClass = CacheLockClass(core::cell::UnsafeCell::new(
    // SAFETY: All-zeroes is a valid `lock_class_key`.
    unsafe { core::mem::zeroed() },
));

/// `gnttab_page_cache_init()`.
///
/// # Safety
///
/// `cache` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gnttab_page_cache_init(cache: *mut bindings::gnttab_page_cache) {
    // SAFETY: By the safety requirements; the key is static.
    unsafe {
        bindings::__spin_lock_init(
            ptr::addr_of_mut!((*cache).lock),
            kernel::c_str!("&cache->lock").as_char_ptr(),
            CACHE_LOCK_CLASS.0.get(),
        );
        cache_init(cache);
        (*cache).num_pages = 0;
    }
}

#[cfg(CONFIG_XEN_UNPOPULATED_ALLOC)]
mod cache {
    use super::*;

    // `struct page` has members of empty structures on some configurations: only pointers to
    // it cross, as in the generated bindings, which allow the same lint.
    #[allow(improper_ctypes)]
    extern "C" {
        // Defined in `grant_table_exports.c`, built in and not exported (see
        // `grant_table_rust.h`).
        fn xen_gnttab_page_zone_device_data(page: *mut bindings::page) -> *mut c_void;
        fn xen_gnttab_page_set_zone_device_data(page: *mut bindings::page, data: *mut c_void);
    }

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
            (*c).pages = xen_gnttab_page_zone_device_data(page).cast();
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
            xen_gnttab_page_set_zone_device_data(page, (*c).pages.cast());
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
/// DMA-able pages for grants (`CONFIG_XEN_GRANT_DMA_ALLOC`).
#[cfg(CONFIG_XEN_GRANT_DMA_ALLOC)]
pub mod dma {
    use super::*;

    extern "C" {
        // Defined in `grant_table_exports.c`, built in and not exported (`grant_table_rust.h`):
        // `xenmem_reservation_decrease()` / `_increase()` behind the fault attributes
        // `fail_gnttab_dma_decrease` / `fail_gnttab_dma_increase`.
        fn xen_gnttab_dma_decrease(count: c_int, frames: *mut Frame) -> c_int;
        fn xen_gnttab_dma_increase(count: c_int, frames: *mut Frame) -> c_int;
    }

    /// Takes back from Xen the first `taken` frames of the buffer `a` describes and frees the
    /// buffer; the other frames were never given to Xen, and their mappings are restored.
    ///
    /// Returns `false`, leaking the buffer with a warning, if Xen does not give every frame
    /// back: the DMA allocator must never get a page without memory behind it.
    ///
    /// # Safety
    ///
    /// `a` describes a buffer from `dma_alloc_attrs()` whose `pages` and `frames` arrays hold
    /// `nr_pages` entries; frames `taken..nr_pages` still hold the frames of their pages
    /// (`xen_page_to_gfn()`), whose mappings were reset; nothing else uses the buffer.
    unsafe fn give_back_and_free(a: &mut bindings::gnttab_dma_alloc_args, taken: usize) -> bool {
        let n = a.nr_pages.max(0) as usize;
        let taken = taken.min(n);
        // SAFETY: Both arrays hold `n` entries; frames `taken..n` are those of their pages,
        // which Xen never took (safety requirements), so mapping them again restores them.
        unsafe {
            bindings::xenmem_reservation_va_mapping_update(
                (n - taken) as c_ulong,
                a.pages.add(taken),
                a.frames.add(taken),
            );
        }
        for i in 0..taken {
            // SAFETY: `pages` and `frames` hold `n > i` entries; the page is valid.
            unsafe { *a.frames.add(i) = bindings::page_to_xen_pfn(*a.pages.add(i)) };
        }
        // SAFETY: The first `taken` frames name pages of this buffer that Xen took.
        let got = unsafe { xen_gnttab_dma_increase(taken as c_int, a.frames) };
        let got = got.clamp(0, taken as c_int) as usize;
        // SAFETY: Xen populated the first `got` frames, in order.
        unsafe {
            bindings::xenmem_reservation_va_mapping_update(got as c_ulong, a.pages, a.frames)
        };
        if got != taken {
            kernel::pr_warn!(
                "leaking a DMA buffer of {} pages: Xen gave back only {} of its {} frames\n",
                n,
                got,
                taken
            );
            return false;
        }
        let size = n << bindings::PAGE_SHIFT;
        let attrs = if a.coherent {
            0
        } else {
            bindings::DMA_ATTR_WRITE_COMBINE as c_ulong
        };
        // SAFETY: Every page of the buffer has memory behind it again and is mapped as before;
        // the buffer came from `dma_alloc_attrs()` with these arguments.
        unsafe { bindings::dma_free_attrs(a.dev, size, a.vaddr, a.dev_bus_addr, attrs) };
        true
    }

    /// `gnttab_dma_free_pages()`.
    ///
    /// # Safety
    ///
    /// `args` describes a buffer from `gnttab_dma_alloc_pages()`, which nobody uses any more.
    #[no_mangle]
    pub unsafe extern "C" fn gnttab_dma_free_pages(
        args: *mut bindings::gnttab_dma_alloc_args,
    ) -> c_int {
        // SAFETY: By the safety requirements.
        let a = unsafe { &mut *args };
        let n = a.nr_pages.max(0) as usize;
        // SAFETY: `pages` holds `n` pages of the buffer, given to Xen entirely by
        // `gnttab_dma_alloc_pages()`, which nobody uses (safety requirements).
        unsafe { gnttab_pages_clear_private(a.nr_pages, a.pages) };
        // SAFETY: As above: Xen took all `n` frames.
        if unsafe { give_back_and_free(a, n) } {
            0
        } else {
            EFAULT.to_errno()
        }
    }

    /// `gnttab_dma_alloc_pages()`: a DMA buffer whose frames are given back to Xen, ready
    /// for mapping grants into.
    ///
    /// # Safety
    ///
    /// `args` is valid, with a valid `dev` and `pages` and `frames` arrays of `nr_pages` entries.
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
            kernel::pr_debug!("Failed to allocate DMA buffer of size {}\n", size);
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
        let taken = unsafe {
            bindings::xenmem_reservation_va_mapping_reset(n as c_ulong, a.pages);
            xen_gnttab_dma_decrease(a.nr_pages, a.frames)
        };
        if taken != a.nr_pages {
            kernel::pr_debug!("Failed to decrease reservation for DMA buffer\n");
            // SAFETY: Xen took the first `taken` frames, in order; the others still hold the
            // frames of their pages. The buffer is not handed out.
            unsafe { give_back_and_free(a, taken.max(0) as usize) };
            return EFAULT.to_errno();
        }
        // SAFETY: `pages` holds `n` valid pages.
        let ret = unsafe { gnttab_pages_set_private(a.nr_pages, a.pages) };
        if ret < 0 {
            // SAFETY: Xen took every frame; the buffer is not handed out.
            unsafe { give_back_and_free(a, n) };
        }
        ret
    }
}
