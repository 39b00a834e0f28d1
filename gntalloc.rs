// SPDX-License-Identifier: GPL-2.0

//! `/dev/xen/gntalloc`: user space shares its pages with other Xen domains.
//!
//! A process asks for pages granted to a domain (`IOCTL_GNTALLOC_ALLOC_GREF`), gets their grant
//! references to pass to that domain, maps the pages with `mmap()` at the offset the ioctl
//! returned, and gives them back with `IOCTL_GNTALLOC_DEALLOC_GREF`, `munmap()` and `close()`.
//! `IOCTL_GNTALLOC_SET_UNMAP_NOTIFY` asks for a byte of a page to be cleared, an event channel
//! to be signalled, or both, when the page is finally given up, so the other domain learns that
//! this side has gone (libxenvchan relies on it). The interface is that of gntalloc.c
//! (`include/uapi/xen/gntalloc.h`), with the same errors.
//!
//! A page stays shared as long as its file still lists it or a mapping of it exists; then the
//! grant is ended. When the other domain still maps it, the grant table defers the end and
//! frees the page only once the other domain has let go. At most `limit` pages are shared at a
//! time over all files, as with gntalloc.c.
//!
//! That the other domain still maps a page user space gave up is routine (the Qubes GUI
//! protocol unmaps on the receiving side last), so the grant table does not report such a
//! deferral and counts it apart (`/sys/module/grant_table/stats/deferred_user`). A file
//! released with such pages is named instead: one rate-limited line with the process and how
//! many of the file's pages the other domain still mapped.

use core::{
    cell::UnsafeCell,
    mem::{offset_of, size_of, ManuallyDrop},
    ptr::NonNull,
    sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering},
};
use kernel::{
    alloc::flags::{__GFP_NOWARN, GFP_KERNEL},
    c_str,
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    mm_vma::{flags as vm, Vma},
    new_mutex,
    page::{PAGE_SHIFT, PAGE_SIZE},
    prelude::*,
    sync::{Arc, Mutex},
    types::{AsBytes, FromBytes},
    uaccess::{UserPtr, UserSlice},
    uapi,
    xen::share::{EndBatch, EventChannel, GrantedPage},
};

module! {
    type: GntAlloc,
    name: "xen_gntalloc",
    author: "Xen Rust drivers",
    description: "Xen grant reference allocator: user space shares pages with other domains",
    license: "GPL",
}

kernel::module_param_int! {
    /// Maximum number of grants that may be allocated by the gntalloc device.
    limit = 1024, "xen_gntalloc", "limit", 0o644;
}

/// Pages shared through gntalloc now, over all files (gntalloc.c's `gref_size`).
static SHARED_PAGES: AtomicU32 = AtomicU32::new(0);

/// When the release report may print again (jiffies), and how many it printed since.
static REPORT_START: AtomicU64 = AtomicU64::new(0);
static REPORTED: AtomicU32 = AtomicU32::new(0);

/// Whether a release report may print now: at most 10 every 5 seconds.
fn report_allowed() -> bool {
    let now = kernel::kthread::jiffies() as u64;
    let start = REPORT_START.load(Ordering::Relaxed);
    if start == 0 || now.wrapping_sub(start) > 5 * kernel::time::HZ as u64 {
        REPORT_START.store(now.max(1), Ordering::Relaxed);
        REPORTED.store(0, Ordering::Relaxed);
    }
    REPORTED.fetch_add(1, Ordering::Relaxed) < 10
}

/// The other domain may write the pages.
const FLAG_WRITABLE: u16 = uapi::GNTALLOC_FLAG_WRITABLE as u16;
const NOTIFY_CLEAR_BYTE: u32 = uapi::UNMAP_NOTIFY_CLEAR_BYTE;
const NOTIFY_SEND_EVENT: u32 = uapi::UNMAP_NOTIFY_SEND_EVENT;

/// The ioctl numbers of `include/uapi/xen/gntalloc.h`: `_IOC(_IOC_NONE, 'G', nr, size)`.
const fn gntalloc_ioctl(nr: u32, size: usize) -> u32 {
    ((size as u32) << 16) | ((b'G' as u32) << 8) | nr
}
const IOCTL_ALLOC_GREF: u32 = gntalloc_ioctl(5, size_of::<AllocGref>());
const IOCTL_DEALLOC_GREF: u32 = gntalloc_ioctl(6, size_of::<DeallocGref>());
const IOCTL_SET_UNMAP_NOTIFY: u32 = gntalloc_ioctl(7, size_of::<UnmapNotify>());

