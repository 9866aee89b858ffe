//! Unmapping and protecting ranges through the raw layer: `munmap` and
//! `mprotect` with their effect observed (what `mincore` sees mapped, what
//! the kernel may read and write), whole pages at a time, and their errors
//! with the exact errno, including a 4K-aligned address that a 16K or 64K
//! kernel refuses.
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
use common::mem::{
    ANON, RW, SUB_PAGE, anon, anon_with_hole, kernel_can_read, kernel_can_write, mapped,
    never_mapped, readable, sub_page_accepted, unmap, writable,
};
use common::{serial, under_qemu_user};
use rawmap::{Errno, Prot, mmap, mprotect, munmap, page_size};

#[test]
fn munmap_unaligned_address_is_einval() {
    let _g = serial();
    let p = anon(2 * page_size());
    // SAFETY: the call fails on the address and unmaps nothing.
    let r = unsafe { munmap(p.wrapping_add(1).cast(), page_size()) };
    assert_eq!(r, Err(Errno::EINVAL));
    // Still mapped.
    // SAFETY: the mapping is this test's.
    unsafe { p.write(1) };
    unmap(p, 2 * page_size());
}

#[test]
fn munmap_zero_length_is_einval() {
    let _g = serial();
    let p = anon(page_size());
    // SAFETY: the call fails on the length and unmaps nothing.
    assert_eq!(unsafe { munmap(p.cast(), 0) }, Err(Errno::EINVAL));
    unmap(p, page_size());
}

#[test]
fn munmap_then_mincore_is_enomem() {
    let _g = serial();
    let page = page_size();
    let len = 3 * page;
    check_in_child(|| {
        // SAFETY: a new mapping, removed again below; nothing else maps
        // into the range afterwards (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), len, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        ensure!(mapped(p, len).is_ok(), "mapped before");
        // SAFETY: the mapping made above, no longer used.
        ensure!(unsafe { munmap(p.cast(), len) }.is_ok(), "munmap");
        ensure!(mapped(p, len) == Err(Errno::ENOMEM), "unmapped after");
        // Each page of it is gone, not only the first.
        for i in 0..3 {
            ensure!(
                mapped(p.wrapping_add(i * page), page) == Err(Errno::ENOMEM),
                "page gone"
            );
        }
        // Unmapping a range with nothing in it is not an error.
        // SAFETY: nothing is mapped there.
        let r = unsafe { munmap(p.cast(), len) };
        ensure!(r.is_ok(), "munmap of nothing");
        Ok(())
    });
}

#[test]
fn munmap_of_the_middle_splits_the_mapping() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        let p = anon_with_hole(3, 1)?;
        ensure!(mapped(p, page).is_ok(), "first page stays");
        ensure!(
            mapped(p.wrapping_add(page), page) == Err(Errno::ENOMEM),
            "middle gone"
        );
        ensure!(
            mapped(p.wrapping_add(2 * page), page).is_ok(),
            "last page stays"
        );
        // SAFETY: the pages on either side are still writable.
        unsafe {
            p.write(1);
            p.add(2 * page).write(1);
        }
        Ok(())
    });
}

#[test]
fn munmap_needs_a_page_aligned_address_and_unmaps_whole_pages() {
    let _g = serial();
    let page = page_size();
    let p = anon(3 * page);
    // SAFETY: `p` is 3 pages of writable memory owned by this test.
    unsafe { p.write_bytes(1, 3 * page) };
    // SAFETY: inside this test's mapping; what it unmaps is not used again
    // except through `writable`, which cannot fault.
    let r = unsafe { munmap(p.add(SUB_PAGE).cast(), SUB_PAGE) };
    if sub_page_accepted() {
        assert_eq!(r, Ok(()));
        assert!(
            !writable(p.wrapping_add(SUB_PAGE)),
            "the unmapped part is gone"
        );
        assert!(writable(p), "the part before stays");
        if !under_qemu_user() {
            assert_eq!(
                mapped(p.wrapping_add(SUB_PAGE), SUB_PAGE),
                Err(Errno::ENOMEM)
            );
        }
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "munmap at {SUB_PAGE} with {page}-byte pages"
        );
        assert!(writable(p.wrapping_add(SUB_PAGE)), "nothing was unmapped");
    }

    // A length short of a page unmaps the whole page on a kernel; QEMU's
    // user mode unmaps only its 4K target pages.
    let last = p.wrapping_add(2 * page);
    // SAFETY: the last page of this test's mapping, not used again but
    // through `writable`.
    unsafe { munmap(last.cast(), 1) }.unwrap();
    assert!(!writable(last));
    let tail = last.wrapping_add(page - 1);
    if under_qemu_user() && page > SUB_PAGE {
        assert!(writable(tail), "QEMU unmaps only a 4K target page");
    } else {
        assert!(!writable(tail), "the whole page is unmapped");
        if !under_qemu_user() {
            assert_eq!(mapped(last, page), Err(Errno::ENOMEM));
        }
    }
    // SAFETY: the rest of this test's mapping (holes included: munmap of a
    // range with nothing in it is not an error).
    unsafe { munmap(p.cast(), 3 * page) }.unwrap();
}

