//! Which pages are resident and what they hold, through the raw layer:
//! `madvise` (advice that keeps the contents, and `MADV_DONTNEED`, which
//! drops them: zeros for private anonymous memory, the file's bytes again
//! for a private file mapping, whole pages of the real page size only),
//! `mlock`/`munlock` (seen in `VmLck`) and `mincore`, with their errors.
//!
//! Where QEMU's user mode differs from a kernel (DESIGN.md lists the known
//! cases; a few more are noted here), a test asserts QEMU's behaviour under
//! QEMU and the kernel's elsewhere, and says so. Where "page" appears it is
//! `rawmap::page_size()`; [`SUB_PAGE`] is the smallest page of any Linux
//! architecture, which a 16K or 64K kernel refuses as unaligned where QEMU's
//! user mode (which keeps 4K target pages whatever `QEMU_PAGESIZE` says)
//! lets it through.
//!
//! Every test here holds [`serial`] while it runs.

mod common;

use std::os::fd::AsRawFd;
use std::ptr;

use common::fork::{check_in_child, ensure, in_child};
use common::mem::{
    ANON, RW, SUB_PAGE, anon, anon_with_hole, bytes, mincore_vec, never_mapped,
    qemu_with_larger_pages, unmap,
};
use common::proc::{host_page_size, status_kb};
use common::{file_with, pattern, pattern_bytes, pattern_file, serial, under_qemu_user};
use rawmap::{
    Advice, Errno, MapFlags, MmapOptions, Prot, UncheckedAdvice, madvise, mincore, mlock, mmap,
    munlock, munmap, page_size,
};

#[test]
fn madvise_safe_advice_keeps_the_contents() {
    let _g = serial();
    let len = 4 * page_size();
    let p = anon(len);
    // SAFETY: the mapping is this test's; the advice given here cannot
    // change its contents.
    unsafe {
        for i in 0..len {
            p.add(i).write(pattern(i));
        }
        for advice in [
            Advice::Sequential,
            Advice::Random,
            Advice::WillNeed,
            Advice::DontDump,
            Advice::DoDump,
            Advice::Normal,
        ] {
            assert_eq!(madvise(p.cast(), len, advice), Ok(()), "{advice:?}");
        }
        assert!(
            bytes(p, len)
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i))
        );
    }
    unmap(p, len);
}

#[test]
fn dontneed_zeroes_private_anonymous_memory() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: `p` is 2 writable pages owned by this test.
    unsafe { p.write_bytes(0x5a, 2 * page) };
    // Whole pages: dropped, reading back as zeros, everywhere.
    // SAFETY: no reference relies on the contents.
    unsafe { madvise(p.add(page).cast(), page, UncheckedAdvice::DontNeed) }.unwrap();
    // SAFETY: the pages are still mapped and readable.
    let got = unsafe { std::slice::from_raw_parts(p, 2 * page) };
    assert!(
        got[..page].iter().all(|&b| b == 0x5a),
        "the first page is kept ({p:p})"
    );
    assert!(
        got[page..].iter().all(|&b| b == 0),
        "the second page is dropped ({p:p})"
    );

    // SUB_PAGE bytes at SUB_PAGE: on a 4K kernel exactly those are dropped;
    // a 16K or 64K kernel refuses the address; QEMU's user mode accepts it
    // but passes the advice on only for ranges aligned to the page size it
    // reports, so nothing changes.
    // SAFETY: no reference relies on the contents.
    let r = unsafe { madvise(p.add(SUB_PAGE).cast(), SUB_PAGE, UncheckedAdvice::DontNeed) };
    let zeroed = |from: usize, to: usize| got[from..to].iter().all(|&b| b == 0);
    let kept = |from: usize, to: usize| got[from..to].iter().all(|&b| b == 0x5a);
    if page == SUB_PAGE {
        assert_eq!(r, Ok(()));
        assert!(kept(0, SUB_PAGE) && zeroed(SUB_PAGE, 2 * SUB_PAGE));
    } else if under_qemu_user() {
        assert_eq!(r, Ok(()));
        assert!(kept(0, page), "QEMU leaves a sub-page range as it is");
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "DONTNEED at {SUB_PAGE} with {page}-byte pages"
        );
        assert!(kept(0, page));
    }

    // The whole mapping: dropped, reading back as zeros, everywhere (QEMU
    // passes the advice on for mappings made of whole emulated pages).
    // SAFETY: `got` is not used again; no reference relies on the contents.
    unsafe {
        p.write_bytes(0x33, 2 * page);
        madvise(p.cast(), 2 * page, UncheckedAdvice::DontNeed).unwrap();
        assert!(bytes(p, 2 * page).iter().all(|&b| b == 0));
    }
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 2 * page) }.unwrap();
}

