//! The calls since Linux 4.4 against the kernel: `mseal`, guard regions
//! (`MADV_GUARD_INSTALL`/`REMOVE`), `MAP_DROPPABLE`, `process_madvise`,
//! `mlock2`, `mlockall`/`munlockall` and the protection keys.
//!
//! Each test asserts what the kernel it runs on answers: the call's effect
//! where the kernel has it (the host's 6.18, the 7.3 images), the old
//! kernel's errno where it does not (6.1: no `mseal`, `MAP_DROPPABLE` or
//! guard advice; 6.12: no guard advice), and QEMU 7.2's user mode's answer
//! under QEMU (`ENOSYS` for `mseal` and `process_madvise`, `EINVAL` for
//! `MAP_DROPPABLE`, 0 for guard advice with no guard installed).
//!
//! Every test holds [`serial`] while it runs; checks that seal memory run in
//! a child, so the test process keeps no sealed range.

mod common;

use std::ptr;

use common::fork::{
    check_in_child, close, ensure, exit_code, fork_child, in_child, no_core_dumps, pipe,
    silence_stderr, wait,
};
use common::mem::{ANON, RW, anon, kernel_can_read, mapped, unmap};
use common::proc::smaps_vmflags;
use common::{kernel_version, serial, under_qemu_user};
use rawmap::{
    Advice, Errno, IoVec, MapFlags, MlockAllFlags, MlockFlags, MremapFlags, PkeyAccess, Prot,
    UncheckedAdvice, c_void, madvise, mincore, mlock2, mlockall, mmap, mprotect, mremap, mseal,
    munlock, munlockall, munmap, page_size, pkey_alloc, pkey_free, pkey_mprotect, process_madvise,
};

/// At least Linux `major.minor` on a real kernel (not QEMU's user mode,
/// which reports the host's version but emulates 7.2's calls).
fn kernel_at_least(major: u32, minor: u32) -> bool {
    !under_qemu_user() && kernel_version() >= (major, minor)
}

/// Whether `mseal` works here: Linux 6.10 on a 64-bit kernel (a 32-bit
/// program on one has it too).
fn has_mseal() -> bool {
    common::kernel_is_64bit() && kernel_at_least(6, 10)
}

/// Whether guard advice installs guards here: Linux 6.13.
fn has_guards() -> bool {
    kernel_at_least(6, 13)
}

/// Whether `MAP_DROPPABLE` maps here: Linux 6.11 on a 64-bit kernel (a
/// 32-bit program on one has it too).
fn has_droppable() -> bool {
    common::kernel_is_64bit() && kernel_at_least(6, 11)
}

const SIGSEGV_EXIT: i32 = 128 + libc::SIGSEGV;

/// A pidfd for `pid`, through libc's `syscall` (an oracle independent of
/// rawmap), or the errno.
fn pidfd_open(pid: libc::pid_t) -> Result<i32, i32> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        Err(common::mem::last_errno())
    } else {
        Ok(fd as i32)
    }
}

/// A child that waits until the returned pipe end is written (or closed),
/// then exits with 0: (pid, write end).
fn waiting_child() -> (libc::pid_t, i32) {
    let (r, w) = pipe();
    let pid = fork_child(move || {
        let mut b = 0u8;
        // SAFETY: reads one byte into `b`.
        unsafe { libc::read(r, ptr::from_mut(&mut b).cast(), 1) };
        0
    });
    close(r);
    (pid, w)
}

// ---------------------------------------------------------------------------
// mseal

