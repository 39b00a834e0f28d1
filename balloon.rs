// SPDX-License-Identifier: GPL-2.0

//! Xen balloon driver: returns memory to Xen and claims it back.
//!
//! Replaces `drivers/xen/balloon.c` and `drivers/xen/xen-balloon.c`. The domain follows a target
//! (xenstore `memory/target`, or `target_kb`/`target` in
//! `/sys/devices/system/xen_memory/xen_memory0/`): a kernel thread allocates pages and hands
//! their frames back to Xen to go down, and asks Xen to populate ballooned pages again to go up.
//!
//! Pages that go back to Xen come from `balloon_alloc_pages_noinit()`: they are not zeroed for
//! `init_on_alloc`, since nothing in the guest ever reads them again. With `xen_scrub_pages` on
//! they are cleared once, by the scrub, before they leave.

#[path = "balloon/c_api.rs"]
pub mod c_api;
#[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
#[path = "balloon/hotplug.rs"]
mod hotplug;
#[path = "balloon/pages.rs"]
mod pages;
#[path = "balloon/stats.rs"]
mod stats;

use c_api::{PagesIn, PagesOut};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::{
    attribute_group, attribute_groups, c_str,
    error::code::*,
    global::Global,
    kthread, new_condvar, new_mutex,
    prelude::*,
    sync::{CondVar, Mutex},
    sysfs::{self, DeviceAttribute, ShowBuf, SystemDevice},
    sysfs_emit,
    time::Jiffies,
    xen::{self, xenbus},
};
use pages::{
    self as platform, reservation, AllocMode, BalloonBlock, BalloonPage, Frame, PageBatch,
    PageList, BLOCK_PAGES,
};
use stats::{BalloonStats, Stat};

type Guard<'a> = kernel::sync::lock::Guard<'a, Inner, kernel::sync::lock::mutex::MutexBackend>;

const __LOG_PREFIX: &[u8] = b"xen:balloon\0";

/// `RETRY_UNLIMITED` of `include/xen/balloon.h`.
const RETRY_UNLIMITED: u64 = 0;
/// Frames per hypercall: the frame list fits in a page, as in C.
const BATCH: usize = platform::BATCH;
/// 2 MiB blocks per hypercall going down: 16 MiB, between two reschedule points of the thread.
const MAX_BLOCKS: usize = 8;
const PAGE_SHIFT: u32 = kernel::page::PAGE_SHIFT as u32;
const HZ: u64 = kernel::time::HZ as u64;

/// `max_mem_size` as the early Xen setup saved it (`include/xen/xen.h`).
#[cfg(CONFIG_MEMORY_HOTPLUG)]
#[no_mangle]
pub static xen_saved_max_mem_size: AtomicU64 = AtomicU64::new(0);

kernel::module_param_uint! {
    /// Seconds the initial balloon-down of an HVM/PVH guest may stall before the kernel panics.
    balloon_boot_timeout = 180, "xen.balloon_boot_timeout", 0o444;
}

/// Counters since boot, in pages (`xen_memory0/stats/`).
struct Counters {
    out: AtomicU64,
    in_: AtomicU64,
    zeroing_skipped: AtomicU64,
}

static COUNTERS: Counters = Counters {
    out: AtomicU64::new(0),
    in_: AtomicU64::new(0),
    zeroing_skipped: AtomicU64::new(0),
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Done, or nothing to do.
    Done,
    /// Waiting for hotplugged memory to come online.
    Wait,
    /// An operation failed: retry after `schedule_delay` seconds.
    Again,
    /// Given up until the target changes.
    Canceled,
}

struct Inner {
    state: State,
    /// Ballooned pages; low memory first, so it is repopulated first.
    pages: PageList,
    frames: KBox<[Frame; BATCH]>,
    /// The pages of the batch in flight, for the calls C makes once per batch.
    batch: KBox<PageBatch>,
    /// Whether Xen takes 2 MiB blocks back ([`BalloonBlock`]); cleared when it refuses one.
    blocks: bool,
}

#[pin_data]
struct Balloon {
    #[pin]
    inner: Mutex<Inner>,
    /// Target writes, bumped by each, so that writing the same target again after the thread
    /// gave up (`Canceled`) makes it try again. Its lock is the one the balloon thread sleeps
    /// with: whoever changes the target (the xenstore watch, sysfs) takes this lock only, never
    /// `inner`, which the thread holds while it allocates.
    #[pin]
    target_writes: Mutex<u64>,
    /// Wakes the balloon thread (C's `balloon_thread_wq`), with `target_writes` held.
    #[pin]
    kick: CondVar,
    /// Wakes waiters for ballooned pages (C's `balloon_wq`).
    #[pin]
    appended: CondVar,
}

static BALLOON: Global<Balloon> = Global::new();

fn stat(f: Stat) -> u64 {
    BalloonStats::get_static().get(f)
}

fn set_stat(f: Stat, v: u64) {
    BalloonStats::get_static().set(f, v)
}

/// Whether pages going back to Xen must be cleared first; read once per batch. With
/// init_on_free the allocator cleared each page when it was freed: it is already zero, and
/// scrubbing it again would clear it twice.
fn scrub_going_down() -> bool {
    !platform::init_on_free() && xen::scrub_enabled()
}

fn current_credit() -> i64 {
    stat(Stat::TargetPages) as i64 - stat(Stat::CurrentPages) as i64
}

