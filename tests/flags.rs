//! Every flag and advice value rawmap defines, compared with the `libc`
//! crate's constant for the target the test runs on (x86_64 gnu and musl,
//! aarch64 musl, riscv64gc and armv7 glibc, i686 musl). `libc` is an
//! independent source: its values are written
//! from the C libraries' and the kernel's headers, not from rawmap's.
//!
//! Where `libc` has no constant for a target, a comment says so and the
//! value is compared with the one in the Linux UAPI headers instead.

mod common;

use rawmap::{Advice, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};

/// `libc` constants are `c_int`; rawmap's flag sets are `u32` bit sets of
/// the same bits.
fn bits(c: libc::c_int) -> u32 {
    u32::try_from(c).expect("flag constants are non-negative")
}

#[test]
fn prot_matches_libc() {
    assert_eq!(Prot::NONE.bits(), bits(libc::PROT_NONE));
    assert_eq!(Prot::READ.bits(), bits(libc::PROT_READ));
    assert_eq!(Prot::WRITE.bits(), bits(libc::PROT_WRITE));
    assert_eq!(Prot::EXEC.bits(), bits(libc::PROT_EXEC));
    assert_eq!(Prot::GROWSDOWN.bits(), bits(libc::PROT_GROWSDOWN));
    assert_eq!(Prot::GROWSUP.bits(), bits(libc::PROT_GROWSUP));
}

#[test]
fn map_flags_match_libc() {
    assert_eq!(MapFlags::SHARED.bits(), bits(libc::MAP_SHARED));
    assert_eq!(MapFlags::PRIVATE.bits(), bits(libc::MAP_PRIVATE));
    assert_eq!(
        MapFlags::SHARED_VALIDATE.bits(),
        bits(libc::MAP_SHARED_VALIDATE)
    );
    assert_eq!(MapFlags::FIXED.bits(), bits(libc::MAP_FIXED));
    assert_eq!(
        MapFlags::FIXED_NOREPLACE.bits(),
        bits(libc::MAP_FIXED_NOREPLACE)
    );
    assert_eq!(MapFlags::ANONYMOUS.bits(), bits(libc::MAP_ANONYMOUS));
    assert_eq!(MapFlags::POPULATE.bits(), bits(libc::MAP_POPULATE));
    assert_eq!(MapFlags::NORESERVE.bits(), bits(libc::MAP_NORESERVE));
    assert_eq!(MapFlags::LOCKED.bits(), bits(libc::MAP_LOCKED));
    assert_eq!(MapFlags::GROWSDOWN.bits(), bits(libc::MAP_GROWSDOWN));
    assert_eq!(MapFlags::STACK.bits(), bits(libc::MAP_STACK));
    assert_eq!(MapFlags::HUGETLB.bits(), bits(libc::MAP_HUGETLB));
    assert_eq!(MapFlags::HUGE_2MB.bits(), bits(libc::MAP_HUGE_2MB));
    assert_eq!(MapFlags::HUGE_1GB.bits(), bits(libc::MAP_HUGE_1GB));
    assert_eq!(MapFlags::SYNC.bits(), bits(libc::MAP_SYNC));
    assert_eq!(MapFlags::NONBLOCK.bits(), bits(libc::MAP_NONBLOCK));
}

