//! The second ring's owners and methods against the real kernel: empty
//! mappings aligned for any primitive, `MmapRaw` and its atomic words
//! (shared with a forked child), anonymous memory aligned beyond a page (one
//! VMA of the asked length in `/proc/self/maps`), `populate_*`,
//! `is_supported`, `Mmap::remap`, and huge pages with the rounded length.
//!
//! Tests that fork, read `/proc/self/maps` or ask whether an address is still
//! mapped take [`exclusive`] (another test could map the freed address in the
//! meantime); all others take [`shared`].

mod common;

use std::sync::atomic::Ordering;

use common::fork::{check_in_child, ensure, in_child, unmaps_in_child};
use common::proc::{maps_entry, meminfo};
use common::{exclusive, file_with, seeded_pattern, shared};
use rawmap::{Errno, MmapMut, MmapOptions, MmapRaw, page_size};

// ---------------------------------------------------------------------------
// Empty mappings

#[test]
fn empty_mappings_are_aligned_for_any_primitive() {
    let _g = shared();
    let anon = MmapOptions::new().len(0).map_anon().unwrap();
    let file = file_with(b"");
    // SAFETY: the temporary file is private to this test.
    let from_file = unsafe { MmapOptions::new().map(&file) }.unwrap();
    let raw = MmapOptions::new().len(0).map_raw_anon_shared().unwrap();
    for ptr in [anon.as_ptr(), from_file.as_ptr(), raw.as_ptr()] {
        assert!(!ptr.is_null());
        assert_eq!(ptr as usize % 16, 0, "{ptr:p} is not aligned for u128");
    }
    // What memmap2 users do with an empty file: cast it to words.
    assert_eq!(bytemuck::try_cast_slice::<u8, u64>(&from_file), Ok(&[][..]));
    assert_eq!(bytemuck::try_cast_slice::<u8, u128>(&anon), Ok(&[][..]));
    // into_raw / from_raw keep it empty and aligned.
    let (ptr, len) = anon.into_raw();
    assert_eq!((ptr as usize % 16, len), (0, 0));
    // SAFETY: `(ptr, 0)` from `into_raw` of an empty mapping.
    let back = unsafe { MmapMut::from_raw(ptr, len) };
    assert!(back.is_empty());
    assert_eq!(back.as_ptr() as usize % 16, 0);
}

// ---------------------------------------------------------------------------
// MmapRaw

#[test]
fn raw_atomics_are_shared_with_a_forked_child() {
    let _g = exclusive();
    let raw = MmapOptions::new().len(64).map_raw_anon_shared().unwrap();
    assert!(raw.is_writable());
    let counter = raw.atomic_u32(0).unwrap();
    counter.store(10, Ordering::SeqCst);
    let code = in_child(|| {
        let Ok(c) = raw.atomic_u32(0) else { return 3 };
        if c.load(Ordering::SeqCst) != 10 {
            return 4;
        }
        c.fetch_add(5, Ordering::SeqCst);
        #[cfg(target_has_atomic = "64")]
        if let Ok(w) = raw.atomic_u64(8) {
            w.store(u64::MAX - 1, Ordering::SeqCst);
        }
        0
    });
    assert_eq!(code, 0);
    assert_eq!(
        counter.load(Ordering::SeqCst),
        15,
        "the child's add is seen"
    );
    #[cfg(target_has_atomic = "64")]
    assert_eq!(
        raw.atomic_u64(8).unwrap().load(Ordering::SeqCst),
        u64::MAX - 1
    );
}

#[test]
fn raw_atomic_views_check_bounds_alignment_and_writability() {
    let _g = shared();
    let raw = MmapOptions::new().len(20).map_raw_anon_shared().unwrap();
    assert!(raw.atomic_u32(16).is_ok(), "the last whole word");
    for bad in [17, 18, 19, 20, 21, usize::MAX - 3, usize::MAX] {
        assert_eq!(
            raw.atomic_u32(bad).unwrap_err(),
            Errno::EINVAL,
            "offset {bad}"
        );
    }
    for unaligned in [1, 2, 3, 5, 15] {
        assert_eq!(raw.atomic_u32(unaligned).unwrap_err(), Errno::EINVAL);
    }
    #[cfg(target_has_atomic = "64")]
    {
        let align = std::mem::align_of::<std::sync::atomic::AtomicU64>();
        assert!(raw.atomic_u64(8).is_ok());
        assert_eq!(
            raw.atomic_u64(16).unwrap_err(),
            Errno::EINVAL,
            "past the end"
        );
        assert_eq!(raw.atomic_u64(usize::MAX - 7).unwrap_err(), Errno::EINVAL);
        if align == 8 {
            assert_eq!(raw.atomic_u64(4).unwrap_err(), Errno::EINVAL);
        } else {
            assert!(raw.atomic_u64(4).is_ok(), "aligned to {align}");
        }
    }
    let empty = MmapOptions::new().len(0).map_raw_anon_shared().unwrap();
    assert_eq!(empty.atomic_u32(0).unwrap_err(), Errno::EINVAL);

    // Read-only: no atomic (it could store), whatever the offset.
    let ro = MmapRaw::from(
        MmapOptions::new()
            .len(8)
            .map_anon()
            .unwrap()
            .make_read_only()
            .unwrap(),
    );
    assert!(!ro.is_writable());
    assert_eq!(ro.atomic_u32(0).unwrap_err(), Errno::EACCES);
}