fn is_inflated() -> bool {
    stat(Stat::BalloonLow) != 0 || stat(Stat::BalloonHigh) != 0
}

impl Inner {
    /// Adds a page to the balloon (C's `balloon_append`).
    fn append(&mut self, page: BalloonPage) {
        Self::append_to(&mut self.pages, page);
    }

    fn append_to(pages: &mut PageList, mut page: BalloonPage) {
        page.set_offline();
        if page.is_highmem() {
            pages.push_back(page);
            set_stat(Stat::BalloonHigh, stat(Stat::BalloonHigh) + 1);
        } else {
            pages.push_front(page);
            set_stat(Stat::BalloonLow, stat(Stat::BalloonLow) + 1);
        }
    }

    /// Takes a page out of the balloon (C's `balloon_retrieve`).
    fn retrieve(&mut self, require_lowmem: bool) -> Option<BalloonPage> {
        if require_lowmem && self.pages.front_is_highmem()? {
            return None;
        }
        let mut page = self.pages.pop_front()?;
        if page.is_highmem() {
            set_stat(Stat::BalloonHigh, stat(Stat::BalloonHigh) - 1);
        } else {
            set_stat(Stat::BalloonLow, stat(Stat::BalloonLow) - 1);
        }
        page.clear_offline();
        Some(page)
    }

    fn update_schedule(&mut self) {
        match self.state {
            State::Wait | State::Canceled => return,
            State::Done => {
                set_stat(Stat::ScheduleDelay, 1);
                set_stat(Stat::RetryCount, 1);
                return;
            }
            State::Again => {}
        }
        let retries = stat(Stat::RetryCount) + 1;
        set_stat(Stat::RetryCount, retries);
        let max_retries = stat(Stat::MaxRetryCount);
        if max_retries != RETRY_UNLIMITED && retries > max_retries {
            set_stat(Stat::ScheduleDelay, 1);
            set_stat(Stat::RetryCount, 1);
            self.state = State::Canceled;
            return;
        }
        let delay = stat(Stat::ScheduleDelay)
            .saturating_mul(2)
            .min(stat(Stat::MaxScheduleDelay));
        set_stat(Stat::ScheduleDelay, delay);
        self.state = State::Again;
    }

    /// Asks Xen to populate up to `nr_pages` ballooned pages and gives them to the allocator.
    fn increase_reservation(&mut self, nr_pages: u64) -> State {
        let n = (nr_pages as usize).min(BATCH);
        let n = self.pages.front_xen_pfns(&mut self.frames[..n]);
        // SAFETY: The frames are those of the first `n` pages of the balloon, which owns them:
        // ballooned pages, without memory behind them, each listed once.
        let done = match unsafe { reservation::increase(&mut self.frames[..n]) } {
            Ok(done) if done > 0 => done.min(n),
            _ => return State::Again,
        };
        // The first `done` pages are the ones whose frames were passed.
        while self.batch.len() < done {
            let Some(page) = self.retrieve(false) else {
                break;
            };
            if let Err(page) = self.batch.push(page) {
                // Cannot happen (`done <= BATCH`); keep the page in the balloon.
                self.append(page);
                break;
            }
        }
        let done = self.batch.len();
        // SAFETY: Xen populated `frames[i]` for the `i`-th page taken from the front of the
        // balloon, the page whose frame was passed at `i`, in the same order.
        if let Err(e) = unsafe { self.batch.map_all(&self.frames[..done]) } {
            // The pages are as they were in the balloon: the frames go back to Xen.
            pr_err!(
                "increase_reservation: cannot map {} pages ({})\n",
                done,
                e.to_errno()
            );
            // SAFETY: The batch owns the pages, unmapped again by `map_all`'s failure; they go
            // back to the balloon below and nobody touches them.
            let back = unsafe { reservation::decrease_settling(&mut self.frames[..done]) };
            if back != Ok(done) {
                // Populated frames the kernel cannot map and Xen will not take back: nothing
                // safe remains to do with them.
                xen::panic(c_str!("xen: Xen keeps frames the kernel cannot map"));
            }
            let pages = &mut self.pages;
            self.batch.drain(|page| Self::append_to(pages, page));
            return State::Again;
        }
        // SAFETY: Populated and mapped by `map_all`.
        self.batch.drain(|page| unsafe { page.release() });
        set_stat(Stat::CurrentPages, stat(Stat::CurrentPages) + done as u64);
        COUNTERS.in_.fetch_add(done as u64, Ordering::Relaxed);
        State::Done
    }

