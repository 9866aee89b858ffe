//! `Reservation` against the real kernel: the reserved range is one
//! `PROT_NONE` mapping, commit makes a prefix readable and writable in place,
//! a write past the committed part faults (a child dies of `SIGSEGV`),
//! decommit gives the memory back (zeros when committed again; not resident
//! any more), bad lengths are clear errors, and Drop unmaps exactly the
//! reservation.
//!
//! Tests that fork or look at residency and `/proc/self/maps` take
//! [`exclusive`]; the others take [`shared`].

mod common;

use common::fork::{check_in_child, ensure, in_child, no_core_dumps, silence_stderr};
use common::mem::{mapped, mincore_vec, readable, writable};
use common::proc::{maps_entries, maps_entry};
use common::{exclusive, shared, under_qemu_user};
use rawmap::{Errno, Reservation, page_size};

const SIGSEGV_EXIT: i32 = 128 + libc::SIGSEGV;

/// Writes one byte at `p` in a child and returns how the child ended.
fn write_in_child(p: *mut u8) -> i32 {
    in_child(|| {
        no_core_dumps();
        silence_stderr();
        // SAFETY: deliberately writes to `p`; the child dies if it faults.
        unsafe { p.write_volatile(1) };
        0
    })
}

#[test]
fn new_reserves_a_prot_none_range_and_commits_nothing() {
    let _g = exclusive();
    let page = page_size();
    let r = Reservation::new(5 * page - 1).unwrap();
    assert_eq!((r.capacity(), r.committed()), (5 * page, 0));
    assert!(r.as_slice().is_empty());
    let base = r.as_ptr();
    assert_eq!(base as usize % page, 0);
    let (start, end, perms) = maps_entry(base as usize).expect("reserved range in maps");
    assert!(start <= base as usize && end >= base as usize + 5 * page);
    assert!(perms.starts_with("---"), "{perms}");
    assert!(!readable(base) && !readable(base.wrapping_add(5 * page - 1)));
    drop(r);
    // Drop unmaps it all: in a child, where no other thread maps meanwhile.
    // (QEMU's mincore refuses a PROT_NONE range while it is mapped, too.)
    let qemu = common::under_qemu_user();
    check_in_child(|| {
        let Ok(r) = Reservation::new(5 * page) else {
            return Err("reserve");
        };
        let base = r.as_ptr();
        ensure!(qemu || mapped(base, 5 * page).is_ok(), "reserved");
        drop(r);
        ensure!(
            mapped(base, 5 * page) == Err(Errno::ENOMEM),
            "Drop unmaps it all"
        );
        Ok(())
    });
}

#[test]
fn commit_grows_in_place_and_keeps_contents() {
    let _g = shared();
    let page = page_size();
    let mut r = Reservation::new(64 * page).unwrap();
    let base = r.as_ptr();
    r.commit(1).unwrap();
    assert_eq!(r.committed(), page);
    assert!(r.as_slice().iter().all(|&b| b == 0));
    r.as_mut_slice()[page - 1] = 7;
    r.commit(10 * page + 1).unwrap();
    assert_eq!((r.as_ptr(), r.committed()), (base, 11 * page));
    assert_eq!(r.as_slice()[page - 1], 7);
    assert!(r.as_slice()[page..].iter().all(|&b| b == 0));
    r.as_mut_slice()[11 * page - 1] = 9;
    // Not above the committed length: nothing changes.
    r.commit(3 * page).unwrap();
    assert_eq!(r.committed(), 11 * page);
    r.commit(64 * page).unwrap();
    assert_eq!((r.as_ptr(), r.committed()), (base, 64 * page));
    assert_eq!(
        (r.as_slice()[page - 1], r.as_slice()[11 * page - 1]),
        (7, 9)
    );
    assert!(writable(base.wrapping_add(64 * page - 1)));
}

#[test]
fn commit_outside_the_reservation_is_einval_and_changes_nothing() {
    let _g = shared();
    let page = page_size();
    let mut r = Reservation::new(4 * page).unwrap();
    r.commit(page).unwrap();
    for bad in [4 * page + 1, 5 * page, usize::MAX] {
        assert_eq!(r.commit(bad), Err(Errno::EINVAL), "commit({bad})");
        assert_eq!(r.committed(), page);
    }
    assert!(!readable(r.as_ptr().wrapping_add(page)));
    // Decommit beyond the committed part is no change, not an error.
    r.decommit(usize::MAX).unwrap();
    assert_eq!(r.committed(), page);
}

