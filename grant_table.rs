// SPDX-License-Identifier: GPL-2.0

//! Xen grant table: lets other domains access pages of this one.
//!
//! Replaces `drivers/xen/grant-table.c`. Every PV driver (xenbus, block and network front and
//! back ends, gntdev, gntalloc, ...) allocates grant references here, fills the shared entries
//! through [`SharedTable`], and ends access when it is done with a page.
//!
//! # Deferred reclaim
//!
//! Ending access fails while the remote domain still maps the page. `gnttab_end_foreign_access()`
//! then keeps the reference and the page aside until the mapping goes away: neither may be
//! reused before (the XSA-396 rule). Here a deferred reference is linked into a FIFO through its
//! own free-list slot, which an allocated reference does not use, and its page goes into a
//! per-reference array that grows with the table: deferring allocates nothing and cannot fail.
//! The cost is one pointer (8 bytes) per table entry, paid when the table grows.
//!
//! One work item on the unbound system workqueue reclaims deferred entries: it takes up to
//! [`RECLAIM_BATCH`] of them under the table lock, tries to end access without the lock, frees
//! those that ended under the lock again, and calls `cond_resched()` before the next batch. So
//! interrupts are off only while a batch is unlinked or relinked, and a task of any priority
//! runs between two batches. An entry still mapped is looked at again after 4 ms, then after
//! twice as long each time it is still mapped, up to 512 ms, then every 1.25 s ([`LEVELS`]):
//! entries ended a moment ago are the ones the other domain most likely releases soon. A level
//! looked at less often than every [`SWEEP_MS`] is looked at a slice at a time, one slice every
//! 50 ms or so, so that each of its entries is still looked at once per the level's delay but
//! an unmap that starts is seen within about 50 ms ([`sweep`]). A look that reclaims a good
//! share of what it looked at means the other domain is unmapping now, so the whole of the
//! rest is looked at again after 4 ms ([`ACTIVE_SHARE`]). A domain that never unmaps costs
//! less than one compare-and-exchange per entry per second, and in its first minute no more
//! than with a look every second from the start.
//!
//! `free_per_iteration` bounds how many entries one run of the work looks at before it lets
//! other work run (it queues itself again at once); 0, the default, means no bound.

#[path = "grant_table/c_api.rs"]
pub mod c_api;
#[path = "grant_table/handles.rs"]
mod handles;

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use handles::{
    AutoXlatFrames, CallbackFn, CallbackList, FreeCallback, KernelOps, OwnedPage, PageArray,
    UnmapItem,
};
use kernel::{
    c_str,
    delayed_work::StaticDelayedWork,
    error::code::*,
    global::Global,
    kthread, module_attribute_group, new_mutex, new_spinlock_irq,
    prelude::*,
    spinlock_irq::SpinLockIrq,
    sync::Mutex,
    sysfs::{self, ModuleAttribute, ShowBuf},
    sysfs_emit,
    time::{Jiffies, HZ},
    xen::{
        self,
        grant_table::{
            self as gt, batch_op, DomId, Frame, GrantOp, GrantRef, MapOp, SharedTable, UnmapOp,
            Version, NR_RESERVED_ENTRIES, STATUS_PER_FRAME,
        },
    },
};

/// A reference as the free lists and the C interface hold it: an index into the table, with
/// [`LIST_END`] for "none" inside the lists only.
type Ref = u32;

/// The end of a free list (`GNTTAB_LIST_END`, also `INVALID_GRANT_REF`).
const LIST_END: Ref = u32::MAX;

/// The grant entries of this kernel.
///
/// Its `unsafe` methods change the mapping: they run at initialisation, suspend and resume,
/// and growth, each under the table's lock or before the table exists.
static SHARED: SharedTable = SharedTable::new();

const __LOG_PREFIX: &[u8] = b"xen:grant_table\0";

/// Deferred entries handled per batch, between two `cond_resched()` calls.
///
/// An entry costs a locked compare-and-exchange on the shared entry, two list operations and,
/// when it is freed, a `put_page()`: well under a microsecond on hardware, a few microseconds
/// under emulation. 64 keeps a batch far below a millisecond even there, so the latency a
/// reclaim adds to another task on the same CPU stays small, while the lock is taken only twice
/// per 64 entries. The 2023 review of `free_per_iteration` suggested about 100.
pub const RECLAIM_BATCH: usize = 64;

/// Grant references per page of free-list slots.
const SLOTS_PER_CHUNK: usize = kernel::page::PAGE_SIZE / core::mem::size_of::<Ref>();
/// Page pointers per page of the deferred-page array.
const PAGES_PER_CHUNK: usize = kernel::page::PAGE_SIZE / core::mem::size_of::<usize>();
/// Retry levels of deferred entries still mapped. An entry starts at level 0 and moves up one
/// level each time it is found still mapped; level `k` is looked at every
/// `FIRST_RETRY_MS << k` ms, the last level every [`LAST_RETRY_MS`] ([`retry_delay`]).
const LEVELS: usize = 9;
// `Table::full_look` has one bit per level.
kernel::static_assert!(LEVELS <= 16);
/// Delay of level 0, in ms: an entry deferred a moment ago is looked at again this soon.
const FIRST_RETRY_MS: u32 = 4;
/// Delay of the last level, in ms. The eight looks of the levels before it (4 to 512 ms) cost
/// what a backlog that stays mapped saves in its first minute by being looked at every 1.25 s
/// rather than every second: such a backlog costs no more than with a look every second from
/// the start, and at most one compare-and-exchange per entry per second.
const LAST_RETRY_MS: u32 = 1250;
/// A look at a level that reclaims at least one in this many of the entries it looked at means
/// the other domain is unmapping them now: what it still maps is looked at again after
/// [`FIRST_RETRY_MS`]. Such quick looks then cost at most this many checks per entry reclaimed,
/// and a backlog nobody unmaps never gets them.
const ACTIVE_SHARE: u32 = 16;
/// A level whose delay is longer than this (in ms) is looked at a slice at a time, about this
/// often ([`sweep`]).
const SWEEP_MS: u32 = 50;
/// Seconds an entry may wait before the pass logs that entries are still pending.
const PENDING_REPORT_SECS: u64 = 60;
/// Retries of a grant operation on a paged-out frame (`GNTST_eagain`).
const MAX_EAGAIN_DELAY: u32 = 256;
/// First retry delay of an asynchronous unmap whose pages are still in use, in ms.
const UNMAP_REFS_DELAY_MS: u32 = 5;

kernel::module_param_uint! {
    /// Deferred entries one run of the reclaim work looks at before it requeues itself (0: all).
    free_per_iteration = 0, "grant_table.free_per_iteration", 0o600;
}

kernel::module_param_uint! {
    /// Grant-table layout to ask for (1 or 2); anything else selects it automatically.
    version = 0, "grant_table.version", 0;
}

/// Totals of the deferred reclaim, shown in `/sys/module/grant_table/stats/`.
struct Totals {
    /// Entries waiting now.
    pending: AtomicU64,
    /// Entries ever deferred.
    deferred: AtomicU64,
    /// Of `deferred`, entries user space shared through gntalloc.
    deferred_user: AtomicU64,
    /// Of `pending`, entries user space shared through gntalloc.
    pending_user: AtomicU64,
    /// Deferred entries reclaimed.
    reclaimed: AtomicU64,
    /// Entries given up: an invalid reference passed to `gnttab_end_foreign_access()`.
    leaked: AtomicU64,
}

