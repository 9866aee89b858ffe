//! `MADV_*`: advice for `madvise`, split by what it may do to memory.

use core::ffi::c_int;

/// The private supertrait that seals [`AdviceArg`].
mod sealed {
    /// Implemented for the `advice` types of [`madvise`](crate::madvise)
    /// only; outside this crate it cannot be named, so nor implemented.
    pub trait Sealed {}
}

/// `madvise` advice that cannot change the contents of memory or need
/// privileges: safe to give for any range of a mapping you own (`MADV_*`).
///
/// Advice that may change or discard contents is [`UncheckedAdvice`].
///
/// ```
/// use rawmap::Advice;
/// assert_eq!(Advice::Sequential as i32, 2);
/// ```
#[non_exhaustive]
#[repr(i32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Advice {
    /// `MADV_NORMAL`: no special treatment (the default).
    Normal = 0,
    /// `MADV_RANDOM`: expect random access; read ahead less.
    Random = 1,
    /// `MADV_SEQUENTIAL`: expect sequential access; read ahead more and drop
    /// pages soon after.
    Sequential = 2,
    /// `MADV_WILLNEED`: expect access soon; start reading ahead.
    WillNeed = 3,
    /// `MADV_DONTFORK` (since Linux 2.6.16): do not give the range to a child
    /// after `fork`.
    DontFork = 10,
    /// `MADV_DOFORK` (since Linux 2.6.16): undo `DontFork`.
    DoFork = 11,
    /// `MADV_MERGEABLE` (since Linux 2.6.32): let KSM merge identical pages.
    Mergeable = 12,
    /// `MADV_UNMERGEABLE` (since Linux 2.6.32): undo `Mergeable`.
    Unmergeable = 13,
    /// `MADV_HUGEPAGE` (since Linux 2.6.38): prefer transparent huge pages.
    HugePage = 14,
    /// `MADV_NOHUGEPAGE` (since Linux 2.6.38): avoid transparent huge pages.
    NoHugePage = 15,
    /// `MADV_DONTDUMP` (since Linux 3.4): leave the range out of core dumps.
    DontDump = 16,
    /// `MADV_DODUMP` (since Linux 3.4): undo `DontDump`.
    DoDump = 17,
    /// `MADV_WIPEONFORK` (since Linux 4.14): a child after `fork` sees zeros
    /// in this range (private anonymous mappings only). The parent's contents
    /// stay as they are.
    WipeOnFork = 18,
    /// `MADV_KEEPONFORK` (since Linux 4.14): undo `WipeOnFork`.
    KeepOnFork = 19,
    /// `MADV_COLD` (since Linux 5.4): the range is unlikely to be used soon;
    /// reclaim it first.
    Cold = 20,
    /// `MADV_PAGEOUT` (since Linux 5.4): reclaim the range now (contents are
    /// kept, in swap or in the file).
    PageOut = 21,
    /// `MADV_POPULATE_READ` (since Linux 5.14): fault the pages in readable.
    PopulateRead = 22,
    /// `MADV_POPULATE_WRITE` (since Linux 5.14): fault the pages in writable.
    PopulateWrite = 23,
    /// `MADV_COLLAPSE` (since Linux 6.1): collapse the range into transparent
    /// huge pages now.
    Collapse = 25,
}

/// `madvise` advice that may change or discard the contents of memory, or
/// needs privileges: only through `unsafe` (`MADV_*`).
///
/// ```
/// use rawmap::UncheckedAdvice;
/// assert_eq!(UncheckedAdvice::DontNeed as i32, 4);
/// ```
#[non_exhaustive]
#[repr(i32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UncheckedAdvice {
    /// `MADV_DONTNEED`: drop the pages now. Private anonymous memory reads
    /// back as zeros afterwards; a private file mapping reads the file's
    /// contents again (local changes are lost). Unlike POSIX's advice of the
    /// same name, this is not a hint.
    DontNeed = 4,
    /// `MADV_FREE` (since Linux 4.5): the pages may be freed lazily; until
    /// they are written again, they may read back as zeros or as the old
    /// contents. Private anonymous memory only.
    Free = 8,
    /// `MADV_REMOVE` (since Linux 2.6.16): free the range and its backing
    /// store (punch a hole in the file).
    Remove = 9,
    /// `MADV_DONTNEED_LOCKED` (since Linux 5.18): `DontNeed` that also works
    /// on locked pages.
    DontNeedLocked = 24,
    /// `MADV_HWPOISON` (since Linux 2.6.32, needs `CAP_SYS_ADMIN`): poison
    /// the pages as if memory had failed.
    HwPoison = 100,
    /// `MADV_SOFT_OFFLINE` (since Linux 2.6.33, needs `CAP_SYS_ADMIN`): move
    /// the contents and take the pages offline.
    SoftOffline = 101,
    /// `MADV_GUARD_INSTALL` (since Linux 6.13): make each page of the range
    /// a guard page: any access raises `SIGSEGV`, without a new VMA. The
    /// pages' contents are discarded. Private anonymous and (since 6.15)
    /// file mappings; `EINVAL` for a locked or `VM_PFNMAP` range and on
    /// older kernels. QEMU 7.2's user mode answers 0 and installs nothing.
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    GuardInstall = 102,
    /// `MADV_GUARD_REMOVE` (since Linux 6.13): remove guard pages from the
    /// range; they read back as zeros (anonymous) or the file's contents.
    /// `EINVAL` on older kernels.
    GuardRemove = 103,
}

/// An `advice` argument for [`madvise`](crate::madvise): [`Advice`],
/// [`UncheckedAdvice`], or a raw `c_int` for advice rawmap has no name for.
///
/// The raw layer is `unsafe` as a whole, so it takes any of them; the safe
/// layer takes only [`Advice`]. The trait is sealed: rawmap implements it for
/// these three types and no others.
pub trait AdviceArg: Copy + sealed::Sealed {
    /// The number passed to the kernel.
    fn to_raw(self) -> c_int;
}

impl sealed::Sealed for Advice {}
impl AdviceArg for Advice {
    #[inline]
    fn to_raw(self) -> c_int {
        self as c_int
    }
}

impl sealed::Sealed for UncheckedAdvice {}
impl AdviceArg for UncheckedAdvice {
    #[inline]
    fn to_raw(self) -> c_int {
        self as c_int
    }
}

impl sealed::Sealed for c_int {}
impl AdviceArg for c_int {
    #[inline]
    fn to_raw(self) -> c_int {
        self
    }
}
