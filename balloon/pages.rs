// SPDX-License-Identifier: GPL-2.0

//! The pages the balloon holds, and the hypercalls that move their frames.
//!
//! C headers: [`include/xen/mem-reservation.h`](srctree/include/xen/mem-reservation.h),
//! [`include/linux/gfp.h`](srctree/include/linux/gfp.h)
//!
//! A [`BalloonPage`] is a page the balloon owns: taken from the page allocator (or found in a
//! memory region Xen left unpopulated), not used by anybody else, possibly without a machine
//! frame behind it. [`PageList`] threads such pages through their `lru` field, as C balloon
//! drivers do, so holding a million ballooned pages costs no memory. [`reservation`] moves
//! frames between the guest and the hypervisor.
//!
//! This module is the only Rust code that reaches `balloon_alloc_pages_noinit()`, the
//! allocation without `init_on_alloc` zeroing, and it does so through `balloon_exports.c`,
//! which is built into the kernel and exports neither that call nor anything of this crate:
//! no module can obtain an unzeroed page through the balloon.

use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    bindings,
    error::{code::*, to_result, Error, Result},
    ffi::{c_int, c_long, c_uint, c_ulong},
};

// `struct page` has members of empty structures on some configurations: only pointers to it
// cross, as in the generated bindings, which allow the same lint.
#[allow(improper_ctypes)]
extern "C" {
    // Defined in `balloon_exports.c`, built in and not exported (see `balloon_rust.h`).
    fn xen_balloon_alloc_noinit(gfp: bindings::gfp_t, order: c_uint) -> *mut bindings::page;
    fn xen_balloon_increase(frames: *mut Frame, count: c_ulong) -> c_long;
    fn xen_balloon_decrease(frames: *mut Frame, count: c_ulong, inject: bool) -> c_long;
    fn xen_balloon_decrease_blocks(frames: *mut Frame, count: c_ulong, order: c_uint) -> c_long;
    fn xen_balloon_flush_tlb_all();
    #[cfg(CONFIG_XEN_HAVE_PVMMU)]
    fn xen_balloon_kernel_pte(mfn: c_ulong) -> bindings::pte_t;
}

/// A Xen page frame number (a PFN or a GFN, as the hypercall wants it).
pub(crate) type Frame = bindings::xen_pfn_t;

/// How hard the allocator may try for a page to balloon out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocMode {
    /// Give up quickly and quietly, never dip into reserves (C's `GFP_BALLOON`): ballooning
    /// must not cause an OOM kill.
    Balloon,
    /// A normal user allocation (C's `GFP_USER`), for callers that asked for ballooned pages.
    User,
}

impl AllocMode {
    /// Whether [`BalloonPage::alloc`] now skips a zeroing that `init_on_alloc` would do for the
    /// same allocation (`false` when `init_on_alloc` is off or `init_on_free` is on).
    pub(crate) fn skips_zeroing(self) -> bool {
        // SAFETY: Reads static keys.
        unsafe { bindings::want_init_on_alloc(self.gfp()) && !bindings::want_init_on_free() }
    }

    fn gfp(self) -> bindings::gfp_t {
        match self {
            AllocMode::Balloon => {
                bindings::GFP_HIGHUSER
                    | bindings::__GFP_NOWARN
                    | bindings::__GFP_NORETRY
                    | bindings::__GFP_NOMEMALLOC
            }
            AllocMode::User => bindings::GFP_USER,
        }
    }
}

/// A page owned by the balloon.
///
/// Whether memory backs the page (and, on PV guests, whether the kernel maps it) is not part of
/// the type: a page in the balloon has none. What needs memory behind the page
/// ([`BalloonPage::clear`], [`BalloonPage::release`]) is `unsafe`.
///
/// # Invariants
///
/// `page` is a valid `struct page` that is not in the page allocator and that nobody but this
/// value uses; its `lru` field is free for [`PageList`]. It is a page on its own (order 0, not
/// part of a compound page), so it is also its own folio.
pub(crate) struct BalloonPage {
    page: NonNull<bindings::page>,
}

// SAFETY: Ownership of a page can move between threads.
unsafe impl Send for BalloonPage {}

/// Whether freed pages are cleared (`init_on_free`): pages from the allocator are then zero.
pub(crate) fn init_on_free() -> bool {
    // SAFETY: Reads a static key.
    unsafe { bindings::want_init_on_free() }
}