#[test]
fn madvise_dontneed_on_a_mapping_shorter_than_a_page() {
    let _g = serial();
    let p = anon(17);
    // SAFETY: as above; only the 17 mapped bytes are touched.
    unsafe {
        p.write_bytes(0x44, 17);
        madvise(p.cast(), page_size(), UncheckedAdvice::DontNeed).unwrap();
        let after = bytes(p, 17);
        if qemu_with_larger_pages() {
            // QEMU with pages larger than the host's backs such a mapping
            // only partly (see mmap_length_is_rounded_up_to_pages), so it
            // does not pass the advice on and returns 0: the old contents
            // stay (DESIGN.md: "MADV_DONTNEED does not zero pages").
            assert!(
                after.iter().all(|&b| b == 0x44),
                "{}",
                common::environment()
            );
        } else {
            assert!(after.iter().all(|&b| b == 0));
        }
    }
    unmap(p, 17);
}

#[test]
fn madvise_dontneed_on_a_private_file_mapping_rereads_the_file() {
    let _g = serial();
    let len = 2 * page_size();
    let (file, expected) = pattern_file(len);
    // SAFETY: a new private mapping of a file only this test uses; no
    // reference into it lives across the advice.
    unsafe {
        let p: *mut u8 = mmap(
            ptr::null_mut(),
            len,
            RW,
            MapFlags::PRIVATE,
            file.as_raw_fd(),
            0,
        )
        .unwrap()
        .cast();
        p.write_bytes(0, len);
        madvise(p.cast(), len, UncheckedAdvice::DontNeed).unwrap();
        // The private copies are gone; the file's bytes show again.
        assert_eq!(bytes(p, len), &expected[..]);
        unmap(p, len);
    }
}

#[test]
fn dontneed_through_the_safe_layer() {
    let _g = serial();
    let page = page_size();
    let mut map = MmapOptions::new().len(2 * page).map_anon().unwrap();
    map.fill(9);
    // SAFETY: no reference relies on the contents.
    unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, page + 1, 1) }.unwrap();
    // rawmap widens the range to whole pages of its page size itself, so
    // the second page is dropped and the first kept, on a kernel and under
    // QEMU's user mode with pages above 4K alike (QEMU passes the advice on
    // only when both ends are aligned to its emulated page).
    let at = map.as_ptr();
    assert!(
        map[..page].iter().all(|&b| b == 9),
        "first page kept ({at:p})"
    );
    assert!(
        map[page..].iter().all(|&b| b == 0),
        "second page dropped ({at:p})"
    );
    // The whole mapping: dropped everywhere.
    // SAFETY: no reference relies on the contents.
    unsafe { map.unchecked_advise(UncheckedAdvice::DontNeed) }.unwrap();
    assert!(map.iter().all(|&b| b == 0), "all dropped ({at:p})");

    // A private file mapping reads the file again.
    let file = file_with(&pattern_bytes(page));
    // SAFETY: the temporary file is private to this test.
    let mut copy = unsafe { MmapOptions::new().map_copy(&file) }.unwrap();
    copy.fill(0);
    // SAFETY: no reference relies on the contents.
    unsafe { copy.unchecked_advise(UncheckedAdvice::DontNeed) }.unwrap();
    assert!(
        copy.iter().enumerate().all(|(i, &b)| b == pattern(i)),
        "the file's contents again"
    );
}

#[test]
fn madvise_unaligned_address_is_einval() {
    let _g = serial();
    let p = anon(2 * page_size());
    // SAFETY: the call fails on the address.
    let r = unsafe { madvise(p.wrapping_add(1).cast(), page_size(), Advice::Normal) };
    assert_eq!(r, Err(Errno::EINVAL));
    unmap(p, 2 * page_size());
}

#[test]
fn madvise_unknown_advice_and_unmapped_range() {
    let _g = serial();
    let p = anon(page_size());
    // SAFETY: an advice number no kernel knows changes nothing; the second
    // range has nothing mapped.
    let (unknown, unmapped) = unsafe {
        (
            madvise(p.cast(), page_size(), 12345),
            madvise(never_mapped(), page_size(), Advice::Normal),
        )
    };
    if under_qemu_user() {
        // QEMU 7.2 treats madvise as a hint: it checks only the alignment
        // and that the range lies in the guest's address space, then
        // returns 0 for every advice but DONTNEED without asking the host.
        assert_eq!(unknown, Ok(()), "{}", common::environment());
        assert_eq!(unmapped, Ok(()), "{}", common::environment());
    } else {
        assert_eq!(unknown, Err(Errno::EINVAL));
        assert_eq!(unmapped, Err(Errno::ENOMEM));
    }
    unmap(p, page_size());
}

