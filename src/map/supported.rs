//! `Advice::is_supported` and `UncheckedAdvice::is_supported`: whether the
//! running kernel knows an advice, probed once and cached.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::flags::{Advice, UncheckedAdvice};
use crate::sys::mm;

/// Bit `i` set: advice of cache slot `i` has been probed.
static PROBED: AtomicU64 = AtomicU64::new(0);
/// Bit `i` set: advice of cache slot `i` is supported (valid once probed).
static SUPPORTED: AtomicU64 = AtomicU64::new(0);

/// The cache slot of an advice number: 0..=61 for themselves, 62 and 63
/// for `MADV_HWPOISON` (100) and `MADV_SOFT_OFFLINE` (101); `None`
/// (probed every time) for anything else.
#[inline]
fn slot(advice: c_int) -> Option<u32> {
    match advice {
        0..=61 => Some(advice as u32),
        100 => Some(62),
        101 => Some(63),
        _ => None,
    }
}

/// `madvise(NULL, 0, advice) == 0`: the kernel checks that it knows the
/// advice before it looks at the (empty) range, so the call tells exactly
/// that and touches nothing (memmap2's probe).
#[inline]
fn probe(advice: c_int) -> bool {
    // SAFETY: an empty range at address 0: nothing is changed.
    unsafe { mm::madvise(core::ptr::null_mut(), 0, advice) }.is_ok()
}

/// [`probe`], cached. Two threads may both probe an advice the first time;
/// they get the same answer.
#[inline]
fn is_supported(advice: c_int) -> bool {
    let Some(slot) = slot(advice) else {
        return probe(advice);
    };
    let bit = 1u64 << slot;
    if PROBED.load(Ordering::Acquire) & bit != 0 {
        return SUPPORTED.load(Ordering::Relaxed) & bit != 0;
    }
    let yes = probe(advice);
    if yes {
        SUPPORTED.fetch_or(bit, Ordering::Relaxed);
    }
    PROBED.fetch_or(bit, Ordering::Release);
    yes
}

impl Advice {
    /// Whether the running kernel knows this advice: `madvise(NULL, 0,
    /// advice)` succeeds (it fails with `EINVAL` for advice the kernel does
    /// not know, e.g. [`Advice::PopulateRead`] before Linux 5.14, or
    /// [`Advice::HugePage`] without transparent huge pages). Probed once,
    /// then cached. QEMU's user mode (7.2) answers 0 to every advice, so
    /// there everything is "supported".
    ///
    /// ```
    /// use rawmap::Advice;
    /// assert!(Advice::Normal.is_supported());
    /// if Advice::PopulateWrite.is_supported() {
    ///     let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?;
    ///     map.populate_write()?;
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "madvise")]
    #[inline]
    pub fn is_supported(self) -> bool {
        is_supported(self as c_int)
    }
}

impl UncheckedAdvice {
    /// Whether the running kernel knows this advice, as
    /// [`Advice::is_supported`] probes it (`MADV_HWPOISON` and
    /// `MADV_SOFT_OFFLINE` only with `CONFIG_MEMORY_FAILURE`). Knowing it
    /// says nothing of privileges it needs.
    ///
    /// ```
    /// assert!(rawmap::UncheckedAdvice::DontNeed.is_supported());
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "madvise")]
    #[inline]
    pub fn is_supported(self) -> bool {
        is_supported(self as c_int)
    }
}