/// `struct ioctl_gntalloc_alloc_gref`, as much of it as `sizeof()` covers: its flexible array
/// `gref_ids[]` continues past the structure, with `count` references in all.
#[repr(C)]
struct AllocGref {
    /// In: the domain the pages are shared with.
    domid: u16,
    /// In: `GNTALLOC_FLAG_WRITABLE` or not.
    flags: u16,
    /// In: the number of pages.
    count: u32,
    /// Out: the offset to `mmap()` the pages at.
    index: u64,
    /// Out: the first reference (the union of `gref_ids[1]` and `gref_ids_flex[]`).
    gref_ids: [u32; 1],
    /// The structure's tail padding in C, a field here so that the structure has no padding:
    /// what user space passed in it goes back unchanged, as from gntalloc.c.
    tail: u32,
}

/// `struct ioctl_gntalloc_dealloc_gref`.
#[repr(C)]
struct DeallocGref {
    /// The offset the allocation returned.
    index: u64,
    /// The number of pages.
    count: u32,
    /// The structure's tail padding in C.
    tail: u32,
}

/// `struct ioctl_gntalloc_unmap_notify`.
#[repr(C)]
struct UnmapNotify {
    /// The offset of a byte in the page (the byte to clear with `UNMAP_NOTIFY_CLEAR_BYTE`).
    index: u64,
    /// `UNMAP_NOTIFY_CLEAR_BYTE`, `UNMAP_NOTIFY_SEND_EVENT`, both or neither.
    action: u32,
    /// The event channel to signal with `UNMAP_NOTIFY_SEND_EVENT`.
    event_channel_port: u32,
}

// The layouts are those of the UAPI headers, with every byte in a field (no padding).
static_assert!(size_of::<AllocGref>() == size_of::<uapi::ioctl_gntalloc_alloc_gref>());
static_assert!(offset_of!(AllocGref, domid) == offset_of!(uapi::ioctl_gntalloc_alloc_gref, domid));
static_assert!(offset_of!(AllocGref, flags) == offset_of!(uapi::ioctl_gntalloc_alloc_gref, flags));
static_assert!(offset_of!(AllocGref, count) == offset_of!(uapi::ioctl_gntalloc_alloc_gref, count));
static_assert!(offset_of!(AllocGref, index) == offset_of!(uapi::ioctl_gntalloc_alloc_gref, index));
static_assert!(
    offset_of!(AllocGref, gref_ids)
        == offset_of!(uapi::ioctl_gntalloc_alloc_gref, __bindgen_anon_1)
);
static_assert!(
    offset_of!(AllocGref, domid) == 0
        && offset_of!(AllocGref, flags) == 2
        && offset_of!(AllocGref, count) == 4
        && offset_of!(AllocGref, index) == 8
        && offset_of!(AllocGref, gref_ids) == 16
        && offset_of!(AllocGref, tail) == 20
        && size_of::<AllocGref>() == 24
);
static_assert!(size_of::<DeallocGref>() == size_of::<uapi::ioctl_gntalloc_dealloc_gref>());
static_assert!(
    offset_of!(DeallocGref, index) == offset_of!(uapi::ioctl_gntalloc_dealloc_gref, index)
);
static_assert!(
    offset_of!(DeallocGref, count) == offset_of!(uapi::ioctl_gntalloc_dealloc_gref, count)
);
static_assert!(
    offset_of!(DeallocGref, index) == 0
        && offset_of!(DeallocGref, count) == 8
        && offset_of!(DeallocGref, tail) == 12
        && size_of::<DeallocGref>() == 16
);
static_assert!(size_of::<UnmapNotify>() == size_of::<uapi::ioctl_gntalloc_unmap_notify>());
static_assert!(
    offset_of!(UnmapNotify, index) == offset_of!(uapi::ioctl_gntalloc_unmap_notify, index)
);
static_assert!(
    offset_of!(UnmapNotify, action) == offset_of!(uapi::ioctl_gntalloc_unmap_notify, action)
);
static_assert!(
    offset_of!(UnmapNotify, event_channel_port)
        == offset_of!(uapi::ioctl_gntalloc_unmap_notify, event_channel_port)
);
static_assert!(
    offset_of!(UnmapNotify, index) == 0
        && offset_of!(UnmapNotify, action) == 8
        && offset_of!(UnmapNotify, event_channel_port) == 12
        && size_of::<UnmapNotify>() == 16
);

