//! `mremap` through the raw layer: growing with and without `MAYMOVE` (in
//! place into a free page, `ENOMEM` into a taken one, merging with the next
//! mapping), shrinking in place, moving to a `FIXED` address, `DONTUNMAP`,
//! and its argument errors with the exact errno. Several tests port cases
//! of the kernel's selftests (tools/testing/selftests/mm), named at each.
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
use common::mem::{ANON, RW, anon, anon_with_hole, bytes, mapped, unmap};
use common::proc::maps_range_of;
use common::{pattern, serial, under_qemu_user};
use rawmap::{Errno, MremapFlags, Prot, mmap, mprotect, mremap, page_size};

/// Whether one entry of `/proc/self/maps` holds all of `[start, end)`: the
/// kernel merged what was there into one mapping (which may reach further,
/// where a neighbour with the same properties joined it too).
fn one_mapping(start: usize, end: usize) -> bool {
    maps_range_of(start).is_some_and(|(s, e)| s <= start && end <= e)
}

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
        // The first page is followed by a free page nobody else takes.
        let p = anon_with_hole(2, 1)?;
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

// Ported from tools/testing/selftests/mm/mremap_test.c
// (mremap_expand_merge): three pages with the middle one unmapped; the first
// grows in place over the hole, and the kernel merges it with the third into
// one mapping (a neighbour with the same properties may join it too).
#[test]
fn mremap_expand_merges_with_the_next_mapping() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        let p = anon_with_hole(3, 1)?;
        // SAFETY: the first page is the child's; it grows into the hole.
        let r = unsafe {
            mremap(
                p.cast(),
                page,
                2 * page,
                MremapFlags::empty(),
                ptr::null_mut(),
            )
        };
        ensure!(r == Ok(p.cast()), "grown in place");
        let start = p as usize;
        ensure!(
            one_mapping(start, start + 3 * page),
            "one mapping holds the three pages"
        );
        // SAFETY: all three pages are mapped read-write.
        unsafe { p.add(3 * page - 1).write(1) };
        Ok(())
    });
}

// Ported from tools/testing/selftests/mm/mremap_test.c
// (mremap_expand_merge_offset): three pages with the last one unmapped; the
// middle one grows in place, and one mapping holds the three pages again
// (the grown page merges with the first, its anonymous offset fits).
#[test]
fn mremap_expand_of_an_inner_page_merges() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        let p = anon_with_hole(3, 2)?;
        let mid = p.wrapping_add(page);
        // SAFETY: the middle page is the child's; it grows into the hole.
        let r = unsafe {
            mremap(
                mid.cast(),
                page,
                2 * page,
                MremapFlags::empty(),
                ptr::null_mut(),
            )
        };
        ensure!(r == Ok(mid.cast()), "grown in place");
        let start = p as usize;
        ensure!(
            one_mapping(start, start + 3 * page),
            "one mapping holds the three pages"
        );
        Ok(())
    });
}

// Ported from tools/testing/selftests/mm/mremap_test.c (remap_region,
// mremap_move_within_range): a page moved with MAYMOVE | FIXED to another
// place inside the same mapping takes its bytes there and leaves a hole;
// the pages around it keep theirs.
#[test]
fn mremap_fixed_moves_a_page_within_its_mapping() {
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        // SAFETY: a new mapping, only this child's (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 4 * page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: four writable pages, each read only while mapped.
        unsafe {
            for i in 0..4 * page {
                p.add(i).write(pattern(i));
            }
            let to = p.add(3 * page);
            let r = mremap(
                p.add(page).cast(),
                page,
                page,
                MremapFlags::MAYMOVE | MremapFlags::FIXED,
                to.cast(),
            );
            ensure!(r == Ok(to.cast()), "moved to the fixed address");
            ensure!(
                (0..page).all(|i| to.add(i).read() == pattern(page + i)),
                "the moved page's bytes"
            );
            ensure!(
                (0..page).all(|i| p.add(i).read() == pattern(i))
                    && (0..page).all(|i| p.add(2 * page + i).read() == pattern(2 * page + i)),
                "the pages around it kept"
            );
        }
        ensure!(
            mapped(p.wrapping_add(page), page) == Err(Errno::ENOMEM),
            "a hole where it was"
        );
        Ok(())
    });
}

// After tools/testing/selftests/mm/mremap_test.c's checks of the target: a
// FIXED destination that overlaps the source or is not page-aligned is
// EINVAL, and the mapping stays where it was.
#[test]
fn mremap_fixed_refuses_an_overlapping_or_unaligned_target() {
    let _g = serial();
    let page = page_size();
    let p = anon(4 * page);
    let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    // SAFETY: every call fails and moves nothing.
    unsafe {
        p.write(9);
        for (to, what) in [
            (p.wrapping_add(page), "overlapping the source's end"),
            (p, "the source itself"),
            (p.wrapping_add(3 * page + 1), "unaligned"),
        ] {
            assert_eq!(
                mremap(p.cast(), 2 * page, 2 * page, flags, to.cast()),
                Err(Errno::EINVAL),
                "{what}"
            );
        }
        assert_eq!(p.read(), 9);
    }
    unmap(p, 4 * page);
}

// Ported from tools/testing/selftests/mm/mremap_dontunmap.c
// (mremap_dontunmap_simple, mremap_dontunmap_simple_fixed): DONTUNMAP moves
// the pages of a private anonymous mapping and leaves the old range mapped
// and empty (it reads zeros); the two lengths must be equal. (QEMU 7.2's
// user mode passes the flag on to the host kernel, with the same result.)
#[test]
fn mremap_dontunmap_moves_the_pages_and_keeps_the_range() {
    let _g = serial();
    let page = page_size();
    let p = anon(4 * page);
    let flags = MremapFlags::MAYMOVE | MremapFlags::DONTUNMAP;
    // SAFETY: `p` is 4 writable pages owned by this test.
    unsafe { p.write_bytes(0x6b, 4 * page) };
    // SAFETY: on success the pages move to a new range; `p` stays mapped.
    let r = unsafe { mremap(p.cast(), 4 * page, 4 * page, flags, ptr::null_mut()) };
    let q: *mut u8 = r.unwrap().cast();
    assert_ne!(q, p);
    // SAFETY: both ranges are mapped read-write and this test's.
    unsafe {
        assert!(bytes(q, 4 * page).iter().all(|&b| b == 0x6b), "moved");
        assert!(bytes(p, 4 * page).iter().all(|&b| b == 0), "left empty");
        p.write(1);
    }
    // Different lengths: refused.
    // SAFETY: the call fails and moves nothing.
    let r = unsafe { mremap(q.cast(), 4 * page, 2 * page, flags, ptr::null_mut()) };
    assert_eq!(r, Err(Errno::EINVAL));
    // With FIXED, to a destination of this test's own (the old range itself
    // is mapped, so the pages go back over it).
    // SAFETY: `p` is this test's mapping; FIXED replaces it with q's pages.
    let r = unsafe {
        mremap(
            q.cast(),
            4 * page,
            4 * page,
            flags | MremapFlags::FIXED,
            p.cast(),
        )
    };
    assert_eq!(r, Ok(p.cast()));
    // SAFETY: both ranges are mapped read-write and this test's.
    unsafe {
        assert!(bytes(p, 4 * page).iter().all(|&b| b == 0x6b), "moved back");
        assert!(bytes(q, 4 * page).iter().all(|&b| b == 0), "left empty");
    }
    unmap(p, 4 * page);
    unmap(q, 4 * page);
}
