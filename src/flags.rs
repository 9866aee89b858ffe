//! Flag sets and advice values for the memory-management system calls.
//!
//! Every value here is rawmap's own constant, written from the Linux UAPI
//! headers (`asm-generic/mman-common.h`, `asm-generic/mman.h` and the
//! architecture's `asm/mman.h`). Values that only one architecture has live in
//! that architecture's file under `src/arch/`. The tests compare every value
//! with the `libc` crate's constant for the target they run on.

use core::ffi::c_int;
use core::fmt;
use core::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign};

/// One named value of a flag set, for `Debug`: the set matches when
/// `bits & mask == value`. A plain flag has `mask == value`; a multi-bit field
/// (the huge page size in [`MapFlags`]) has the field's mask.
pub(crate) struct Named {
    pub(crate) name: &'static str,
    pub(crate) value: u32,
    pub(crate) mask: u32,
}

impl Named {
    pub(crate) const fn flag(name: &'static str, value: u32) -> Self {
        Self {
            name,
            value,
            mask: value,
        }
    }
}

/// Writes `Type(A | B | 0x40)`: each named value found in `bits`, in table
/// order, then whatever bits no name claimed, in hex. An empty set prints the
/// name of the table's zero value if it has one (`Prot(NONE)`), else `empty`.
fn debug_bits(f: &mut fmt::Formatter<'_>, ty: &str, bits: u32, tables: &[&[Named]]) -> fmt::Result {
    f.write_str(ty)?;
    f.write_str("(")?;
    let named = tables.iter().flat_map(|t| t.iter());
    if bits == 0 {
        let zero = named.clone().find(|n| n.mask == 0 && n.value == 0);
        f.write_str(zero.map_or("empty", |n| n.name))?;
        return f.write_str(")");
    }
    let mut rest = bits;
    let mut first = true;
    for n in named {
        if n.mask != 0 && rest & n.mask == n.value && n.value != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(n.name)?;
            first = false;
            rest &= !n.mask;
        }
    }
    if rest != 0 {
        if !first {
            f.write_str(" | ")?;
        }
        write!(f, "{rest:#x}")?;
    }
    f.write_str(")")
}