#[test]
fn raw_conversions_keep_the_mapping_and_its_contents() {
    let _g = exclusive();
    let mut map = MmapOptions::new().len(3 * page_size()).map_anon().unwrap();
    map[0] = 1;
    map[2 * page_size()] = 2;
    let addr = map.as_ptr();
    let raw = MmapRaw::from(map);
    assert_eq!((raw.as_ptr(), raw.len()), (addr, 3 * page_size()));
    // SAFETY: both bytes lie inside the mapping; nothing else refers to it.
    assert_eq!(
        unsafe { (*raw.as_ptr(), *raw.as_ptr().add(2 * page_size())) },
        (1, 2)
    );
    raw.atomic_u32(4)
        .unwrap()
        .store(0xAABB_CCDD, Ordering::Relaxed);
    // SAFETY: bytes 4..8 lie inside the mapping, written just above.
    let word = unsafe { raw.as_ptr().add(4).cast::<u32>().read() };
    assert_eq!(word, 0xAABB_CCDD);

    raw.flush().unwrap();
    raw.flush_async().unwrap();
    assert_eq!(raw.flush_range(1, 3 * page_size()), Err(Errno::EINVAL));
    assert_eq!(
        raw.advise_range(rawmap::Advice::Random, 0, usize::MAX),
        Err(Errno::EINVAL)
    );
    raw.advise(rawmap::Advice::WillNeed).unwrap();

    let (ptr, len) = raw.into_raw();
    assert_eq!((ptr.cast_const(), len), (addr, 3 * page_size()));
    // SAFETY: `(ptr, len)` come from `into_raw` of a writable mapping.
    let raw = unsafe { MmapRaw::from_raw(ptr, len) };
    assert_eq!(
        raw.atomic_u32(4).unwrap().load(Ordering::Relaxed),
        0xAABB_CCDD
    );
    // Unmapped and checked in a single-threaded child: in this process the
    // test harness may start a thread meanwhile, whose stack can take the
    // freed range. (The parent's copy is dropped here, which unmaps it.)
    unmaps_in_child(addr as usize, page_size(), move || raw.unmap().is_ok());
}

#[test]
fn raw_file_mappings_see_the_file_change() {
    let _g = shared();
    use std::os::unix::fs::FileExt;
    let page = page_size();
    let file = file_with(&seeded_pattern(page + 8, 3));
    let raw = MmapOptions::new()
        .offset(page as u64)
        .map_raw(&file)
        .unwrap();
    assert_eq!(raw.len(), 8);
    file.write_all_at(&7u32.to_ne_bytes(), page as u64 + 4)
        .unwrap();
    // The file's write shows through the shared mapping.
    assert_eq!(raw.atomic_u32(4).unwrap().load(Ordering::SeqCst), 7);
    raw.atomic_u32(0)
        .unwrap()
        .store(0x0102_0304, Ordering::SeqCst);
    raw.flush().unwrap();
    let mut back = [0; 4];
    file.read_exact_at(&mut back, page as u64).unwrap();
    assert_eq!(u32::from_ne_bytes(back), 0x0102_0304);

    let ro = MmapOptions::new().map_raw_read_only(&file).unwrap();
    assert_eq!(ro.len(), page + 8);
    assert!(!ro.is_writable());
    // SAFETY: byte `page` lies inside the mapping; reading it races with nothing.
    assert_eq!(unsafe { ro.as_ptr().add(page).read_volatile() }, 4);
    // A descriptor opened read-only cannot be mapped writable.
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
    let read_only = std::fs::File::open(path).unwrap();
    assert_eq!(
        MmapOptions::new().map_raw(&read_only).unwrap_err(),
        Errno::EACCES
    );
    assert!(MmapOptions::new().map_raw_read_only(&read_only).is_ok());
}