// SAFETY: All fields are integers (or an array of them), valid for any bit pattern, and none
// has interior mutability.
unsafe impl FromBytes for AllocGref {}
// SAFETY: All fields are integers (or an array of them) without interior mutability, and the
// assertions above check that they cover every byte: a value has no uninitialised byte.
unsafe impl AsBytes for AllocGref {}
// SAFETY: All fields are integers, valid for any bit pattern, and none has interior mutability.
unsafe impl FromBytes for DeallocGref {}
// SAFETY: All fields are integers, valid for any bit pattern, and none has interior mutability.
unsafe impl FromBytes for UnmapNotify {}

/// What to do when a page is given up.
#[derive(Default)]
struct Notify {
    /// Offset of the byte to clear, when `clear` is set.
    offset: usize,
    clear: bool,
    event: Option<EventChannel>,
}

/// One shared page, in the [`Block`] of the request that made it.
///
/// # Invariants
///
/// `users` counts the [`GrefHandle`]s of the page (its file's entry and every mapping of it).
/// While it is not zero, `page` holds the granted page and is only read; the handle that takes
/// it to zero ends the grant (taking `page` and `notify`), and nothing uses either after that.
/// `notify` is written only through the entry of the page in its file's list, with the list
/// locked (see [`FileGrefs::notify_mut`]). `block` is the block whose `grefs` hold this one.
struct Gref {
    users: AtomicU32,
    block: NonNull<Block>,
    page: UnsafeCell<ManuallyDrop<GrantedPage>>,
    notify: UnsafeCell<Notify>,
}

impl Gref {
    /// Gives the page up: runs the notification and takes the page out, whose grant the
    /// caller ends; it no longer counts against `limit`.
    ///
    /// # Safety
    ///
    /// `users` is zero and this is the one call for the page: nothing else uses `page` or
    /// `notify` any more.
    unsafe fn take(&self) -> GrantedPage {
        // SAFETY: Nothing else uses `notify` (safety requirements).
        let notify = core::mem::take(unsafe { &mut *self.notify.get() });
        // SAFETY: Nothing else uses `page`, which still holds the page until this call takes
        // it (type invariant, safety requirements).
        let page = unsafe { ManuallyDrop::take(&mut *self.page.get()) };
        if notify.clear {
            // The offset was taken from within a page, so this cannot fail.
            let _ = page.clear_byte(notify.offset);
        }
        if let Some(event) = notify.event {
            event.notify();
        }
        SHARED_PAGES.fetch_sub(1, Ordering::Relaxed);
        page
    }
}

impl Drop for Gref {
    fn drop(&mut self) {
        // A page whose block was never finished has its count still, and no handle: give it up
        // here. (In a finished block every page was given up before the block is freed.)
        if *self.users.get_mut() != 0 {
            *self.users.get_mut() = 0;
            // SAFETY: `users` is zero now and `&mut self` excludes every other use; the page was
            // not given up yet, since its count was not zero (type invariant).
            let page = unsafe { self.take() };
            page.end_for_user();
        }
    }
}

/// The pages one `IOCTL_GNTALLOC_ALLOC_GREF` made, in one allocation (gntalloc.c makes one per
/// page): sharing and giving up a page then allocate and free nothing but the page itself.
///
/// # Invariants
///
/// A block handed out by [`Block::share`] was leaked from a `KBox` and is freed when `live`
/// reaches zero; `live` counts its pages whose `users` is not zero. Its `one` and `grefs` never
/// change or move after [`Block::share`].
struct Block {
    live: AtomicUsize,
    /// The file's count of pages the other domain still mapped when they were given up.
    left: Arc<AtomicU32>,
    /// The page of a request for one page, which then has no `grefs` (nothing to allocate or
    /// free besides the block).
    one: Option<Gref>,
    grefs: Option<KVVec<Gref>>,
}