static TOTALS: Totals = Totals {
    pending: AtomicU64::new(0),
    deferred: AtomicU64::new(0),
    deferred_user: AtomicU64::new(0),
    pending_user: AtomicU64::new(0),
    reclaimed: AtomicU64::new(0),
    leaked: AtomicU64::new(0),
};

/// A few messages per interval, then silence until the interval ends.
struct RateLimit {
    start: AtomicU64,
    printed: AtomicU32,
}

impl RateLimit {
    const fn new() -> Self {
        Self {
            start: AtomicU64::new(0),
            printed: AtomicU32::new(0),
        }
    }

    /// Whether a message may be printed now: at most 10 every 5 seconds.
    fn allow(&self) -> bool {
        let now = kthread::jiffies() as u64;
        let start = self.start.load(Ordering::Relaxed);
        if now.wrapping_sub(start) > 5 * HZ as u64 || start == 0 {
            self.start.store(now.max(1), Ordering::Relaxed);
            self.printed.store(0, Ordering::Relaxed);
        }
        self.printed.fetch_add(1, Ordering::Relaxed) < 10
    }
}

static BAD_REF_LOG: RateLimit = RateLimit::new();
static IN_USE_LOG: RateLimit = RateLimit::new();
static EXPAND_LOG: RateLimit = RateLimit::new();
static MAPTRACK_LOG: RateLimit = RateLimit::new();

/// Where the start of the run of consecutive free entries that ends the free list is stored
/// (`gnttab_free_tail_ptr`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Unknown: no run is tracked.
    None,
    /// In `free_head`.
    Head,
    /// In the slot of this reference.
    Slot(Ref),
}

/// A FIFO of references linked through their slots.
#[derive(Clone, Copy)]
struct Fifo {
    head: Ref,
    tail: Ref,
    len: u32,
}

impl Fifo {
    const EMPTY: Fifo = Fifo {
        head: LIST_END,
        tail: LIST_END,
        len: 0,
    };
}

/// The reference allocator and the deferred entries, under [`GrantTable::table`]'s lock.
struct Table {
    /// Free-list slots, one page of references per chunk (`gnttab_list`).
    slots: KVec<KVec<Ref>>,
    /// Pages of deferred entries, indexed by reference.
    pages: KVec<KVec<Option<OwnedPage>>>,
    /// Entries in the table (`gnttab_size`).
    size: u32,
    /// Grant frames mapped (`nr_grant_frames`).
    nr_frames: u32,
    free_head: Ref,
    free_count: u32,
    last_free: Ref,
    tail: Tail,
    /// One bit per free entry.
    bitmap: KVec<u64>,
    /// One bit per deferred entry user space shared (gntalloc): its deferral is expected.
    user: KVec<u64>,
    /// Deferred entries with their `user` bit set.
    user_waiting: u32,
    /// Callbacks waiting for free entries.
    callbacks: CallbackList,
    /// Deferred entries by retry level ([`LEVELS`]), each first in, first out.
    deferred: [Fifo; LEVELS],
    /// When each level is looked at next (jiffies), while it is not empty.
    due: [u64; LEVELS],
    /// One bit per level whose next look takes all of its entries, not a slice ([`sweep`]):
    /// set when the other domain was seen unmapping.
    full_look: u16,
    /// When the reclaim work is queued to run (jiffies), 0 while it is not queued.
    next_run: u64,
    /// When the oldest still-pending entries were last reported (jiffies), 0 if not pending.
    pending_since: u64,
}

#[pin_data]
struct GrantTable {
    #[pin]
    table: SpinLockIrq<Table>,
}

static GNTTAB: Global<GrantTable> = Global::new();
/// Serialises [`init`].
static INIT_LOCK: Global<InitLock> = Global::new();

/// What [`init`] keeps between calls.
#[pin_data]
struct InitLock {
    /// Whether `gt::arch_init` succeeded: it must run only once per boot, even if a later step
    /// of `init` fails.
    #[pin]
    reserved: Mutex<bool>,
}
static RECLAIM: StaticDelayedWork = StaticDelayedWork::new(reclaim);
static BOOT_MAX_FRAMES: AtomicU32 = AtomicU32::new(0);

fn per_frame() -> u32 {
    SHARED.version().entries_per_frame()
}

/// Status frames for `frames` grant frames (v2).
fn status_frames(frames: u32) -> u32 {
    (frames * per_frame()).div_ceil(STATUS_PER_FRAME)
}

fn max_frames_now() -> u32 {
    gt::query_max_frames().unwrap_or(4)
}

fn max_grant_frames() -> u32 {
    let now = max_frames_now();
    let boot = match BOOT_MAX_FRAMES.load(Ordering::Relaxed) {
        0 => {
            BOOT_MAX_FRAMES.store(now, Ordering::Relaxed);
            now
        }
        b => b,
    };
    now.min(boot)
}

impl Table {
    fn slot(&self, r: Ref) -> Ref {
        let r = r as usize;
        self.slots
            .get(r / SLOTS_PER_CHUNK)
            .and_then(|c| c.get(r % SLOTS_PER_CHUNK))
            .copied()
            .unwrap_or(LIST_END)
    }

    fn set_slot(&mut self, r: Ref, v: Ref) {
        let r = r as usize;
        if let Some(s) = self
            .slots
            .get_mut(r / SLOTS_PER_CHUNK)
            .and_then(|c| c.get_mut(r % SLOTS_PER_CHUNK))
        {
            *s = v;
        }
    }

    fn tail_value(&self) -> Ref {
        match self.tail {
            Tail::None => LIST_END,
            Tail::Head => self.free_head,
            Tail::Slot(r) => self.slot(r),
        }
    }

    fn set_tail_value(&mut self, v: Ref) {
        match self.tail {
            Tail::None => {}
            Tail::Head => self.free_head = v,
            Tail::Slot(r) => self.set_slot(r, v),
        }
    }

    fn page_slot(&mut self, r: Ref) -> Option<&mut Option<OwnedPage>> {
        let r = r as usize;
        self.pages
            .get_mut(r / PAGES_PER_CHUNK)
            .and_then(|c| c.get_mut(r % PAGES_PER_CHUNK))
    }

    fn bit_set(&mut self, r: Ref) {
        if let Some(w) = self.bitmap.get_mut(r as usize / 64) {
            *w |= 1 << (r % 64);
        }
    }

    fn bit_clear(&mut self, r: Ref) {
        if let Some(w) = self.bitmap.get_mut(r as usize / 64) {
            *w &= !(1 << (r % 64));
        }
    }

    /// Marks deferred entry `r` as shared by user space, or not.
    fn set_user(&mut self, r: Ref, user: bool) {
        if let Some(w) = self.user.get_mut(r as usize / 64) {
            if user {
                *w |= 1 << (r % 64);
            } else {
                *w &= !(1 << (r % 64));
            }
        }
    }

    fn is_user(&self, r: Ref) -> bool {
        self.user
            .get(r as usize / 64)
            .is_some_and(|w| w & (1 << (r % 64)) != 0)
    }

    fn bit(&self, r: Ref) -> bool {
        self.bitmap
            .get(r as usize / 64)
            .is_some_and(|w| w & (1 << (r % 64)) != 0)
    }

    /// The first index at or after `from` whose bit is `set`, or `size`.
    fn find_bit(&self, from: u32, set: bool) -> u32 {
        let mut i = from;
        while i < self.size {
            let w = self.bitmap.get(i as usize / 64).copied().unwrap_or(0);
            let w = if set { w } else { !w } >> (i % 64);
            if w == 0 {
                i = (i / 64 + 1) * 64;
                continue;
            }
            return (i + w.trailing_zeros()).min(self.size);
        }
        self.size
    }

