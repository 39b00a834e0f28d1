// SPDX-License-Identifier: GPL-2.0

//! Pages this domain shares with another one, and event channels it signals.
//!
//! C headers: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h),
//! [`include/xen/events.h`](srctree/include/xen/events.h)
//!
//! [`GrantedPage`] is a zeroed page granted to another domain. Dropping it ends the grant; when
//! the other domain still maps the page, the grant table defers the end and frees the page
//! only once the mapping is gone, so the page is never reused while another domain sees it.
//! [`EventChannel`] holds a reference on an event channel bound by user space (`evtchn_get()`)
//! and can signal the other end. Both work with the C and the Rust grant table.

use crate::{
    alloc::{flags, AllocError},
    bindings,
    error::{code::*, Error, Result},
    page::{Page, PAGE_SIZE},
};
use core::mem::ManuallyDrop;

/// A Xen domain identifier.
pub type DomId = u16;

/// A zeroed page of this domain, granted to another domain.
///
/// # Invariants
///
/// `gref` is a grant reference of this domain's grant table that gives `domid` access to
/// `page`, and is ended (with the page handed to the grant table) only in `drop`.
pub struct GrantedPage {
    page: ManuallyDrop<Page>,
    gref: u32,
}

impl GrantedPage {
    /// Allocates a zeroed page and grants `domid` access to it, read-only if `readonly`.
    ///
    /// Fails with `ENODEV` when the kernel does not run on Xen (there is no grant table).
    pub fn new(domid: DomId, readonly: bool) -> Result<Self> {
        if !super::domain() {
            return Err(ENODEV);
        }
        let page =
            Page::alloc_page(flags::GFP_KERNEL | flags::__GFP_ZERO).map_err(|AllocError| ENOMEM)?;
        // SAFETY: `page` is a valid page of this domain.
        let gfn = unsafe { bindings::xen_page_to_gfn(page.as_ptr()) };
        // SAFETY: Grants a frame this domain owns; the call takes a free reference itself.
        let r = unsafe {
            bindings::gnttab_grant_foreign_access(domid, gfn, readonly as core::ffi::c_int)
        };
        if r < 0 {
            // `page` was never granted: dropping it frees it.
            return Err(Error::from_errno(r));
        }
        // INVARIANT: `r` grants `domid` access to `page` (its frame `gfn`).
        Ok(Self {
            page: ManuallyDrop::new(page),
            gref: r as u32,
        })
    }

    /// The grant reference the other domain maps the page with.
    pub fn gref(&self) -> u32 {
        self.gref
    }

    /// The page, for instance to map it into user space.
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// Clears the byte at `offset` of the page (an unmap notification the other side reads).
    pub fn clear_byte(&self, offset: usize) -> Result {
        if offset >= PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: `page` is a valid page; `kmap_local_page()` maps it until `kunmap_local()`.
        let base = unsafe { bindings::kmap_local_page(self.page.as_ptr()) };
        // SAFETY: `offset` is inside the mapped page. The page is memory shared with user space
        // and another domain, which access it concurrently by design; a volatile write of one
        // byte is how such memory is written (as with memory shared with a device), and
        // nothing in this kernel relies on its contents.
        unsafe { core::ptr::write_volatile(base.cast::<u8>().add(offset), 0) };
        // SAFETY: `base` was mapped just above on this CPU.
        unsafe { bindings::kunmap_local(base) };
        Ok(())
    }
}

impl GrantedPage {
    /// Ends the grant of a page user space shared (`/dev/xen/gntalloc`): as dropping it does,
    /// but the other domain routinely still maps such a page, so with the Rust grant table the
    /// deferral is counted apart and never reported. Returns whether the other domain still
    /// mapped the page, so that the grant table keeps it until the mapping goes.
    pub fn end_for_user(self) -> bool {
        #[cfg_attr(CONFIG_XEN_GRANT_TABLE_RUST, allow(unused_mut))]
        let mut this = ManuallyDrop::new(self);
        let page = this.page.as_ptr();
        #[cfg(CONFIG_XEN_GRANT_TABLE_RUST)]
        {
            // SAFETY: By the type invariant `gref` grants access to `page` and has not been
            // ended; `this` is never dropped, so the grant is ended only here, and the grant
            // table takes over our reference on the page.
            unsafe { bindings::gnttab_end_foreign_access_user(this.gref, page) != 0 }
        }
        #[cfg(not(CONFIG_XEN_GRANT_TABLE_RUST))]
        {
            // SAFETY: As above; `gnttab_try_end_foreign_access()` frees the reference only if
            // it ended access, and then the page is ours to drop.
            if unsafe { bindings::gnttab_try_end_foreign_access(this.gref) } != 0 {
                // SAFETY: Access has ended and the reference is free again, so the page is ours;
                // `this` is never dropped and its page not used again.
                unsafe { ManuallyDrop::drop(&mut this.page) };
                false
            } else {
                // SAFETY: The grant is still in place; this ends it later, taking over our
                // reference on the page, as in `drop`.
                unsafe { bindings::gnttab_end_foreign_access(this.gref, page) };
                true
            }
        }
    }
}