#[test]
fn huge_page_field_matches_libc() {
    assert_eq!(MapFlags::HUGE_SHIFT, bits(libc::MAP_HUGE_SHIFT));
    assert_eq!(MapFlags::HUGE_MASK, bits(libc::MAP_HUGE_MASK));
    // The encoder agrees with libc's two named sizes and with the C macro's
    // formula `log2 << MAP_HUGE_SHIFT` for the sizes in between.
    assert_eq!(MapFlags::huge_page_size_log2(21), MapFlags::HUGE_2MB);
    assert_eq!(MapFlags::huge_page_size_log2(30), MapFlags::HUGE_1GB);
    for log2 in 0..=u8::try_from(libc::MAP_HUGE_MASK).unwrap() {
        assert_eq!(
            MapFlags::huge_page_size_log2(log2).bits(),
            // In u32: sizes of 2^32 and more set the top bit of the field.
            u32::from(log2) << bits(libc::MAP_HUGE_SHIFT),
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn map_32bit_matches_libc() {
    assert_eq!(MapFlags::MAP_32BIT.bits(), bits(libc::MAP_32BIT));
    assert_eq!(format!("{:?}", MapFlags::MAP_32BIT), "MapFlags(MAP_32BIT)");
}

#[cfg(not(target_arch = "x86_64"))]
#[test]
fn map_32bit_bit_has_no_name_elsewhere() {
    // MAP_32BIT is x86-only; on other architectures bit 0x40 is unnamed, and
    // Debug shows it in hex. (32-bit x86 too: libc defines MAP_32BIT there,
    // but the kernel ignores it for 32-bit processes.)
    assert_eq!(
        format!("{:?}", MapFlags::from_bits_retain(0x40)),
        "MapFlags(0x40)"
    );
}

#[test]
fn msync_flags_match_libc() {
    assert_eq!(MsyncFlags::ASYNC.bits(), bits(libc::MS_ASYNC));
    assert_eq!(MsyncFlags::SYNC.bits(), bits(libc::MS_SYNC));
    assert_eq!(MsyncFlags::INVALIDATE.bits(), bits(libc::MS_INVALIDATE));
}

#[test]
fn mremap_flags_match_libc() {
    assert_eq!(MremapFlags::MAYMOVE.bits(), bits(libc::MREMAP_MAYMOVE));
    assert_eq!(MremapFlags::FIXED.bits(), bits(libc::MREMAP_FIXED));
    assert_eq!(MremapFlags::DONTUNMAP.bits(), bits(libc::MREMAP_DONTUNMAP));
}

#[test]
fn advice_matches_libc() {
    let pairs = [
        (Advice::Normal, libc::MADV_NORMAL),
        (Advice::Random, libc::MADV_RANDOM),
        (Advice::Sequential, libc::MADV_SEQUENTIAL),
        (Advice::WillNeed, libc::MADV_WILLNEED),
        (Advice::DontFork, libc::MADV_DONTFORK),
        (Advice::DoFork, libc::MADV_DOFORK),
        (Advice::Mergeable, libc::MADV_MERGEABLE),
        (Advice::Unmergeable, libc::MADV_UNMERGEABLE),
        (Advice::HugePage, libc::MADV_HUGEPAGE),
        (Advice::NoHugePage, libc::MADV_NOHUGEPAGE),
        (Advice::DontDump, libc::MADV_DONTDUMP),
        (Advice::DoDump, libc::MADV_DODUMP),
        (Advice::WipeOnFork, libc::MADV_WIPEONFORK),
        (Advice::KeepOnFork, libc::MADV_KEEPONFORK),
        (Advice::Cold, libc::MADV_COLD),
        (Advice::PageOut, libc::MADV_PAGEOUT),
        (Advice::PopulateRead, libc::MADV_POPULATE_READ),
        (Advice::PopulateWrite, libc::MADV_POPULATE_WRITE),
        (Advice::Collapse, madv_collapse()),
    ];
    for (advice, c) in pairs {
        assert_eq!(advice as libc::c_int, c, "{advice:?}");
    }
}

/// `MADV_COLLAPSE` (Linux 6.1). The `libc` crate defines it for glibc
/// targets only, not for musl ones; there the value comes from the UAPI
/// header `include/uapi/asm-generic/mman-common.h`, which every architecture
/// rawmap supports uses: `#define MADV_COLLAPSE 25`.
fn madv_collapse() -> libc::c_int {
    #[cfg(target_env = "gnu")]
    {
        libc::MADV_COLLAPSE
    }
    #[cfg(not(target_env = "gnu"))]
    {
        25
    }
}

#[test]
fn unchecked_advice_matches_libc() {
    let pairs = [
        (UncheckedAdvice::DontNeed, libc::MADV_DONTNEED),
        (UncheckedAdvice::DontNeedLocked, libc::MADV_DONTNEED_LOCKED),
        (UncheckedAdvice::Free, libc::MADV_FREE),
        (UncheckedAdvice::Remove, libc::MADV_REMOVE),
        (UncheckedAdvice::HwPoison, libc::MADV_HWPOISON),
        (UncheckedAdvice::SoftOffline, libc::MADV_SOFT_OFFLINE),
    ];
    for (advice, c) in pairs {
        assert_eq!(advice as libc::c_int, c, "{advice:?}");
    }
}

#[test]
fn advice_values_are_distinct() {
    // No safe advice shares a number with an unchecked one: the split must
    // not let a destructive value through the safe type.
    let safe = common::ADVICE;
    let unchecked = common::UNCHECKED_ADVICE;
    let mut all: Vec<i32> = safe.iter().map(|a| *a as i32).collect();
    all.extend(unchecked.iter().map(|a| *a as i32));
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[test]
fn debug_prints_names() {
    assert_eq!(
        format!("{:?}", Prot::READ | Prot::WRITE),
        "Prot(READ | WRITE)"
    );
    assert_eq!(
        format!("{:?}", MapFlags::SHARED | MapFlags::FIXED_NOREPLACE),
        "MapFlags(SHARED | FIXED_NOREPLACE)"
    );
    assert_eq!(
        format!("{:?}", MapFlags::HUGETLB | MapFlags::HUGE_1GB),
        "MapFlags(HUGETLB | HUGE_1GB)"
    );
    assert_eq!(
        format!(
            "{:?}",
            MsyncFlags::SYNC | MsyncFlags::from_bits_retain(0x80)
        ),
        "MsyncFlags(SYNC | 0x80)"
    );
    assert_eq!(
        format!("{:?}", MremapFlags::MAYMOVE | MremapFlags::DONTUNMAP),
        "MremapFlags(MAYMOVE | DONTUNMAP)"
    );
}

// The values of the calls since Linux 4.4 (`mlock2`, `mlockall`, guard
// advice, `MAP_DROPPABLE`, aarch64's protections).

#[test]
fn mlock_flags_match_libc() {
    assert_eq!(rawmap::MlockFlags::ONFAULT.bits(), libc::MLOCK_ONFAULT);
}

#[test]
fn mlockall_flags_match_libc() {
    use rawmap::MlockAllFlags;
    assert_eq!(MlockAllFlags::CURRENT.bits(), bits(libc::MCL_CURRENT));
    assert_eq!(MlockAllFlags::FUTURE.bits(), bits(libc::MCL_FUTURE));
    assert_eq!(MlockAllFlags::ONFAULT.bits(), bits(libc::MCL_ONFAULT));
}

#[test]
fn map_droppable_matches_libc() {
    assert_eq!(MapFlags::DROPPABLE.bits(), bits(libc::MAP_DROPPABLE));
    // A map type: its bit lies inside MAP_TYPE (0x0f, asm-generic/mman-common.h)
    // next to SHARED's and PRIVATE's, so it is no modifier of them.
    assert_eq!(MapFlags::DROPPABLE.bits() & !0x0f, 0);
    assert_eq!(
        format!("{:?}", MapFlags::DROPPABLE | MapFlags::ANONYMOUS),
        "MapFlags(DROPPABLE | ANONYMOUS)"
    );
}

#[test]
fn guard_advice_matches_uapi() {
    // libc has no MADV_GUARD_INSTALL/REMOVE: the values are those of
    // include/uapi/asm-generic/mman-common.h (Linux 6.13).
    assert_eq!(UncheckedAdvice::GuardInstall as i32, 102);
    assert_eq!(UncheckedAdvice::GuardRemove as i32, 103);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_prot_matches_libc_or_uapi() {
    // libc has PROT_BTI/PROT_MTE for aarch64 glibc only; for musl the values
    // are those of arch/arm64/include/uapi/asm/mman.h.
    #[cfg(target_env = "gnu")]
    {
        assert_eq!(Prot::BTI.bits(), bits(libc::PROT_BTI));
        assert_eq!(Prot::MTE.bits(), bits(libc::PROT_MTE));
    }
    assert_eq!(Prot::BTI.bits(), 0x10);
    assert_eq!(Prot::MTE.bits(), 0x20);
}

#[test]
fn pkey_access_matches_uapi() {
    use rawmap::PkeyAccess;
    // libc has no PKEY_DISABLE_*: the values are those of
    // include/uapi/asm-generic/mman-common.h and, for aarch64's POE,
    // arch/arm64/include/uapi/asm/mman.h.
    assert_eq!(PkeyAccess::DISABLE_ACCESS.bits(), 0x1);
    assert_eq!(PkeyAccess::DISABLE_WRITE.bits(), 0x2);
    #[cfg(target_arch = "aarch64")]
    {
        assert_eq!(PkeyAccess::DISABLE_EXECUTE.bits(), 0x4);
        assert_eq!(PkeyAccess::DISABLE_READ.bits(), 0x8);
    }
}

#[test]
fn iovec_layout_matches_libc() {
    assert_eq!(size_of::<rawmap::IoVec>(), size_of::<libc::iovec>());
    assert_eq!(align_of::<rawmap::IoVec>(), align_of::<libc::iovec>());
    assert_eq!(
        core::mem::offset_of!(rawmap::IoVec, len),
        core::mem::offset_of!(libc::iovec, iov_len)
    );
}
