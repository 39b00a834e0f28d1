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
    pub fn new(domid: DomId, readonly: bool) -> Result<Self> {
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
    pub fn get(port: u32) -> Result<Self> {
        // SAFETY: `evtchn_get()` checks the port itself.
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