impl BalloonPage {
    /// Takes a page from the allocator to hand to the hypervisor, without `init_on_alloc`
    /// zeroing (`balloon_alloc_pages_noinit()`), and removes it from the managed page count.
    ///
    /// Its content is whatever the previous user left; the page must leave the guest (or go back
    /// to the allocator with [`BalloonPage::release`]) and is never read by the kernel. Whether
    /// that skipped a zeroing is [`AllocMode::skips_zeroing`].
    pub(crate) fn alloc(mode: AllocMode) -> Option<Self> {
        let gfp = mode.gfp();
        // SAFETY: `gfp` has no `__GFP_ZERO`; the page goes to the balloon only.
        let page = NonNull::new(unsafe { xen_balloon_alloc_noinit(gfp, 0) })?;
        // SAFETY: The page was just allocated and is ours.
        unsafe { bindings::adjust_managed_page_count(page.as_ptr(), -1) };
        // INVARIANT: Freshly allocated, owned by us alone.
        Some(Self { page })
    }

    /// Wraps the page of frame `pfn`.
    ///
    /// # Safety
    ///
    /// The page must satisfy the type invariant: valid, outside the allocator, unused.
    pub(crate) unsafe fn from_pfn(pfn: u64) -> Self {
        // SAFETY: The caller guarantees `pfn` has a valid `struct page`.
        let page = unsafe { bindings::pfn_to_page(pfn as _) };
        // INVARIANT: By the safety requirements. `pfn_to_page` never returns null.
        Self {
            page: NonNull::new(page).unwrap_or(NonNull::dangling()),
        }
    }

    /// Takes ownership of a page C code hands (back) to the balloon; `None` for null.
    ///
    /// # Safety
    ///
    /// A non-null `page` must satisfy the type invariant.
    pub(crate) unsafe fn from_raw(page: *mut bindings::page) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        NonNull::new(page).map(|page| Self { page })
    }

    /// Gives up ownership to C code.
    pub(crate) fn into_raw(self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// Whether this is a high-memory page.
    pub(crate) fn is_highmem(&self) -> bool {
        // SAFETY: The page is valid (type invariant).
        unsafe { page_is_highmem(self.page.as_ptr()) }
    }

    /// The page frame number.
    pub(crate) fn pfn(&self) -> u64 {
        // SAFETY: The page is valid (type invariant).
        unsafe { bindings::page_to_pfn(self.page.as_ptr()) as u64 }
    }

    /// Fills the page with zeroes, for a balloon that scrubs pages itself: it reads the
    /// `xen_scrub_pages` switch once per batch ([`kernel::xen::scrub_enabled`]) and counts the
    /// cleared pages once per batch ([`kernel::xen::count_scrubbed`]).
    ///
    /// # Safety
    ///
    /// Memory must back the page and the kernel must map it: it never left the guest, or it
    /// was populated and mapped again.
    pub(crate) unsafe fn clear(&mut self) {
        // SAFETY: The page is valid and exclusively ours (type invariant): writing all of it
        // races with nobody. Memory backs it and it is mapped (safety requirements).
        unsafe { bindings::clear_highpage(self.page.as_ptr()) };
    }

    /// The page as a folio: `page_folio()` without a call, since a balloon page is its own
    /// folio (type invariant). The lists and the offline marks are the balloon's hot path.
    fn folio(&self) -> *mut bindings::folio {
        self.page.as_ptr().cast()
    }

    /// Marks the page as offline (`PageOffline`), as ballooned pages are; a page already marked
    /// stays so.
    pub(crate) fn set_offline(&mut self) {
        // SAFETY: The page is valid and ours, and its own folio (type invariant).
        unsafe { bindings::__folio_set_offline(self.folio()) };
    }

    /// Clears the offline mark.
    pub(crate) fn clear_offline(&mut self) {
        // SAFETY: The page is valid and ours, and its own folio (type invariant).
        unsafe { bindings::__folio_clear_offline(self.folio()) };
    }

    /// Allocates the P2M entry of the page (PV guests), so it can be used for grant mappings.
    pub(crate) fn alloc_p2m_entry(&self) -> Result {
        if kernel::xen::auto_translated() {
            return Ok(());
        }
        #[cfg(CONFIG_XEN_HAVE_PVMMU)]
        {
            // SAFETY: Any PFN is accepted; it only fills the P2M tree.
            to_result(unsafe { bindings::xen_alloc_p2m_entry(self.pfn() as _) })
        }
        #[cfg(not(CONFIG_XEN_HAVE_PVMMU))]
        Ok(())
    }

    /// Gives a populated page back to the page allocator (`free_reserved_page()`), counting it
    /// as managed memory again.
    ///
    /// # Safety
    ///
    /// Memory must back the page and the kernel must map it, as for [`BalloonPage::clear`]:
    /// the allocator hands it to anybody.
    pub(crate) unsafe fn release(self) {
        // SAFETY: The page is ours (type invariant) and backed and mapped (safety
        // requirements); the allocator takes it over.
        unsafe { bindings::free_reserved_page(self.page.as_ptr()) };
    }

    fn lru(&self) -> *mut bindings::list_head {
        // `&page->lru` without a call: the lists are the balloon's hot path.
        self.page
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(bindings::PAGE_LRU_OFFSET)
            .cast()
    }
}