    /// Appends `r` to the deferred entries of retry level `level` (below [`LEVELS`]); an empty
    /// level becomes due [`retry_delay`] after `now`, or [`SWEEP_MS`] after it when the level
    /// is looked at in slices: its first slice then comes as soon as later ones will (see
    /// [`sweep`]), not a whole delay after the entries that fill it moved there.
    fn deferred_push(&mut self, level: usize, r: Ref, now: u64) {
        self.set_slot(r, LIST_END);
        let Some(&f) = self.deferred.get(level) else {
            return;
        };
        let f = if f.len == 0 {
            if let Some(d) = self.due.get_mut(level) {
                *d = now.wrapping_add(retry_delay(level).min(sweep_step()));
            }
            Fifo {
                head: r,
                tail: r,
                len: 1,
            }
        } else {
            self.set_slot(f.tail, r);
            Fifo {
                head: f.head,
                tail: r,
                len: f.len + 1,
            }
        };
        if let Some(d) = self.deferred.get_mut(level) {
            *d = f;
        }
    }

    fn deferred_pop(&mut self, level: usize) -> Option<Ref> {
        let f = *self.deferred.get(level)?;
        if f.len == 0 {
            return None;
        }
        let next = self.slot(f.head);
        let d = self.deferred.get_mut(level)?;
        *d = if f.len == 1 {
            Fifo::EMPTY
        } else {
            Fifo {
                head: next,
                tail: f.tail,
                len: f.len - 1,
            }
        };
        Some(f.head)
    }

    /// The earliest time a non-empty level is due, if any.
    fn next_due(&self, now: u64) -> Option<u64> {
        self.deferred
            .iter()
            .zip(&self.due)
            .filter(|(f, _)| f.len > 0)
            .map(|(_, &d)| d)
            .min_by_key(|&d| d.wrapping_sub(now) as i64)
    }

    /// Makes the reclaim work run at `when` (jiffies) or sooner.
    fn run_reclaim_by(&mut self, when: u64, now: u64) {
        if self.next_run != 0 && (when.wrapping_sub(self.next_run) as i64) >= 0 {
            return;
        }
        self.next_run = when.max(1);
        let delay = (when.wrapping_sub(now) as i64).max(0) as Jiffies;
        // Under the table lock, so that the last decision taken is the one that stays.
        RECLAIM.modify(delay);
    }

    /// `put_free_entry_locked()`, but first in, first out: a reference just freed is handed
    /// out again only after every other free one, where C hands it out next. A slow mapper in
    /// another domain that maps a reference just released then finds it still free (its map
    /// fails) rather than reused by someone else.
    fn put_free(&mut self, r: Ref) {
        if r < NR_RESERVED_ENTRIES {
            return;
        }
        if r >= self.size || self.bit(r) {
            if BAD_REF_LOG.allow() {
                pr_err!("freeing invalid or free grant reference {:#x}\n", r);
            }
            return;
        }
        self.append_free(r, r);
        self.free_count += 1;
        self.bit_set(r);
    }

    /// Links the consecutive entries `first..=last`, already linked to each other and ending
    /// with `LIST_END`, at the end of the free list, and keeps [`Tail`] right: the run of
    /// consecutive entries that ends the list grows if `first` follows the last free entry,
    /// else it is the new entries alone, whose start is in the last free entry's slot.
    fn append_free(&mut self, first: Ref, last: Ref) {
        self.set_slot(last, LIST_END);
        if self.free_count == 0 {
            self.free_head = first;
            self.tail = Tail::Head;
        } else {
            let lf = self.last_free;
            self.set_slot(lf, first);
            if self.tail == Tail::None || lf.checked_add(1) != Some(first) {
                self.tail = Tail::Slot(lf);
            }
        }
        self.last_free = last;
    }

    /// `gnttab_set_free()`: adds `n` new entries from `start` at the end of the free list.
    fn set_free(&mut self, start: u32, n: u32) {
        if n == 0 {
            return;
        }
        let last = start + n - 1;
        for i in start..last {
            self.set_slot(i, i + 1);
        }
        self.append_free(start, last);
        self.free_count += n;
        for i in start..=last {
            self.bit_set(i);
        }
    }

    fn check_callbacks(&mut self) {
        if !self.callbacks.is_empty() {
            self.callbacks.run_ready(self.free_count);
        }
    }

    /// `gnttab_map()`: makes grant frames `start..=end` usable.
    fn map(&mut self, start: u32, end: u32) -> Result {
        let nr = end + 1;
        if xen::auto_translated() {
            if AutoXlatFrames::count() < nr {
                return Err(EINVAL);
            }
            // Backwards, so that the first call has the largest index and the table grows
            // only once.
            for i in (start..=end).rev() {
                let pfn = AutoXlatFrames::pfn(i).ok_or(EINVAL)?;
                // SAFETY: `pfn` is the frame `gnttab_setup_auto_xlat_frames()` reserved for grant
                // frame `i`: not memory the guest uses.
                if let Err(e) = unsafe { gt::add_to_physmap(i, pfn) } {
                    pr_warn!("grant table add_to_physmap failed, err={}\n", e.to_errno());
                    return Err(e);
                }
            }
            // SAFETY: Frames `0..nr` sit in the reserved range `SHARED` maps (`setup`), which
            // stays mapped.
            unsafe { SHARED.set_capacity(nr * per_frame()) };
            return Ok(());
        }
        let mut frames = KVec::<Frame>::with_capacity(nr as usize, GFP_ATOMIC)?;
        frames.extend_with(nr as usize, 0, GFP_ATOMIC)?;
        gt::setup_table(&mut frames)?;
        let max = max_grant_frames();
        if nr > max {
            return Err(EINVAL);
        }
        if SHARED.version() == Version::V2 {
            let ns = status_frames(nr);
            let mut sframes = KVec::<u64>::with_capacity(ns as usize, GFP_ATOMIC)?;
            sframes.extend_with(ns as usize, 0, GFP_ATOMIC)?;
            gt::get_status_frames(&mut sframes)?;
            // SAFETY: `arch_init` reserved the area for `status_frames(max)` frames, which
            // `nr <= max` frames need no more than; the frames are the table's own; the table's
            // lock serialises every change of the mapping.
            unsafe { SHARED.map_status(&mut sframes, status_frames(max))? };
        }
        // SAFETY: As above, for the `nr <= max` grant frames.
        unsafe { SHARED.map_frames(&mut frames, max)? };
        // SAFETY: The first `nr` frames, and their status words for v2, are mapped now.
        unsafe { SHARED.set_capacity(nr * per_frame()) };
        Ok(())
    }

    /// `grow_gnttab_list()`: adds `more` frames' entries to the free list.
    fn grow(&mut self, more: u32) -> Result {
        let extra = more * per_frame();
        let new_size = (self.size + extra) as usize;
        // Allocate everything first, so that a failure changes nothing.
        let slot_chunks = new_size
            .div_ceil(SLOTS_PER_CHUNK)
            .saturating_sub(self.slots.len());
        let page_chunks = new_size
            .div_ceil(PAGES_PER_CHUNK)
            .saturating_sub(self.pages.len());
        let mut new_slots = KVec::with_capacity(slot_chunks, GFP_ATOMIC)?;
        for _ in 0..slot_chunks {
            let mut c = KVec::with_capacity(SLOTS_PER_CHUNK, GFP_ATOMIC)?;
            c.extend_with(SLOTS_PER_CHUNK, LIST_END, GFP_ATOMIC)?;
            new_slots.push(c, GFP_ATOMIC)?;
        }
        let mut new_pages = KVec::with_capacity(page_chunks, GFP_ATOMIC)?;
        for _ in 0..page_chunks {
            let mut c = KVec::with_capacity(PAGES_PER_CHUNK, GFP_ATOMIC)?;
            for _ in 0..PAGES_PER_CHUNK {
                c.push(None, GFP_ATOMIC)?;
            }
            new_pages.push(c, GFP_ATOMIC)?;
        }
        // The outer vectors were sized for the largest table at init: these pushes do not
        // allocate.
        for c in new_slots {
            self.slots.push(c, GFP_ATOMIC)?;
        }
        for c in new_pages {
            self.pages.push(c, GFP_ATOMIC)?;
        }
        let size = self.size;
        self.set_free(size, extra);
        if self.tail == Tail::None {
            self.tail = Tail::Slot(size);
        }
        self.nr_frames += more;
        self.size += extra;
        self.check_callbacks();
        Ok(())
    }