// ---------------------------------------------------------------------------
// Anonymous memory aligned beyond a page

#[test]
fn aligned_anonymous_map_is_one_vma_of_the_asked_length() {
    let _g = exclusive();
    let page = page_size();
    for (align, len) in [
        (2 << 20, 3 * page + 1),
        (4 * page, page),
        (1 << 26, 2 << 20),
    ] {
        let mut map = MmapOptions::new().len(len).map_anon_aligned(align).unwrap();
        let addr = map.as_ptr() as usize;
        assert_eq!(addr % align, 0, "align {align:#x}");
        let rounded = len.next_multiple_of(page);
        map[len - 1] = 1;
        // MADV_DONTFORK gives the VMA a flag its neighbours lack, so the
        // kernel cannot merge it with one: its entry in /proc/self/maps is
        // then exactly the mapping. QEMU ignores the advice and shows its
        // own view, where a neighbour with the same protection may merge.
        map.advise(rawmap::Advice::DontFork).unwrap();
        match maps_entry(addr) {
            // QEMU's emulated /proc/self/maps can lose a mapping that the
            // host merged with one of QEMU's own (TESTING.md): the range
            // must be mapped all the same.
            None if common::mem::qemu_with_larger_pages() => {
                assert_eq!(common::mem::mapped(addr as *mut u8, rounded), Ok(()));
            }
            entry => {
                let (start, end, perms) = entry.expect("the mapping is in /proc/self/maps");
                assert!(perms.starts_with("rw"), "{perms}");
                if common::under_qemu_user() {
                    assert!(
                        start <= addr && end >= addr + rounded,
                        "{start:#x}-{end:#x}"
                    );
                } else {
                    assert_eq!(
                        (start, end),
                        (addr, addr + rounded),
                        "one VMA of the rounded length"
                    );
                }
            }
        }
        // Drop unmaps the rounded length, checked in a single-threaded child:
        // nothing else can map into the freed range before the check.
        unmaps_in_child(addr, rounded, move || {
            drop(map);
            true
        });
    }
    assert_eq!(
        MmapOptions::new().len(1).map_anon_aligned(0).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        MmapOptions::new()
            .len(1)
            .map_anon_aligned(3 << 20)
            .unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        MmapOptions::new()
            .len(1)
            .huge(None)
            .map_anon_aligned(2 << 20)
            .unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        MmapOptions::new()
            .len(usize::MAX - page)
            .map_anon_aligned(2 << 20)
            .unwrap_err(),
        Errno::ENOMEM
    );
    // An alignment of a page or less is the page.
    let small = MmapOptions::new().len(10).map_anon_aligned(8).unwrap();
    assert_eq!(small.as_ptr() as usize % page, 0);
    assert!(
        MmapOptions::new()
            .len(0)
            .map_anon_aligned(2 << 20)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn aligned_map_is_populated_when_asked() {
    let _g = exclusive();
    let len = 4 * page_size();
    let map = MmapOptions::new()
        .len(len)
        .populate()
        .map_anon_aligned(1 << 21)
        .unwrap();
    let (vec, written) = common::mem::mincore_vec(map.as_ptr().cast_mut(), len).unwrap();
    // The head and tail are trimmed before the pages are faulted in with
    // MADV_POPULATE_WRITE, which QEMU's user mode answers with 0 and
    // ignores: there the pages stay absent. (QEMU with larger pages writes
    // one byte per host page.)
    let resident = !common::under_qemu_user();
    assert!(
        written >= 4 && vec[..written].iter().all(|&b| (b & 1 == 1) == resident),
        "{vec:?}"
    );
    let plain = MmapOptions::new()
        .len(len)
        .map_anon_aligned(1 << 21)
        .unwrap();
    let (vec, written) = common::mem::mincore_vec(plain.as_ptr().cast_mut(), len).unwrap();
    assert!(
        vec[..written].iter().all(|&b| b & 1 == 0),
        "not populated: {vec:?}"
    );
}

// ---------------------------------------------------------------------------
// populate_read / populate_write

/// Whether the kernel has `MADV_POPULATE_*` (5.14); QEMU's user mode
/// answers 0 to it without populating anything.
fn kernel_populates() -> bool {
    common::kernel_version() >= (5, 14)
}

#[test]
fn populate_faults_the_pages_in() {
    let _g = exclusive();
    let page = page_size();
    let len = 8 * page;
    let map = MmapOptions::new().len(len).map_anon().unwrap();
    let before = common::mem::mincore_vec(map.as_ptr().cast_mut(), len).unwrap();
    assert!(before.0[..before.1].iter().all(|&b| b & 1 == 0));
    let r = map.populate_write();
    let (after, written) = common::mem::mincore_vec(map.as_ptr().cast_mut(), len).unwrap();
    if common::under_qemu_user() {
        assert_eq!(r, Ok(()), "QEMU answers 0 ...");
        assert!(
            after[..written].iter().all(|&b| b & 1 == 0),
            "... and populates nothing"
        );
    } else if kernel_populates() {
        assert_eq!(r, Ok(()));
        assert!(after[..written].iter().all(|&b| b & 1 == 1), "{after:?}");
    } else {
        assert_eq!(r, Err(Errno::EINVAL));
    }
    assert!(map.iter().all(|&b| b == 0), "contents unchanged");

    let file = file_with(&seeded_pattern(len, 5));
    // SAFETY: the temporary file is private to this test.
    let fmap = unsafe { MmapOptions::new().map(&file) }.unwrap();
    let r = fmap.populate_read();
    if common::under_qemu_user() || kernel_populates() {
        assert_eq!(r, Ok(()));
    } else {
        assert_eq!(r, Err(Errno::EINVAL));
    }
    assert_eq!(&fmap[..], &seeded_pattern(len, 5)[..]);
    let empty = MmapOptions::new().len(0).map_anon().unwrap();
    assert_eq!(
        (empty.populate_read(), empty.populate_write()),
        (Ok(()), Ok(()))
    );
}

#[test]
fn populate_past_the_end_of_the_file_is_an_error_not_sigbus() {
    let _g = shared();
    let page = page_size();
    // One page of file, three pages of mapping: the last two lie wholly
    // past the end of the file, where a touch raises SIGBUS.
    let file = file_with(&seeded_pattern(page, 6));
    // SAFETY: the temporary file is private to this test, and this test
    // never touches the pages past its end.
    let map = unsafe { MmapOptions::new().len(3 * page).map_mut(&file) }.unwrap();
    let raw = MmapOptions::new().len(3 * page).map_raw(&file).unwrap();
    for r in [
        map.populate_read(),
        map.populate_write(),
        raw.populate_read(),
        raw.populate_write(),
    ] {
        if common::under_qemu_user() {
            // QEMU answers 0 without looking at the pages.
            assert_eq!(r, Ok(()));
        } else if kernel_populates() {
            assert_eq!(r, Err(Errno::EFAULT));
        } else {
            assert_eq!(r, Err(Errno::EINVAL));
        }
    }
    // Inside the file it succeeds.
    // SAFETY: as above; this one stays inside the file.
    let inside = unsafe { MmapOptions::new().len(page).map_mut(&file) }.unwrap();
    assert_eq!(
        inside.populate_write().is_ok(),
        common::under_qemu_user() || kernel_populates()
    );
    let ro = MmapRaw::from(
        MmapOptions::new()
            .len(page)
            .map_anon()
            .unwrap()
            .make_read_only()
            .unwrap(),
    );
    if !common::under_qemu_user() && kernel_populates() {
        // Writable population of a read-only mapping: the kernel refuses it
        // as an incompatible mapping.
        assert_eq!(ro.populate_write(), Err(Errno::EINVAL));
    }
}

// ---------------------------------------------------------------------------
// is_supported

/// The kernel's answer to `madvise(NULL, 0, advice)`, through libc.
fn libc_knows(advice: i32) -> bool {
    // SAFETY: an empty range at address 0 changes nothing.
    unsafe { libc::syscall(libc::SYS_madvise, 0usize, 0usize, advice as libc::c_long) == 0 }
}

#[test]
fn is_supported_matches_the_kernel() {
    let _g = shared();
    use rawmap::{Advice, UncheckedAdvice};
    let safe = common::ADVICE;
    let unchecked = common::UNCHECKED_ADVICE;
    let map = MmapOptions::new().len(page_size()).map_anon().unwrap();
    for a in safe {
        let yes = a.is_supported();
        assert_eq!(yes, libc_knows(a as i32), "{a:?}");
        assert_eq!(a.is_supported(), yes, "{a:?} cached");
        if !yes {
            // What the probe promises: the advice itself is refused.
            assert_eq!(map.advise(a), Err(Errno::EINVAL), "{a:?}");
        }
    }
    for a in unchecked {
        assert_eq!(a.is_supported(), libc_knows(a as i32), "{a:?}");
        assert_eq!(a.is_supported(), libc_knows(a as i32), "{a:?} cached");
    }
    // Advice every kernel this crate runs on has, and advice by version.
    assert!(Advice::Normal.is_supported() && UncheckedAdvice::DontNeed.is_supported());
    assert!(Advice::DontFork.is_supported() && Advice::DontDump.is_supported());
    if common::under_qemu_user() {
        // QEMU's user mode answers 0 to any advice, even one no kernel has.
        assert!(libc_knows(9999));
        assert!(safe.iter().all(|a| a.is_supported()));
    } else {
        assert!(!libc_knows(9999));
        let v = common::kernel_version();
        assert_eq!(Advice::PopulateRead.is_supported(), v >= (5, 14));
        assert_eq!(Advice::PopulateWrite.is_supported(), v >= (5, 14));
        assert_eq!(UncheckedAdvice::DontNeedLocked.is_supported(), v >= (5, 18));
        assert!(Advice::Cold.is_supported() && Advice::WipeOnFork.is_supported());
    }
}

// ---------------------------------------------------------------------------
// Mmap::remap

#[test]
fn read_only_mappings_remap() {
    let _g = exclusive();
    let page = page_size();
    let file = file_with(&seeded_pattern(4 * page, 9));
    // SAFETY: the temporary file is private to this test; it is 4 pages
    // long, so the mapping never outgrows it.
    let mut map = unsafe { MmapOptions::new().len(page + 1).map(&file) }.unwrap();
    // SAFETY: as above.
    unsafe { map.remap(4 * page, true) }.unwrap();
    assert_eq!(&map[..], &seeded_pattern(4 * page, 9)[..]);
    // Shrunk in place, the pages after the new end are free: checked in a
    // single-threaded child, since in this process the test harness may
    // start a thread meanwhile, whose stack can take them.
    check_in_child(|| {
        // SAFETY: as above.
        ensure!(unsafe { map.remap(10, false) }.is_ok(), "shrink");
        let (base, _) = common::mem::kernel_range(map.as_ptr(), 1);
        ensure!(
            common::mem::mapped((base + page) as *mut u8, page) == Err(Errno::ENOMEM),
            "shrunk"
        );
        Ok(())
    });
    // SAFETY: as above.
    unsafe { map.remap(10, false) }.unwrap();
    assert_eq!((map.len(), &map[..]), (10, &seeded_pattern(10, 9)[..]));
    // SAFETY: as above.
    assert_eq!(unsafe { map.remap(0, true) }, Err(Errno::EINVAL));
    let mut empty = MmapOptions::new()
        .len(0)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap();
    // SAFETY: anonymous.
    assert_eq!(unsafe { empty.remap(10, true) }, Err(Errno::EINVAL));
    // SAFETY: as above.
    assert_eq!(
        unsafe { map.remap(usize::MAX - 3, true) },
        Err(Errno::ENOMEM)
    );
    assert_eq!(map.len(), 10, "a failed remap changes nothing");
}

// ---------------------------------------------------------------------------
// Huge pages

/// `/proc/sys/vm/nr_overcommit_hugepages`.
fn overcommit_hugepages() -> usize {
    std::fs::read_to_string("/proc/sys/vm/nr_overcommit_hugepages")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn huge_mappings_map_protect_remap_and_unmap_the_rounded_length() {
    let _g = exclusive();
    // `huge(None)` reads the size from /proc/meminfo itself (no std); the
    // test's own reading is the oracle.
    let size = meminfo("Hugepagesize") * 1024;
    let free = meminfo("HugePages_Free") + overcommit_hugepages();
    // The rounded length is computed before any system call: one that does
    // not fit is ENOMEM everywhere.
    let too_long = MmapOptions::new().len(usize::MAX - 1).huge(None).map_anon();
    assert_eq!(too_long.unwrap_err(), Errno::ENOMEM);

    let r = MmapOptions::new().len(1).huge(None).map_anon();
    if common::under_qemu_user() {
        // QEMU's user mode (7.2) refuses MAP_HUGETLB with EINVAL.
        assert_eq!(r.unwrap_err(), Errno::EINVAL);
        return;
    }
    if free == 0 {
        assert_eq!(r.unwrap_err(), Errno::ENOMEM, "no huge pages reserved");
        return;
    }
    let mut map = r.unwrap();
    let addr = map.as_ptr() as usize;
    assert_eq!((addr % size, map.len()), (0, 1));
    map[0] = 1;
    // One VMA of exactly one huge page.
    let (start, end, perms) = maps_entry(addr).unwrap();
    assert_eq!((start, end, &perms[..2]), (addr, addr + size, "rw"));
    // Protection changes cover the whole huge page (a length of 1 rounded
    // to a normal page would be EINVAL for a hugetlb VMA).
    let mut map = map.make_read_only().unwrap();
    let (start, end, perms) = maps_entry(addr).unwrap();
    assert_eq!((start, end, &perms[..3]), (addr, addr + size, "r--"));
    assert_eq!(map[0], 1);
    // Remapping within the huge page keeps it; growing past it asks for a
    // second huge page, which the kernel gives where one is free.
    // SAFETY: anonymous memory has no file to outgrow.
    unsafe { map.remap(size, false) }.unwrap();
    assert_eq!(
        maps_entry(addr).map(|(s, e, _)| (s, e)),
        Some((addr, addr + size))
    );
    if free >= 2 {
        // SAFETY: as above.
        match unsafe { map.remap(size + 1, true) } {
            Ok(()) => {
                let new = map.as_ptr() as usize;
                assert_eq!(new % size, 0);
                let (s, e, _) = maps_entry(new).unwrap();
                assert_eq!((s, e), (new, new + 2 * size));
            }
            // Linux does not grow hugetlb mappings with mremap (6.1 and 7.3
            // answer EINVAL); the mapping stays as it was.
            Err(e) => {
                assert_eq!(e, Errno::EINVAL, "growing a hugetlb mapping");
                assert_eq!((map.as_ptr() as usize, map.len()), (addr, size));
                assert_eq!(
                    maps_entry(addr).map(|(s, e, _)| (s, e)),
                    Some((addr, addr + size))
                );
            }
        }
    }
    let (addr, len) = common::mem::kernel_range(map.as_ptr(), 1);
    let addr = addr & !(size - 1);
    // In a single-threaded child, as in map_anon_aligned's test.
    check_in_child(move || {
        drop(map);
        ensure!(
            common::mem::mapped(addr as *mut u8, len) == Err(Errno::ENOMEM),
            "Drop unmaps it all"
        );
        ensure!(
            common::proc::maps_range_of(addr).is_none(),
            "no entry left in /proc/self/maps"
        );
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// Guard pages, seal, lock_on_fault

/// `(major, minor)` at least, on a real kernel (QEMU's user mode reports the
/// host's version but emulates the calls itself).
fn kernel_has(major: u32, minor: u32) -> bool {
    !common::under_qemu_user() && common::kernel_version() >= (major, minor)
}

const SIGSEGV_EXIT: i32 = 128 + libc::SIGSEGV;

/// Writes one byte at `p` in a child and returns how the child ended.
fn write_in_child(p: *mut u8) -> i32 {
    in_child(|| {
        common::fork::no_core_dumps();
        common::fork::silence_stderr();
        // SAFETY: deliberately writes to `p`; the child dies if it faults.
        unsafe { p.write_volatile(1) };
        0
    })
}

// The behaviour checked follows tools/testing/selftests/mm/guard-regions.c
// (guard pages fault on access and need no VMA of their own on 6.13+).
#[test]
fn guard_pages_below_a_mapping_fault() {
    let _g = exclusive();
    let page = page_size();
    for shared_map in [false, true] {
        let mut opts = MmapOptions::new();
        opts.len(3 * page).guard_pages(2);
        let map = if shared_map {
            opts.map_anon_shared()
        } else {
            opts.map_anon()
        }
        .unwrap();
        let data = map.as_ptr().cast_mut();
        let guard = data.wrapping_sub(2 * page);
        assert_eq!(data as usize % page, 0);
        // A child that writes just below the mapping, or at the guard's
        // first byte, dies of SIGSEGV; inside the mapping it does not.
        assert_eq!(
            write_in_child(data.wrapping_sub(1)),
            SIGSEGV_EXIT,
            "shared {shared_map}"
        );
        assert_eq!(write_in_child(guard), SIGSEGV_EXIT);
        assert_eq!(write_in_child(data), 0);
        // The kernel's own accesses fault there too.
        assert!(!common::mem::readable(guard) && !common::mem::readable(data.wrapping_sub(1)));
        assert!(common::mem::readable(data));
        // Guard markers (6.13 for private, 6.15 for shared memory) live in
        // the mapping's VMA; elsewhere the guard is a PROT_NONE VMA of its
        // own. QEMU answers 0 to the advice and installs nothing, which the
        // verification catches: PROT_NONE there.
        let markers = kernel_has(6, if shared_map { 15 } else { 13 });
        let (start, end, perms) = maps_entry(guard as usize).expect("the guard is mapped");
        if markers {
            assert!(perms.starts_with("rw"), "{perms}");
            assert!(start <= guard as usize && end >= data as usize + 3 * page);
        } else {
            assert!(perms.starts_with("---"), "{perms}");
            assert_eq!(end, data as usize, "a PROT_NONE VMA just below");
        }
        // Protection changes leave the guard alone.
        let ro = map.make_read_only().unwrap();
        assert!(!common::mem::readable(guard));
        assert_eq!(write_in_child(guard.wrapping_add(page)), SIGSEGV_EXIT);
        // Drop unmaps the guard with the mapping; in a single-threaded
        // child, as in map_anon_aligned's test.
        let qemu = common::under_qemu_user();
        let (data, guard) = (data as usize, guard as usize);
        check_in_child(move || {
            drop(ro);
            ensure!(
                qemu || common::proc::maps_range_of(guard).is_none(),
                "no guard entry left in /proc/self/maps"
            );
            ensure!(
                common::mem::mapped(data as *mut u8, 3 * page) == Err(Errno::ENOMEM),
                "the mapping unmapped"
            );
            ensure!(
                qemu || common::mem::mapped(guard as *mut u8, 2 * page) == Err(Errno::ENOMEM),
                "the guard unmapped"
            );
            Ok(())
        });
    }
}

#[test]
fn guard_pages_refuse_what_they_cannot_do() {
    let _g = shared();
    let page = page_size();
    let overflow = MmapOptions::new()
        .len(page)
        .guard_pages(usize::MAX)
        .map_anon();
    assert_eq!(overflow.unwrap_err(), Errno::ENOMEM);
    let too_many = MmapOptions::new()
        .len(page)
        .guard_pages(usize::MAX / page)
        .map_anon();
    assert_eq!(too_many.unwrap_err(), Errno::ENOMEM);
    let file = file_with(&seeded_pattern(page, 1));
    // SAFETY: the temporary file is private to this test.
    let on_file = unsafe { MmapOptions::new().guard_pages(1).map(&file) };
    assert_eq!(on_file.unwrap_err(), Errno::EINVAL);
    assert_eq!(
        MmapOptions::new()
            .guard_pages(1)
            .map_raw(&file)
            .unwrap_err(),
        Errno::EINVAL
    );
    let huge = MmapOptions::new()
        .len(1)
        .huge(None)
        .guard_pages(1)
        .map_anon();
    assert_eq!(huge.unwrap_err(), Errno::EINVAL);
    let aligned = MmapOptions::new()
        .len(1)
        .guard_pages(1)
        .map_anon_aligned(1 << 21);
    assert_eq!(aligned.unwrap_err(), Errno::EINVAL);
    assert!(
        MmapOptions::new()
            .len(0)
            .guard_pages(1)
            .map_anon()
            .unwrap()
            .is_empty()
    );
    // remap never moves a mapping off its guard.
    let mut map = MmapOptions::new()
        .len(page)
        .guard_pages(1)
        .map_anon()
        .unwrap();
    let at = map.as_ptr();
    // SAFETY: anonymous memory has no file to outgrow.
    match unsafe { map.remap(64 * page, true) } {
        Ok(()) => assert_eq!(map.as_ptr(), at),
        Err(e) => assert_eq!(e, Errno::ENOMEM),
    }
    // SAFETY: as above.
    unsafe { map.remap(1, true) }.unwrap();
    assert_eq!(map.as_ptr(), at);
    assert_eq!(write_in_child(at.cast_mut().wrapping_sub(1)), SIGSEGV_EXIT);
}

// After tools/testing/selftests/mm/mseal_test.c (test_seal_munmap,
// test_seal_mprotect): a sealed mapping refuses munmap and mprotect.
#[test]
fn seal_consumes_the_owner_or_gives_it_back() {
    let _g = exclusive();
    let page = page_size();
    let sealing = common::kernel_is_64bit() && kernel_has(6, 10);
    let mut map = MmapOptions::new()
        .len(2 * page)
        .guard_pages(1)
        .map_anon()
        .unwrap();
    map[0] = 5;
    let addr = map.as_ptr().cast_mut();
    match map.seal() {
        Ok(forever) => {
            assert!(sealing, "sealed where mseal is missing");
            forever[1] = 6;
            assert_eq!(
                (forever.as_ptr().cast_mut(), forever.len(), forever[0]),
                (addr, 2 * page, 5)
            );
            // SAFETY: refused by the seal (the test asserts it): nothing changes.
            assert_eq!(
                unsafe { rawmap::munmap(addr.cast(), page) },
                Err(Errno::EPERM)
            );
            // SAFETY: as above.
            let guard = addr.wrapping_sub(page).cast();
            assert_eq!(
                unsafe { rawmap::munmap(guard, page) },
                Err(Errno::EPERM),
                "guard sealed"
            );
            // SAFETY: as above.
            let r = unsafe { rawmap::mprotect(addr.cast(), page, rawmap::Prot::READ) };
            assert_eq!(r, Err(Errno::EPERM));
            assert_eq!(forever[1], 6);
        }
        Err(e) => {
            assert!(!sealing, "mseal failed: {}", e.errno());
            assert_eq!(e.errno(), Errno::ENOSYS);
            let map = e.into_mmap();
            assert_eq!((map.as_ptr().cast_mut(), map[0]), (addr, 5));
            // Still owned: dropping it unmaps it (checked in a
            // single-threaded child, as in the tests above; the parent's
            // copy is dropped here).
            check_in_child(move || {
                drop(map);
                ensure!(
                    common::mem::mapped(addr, page) == Err(Errno::ENOMEM),
                    "still owned"
                );
                Ok(())
            });
        }
    }
    let ro = MmapOptions::new()
        .len(page)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap();
    assert_eq!(
        ro.seal().map(<[u8]>::len).map_err(|e| e.errno()),
        if sealing {
            Ok(page)
        } else {
            Err(Errno::ENOSYS)
        }
    );
    // Sealing an empty mapping: EINVAL, and the (empty) owner comes back.
    let empty = MmapOptions::new().len(0).map_anon().unwrap();
    let e = empty.seal().unwrap_err();
    assert_eq!(e.errno(), Errno::EINVAL);
    assert!(e.into_mmap().is_empty());
    let empty = MmapOptions::new()
        .len(0)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap();
    assert_eq!(empty.seal().unwrap_err().errno(), Errno::EINVAL);
}

// After tools/testing/selftests/mm/mlock2-tests.c (test_lock_onfault): the
// VMA is locked on fault and nothing is faulted in until touched.
#[test]
fn lock_on_fault_locks_only_what_is_touched() {
    let _g = exclusive();
    let page = page_size();
    let mut map = MmapOptions::new().len(4 * page).map_anon().unwrap();
    let addr = map.as_ptr() as usize;
    let r = map.lock_on_fault();
    if common::under_qemu_user() {
        // QEMU 7.2 has no mlock2.
        assert_eq!(r, Err(Errno::ENOSYS));
        assert!(!common::proc::smaps_vmflags(addr).iter().any(|f| f == "lo"));
        return;
    }
    assert_eq!(r, Ok(()));
    let flags = common::proc::smaps_vmflags(addr);
    // VM_LOCKONFAULT shows as "lf"; Linux 6.1 has no name for it and
    // shows "??".
    let on_fault = flags.iter().any(|f| f == "lf" || f == "??");
    assert!(flags.iter().any(|f| f == "lo") && on_fault, "{flags:?}");
    let (vec, written) = common::mem::mincore_vec(map.as_mut_ptr(), 4 * page).unwrap();
    assert!(
        vec[..written].iter().all(|&b| b & 1 == 0),
        "nothing faulted in: {vec:?}"
    );
    map[page] = 1;
    let (vec, _) = common::mem::mincore_vec(map.as_mut_ptr(), 4 * page).unwrap();
    assert_eq!(
        vec[..4].iter().map(|b| b & 1).collect::<Vec<_>>(),
        [0, 1, 0, 0]
    );
    map.unlock().unwrap();
    assert!(!common::proc::smaps_vmflags(addr).iter().any(|f| f == "lo"));
    let raw = MmapOptions::new().len(page).map_raw_anon_shared().unwrap();
    assert_eq!(raw.lock_on_fault(), Ok(()));
    let ro = MmapOptions::new()
        .len(page)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap();
    assert_eq!(ro.lock_on_fault(), Ok(()));
    assert_eq!(
        MmapOptions::new()
            .len(0)
            .map_anon()
            .unwrap()
            .lock_on_fault(),
        Ok(())
    );
}