/// The order of a [`BalloonBlock`]: 2 MiB, whatever the page size (`balloon_exports.c` gives
/// Xen the order in its own frames).
pub(crate) const BLOCK_ORDER: u32 = 21 - kernel::page::PAGE_SHIFT as u32;
/// Pages in a [`BalloonBlock`].
pub(crate) const BLOCK_PAGES: usize = 1 << BLOCK_ORDER;

/// A naturally aligned block of [`BLOCK_PAGES`] pages taken for the balloon at once, for a
/// guest whose frames the hypervisor translates: Xen releases such a block in one step where
/// it takes [`BLOCK_PAGES`] steps for single pages (for a populate-on-demand guest that never
/// touched the block, it only drops the block's entries).
///
/// # Invariants
///
/// `first` is the first of [`BLOCK_PAGES`] order-0 pages with consecutive frame numbers (the
/// block was split), each satisfying [`BalloonPage`]'s invariant, all owned by this value and
/// all backed by memory and mapped (a block is consumed by [`BalloonBlock::into_pages`] before
/// its frames can leave the guest).
pub(crate) struct BalloonBlock {
    first: NonNull<bindings::page>,
}

// SAFETY: Ownership of pages can move between threads.
unsafe impl Send for BalloonBlock {}

impl BalloonBlock {
    /// Takes a free block from the allocator, without `init_on_alloc` zeroing (as
    /// [`BalloonPage::alloc`]) and without reclaim or compaction: `None` when no block is free,
    /// and the caller falls back to single pages. Removes the pages from the managed count.
    pub(crate) fn alloc() -> Option<Self> {
        let gfp = AllocMode::Balloon.gfp() & !bindings::__GFP_DIRECT_RECLAIM;
        // SAFETY: `gfp` has neither `__GFP_ZERO` nor `__GFP_COMP`; the pages go to the balloon
        // only.
        let first = NonNull::new(unsafe { xen_balloon_alloc_noinit(gfp, BLOCK_ORDER) })?;
        // SAFETY: A block just allocated, ours: split it into order-0 pages, each with its own
        // reference, and take them out of the managed count.
        unsafe {
            bindings::split_page(first.as_ptr(), BLOCK_ORDER as _);
            bindings::adjust_managed_page_count(first.as_ptr(), -(BLOCK_PAGES as c_long));
        }
        // INVARIANT: Split into order-0 pages with consecutive frames, owned by us alone, and
        // just allocated: backed and mapped.
        Some(Self { first })
    }

    /// The frame to pass to `XENMEM_decrease_reservation` for the block: its first frame.
    pub(crate) fn gfn(&self) -> Frame {
        // SAFETY: A valid page (type invariant).
        unsafe { bindings::xen_page_to_gfn(self.first.as_ptr()) as Frame }
    }

    /// Fills every page of the block with zeroes (see [`BalloonPage::clear`]).
    pub(crate) fn clear(&mut self) {
        // SAFETY: A valid page (type invariant).
        let pfn = unsafe { bindings::page_to_pfn(self.first.as_ptr()) };
        for i in 0..BLOCK_PAGES as c_ulong {
            // SAFETY: The block's pages have consecutive frames, are ours, and are backed and
            // mapped (type invariant): writing them races with nobody.
            unsafe { bindings::clear_highpage(bindings::pfn_to_page(pfn + i)) };
        }
    }

    /// Hands each page of the block to `f`, in frame order.
    pub(crate) fn into_pages(self, mut f: impl FnMut(BalloonPage)) {
        // SAFETY: A valid page (type invariant).
        let pfn = unsafe { bindings::page_to_pfn(self.first.as_ptr()) } as u64;
        for i in 0..BLOCK_PAGES as u64 {
            // SAFETY: The block's pages have consecutive frames and are ours (type invariant);
            // each is handed out once.
            f(unsafe { BalloonPage::from_pfn(pfn + i) });
        }
    }
}

/// The most pages a [`PageBatch`] holds: one page of frame numbers, the balloon's batch.
pub(crate) const BATCH: usize = kernel::page::PAGE_SIZE / core::mem::size_of::<Frame>();

/// Mapping changes per `HYPERVISOR_multicall` when a PV guest unmaps or maps the pages of a
/// [`PageBatch`]: one entry into the hypervisor per 64 pages instead of one per page.
#[cfg(CONFIG_XEN_HAVE_PVMMU)]
const MULTICALL_BATCH: usize = 64;