/// Defines a `#[repr(transparent)]` flag set over `u32` with its bit
/// operations. The named constants are written in `impl` blocks beside it.
macro_rules! flag_set {
    (
        $(#[$doc:meta])*
        $name:ident, $table:ident $(, $extra:path)?
    ) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            /// The set with no flags.
            #[inline]
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The raw value passed to the kernel.
            #[inline]
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// A set holding exactly `bits`, including bits rawmap has no name
            /// for (the kernel decides what they mean).
            #[inline]
            pub const fn from_bits_retain(bits: u32) -> Self {
                Self(bits)
            }

            /// Whether every flag of `other` is also in `self`.
            #[inline]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether the set holds no flag.
            #[inline]
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The flags of both sets; the `const` form of `|`.
            #[inline]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// `self` without the flags of `other`.
            #[inline]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }
        }

        impl BitOr for $name {
            type Output = Self;
            #[inline]
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl BitOrAssign for $name {
            #[inline]
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl BitAnd for $name {
            type Output = Self;
            #[inline]
            fn bitand(self, rhs: Self) -> Self {
                Self(self.0 & rhs.0)
            }
        }

        impl BitAndAssign for $name {
            #[inline]
            fn bitand_assign(&mut self, rhs: Self) {
                self.0 &= rhs.0;
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                debug_bits(f, stringify!($name), self.0, &[$table $(, $extra)?])
            }
        }
    };
}

flag_set! {
    /// Memory protection of a mapping: the `prot` argument of `mmap` and
    /// `mprotect` (`PROT_*`).
    ///
    /// ```
    /// use rawmap::Prot;
    /// let rw = Prot::READ | Prot::WRITE;
    /// assert!(rw.contains(Prot::READ));
    /// assert_eq!(format!("{rw:?}"), "Prot(READ | WRITE)");
    /// ```
    Prot, PROT_NAMES
}

impl Prot {
    /// `PROT_NONE`: the pages cannot be accessed at all.
    pub const NONE: Self = Self(0);
    /// `PROT_READ`: the pages may be read.
    pub const READ: Self = Self(0x1);
    /// `PROT_WRITE`: the pages may be written.
    pub const WRITE: Self = Self(0x2);
    /// `PROT_EXEC`: the pages may be executed.
    pub const EXEC: Self = Self(0x4);
    /// `PROT_GROWSDOWN` (`mprotect` only): extend the change down to the
    /// start of a mapping that grows down (a stack).
    pub const GROWSDOWN: Self = Self(0x0100_0000);
    /// `PROT_GROWSUP` (`mprotect` only): extend the change up to the end of a
    /// mapping that grows up (only on architectures with upward stacks; the
    /// kernel answers `EINVAL` elsewhere).
    pub const GROWSUP: Self = Self(0x0200_0000);
}

const PROT_NAMES: &[Named] = &[
    Named::flag("NONE", 0),
    Named::flag("READ", Prot::READ.0),
    Named::flag("WRITE", Prot::WRITE.0),
    Named::flag("EXEC", Prot::EXEC.0),
    Named::flag("GROWSDOWN", Prot::GROWSDOWN.0),
    Named::flag("GROWSUP", Prot::GROWSUP.0),
];

flag_set! {
    /// How a mapping is made: the `flags` argument of `mmap` (`MAP_*`).
    ///
    /// Exactly one of [`SHARED`](Self::SHARED), [`PRIVATE`](Self::PRIVATE)
    /// and [`SHARED_VALIDATE`](Self::SHARED_VALIDATE) must be given; the
    /// kernel answers `EINVAL` otherwise. Architecture-only flags (such as
    /// `MAP_32BIT` on x86_64) are defined in that architecture's module and
    /// appear here only when compiling for it.
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
    MapFlags, MAP_NAMES, crate::arch::MAP_NAMES
}

impl MapFlags {
    /// `MAP_SHARED`: writes are visible to every process mapping the same
    /// object and are carried through to the file.
    pub const SHARED: Self = Self(0x01);
    /// `MAP_PRIVATE`: copy-on-write; writes stay in this process and never
    /// reach the file.
    pub const PRIVATE: Self = Self(0x02);
    /// `MAP_SHARED_VALIDATE` (since Linux 4.15): like `SHARED`, but unknown
    /// flags are refused with `EOPNOTSUPP` instead of being ignored. Its value
    /// is `SHARED | PRIVATE`.
    pub const SHARED_VALIDATE: Self = Self(0x03);
    /// `MAP_FIXED`: place the mapping exactly at `addr`, replacing whatever
    /// was mapped there.
    pub const FIXED: Self = Self(0x10);
    /// `MAP_ANONYMOUS`: no file behind the mapping; pages start zero-filled
    /// and `fd` should be -1.
    pub const ANONYMOUS: Self = Self(0x20);
    /// `MAP_GROWSDOWN`: a stack that grows down on faults below it.
    pub const GROWSDOWN: Self = Self(0x0100);
    /// `MAP_LOCKED`: lock the pages as `mlock` would (errors are not
    /// reported, unlike `mlock`).
    pub const LOCKED: Self = Self(0x2000);
    /// `MAP_NORESERVE`: reserve no swap space for the mapping.
    pub const NORESERVE: Self = Self(0x4000);
    /// `MAP_POPULATE` (since Linux 2.5.46): fault the pages in (read ahead a
    /// file) before returning.
    pub const POPULATE: Self = Self(0x8000);
    /// `MAP_NONBLOCK`: with `POPULATE`, do not block on I/O (ignored since
    /// Linux 2.6.23).
    pub const NONBLOCK: Self = Self(0x0001_0000);
    /// `MAP_STACK` (since Linux 2.6.27): the mapping is a thread stack (no
    /// transparent huge pages for it since Linux 6.7).
    pub const STACK: Self = Self(0x0002_0000);
    /// `MAP_HUGETLB` (since Linux 2.6.32): back the mapping with huge pages
    /// from the hugetlb pool. Fails with `ENOMEM` when the pool is empty.
    pub const HUGETLB: Self = Self(0x0004_0000);
    /// `MAP_SYNC` (since Linux 4.15, only with `SHARED_VALIDATE` on DAX
    /// files): writes are durable once flushed from the CPU caches.
    pub const SYNC: Self = Self(0x0008_0000);
    /// `MAP_FIXED_NOREPLACE` (since Linux 4.17): place the mapping exactly at
    /// `addr`, or fail with `EEXIST` if anything is mapped there.
    ///
    /// rawmap verifies this flag: older kernels and QEMU's user mode treat it
    /// as a hint and map elsewhere; [`mmap`](crate::mmap) then unmaps that
    /// region and returns `EEXIST`, so the flag means the same everywhere.
    pub const FIXED_NOREPLACE: Self = Self(0x0010_0000);

    /// Shift of the huge page size field (`MAP_HUGE_SHIFT`).
    pub const HUGE_SHIFT: u32 = 26;
    /// Mask of the huge page size field after shifting (`MAP_HUGE_MASK`).
    pub const HUGE_MASK: u32 = 0x3f;
    /// `MAP_HUGE_2MB` (since Linux 3.8): with `HUGETLB`, use 2 MiB pages.
    pub const HUGE_2MB: Self = Self::huge_page_size_log2(21);
    /// `MAP_HUGE_1GB` (since Linux 3.8): with `HUGETLB`, use 1 GiB pages.
    pub const HUGE_1GB: Self = Self::huge_page_size_log2(30);

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

const MAP_NAMES: &[Named] = &[
    // SHARED_VALIDATE is SHARED | PRIVATE: name it first so it wins.
    Named::flag("SHARED_VALIDATE", MapFlags::SHARED_VALIDATE.0),
    Named::flag("SHARED", MapFlags::SHARED.0),
    Named::flag("PRIVATE", MapFlags::PRIVATE.0),
    Named::flag("FIXED", MapFlags::FIXED.0),
    Named::flag("ANONYMOUS", MapFlags::ANONYMOUS.0),
    Named::flag("GROWSDOWN", MapFlags::GROWSDOWN.0),
    Named::flag("LOCKED", MapFlags::LOCKED.0),
    Named::flag("NORESERVE", MapFlags::NORESERVE.0),
    Named::flag("POPULATE", MapFlags::POPULATE.0),
    Named::flag("NONBLOCK", MapFlags::NONBLOCK.0),
    Named::flag("STACK", MapFlags::STACK.0),
    Named::flag("HUGETLB", MapFlags::HUGETLB.0),
    Named::flag("SYNC", MapFlags::SYNC.0),
    Named::flag("FIXED_NOREPLACE", MapFlags::FIXED_NOREPLACE.0),
    Named {
        name: "HUGE_2MB",
        value: MapFlags::HUGE_2MB.0,
        mask: MapFlags::HUGE_MASK << MapFlags::HUGE_SHIFT,
    },
    Named {
        name: "HUGE_1GB",
        value: MapFlags::HUGE_1GB.0,
        mask: MapFlags::HUGE_MASK << MapFlags::HUGE_SHIFT,
    },
];

flag_set! {
    /// What `msync` does (`MS_*`).
    ///
    /// ```
    /// use rawmap::MsyncFlags;
    /// assert_eq!(format!("{:?}", MsyncFlags::SYNC), "MsyncFlags(SYNC)");
    /// ```
    MsyncFlags, MSYNC_NAMES
}

impl MsyncFlags {
    /// `MS_ASYNC`: schedule the write-back and return at once (since Linux
    /// 2.6.19 the kernel tracks dirty pages itself, so this only validates).
    pub const ASYNC: Self = Self(0x1);
    /// `MS_INVALIDATE`: ask other mappings of the file to see fresh values.
    pub const INVALIDATE: Self = Self(0x2);
    /// `MS_SYNC`: write the range back and wait until it is on the device.
    pub const SYNC: Self = Self(0x4);
}

const MSYNC_NAMES: &[Named] = &[
    Named::flag("ASYNC", MsyncFlags::ASYNC.0),
    Named::flag("INVALIDATE", MsyncFlags::INVALIDATE.0),
    Named::flag("SYNC", MsyncFlags::SYNC.0),
];

flag_set! {
    /// How `mremap` may move or keep a mapping (`MREMAP_*`).
    ///
    /// ```
    /// use rawmap::MremapFlags;
    /// assert!(MremapFlags::empty().is_empty());
    /// assert_eq!(format!("{:?}", MremapFlags::MAYMOVE), "MremapFlags(MAYMOVE)");
    /// ```
    MremapFlags, MREMAP_NAMES
}

impl MremapFlags {
    /// `MREMAP_MAYMOVE`: the kernel may move the mapping to grow it.
    pub const MAYMOVE: Self = Self(0x1);
    /// `MREMAP_FIXED`: move the mapping to `new_addr` (needs `MAYMOVE`).
    pub const FIXED: Self = Self(0x2);
    /// `MREMAP_DONTUNMAP` (since Linux 5.7): move the pages but leave the old
    /// range mapped (needs `MAYMOVE`).
    pub const DONTUNMAP: Self = Self(0x4);
}

const MREMAP_NAMES: &[Named] = &[
    Named::flag("MAYMOVE", MremapFlags::MAYMOVE.0),
    Named::flag("FIXED", MremapFlags::FIXED.0),
    Named::flag("DONTUNMAP", MremapFlags::DONTUNMAP.0),
];

// Relations the kernel's ABI fixes, checked at compile time.
static_assertions::const_assert_eq!(
    MapFlags::SHARED_VALIDATE.0,
    MapFlags::SHARED.0 | MapFlags::PRIVATE.0
);
static_assertions::const_assert_eq!(MapFlags::HUGE_2MB.0, 21 << 26);
static_assertions::const_assert_eq!(MapFlags::HUGE_1GB.0, 30 << 26);
static_assertions::const_assert_eq!(
    MapFlags::HUGE_1GB.0 & !(MapFlags::HUGE_MASK << MapFlags::HUGE_SHIFT),
    0
);
static_assertions::const_assert_eq!(MsyncFlags::ASYNC.0 & MsyncFlags::SYNC.0, 0);
static_assertions::assert_eq_size!(Prot, u32);
static_assertions::assert_eq_size!(MapFlags, u32);

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
}

/// An `advice` argument for [`madvise`](crate::madvise): [`Advice`],
/// [`UncheckedAdvice`], or a raw `c_int` for advice rawmap has no name for.
///
/// The raw layer is `unsafe` as a whole, so it takes any of them; the safe
/// layer takes only [`Advice`].
pub trait AdviceArg: Copy {
    /// The number passed to the kernel.
    fn to_raw(self) -> c_int;
}

impl AdviceArg for Advice {
    #[inline]
    fn to_raw(self) -> c_int {
        self as c_int
    }
}

impl AdviceArg for UncheckedAdvice {
    #[inline]
    fn to_raw(self) -> c_int {
        self as c_int
    }
}

impl AdviceArg for c_int {
    #[inline]
    fn to_raw(self) -> c_int {
        self
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn debug_names_flags_and_unknown_bits() {
        assert_eq!(format!("{:?}", Prot::NONE), "Prot(NONE)");
        assert_eq!(
            format!("{:?}", Prot::READ | Prot::EXEC),
            "Prot(READ | EXEC)"
        );
        assert_eq!(
            format!("{:?}", Prot::from_bits_retain(0x1 | 0x40)),
            "Prot(READ | 0x40)"
        );
        assert_eq!(format!("{:?}", MapFlags::empty()), "MapFlags(empty)");
        assert_eq!(
            format!("{:?}", MapFlags::SHARED_VALIDATE | MapFlags::SYNC),
            "MapFlags(SHARED_VALIDATE | SYNC)"
        );
        assert_eq!(
            format!(
                "{:?}",
                MapFlags::HUGETLB | MapFlags::huge_page_size_log2(16)
            ),
            format!("MapFlags(HUGETLB | {:#x})", 16u32 << 26)
        );
        assert_eq!(
            format!("{:?}", MsyncFlags::ASYNC | MsyncFlags::INVALIDATE),
            "MsyncFlags(ASYNC | INVALIDATE)"
        );
        assert_eq!(format!("{:?}", MremapFlags::empty()), "MremapFlags(empty)");
    }

    #[test]
    fn set_operations() {
        let mut p = Prot::READ;
        p |= Prot::WRITE;
        assert_eq!(p.bits(), 3);
        assert!(p.contains(Prot::WRITE));
        assert!(!p.contains(Prot::EXEC));
        assert_eq!(p & Prot::WRITE, Prot::WRITE);
        assert_eq!(p.difference(Prot::READ), Prot::WRITE);
        assert_eq!(Prot::default(), Prot::empty());
        assert!(Prot::NONE.is_empty());
        assert_eq!(MapFlags::from_bits_retain(0x22).bits(), 0x22);
        assert_eq!(AdviceArg::to_raw(7 as c_int), 7);
        assert_eq!(Advice::Collapse.to_raw(), 25);
        assert_eq!(UncheckedAdvice::SoftOffline.to_raw(), 101);
    }
}