impl Block {
    /// Shares `n` new pages with `domid`, one handle each, in order, to `f`, which must not fail.
    /// `n` is reserved against `limit` by the caller; the pages that were not made give back
    /// their share of it, the others when they are given up.
    fn share(
        n: usize,
        domid: u16,
        readonly: bool,
        left: &Arc<AtomicU32>,
        gfp: kernel::alloc::Flags,
        mut f: impl FnMut(GrefHandle),
    ) -> Result {
        // `received` pages came (at most `n`): each of them gives its share back itself, when
        // it is given up; the others' shares go back here.
        let unreserve = |received: usize| {
            SHARED_PAGES.fetch_sub(n.saturating_sub(received) as u32, Ordering::Relaxed);
        };
        if n == 0 {
            return Ok(());
        }
        if n == 1 {
            return Self::share_one(domid, readonly, left, gfp, f);
        }
        let block = KBox::new(
            Block {
                live: AtomicUsize::new(n),
                left: left.clone(),
                one: None,
                grefs: Some(KVVec::with_capacity(n, gfp).inspect_err(|_| unreserve(0))?),
            },
            gfp,
        )
        .inspect_err(|_| unreserve(0))?;
        let raw = KBox::into_raw(block);
        // SAFETY: `KBox::into_raw` never returns null.
        let at = unsafe { NonNull::new_unchecked(raw) };
        let fail = move |received: usize| {
            unreserve(received);
            // SAFETY: `raw` was leaked above and no handle points into it: it is freed once,
            // here, and the pages made so far are given up as their `Gref`s drop.
            drop(unsafe { KBox::from_raw(raw) });
        };
        let mut received = 0usize;
        let shared = GrantedPage::new_many(domid, readonly, n, |page| {
            if received == n {
                // More than asked for: never counted against `limit`, ended as it drops.
                drop(page);
                return;
            }
            received += 1;
            let gref = Gref {
                users: AtomicU32::new(1),
                block: at,
                page: UnsafeCell::new(ManuallyDrop::new(page)),
                notify: UnsafeCell::new(Notify::default()),
            };
            // SAFETY: `raw` is valid (leaked above) and nothing else uses it yet.
            let b = unsafe { &mut *raw };
            if let Some(grefs) = &mut b.grefs {
                // The capacity of `n` was reserved above and no more than `n` pages get here:
                // this neither allocates nor moves the pages made so far. Were it to fail, the
                // page would be given up as it drops (and `made` would not be `n`).
                let _ = grefs.push(gref, gfp);
            }
        });
        // SAFETY: `raw` is valid (leaked above) and nothing else uses it yet.
        let made = unsafe { (*raw).grefs.as_ref().map_or(0, |g| g.len()) };
        if shared.is_err() || made != n {
            fail(received);
            return Err(shared.err().unwrap_or(ENOMEM));
        }
        // SAFETY: `raw` is valid (leaked above); from now on its pages are only read.
        let b = unsafe { &*raw };
        for g in b.grefs.iter().flatten() {
            // INVARIANT: Each page was made with one count, which its handle takes over; the
            // block now lives until `live` reaches zero.
            f(GrefHandle {
                gref: NonNull::from(g),
            });
        }
        Ok(())
    }
}

impl Block {
    /// [`Block::share`] of one page: the page is made first and goes straight into its block.
    fn share_one(
        domid: u16,
        readonly: bool,
        left: &Arc<AtomicU32>,
        gfp: kernel::alloc::Flags,
        f: impl FnOnce(GrefHandle),
    ) -> Result {
        let page = GrantedPage::new(domid, readonly).inspect_err(|_| {
            SHARED_PAGES.fetch_sub(1, Ordering::Relaxed);
        })?;
        // Should the block's allocation fail, the page's `Gref` drops with it, which ends the
        // grant and gives its share of `limit` back.
        let block = KBox::new(
            Block {
                live: AtomicUsize::new(1),
                left: left.clone(),
                one: Some(Gref {
                    users: AtomicU32::new(1),
                    block: NonNull::dangling(),
                    page: UnsafeCell::new(ManuallyDrop::new(page)),
                    notify: UnsafeCell::new(Notify::default()),
                }),
                grefs: None,
            },
            gfp,
        )?;
        let raw = KBox::into_raw(block);
        // SAFETY: `KBox::into_raw` never returns null.
        let at = unsafe { NonNull::new_unchecked(raw) };
        // SAFETY: `raw` is valid (leaked above) and nothing else uses it yet; its page points
        // back to it before any handle exists. From then on the page is only read.
        let g = unsafe {
            let one = (*raw).one.as_mut();
            if let Some(g) = one {
                g.block = at;
            }
            (*raw).one.as_ref()
        };
        if let Some(g) = g {
            // INVARIANT: The page was made with one count, which its handle takes over; the
            // block now lives until `live` reaches zero.
            f(GrefHandle {
                gref: NonNull::from(g),
            });
        }
        Ok(())
    }
}