    /// `gnttab_expand()`: grows the table by enough frames for `req` more entries.
    fn expand(&mut self, req: u32) -> Result {
        let cur = self.nr_frames;
        let extra = req.div_ceil(per_frame());
        let limit = max_grant_frames();
        if cur + extra > limit {
            if EXPAND_LOG.allow() {
                pr_warn!(
                    "xen/grant-table: max_grant_frames reached cur={} extra={} limit={} gnttab_free_count={} req_entries={}\n",
                    cur,
                    extra,
                    limit,
                    self.free_count,
                    req
                );
            }
            return Err(ENOSPC);
        }
        self.map(cur, cur + extra - 1)?;
        self.grow(extra)
    }

    /// `get_free_entries()`: unlinks `count` entries as a private list; returns its head.
    fn get_free(&mut self, count: u32) -> Result<Ref> {
        if count == 0 {
            return Ok(LIST_END);
        }
        if self.free_count < count {
            self.expand(count - self.free_count)?;
        }
        let first = self.free_head;
        let mut head = first;
        self.free_count -= count;
        for i in 0..count {
            self.bit_clear(head);
            if self.tail == Tail::Slot(head) {
                self.tail = Tail::Head;
            }
            if i + 1 < count {
                head = self.slot(head);
            }
        }
        self.free_head = self.slot(head);
        self.set_slot(head, LIST_END);
        if self.free_count == 0 {
            self.last_free = LIST_END;
            self.tail = Tail::None;
        }
        Ok(first)
    }

    fn seq_count(&self) -> u32 {
        let t = self.tail_value();
        if self.last_free == LIST_END || self.tail == Tail::None || t == LIST_END {
            return 0;
        }
        self.last_free - t + 1
    }

    /// `get_free_seq()`: rebuilds the free list in order and takes `count` consecutive entries.
    fn rebuild_seq(&mut self, count: u32) -> Option<Ref> {
        let mut ret = None;
        self.tail = Tail::Head;
        let mut last = Tail::Head;
        let mut from = self.find_bit(0, true);
        while from < self.size {
            let to = self.find_bit(from + 1, false);
            if ret.is_none() && to - from >= count {
                ret = Some(from);
                for i in from..from + count {
                    self.bit_clear(i);
                }
                from += count;
                self.free_count -= count;
                if from == to {
                    from = self.find_bit(to + 1, true);
                    continue;
                }
            }
            while from < to {
                let saved = self.tail;
                self.tail = last;
                self.set_tail_value(from);
                self.tail = saved;
                last = Tail::Slot(from);
                self.last_free = from;
                from += 1;
            }
            if to < self.size {
                self.tail = Tail::Slot(to - 1);
            }
            from = self.find_bit(to + 1, true);
        }
        let saved = self.tail;
        self.tail = last;
        self.set_tail_value(LIST_END);
        self.tail = saved;
        if self.last_free != self.size - 1 {
            self.tail = Tail::None;
        }
        ret
    }

    /// `get_free_entries_seq()`.
    fn get_free_seq(&mut self, count: u32) -> Result<Ref> {
        if count == 0 {
            return Err(EINVAL);
        }
        if self.free_count < count {
            self.expand(count - self.free_count)?;
        }
        if self.seq_count() < count {
            if let Some(r) = self.rebuild_seq(count) {
                return Ok(r);
            }
            let have = self.seq_count();
            self.expand(count - have)?;
        }
        let ret = self.tail_value();
        let next = self.slot(ret + count - 1);
        self.set_tail_value(next);
        self.free_count -= count;
        if ret + count - 1 == self.last_free {
            // The run ended the list: the entry before it, if any, ends it now (the next
            // [`Table::append_free`] links there).
            self.last_free = match self.tail {
                Tail::Slot(p) => p,
                _ => LIST_END,
            };
        }
        if self.free_count == 0 {
            self.tail = Tail::None;
        }
        for i in ret..ret + count {
            self.bit_clear(i);
        }
        Ok(ret)
    }
}

impl GrantTable {
    fn get() -> Option<&'static GrantTable> {
        GNTTAB.get()
    }
}

extern "C" {
    // Defined in `grant_table_exports.c`, built in and not exported (see `grant_table_rust.h`).
    fn xen_gnttab_pv_machine_address_width() -> kernel::ffi::c_uint;
}

/// Whether grant frames need more than 32 bits: what makes the v2 layout necessary.
fn frames_need_64_bits() -> bool {
    if xen::pv_domain() {
        // SAFETY: Reads CPUID leaves of the hypervisor.
        let width = unsafe { xen_gnttab_pv_machine_address_width() };
        return width > 32 + kernel::bindings::PAGE_SHIFT;
    }
    // SAFETY: Reads a variable written only during early boot.
    unsafe { kernel::bindings::max_possible_pfn >> 32 != 0 }
}

/// Selects the layout (`gnttab_request_version()`).
///
/// # Safety
///
/// Nothing may use [`SHARED`] meanwhile, nor until the entries are mapped again: the table is not
/// published yet, or it is between [`Driver::suspend`] and the end of [`Driver::resume`].
unsafe fn request_version() {
    let mut want = if frames_need_64_bits() {
        Version::V2
    } else {
        Version::V1
    };
    match version.get() {
        1 => want = Version::V1,
        2 => want = Version::V2,
        0 => {}
        other => pr_warn!(
            "grant_table.version={} is neither 1 nor 2, choosing automatically\n",
            other
        ),
    }
    // SAFETY: Nothing uses `SHARED` until it is mapped again (safety requirements); it learns
    // the new layout right after.
    let got = unsafe { gt::set_version(want) }.unwrap_or(Version::V1);
    // SAFETY: Nothing uses `SHARED` meanwhile (safety requirements); `got` is the layout the
    // hypervisor now uses.
    unsafe { SHARED.set_version(got) };
    pr_info!("Grant tables using version {} layout\n", got.number());
}

/// `gnttab_setup()`: maps the frames the table has (at init and resume).
fn setup(t: &mut Table) -> Result {
    if max_grant_frames() < t.nr_frames {
        return Err(ENOSYS);
    }
    // SAFETY: The reserved range maps the frames `map()` places there with `add_to_physmap`,
    // for as long as the domain runs; nothing uses the table during setup.
    if xen::auto_translated() && unsafe { SHARED.use_mapping(AutoXlatFrames::vaddr()) }.is_err() {
        pr_warn!("gnttab share frames is not mapped!\n");
        return Err(ENOMEM);
    }
    let n = t.nr_frames;
    t.map(0, n - 1)
}