#[test]
fn mlock_and_munlock_lock_the_pages() {
    let _g = serial();
    let len = 2 * page_size();
    let p = anon(len);
    let locked_bytes = || status_kb("VmLck") * 1024;
    let before = locked_bytes();
    // SAFETY: the range is this test's mapping; locking changes nothing in it.
    unsafe { mlock(p.cast(), len) }.unwrap();
    assert_eq!(locked_bytes(), before + len);
    // mlock faults the pages in: mincore sees every one resident.
    let (vec, written) = mincore_vec(p, len).unwrap();
    assert!(vec[..written].iter().all(|&b| b & 1 == 1), "{vec:?}");
    // SAFETY: as above.
    unsafe { munlock(p.cast(), len) }.unwrap();
    assert_eq!(locked_bytes(), before);
    unmap(p, len);
}

#[test]
fn mlock_and_munlock_of_an_unmapped_range_are_enomem() {
    let _g = serial();
    // SAFETY: nothing is mapped there; the calls fail.
    unsafe {
        assert_eq!(mlock(never_mapped(), page_size()), Err(Errno::ENOMEM));
        assert_eq!(munlock(never_mapped(), page_size()), Err(Errno::ENOMEM));
    }
}

#[test]
fn mincore_reports_touched_pages() {
    let _g = serial();
    let page = page_size();
    let len = 3 * page;
    let p = anon(len);
    // SAFETY: the mapping is this test's. Touch the first and last page
    // only; an untouched private anonymous page has no memory behind it.
    unsafe {
        p.write(1);
        p.add(2 * page).write(1);
    }
    let (vec, written) = mincore_vec(p, len).unwrap();
    if qemu_with_larger_pages() {
        // QEMU passes mincore to the host as it is: one byte per host page
        // (DESIGN.md), more than a vector sized with page_size() holds. Of
        // each emulated page only the host page written to is resident.
        let per_page = page / host_page_size();
        assert_eq!(written, len / host_page_size(), "{}", common::environment());
        assert_eq!(vec[0] & 1, 1);
        assert_eq!(vec[per_page] & 1, 0);
        assert_eq!(vec[2 * per_page] & 1, 1);
    } else {
        assert_eq!(written, 3);
        assert_eq!(
            vec[..3].iter().map(|b| b & 1).collect::<Vec<_>>(),
            [1, 0, 1]
        );
    }
    unmap(p, len);
}

#[test]
fn mincore_errors() {
    let _g = serial();
    let p = anon(2 * page_size());
    assert_eq!(
        mincore_vec(p.wrapping_add(1), page_size()).map(drop),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mincore_vec(never_mapped().cast(), page_size()).map(drop),
        Err(Errno::ENOMEM)
    );
    // A bad vector: the kernel reports EFAULT rather than faulting.
    // SAFETY: the kernel checks the vector address and fails.
    let r = unsafe { mincore(p.cast(), page_size(), never_mapped().cast()) };
    assert_eq!(r, Err(Errno::EFAULT));
    unmap(p, 2 * page_size());
}

/// Whether every byte `mincore` wrote says "resident" (`Some(true)`), every
/// one says "not resident" (`Some(false)`), or they differ (`None`).
fn all_resident(vec: &[u8]) -> Option<bool> {
    let first = vec.first()? & 1 == 1;
    vec.iter().all(|&b| (b & 1 == 1) == first).then_some(first)
}