// Ported from tools/testing/selftests/mm/mseal_test.c (test_seal_munmap,
// test_seal_mprotect, test_seal_mremap_shrink, test_seal_mremap_move,
// test_seal_mmap_overwrite_prot, test_seal_discard_ro_anon) and LTP's
// testcases/kernel/syscalls/mseal/mseal01.c.
#[test]
fn sealed_range_refuses_changes_with_eperm() {
    let _g = serial();
    let ps = page_size();
    let sealing = has_mseal();
    check_in_child(|| {
        let p = anon(4 * ps);
        // SAFETY: writes the first byte of the fresh mapping.
        unsafe { p.write(7) };
        // SAFETY: the child never unmaps or moves the range afterwards.
        let r = unsafe { mseal(p.cast(), 4 * ps) };
        if !sealing {
            ensure!(r == Err(Errno::ENOSYS), "mseal is ENOSYS without the call");
            // SAFETY: the child's own mapping, used no more.
            ensure!(
                unsafe { munmap(p.cast(), 4 * ps) }.is_ok(),
                "unsealed munmap works"
            );
            return Ok(());
        }
        ensure!(r.is_ok(), "mseal of a mapped range succeeds");
        let v = p.cast::<c_void>();
        // Each call below: the range is sealed, so the kernel refuses every
        // change and none happens.
        ensure!(
            // SAFETY: as said above: sealed, so nothing is unmapped.
            unsafe { munmap(v, 4 * ps) } == Err(Errno::EPERM),
            "munmap EPERM"
        );
        // SAFETY: as above.
        ensure!(
            unsafe { munmap(v.byte_add(ps), ps) } == Err(Errno::EPERM),
            "partial munmap EPERM"
        );
        // SAFETY: as above.
        ensure!(
            unsafe { mprotect(v, ps, Prot::READ) } == Err(Errno::EPERM),
            "mprotect EPERM"
        );
        // SAFETY: as above.
        let shrink = unsafe { mremap(v, 4 * ps, 2 * ps, MremapFlags::empty(), ptr::null_mut()) };
        ensure!(shrink == Err(Errno::EPERM), "mremap shrink EPERM");
        // SAFETY: as above.
        let grow = unsafe { mremap(v, 4 * ps, 8 * ps, MremapFlags::MAYMOVE, ptr::null_mut()) };
        ensure!(grow == Err(Errno::EPERM), "mremap move EPERM");
        // SAFETY: as above; MAP_FIXED over the sealed range is refused.
        let over = unsafe { mmap(v, ps, RW, ANON | MapFlags::FIXED, -1, 0) };
        ensure!(
            over == Err(Errno::EPERM),
            "mmap FIXED over a sealed range EPERM"
        );
        // SAFETY: as above.
        let pk = unsafe { pkey_mprotect(v, ps, Prot::READ, -1) };
        ensure!(pk == Err(Errno::EPERM), "pkey_mprotect EPERM");
        // Everything is still there, readable and writable.
        ensure!(mapped(p, 4 * ps).is_ok(), "the sealed range stays mapped");
        // SAFETY: the range is mapped read-write.
        ensure!(unsafe { p.read() } == 7, "contents are kept");
        // SAFETY: as above.
        unsafe { p.add(3 * ps).write(1) };
        // Sealing a sealed range again succeeds.
        // SAFETY: the range is sealed already.
        ensure!(
            unsafe { mseal(v, 4 * ps) }.is_ok(),
            "sealing twice succeeds"
        );
        Ok(())
    });
}

// Ported from mseal_test.c (test_seal_discard_ro_anon): discarding a sealed
// read-only private anonymous range is refused, the contents stay.
#[test]
fn sealed_read_only_anon_refuses_dontneed() {
    let _g = serial();
    let ps = page_size();
    let sealing = has_mseal();
    check_in_child(|| {
        let p = anon(ps);
        // SAFETY: writes the fresh mapping.
        unsafe { p.write(9) };
        // SAFETY: the child's own mapping, made read-only.
        ensure!(
            unsafe { mprotect(p.cast(), ps, Prot::READ) }.is_ok(),
            "mprotect"
        );
        // SAFETY: the child never unmaps it.
        let r = unsafe { mseal(p.cast(), ps) };
        if !sealing {
            ensure!(r == Err(Errno::ENOSYS), "ENOSYS without mseal");
            return Ok(());
        }
        ensure!(r.is_ok(), "mseal");
        // SAFETY: the kernel refuses the discard on a sealed range.
        let d = unsafe { madvise(p.cast(), ps, UncheckedAdvice::DontNeed) };
        ensure!(
            d == Err(Errno::EPERM),
            "MADV_DONTNEED on sealed read-only anon EPERM"
        );
        // SAFETY: the page is mapped readable.
        ensure!(unsafe { p.read() } == 9, "contents kept");
        // Advice that keeps contents is allowed.
        // SAFETY: MADV_WILLNEED does not change contents.
        ensure!(
            unsafe { madvise(p.cast(), ps, Advice::WillNeed) }.is_ok(),
            "WILLNEED allowed"
        );
        Ok(())
    });
}