fn init() -> Result {
    let lock = INIT_LOCK.get_or_init(
        || {
            Ok(try_pin_init!(InitLock {
                reserved <- new_mutex!(false, "gnttab_init"),
            }))
        },
        GFP_KERNEL,
        kernel::built_in!(),
    )?;
    let mut reserved = lock.reserved.lock();
    if GNTTAB.get().is_some() {
        return Ok(());
    }
    // SAFETY: The table is not published (checked above, under `INIT_LOCK`, which every
    // initialisation holds until it has published it), so nothing else uses `SHARED`.
    unsafe { request_version() };
    let max_frames = max_grant_frames();
    let max_refs = max_frames as usize * per_frame() as usize;
    let mut slots = KVec::with_capacity(max_refs.div_ceil(SLOTS_PER_CHUNK), GFP_KERNEL)?;
    let mut first = KVec::with_capacity(SLOTS_PER_CHUNK, GFP_KERNEL)?;
    first.extend_with(SLOTS_PER_CHUNK, LIST_END, GFP_KERNEL)?;
    slots.push(first, GFP_KERNEL)?;
    let pages = KVec::with_capacity(max_refs.div_ceil(PAGES_PER_CHUNK), GFP_KERNEL)?;
    let mut bitmap = KVec::with_capacity(max_refs.div_ceil(64), GFP_KERNEL)?;
    bitmap.extend_with(max_refs.div_ceil(64), 0, GFP_KERNEL)?;
    let mut user = KVec::with_capacity(max_refs.div_ceil(64), GFP_KERNEL)?;
    user.extend_with(max_refs.div_ceil(64), 0, GFP_KERNEL)?;
    // `max_grant_frames()` never exceeds its first answer, for which the areas were reserved.
    if !*reserved {
        // SAFETY: `arch_init` has not succeeded yet (`reserved` records it, under `INIT_LOCK`),
        // and a failed one leaves nothing behind; no other `arch_gnttab_*` call comes before
        // the table is set up below.
        unsafe { gt::arch_init(max_frames, status_frames(max_frames))? };
        *reserved = true;
    }

    let mut t = Table {
        slots,
        pages,
        size: 0,
        nr_frames: 1,
        free_head: LIST_END,
        free_count: 0,
        last_free: LIST_END,
        tail: Tail::None,
        bitmap,
        user,
        user_waiting: 0,
        callbacks: CallbackList::new(),
        deferred: [Fifo::EMPTY; LEVELS],
        due: [0; LEVELS],
        full_look: 0,
        next_run: 0,
        pending_since: 0,
    };
    if setup(&mut t).is_err() {
        return Err(ENODEV);
    }
    t.size = per_frame();
    // The page array for the first frame; later ones come with `grow`.
    while t.pages.len() * PAGES_PER_CHUNK < t.size as usize {
        let mut c = KVec::with_capacity(PAGES_PER_CHUNK, GFP_KERNEL)?;
        for _ in 0..PAGES_PER_CHUNK {
            c.push(None, GFP_KERNEL)?;
        }
        t.pages.push(c, GFP_KERNEL)?;
    }
    let size = t.size;
    t.set_free(NR_RESERVED_ENTRIES, size - NR_RESERVED_ENTRIES);
    // Before the table is published, so that the first deferral can queue it.
    RECLAIM.init(kernel::built_in!());
    GNTTAB.init(
        try_pin_init!(GrantTable {
            table <- new_spinlock_irq!(t, "gnttab_list_lock"),
        }),
        GFP_KERNEL,
        kernel::built_in!(),
    )?;
    pr_info!("Grant table initialized\n");
    Ok(())
}

/// Ends access through `r` if nobody maps it; `None` if `r` is not an entry of the table.
fn try_end(r: Ref) -> Option<bool> {
    SHARED.end_access(GrantRef::new(r)?)
}

fn put_free_entry(r: Ref) {
    if let Some(g) = GrantTable::get() {
        let mut t = g.table.lock();
        t.put_free(r);
        t.check_callbacks();
    }
}

/// Puts `r` and its page aside until the remote domain unmaps it (`gnttab_add_deferred()`).
///
/// `user`: user space shared the page (gntalloc), so the deferral is expected and never
/// reported.
///
/// # Safety
///
/// Access through `r` has not ended. If `page` is `None`, what entry `r` grants (if it is an
/// entry of the table) is a frame that was lent through `r` as `grant_access*` require: memory
/// that stays allocated until access through `r` ends.
unsafe fn defer(r: Ref, page: Option<OwnedPage>, user: bool) {
    let Some(g) = GrantTable::get() else { return };
    let page = page.or_else(|| {
        let gfn = SHARED.frame(GrantRef::new(r)?)?;
        // SAFETY: The frame entry `r` grants was lent through `r`, and access through `r` has
        // not ended, so it is still allocated (safety requirements).
        unsafe { OwnedPage::get_by_gfn(gfn) }
    });
    let pfn = page.as_ref().map_or(u64::MAX, OwnedPage::pfn);
    {
        let mut t = g.table.lock();
        let valid = r >= NR_RESERVED_ENTRIES && r < t.size && !t.bit(r);
        match t.page_slot(r) {
            Some(slot) if valid => *slot = page,
            _ => {
                drop(t);
                // Not an entry we can track: keep the page (someone may map it) and say so.
                let leaked = TOTALS.leaked.fetch_add(1, Ordering::Relaxed) + 1;
                if BAD_REF_LOG.allow() {
                    pr_warn!(
                        "leaking g.e. {:#x} (pfn {:#x}) (total deferred {}, total leaked {})\n",
                        r,
                        pfn,
                        TOTALS.pending.load(Ordering::Relaxed),
                        leaked
                    );
                }
                return;
            }
        }
        t.set_user(r, user);
        if user {
            t.user_waiting += 1;
        }
        let now = kthread::jiffies() as u64;
        t.deferred_push(0, r, now);
        if let Some(when) = t.next_due(now) {
            t.run_reclaim_by(when, now);
        }
    }
    TOTALS.deferred.fetch_add(1, Ordering::Relaxed);
    if user {
        TOTALS.deferred_user.fetch_add(1, Ordering::Relaxed);
        TOTALS.pending_user.fetch_add(1, Ordering::Relaxed);
    }
    let pending = TOTALS.pending.fetch_add(1, Ordering::Relaxed) + 1;
    pr_debug!(
        "deferring g.e. {:#x} (pfn {:#x}) (total deferred {}, total leaked {})\n",
        r,
        pfn,
        pending,
        TOTALS.leaked.load(Ordering::Relaxed)
    );
}

/// The delay of retry level `level`: [`FIRST_RETRY_MS`] doubled per level (up to 512 ms), then
/// [`LAST_RETRY_MS`].
fn retry_delay(level: usize) -> u64 {
    let last = kernel::time::msecs_to_jiffies(LAST_RETRY_MS) as u64;
    if level + 1 >= LEVELS {
        return last;
    }
    let ms = FIRST_RETRY_MS << level.min(16);
    (kernel::time::msecs_to_jiffies(ms) as u64).clamp(1, last)
}

/// [`SWEEP_MS`] in jiffies, at least one.
fn sweep_step() -> u64 {
    (kernel::time::msecs_to_jiffies(SWEEP_MS) as u64).max(1)
}

/// How many of the `len` entries of retry level `level` one look takes, and how many jiffies
/// later the level is due again.
///
/// A level whose delay is at most [`SWEEP_MS`] is looked at whole. A longer one is looked at in
/// slices, from its oldest entry on (entries still mapped go to its end), each slice `1/k` of
/// the level and due `1/k` of the delay after the one before, with `k` the delay over
/// [`SWEEP_MS`]: every entry is still looked at once per delay, as with whole looks, but a
/// look comes every [`SWEEP_MS`] or so, so an unmap that starts is seen that soon. Slices are
/// at least [`RECLAIM_BATCH`] entries, so a small level is looked at whole, once per delay.
fn sweep(level: usize, len: u32) -> (u32, u64) {
    let delay = retry_delay(level);
    let step = sweep_step();
    if len == 0 || delay <= step {
        return (len, delay);
    }
    let parts = (delay / step).max(1);
    let slice = (len as u64)
        .div_ceil(parts)
        .max(RECLAIM_BATCH as u64)
        .min(len as u64);
    // `slice <= len`, so the next look is at most `delay` away, and at least one jiffy.
    let next = (delay * slice / len as u64).max(1);
    (slice as u32, next)
}

