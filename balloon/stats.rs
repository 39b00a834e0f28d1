// SPDX-License-Identifier: GPL-2.0

//! `balloon_stats`, the balloon's state that C code reads.
//!
//! C header: [`include/xen/balloon.h`](srctree/include/xen/balloon.h)

use core::{cell::UnsafeCell, ptr};
use kernel::{bindings, ffi::c_ulong};

/// The `struct balloon_stats` C code reads (`include/xen/balloon.h`), for a `static` named
/// `balloon_stats`.
///
/// Fields are machine words accessed with volatile loads and stores (C's plain accesses to the
/// same words do not tear on the architectures Xen supports); updates that must be consistent
/// with each other are serialised by the driver's lock.
#[repr(transparent)]
pub(crate) struct BalloonStats(UnsafeCell<bindings::balloon_stats>);

// SAFETY: All access goes through volatile word-sized loads and stores (see above).
unsafe impl Sync for BalloonStats {}

/// A field of [`BalloonStats`].
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub(crate) enum Stat {
    CurrentPages,
    TargetPages,
    TargetUnpopulated,
    BalloonLow,
    BalloonHigh,
    TotalPages,
    ScheduleDelay,
    MaxScheduleDelay,
    RetryCount,
    MaxRetryCount,
}

impl BalloonStats {
    /// The kernel's `balloon_stats`, which `balloon_exports.c` defines and exports.
    pub(crate) fn get_static() -> &'static Self {
        extern "C" {
            static balloon_stats: BalloonStats;
        }
        // SAFETY: `balloon_stats` is a static `struct balloon_stats` defined in C and
        // `BalloonStats` is a transparent wrapper of that type; all access is volatile.
        unsafe { &*ptr::addr_of!(balloon_stats) }
    }

    fn field(&self, f: Stat) -> *mut c_ulong {
        let s = self.0.get();
        // SAFETY: Only computes field addresses inside the static.
        unsafe {
            match f {
                Stat::CurrentPages => ptr::addr_of_mut!((*s).current_pages),
                Stat::TargetPages => ptr::addr_of_mut!((*s).target_pages),
                Stat::TargetUnpopulated => ptr::addr_of_mut!((*s).target_unpopulated),
                Stat::BalloonLow => ptr::addr_of_mut!((*s).balloon_low),
                Stat::BalloonHigh => ptr::addr_of_mut!((*s).balloon_high),
                Stat::TotalPages => ptr::addr_of_mut!((*s).total_pages),
                Stat::ScheduleDelay => ptr::addr_of_mut!((*s).schedule_delay),
                Stat::MaxScheduleDelay => ptr::addr_of_mut!((*s).max_schedule_delay),
                Stat::RetryCount => ptr::addr_of_mut!((*s).retry_count),
                Stat::MaxRetryCount => ptr::addr_of_mut!((*s).max_retry_count),
            }
        }
    }

    /// Reads a field.
    pub(crate) fn get(&self, f: Stat) -> u64 {
        // SAFETY: A valid, aligned word of a static (see the type's documentation).
        unsafe { ptr::read_volatile(self.field(f)) as u64 }
    }

    /// Writes a field.
    pub(crate) fn set(&self, f: Stat, v: u64) {
        // SAFETY: A valid, aligned word of a static (see the type's documentation).
        unsafe { ptr::write_volatile(self.field(f), v as c_ulong) };
    }
}
