//! `msync` through the raw layer: its flags, the alignment it checks (the
//! premise of `page_size()`'s last-resort probe, and a 4K-aligned address
//! that a 16K or 64K kernel refuses, for `madvise` too) and `ENOMEM` for a
//! range with a hole. (What `msync` writes back is observed in
//! tests/raw_mmap.rs.)
//!
//! Where QEMU's user mode differs from a kernel (DESIGN.md lists the known
//! cases; a few more are noted here), a test asserts QEMU's behaviour under
//! QEMU and the kernel's elsewhere, and says so. Where "page" appears it is
//! `rawmap::page_size()`; [`SUB_PAGE`] is the smallest page of any Linux
//! architecture, which a 16K or 64K kernel refuses as unaligned where QEMU's
//! user mode (which keeps 4K target pages whatever `QEMU_PAGESIZE` says)
//! lets it through.
//!
//! Several tests need an address range to stay unmapped between two calls
//! (after `munmap`, or a hole next to a mapping). Any other thread could map
//! into such a hole: another test, the test harness starting a thread, the
//! allocator. So every test here holds [`serial`] while it runs, and the
//! checks that need a hole run in a child process made with `fork`, which
//! has a single thread ([`check_in_child`]).

mod common;

use std::ptr;

use common::fork::{check_in_child, ensure};
use common::mem::{ANON, RW, SUB_PAGE, anon, never_mapped, sub_page_accepted, unmap};
use common::proc::host_page_size;
use common::{serial, under_qemu_user};
use rawmap::{Errno, MsyncFlags, c_void, madvise, mmap, msync, munmap, page_size};

#[test]
fn msync_async_and_sync_together_is_einval() {
    let _g = serial();
    let p = anon(page_size());
    // SAFETY: the call fails on its flags.
    let r = unsafe { msync(p.cast(), page_size(), MsyncFlags::ASYNC | MsyncFlags::SYNC) };
    assert_eq!(r, Err(Errno::EINVAL));
    // Each alone succeeds on the same range, as does INVALIDATE.
    for flags in [
        MsyncFlags::ASYNC,
        MsyncFlags::SYNC,
        MsyncFlags::INVALIDATE,
        MsyncFlags::empty(),
    ] {
        // SAFETY: the range is this test's mapping.
        let r = unsafe { msync(p.cast(), page_size(), flags) };
        assert_eq!(r, Ok(()), "{flags:?}");
    }
    unmap(p, page_size());
}

#[test]
fn msync_unknown_flag_is_einval() {
    let _g = serial();
    let p = anon(page_size());
    // SAFETY: the call fails on its flags.
    let r = unsafe { msync(p.cast(), page_size(), MsyncFlags::from_bits_retain(0x8)) };
    assert_eq!(r, Err(Errno::EINVAL));
    unmap(p, page_size());
}

#[test]
fn msync_unaligned_address_is_einval() {
    let _g = serial();
    let p = anon(2 * page_size());
    // SAFETY: the call fails on the address.
    let r = unsafe { msync(p.wrapping_add(1).cast(), page_size(), MsyncFlags::SYNC) };
    assert_eq!(r, Err(Errno::EINVAL));
    unmap(p, 2 * page_size());
}

#[test]
fn msync_unmapped_range_is_enomem() {
    let _g = serial();
    // SAFETY: nothing is mapped there; msync only looks.
    let r = unsafe { msync(never_mapped(), page_size(), MsyncFlags::SYNC) };
    assert_eq!(r, Err(Errno::ENOMEM));
    // A range that runs from a mapping into unmapped memory, too.
    let page = page_size();
    check_in_child(|| {
        // SAFETY: a new mapping; its second page is unmapped again, and
        // nothing else maps into it (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 2 * page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let second = p.cast::<u8>().wrapping_add(page).cast::<c_void>();
        // SAFETY: the second page of the mapping made above.
        ensure!(unsafe { munmap(second, page) }.is_ok(), "munmap");
        for flags in [MsyncFlags::ASYNC, MsyncFlags::SYNC] {
            // SAFETY: msync only looks at the range.
            let r = unsafe { msync(p, 2 * page, flags) };
            ensure!(r == Err(Errno::ENOMEM), "msync over a hole is ENOMEM");
        }
        // SAFETY: as above.
        let r = unsafe { msync(p, page, MsyncFlags::SYNC) };
        ensure!(r.is_ok(), "msync of the mapped part");
        Ok(())
    });
}

#[test]
fn msync_checks_alignment_against_the_hosts_page_under_qemu() {
    let _g = serial();
    // The page size probe rests on this: msync with length 0 checks only the
    // address's alignment. A kernel checks it against its page size; QEMU
    // passes msync to the host, which checks against the host's page.
    let page = page_size();
    let host = host_page_size();
    for addr in [page, 2 * page, page + host, page / 2] {
        // SAFETY: a zero-length msync touches nothing.
        let r = unsafe { msync(addr as *mut c_void, 0, MsyncFlags::empty()) };
        if (under_qemu_user() && addr % host == 0) || addr % page == 0 {
            assert_eq!(r, Ok(()), "{addr:#x} under {}", common::environment());
        } else {
            assert_eq!(r, Err(Errno::EINVAL), "{addr:#x}");
        }
    }
    if !under_qemu_user() {
        assert_eq!(host, page, "a kernel's smaps shows its own page size");
    }
}

#[test]
fn madvise_and_msync_need_a_page_aligned_address() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: harmless advice inside this test's mapping.
    let advise = unsafe { madvise(p.add(SUB_PAGE).cast(), SUB_PAGE, rawmap::Advice::Normal) };
    // SAFETY: msync does not change memory; the range is this test's.
    let sync =
        unsafe { rawmap::msync(p.add(SUB_PAGE).cast(), SUB_PAGE, rawmap::MsyncFlags::ASYNC) };
    if sub_page_accepted() {
        assert_eq!((advise, sync), (Ok(()), Ok(())));
    } else {
        assert_eq!((advise, sync), (Err(Errno::EINVAL), Err(Errno::EINVAL)));
    }
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 2 * page) }.unwrap();
}