/// One count on a shared page: its file lists it, or a mapping maps it.
///
/// # Invariants
///
/// `gref` points to a page of a [`Block`] handed out by [`Block::share`], whose `users` this
/// handle counts once.
struct GrefHandle {
    gref: NonNull<Gref>,
}

// SAFETY: The counts are atomic, the page is only read while counted, and the last count's
// handle alone gives it up (with its notification); `GrantedPage` and `Notify` are `Send`, so
// that may happen on any thread, and so may freeing the block.
unsafe impl Send for GrefHandle {}
// SAFETY: As above: through `&GrefHandle` the page is only read (`GrantedPage::clear_byte` writes
// it, but only `Gref::take` calls that, once, after the last count is gone).
unsafe impl Sync for GrefHandle {}
// What the two claims above rest on.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<GrantedPage>();
    send::<Notify>();
};

/// No page is counted more often than this (every count is a mapping or the file's entry).
const MAX_USERS: u32 = i32::MAX as u32;

impl GrefHandle {
    fn gref(&self) -> &Gref {
        // SAFETY: The page lives while this handle counts it (type invariant).
        unsafe { self.gref.as_ref() }
    }

    /// The shared page.
    fn page(&self) -> &GrantedPage {
        // SAFETY: This handle counts the page, so it holds the granted page, which nothing
        // changes while it is counted (type invariants of `GrefHandle` and `Gref`).
        unsafe { &*self.gref().page.get() }
    }

    /// Another count on the same page.
    fn try_clone(&self) -> Result<Self> {
        let users = &self.gref().users;
        if users.fetch_add(1, Ordering::Relaxed) >= MAX_USERS {
            users.fetch_sub(1, Ordering::Relaxed);
            return Err(ENOMEM);
        }
        // INVARIANT: The count was just taken.
        Ok(Self { gref: self.gref })
    }
}

impl GrefHandle {
    /// Gives up this count, as dropping the handle does, but the grant of a page given up is
    /// ended through `batch` (the caller adds what it defers to its file's count).
    fn put(self, batch: &mut EndBatch) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again: its count is given up once, here.
        unsafe { release(this.gref, Some(batch)) };
    }
}

impl Drop for GrefHandle {
    fn drop(&mut self) {
        // SAFETY: The handle goes: its count is given up once, here.
        unsafe { release(self.gref, None) };
    }
}

