// SPDX-License-Identifier: GPL-2.0

//! Memory hotplug for the balloon: new memory sections whose pages start ballooned out.
//!
//! C header: [`include/linux/memory_hotplug.h`](srctree/include/linux/memory_hotplug.h)

use crate::pages::BalloonPage;
use core::{
    cell::UnsafeCell,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering},
};
use kernel::{
    bindings,
    error::{code::*, to_result, Error, Result},
    ffi::{c_int, c_ulong, c_void},
};

extern "C" {
    // Defined in `balloon_exports.c`, built in and not exported (see `balloon_rust.h`).
    fn xen_balloon_sysctl_zero() -> *mut c_void;
    fn xen_balloon_sysctl_one() -> *mut c_void;
}

/// Pages per memory section, the unit of hotplug.
pub(crate) fn pages_per_section() -> u64 {
    bindings::PAGES_PER_SECTION as u64
}

/// A range of physical addresses reserved as "System RAM" for hotplug.
pub(crate) struct Resource(NonNull<bindings::resource>);

impl Resource {
    /// Reserves `size` bytes of free physical address space, section aligned.
    pub(crate) fn allocate(size: u64) -> Option<Self> {
        // SAFETY: Allocates a zeroed `struct resource`.
        let res = NonNull::new(unsafe {
            bindings::krealloc(
                ptr::null(),
                core::mem::size_of::<bindings::resource>(),
                bindings::GFP_KERNEL | bindings::__GFP_ZERO,
            )
        })?
        .cast::<bindings::resource>();
        // SAFETY: `res` is a valid, zeroed resource we own.
        let ret = unsafe {
            (*res.as_ptr()).name = kernel::c_str!("System RAM").as_char_ptr();
            (*res.as_ptr()).flags =
                (bindings::IORESOURCE_SYSTEM_RAM | bindings::IORESOURCE_BUSY) as _;
            bindings::allocate_resource(
                ptr::addr_of_mut!(bindings::iomem_resource),
                res.as_ptr(),
                size as _,
                0,
                u64::MAX as _,
                (pages_per_section() * bindings::PAGE_SIZE as u64) as _,
                None,
                ptr::null_mut(),
            )
        };
        if ret < 0 {
            // SAFETY: Allocated above, never published.
            unsafe { bindings::kfree(res.as_ptr().cast()) };
            return None;
        }
        Some(Self(res))
    }

    /// The first physical address.
    pub(crate) fn start(&self) -> u64 {
        // SAFETY: A valid resource we own.
        unsafe { (*self.0.as_ptr()).start }
    }

    /// Marks the P2M entries of the whole range invalid (PV guests), so that adding the memory
    /// writes non-present page table entries. Returns `false` on failure.
    pub(crate) fn invalidate_p2m(&self) -> bool {
        if kernel::xen::auto_translated() {
            return true;
        }
        // SAFETY: A valid resource we own.
        let (start, end) = unsafe { ((*self.0.as_ptr()).start, (*self.0.as_ptr()).end) };
        let pfn = start >> bindings::PAGE_SHIFT;
        let pages = (end - start + 1) >> bindings::PAGE_SHIFT;
        (0..pages).all(|i| {
            // SAFETY: Only fills the P2M for frames of our own reserved range, which is not
            // memory yet: nothing maps or uses those frames.
            unsafe { bindings::set_phys_to_machine((pfn + i) as _, !0 as _) }
        })
    }

    /// Adds the range as memory (`add_memory_resource()`); the memory core then owns the
    /// resource. Takes the device hotplug lock; the caller must not hold locks that
    /// onlining needs (the online callback runs from here).
    pub(crate) fn add_memory(self) -> core::result::Result<(), (Self, Error)> {
        // SAFETY: Any address is accepted.
        let nid = unsafe { bindings::memory_add_physaddr_to_nid(self.start()) };
        // SAFETY: The resource is valid and ours; the lock protects hotplug.
        let rc = unsafe {
            bindings::lock_device_hotplug();
            let rc = bindings::add_memory_resource(
                nid,
                self.0.as_ptr(),
                bindings::MHP_MERGE_RESOURCE as _,
            );
            bindings::unlock_device_hotplug();
            rc
        };
        if rc != 0 {
            return Err((self, Error::from_errno(rc)));
        }
        core::mem::forget(self);
        Ok(())
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        // SAFETY: Allocated by `allocate` and still ours: release and free it.
        unsafe {
            bindings::release_resource(self.0.as_ptr());
            bindings::kfree(self.0.as_ptr().cast());
        }
    }
}