#[test]
fn mprotect_changes_what_the_kernel_may_access() {
    let _g = serial();
    let page = page_size();
    let p = anon(page);
    // SAFETY: the mapping is this test's.
    unsafe { p.write(0x5a) };
    assert_eq!(kernel_can_write(p), Ok(()));
    // SAFETY: the byte is read back before and after each change; no
    // reference into the page lives across them.
    unsafe {
        p.write(0x5a);
        mprotect(p.cast(), page, Prot::READ).unwrap();
        assert_eq!(kernel_can_write(p), Err(libc::EFAULT));
        assert_eq!(kernel_can_read(p), Ok(()));
        assert_eq!(p.read(), 0x5a);

        mprotect(p.cast(), page, Prot::NONE).unwrap();
        assert_eq!(kernel_can_read(p), Err(libc::EFAULT));

        mprotect(p.cast(), page, RW).unwrap();
        assert_eq!(p.read(), 0x5a);
        assert_eq!(kernel_can_write(p), Ok(()));
        assert_eq!(p.read(), 0, "read(2) from /dev/zero wrote the byte");
    }
    unmap(p, page);
}

#[test]
fn mprotect_errors() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: every call fails and changes nothing.
    unsafe {
        assert_eq!(
            mprotect(p.wrapping_add(1).cast(), page, Prot::READ),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mprotect(never_mapped(), page, Prot::READ),
            Err(Errno::ENOMEM)
        );
        // Bits no architecture knows, and both directions of growth at once.
        assert_eq!(
            mprotect(p.cast(), page, Prot::from_bits_retain(0x100)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mprotect(p.cast(), page, Prot::GROWSDOWN | Prot::GROWSUP),
            Err(Errno::EINVAL)
        );
    }
    // The failed calls changed nothing.
    assert_eq!(kernel_can_write(p), Ok(()));
    unmap(p, 2 * page);
}

#[test]
fn mprotect_needs_a_page_aligned_address_and_covers_whole_pages() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: `p` is 2 pages of writable memory owned by this test.
    unsafe { p.write_bytes(2, 2 * page) };
    // SAFETY: inside this test's mapping, which no reference points into.
    let r = unsafe { mprotect(p.add(SUB_PAGE).cast(), SUB_PAGE, Prot::READ) };
    if sub_page_accepted() {
        assert_eq!(r, Ok(()));
        assert!(!writable(p.wrapping_add(SUB_PAGE)), "read-only now");
        assert!(readable(p.wrapping_add(SUB_PAGE)));
        assert!(writable(p), "the part before is untouched");
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "mprotect at {SUB_PAGE} with {page}-byte pages"
        );
        assert!(writable(p.wrapping_add(SUB_PAGE)), "nothing changed");
    }

    // A length of one byte protects the whole page on a kernel; QEMU's user
    // mode protects its 4K target page.
    let second = p.wrapping_add(page);
    // SAFETY: as above.
    unsafe { mprotect(second.cast(), 1, Prot::NONE) }.unwrap();
    assert!(!readable(second));
    let tail = second.wrapping_add(page - 1);
    if under_qemu_user() && page > SUB_PAGE {
        assert!(writable(tail), "QEMU protects only a 4K target page");
    } else {
        assert!(!readable(tail), "the whole page is protected");
    }
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 2 * page) }.unwrap();
}