/// `INVALID_P2M_ENTRY` (`arch/x86/include/asm/xen/page.h`): no frame behind a PFN.
#[cfg(CONFIG_XEN_HAVE_PVMMU)]
const INVALID_P2M_ENTRY: c_ulong = !0;

/// Up to [`BATCH`] balloon pages in an array, for the operations C does on an array of pages
/// at once (`struct page *pages[]`): one call per batch instead of one per page.
///
/// # Invariants
///
/// `pages[..len]` are pages owned by the batch, each satisfying [`BalloonPage`]'s invariant.
pub(crate) struct PageBatch {
    pages: [*mut bindings::page; BATCH],
    len: usize,
    #[cfg(CONFIG_XEN_HAVE_PVMMU)]
    mc: [bindings::multicall_entry; MULTICALL_BATCH],
}

// SAFETY: The batch owns its pages, which can move between threads.
unsafe impl Send for PageBatch {}

impl PageBatch {
    /// An empty batch, on the heap (it is a few pages in size: it never lives on the stack).
    pub(crate) fn new(flags: kernel::alloc::Flags) -> Result<kernel::alloc::KBox<Self>> {
        let batch =
            kernel::alloc::KBox::<Self>::new_uninit(flags | kernel::alloc::flags::__GFP_ZERO)?;
        // SAFETY: The memory is zeroed, and all zeroes is an empty batch: a length of 0, null
        // page pointers and multicall entries, which are plain integers.
        // INVARIANT: Empty.
        Ok(unsafe { batch.assume_init() })
    }

    /// The number of pages in the batch.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a page at the end; gives it back when the batch is full.
    pub(crate) fn push(&mut self, page: BalloonPage) -> core::result::Result<(), BalloonPage> {
        if self.len == BATCH {
            return Err(page);
        }
        // INVARIANT: The page's ownership moves into the batch.
        self.pages[self.len] = page.into_raw();
        self.len += 1;
        Ok(())
    }

    /// Writes the `xen_page_to_gfn()` of each page to `out`, in order; returns how many.
    pub(crate) fn gfns(&self, out: &mut [Frame]) -> usize {
        let n = self.len.min(out.len());
        for (o, page) in out.iter_mut().zip(&self.pages[..n]) {
            // SAFETY: An owned, valid page (type invariant).
            *o = unsafe { bindings::xen_page_to_gfn(*page) } as Frame;
        }
        n
    }

    /// Removes the kernel mappings and the P2M entries of pages about to leave (PV guests
    /// only; the TLBs still need a flush, see [`flush_tlbs`]).
    ///
    /// The mapping changes go to the hypervisor in multicalls. Should it refuse one (C's
    /// `xenmem_reservation_va_mapping_reset()` stops the kernel then), the mappings already
    /// removed are restored and the error is returned: nothing has changed.
    pub(crate) fn unmap_all(&mut self) -> Result {
        #[cfg(CONFIG_XEN_HAVE_PVMMU)]
        if !kernel::xen::auto_translated() {
            // The P2M still holds each page's machine frame, for the restore.
            if let Err((e, done)) = self.set_mappings(self.len, |_, _| bindings::pte_t { pte: 0 }) {
                // SAFETY: Any PFN is accepted (an unknown one gives `INVALID_P2M_ENTRY`).
                let restore =
                    |_, pfn| unsafe { xen_balloon_kernel_pte(bindings::__pfn_to_mfn(pfn)) };
                if self.set_mappings(done, restore).is_err() {
                    kernel::pr_err!("xen: cannot restore the mappings of ballooned pages\n");
                }
                return Err(e);
            }
            self.invalidate_p2m();
        }
        Ok(())
    }