// Ported from mseal_test.c (test_seal_start_mprotect, test_seal_unmapped_*)
// and LTP's mseal02.c: the refused call changes nothing, the unsealed part
// of the same mapping stays free to change, and a bad range is an error.
#[test]
fn mseal_partial_range_and_errors() {
    let _g = serial();
    let ps = page_size();
    let sealing = has_mseal();
    check_in_child(|| {
        let p = anon(3 * ps);
        let v = p.cast::<c_void>();
        // Unaligned start: EINVAL (ENOSYS without the call).
        // SAFETY: refused before anything is sealed.
        let e = unsafe { mseal(v.byte_add(1), ps) };
        ensure!(
            e == Err(if sealing {
                Errno::EINVAL
            } else {
                Errno::ENOSYS
            }),
            "unaligned"
        );
        // A range that wraps: EINVAL. A 32-bit program on a 64-bit kernel
        // cannot wrap it (the kernel adds in 64 bits): there the range runs
        // into unmapped space, ENOMEM.
        // SAFETY: as above.
        let e = unsafe { mseal(v, usize::MAX - ps + 2) };
        ensure!(
            e == Err(if !sealing {
                Errno::ENOSYS
            } else if cfg!(target_pointer_width = "64") {
                Errno::EINVAL
            } else {
                Errno::ENOMEM
            }),
            "wrapping len"
        );
        // A hole in the range: ENOMEM, and nothing sealed.
        // SAFETY: the child's own page, used no more.
        ensure!(
            unsafe { munmap(v.byte_add(ps), ps) }.is_ok(),
            "punch a hole"
        );
        // SAFETY: refused, the range has a hole.
        let e = unsafe { mseal(v, 3 * ps) };
        ensure!(
            e == Err(if sealing {
                Errno::ENOMEM
            } else {
                Errno::ENOSYS
            }),
            "hole: ENOMEM"
        );
        // SAFETY: the first page is the child's and unsealed.
        ensure!(
            unsafe { mprotect(v, ps, Prot::READ) }.is_ok(),
            "nothing was sealed"
        );
        if !sealing {
            return Ok(());
        }
        // Seal only the last page; the first stays free.
        // SAFETY: the child never unmaps the last page.
        ensure!(
            unsafe { mseal(v.byte_add(2 * ps), ps) }.is_ok(),
            "seal the last page"
        );
        // SAFETY: refused as a whole: the range includes the sealed page.
        let e = unsafe { munmap(v, 3 * ps) };
        ensure!(e == Err(Errno::EPERM), "munmap over a sealed page EPERM");
        ensure!(mapped(p, ps).is_ok(), "the refused munmap unmapped nothing");
        // SAFETY: the first page is unsealed and the child's.
        ensure!(unsafe { munmap(v, ps) }.is_ok(), "the unsealed page unmaps");
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// Guard regions

// Ported from tools/testing/selftests/mm/guard-regions.c (basic,
// multi_vma, ...) and LTP's madvise12.c: a guard page kills whoever touches
// it, the kernel cannot copy to or from it, and it adds no VMA.
#[test]
fn guard_page_kills_a_child_that_touches_it() {
    let _g = serial();
    let ps = page_size();
    let p = anon(4 * ps);
    // SAFETY: the mapping is ours; writes one byte per page.
    unsafe {
        for i in 0..4 {
            p.add(i * ps).write(i as u8 + 1);
        }
    }
    let guard = p.wrapping_add(ps);
    // SAFETY: our mapping; guard advice discards the page's contents.
    let r = unsafe { madvise(guard.cast(), ps, UncheckedAdvice::GuardInstall) };
    let touch = || {
        no_core_dumps();
        silence_stderr();
        // SAFETY: a volatile read of a page of our mapping.
        i32::from(unsafe { guard.read_volatile() })
    };
    if has_guards() {
        assert_eq!(r, Ok(()));
        assert_eq!(
            in_child(touch),
            SIGSEGV_EXIT,
            "touching a guard page is SIGSEGV"
        );
        assert_eq!(
            kernel_can_read(guard),
            Err(libc::EFAULT),
            "the kernel cannot read it"
        );
        // The neighbours are untouched and the mapping is one VMA.
        // SAFETY: pages 0 and 2 are mapped read-write.
        assert_eq!(unsafe { (p.read(), p.add(2 * ps).read()) }, (1, 3));
        // (the kernel may have merged the mapping with a neighbour)
        let entry = |a: *mut u8| common::proc::maps_entry(a as usize).expect("mapped");
        let (start, end, _) = entry(p);
        assert!(
            start <= p as usize && end >= p as usize + 4 * ps,
            "no split"
        );
        assert_eq!(entry(guard), entry(p), "no extra VMA for the guard");
        assert_eq!(
            entry(p.wrapping_add(3 * ps)),
            entry(p),
            "no extra VMA after it"
        );
        // Removing the guard gives back a zero page.
        // SAFETY: as above.
        assert_eq!(
            unsafe { madvise(guard.cast(), ps, UncheckedAdvice::GuardRemove) },
            Ok(())
        );
        assert_eq!(
            in_child(touch),
            0,
            "after GUARD_REMOVE the page reads as zero"
        );
    } else if under_qemu_user() {
        // QEMU 7.2 answers 0 and installs nothing: the page is still there.
        assert_eq!(r, Ok(()));
        assert_eq!(
            in_child(touch),
            2,
            "QEMU installs no guard; the contents stay"
        );
        // SAFETY: as above.
        assert_eq!(
            unsafe { madvise(guard.cast(), ps, UncheckedAdvice::GuardRemove) },
            Ok(())
        );
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "kernels before 6.13 have no guard advice"
        );
        // SAFETY: as above.
        let rm = unsafe { madvise(guard.cast(), ps, UncheckedAdvice::GuardRemove) };
        assert_eq!(rm, Err(Errno::EINVAL));
        assert_eq!(in_child(touch), 2);
    }
    unmap(p, 4 * ps);
}

// Ported from guard-regions.c (mlock): guard advice on a locked range is
// refused with EINVAL.
#[test]
fn guard_install_refuses_a_locked_range() {
    let _g = serial();
    let ps = page_size();
    let p = anon(ps);
    // SAFETY: our mapping; locking changes no contents (QEMU 7.2 has
    // mlock, not mlock2).
    unsafe { rawmap::mlock(p.cast(), ps) }.expect("mlock");
    // SAFETY: our mapping; refused (or a no-op) on a locked range.
    let r = unsafe { madvise(p.cast(), ps, UncheckedAdvice::GuardInstall) };
    if under_qemu_user() {
        assert_eq!(r, Ok(()), "QEMU answers 0");
    } else {
        assert_eq!(r, Err(Errno::EINVAL));
    }
    unmap(p, ps);
}

// ---------------------------------------------------------------------------
// MAP_DROPPABLE

// Ported from tools/testing/selftests/mm/droppable.c: droppable memory maps
// and holds what is written; a child of fork sees zeros (the kernel makes
// it wipe-on-fork).
#[test]
fn droppable_maps_and_is_wiped_in_a_child() {
    let _g = serial();
    let ps = page_size();
    let flags = MapFlags::DROPPABLE | MapFlags::ANONYMOUS;
    // SAFETY: a new anonymous mapping replaces nothing.
    let r = unsafe { mmap(ptr::null_mut(), 2 * ps, RW, flags, -1, 0) };
    if !has_droppable() {
        assert_eq!(r, Err(Errno::EINVAL), "before 6.11 and under QEMU 7.2");
        return;
    }
    let p = r.expect("MAP_DROPPABLE maps").cast::<u8>();
    // SAFETY: our fresh read-write mapping.
    unsafe { p.write(0xaa) };
    // SAFETY: as above.
    assert_eq!(unsafe { p.read() }, 0xaa);
    // SAFETY: the child reads the first byte of the inherited range.
    assert_eq!(in_child(|| i32::from(unsafe { p.read_volatile() })), 0);
    unmap(p, 2 * ps);
}

// droppable.c's flag checks: a map type, so SHARED | DROPPABLE is another,
// unknown type, and LOCKED, HUGETLB or a file with it are refused.
#[test]
fn droppable_combinations_are_einval() {
    let _g = serial();
    let ps = page_size();
    let anon_d = MapFlags::DROPPABLE | MapFlags::ANONYMOUS;
    let file = common::file_with(&[0u8; 64]);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    for (flags, fd) in [
        (anon_d | MapFlags::SHARED, -1),
        (anon_d | MapFlags::PRIVATE, -1),
        (anon_d | MapFlags::LOCKED, -1),
        (anon_d | MapFlags::HUGETLB, -1),
        (MapFlags::DROPPABLE, fd),
    ] {
        // SAFETY: refused; a new mapping would replace nothing.
        let r = unsafe { mmap(ptr::null_mut(), ps, RW, flags, fd, 0) };
        let map_type = flags.bits() & 0x0f;
        if under_qemu_user() && fd == -1 && (map_type == 0x09 || map_type == 0x0a) {
            // QEMU 7.2 tests the SHARED bit alone: 0x09 maps shared, 0x0a
            // private, where a kernel sees an unknown map type.
            let p = r.expect("QEMU maps an unknown map type").cast::<u8>();
            // SAFETY: the child writes its copy (or the shared page).
            let child = || {
                // SAFETY: as above.
                unsafe { p.write_volatile(3) };
                0
            };
            assert_eq!(in_child(child), 0);
            // SAFETY: our mapping, readable.
            let seen = unsafe { p.read() };
            assert_eq!(seen, if map_type == 0x09 { 3 } else { 0 }, "{flags:?}");
            unmap(p, ps);
        } else {
            assert_eq!(r, Err(Errno::EINVAL), "{flags:?} fd {fd}");
        }
    }
}

// ---------------------------------------------------------------------------
// process_madvise

// Ported from tools/testing/selftests/mm/process_madv.c (basic, remote
// advice limits, exited process, bad flags): advice on a child's memory
// through its pidfd.
#[test]
fn process_madvise_on_a_childs_pidfd() {
    let _g = serial();
    let ps = page_size();
    let p = anon(4 * ps);
    // SAFETY: our mapping; the child inherits a copy at the same address.
    unsafe { p.write_bytes(1, 4 * ps) };
    let (pid, w) = waiting_child();
    let pidfd = pidfd_open(pid).expect("pidfd_open");
    let iov = [
        IoVec::new(p.cast(), 2 * ps),
        IoVec::new(p.wrapping_add(3 * ps).cast(), ps),
    ];
    // SAFETY: the pidfd is the child's: the advice keeps its contents.
    let cold = unsafe { process_madvise(pidfd, &iov, Advice::Cold, 0) };
    // SAFETY: as above.
    let pageout = unsafe { process_madvise(pidfd, &iov, Advice::PageOut, 0) };
    // SAFETY: refused for another process.
    let dontneed = unsafe { process_madvise(pidfd, &iov, UncheckedAdvice::DontNeed, 0) };
    // SAFETY: refused: flags must be 0.
    let badflags = unsafe { process_madvise(pidfd, &iov, Advice::Cold, 1) };
    // SAFETY: refused: not a pidfd.
    let badfd = unsafe { process_madvise(0, &iov, Advice::Cold, 0) };
    // SAFETY: the kernel writes the byte to the pipe.
    unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
    close(w);
    assert_eq!(exit_code(wait(pid)), 0);
    // SAFETY: the child has exited and been reaped.
    let gone = unsafe { process_madvise(pidfd, &iov, Advice::Cold, 0) };
    close(pidfd);
    if under_qemu_user() {
        for r in [cold, pageout, dontneed, badflags, badfd, gone] {
            assert_eq!(r, Err(Errno::ENOSYS), "QEMU 7.2 has no process_madvise");
        }
    } else {
        assert_eq!(cold, Ok(3 * ps), "all three pages advised");
        assert_eq!(pageout, Ok(3 * ps));
        assert_eq!(
            dontneed,
            Err(Errno::EINVAL),
            "destructive advice is refused remotely"
        );
        assert_eq!(badflags, Err(Errno::EINVAL));
        assert_eq!(badfd, Err(Errno::EBADF));
        assert_eq!(gone, Err(Errno::ESRCH), "the process has exited");
    }
    // Our copy is untouched.
    // SAFETY: our mapping, read-write.
    assert!(
        unsafe { common::mem::bytes(p, 4 * ps) }
            .iter()
            .all(|&b| b == 1)
    );
    unmap(p, 4 * ps);
}

// process_madv.c (process_madvise on self): since 6.13 any advice for the
// calling process itself; before, only the remote list.
#[test]
fn process_madvise_on_self() {
    let _g = serial();
    let ps = page_size();
    let p = anon(ps);
    // SAFETY: our mapping.
    unsafe { p.write(5) };
    // SAFETY: our own pid.
    let pidfd = pidfd_open(unsafe { libc::getpid() }).expect("pidfd_open");
    let iov = [IoVec::new(p.cast(), ps)];
    // SAFETY: our mapping: its contents may go.
    let r = unsafe { process_madvise(pidfd, &iov, UncheckedAdvice::DontNeed, 0) };
    close(pidfd);
    if under_qemu_user() {
        assert_eq!(r, Err(Errno::ENOSYS));
    } else if kernel_at_least(6, 13) {
        assert_eq!(r, Ok(ps));
        // SAFETY: the page is mapped; MADV_DONTNEED left zeros.
        assert_eq!(unsafe { p.read() }, 0);
    } else {
        assert_eq!(r, Err(Errno::EINVAL));
        // SAFETY: as above; nothing was discarded.
        assert_eq!(unsafe { p.read() }, 5);
    }
    unmap(p, ps);
}

// ---------------------------------------------------------------------------
// mlock2, mlockall

/// Resident pages of `[p, p + n pages)` per `mincore` (one byte per page
/// of the real page size; QEMU with larger pages writes more, never fewer).
fn resident(p: *mut u8, pages: usize) -> usize {
    let (vec, _) = common::mem::mincore_vec(p, pages * page_size()).expect("mincore");
    vec[..pages].iter().filter(|b| **b & 1 == 1).count()
}

// Ported from tools/testing/selftests/mm/mlock2-tests.c
// (test_mlock_onfault, test_lock_onfault_of_present): MLOCK_ONFAULT locks
// without faulting in; plain mlock2 faults everything in.
#[test]
fn mlock2_onfault_locks_without_faulting_in() {
    let _g = serial();
    let ps = page_size();
    let p = anon(4 * ps);
    if under_qemu_user() {
        // QEMU 7.2 has no mlock2.
        for f in [
            MlockFlags::ONFAULT,
            MlockFlags::empty(),
            MlockFlags::from_bits_retain(2),
        ] {
            // SAFETY: our mapping.
            assert_eq!(unsafe { mlock2(p.cast(), 4 * ps, f) }, Err(Errno::ENOSYS));
        }
        assert!(!smaps_vmflags(p as usize).iter().any(|f| f == "lo"));
        unmap(p, 4 * ps);
        return;
    }
    // SAFETY: our mapping.
    assert_eq!(
        unsafe { mlock2(p.cast(), 4 * ps, MlockFlags::ONFAULT) },
        Ok(())
    );
    assert!(
        smaps_vmflags(p as usize).iter().any(|f| f == "lo"),
        "VM_LOCKED"
    );
    assert_eq!(resident(p, 4), 0, "ONFAULT faults nothing in");
    // SAFETY: our mapping.
    unsafe { p.add(ps).write(1) };
    // SAFETY: our mapping.
    assert_eq!(unsafe { munlock(p.cast(), 4 * ps) }, Ok(()));
    // SAFETY: our mapping.
    assert_eq!(
        unsafe { mlock2(p.cast(), 4 * ps, MlockFlags::empty()) },
        Ok(())
    );
    assert_eq!(resident(p, 4), 4, "plain mlock2 faults all pages in");
    let bad = MlockFlags::from_bits_retain(0x2);
    // SAFETY: refused: unknown flag.
    assert_eq!(unsafe { mlock2(p.cast(), ps, bad) }, Err(Errno::EINVAL));
    unmap(p, 4 * ps);
    let mut vec = [0u8; 1];
    // SAFETY: the range was unmapped; mincore answers ENOMEM, vec has room.
    assert_eq!(
        unsafe { mincore(p.cast(), ps, vec.as_mut_ptr()) },
        Err(Errno::ENOMEM)
    );
}

// mlock2-tests.c (test_mlockall): MCL_FUTURE | MCL_ONFAULT locks mappings
// made afterwards; munlockall ends it. Flag errors from mlockall(2).
#[test]
fn mlockall_future_onfault_then_munlockall() {
    let _g = serial();
    let ps = page_size();
    assert_eq!(mlockall(MlockAllFlags::empty()), Err(Errno::EINVAL));
    assert_eq!(mlockall(MlockAllFlags::ONFAULT), Err(Errno::EINVAL));
    assert_eq!(
        mlockall(MlockAllFlags::from_bits_retain(0x10)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mlockall(MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT),
        Ok(())
    );
    let p = anon(2 * ps);
    let locked = smaps_vmflags(p as usize);
    assert_eq!(munlockall(), Ok(()));
    let unlocked = smaps_vmflags(p as usize);
    let q = anon(ps);
    let after = smaps_vmflags(q as usize);
    unmap(p, 2 * ps);
    unmap(q, ps);
    // qemu-arm (7.2) answers 0 but places the guest's new mapping in its
    // own reservation of the guest address space, which MCL_FUTURE does not
    // reach (qemu-aarch64 and qemu-i386 lock it).
    let future_locks = !(under_qemu_user() && cfg!(target_arch = "arm"));
    assert_eq!(
        locked.iter().any(|f| f == "lo"),
        future_locks,
        "FUTURE locks a new mapping: {locked:?}"
    );
    assert!(
        !unlocked.iter().any(|f| f == "lo"),
        "munlockall unlocks it: {unlocked:?}"
    );
    assert!(
        !after.iter().any(|f| f == "lo"),
        "and ends FUTURE: {after:?}"
    );
}

// ---------------------------------------------------------------------------
// Protection keys

/// Whether this CPU and kernel have protection keys: x86_64's PKU enabled
/// by the kernel (`ospke`), aarch64's POE (`poe`, Linux 6.12).
fn cpu_has_pkeys() -> bool {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let has = |w: &str| cpuinfo.split_whitespace().any(|f| f == w);
    match std::env::consts::ARCH {
        // (QEMU's user mode shows the host's cpuinfo but has no pkey calls)
        _ if under_qemu_user() => false,
        "x86_64" | "x86" => has("ospke"),
        "aarch64" => has("poe") && kernel_at_least(6, 12),
        _ => false,
    }
}

/// `pkey_alloc` through libc's `syscall`: the oracle.
fn libc_pkey_alloc(flags: u32, rights: u32) -> Result<i32, i32> {
    // SAFETY: pkey_alloc takes two integers.
    let r = unsafe { libc::syscall(libc::SYS_pkey_alloc, flags, rights) };
    if r < 0 {
        Err(common::mem::last_errno())
    } else {
        Ok(r as i32)
    }
}

// Ported from tools/testing/selftests/mm/protection_keys.c (test_pkey_alloc_*,
// test_ptrace_of_child's write-disable) and LTP's pkey01.c: a key that
// disables writes makes a child's write fault, and the kernel's too.
#[test]
fn pkeys_work_with_hardware_and_answer_the_kernel_otherwise() {
    let _g = serial();
    let ps = page_size();
    // An x86 kernel on a CPU without PKU gives a process's first pkey_alloc
    // key 0, fails to set its rights (EINVAL) and cannot free key 0 again, so
    // that first call answers EINVAL and every later one ENOSPC. Nothing
    // else in this process asks for a key: this first call meets that
    // state, and rawmap and libc are then compared on the settled one.
    let first = libc_pkey_alloc(0, PkeyAccess::DISABLE_WRITE.bits());
    if let Ok(k) = first {
        // SAFETY: no page carries the key just allocated.
        assert_eq!(unsafe { pkey_free(k) }, Ok(()));
    } else if cfg!(any(target_arch = "x86_64", target_arch = "x86"))
        && !under_qemu_user()
        && !cpu_has_pkeys()
    {
        assert_eq!(first, Err(libc::EINVAL), "the first call without PKU");
    }
    let ours = pkey_alloc(0, PkeyAccess::DISABLE_WRITE);
    let theirs = libc_pkey_alloc(0, PkeyAccess::DISABLE_WRITE.bits());
    common::report(&format!("raw_modern: pkey_alloc answers {ours:?}"));
    assert_eq!(
        ours.is_ok(),
        theirs.is_ok(),
        "rawmap {ours:?} vs libc {theirs:?}"
    );
    assert_eq!(
        pkey_alloc(1, PkeyAccess::empty()).err(),
        libc_pkey_alloc(1, 0).err().map(Errno::new)
    );
    if let Ok(k) = theirs {
        // SAFETY: no page carries libc's key.
        assert_eq!(unsafe { pkey_free(k) }, Ok(()));
    }
    let p = anon(ps);
    match ours {
        Ok(key) => {
            assert!(cpu_has_pkeys(), "a key without hardware keys");
            assert!(key > 0, "key 0 is the default key");
            // SAFETY: our mapping, kept readable.
            assert_eq!(unsafe { pkey_mprotect(p.cast(), ps, RW, key) }, Ok(()));
            // SAFETY: our mapping, readable.
            assert_eq!(unsafe { p.read() }, 0, "reads are allowed");
            assert_eq!(
                common::mem::kernel_can_write(p),
                Err(libc::EFAULT),
                "the kernel cannot write"
            );
            let write = || {
                no_core_dumps();
                silence_stderr();
                // SAFETY: a write to our mapping, which the key forbids.
                unsafe { p.write_volatile(1) };
                0
            };
            assert_eq!(
                in_child(write),
                SIGSEGV_EXIT,
                "a write under the key faults"
            );
            // SAFETY: back to the default key before freeing ours.
            assert_eq!(unsafe { pkey_mprotect(p.cast(), ps, RW, 0) }, Ok(()));
            // SAFETY: no page carries the key any more.
            assert_eq!(unsafe { pkey_free(key) }, Ok(()));
            // SAFETY: freed already.
            assert_eq!(unsafe { pkey_free(key) }, Err(Errno::EINVAL));
        }
        Err(e) => {
            assert!(!cpu_has_pkeys(), "{e} with hardware keys");
            assert_eq!(Err(e.into_raw()), theirs, "the kernel's own answer");
            // SAFETY: refused: key 1 is not allocated.
            let r = unsafe { pkey_mprotect(p.cast(), ps, RW, 1) };
            if under_qemu_user() || (cfg!(target_arch = "aarch64") && !kernel_at_least(6, 12)) {
                // QEMU 7.2 has no pkey calls; arm64 kernels before 6.12 are
                // built without them.
                assert_eq!(e, Errno::ENOSYS);
                assert_eq!(r, Err(Errno::ENOSYS));
                // SAFETY: refused: the call is absent.
                assert_eq!(unsafe { pkey_free(15) }, Err(Errno::ENOSYS));
            } else {
                // The calls exist and no key is free without the hardware
                // (or an aarch64 kernel built without POE has no calls).
                assert!(matches!(e, Errno::ENOSPC | Errno::ENOSYS), "{e}");
                let want = if e == Errno::ENOSYS {
                    Errno::ENOSYS
                } else {
                    Errno::EINVAL
                };
                assert_eq!(r, Err(want), "key 1 is not allocated");
            }
        }
    }
    // Key -1 is mprotect (or ENOSYS where the kernel lacks the call).
    // SAFETY: our mapping, made read-only.
    let r = unsafe { pkey_mprotect(p.cast(), ps, Prot::READ, -1) };
    if r.is_ok() {
        assert_eq!(common::mem::kernel_can_write(p), Err(libc::EFAULT));
    } else {
        assert_eq!(r, Err(Errno::ENOSYS));
    }
    unmap(p, ps);
}
