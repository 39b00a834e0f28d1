// SPDX-License-Identifier: GPL-2.0

//! Xen guest support.
//!
//! C headers: [`include/xen/xen.h`](srctree/include/xen/xen.h),
//! [`include/xen/features.h`](srctree/include/xen/features.h),
//! [`include/xen/page.h`](srctree/include/xen/page.h),
//! [`include/xen/mem-reservation.h`](srctree/include/xen/mem-reservation.h)

use crate::bindings;

#[cfg(CONFIG_XEN_GRANT_TABLE_RUST)]
pub mod grant_table;
pub mod share;
pub mod xenbus;

/// Whether the kernel runs as a Xen guest of any kind.
pub fn domain() -> bool {
    // SAFETY: Reads a variable set during early boot.
    unsafe { bindings::xen_domain() }
}

/// Whether the kernel runs as a paravirtualised (PV) guest.
pub fn pv_domain() -> bool {
    // SAFETY: Reads a variable set during early boot.
    unsafe { bindings::xen_pv_domain() }
}

/// Whether the kernel runs as an HVM guest (PVH guests are HVM guests too).
pub fn hvm_domain() -> bool {
    // SAFETY: Reads a variable set during early boot.
    unsafe { bindings::xen_hvm_domain() }
}

/// Whether the kernel runs as a PVH guest.
pub fn pvh_domain() -> bool {
    // SAFETY: Reads a variable set during early boot.
    unsafe { bindings::xen_pvh_domain() }
}

/// Whether the kernel runs as the initial domain (dom0).
pub fn initial_domain() -> bool {
    // SAFETY: Reads variables set during early boot.
    unsafe { bindings::xen_initial_domain() }
}

/// Whether the hypervisor translates guest frames (`XENFEAT_auto_translated_physmap`).
pub fn auto_translated() -> bool {
    // SAFETY: Reads the feature bits fetched during early boot; the flag is within them.
    unsafe { bindings::xen_feature(bindings::XENFEAT_auto_translated_physmap as _) != 0 }
}

/// The domain's current reservation in pages, as the hypervisor reports it (`None` when the
/// kernel does not run on Xen).
pub fn current_reservation() -> Option<u64> {
    if !domain() {
        return None;
    }
    let mut domid = bindings::DOMID_SELF as bindings::domid_t;
    // SAFETY: The hypercall only reads the domain id, a local.
    let ret = unsafe {
        bindings::HYPERVISOR_memory_op(
            bindings::XENMEM_current_reservation,
            core::ptr::addr_of_mut!(domid).cast(),
        )
    };
    u64::try_from(ret).ok().filter(|&n| n > 0)
}

/// The highest page frame number of boot memory (and of memory hot-added since).
pub fn max_pfn() -> u64 {
    // SAFETY: `max_pfn` is an aligned word that lives for the whole run; memory hotplug updates
    // it (`update_end_of_memory_vars()`) while other CPUs run, so it is read once, as C's
    // `READ_ONCE()` does, which does not tear.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::max_pfn)) as u64 }
}

/// The number of page frames of RAM the kernel knows about.
pub fn num_physpages() -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::get_num_physpages() as u64 }
}

/// The `xen_scrub_pages` switch, accessed the way its Rust definition does (`BoolParam`).
fn scrub_switch() -> &'static core::sync::atomic::AtomicBool {
    // SAFETY: `xen_scrub_pages` is a C `bool` (0 or 1, the bit validity and alignment of
    // `AtomicBool`) that lives for the whole run. Rust code only ever accesses it atomically
    // (here, and as the `AtomicBool` of `drivers/xen/rust/scrub.rs`); C code reads and writes it
    // with single byte accesses (the parameter parser, `DEVICE_BOOL_ATTR`), which cannot tear.
    unsafe {
        core::sync::atomic::AtomicBool::from_ptr(core::ptr::addr_of_mut!(bindings::xen_scrub_pages))
    }
}

/// Whether pages are cleared before they go back to Xen (the `xen_scrub_pages` switch).
pub fn scrub_enabled() -> bool {
    scrub_switch().load(core::sync::atomic::Ordering::Relaxed)
}

/// Turns the `xen_scrub_pages` switch on or off.
pub fn set_scrub_enabled(on: bool) {
    scrub_switch().store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Pages cleared by the scrub since boot (`xenmem_scrubbed_pages`).
#[cfg(CONFIG_XEN_SCRUB_PAGES_RUST)]
pub fn scrubbed_pages() -> u64 {
    // SAFETY: A word the scrub updates atomically; a volatile read does not tear.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::xenmem_scrubbed_pages)) as u64 }
}

/// Counts `n` pages a driver cleared itself (after reading [`scrub_enabled`]) as scrubbed, in
/// one update for a whole batch.
#[cfg(CONFIG_XEN_SCRUB_PAGES_RUST)]
pub fn count_scrubbed(n: usize) {
    // SAFETY: `xenmem_scrubbed_pages` is an aligned word that is only ever updated atomically
    // (an `AtomicUsize` in `drivers/xen/rust/scrub.rs`) and lives for the whole run.
    let count = unsafe {
        core::sync::atomic::AtomicUsize::from_ptr(
            core::ptr::addr_of_mut!(bindings::xenmem_scrubbed_pages).cast(),
        )
    };
    count.fetch_add(n, core::sync::atomic::Ordering::Relaxed);
}

/// Stops the kernel with `msg` (`panic()`).
pub fn panic(msg: &crate::str::CStr) -> ! {
    // SAFETY: A plain `%s` format with a NUL-terminated string.
    unsafe { bindings::panic(crate::c_str!("%s").as_char_ptr(), msg.as_char_ptr()) }
}