// Ported from LTP's mincore01.c: the errors. An address that is not
// page-aligned is EINVAL; a range that runs past the end of the mapping into
// a hole, or past the end of the address space, is ENOMEM; a vector the
// kernel cannot write to is EFAULT, and nothing is written.
#[test]
fn mincore_errors_as_ltp_mincore01() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        let p = anon_with_hole(3, 2)?;
        let mut vec = [0u8; 64];
        let v = vec.as_mut_ptr();
        // SAFETY: `vec` has room for far more bytes than any range here has
        // pages (at the host's page size too); the calls write only there.
        unsafe {
            ensure!(
                mincore(p.add(1).cast(), page, v) == Err(Errno::EINVAL),
                "unaligned"
            );
            ensure!(
                mincore(p.cast(), 3 * page, v) == Err(Errno::ENOMEM),
                "into the hole"
            );
            ensure!(mincore(p.cast(), 2 * page, v).is_ok(), "the mapping itself");
            ensure!(
                mincore(p.cast(), usize::MAX - page, v) == Err(Errno::ENOMEM),
                "past the address space"
            );
        }
        // A read-only vector: EFAULT, and its bytes stay as they are.
        // SAFETY: a new mapping, made read-only before the call.
        let Ok(ro) = (unsafe { mmap(ptr::null_mut(), page, Prot::READ, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        // SAFETY: the kernel checks the vector and fails; `ro` is readable.
        unsafe {
            ensure!(
                mincore(p.cast(), page, ro.cast()) == Err(Errno::EFAULT),
                "read-only vector"
            );
            ensure!(ro.cast::<u8>().read() == 0, "nothing written");
        }
        Ok(())
    });
}

// Ported from LTP's mincore02.c: the pages of a file mapping that `mlock`
// locked are all resident.
#[test]
fn mincore_sees_locked_file_pages_resident() {
    let _g = serial();
    let page = page_size();
    let len = 4 * page;
    let file = file_with(&pattern_bytes(len));
    // SAFETY: a new shared read-only mapping of this test's file.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            Prot::READ,
            MapFlags::SHARED,
            file.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    // SAFETY: the mapping is this test's; locking changes nothing in it.
    unsafe { mlock(p.cast(), len) }.unwrap();
    let (vec, written) = mincore_vec(p, len).unwrap();
    assert_eq!(written, len / host_page_size().min(page));
    assert_eq!(all_resident(&vec[..written]), Some(true), "{vec:?}");
    // SAFETY: as above.
    unsafe { munlock(p.cast(), len) }.unwrap();
    unmap(p, len);
}

// Ported from LTP's mincore03.c: an untouched private anonymous mapping has
// no page resident; once written, every page is; MADV_DONTNEED drops them
// all again.
#[test]
fn mincore_follows_anonymous_pages_in_and_out() {
    let _g = serial();
    let page = page_size();
    let len = 4 * page;
    let p = anon(len);
    let resident = || {
        let (vec, written) = mincore_vec(p, len).unwrap();
        assert_eq!(written, len / host_page_size().min(page));
        all_resident(&vec[..written])
    };
    assert_eq!(resident(), Some(false), "untouched");
    // SAFETY: `p` is this test's, writable.
    unsafe { p.write_bytes(1, len) };
    assert_eq!(resident(), Some(true), "written");
    // SAFETY: no reference relies on the contents.
    unsafe { madvise(p.cast(), len, UncheckedAdvice::DontNeed) }.unwrap();
    assert_eq!(resident(), Some(false), "dropped");
    unmap(p, len);
}

// Ported from LTP's mincore04.c: a file's pages are shared between
// processes. A child writes every page of its own mapping of a new, sparse
// file; the parent's mapping of it, never touched, then shows them all
// resident, where before it showed none.
#[test]
fn mincore_sees_pages_another_process_brought_in() {
    let _g = serial();
    let page = page_size();
    let len = 4 * page;
    let file = file_with(&[]);
    file.set_len(len as u64).unwrap();
    let fd = file.as_raw_fd();
    let map = || {
        // SAFETY: a new shared mapping of this test's file, as long as it.
        unsafe { mmap(ptr::null_mut(), len, RW, MapFlags::SHARED, fd, 0) }.map(|p| p.cast::<u8>())
    };
    let p = map().unwrap();
    let resident = || {
        let (vec, written) = mincore_vec(p, len).unwrap();
        assert_eq!(written, len / host_page_size().min(page));
        all_resident(&vec[..written])
    };
    assert_eq!(
        resident(),
        Some(false),
        "a sparse file has no page in memory"
    );
    let code = in_child(|| match map() {
        Ok(q) => {
            // SAFETY: the child's own mapping of the file, writable.
            unsafe { q.write_bytes(0x42, len) };
            0
        }
        Err(_) => 1,
    });
    assert_eq!(code, 0);
    assert_eq!(resident(), Some(true), "the child's pages, seen here");
    // SAFETY: the mapping is this test's; the child's bytes show through.
    assert!(unsafe { bytes(p, len) }.iter().all(|&b| b == 0x42));
    unmap(p, len);
}