static ONLINE_PAGE: AtomicUsize = AtomicUsize::new(0);
static ONLINE_NOTIFY: AtomicUsize = AtomicUsize::new(0);

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn online_page_trampoline(page: *mut bindings::page, order: u32) {
    let f = ONLINE_PAGE.load(Ordering::Acquire);
    if f == 0 {
        return;
    }
    // SAFETY: `f` was stored from a `fn(BalloonPage)` by `set_online_page_callback`.
    let f: fn(BalloonPage) = unsafe { core::mem::transmute(f) };
    // SAFETY: `page` is valid.
    let start = unsafe { bindings::page_to_pfn(page) } as u64;
    for i in 0..(1u64 << order) {
        // SAFETY: The memory core hands us pages of newly added memory that it is onlining
        // instead of freeing them to the allocator: they are ours.
        f(unsafe { BalloonPage::from_pfn(start + i) });
    }
}

/// Whether the balloon receives the pages of memory it adds (see [`set_online_page_callback`]):
/// without that, the memory core would hand pages Xen never populated to the allocator, so the
/// balloon adds no memory.
static ONLINE_PAGE_SET: AtomicBool = AtomicBool::new(false);

/// Makes `f` receive every page of memory onlined from now on, instead of the allocator. Fails
/// when another driver (virtio-mem, Hyper-V's balloon) receives them already.
pub(crate) fn set_online_page_callback(f: fn(BalloonPage)) -> Result {
    ONLINE_PAGE.store(f as usize, Ordering::Release);
    // SAFETY: The trampoline has the callback's signature and lives forever.
    to_result(unsafe { bindings::set_online_page_callback(Some(online_page_trampoline)) })?;
    ONLINE_PAGE_SET.store(true, Ordering::Release);
    Ok(())
}

/// Whether the balloon may add memory: its online-page callback is in place.
pub(crate) fn can_add_memory() -> bool {
    ONLINE_PAGE_SET.load(Ordering::Acquire)
}

/// # Safety
///
/// Called by C only, with the arguments its callback type promises.
unsafe extern "C" fn memory_notifier_trampoline(
    _nb: *mut bindings::notifier_block,
    val: c_ulong,
    _v: *mut c_void,
) -> c_int {
    let f = ONLINE_NOTIFY.load(Ordering::Acquire);
    if val == bindings::MEM_ONLINE as c_ulong && f != 0 {
        // SAFETY: Stored from a `fn()` by `on_memory_online`.
        let f: fn() = unsafe { core::mem::transmute(f) };
        f();
    }
    bindings::NOTIFY_OK as c_int
}

struct Notifier(UnsafeCell<bindings::notifier_block>);
// SAFETY: Only the notifier chain writes it, under its lock.
unsafe impl Sync for Notifier {}
static MEMORY_NB: Notifier = Notifier(UnsafeCell::new(bindings::notifier_block {
    notifier_call: Some(memory_notifier_trampoline),
    next: ptr::null_mut(),
    priority: 0,
}));

/// Calls `f` whenever a memory block goes online; later calls only replace `f`.
pub(crate) fn on_memory_online(f: fn()) -> Result {
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    ONLINE_NOTIFY.store(f as usize, Ordering::Release);
    if REGISTERED.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    // SAFETY: The notifier block is `'static` and registered only once (guarded above).
    to_result(unsafe { bindings::register_memory_notifier(MEMORY_NB.0.get()) })
}

/// The `xen/balloon/hotplug_unpopulated` sysctl (0 or 1).
pub(crate) static HOTPLUG_UNPOPULATED: AtomicI32 = AtomicI32::new(0);

/// Registers `/proc/sys/xen/balloon/hotplug_unpopulated`.
pub(crate) fn register_sysctl() -> Result {
    // SAFETY: All-zeroes is a valid `ctl_table`.
    let mut table: bindings::ctl_table = unsafe { core::mem::zeroed() };
    table.procname = kernel::c_str!("hotplug_unpopulated").as_char_ptr();
    table.data = HOTPLUG_UNPOPULATED.as_ptr().cast();
    table.maxlen = core::mem::size_of::<i32>() as _;
    table.mode = 0o644;
    table.proc_handler = Some(bindings::proc_dointvec_minmax);
    // SAFETY: Pointers to the kernel's constant 0 and 1.
    unsafe {
        table.extra1 = xen_balloon_sysctl_zero();
        table.extra2 = xen_balloon_sysctl_one();
    }
    let table = kernel::alloc::KBox::new(table, kernel::alloc::flags::GFP_KERNEL)?;
    let table = kernel::alloc::KBox::leak(table);
    // SAFETY: The table is leaked, so it lives forever; one entry.
    let header = unsafe {
        bindings::register_sysctl_sz(kernel::c_str!("xen/balloon").as_char_ptr(), table, 1)
    };
    if header.is_null() {
        return Err(ENOMEM);
    }
    Ok(())
}