/// The reclaim work: looks at the entries of every retry level that is due, in batches.
///
/// Levels are taken from the last to the first, so an entry moved up a level in this run is
/// not looked at twice, and only the entries a level holds when its turn comes are looked at.
fn reclaim() {
    let Some(g) = GrantTable::get() else { return };
    let limit = match free_per_iteration.get() {
        0 => u32::MAX,
        n => n,
    };
    let mut seen = 0u32;
    let mut freed_total = 0u64;
    let now = kthread::jiffies() as u64;
    g.table.lock().next_run = 0;
    for level in (0..LEVELS).rev() {
        let up = (level + 1).min(LEVELS - 1);
        let (mut left, next) = {
            let mut t = g.table.lock();
            let f = t.deferred[level];
            if f.len == 0 || (now.wrapping_sub(t.due[level]) as i64) < 0 {
                continue;
            }
            let bit = 1u16 << level;
            if t.full_look & bit != 0 {
                t.full_look &= !bit;
                // All of it now, then slices again at their pace: should the other domain still
                // be unmapping, the next slice sees it within about `SWEEP_MS`, rather than the
                // level waiting its whole delay. Only a look that reclaimed enough asks for a
                // whole look, so a backlog nobody unmaps is looked at as before.
                (f.len, sweep(level, f.len).1)
            } else {
                sweep(level, f.len)
            }
        };
        let looked = left;
        let mut freed_here = 0u32;
        while left > 0 && seen < limit {
            let mut batch = [LIST_END; RECLAIM_BATCH];
            let mut n = 0;
            {
                let mut t = g.table.lock();
                while n < RECLAIM_BATCH && left > 0 && seen < limit {
                    let Some(r) = t.deferred_pop(level) else {
                        left = 0;
                        break;
                    };
                    batch[n] = r;
                    n += 1;
                    left -= 1;
                    seen += 1;
                }
            }
            // Without the lock: the entries are ours (on no list) until relinked below.
            let mut ended = [false; RECLAIM_BATCH];
            for (e, &r) in ended.iter_mut().zip(&batch[..n]) {
                *e = try_end(r) == Some(true);
            }
            let mut pages: [Option<OwnedPage>; RECLAIM_BATCH] = [const { None }; RECLAIM_BATCH];
            let mut freed = 0;
            let mut freed_user = 0;
            {
                let mut t = g.table.lock();
                let at = kthread::jiffies() as u64;
                for (i, &r) in batch[..n].iter().enumerate() {
                    if ended[i] {
                        pages[i] = t.page_slot(r).and_then(|p| p.take());
                        if t.is_user(r) {
                            t.set_user(r, false);
                            t.user_waiting = t.user_waiting.saturating_sub(1);
                            freed_user += 1;
                        }
                        t.put_free(r);
                        freed += 1;
                    } else {
                        t.deferred_push(up, r, at);
                    }
                }
                if freed > 0 {
                    t.check_callbacks();
                }
            }
            // Dropping the pages drops the references the deferred entries held.
            drop(pages);
            freed_here += freed as u32;
            if freed > 0 {
                TOTALS.pending.fetch_sub(freed, Ordering::Relaxed);
                TOTALS.pending_user.fetch_sub(freed_user, Ordering::Relaxed);
                TOTALS.reclaimed.fetch_add(freed, Ordering::Relaxed);
                freed_total += freed;
            }
            kthread::cond_resched();
        }
        let mut t = g.table.lock();
        let at = kthread::jiffies() as u64;
        if left > 0 {
            // Stopped by `free_per_iteration`: let other work run, then go on.
            t.run_reclaim_by(at, at);
            drop(t);
            pr_debug!("Freed {} references\n", freed_total);
            return;
        }
        if t.deferred[level].len > 0 {
            t.due[level] = at.wrapping_add(next);
        }
        if freed_here > 0 && freed_here.saturating_mul(ACTIVE_SHARE) >= looked {
            // The other domain is unmapping: what this look found still mapped (now one level
            // up) and the rest of this level, which a slice did not reach, are looked at whole
            // soon.
            for lv in [up, level] {
                if t.deferred[lv].len > 0 {
                    t.due[lv] = at.wrapping_add(retry_delay(0));
                    t.full_look |= 1u16 << lv;
                }
            }
        }
    }
    pr_debug!("Freed {} references\n", freed_total);

    // Only entries of kernel drivers are reported: user space's are expected to wait.
    let mut t = g.table.lock();
    let waiting = t
        .deferred
        .iter()
        .map(|f| f.len)
        .sum::<u32>()
        .saturating_sub(t.user_waiting);
    let now = kthread::jiffies() as u64;
    let report = if waiting == 0 {
        t.pending_since = 0;
        false
    } else if t.pending_since == 0 {
        t.pending_since = now;
        false
    } else if now.wrapping_sub(t.pending_since) >= PENDING_REPORT_SECS * HZ as u64 {
        t.pending_since = now;
        true
    } else {
        false
    };
    if let Some(when) = t.next_due(now) {
        t.run_reclaim_by(when, now);
    }
    drop(t);
    if report {
        pr_info!("{} g.e. of kernel drivers still pending\n", waiting);
    }
}

extern "C" {
    // Defined in `grant_table_exports.c`, built in and not exported (see `grant_table_rust.h`).
    fn xen_gnttab_ops_to_submit(
        count: kernel::ffi::c_uint,
        status: *mut i16,
    ) -> kernel::ffi::c_uint;
}

/// Hands map or copy operations to Xen. With the fault attribute `fail_grant_op` firing, only
/// the first ones go and the others answer `GNTST_eagain`, as Xen does for a paged-out frame
/// (every caller retries those, [`retry_eagain`]), or the error its `status` file names.
fn submit_retryable<T: GrantOp>(ops: &mut [T]) -> Result {
    let n = kernel::ffi::c_uint::try_from(ops.len()).unwrap_or(kernel::ffi::c_uint::MAX);
    let mut status = gt::GNTST_EAGAIN;
    // SAFETY: `status` is valid for writes for the duration of the call.
    let k = (unsafe { xen_gnttab_ops_to_submit(n, &mut status) } as usize).min(ops.len());
    // Never report an operation that did not reach Xen as done.
    if status == gt::GNTST_OKAY {
        status = gt::GNTST_GENERAL_ERROR;
    }
    let (now, later) = ops.split_at_mut(k);
    if !now.is_empty() {
        batch_op(now)?;
    }
    for op in later {
        op.set_status(status);
    }
    Ok(())
}

/// Retries one operation on a paged-out frame (`gnttab_retry_eagain_gop()`).
fn retry_eagain<T: GrantOp>(op: &mut T, func: &str) {
    let mut delay = 1;
    loop {
        if submit_retryable(core::slice::from_mut(op)).is_err() {
            op.set_status(gt::GNTST_GENERAL_ERROR);
            return;
        }
        if op.status() != gt::GNTST_EAGAIN {
            break;
        }
        kthread::msleep(delay);
        delay += 1;
        if delay >= MAX_EAGAIN_DELAY {
            break;
        }
    }
    if delay >= MAX_EAGAIN_DELAY {
        pr_err!("{}: eagain grant\n", func);
        op.set_status(gt::GNTST_BAD_PAGE);
    }
}