/// How many pages [`GrantedPage::new_many`] and [`EndBatch`] hand the grant table at a time.
const BATCH: usize = 16;

impl GrantedPage {
    /// Makes `n` pages as [`GrantedPage::new`] does and gives each to `f`, in order. With the
    /// Rust grant table the references of up to 16 pages are taken at once. On an error the
    /// pages already given to `f` stay with it.
    pub fn new_many(
        domid: DomId,
        readonly: bool,
        n: usize,
        mut f: impl FnMut(GrantedPage),
    ) -> Result {
        if !super::domain() {
            return Err(ENODEV);
        }
        #[cfg(CONFIG_XEN_GRANT_TABLE_RUST)]
        if n > 1 {
            let mut left = n;
            while left > 0 {
                let k = left.min(BATCH);
                let mut pages: [Option<Page>; BATCH] = [const { None }; BATCH];
                let mut frames: [crate::ffi::c_ulong; BATCH] = [0; BATCH];
                let gfp = flags::GFP_KERNEL | flags::__GFP_ZERO;
                // The pages come from the allocator together, or one by one where it stopped.
                Page::alloc_bulk(gfp, &mut pages[..k]);
                for (slot, frame) in pages.iter_mut().zip(frames.iter_mut()).take(k) {
                    let page = match slot {
                        Some(page) => page,
                        None => slot.insert(Page::alloc_page(gfp).map_err(|AllocError| ENOMEM)?),
                    };
                    // SAFETY: `page` is a valid page of this domain.
                    *frame = unsafe { bindings::xen_page_to_gfn(page.as_ptr()) };
                }
                let mut refs: [bindings::grant_ref_t; BATCH] = [0; BATCH];
                // SAFETY: `frames` and `refs` hold `k` entries each; the frames are pages this
                // domain owns, lent until the grants end (they end when each `GrantedPage`
                // drops). The call takes free references itself.
                let r = unsafe {
                    bindings::gnttab_grant_foreign_access_batch(
                        domid,
                        frames.as_ptr(),
                        readonly as core::ffi::c_int,
                        refs.as_mut_ptr(),
                        k as core::ffi::c_uint,
                    )
                };
                if r < 0 {
                    // None of them was granted: dropping `pages` frees them.
                    return Err(Error::from_errno(r));
                }
                for (slot, &gref) in pages.iter_mut().zip(refs.iter()).take(k) {
                    if let Some(page) = slot.take() {
                        // INVARIANT: `gref` grants `domid` access to `page`.
                        f(Self {
                            page: ManuallyDrop::new(page),
                            gref,
                        });
                    }
                }
                left -= k;
            }
            return Ok(());
        }
        for _ in 0..n {
            f(Self::new(domid, readonly)?);
        }
        Ok(())
    }
}

/// Grants of pages user space shared, ended together: [`GrantedPage::end_for_user`] for each
/// page pushed, with the Rust grant table 16 at a time under one lock. Dropping the batch ends
/// what is left in it.
///
/// # Invariants
///
/// For `i < n`, `refs[i]` grants access to `pages[i]` and has not been ended, and the batch
/// owns our reference on `pages[i]`: the grant and the page of a [`GrantedPage`] taken apart.
pub struct EndBatch {
    refs: [bindings::grant_ref_t; BATCH],
    pages: [*mut bindings::page; BATCH],
    n: usize,
    deferred: u32,
}

