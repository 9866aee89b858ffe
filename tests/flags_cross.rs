//! rawmap's flag values against `libc`'s for riscv64, 32-bit ARM and 32-bit
//! x86 (glibc on riscv64 and armv7, musl on i686): every constant the
//! target's libc defines must have the same value. (The x86_64 and aarch64
//! targets have their own checks.)
#![cfg(any(target_arch = "riscv64", target_arch = "arm", target_arch = "x86"))]

use rawmap::{Advice, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};

/// `(name, rawmap's value, libc's value)`, compared one by one so that a
/// failure names the constant.
fn check(pairs: &[(&str, i64, i64)]) {
    let wrong: Vec<_> = pairs
        .iter()
        .filter(|(_, ours, theirs)| ours != theirs)
        .collect();
    assert!(wrong.is_empty(), "values differing from libc: {wrong:?}");
}

#[test]
fn prot_matches_libc() {
    check(&[
        (
            "PROT_NONE",
            Prot::NONE.bits().into(),
            libc::PROT_NONE.into(),
        ),
        (
            "PROT_READ",
            Prot::READ.bits().into(),
            libc::PROT_READ.into(),
        ),
        (
            "PROT_WRITE",
            Prot::WRITE.bits().into(),
            libc::PROT_WRITE.into(),
        ),
        (
            "PROT_EXEC",
            Prot::EXEC.bits().into(),
            libc::PROT_EXEC.into(),
        ),
        (
            "PROT_GROWSDOWN",
            Prot::GROWSDOWN.bits().into(),
            libc::PROT_GROWSDOWN.into(),
        ),
        (
            "PROT_GROWSUP",
            Prot::GROWSUP.bits().into(),
            libc::PROT_GROWSUP.into(),
        ),
    ]);
}

#[test]
fn map_flags_match_libc() {
    let m = |f: MapFlags| i64::from(f.bits());
    check(&[
        ("MAP_SHARED", m(MapFlags::SHARED), libc::MAP_SHARED.into()),
        (
            "MAP_PRIVATE",
            m(MapFlags::PRIVATE),
            libc::MAP_PRIVATE.into(),
        ),
        (
            "MAP_SHARED_VALIDATE",
            m(MapFlags::SHARED_VALIDATE),
            libc::MAP_SHARED_VALIDATE.into(),
        ),
        ("MAP_FIXED", m(MapFlags::FIXED), libc::MAP_FIXED.into()),
        (
            "MAP_FIXED_NOREPLACE",
            m(MapFlags::FIXED_NOREPLACE),
            libc::MAP_FIXED_NOREPLACE.into(),
        ),
        (
            "MAP_ANONYMOUS",
            m(MapFlags::ANONYMOUS),
            libc::MAP_ANONYMOUS.into(),
        ),
        (
            "MAP_POPULATE",
            m(MapFlags::POPULATE),
            libc::MAP_POPULATE.into(),
        ),
        (
            "MAP_NORESERVE",
            m(MapFlags::NORESERVE),
            libc::MAP_NORESERVE.into(),
        ),
        ("MAP_LOCKED", m(MapFlags::LOCKED), libc::MAP_LOCKED.into()),
        (
            "MAP_GROWSDOWN",
            m(MapFlags::GROWSDOWN),
            libc::MAP_GROWSDOWN.into(),
        ),
        ("MAP_STACK", m(MapFlags::STACK), libc::MAP_STACK.into()),
        (
            "MAP_HUGETLB",
            m(MapFlags::HUGETLB),
            libc::MAP_HUGETLB.into(),
        ),
        (
            "MAP_HUGE_2MB",
            m(MapFlags::HUGE_2MB),
            libc::MAP_HUGE_2MB.into(),
        ),
        (
            "MAP_HUGE_1GB",
            m(MapFlags::HUGE_1GB),
            libc::MAP_HUGE_1GB.into(),
        ),
        (
            "MAP_HUGE_SHIFT",
            MapFlags::HUGE_SHIFT.into(),
            libc::MAP_HUGE_SHIFT.into(),
        ),
        (
            "MAP_HUGE_MASK",
            MapFlags::HUGE_MASK.into(),
            libc::MAP_HUGE_MASK.into(),
        ),
        ("MAP_SYNC", m(MapFlags::SYNC), libc::MAP_SYNC.into()),
        (
            "MAP_NONBLOCK",
            m(MapFlags::NONBLOCK),
            libc::MAP_NONBLOCK.into(),
        ),
    ]);
}

/// libc defines `MAP_32BIT` for 32-bit x86 too (the UAPI header is shared
/// with x86_64), but the kernel ignores it for 32-bit processes, so rawmap
/// has no name for it there: the bit prints as unknown.
#[cfg(target_arch = "x86")]
#[test]
fn map_32bit_is_unnamed_on_32_bit_x86() {
    let bits = libc::MAP_32BIT as u32;
    assert_eq!(
        format!("{:?}", MapFlags::from_bits_retain(bits)),
        format!("MapFlags({bits:#x})")
    );
}