/// The grant table's side of the C interface ([`c_api`]), which calls nothing else.
struct Driver;

impl Driver {
    fn init() -> Result {
        init()
    }

    /// # Safety
    ///
    /// Nothing uses the table until [`Driver::resume`].
    unsafe fn suspend() -> Result {
        if !xen::auto_translated() {
            let frames = GrantTable::get().map_or(0, |g| g.table.lock().nr_frames);
            // SAFETY: `frames` frames (and their status frames) are mapped, and nothing uses
            // the table (safety requirements).
            unsafe { SHARED.suspend(frames, status_frames(frames)) };
        }
        Ok(())
    }

    /// # Safety
    ///
    /// After [`Driver::suspend`], with nothing using the table concurrently.
    unsafe fn resume() -> Result {
        // SAFETY: After `suspend`, nothing uses the table until this returns (safety
        // requirements).
        unsafe { request_version() };
        let g = GrantTable::get().ok_or(ENODEV)?;
        let mut t = g.table.lock();
        setup(&mut t)
    }

    fn max_grant_frames() -> u32 {
        max_grant_frames()
    }

    /// # Safety
    ///
    /// `r` is the caller's reference, through which no access is granted now; `frame` is memory
    /// the caller may lend until it ended access through `r`.
    unsafe fn grant_access_ref(r: Ref, domid: DomId, frame: u64, readonly: bool) {
        // SAFETY: `r` is the caller's and grants nothing now; the frame is the caller's to lend
        // (safety requirements).
        let granted =
            GrantRef::new(r).is_some_and(|gr| unsafe { SHARED.grant(gr, domid, frame, readonly) });
        if !granted && BAD_REF_LOG.allow() {
            pr_err!("granting invalid grant reference {:#x}\n", r);
        }
    }

    /// # Safety
    ///
    /// `frame` is memory the caller may lend until it ended access through the reference.
    unsafe fn grant_access(domid: DomId, frame: u64, readonly: bool) -> Result<Ref> {
        // A frame the layout cannot hold (above 32 bits with v1) is refused before a
        // reference is taken.
        if !SHARED.holds(frame) {
            return Err(EINVAL);
        }
        let g = GrantTable::get().ok_or(ENOSPC)?;
        let r = g.table.lock().get_free(1)?;
        // SAFETY: `r` was just allocated for the caller, and a free reference grants nothing
        // (access through it ended before it was freed); the frame is the caller's to lend
        // (safety requirements).
        unsafe { Self::grant_access_ref(r, domid, frame, readonly) };
        Ok(r)
    }

    /// [`Driver::grant_access`] for every frame of `frames`, the references allocated under
    /// one lock: `refs[i]` grants `frames[i]`. None is granted if there are not enough, or
    /// (`EINVAL`) if the layout cannot hold one of the frames.
    ///
    /// # Safety
    ///
    /// Each frame is memory the caller may lend until it ended access through its reference.
    unsafe fn grant_access_many(
        domid: DomId,
        frames: &[kernel::ffi::c_ulong],
        readonly: bool,
        refs: &mut [Ref],
    ) -> Result {
        let n = frames.len().min(refs.len());
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        if count == 0 {
            return Ok(());
        }
        if !frames.iter().take(n).all(|&f| SHARED.holds(f as u64)) {
            return Err(EINVAL);
        }
        let g = GrantTable::get().ok_or(ENOSPC)?;
        {
            let mut t = g.table.lock();
            let mut r = t.get_free(count)?;
            for slot in refs.iter_mut().take(n) {
                *slot = r;
                r = t.slot(r);
            }
        }
        for (&r, &frame) in refs.iter().zip(frames).take(n) {
            // SAFETY: `r` was just allocated for the caller, and a free reference grants nothing
            // (access through it ended before it was freed); the frame is the caller's to lend
            // (safety requirements).
            unsafe { Self::grant_access_ref(r, domid, frame as u64, readonly) };
        }
        Ok(())
    }

    /// [`Driver::end_access_user`] for each `(refs[i], pages[i])`, the references that ended
    /// freed under one lock. Returns how many ends were deferred.
    ///
    /// # Safety
    ///
    /// As for [`Driver::end_access_user`], for every pair.
    unsafe fn end_access_user_many(refs: &[Ref], pages: &[*mut kernel::bindings::page]) -> u32 {
        const CHUNK: usize = 64;
        let mut deferred = 0;
        for (refs, pages) in refs.chunks(CHUNK).zip(pages.chunks(CHUNK)) {
            let mut ended = 0u64;
            for (i, &r) in refs.iter().enumerate() {
                if try_end(r) == Some(true) {
                    ended |= 1 << i;
                }
            }
            if ended != 0 {
                if let Some(g) = GrantTable::get() {
                    let mut t = g.table.lock();
                    for (i, &r) in refs.iter().enumerate() {
                        if ended & (1 << i) != 0 {
                            t.put_free(r);
                        }
                    }
                    t.check_callbacks();
                }
            }
            for (i, (&r, &page)) in refs.iter().zip(pages).enumerate() {
                // SAFETY: The caller gives up one reference on each page (safety requirements).
                let page = unsafe { OwnedPage::from_raw(page) };
                if ended & (1 << i) != 0 {
                    drop(page);
                } else {
                    // SAFETY: Access through `r` did not end; what it grants was lent through it
                    // (safety requirements).
                    unsafe { defer(r, page, true) };
                    deferred += 1;
                }
            }
        }
        deferred
    }

    fn end_access_ref(r: Ref) -> bool {
        if try_end(r) == Some(true) {
            return true;
        }
        if IN_USE_LOG.allow() {
            pr_warn!("WARNING: g.e. {:#x} still in use!\n", r);
        }
        false
    }

    /// # Safety
    ///
    /// `r` is the caller's reference and the caller no longer uses it.
    unsafe fn try_end_access(r: Ref) -> bool {
        let ended = try_end(r) == Some(true);
        if ended {
            put_free_entry(r);
        }
        ended
    }

    /// # Safety
    ///
    /// As for [`Driver::try_end_access`]; and what `r` grants is what the caller lent through it
    /// (`grant_access*`), still allocated.
    unsafe fn end_access(r: Ref, page: Option<OwnedPage>) {
        // SAFETY: By the safety requirements.
        if unsafe { Self::try_end_access(r) } {
            drop(page);
        } else {
            // SAFETY: Access through `r` did not end; what it grants was lent through it (safety
            // requirements).
            unsafe { defer(r, page, false) };
        }
    }

    /// As [`Driver::end_access`], for a page user space shared: a deferral is expected, so it
    /// is counted apart and never reported. Returns whether the end was deferred.
    ///
    /// # Safety
    ///
    /// As for [`Driver::end_access`].
    unsafe fn end_access_user(r: Ref, page: Option<OwnedPage>) -> bool {
        // SAFETY: By the safety requirements.
        if unsafe { Self::try_end_access(r) } {
            drop(page);
            false
        } else {
            // SAFETY: As in `end_access`.
            unsafe { defer(r, page, true) };
            true
        }
    }

    /// # Safety
    ///
    /// `r` is the caller's reference, with access ended, and the caller no longer uses it.
    unsafe fn free_ref(r: Ref) {
        put_free_entry(r);
    }