impl EndBatch {
    /// An empty batch.
    pub const fn new() -> Self {
        Self {
            refs: [0; BATCH],
            pages: [core::ptr::null_mut(); BATCH],
            n: 0,
            deferred: 0,
        }
    }

    /// Adds `page`, whose grant ends at the latest when the batch is finished or dropped.
    pub fn push(&mut self, page: GrantedPage) {
        if self.n >= BATCH {
            self.flush();
        }
        let page = ManuallyDrop::new(page);
        if let (Some(r), Some(p)) = (self.refs.get_mut(self.n), self.pages.get_mut(self.n)) {
            *r = page.gref;
            *p = page.page.as_ptr();
            // INVARIANT: The pair comes from a `GrantedPage`, never dropped (`ManuallyDrop`),
            // so its grant is ended and its page given up only through the batch.
            self.n += 1;
        }
    }

    /// Ends every grant pushed so far; returns how many pages the other domain still mapped
    /// since the batch was made (their ends are deferred until it lets go).
    pub fn finish(&mut self) -> u32 {
        self.flush();
        self.deferred
    }

    fn flush(&mut self) {
        let n = core::mem::take(&mut self.n);
        if n == 0 {
            return;
        }
        #[cfg(CONFIG_XEN_GRANT_TABLE_RUST)]
        {
            // SAFETY: The first `n` pairs are grants not yet ended with the pages they grant,
            // whose references the batch owns (type invariant); `n` is now 0, so each is handed
            // to the grant table once, here, which takes the references over.
            let deferred = unsafe {
                if n == 1 {
                    (bindings::gnttab_end_foreign_access_user(self.refs[0], self.pages[0]) != 0)
                        as u32
                } else {
                    bindings::gnttab_end_foreign_access_user_batch(
                        self.refs.as_ptr(),
                        self.pages.as_ptr(),
                        n as core::ffi::c_uint,
                    )
                }
            };
            self.deferred += deferred;
        }
        #[cfg(not(CONFIG_XEN_GRANT_TABLE_RUST))]
        for (&gref, &page) in self.refs.iter().zip(self.pages.iter()).take(n) {
            // SAFETY: As above: the pair is handed on once, here.
            let ended = unsafe { bindings::gnttab_try_end_foreign_access(gref) } != 0;
            if ended {
                // SAFETY: Access has ended and the reference is free again, so the page, whose
                // reference the batch owns, is ours to free.
                unsafe { bindings::__free_pages(page, 0) };
            } else {
                // SAFETY: The grant is still in place; this ends it later, taking over our
                // reference on the page.
                unsafe { bindings::gnttab_end_foreign_access(gref, page) };
                self.deferred += 1;
            }
        }
    }
}

impl Default for EndBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for EndBatch {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Drop for GrantedPage {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `gref` grants access to `page` and has not been ended.
        // `gnttab_end_foreign_access()` ends it and frees the page, at once when the other
        // domain does not map it, else once it has unmapped it; either way it takes over our
        // reference on the page, which is why the page is not dropped here.
        unsafe { bindings::gnttab_end_foreign_access(self.gref, self.page.as_ptr()) };
    }
}

/// A reference on an event channel port of this domain (`evtchn_get()`/`evtchn_put()`).
///
/// # Invariants
///
/// `port` is an event channel port this object holds a reference on.
pub struct EventChannel {
    port: u32,
}

impl EventChannel {
    /// Takes a reference on `port`, which user space bound (through `/dev/xen/evtchn`).
    ///
    /// Fails with `ENODEV` when the kernel does not run on Xen (there are no event channels).
    pub fn get(port: u32) -> Result<Self> {
        if !super::domain() {
            return Err(ENODEV);
        }
        // SAFETY: On Xen the event channel operations are set up before any driver runs, and
        // `evtchn_get()` checks the port itself.
        let rc = unsafe { bindings::evtchn_get(port) };
        if rc != 0 {
            return Err(Error::from_errno(rc));
        }
        // INVARIANT: the reference was taken just above.
        Ok(Self { port })
    }

    /// The port number.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Signals the other end of the channel.
    pub fn notify(&self) {
        // SAFETY: By the type invariant the port is bound and cannot be closed under us.
        unsafe { bindings::notify_remote_via_evtchn(self.port) }
    }
}

impl Drop for EventChannel {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this object holds a reference on `port`.
        unsafe { bindings::evtchn_put(self.port) }
    }
}
