//! `MAP_*`: how a mapping is made.

use super::flag_set;
#[cfg(target_arch = "x86_64")]
use crate::arch;

flag_set! {
    /// How a mapping is made: the `flags` argument of `mmap` (`MAP_*`).
    ///
    /// Exactly one of [`SHARED`](Self::SHARED), [`PRIVATE`](Self::PRIVATE)
    /// and [`SHARED_VALIDATE`](Self::SHARED_VALIDATE) must be given; the
    /// kernel answers `EINVAL` otherwise. Architecture-only flags (such as
    /// `MAP_32BIT` on x86_64) exist only when compiling for their
    /// architecture.
    ///
    /// ```
    /// use rawmap::MapFlags;
    /// let f = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    /// assert_eq!(format!("{f:?}"), "MapFlags(PRIVATE | ANONYMOUS)");
    /// assert_eq!(
    ///     format!("{:?}", MapFlags::HUGETLB | MapFlags::HUGE_2MB),
    ///     "MapFlags(HUGETLB | HUGE_2MB)"
    /// );
    /// ```
    pub struct MapFlags;

    // SHARED_VALIDATE is SHARED | PRIVATE: it comes first so that `Debug`
    // names it rather than the two.
    /// `MAP_SHARED_VALIDATE` (since Linux 4.15): like `SHARED`, but unknown
    /// flags are refused with `EOPNOTSUPP` instead of being ignored. Its value
    /// is `SHARED | PRIVATE`.
    const SHARED_VALIDATE = 0x03;
    /// `MAP_SHARED`: writes are visible to every process mapping the same
    /// object and are carried through to the file.
    const SHARED = 0x01;
    /// `MAP_PRIVATE`: copy-on-write; writes stay in this process and never
    /// reach the file.
    const PRIVATE = 0x02;
    /// `MAP_DROPPABLE` (since Linux 6.11, 64-bit only): a map *type* beside
    /// `SHARED` and `PRIVATE`, not a modifier. Private anonymous memory that
    /// the kernel may drop (zero) under memory pressure instead of swapping
    /// it, and that is not inherited by a child of `fork`
    /// (`ANONYMOUS` is required).
    ///
    /// Its value (0x08) is a field value of the map type: `SHARED | DROPPABLE`
    /// or `PRIVATE | DROPPABLE` is a different, unknown type, and the
    /// kernel answers `EINVAL`, so combining them is the caller's error
    /// (QEMU 7.2's user mode, which tests the `SHARED` bit alone, maps them
    /// as `SHARED` and `PRIVATE`).
    /// Kernels before 6.11 know no such type and answer `EINVAL`, as does
    /// QEMU 7.2's user mode; 32-bit kernels since 6.11 answer the kernel's
    /// internal `ENOTSUPP` (524), while a 32-bit program on a 64-bit kernel
    /// gets droppable memory. A file mapping, `LOCKED`, `HUGETLB` or
    /// `GROWSDOWN` with it is `EINVAL`. See
    /// [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    ///
    /// ```
    /// use rawmap::{mmap, munmap, page_size, Errno, MapFlags, Prot};
    /// let flags = MapFlags::DROPPABLE | MapFlags::ANONYMOUS;
    /// // SAFETY: a new anonymous mapping replaces nothing.
    /// match unsafe { mmap(core::ptr::null_mut(), page_size(), Prot::READ, flags, -1, 0) } {
    ///     // SAFETY: the mapping was just made and nothing uses it.
    ///     Ok(p) => unsafe { munmap(p, page_size())? },
    ///     // Before Linux 6.11 and under QEMU 7.2; 524 on 32-bit kernels.
    ///     Err(e) => assert!(e == Errno::EINVAL || e.into_raw() == 524),
    /// }
    /// # Ok::<(), Errno>(())
    /// ```
    const DROPPABLE = 0x08;
    /// `MAP_FIXED`: place the mapping exactly at `addr`, replacing whatever
    /// was mapped there.
    const FIXED = 0x10;
    /// `MAP_ANONYMOUS`: no file behind the mapping; pages start zero-filled
    /// and `fd` should be -1.
    const ANONYMOUS = 0x20;
    /// `MAP_GROWSDOWN`: a stack that grows down on faults below it.
    const GROWSDOWN = 0x0100;
    /// `MAP_LOCKED`: lock the pages as `mlock` would (errors are not
    /// reported, unlike `mlock`).
    const LOCKED = 0x2000;
    /// `MAP_NORESERVE`: reserve no swap space for the mapping.
    const NORESERVE = 0x4000;
    /// `MAP_POPULATE` (since Linux 2.5.46): fault the pages in (read ahead a
    /// file) before returning.
    const POPULATE = 0x8000;
    /// `MAP_NONBLOCK`: with `POPULATE`, do not block on I/O (ignored since
    /// Linux 2.6.23).
    const NONBLOCK = 0x0001_0000;
    /// `MAP_STACK` (since Linux 2.6.27): the mapping is a thread stack (no
    /// transparent huge pages for it since Linux 6.7).
    const STACK = 0x0002_0000;
    /// `MAP_HUGETLB` (since Linux 2.6.32): back the mapping with huge pages
    /// from the hugetlb pool. Fails with `ENOMEM` when the pool is empty.
    const HUGETLB = 0x0004_0000;
    /// `MAP_SYNC` (since Linux 4.15, only with `SHARED_VALIDATE` on DAX
    /// files): writes are durable once flushed from the CPU caches.
    const SYNC = 0x0008_0000;
    /// `MAP_FIXED_NOREPLACE` (since Linux 4.17): place the mapping exactly at
    /// `addr`, or fail with `EEXIST` if anything is mapped there.
    ///
    /// rawmap verifies this flag: older kernels and QEMU's user mode treat it
    /// as a hint and map elsewhere; [`mmap`](crate::mmap) then unmaps that
    /// region and returns `EEXIST`, so the flag means the same everywhere.
    const FIXED_NOREPLACE = 0x0010_0000;
    /// `MAP_HUGE_2MB` (since Linux 3.8): with `HUGETLB`, use 2 MiB pages.
    const HUGE_2MB = Self::huge_page_size_log2(21).0, in Self::HUGE_FIELD;
    /// `MAP_HUGE_1GB` (since Linux 3.8): with `HUGETLB`, use 1 GiB pages.
    const HUGE_1GB = Self::huge_page_size_log2(30).0, in Self::HUGE_FIELD;
    /// `MAP_32BIT` (x86_64 only): place the mapping in the first 2 GiB of the
    /// address space. Ignored with `FIXED`.
    #[cfg(target_arch = "x86_64")]
    const MAP_32BIT = arch::MAP_32BIT;
}

impl MapFlags {
    /// Shift of the huge page size field (`MAP_HUGE_SHIFT`).
    pub const HUGE_SHIFT: u32 = 26;
    /// Mask of the huge page size field after shifting (`MAP_HUGE_MASK`).
    pub const HUGE_MASK: u32 = 0x3f;
    /// The huge page size field's bits in place.
    pub(crate) const HUGE_FIELD: u32 = Self::HUGE_MASK << Self::HUGE_SHIFT;

    /// The huge page size field for pages of `2^log2` bytes (with
    /// [`HUGETLB`](Self::HUGETLB); 0 means the system's default size). Only
    /// the low six bits of `log2` fit the field.
    ///
    /// ```
    /// use rawmap::MapFlags;
    /// assert_eq!(MapFlags::huge_page_size_log2(21), MapFlags::HUGE_2MB);
    /// ```
    #[inline]
    pub const fn huge_page_size_log2(log2: u8) -> Self {
        Self(((log2 as u32) & Self::HUGE_MASK) << Self::HUGE_SHIFT)
    }
}

static_assertions::assert_eq_size!(MapFlags, u32);