    /// Maps the pages again, page `i` to the machine frame `frames[i]` the hypervisor populated
    /// it with, or that still backs it when the hypervisor refused to take it (PV guests only),
    /// with the P2M entries first, then the mappings in multicalls.
    ///
    /// Should the hypervisor refuse a mapping (C's `xenmem_reservation_va_mapping_update()`
    /// stops the kernel then), the pages are unmapped and their P2M entries invalid again, as
    /// before the call, and the error is returned: the frames must then go back to Xen.
    ///
    /// # Safety
    ///
    /// `frames[i]` must be the frame [`reservation::increase`] populated for page `i` of the
    /// batch, or the frame of page `i` that [`reservation::decrease`] did not take, given to no
    /// other page: the kernel then maps each page to its own memory.
    pub(crate) unsafe fn map_all(&mut self, frames: &[Frame]) -> Result {
        if frames.len() < self.len {
            return Err(EINVAL);
        }
        #[cfg(CONFIG_XEN_HAVE_PVMMU)]
        if !kernel::xen::auto_translated() {
            let mut p2m_ok = true;
            for (&page, &frame) in self.pages[..self.len].iter().zip(frames) {
                // SAFETY: An owned, valid page (type invariant), backed by `frame` since the
                // populate hypercall (safety requirements); nobody else uses the page or its
                // P2M entry.
                p2m_ok &= unsafe {
                    bindings::set_phys_to_machine(bindings::page_to_pfn(page), frame as _)
                };
            }
            // SAFETY: Builds a page-table entry; any frame is accepted.
            let map = |i: usize, _| unsafe { xen_balloon_kernel_pte(frames[i] as _) };
            let mapped = if p2m_ok {
                self.set_mappings(self.len, map)
            } else {
                Err((ENOMEM, 0))
            };
            if let Err((e, done)) = mapped {
                if self
                    .set_mappings(done, |_, _| bindings::pte_t { pte: 0 })
                    .is_err()
                {
                    kernel::pr_err!("xen: cannot undo the mappings of populated pages\n");
                }
                self.invalidate_p2m();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Marks the P2M entries of the pages invalid: no frame behind them any more.
    #[cfg(CONFIG_XEN_HAVE_PVMMU)]
    fn invalidate_p2m(&self) {
        for &page in &self.pages[..self.len] {
            // SAFETY: An owned, valid page (type invariant), unmapped: only its P2M entry
            // changes. Invalidating an entry allocates nothing and cannot fail.
            unsafe {
                bindings::__set_phys_to_machine(bindings::page_to_pfn(page), INVALID_P2M_ENTRY)
            };
        }
    }

    /// Sets the kernel mapping of each low-memory page among the first `n` to `pte(i, pfn)`,
    /// in multicalls of [`MULTICALL_BATCH`] entries. On failure, returns the error and how many
    /// pages had been handed to the hypervisor by then (a prefix to undo).
    #[cfg(CONFIG_XEN_HAVE_PVMMU)]
    fn set_mappings(
        &mut self,
        n: usize,
        pte: impl Fn(usize, c_ulong) -> bindings::pte_t,
    ) -> core::result::Result<(), (Error, usize)> {
        let mut queued = 0;
        for i in 0..n {
            let page = self.pages[i];
            // SAFETY: An owned, valid page (type invariant).
            if !unsafe { page_is_highmem(page) } {
                // SAFETY: A valid low-memory page: it has a kernel address.
                let va = unsafe { bindings::lowmem_page_address(page) } as c_ulong;
                // SAFETY: As above.
                let pfn = unsafe { bindings::page_to_pfn(page) };
                // SAFETY: `queued < MULTICALL_BATCH`: a valid entry of ours. No TLB flush (0):
                // the caller flushes once for the whole batch, as C does.
                unsafe {
                    bindings::MULTI_update_va_mapping(&mut self.mc[queued], va, pte(i, pfn), 0)
                };
                queued += 1;
            }
            if queued == MULTICALL_BATCH || (i + 1 == n && queued > 0) {
                self.multicall(queued).map_err(|e| (e, i + 1))?;
                queued = 0;
            }
        }
        Ok(())
    }

    /// Issues the first `n` multicall entries and checks each result.
    #[cfg(CONFIG_XEN_HAVE_PVMMU)]
    fn multicall(&mut self, n: usize) -> Result {
        // SAFETY: The first `n` entries are filled; the hypervisor reads them and writes their
        // results. `n <= MULTICALL_BATCH` fits the argument.
        let ret = unsafe { bindings::HYPERVISOR_multicall(self.mc.as_mut_ptr().cast(), n as u32) };
        to_result(ret)?;
        match self.mc[..n].iter().find(|e| e.result != 0) {
            None => Ok(()),
            Some(e) if (-4095..0).contains(&e.result) => Err(Error::from_errno(e.result as _)),
            Some(_) => Err(EIO),
        }
    }

    /// Hands the first `n` pages (all, if fewer) to `f` in order; the others move to the front.
    pub(crate) fn drain_front(&mut self, n: usize, mut f: impl FnMut(BalloonPage)) {
        let n = n.min(self.len);
        for i in 0..n {
            // SAFETY: An owned page (type invariant); it leaves the batch below, before the
            // batch is used again, and is handed out once.
            if let Some(page) = unsafe { BalloonPage::from_raw(self.pages[i]) } {
                f(page);
            }
        }
        self.pages.copy_within(n..self.len, 0);
        // INVARIANT: `pages[..len - n]` are the pages not handed out, still owned.
        self.len -= n;
    }

    /// Empties the batch, handing each page to `f` in order.
    pub(crate) fn drain(&mut self, mut f: impl FnMut(BalloonPage)) {
        let n = core::mem::take(&mut self.len);
        for page in &self.pages[..n] {
            // SAFETY: An owned page (type invariant); the length no longer includes it.
            if let Some(page) = unsafe { BalloonPage::from_raw(*page) } {
                f(page);
            }
        }
    }
}

impl Drop for PageBatch {
    fn drop(&mut self) {
        // As for `PageList`: pages cannot go anywhere safe from here (leaking is safe).
        self.len = 0;
    }
}

/// Drops unused kmaps; before frames leave the guest and before their P2M entries change
/// (`kmap_flush_unused()` reads PTEs).
pub(crate) fn flush_kmaps() {
    // SAFETY: No preconditions.
    unsafe { bindings::kmap_flush_unused() };
}

/// Flushes the TLBs of all CPUs, once the mappings of frames that leave the guest are gone.
pub(crate) fn flush_tlbs() {
    // SAFETY: No preconditions.
    unsafe { xen_balloon_flush_tlb_all() };
}

/// Whether `page` is a high-memory page.
///
/// # Safety
///
/// `page` must be a valid page.
unsafe fn page_is_highmem(page: *mut bindings::page) -> bool {
    #[cfg(CONFIG_HIGHMEM)]
    // SAFETY: The caller guarantees a valid page.
    return unsafe { bindings::folio_test_highmem(bindings::page_folio(page)) };
    #[cfg(not(CONFIG_HIGHMEM))]
    {
        let _ = page;
        false
    }
}

/// The page whose `lru` field `lru` is (C's `list_entry(lru, struct page, lru)`).
fn page_from_lru(lru: *mut bindings::list_head) -> *mut bindings::page {
    lru.cast::<u8>()
        .wrapping_sub(bindings::PAGE_LRU_OFFSET)
        .cast()
}

/// An ordered list of [`BalloonPage`]s, linked through the pages themselves.
///
/// # Invariants
///
/// `head` and `tail` are null together, or point to the `lru` fields of the first and last of
/// a chain of owned pages linked by `next`/`prev` (null at the ends), owned by this list.
pub(crate) struct PageList {
    head: *mut bindings::list_head,
    tail: *mut bindings::list_head,
}

// SAFETY: The list owns its pages, which can move between threads.
unsafe impl Send for PageList {}

impl PageList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
        }
    }