/// Gives up one count on `gref`; the last one gives the page up, its grant ended through
/// `batch` or, without one, at once.
///
/// # Safety
///
/// `gref` is the pointer of a [`GrefHandle`], whose count the caller gives up.
unsafe fn release(gref: NonNull<Gref>, batch: Option<&mut EndBatch>) {
    // SAFETY: The page lives while the caller's count is held (safety requirements).
    let g = unsafe { gref.as_ref() };
    if g.users.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    fence(Ordering::Acquire);
    let block = g.block;
    // SAFETY: The page's block is alive while the page is counted or being given up (`live`
    // counts it until below).
    let b = unsafe { block.as_ref() };
    // SAFETY: The caller's count was the last: nothing else uses the page any more, and it is
    // given up once (`Gref` invariants).
    let page = unsafe { g.take() };
    match batch {
        Some(batch) => batch.push(page),
        None => {
            if page.end_for_user() {
                b.left.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if b.live.fetch_sub(1, Ordering::Release) == 1 {
        fence(Ordering::Acquire);
        // SAFETY: No page of the block is counted any more, so no handle points into it; it was
        // leaked from a `KBox` by `Block::share` (type invariant of `Block`).
        drop(unsafe { KBox::from_raw(block.as_ptr()) });
    }
}

/// Requests of up to this many pages build the reply on the stack (`alloc`).
const SMALL_ALLOC: usize = 16;

/// The pages of one open file, in the order of their offsets.
struct FileGrefs {
    /// Offset the next allocation gets (gntalloc.c's `priv->index`).
    next_index: u64,
    /// (offset, page), offsets increasing.
    grefs: KVVec<(u64, GrefHandle)>,
    /// Pages of this file the other domain still mapped when they were given up.
    left: Arc<AtomicU32>,
}

impl FileGrefs {
    /// Finds `count` pages at consecutive offsets from `index`; returns the first's position.
    fn find(&self, index: u64, count: usize) -> Option<usize> {
        if count == 0 {
            return None;
        }
        let first = self.grefs.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        let run = self.grefs.get(first..first.checked_add(count)?)?;
        let mut want = index;
        for (i, _) in run {
            if *i != want {
                return None;
            }
            want = want.wrapping_add(PAGE_SIZE as u64);
        }
        Some(first)
    }

    /// Removes `count` entries from position `first`; the pages go when nothing else holds them.
    /// Positions outside the list remove nothing.
    fn remove(&mut self, first: usize, count: usize) {
        let len = self.grefs.len();
        let Some(run) = self.grefs.as_mut_slice().get_mut(first..) else {
            return;
        };
        if count > run.len() {
            return;
        }
        run.rotate_left(count);
        let mut batch = EndBatch::new();
        // SAFETY: `count <= len - first` (checked above), so the last `count` entries are
        // initialised; once the length excludes them each is read out exactly once, below.
        unsafe {
            self.grefs.set_len(len - count);
            let tail = self.grefs.as_mut_ptr().add(len - count);
            for i in 0..count {
                let (_, h) = core::ptr::read(tail.add(i));
                h.put(&mut batch);
            }
        }
        self.left.fetch_add(batch.finish(), Ordering::Relaxed);
    }
}

impl Drop for FileGrefs {
    fn drop(&mut self) {
        self.remove(0, self.grefs.len());
    }
}

impl FileGrefs {
    /// What to do when the page at position `i` is given up; `None` if there is none.
    fn notify_mut(&mut self, i: usize) -> Option<&mut Notify> {
        let (_, h) = self.grefs.get(i)?;
        // SAFETY: This entry counts the page, so it is not given up while `&mut self` lasts (an
        // entry leaves the list only through `&mut self`), and a page's `notify` is written only
        // here, through its one entry in one file's list, which `&mut self` holds exclusively
        // (`Gref` invariants).
        Some(unsafe { &mut *h.gref().notify.get() })
    }
}

/// An open `/dev/xen/gntalloc`.
#[pin_data]
struct GntAllocFile {
    #[pin]
    grefs: Mutex<FileGrefs>,
}

/// The pages one `mmap()` of a file maps: they stay shared while any part of it is mapped.
struct MappedGrefs {
    /// The first page, so that a mapping of one page allocates nothing more.
    small: [Option<GrefHandle>; MAP_INLINE],
    /// The others, if any (a mapping of one page has no vector to free).
    more: Option<KVVec<GrefHandle>>,
    left: Arc<AtomicU32>,
}

/// How many pages a mapping holds without an allocation of its own.
const MAP_INLINE: usize = 1;

impl MappedGrefs {
    fn iter(&self) -> impl Iterator<Item = &GrefHandle> {
        Iterator::chain(self.small.iter().flatten(), self.more.iter().flatten())
    }
}

impl Drop for MappedGrefs {
    fn drop(&mut self) {
        let mut batch = EndBatch::new();
        for h in self.small.iter_mut().filter_map(Option::take) {
            h.put(&mut batch);
        }
        for h in self.more.take().into_iter().flatten() {
            h.put(&mut batch);
        }
        self.left.fetch_add(batch.finish(), Ordering::Relaxed);
    }
}

/// [`max_grant_refs`] when the module was loaded: the limit Xen sets a domain does not change
/// while it runs, and asking Xen on every request would cost a hypercall each.
static MAX_GRANT_REFS: AtomicU32 = AtomicU32::new(0);

/// The most references the grant table can ever hold: v1 entries (the smaller kind) in as many
/// frames as Xen allows. No request for more pages can succeed.
fn max_grant_refs() -> u32 {
    // SAFETY: No preconditions: the grant table answers from what Xen reported (or 0).
    let frames = unsafe { kernel::bindings::gnttab_max_grant_frames() };
    // Xen's pages are 4 KiB whatever the kernel's are.
    const XEN_PAGE_SIZE: usize = 4096;
    frames.saturating_mul((XEN_PAGE_SIZE / size_of::<kernel::bindings::grant_entry_v1>()) as u32)
}

/// Reserves `count` pages of the global limit; gntalloc.c's check, under its rules.
fn reserve(count: u32) -> Result {
    let mut cur = SHARED_PAGES.load(Ordering::Relaxed);
    loop {
        // Read like gntalloc.c: an `int` parameter compared as unsigned.
        let lim = limit.get() as u32;
        if cur > lim || count > lim - cur {
            return Err(ENOSPC);
        }
        match SHARED_PAGES.compare_exchange(cur, cur + count, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => return Ok(()),
            Err(now) => cur = now,
        }
    }
}

impl GntAllocFile {
    fn alloc(&self, arg: usize) -> Result<isize> {
        let (mut reader, mut writer) =
            UserSlice::new(arg as UserPtr, size_of::<AllocGref>()).reader_writer();
        let mut op: AllocGref = reader.read().map_err(|_| EFAULT)?;
        let domid = op.domid;
        let readonly = op.flags & FLAG_WRITABLE == 0;
        let count = op.count;
        // Every check comes before anything is allocated: the count against `limit` and
        // against what the grant table can ever hold (`limit` may be far larger: Qubes sets
        // 2^30), then against what all files share (the reservation is given back if an
        // allocation fails).
        if count > limit.get() as u32 || count > MAX_GRANT_REFS.load(Ordering::Relaxed) {
            return Err(ENOSPC);
        }
        let n = count as usize;
        reserve(count)?;
        let unreserve = |_| {
            SHARED_PAGES.fetch_sub(count, Ordering::Relaxed);
            ENOMEM
        };
        // Large requests are a user's to make: they fail without a kernel warning.
        let gfp = GFP_KERNEL | __GFP_NOWARN;
        // The references as user space gets them: on the stack for the usual small requests.
        let mut small = [0u8; 4 * SMALL_ALLOC];
        let mut large: KVVec<u8>;
        let refs: &mut [u8] = if n <= SMALL_ALLOC {
            &mut small[..n * 4]
        } else {
            large = KVVec::from_elem(0u8, n * 4, gfp).map_err(unreserve)?;
            &mut large
        };

        let mut guard = self.grefs.lock();
        let file = &mut *guard;
        file.grefs.reserve(n, gfp).map_err(unreserve)?;
        let index = file.next_index;
        let mut slots = refs.chunks_exact_mut(4);
        let mut at = index;
        let grefs = &mut file.grefs;
        Block::share(n, domid, readonly, &file.left, gfp, |h| {
            if let Some(slot) = slots.next() {
                slot.copy_from_slice(&h.page().gref().to_ne_bytes());
            }
            // The capacity was reserved above: this does not allocate, so it cannot fail.
            let _ = grefs.push((at, h), gfp);
            at = at.wrapping_add(PAGE_SIZE as u64);
        })?;
        file.next_index = index.wrapping_add((count as u64) << PAGE_SHIFT);
        drop(guard);

        // As gntalloc.c: the structure goes back whole (what user space passed, with the index),
        // then the references from `gref_ids` on.
        op.index = index;
        writer.write(&op).map_err(|_| EFAULT)?;
        let gref_ids = arg.wrapping_add(offset_of!(AllocGref, gref_ids));
        UserSlice::new(gref_ids as UserPtr, refs.len())
            .writer()
            .write_slice(refs)
            .map_err(|_| EFAULT)?;
        Ok(0)
    }

    fn dealloc(&self, arg: usize) -> Result<isize> {
        let op: DeallocGref = UserSlice::new(arg as UserPtr, size_of::<DeallocGref>())
            .reader()
            .read()
            .map_err(|_| EFAULT)?;
        let index = op.index;
        let count = op.count as usize;
        let mut file = self.grefs.lock();
        let first = file.find(index, count).ok_or(EINVAL)?;
        file.remove(first, count);
        Ok(0)
    }

    fn set_unmap_notify(&self, arg: usize) -> Result<isize> {
        let op: UnmapNotify = UserSlice::new(arg as UserPtr, size_of::<UnmapNotify>())
            .reader()
            .read()
            .map_err(|_| EFAULT)?;
        let at = op.index;
        let action = op.action;
        let port = op.event_channel_port;
        let index = at & !(PAGE_SIZE as u64 - 1);
        let offset = (at & (PAGE_SIZE as u64 - 1)) as usize;

        let mut file = self.grefs.lock();
        let i = file.find(index, 1).ok_or(ENOENT)?;
        if action & !(NOTIFY_CLEAR_BYTE | NOTIFY_SEND_EVENT) != 0 {
            return Err(EINVAL);
        }
        // Take the new channel before letting the old one go: it may be the same.
        let event = if action & NOTIFY_SEND_EVENT != 0 {
            Some(EventChannel::get(port).map_err(|_| EINVAL)?)
        } else {
            None
        };
        let old = core::mem::replace(
            file.notify_mut(i).ok_or(ENOENT)?,
            Notify {
                offset,
                clear: action & NOTIFY_CLEAR_BYTE != 0,
                event,
            },
        );
        drop(file);
        drop(old);
        Ok(0)
    }
}

// SAFETY: `OWNER` is this crate's `THIS_MODULE`.
#[vtable]
unsafe impl MiscDevice for GntAllocFile {
    const OWNER: &'static ThisModule = &THIS_MODULE;

    fn open() -> Result<Pin<KBox<Self>>> {
        let left = Arc::new(AtomicU32::new(0), GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Self {
                grefs <- new_mutex!(FileGrefs {
                    next_index: 0,
                    grefs: KVVec::new(),
                    left,
                }),
            }),
            GFP_KERNEL,
        )
    }

    fn release(this: Pin<KBox<Self>>) {
        let left = this.grefs.lock().left.clone();
        // Gives up every page of the file that no mapping holds.
        drop(this);
        let n = left.load(Ordering::Relaxed);
        if n > 0 && report_allowed() {
            let task = kernel::current!();
            let comm = task.comm();
            let len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
            let name = kernel::str::BStr::from_bytes(comm.get(..len).unwrap_or(&[]));
            pr_info!(
                "{}[{}] gave up {} grant(s) another domain still mapped\n",
                name,
                task.pid(),
                n
            );
        }
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_ALLOC_GREF => self.alloc(arg),
            IOCTL_DEALLOC_GREF => self.dealloc(arg),
            IOCTL_SET_UNMAP_NOTIFY => self.set_unmap_notify(arg),
            _ => Err(ENOIOCTLCMD),
        }
    }

    fn mmap(&self, vma: &Vma) -> Result {
        if vma.flags() & vm::SHARED == 0 {
            pr_debug!("gntalloc_mmap: Mapping must be shared\n");
            return Err(EINVAL);
        }
        let count = vma.pages();
        let index = (vma.pgoff() as u64) << PAGE_SHIFT;
        let mapped = {
            let file = self.grefs.lock();
            // The range is checked before anything is allocated: a mapping of more pages than
            // the file shares fails with `ENOENT`, as in gntalloc.c, whatever its size.
            let first = file.find(index, count).ok_or(ENOENT)?;
            let mut mapped = MappedGrefs {
                small: [const { None }; MAP_INLINE],
                more: None,
                left: file.left.clone(),
            };
            // At most what the file shares; kvmalloc() for large ones.
            if count > MAP_INLINE {
                mapped.more = Some(KVVec::with_capacity(count - MAP_INLINE, GFP_KERNEL)?);
            }
            let mut small = mapped.small.iter_mut();
            for (_, g) in &file.grefs[first..first + count] {
                let h = g.try_clone()?;
                match (small.next(), &mut mapped.more) {
                    (Some(slot), _) => *slot = Some(h),
                    (None, Some(more)) => more.push(h, GFP_KERNEL)?,
                    // `count` pages, of which `MAP_INLINE` inline: not reached.
                    (None, None) => return Err(EINVAL),
                }
            }
            mapped
        };
        vma.set_dontexpand();
        vma.set_dontdump();
        let start = vma.start();
        for (i, g) in mapped.iter().enumerate() {
            vma.insert_page(start + (i << PAGE_SHIFT), g.page().page())?;
        }
        vma.set_shared_data(Arc::new(mapped, GFP_KERNEL)?);
        Ok(())
    }
}

struct GntAlloc {
    _dev: Pin<KBox<MiscDeviceRegistration<GntAllocFile>>>,
}

impl kernel::Module for GntAlloc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if !kernel::xen::domain() {
            return Err(ENODEV);
        }
        MAX_GRANT_REFS.store(max_grant_refs(), Ordering::Relaxed);
        let dev = KBox::pin_init(
            MiscDeviceRegistration::<GntAllocFile>::register(c_str!("xen/gntalloc")),
            GFP_KERNEL,
        )
        .inspect_err(|_| pr_err!("Could not register misc gntalloc device\n"))?;
        Ok(Self { _dev: dev })
    }
}