    /// # Safety
    ///
    /// `head` starts a private list of the caller's whose references it no longer uses.
    unsafe fn free_refs(head: Option<Ref>) {
        let Some(g) = GrantTable::get() else { return };
        let mut t = g.table.lock();
        let mut guard = t.size;
        let mut head = head.unwrap_or(LIST_END);
        while head != LIST_END && guard > 0 {
            let next = t.slot(head);
            t.put_free(head);
            head = next;
            guard -= 1;
        }
        t.check_callbacks();
    }

    /// # Safety
    ///
    /// The `count` references from `first` are the caller's and it no longer uses them.
    unsafe fn free_refs_seq(first: Ref, count: u32) {
        let Some(g) = GrantTable::get() else { return };
        let mut t = g.table.lock();
        // In order, so that they stay a run of consecutive entries at the end of the list.
        for i in 0..count {
            t.put_free(first.saturating_add(i));
        }
        t.check_callbacks();
    }

    /// The head of a private list of `count` references; `None` for none.
    fn alloc_refs(count: u32) -> Result<Option<Ref>> {
        let g = GrantTable::get().ok_or(ENOSPC)?;
        let mut t = g.table.lock();
        Ok(Some(t.get_free(count)?).filter(|&r| r != LIST_END))
    }

    /// The first of `count` consecutive references; `None` for none.
    fn alloc_refs_seq(count: u32) -> Result<Option<Ref>> {
        let g = GrantTable::get().ok_or(ENOSPC)?;
        let mut t = g.table.lock();
        let r = if count == 1 {
            t.get_free(1)
        } else {
            t.get_free_seq(count)
        }?;
        Ok(Some(r).filter(|&r| r != LIST_END))
    }

    /// Takes the first reference of the private list `head`.
    fn claim_ref(head: &mut Option<Ref>) -> Result<Ref> {
        let g = head.ok_or(ENOSPC)?;
        let t = GrantTable::get().ok_or(ENOSPC)?;
        let next = t.table.lock().slot(g);
        *head = Some(next).filter(|&r| r != LIST_END);
        Ok(g)
    }

    /// # Safety
    ///
    /// `r` is a reference the caller claimed from its list `head` and no longer uses.
    unsafe fn release_ref(head: &mut Option<Ref>, r: Ref) {
        if let Some(g) = GrantTable::get() {
            g.table.lock().set_slot(r, head.unwrap_or(LIST_END));
            *head = Some(r);
        }
    }

    fn request_free_callback(cb: FreeCallback, func: CallbackFn, count: u16) {
        let Some(g) = GrantTable::get() else { return };
        let mut t = g.table.lock();
        t.callbacks.add(cb, func, count);
        t.check_callbacks();
    }

    fn cancel_free_callback(cb: FreeCallback) {
        let Some(g) = GrantTable::get() else { return };
        g.table.lock().callbacks.remove(&cb);
    }

    fn batch<T: GrantOp>(ops: &mut [T]) {
        if submit_retryable(ops).is_err() {
            for op in ops.iter_mut() {
                op.set_status(gt::GNTST_GENERAL_ERROR);
            }
            return;
        }
        for op in ops.iter_mut() {
            if op.status() == gt::GNTST_EAGAIN {
                retry_eagain(op, "gnttab_batch");
            }
        }
    }

    fn map_refs(ops: &mut [MapOp], kops: &KernelOps<MapOp>, pages: &PageArray<'_>) -> i32 {
        if let Err(e) = submit_retryable(ops) {
            return e.to_errno();
        }
        let mut i = 0;
        while i < ops.len() {
            match ops[i].status() {
                gt::GNTST_OKAY => pages.set_foreign(i, ops[i].dom(), ops[i].gref()),
                gt::GNTST_NO_DEVICE_SPACE => {
                    if MAPTRACK_LOG.allow() {
                        pr_warn!("maptrack limit reached, can't map all guest pages\n");
                    }
                }
                gt::GNTST_EAGAIN => {
                    retry_eagain(&mut ops[i], "gnttab_map_refs");
                    // Look at the new status.
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        handles::set_foreign_p2m(ops, kops, pages)
    }

    fn unmap_refs(ops: &mut [UnmapOp], kops: &KernelOps<UnmapOp>, pages: &PageArray<'_>) -> i32 {
        if let Err(e) = batch_op(ops) {
            return e.to_errno();
        }
        for i in 0..ops.len() {
            pages.clear_foreign(i);
        }
        handles::clear_foreign_p2m(ops, kops, pages)
    }
}

/// `gnttab_unmap_refs_async()`, and each retry of it.
fn unmap_refs_async(mut item: UnmapItem) {
    if item.pages_busy() {
        let delay = UNMAP_REFS_DELAY_MS.saturating_mul(item.age().saturating_add(1));
        item.schedule(delay);
        return;
    }
    let ret = item.with_batch(Driver::unmap_refs);
    item.done(ret);
}

/// `__gnttab_init()`: PV and PVH guests set the table up early; PV-on-HVM guests do it when
/// the platform PCI device appears.
fn gnttab_core_init() -> Result {
    if !xen::domain() {
        return Err(ENODEV);
    }
    if xen::hvm_domain() && !xen::pvh_domain() {
        return Ok(());
    }
    init()
}
kernel::initcall!("1s", __gnttab_rust_init => gnttab_core_init);

// ---- /sys/module/grant_table/stats/

fn show_pending(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.pending.load(Ordering::Relaxed))
}

fn show_deferred(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.deferred.load(Ordering::Relaxed))
}

fn show_deferred_user(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.deferred_user.load(Ordering::Relaxed))
}

fn show_pending_user(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.pending_user.load(Ordering::Relaxed))
}

fn show_reclaimed(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.reclaimed.load(Ordering::Relaxed))
}

fn show_leaked(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", TOTALS.leaked.load(Ordering::Relaxed))
}

fn show_size(buf: &mut ShowBuf) -> Result {
    let (size, free) = GrantTable::get().map_or((0, 0), |g| {
        let t = g.table.lock();
        (t.size, t.free_count)
    });
    sysfs_emit!(buf, "{} {}\n", size, free)
}

static PENDING: ModuleAttribute = ModuleAttribute::new_ro(c_str!("pending"), 0o444, show_pending);
static DEFERRED: ModuleAttribute =
    ModuleAttribute::new_ro(c_str!("deferred"), 0o444, show_deferred);
static DEFERRED_USER: ModuleAttribute =
    ModuleAttribute::new_ro(c_str!("deferred_user"), 0o444, show_deferred_user);
static PENDING_USER: ModuleAttribute =
    ModuleAttribute::new_ro(c_str!("pending_user"), 0o444, show_pending_user);
static RECLAIMED: ModuleAttribute =
    ModuleAttribute::new_ro(c_str!("reclaimed"), 0o444, show_reclaimed);
static LEAKED: ModuleAttribute = ModuleAttribute::new_ro(c_str!("leaked"), 0o444, show_leaked);
static ENTRIES: ModuleAttribute = ModuleAttribute::new_ro(c_str!("entries"), 0o444, show_size);

module_attribute_group! {
    static STATS = (Some(c_str!("stats")), [
        PENDING,
        DEFERRED,
        PENDING_USER,
        DEFERRED_USER,
        RECLAIMED,
        LEAKED,
        ENTRIES
    ]);
}

fn stats_init() -> Result {
    if GrantTable::get().is_none() && !xen::domain() {
        return Ok(());
    }
    if let Err(e) = sysfs::add_module_group(c_str!("grant_table"), &STATS, kernel::built_in!()) {
        pr_warn!(
            "cannot create /sys/module/grant_table/stats: {}\n",
            e.to_errno()
        );
    }
    Ok(())
}
kernel::initcall!("7s", __gnttab_rust_stats => stats_init);