    /// Hands up to [`MAX_BLOCKS`] free 2 MiB blocks to Xen, for a balloon thread going down by
    /// `nr_pages` on a guest whose frames Xen translates. `None` when no block could be taken
    /// or Xen took none: single pages then. Once Xen refuses the first block of a call (its
    /// maximum extent order may be below a block's), blocks stay off.
    fn decrease_blocks(&mut self, nr_pages: u64) -> Option<State> {
        let want = ((nr_pages as usize) / BLOCK_PAGES).min(MAX_BLOCKS);
        let mut blocks: [Option<BalloonBlock>; MAX_BLOCKS] = core::array::from_fn(|_| None);
        let mut n = 0;
        while n < want {
            let Some(block) = BalloonBlock::alloc() else {
                break;
            };
            self.frames[n] = block.gfn();
            blocks[n] = Some(block);
            n += 1;
        }
        if n == 0 {
            return None;
        }
        // The switch is read once each block is ours: a block allocated after a write of
        // `scrub_pages=1` returned is cleared.
        let mut scrubbed = 0;
        for block in blocks[..n].iter_mut().flatten() {
            if scrub_going_down() {
                // The block is still ours and mapped (type invariant).
                block.clear();
                scrubbed += BLOCK_PAGES;
            }
        }
        if scrubbed > 0 {
            xen::count_scrubbed(scrubbed);
        }
        // SAFETY: The frames start the blocks held in `blocks`, which nobody touches until Xen
        // took them (they go into the balloon below) or refused them.
        let (done, stopped) = match unsafe { reservation::decrease_blocks(&mut self.frames[..n]) } {
            Ok(done) => (done, done < n),
            // An error comes before Xen looked at any block.
            Err(e) => {
                pr_info!(
                    "Xen takes no 2 MiB blocks ({}): single pages\n",
                    e.to_errno()
                );
                self.blocks = false;
                (0, false)
            }
        };
        // Xen stopped inside block `done`, after taking none, some or all but one of its pages.
        let part = match blocks.get(done).and_then(Option::as_ref) {
            // SAFETY: `block` owns its pages, consecutive frames (type invariant); it is
            // consumed below, where each page goes into the balloon or, refused by Xen, back to
            // the allocator, and nothing touches them before. Blocks exist only on guests whose
            // frames Xen translates (`Inner::blocks`).
            Some(block) if stopped => unsafe { self.settle_block(block.gfn()) },
            _ => 0,
        };
        if done == 0 && self.blocks {
            pr_info!("Xen refused a 2 MiB block: single pages from now on\n");
            self.blocks = false;
        }
        let pages = &mut self.pages;
        for (i, block) in blocks[..n].iter_mut().enumerate() {
            let Some(block) = block.take() else {
                continue;
            };
            let taken = match i.cmp(&done) {
                core::cmp::Ordering::Less => BLOCK_PAGES,
                core::cmp::Ordering::Equal => part,
                core::cmp::Ordering::Greater => 0,
            };
            let mut j = 0;
            block.into_pages(|page| {
                if j < taken {
                    Self::append_to(pages, page);
                } else {
                    // Still ours and mapped: back to the allocator, nothing changed.
                    // SAFETY: The pages Xen did not take are backed and mapped.
                    unsafe { page.release() };
                }
                j += 1;
            });
        }
        let out = done * BLOCK_PAGES + part;
        Self::count_out(out as u64, AllocMode::Balloon);
        (out > 0).then_some(State::Done)
    }

    /// Finds out which pages of the block at `gfn` Xen took when it stopped inside it, and
    /// hands it the rest it will take: returns how many of the block's first pages are gone.
    ///
    /// Xen reports whole blocks only. It took the pages before the one it refused, so asking it
    /// for the block's first page alone tells: taken now, none had gone, and the others follow
    /// one by one, exactly counted. Refused, either it had taken that page already or it still
    /// refuses it, and nothing the guest can ask tells which: the kernel then stops, as the C
    /// driver does on any partial result, rather than free a page Xen may hold or keep one Xen
    /// refused as ballooned.
    ///
    /// # Safety
    ///
    /// `gfn` must start a block of [`BLOCK_PAGES`] consecutive frames whose pages the caller
    /// owns, unmapped or on a guest whose frames Xen translates, and nobody may touch them until
    /// they are populated again or, for the pages Xen refuses, given back to the allocator.
    unsafe fn settle_block(&mut self, gfn: Frame) -> usize {
        self.frames[0] = gfn;
        // SAFETY: The block's first frame, which the caller gives away (safety requirements).
        if unsafe { reservation::decrease_settling(&mut self.frames[..1]) } != Ok(1) {
            xen::panic(c_str!(
                "xen: Xen took part of a 2 MiB block back and the guest cannot tell which pages"
            ));
        }
        for (i, f) in self.frames[..BLOCK_PAGES - 1].iter_mut().enumerate() {
            *f = gfn + 1 + i as Frame;
        }
        // SAFETY: The block's other frames, consecutive, which the caller gives away as well
        // (safety requirements).
        let rest = unsafe { reservation::decrease_settling(&mut self.frames[..BLOCK_PAGES - 1]) }
            .unwrap_or(0);
        1 + rest
    }