    /// Whether the list is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Adds a page at the front.
    pub(crate) fn push_front(&mut self, page: BalloonPage) {
        let lru = page.lru();
        // SAFETY: `lru` belongs to a page we own; `head` is null or a page of this list.
        unsafe {
            (*lru).prev = ptr::null_mut();
            (*lru).next = self.head;
            if self.head.is_null() {
                self.tail = lru;
            } else {
                (*self.head).prev = lru;
            }
        }
        self.head = lru;
        let _ = page.into_raw();
    }

    /// Adds a page at the back.
    pub(crate) fn push_back(&mut self, page: BalloonPage) {
        let lru = page.lru();
        // SAFETY: As in `push_front`.
        unsafe {
            (*lru).next = ptr::null_mut();
            (*lru).prev = self.tail;
            if self.tail.is_null() {
                self.head = lru;
            } else {
                (*self.tail).next = lru;
            }
        }
        self.tail = lru;
        let _ = page.into_raw();
    }

    /// Removes the first page.
    pub(crate) fn pop_front(&mut self) -> Option<BalloonPage> {
        if self.head.is_null() {
            return None;
        }
        let lru = self.head;
        // SAFETY: `lru` is the first page of the list (type invariant).
        unsafe {
            self.head = (*lru).next;
            if self.head.is_null() {
                self.tail = ptr::null_mut();
            } else {
                (*self.head).prev = ptr::null_mut();
            }
        }
        // `lru` is the `lru` field of a page the list owned; ownership moves out.
        let page = page_from_lru(lru);
        // SAFETY: An owned page (type invariant), no longer in the list.
        unsafe { BalloonPage::from_raw(page) }
    }

    /// Whether the first page is a high-memory page; `None` if the list is empty.
    pub(crate) fn front_is_highmem(&self) -> Option<bool> {
        if self.head.is_null() {
            return None;
        }
        // SAFETY: `head` is the `lru` of a valid page of the list.
        Some(unsafe { page_is_highmem(page_from_lru(self.head)) })
    }

    /// Fills `out` with the `page_to_xen_pfn()` of the first pages; returns how many.
    pub(crate) fn front_xen_pfns(&self, out: &mut [Frame]) -> usize {
        let mut lru = self.head;
        let mut n = 0;
        while n < out.len() && !lru.is_null() {
            // SAFETY: `lru` is the `lru` of a valid page of the list.
            unsafe {
                out[n] = bindings::page_to_xen_pfn(page_from_lru(lru));
                lru = (*lru).next;
            }
            n += 1;
        }
        n
    }
}

