//! `mremap` through the raw layer: growing with and without `MAYMOVE` (in
//! place into a free page, `ENOMEM` into a taken one), shrinking in place,
//! and its argument errors with the exact errno.
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
use common::mem::{ANON, RW, anon, bytes, mapped, unmap};
use common::{pattern, serial, under_qemu_user};
use rawmap::{Errno, MremapFlags, Prot, mmap, mprotect, mremap, munmap, page_size};

#[test]
fn mremap_grow_with_maymove_keeps_the_contents() {
    let _g = serial();
    let page = page_size();
    let old = anon(2 * page);
    // SAFETY: the mapping is this test's; after the move only the new
    // address is used.
    unsafe {
        for i in 0..2 * page {
            old.add(i).write(pattern(i));
        }
        let new: *mut u8 = mremap(
            old.cast(),
            2 * page,
            8 * page,
            MremapFlags::MAYMOVE,
            ptr::null_mut(),
        )
        .unwrap()
        .cast();
        assert_eq!(new as usize % page, 0);
        assert!(
            bytes(new, 2 * page)
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i))
        );
        assert!(bytes(new.add(2 * page), 6 * page).iter().all(|&b| b == 0));
        new.add(8 * page - 1).write(1);
        unmap(new, 8 * page);
    }
}

#[test]
fn mremap_grow_without_maymove_into_a_taken_page_is_enomem() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // Make the second page a mapping of its own, so the first one is followed
    // by something taken.
    // SAFETY: the second page is this test's.
    unsafe { mprotect(p.wrapping_add(page).cast(), page, Prot::READ) }.unwrap();
    // SAFETY: the call fails and moves nothing.
    let r = unsafe {
        mremap(
            p.cast(),
            page,
            2 * page,
            MremapFlags::empty(),
            ptr::null_mut(),
        )
    };
    assert_eq!(r, Err(Errno::ENOMEM));
    // SAFETY: the mapping is where it was.
    unsafe { p.write(3) };
    unmap(p, 2 * page);
}

#[test]
fn mremap_grow_without_maymove_into_a_free_page_stays_in_place() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        // SAFETY: a new mapping whose second page is unmapped again, so the
        // first is followed by a free page nobody else takes (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 2 * page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: the second page of the mapping made above.
        let r = unsafe { munmap(p.wrapping_add(page).cast(), page) };
        ensure!(r.is_ok(), "munmap");
        // SAFETY: the mapping is the child's; it grows in place.
        unsafe {
            p.write(42);
            let q = mremap(
                p.cast(),
                page,
                2 * page,
                MremapFlags::empty(),
                ptr::null_mut(),
            );
            ensure!(q == Ok(p.cast()), "grown in place");
            ensure!(p.read() == 42, "contents kept");
            p.add(2 * page - 1).write(1);
        }
        ensure!(mapped(p, 2 * page).is_ok(), "both pages mapped");
        Ok(())
    });
}

#[test]
fn mremap_shrink_keeps_the_start_and_frees_the_rest() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        // SAFETY: a new mapping, shrunk below; the freed part is not used
        // and nothing else maps into it (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 3 * page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: as above.
        unsafe {
            p.write(5);
            let q = mremap(
                p.cast(),
                3 * page,
                page,
                MremapFlags::empty(),
                ptr::null_mut(),
            );
            ensure!(q == Ok(p.cast()), "shrunk in place");
            ensure!(p.read() == 5, "contents kept");
        }
        ensure!(mapped(p, page).is_ok(), "the start stays");
        ensure!(
            mapped(p.wrapping_add(page), 2 * page) == Err(Errno::ENOMEM),
            "the rest is gone"
        );
        Ok(())
    });
}

#[test]
fn mremap_errors() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: every call fails and moves nothing.
    unsafe {
        let null = ptr::null_mut();
        assert_eq!(
            mremap(
                p.wrapping_add(1).cast(),
                page,
                2 * page,
                MremapFlags::MAYMOVE,
                null
            ),
            Err(Errno::EINVAL)
        );
        // A new length of 0: the kernel refuses it with EINVAL. QEMU 7.2
        // first looks for a free range of that length in the guest's
        // address space, finds none, and answers ENOMEM.
        let zero = if under_qemu_user() {
            Errno::ENOMEM
        } else {
            Errno::EINVAL
        };
        assert_eq!(
            mremap(p.cast(), page, 0, MremapFlags::MAYMOVE, null),
            Err(zero),
            "{}",
            common::environment()
        );
        assert_eq!(
            mremap(
                p.cast(),
                page,
                2 * page,
                MremapFlags::from_bits_retain(0x80),
                null
            ),
            Err(Errno::EINVAL)
        );
        // FIXED without MAYMOVE is refused.
        assert_eq!(
            mremap(
                p.cast(),
                page,
                page,
                MremapFlags::FIXED,
                p.wrapping_add(page).cast()
            ),
            Err(Errno::EINVAL)
        );
    }
    // SAFETY: still mapped where it was.
    unsafe { p.write(1) };
    unmap(p, 2 * page);
}