#[test]
fn lengths_that_overflow_are_enomem() {
    let _g = shared();
    for len in [usize::MAX, usize::MAX - page_size() + 2] {
        assert_eq!(
            Reservation::new(len).unwrap_err(),
            Errno::ENOMEM,
            "new({len:#x})"
        );
    }
    // Larger than any address space (but rounding fits): the kernel's ENOMEM.
    // (64-bit only: half of a 32-bit address space can be free.)
    #[cfg(target_pointer_width = "64")]
    assert_eq!(
        Reservation::new(usize::MAX / 2 + 1).unwrap_err(),
        Errno::ENOMEM
    );
    let mut empty = Reservation::new(0).unwrap();
    assert_eq!((empty.capacity(), empty.committed()), (0, 0));
    assert_eq!(empty.as_ptr() as usize % 16, 0);
    assert_eq!(empty.commit(1), Err(Errno::EINVAL));
    empty.commit(0).unwrap();
    assert!(empty.as_mut_slice().is_empty());
}

#[test]
fn a_write_past_the_committed_part_faults() {
    let _g = exclusive();
    let page = page_size();
    let mut r = Reservation::new(8 * page).unwrap();
    r.commit(2 * page).unwrap();
    let base = r.as_ptr();
    assert_eq!(
        write_in_child(base.wrapping_add(2 * page - 1)),
        0,
        "committed"
    );
    assert_eq!(
        write_in_child(base.wrapping_add(2 * page)),
        SIGSEGV_EXIT,
        "past it"
    );
    assert_eq!(
        write_in_child(base.wrapping_add(8 * page - 1)),
        SIGSEGV_EXIT,
        "the last byte"
    );
    r.decommit(page).unwrap();
    assert_eq!(
        write_in_child(base.wrapping_add(page)),
        SIGSEGV_EXIT,
        "decommitted"
    );
    assert_eq!(write_in_child(base), 0, "still committed");
}

#[test]
fn decommit_gives_the_memory_back() {
    let _g = exclusive();
    let page = page_size();
    let mut r = Reservation::new(16 * page).unwrap();
    let base = r.as_ptr();
    r.commit(8 * page).unwrap();
    r.as_mut_slice().fill(0xA5);
    r.decommit(2 * page + 1).unwrap();
    assert_eq!((r.as_ptr(), r.committed()), (base, 3 * page));
    assert!(
        r.as_slice().iter().all(|&b| b == 0xA5),
        "the kept prefix keeps its bytes"
    );
    assert!(!readable(base.wrapping_add(3 * page)));
    let residency = mincore_vec(base.wrapping_add(3 * page), 5 * page);
    r.commit(8 * page).unwrap();
    let again = &r.as_slice()[3 * page..];
    if under_qemu_user() {
        // QEMU's mincore refuses a range the guest cannot read.
        assert_eq!(residency.unwrap_err(), Errno::ENOMEM);
    } else {
        let (vec, written) = residency.unwrap();
        assert!(vec[..written].iter().all(|&b| b & 1 == 0), "freed: {vec:?}");
    }
    // Zeros everywhere, QEMU with larger pages included: it passes
    // MADV_DONTNEED through for whole host pages of an anonymous mapping.
    assert!(again.iter().all(|&b| b == 0), "committed again: zeros");
    r.decommit(0).unwrap();
    assert_eq!(r.committed(), 0);
    assert!(!readable(base));
    // Still reserved: PROT_NONE from the first byte to the last (the
    // kernel may keep the once-committed part as a VMA of its own), with
    // no hole between.
    let b = base as usize;
    let entries = maps_entries([b, b + 3 * page, b + 8 * page, b + 16 * page - 1], 50);
    let mut covered = b;
    for entry in &entries {
        let (start, end, perms) = entry.as_ref().expect("still reserved");
        assert!(perms.starts_with("---"), "{perms}");
        assert!(*start <= covered, "a hole at {covered:#x}: {entries:?}");
        covered = covered.max(*end);
    }
    assert!(covered >= b + 16 * page);
}