#[test]
fn msync_and_mremap_flags_match_libc() {
    check(&[
        (
            "MS_ASYNC",
            MsyncFlags::ASYNC.bits().into(),
            libc::MS_ASYNC.into(),
        ),
        (
            "MS_SYNC",
            MsyncFlags::SYNC.bits().into(),
            libc::MS_SYNC.into(),
        ),
        (
            "MS_INVALIDATE",
            MsyncFlags::INVALIDATE.bits().into(),
            libc::MS_INVALIDATE.into(),
        ),
        (
            "MREMAP_MAYMOVE",
            MremapFlags::MAYMOVE.bits().into(),
            libc::MREMAP_MAYMOVE.into(),
        ),
        (
            "MREMAP_FIXED",
            MremapFlags::FIXED.bits().into(),
            libc::MREMAP_FIXED.into(),
        ),
        (
            "MREMAP_DONTUNMAP",
            MremapFlags::DONTUNMAP.bits().into(),
            libc::MREMAP_DONTUNMAP.into(),
        ),
    ]);
}

#[test]
fn advice_matches_libc() {
    let a = |x: Advice| i64::from(x as i32);
    let u = |x: UncheckedAdvice| i64::from(x as i32);
    check(&[
        ("MADV_NORMAL", a(Advice::Normal), libc::MADV_NORMAL.into()),
        ("MADV_RANDOM", a(Advice::Random), libc::MADV_RANDOM.into()),
        (
            "MADV_SEQUENTIAL",
            a(Advice::Sequential),
            libc::MADV_SEQUENTIAL.into(),
        ),
        (
            "MADV_WILLNEED",
            a(Advice::WillNeed),
            libc::MADV_WILLNEED.into(),
        ),
        (
            "MADV_DONTFORK",
            a(Advice::DontFork),
            libc::MADV_DONTFORK.into(),
        ),
        ("MADV_DOFORK", a(Advice::DoFork), libc::MADV_DOFORK.into()),
        (
            "MADV_MERGEABLE",
            a(Advice::Mergeable),
            libc::MADV_MERGEABLE.into(),
        ),
        (
            "MADV_UNMERGEABLE",
            a(Advice::Unmergeable),
            libc::MADV_UNMERGEABLE.into(),
        ),
        (
            "MADV_HUGEPAGE",
            a(Advice::HugePage),
            libc::MADV_HUGEPAGE.into(),
        ),
        (
            "MADV_NOHUGEPAGE",
            a(Advice::NoHugePage),
            libc::MADV_NOHUGEPAGE.into(),
        ),
        (
            "MADV_DONTDUMP",
            a(Advice::DontDump),
            libc::MADV_DONTDUMP.into(),
        ),
        ("MADV_DODUMP", a(Advice::DoDump), libc::MADV_DODUMP.into()),
        (
            "MADV_WIPEONFORK",
            a(Advice::WipeOnFork),
            libc::MADV_WIPEONFORK.into(),
        ),
        (
            "MADV_KEEPONFORK",
            a(Advice::KeepOnFork),
            libc::MADV_KEEPONFORK.into(),
        ),
        ("MADV_COLD", a(Advice::Cold), libc::MADV_COLD.into()),
        (
            "MADV_PAGEOUT",
            a(Advice::PageOut),
            libc::MADV_PAGEOUT.into(),
        ),
        (
            "MADV_POPULATE_READ",
            a(Advice::PopulateRead),
            libc::MADV_POPULATE_READ.into(),
        ),
        (
            "MADV_POPULATE_WRITE",
            a(Advice::PopulateWrite),
            libc::MADV_POPULATE_WRITE.into(),
        ),
        (
            "MADV_DONTNEED",
            u(UncheckedAdvice::DontNeed),
            libc::MADV_DONTNEED.into(),
        ),
        (
            "MADV_DONTNEED_LOCKED",
            u(UncheckedAdvice::DontNeedLocked),
            libc::MADV_DONTNEED_LOCKED.into(),
        ),
        (
            "MADV_FREE",
            u(UncheckedAdvice::Free),
            libc::MADV_FREE.into(),
        ),
        (
            "MADV_REMOVE",
            u(UncheckedAdvice::Remove),
            libc::MADV_REMOVE.into(),
        ),
        (
            "MADV_HWPOISON",
            u(UncheckedAdvice::HwPoison),
            libc::MADV_HWPOISON.into(),
        ),
        (
            "MADV_SOFT_OFFLINE",
            u(UncheckedAdvice::SoftOffline),
            libc::MADV_SOFT_OFFLINE.into(),
        ),
    ]);
    // The libc crate has MADV_COLLAPSE for glibc targets only.
    #[cfg(target_env = "gnu")]
    check(&[(
        "MADV_COLLAPSE",
        a(Advice::Collapse),
        libc::MADV_COLLAPSE.into(),
    )]);
}