impl Default for PageList {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PageList {
    fn drop(&mut self) {
        // Pages cannot go anywhere safe from here: keep them out of use (leaking is safe).
        while let Some(page) = self.pop_front() {
            let _ = page.into_raw();
        }
    }
}

/// Hypercalls that move frames between the guest and the hypervisor.
///
/// They change what memory is behind a frame, so they are `unsafe`: giving away a frame the
/// kernel still uses, or populating one it already has, breaks whatever lives there.
pub(crate) mod reservation {
    use super::*;

    /// Asks Xen to populate the given frames (`XENMEM_populate_physmap`); returns how many of
    /// the first frames it populated. On PV guests the frames are updated to the machine frames.
    ///
    /// # Safety
    ///
    /// Each frame must be the `page_to_xen_pfn()` of a page the caller owns that has no
    /// memory behind it, and no frame may appear twice.
    pub(crate) unsafe fn increase(frames: &mut [Frame]) -> Result<usize> {
        // SAFETY: `frames` is valid for `frames.len()` entries, read and written by the
        // hypercall; the frames have no memory behind them (safety requirements).
        let ret = unsafe { xen_balloon_increase(frames.as_mut_ptr(), frames.len() as c_ulong) };
        done(ret, frames.len())
    }

    /// The count a reservation hypercall returned for `n` extents: how many it did, or its
    /// error. A count above `n` would break the hypervisor's contract: `EIO`.
    fn done(ret: c_long, n: usize) -> Result<usize> {
        match usize::try_from(ret) {
            Ok(done) if done <= n => Ok(done),
            Ok(_) => Err(EIO),
            Err(_) if (-4095..0).contains(&ret) => Err(Error::from_errno(ret as c_int)),
            Err(_) => Err(EIO),
        }
    }

    /// Hands blocks of [`BLOCK_PAGES`] frames back to Xen, each given by its first frame
    /// ([`BalloonBlock::gfn`]); returns how many of the first blocks it took whole. When it
    /// stops early, it may have taken the first pages of the next block: Xen gives up at the
    /// first page it refuses, and counts whole blocks only.
    ///
    /// # Safety
    ///
    /// Each frame must start a block of [`BLOCK_PAGES`] frames whose pages the caller owns and
    /// nobody (the caller included) touches until they are populated again.
    pub(crate) unsafe fn decrease_blocks(frames: &mut [Frame]) -> Result<usize> {
        // SAFETY: `frames` is valid for `frames.len()` entries; the blocks are the caller's to
        // give away (safety requirements).
        let ret = unsafe {
            xen_balloon_decrease_blocks(frames.as_mut_ptr(), frames.len() as c_ulong, BLOCK_ORDER)
        };
        done(ret, frames.len())
    }

    /// Hands the given frames back to Xen (`XENMEM_decrease_reservation`); returns how many of
    /// the first frames it took.
    ///
    /// # Safety
    ///
    /// Each frame must be the `xen_page_to_gfn()` of a page the caller owns, unmapped (see
    /// [`PageBatch::unmap_all`]), that nobody touches until it is populated again.
    pub(crate) unsafe fn decrease(frames: &mut [Frame]) -> Result<usize> {
        // SAFETY: By the safety requirements.
        unsafe { decrease_inner(frames, true) }
    }

    /// [`decrease`], never subject to `fail_xen_reservation`: for the pages of a block Xen
    /// stopped in, whose fate a failure could not tell.
    ///
    /// # Safety
    ///
    /// As for [`decrease`].
    pub(crate) unsafe fn decrease_settling(frames: &mut [Frame]) -> Result<usize> {
        // SAFETY: By the safety requirements.
        unsafe { decrease_inner(frames, false) }
    }