    /// Accounts for `n` pages Xen took, allocated with `mode`.
    fn count_out(n: u64, mode: AllocMode) {
        // Before `balloon_init` sets it, the count is 0 and goes below, as in C (an unsigned
        // long there); `balloon_init` then counts the guest's pages afresh.
        set_stat(Stat::CurrentPages, stat(Stat::CurrentPages).wrapping_sub(n));
        COUNTERS.out.fetch_add(n, Ordering::Relaxed);
        if mode.skips_zeroing() {
            COUNTERS.zeroing_skipped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Allocates up to `nr_pages` pages and hands their frames to Xen.
    fn decrease_reservation(&mut self, nr_pages: u64, mode: AllocMode) -> State {
        if mode == AllocMode::Balloon && self.blocks && nr_pages >= BLOCK_PAGES as u64 {
            if let Some(state) = self.decrease_blocks(nr_pages) {
                return state;
            }
        }
        let mut state = State::Done;
        let want = (nr_pages as usize).min(BATCH);
        let mut scrubbed = 0;
        while self.batch.len() < want {
            let Some(mut page) = BalloonPage::alloc(mode) else {
                state = State::Again;
                break;
            };
            // The switch is read once the page is ours: a page allocated after a write of
            // `scrub_pages=1` returned is cleared.
            if scrub_going_down() {
                // SAFETY: Just allocated: backed and mapped.
                unsafe { page.clear() };
                scrubbed += 1;
            }
            if let Err(page) = self.batch.push(page) {
                // Cannot happen (`want <= BATCH`); the page goes back.
                // SAFETY: Just allocated: backed and mapped.
                unsafe { page.release() };
                break;
            }
        }
        let n = self.batch.len();
        if scrubbed > 0 {
            xen::count_scrubbed(scrubbed);
        }
        // Unused kmaps must go before the P2M changes (kmap_flush_unused() reads PTEs).
        if n > 0 {
            platform::flush_kmaps();
        }
        self.batch.gfns(&mut self.frames[..n]);
        if let Err(e) = self.batch.unmap_all() {
            // Nothing changed: the pages, still mapped, go back to the allocator.
            pr_err!(
                "decrease_reservation: cannot unmap {} pages ({})\n",
                n,
                e.to_errno()
            );
            // SAFETY: `unmap_all` restored the mappings: the pages, just allocated, are backed
            // and mapped.
            self.batch.drain(|page| unsafe { page.release() });
            return State::Again;
        }
        if n > 0 {
            platform::flush_tlbs();
        }
        // An error comes before Xen looked at any frame.
        // SAFETY: The frames are those of the pages of the batch, unmapped; the batch owns
        // them and nobody touches them until they are populated again or mapped back below.
        let done = unsafe { reservation::decrease(&mut self.frames[..n]) }.unwrap_or(0);
        // Xen took the first `done` frames and stopped at the one it refused.
        let pages = &mut self.pages;
        self.batch
            .drain_front(done, |page| Self::append_to(pages, page));
        if done < n {
            pr_warn!(
                "decrease_reservation: Xen took {} of {} pages; the others stay\n",
                done,
                n
            );
            // SAFETY: `frames[done..n]` are the frames of the pages left in the batch, in
            // order, each still backing its own page: Xen did not take them.
            if unsafe { self.batch.map_all(&self.frames[done..n]) }.is_err() {
                // Memory Xen still gives the guest, which the kernel can no longer map: no
                // safe place remains for these pages (C stops the kernel on any partial
                // result).
                xen::panic(c_str!("xen: cannot map back pages Xen refused to take"));
            }
            // SAFETY: Mapped again just above, and backed: Xen kept them.
            self.batch.drain(|page| unsafe { page.release() });
            state = State::Again;
        }
        Self::count_out(done as u64, mode);
        state
    }

    #[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
    fn reserve_additional_memory(guard: &mut Guard<'_>) -> State {
        use hotplug::{pages_per_section, Resource};
        if !hotplug::can_add_memory() {
            return State::Canceled;
        }
        let credit = stat(Stat::TargetPages) as i64 + stat(Stat::TargetUnpopulated) as i64
            - stat(Stat::TotalPages) as i64;
        // Already hotplugged enough pages? Wait for them to be onlined.
        if credit <= 0 {
            return State::Wait;
        }
        let sec = pages_per_section();
        let pages = (credit as u64).div_ceil(sec) * sec;
        let Some(res) = pages
            .checked_mul(1 << PAGE_SHIFT)
            .and_then(Resource::allocate)
        else {
            pr_err!("Cannot allocate new System RAM resource\n");
            return State::Canceled;
        };
        if !res.invalidate_p2m() {
            pr_warn!("set_phys_to_machine() failed, no memory added\n");
            return State::Canceled;
        }
        // Onlining calls back into the balloon (online_page), which takes the lock.
        let added = guard.do_unlocked(|| res.add_memory());
        if let Err((_res, e)) = added {
            pr_warn!("Cannot add additional memory ({})\n", e.to_errno());
            return State::Canceled;
        }
        set_stat(Stat::TotalPages, stat(Stat::TotalPages) + pages);
        State::Wait
    }

    #[cfg(not(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG))]
    fn reserve_additional_memory(_guard: &mut Guard<'_>) -> State {
        set_stat(
            Stat::TargetPages,
            stat(Stat::CurrentPages) + stat(Stat::TargetUnpopulated),
        );
        State::Canceled
    }
}

#[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
fn hotplug_unpopulated() -> bool {
    hotplug::HOTPLUG_UNPOPULATED.load(Ordering::Relaxed) != 0
}

#[cfg(not(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG))]
fn hotplug_unpopulated() -> bool {
    false
}

fn balloon_thread(b: &'static Balloon) {
    kthread::set_freezable();
    let mut guard = b.inner.lock();
    loop {
        let timeout: u64 = match guard.state {
            State::Done | State::Canceled => 3600 * HZ,
            State::Again => stat(Stat::ScheduleDelay).saturating_mul(HZ),
            State::Wait => HZ,
        };
        // Wait until the credit changes (or, when done, until there is work), as C's
        // balloon_thread_cond(), without the balloon lock. Whoever changes the target or the
        // credit wakes the thread with `target_writes` locked, so no wakeup falls between the
        // check and the sleep.
        let credit = if guard.state == State::Done {
            0
        } else {
            current_credit()
        };
        let writes = *b.target_writes.lock();
        guard.do_unlocked(|| {
            let mut w = b.target_writes.lock();
            let mut left = timeout as Jiffies;
            while current_credit() == credit && *w == writes && left > 0 && !kthread::should_stop()
            {
                left = match b.kick.wait_interruptible_timeout(&mut w, left) {
                    kernel::sync::CondVarTimeoutResult::Timeout => 0,
                    kernel::sync::CondVarTimeoutResult::Woken { jiffies }
                    | kernel::sync::CondVarTimeoutResult::Signal { jiffies } => jiffies,
                };
                w.do_unlocked(kthread::try_to_freeze);
            }
        });
        if kthread::should_stop() {
            return;
        }
        let credit = current_credit();
        if credit > 0 {
            guard.state = if is_inflated() {
                guard.increase_reservation(credit as u64)
            } else {
                Inner::reserve_additional_memory(&mut guard)
            };
        }
        if credit < 0 {
            // What is available beyond the allocator's reserve, and as much again kept back:
            // a target below what the guest can give stops with room left for the kernel's own
            // allocations (forks, page tables, slab) instead of at the allocator's minimum, where
            // the next of them could wake the OOM killer.
            let room = platform::available_pages().saturating_sub(platform::reserve_pages());
            let n = (credit.unsigned_abs()).min(room);
            guard.state = guard.decrease_reservation(n, AllocMode::Balloon);
            if guard.state == State::Done
                && n != credit.unsigned_abs()
                && n < platform::reserve_pages()
            {
                guard.state = State::Again;
            }
        }
        guard.update_schedule();
        // Let others take the lock and the CPU between batches (C's cond_resched()).
        guard.do_unlocked(kthread::cond_resched);
    }
}

/// The largest target the balloon keeps, in pages: far above any machine's memory, and small
/// enough that no sum or difference of page counts, nor a count in bytes, overflows. Only
/// `balloon_set_new_target()` (exported to C) can ask for more; sysfs and xenstore targets are
/// bounded before they get here.
const MAX_TARGET_PAGES: u64 = u64::MAX >> (PAGE_SHIFT + 2);

/// Sets the target in pages (at most [`MAX_TARGET_PAGES`]) and wakes the balloon thread.
fn set_target(target: u64) {
    let target = target.min(MAX_TARGET_PAGES);
    let Some(b) = BALLOON.get() else {
        set_stat(Stat::TargetPages, target);
        return;
    };
    let mut writes = b.target_writes.lock();
    set_stat(Stat::TargetPages, target);
    *writes = writes.wrapping_add(1);
    b.kick.notify_all();
}

impl Balloon {
    /// Wakes the balloon thread after a change of the credit.
    fn wake_thread(&self) {
        let _writes = self.target_writes.lock();
        self.kick.notify_all();
    }
}

/// Balloons out pages for a caller that wants pages without memory behind them.
fn add_ballooned_pages(b: &'static Balloon, guard: &mut Guard<'_>, nr_pages: u64) -> Result {
    if hotplug_unpopulated() {
        let st = Inner::reserve_additional_memory(guard);
        if st != State::Canceled {
            while guard.pages.is_empty() {
                if b.appended.wait_interruptible(guard) {
                    return Err(ENOMEM);
                }
            }
            return Ok(());
        }
    }
    if platform::available_pages() < nr_pages {
        return Err(ENOMEM);
    }
    // When Xen took only some of the pages (or an allocation ended the batch early), those are
    // in the balloon now: the caller lends them and asks for the rest. A loan fails only when
    // nothing was gained. (C returns -ENOMEM on any shortfall; a PVH guest whose first
    // decrease is partial would then have no grant table.)
    if guard.decrease_reservation(nr_pages, AllocMode::User) != State::Done
        && guard.pages.is_empty()
    {
        return Err(ENOMEM);
    }
    Ok(())
}

/// The balloon's state, made by the first caller: [`balloon_init`], or before it a caller of
/// `xen_alloc_ballooned_pages()` (PVH guests map their grant table into ballooned pages at
/// `core_initcall` time, as the C driver allows: its state is static).
fn balloon() -> Result<&'static Balloon> {
    BALLOON.get_or_init(
        || {
            let frames = KBox::new([0; BATCH], GFP_KERNEL)?;
            let batch = PageBatch::new(GFP_KERNEL)?;
            Ok(try_pin_init!(Balloon {
                inner <- new_mutex!(Inner {
                    state: State::Done,
                    pages: PageList::new(),
                    frames,
                    batch,
                    blocks: xen::auto_translated(),
                }),
                target_writes <- new_mutex!(0),
                kick <- new_condvar!(),
                appended <- new_condvar!(),
            }? Error))
        },
        GFP_KERNEL,
        kernel::built_in!(),
    )
}

/// `xen_alloc_ballooned_pages()`.
fn alloc_ballooned(out: &mut PagesOut) -> Result {
    if !xen::domain() {
        return Err(ENODEV);
    }
    let b = balloon()?;
    let mut guard = b.inner.lock();
    let nr = out.wanted() as u64;
    set_stat(Stat::TargetUnpopulated, stat(Stat::TargetUnpopulated) + nr);
    let mut result = Ok(());
    while out.wanted() > 0 {
        if let Some(page) = guard.retrieve(true) {
            if let Err(e) = page.alloc_p2m_entry() {
                guard.append(page);
                result = Err(e);
                break;
            }
            if let Err(page) = out.push(page) {
                guard.append(page);
                break;
            }
        } else if let Err(e) = add_ballooned_pages(b, &mut guard, out.wanted() as u64) {
            result = Err(e);
            break;
        }
    }
    if result.is_err() {
        // Undo: the pages go back, and the target no longer counts any of them.
        while let Some(page) = out.pop() {
            guard.append(page);
        }
        set_stat(Stat::TargetUnpopulated, stat(Stat::TargetUnpopulated) - nr);
        b.appended.notify_all();
        if current_credit() != 0 {
            b.wake_thread();
        }
    }
    result
}

/// `xen_free_ballooned_pages()`.
fn free_ballooned(pages: PagesIn) {
    let Some(b) = BALLOON.get() else {
        return;
    };
    let mut guard = b.inner.lock();
    let nr = pages.len() as u64;
    pages.take(|page| guard.append(page));
    b.appended.notify_all();
    set_stat(
        Stat::TargetUnpopulated,
        stat(Stat::TargetUnpopulated).saturating_sub(nr),
    );
    // The balloon may be too large now. Shrink it if needed.
    if current_credit() != 0 {
        b.wake_thread();
    }
}

#[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
fn online_page(page: BalloonPage) {
    if let Some(b) = BALLOON.get() {
        b.inner.lock().append(page);
        b.appended.notify_all();
    }
}

#[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
fn memory_online() {
    if let Some(b) = BALLOON.get() {
        b.wake_thread();
    }
}

#[link_section = ".init.text"]
fn balloon_init() -> Result {
    if !xen::domain() {
        return Err(ENODEV);
    }
    pr_info!("Initialising balloon driver\n");

    let mut current = if xen::initial_domain() {
        xen::current_reservation().unwrap_or(0)
    } else {
        0
    };
    let mut append_regions = true;
    if current == 0 {
        if xen::pv_domain() {
            let nr = platform::start_info_pages();
            if platform::released_pages() >= nr {
                pr_warn!("Released pages underflow current target\n");
                return Err(ERANGE);
            }
            current = (nr - platform::released_pages()).min(xen::max_pfn());
        } else {
            let phys = xen::num_physpages();
            if platform::unpopulated_pages() >= phys {
                pr_warn!("Released pages underflow current target\n");
                return Err(ERANGE);
            }
            append_regions = false;
            current = phys - platform::unpopulated_pages();
        }
    }
    set_stat(Stat::CurrentPages, current);
    set_stat(Stat::TargetPages, current);
    // `balloon_low`/`balloon_high` start at 0 and already count any page an early
    // `xen_alloc_ballooned_pages()` caller left in the balloon (C resets them here).
    set_stat(Stat::TotalPages, current);
    set_stat(Stat::ScheduleDelay, 1);
    set_stat(Stat::MaxScheduleDelay, 32);
    set_stat(Stat::RetryCount, 1);
    set_stat(Stat::MaxRetryCount, 4);

    let b = balloon()?;

    #[cfg(CONFIG_XEN_BALLOON_MEMORY_HOTPLUG)]
    {
        // C ignores this failure; memory it added would then go to the other driver or the
        // allocator without Xen behind it. Here the balloon adds no memory instead.
        if let Err(e) = hotplug::set_online_page_callback(online_page) {
            pr_warn!(
                "another driver takes onlined pages ({}): no memory hotplug\n",
                e.to_errno()
            );
        }
        hotplug::on_memory_online(memory_online)?;
        hotplug::register_sysctl()?;
    }

    // Memory Xen did not populate at boot starts out ballooned.
    let mut underflow = false;
    {
        let mut guard = b.inner.lock();
        // SAFETY: `balloon_init` is an initcall in `.init.text`: init memory is still there.
        unsafe {
            platform::take_extra_memory(
                |page| guard.append(page),
                |pages| {
                    if append_regions {
                        set_stat(Stat::TotalPages, stat(Stat::TotalPages) + pages);
                    } else if pages >= stat(Stat::CurrentPages) || pages >= stat(Stat::TargetPages)
                    {
                        underflow = true;
                    } else {
                        set_stat(Stat::CurrentPages, stat(Stat::CurrentPages) - pages);
                        set_stat(Stat::TargetPages, stat(Stat::TargetPages) - pages);
                    }
                },
            )
        };
    }
    if underflow {
        pr_warn!("Extra pages underflow current target\n");
        return Err(ERANGE);
    }

    if let Err(e) = kthread::run(
        c_str!("xen-balloon"),
        move || balloon_thread(b),
        kernel::built_in!(),
    ) {
        pr_err!("xen-balloon thread could not be started, ballooning will not work!\n");
        return Err(e);
    }
    sysfs_init();
    Ok(())
}

kernel::initcall!("4", __xen_balloon_rust_init => balloon_init);

/// Waits for the initial balloon-down of HVM/PVH guests booted below their target.
///
/// C also logs both lines when the balloon is still populating (a positive credit), which the
/// boot does not wait for: here they appear only when there is memory left to give back.
fn balloon_wait_finish() -> Result {
    if !xen::domain() {
        return Err(ENODEV);
    }
    let Some(b) = BALLOON.get() else {
        return Ok(());
    };
    if xen::pv_domain() || current_credit() >= 0 {
        return Ok(());
    }
    pr_notice!("Waiting for initial ballooning down having finished.\n");
    let mut last_credit = 0;
    let mut last_changed = kthread::jiffies();
    let mut warned = false;
    loop {
        let credit = current_credit();
        if credit >= 0 {
            break;
        }
        if credit != last_credit {
            last_changed = kthread::jiffies();
            last_credit = credit;
        }
        if b.inner.lock().state == State::Canceled {
            if !warned {
                pr_warn!(
                    "Initial ballooning failed, {} pages need to be freed.\n",
                    -credit
                );
                warned = true;
            }
            let limit = u64::from(balloon_boot_timeout.get()) * HZ;
            if kthread::jiffies().wrapping_sub(last_changed) as u64 >= limit {
                xen::panic(c_str!("Initial ballooning failed!\n"));
            }
        }
        kthread::sleep_interruptible((HZ / 10) as Jiffies);
    }
    pr_notice!("Initial ballooning down finished.\n");
    Ok(())
}

kernel::initcall!("7s", __xen_balloon_rust_wait => balloon_wait_finish);

// ---- xenstore target watch and sysfs (C's xen-balloon.c) ----

fn watch_target() {
    static FIRED: AtomicBool = AtomicBool::new(false);
    static TARGET_DIFF: AtomicU64 = AtomicU64::new(0);

    #[cfg(CONFIG_MEMORY_HOTPLUG)]
    platform::restore_max_mem_size(xen_saved_max_mem_size.load(Ordering::Relaxed));

    // No target is fine (for domain 0 at least).
    let Some(kib) = xenbus::read_u64(c_str!("memory"), c_str!("target")) else {
        return;
    };
    let new_target = kib >> (PAGE_SHIFT - 10);
    if !FIRED.swap(true, Ordering::AcqRel) {
        let static_max = xenbus::read_u64(c_str!("memory"), c_str!("static-max"))
            .or_else(|| xenbus::read_u64(c_str!("memory"), c_str!("memory_static_max")))
            .map(|kib| kib >> (PAGE_SHIFT - 10))
            .unwrap_or_else(|| stat(Stat::CurrentPages));
        // What the memory map holds beyond static-max (holes, firmware). The RAM given back
        // early is in the map but came off the initial target: count it back in.
        let diff = if xen::pv_domain() || xen::initial_domain() {
            0
        } else {
            static_max
                .wrapping_sub(stat(Stat::TargetPages))
                .wrapping_sub(platform::released_early_pages())
        };
        TARGET_DIFF.store(diff, Ordering::Relaxed);
    }
    set_target(new_target.wrapping_sub(TARGET_DIFF.load(Ordering::Relaxed)));
}

static TARGET_WATCH: xenbus::Watch = xenbus::Watch::new(c_str!("memory/target"), watch_target);

fn xenstore_ready() {
    if TARGET_WATCH.register(kernel::built_in!()).is_err() {
        pr_err!("Failed to set balloon watcher\n");
    }
}

static XENSTORE_NOTIFIER: xenbus::XenstoreNotifier = xenbus::XenstoreNotifier::new(xenstore_ready);

static XEN_MEMORY: SystemDevice = SystemDevice::new(c_str!("xen_memory"));

fn require_admin() -> Result {
    if kernel::kthread::capable_sys_admin() {
        Ok(())
    } else {
        Err(EPERM)
    }
}

fn show_target_kb(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", stat(Stat::TargetPages) << (PAGE_SHIFT - 10))
}

fn store_target_kb(input: &[u8]) -> Result {
    require_admin()?;
    let kib = sysfs::parse_u64(input)?;
    set_target(kib.checked_mul(1024).ok_or(ERANGE)? >> PAGE_SHIFT);
    Ok(())
}

fn show_target(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", stat(Stat::TargetPages) << PAGE_SHIFT)
}

fn store_target(input: &[u8]) -> Result {
    require_admin()?;
    let bytes = sysfs::parse_size(input)?;
    set_target(bytes >> PAGE_SHIFT);
    Ok(())
}

macro_rules! ulong_attr {
    ($show:ident, $store:ident, $field:expr, $range:expr) => {
        // Hexadecimal without a prefix, as C's DEVICE_ULONG_ATTR (`%lx`) shows it; writes take
        // any base kstrtoul() accepts, within `$range` (`ERANGE` otherwise, value kept).
        fn $show(buf: &mut ShowBuf) -> Result {
            sysfs_emit!(buf, "{:x}\n", stat($field))
        }
        #[allow(dead_code)]
        fn $store(input: &[u8]) -> Result {
            let v = sysfs::parse_u64(input)?;
            if !$range.contains(&v) {
                return Err(ERANGE);
            }
            set_stat($field, v);
            Ok(())
        }
    };
}

/// The longest wait between retries, in seconds: an hour, the balloon thread's idle wait.
const SCHEDULE_DELAY_LIMIT: u64 = 3600;

ulong_attr!(
    show_schedule_delay,
    store_schedule_delay,
    Stat::ScheduleDelay,
    1..=SCHEDULE_DELAY_LIMIT
);
// 0 would retry without a pause; more than an hour is no retry at all.
ulong_attr!(
    show_max_schedule_delay,
    store_max_schedule_delay,
    Stat::MaxScheduleDelay,
    1..=SCHEDULE_DELAY_LIMIT
);
ulong_attr!(
    show_retry_count,
    store_retry_count,
    Stat::RetryCount,
    0..=u64::MAX
);
ulong_attr!(
    show_max_retry_count,
    store_max_retry_count,
    Stat::MaxRetryCount,
    0..=u64::MAX
);

fn show_scrub_pages(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", if xen::scrub_enabled() { 1 } else { 0 })
}

fn store_scrub_pages(input: &[u8]) -> Result {
    xen::set_scrub_enabled(sysfs::parse_bool(input)?);
    Ok(())
}

fn show_boot_timeout(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", balloon_boot_timeout.get())
}

fn show_current_kb(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", stat(Stat::CurrentPages) << (PAGE_SHIFT - 10))
}

fn show_low_kb(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", stat(Stat::BalloonLow) << (PAGE_SHIFT - 10))
}

fn show_high_kb(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", stat(Stat::BalloonHigh) << (PAGE_SHIFT - 10))
}

fn show_out(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", COUNTERS.out.load(Ordering::Relaxed))
}

fn show_in(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", COUNTERS.in_.load(Ordering::Relaxed))
}

fn show_scrubbed(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", xen::scrubbed_pages())
}

fn show_released_early(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(buf, "{}\n", platform::released_early_pages())
}

fn show_zeroing_skipped(buf: &mut ShowBuf) -> Result {
    sysfs_emit!(
        buf,
        "{}\n",
        COUNTERS.zeroing_skipped.load(Ordering::Relaxed)
    )
}

static TARGET_KB: DeviceAttribute = DeviceAttribute::new(
    c_str!("target_kb"),
    0o644,
    show_target_kb,
    Some(store_target_kb),
);
static TARGET: DeviceAttribute =
    DeviceAttribute::new(c_str!("target"), 0o644, show_target, Some(store_target));
static SCHEDULE_DELAY: DeviceAttribute =
    DeviceAttribute::new(c_str!("schedule_delay"), 0o444, show_schedule_delay, None);
static MAX_SCHEDULE_DELAY: DeviceAttribute = DeviceAttribute::new(
    c_str!("max_schedule_delay"),
    0o644,
    show_max_schedule_delay,
    Some(store_max_schedule_delay),
);
static RETRY_COUNT: DeviceAttribute =
    DeviceAttribute::new(c_str!("retry_count"), 0o444, show_retry_count, None);
static MAX_RETRY_COUNT: DeviceAttribute = DeviceAttribute::new(
    c_str!("max_retry_count"),
    0o644,
    show_max_retry_count,
    Some(store_max_retry_count),
);
static SCRUB_PAGES: DeviceAttribute = DeviceAttribute::new(
    c_str!("scrub_pages"),
    0o644,
    show_scrub_pages,
    Some(store_scrub_pages),
);
static BOOT_TIMEOUT: DeviceAttribute =
    DeviceAttribute::new(c_str!("boot_timeout"), 0o444, show_boot_timeout, None);
static CURRENT_KB: DeviceAttribute =
    DeviceAttribute::new(c_str!("current_kb"), 0o444, show_current_kb, None);
static LOW_KB: DeviceAttribute = DeviceAttribute::new(c_str!("low_kb"), 0o444, show_low_kb, None);
static HIGH_KB: DeviceAttribute =
    DeviceAttribute::new(c_str!("high_kb"), 0o444, show_high_kb, None);
static BALLOONED_OUT: DeviceAttribute =
    DeviceAttribute::new(c_str!("ballooned_out"), 0o444, show_out, None);
static BALLOONED_IN: DeviceAttribute =
    DeviceAttribute::new(c_str!("ballooned_in"), 0o444, show_in, None);
static SCRUBBED: DeviceAttribute =
    DeviceAttribute::new(c_str!("scrubbed"), 0o444, show_scrubbed, None);
static RELEASED_EARLY: DeviceAttribute =
    DeviceAttribute::new(c_str!("released_early"), 0o444, show_released_early, None);
static ZEROING_SKIPPED: DeviceAttribute =
    DeviceAttribute::new(c_str!("zeroing_skipped"), 0o444, show_zeroing_skipped, None);

attribute_group! {
    static BALLOON_GROUP = (None, [
        TARGET_KB, TARGET, SCHEDULE_DELAY, MAX_SCHEDULE_DELAY, RETRY_COUNT, MAX_RETRY_COUNT,
        SCRUB_PAGES, BOOT_TIMEOUT,
    ]);
}
attribute_group! {
    static INFO_GROUP = (Some(c_str!("info")), [CURRENT_KB, LOW_KB, HIGH_KB]);
}
attribute_group! {
    static STATS_GROUP = (Some(c_str!("stats")), [
        BALLOONED_OUT, BALLOONED_IN, SCRUBBED, ZEROING_SKIPPED, RELEASED_EARLY,
    ]);
}
attribute_groups! {
    static GROUPS = [BALLOON_GROUP, INFO_GROUP, STATS_GROUP];
}

/// `xen_balloon_init()`: the sysfs device and the target watch.
fn sysfs_init() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::AcqRel) {
        return;
    }
    if let Err(e) = XEN_MEMORY.register(&GROUPS, kernel::built_in!()) {
        pr_err!("Cannot register xen_memory device ({})\n", e.to_errno());
    }
    XENSTORE_NOTIFIER.register(kernel::built_in!());
}