    /// # Safety
    ///
    /// As for [`decrease`].
    unsafe fn decrease_inner(frames: &mut [Frame], inject: bool) -> Result<usize> {
        // SAFETY: `frames` is valid for `frames.len()` entries; the pages are the caller's to
        // give away (safety requirements).
        let ret =
            unsafe { xen_balloon_decrease(frames.as_mut_ptr(), frames.len() as c_ulong, inject) };
        done(ret, frames.len())
    }
}

static EXTRA_TAKEN: AtomicBool = AtomicBool::new(false);

/// Calls `f` once for every page of the memory regions Xen left unpopulated at boot (the
/// extra memory, up to `max_pfn`), handing each page to the balloon, and returns the number of
/// pages per region. Works once; later calls find nothing.
///
/// # Safety
///
/// The table of regions is boot-time data, and this function lives in `.init.text`: it may only
/// be called before the kernel frees its init memory (from an initcall).
#[link_section = ".init.text"]
pub(crate) unsafe fn take_extra_memory(
    mut f: impl FnMut(BalloonPage),
    mut region: impl FnMut(u64),
) {
    if EXTRA_TAKEN.swap(true, Ordering::AcqRel) {
        return;
    }
    let max_pfn = kernel::xen::max_pfn();
    let mut take = |r: bindings::xen_memory_region| {
        let (start, n) = (r.start_pfn as u64, r.n_pfns as u64);
        if n == 0 {
            return;
        }
        let end = max_pfn.min(start + n);
        for pfn in start..end {
            // SAFETY: Every region of both tables is RAM with `struct page`s up to `max_pfn`
            // that Xen does not back and that stayed reserved in memblock, never given to the
            // allocator; taken once (guarded above), so the balloon owns them.
            f(unsafe { BalloonPage::from_pfn(pfn) });
        }
        region(end.saturating_sub(start));
    };
    for i in 0..bindings::XEN_EXTRA_MEM_MAX_REGIONS as usize {
        // SAFETY: The table is written only during early boot, and init memory is still there
        // (safety requirements).
        take(unsafe { (*ptr::addr_of!(bindings::xen_extra_mem))[i] });
    }
    // RAM above the populate-on-demand target that the guest gave back to Xen at boot
    // (`arch/x86/xen/enlighten_hvm.c`): like the extra memory, reserved and never touched.
    #[cfg(CONFIG_XEN_POD_RELEASE)]
    for i in 0..bindings::XEN_POD_RELEASED_MAX_REGIONS as usize {
        // SAFETY: As above: boot-time data, init memory still there (safety requirements).
        take(unsafe { (*ptr::addr_of!(bindings::xen_pod_released))[i] });
    }
}

/// Pages an HVM or PVH guest gave back to Xen at boot because Xen backed less than its memory
/// map (`xen_pod_released_pages`), or `0`.
pub(crate) fn released_early_pages() -> u64 {
    #[cfg(CONFIG_XEN_POD_RELEASE)]
    // SAFETY: Written only during early boot, before any initcall runs.
    let pages = unsafe { ptr::read(ptr::addr_of!(bindings::xen_pod_released_pages)) } as u64;
    #[cfg(not(CONFIG_XEN_POD_RELEASE))]
    let pages = 0;
    pages
}

/// Restores `max_mem_size` from the value Xen's early setup saved (`xen_saved_max_mem_size`),
/// once the balloon takes over adding memory; `0` means nothing was saved.
#[cfg(CONFIG_MEMORY_HOTPLUG)]
pub(crate) fn restore_max_mem_size(saved: u64) {
    if saved != 0 {
        // SAFETY: A plain word the memory hotplug core reads.
        unsafe { bindings::max_mem_size = saved };
    }
}

/// Free memory the allocator could hand out without reclaiming much (`si_mem_available()`).
pub(crate) fn available_pages() -> u64 {
    // SAFETY: No preconditions.
    let n = unsafe { bindings::si_mem_available() };
    u64::try_from(n).unwrap_or(0)
}

/// Pages the allocator keeps in reserve (`totalreserve_pages`).
pub(crate) fn reserve_pages() -> u64 {
    // SAFETY: A plain word the allocator updates.
    unsafe { ptr::read_volatile(ptr::addr_of!(bindings::totalreserve_pages)) as u64 }
}

/// Pages Linux gave back to Xen at boot (PV), or `0`.
pub(crate) fn released_pages() -> u64 {
    // SAFETY: Written only during early boot.
    unsafe { bindings::xen_released_pages as u64 }
}

/// Pages of the memory map Xen never populated (HVM/PVH), or `0`.
pub(crate) fn unpopulated_pages() -> u64 {
    #[cfg(CONFIG_XEN_UNPOPULATED_ALLOC)]
    // SAFETY: Written only during early boot.
    let pages = unsafe { bindings::xen_unpopulated_pages };
    // Without the allocator, `<xen/xen.h>` makes it the constant `0`.
    #[cfg(not(CONFIG_XEN_UNPOPULATED_ALLOC))]
    let pages = bindings::xen_unpopulated_pages;
    pages as u64
}

/// The number of pages in the start info of a PV guest, `0` otherwise.
pub(crate) fn start_info_pages() -> u64 {
    if !kernel::xen::pv_domain() {
        return 0;
    }
    // SAFETY: PV guests have a start info, set up during early boot.
    unsafe { (*bindings::xen_start_info).nr_pages as u64 }
}
