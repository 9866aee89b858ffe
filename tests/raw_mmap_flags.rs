//! The `mmap` flags the kernel validates, through the raw layer: `FIXED`,
//! `FIXED_NOREPLACE` (which QEMU's user mode reads as a mere hint: rawmap
//! verifies it and answers `EEXIST` everywhere, leaving no mapping behind)
//! and `SHARED_VALIDATE` (which QEMU 7.2 refuses with `EINVAL` where a
//! kernel maps or answers `EOPNOTSUPP`).
//!
//! Several tests need an address range to stay unmapped between two calls
//! (after `munmap`, or a hole next to a mapping). Any other thread could map
//! into such a hole: another test, the test harness starting a thread, the
//! allocator. So every test here holds [`serial`] while it runs, and the
//! checks that need a hole run in a child process made with `fork`, which
//! has a single thread ([`check_in_child`]).

mod common;

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::ptr;

use common::fork::{check_in_child, ensure};
use common::mem::{
    ANON, RW, SUB_PAGE, anon, bytes, kernel_can_read, libc_mmap, qemu_with_larger_pages, reserve,
    unmap,
};
use common::proc::read_into;
use common::{pattern_file, serial, under_qemu_user};
use rawmap::{Errno, MapFlags, Prot, c_void, mmap, munmap, page_size};

#[test]
fn mmap_fixed_lands_at_the_address_in_a_reserved_region() {
    let _g = serial();
    let page = page_size();
    let base = reserve(4 * page);
    let target = base.wrapping_add(page);
    // SAFETY: `base + page .. base + 3 pages` belongs to the reservation this
    // test made; FIXED replaces that part of it.
    let got = unsafe { mmap(target.cast(), 2 * page, RW, ANON | MapFlags::FIXED, -1, 0) }.unwrap();
    assert_eq!(got, target.cast());
    // SAFETY: two pages at `target` are now mapped read-write.
    unsafe {
        assert!(bytes(target, 2 * page).iter().all(|&b| b == 0));
        target.add(2 * page - 1).write(1);
    }
    // The rest of the reservation is still PROT_NONE.
    assert_eq!(kernel_can_read(base), Err(libc::EFAULT));
    assert_eq!(kernel_can_read(target), Ok(()));
    unmap(base, 4 * page);
}

#[test]
fn mmap_fixed_with_an_unaligned_address_is_einval() {
    let _g = serial();
    let base = reserve(2 * page_size());
    for flags in [MapFlags::FIXED, MapFlags::FIXED_NOREPLACE] {
        // Under QEMU, FIXED_NOREPLACE is a hint: whatever QEMU maps
        // elsewhere, rawmap unmaps again and reports EINVAL, as a kernel
        // that knows the flag does.
        // SAFETY: the call fails on the address before replacing anything.
        let r = unsafe {
            mmap(
                base.wrapping_add(1).cast(),
                page_size(),
                RW,
                ANON | flags,
                -1,
                0,
            )
        };
        assert_eq!(r, Err(Errno::EINVAL), "{flags:?}");
    }
    unmap(base, 2 * page_size());
}

#[test]
fn mmap_fixed_noreplace_over_a_mapping_is_eexist() {
    let _g = serial();
    let page = page_size();
    let p = anon(2 * page);
    // SAFETY: the mapping is this test's.
    unsafe { p.add(page).write(77) };
    for (at, len) in [(0, page), (page, page), (0, 2 * page), (page, 3 * page)] {
        // SAFETY: if the flag held nothing is replaced; if rawmap's check
        // failed the test fails on the assertion below.
        let r = unsafe {
            mmap(
                p.wrapping_add(at).cast(),
                len,
                RW,
                ANON | MapFlags::FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        assert_eq!(r, Err(Errno::EEXIST), "at +{at}, len {len}");
    }
    // The existing mapping is untouched.
    // SAFETY: still this test's mapping.
    assert_eq!(unsafe { p.add(page).read() }, 77);
    unmap(p, 2 * page);
}

#[test]
fn mmap_fixed_noreplace_on_a_free_range_lands_there() {
    let _g = serial();
    let page = page_size();
    let larger = qemu_with_larger_pages();
    check_in_child(|| {
        // SAFETY: a new reservation replaces nothing; its middle page is
        // unmapped again to make a hole nothing else maps into (one thread).
        let Ok(base) = (unsafe { mmap(ptr::null_mut(), 3 * page, Prot::NONE, ANON, -1, 0) }) else {
            return Err("reserve");
        };
        let hole = base.cast::<u8>().wrapping_add(page).cast::<c_void>();
        // SAFETY: the middle page of the reservation made above.
        ensure!(unsafe { munmap(hole, page) }.is_ok(), "munmap");
        // SAFETY: the hole is free; with the flag nothing is replaced.
        let r = unsafe { mmap(hole, page, RW, ANON | MapFlags::FIXED_NOREPLACE, -1, 0) };
        if larger {
            // QEMU reads the flag as a hint, and with pages larger than the
            // host's its hints fail erratically (DESIGN.md): it may place
            // the mapping elsewhere, which rawmap then undoes and reports as
            // EEXIST. Nothing else is acceptable.
            ensure!(
                r == Ok(hole) || r == Err(Errno::EEXIST),
                "QEMU: there or EEXIST"
            );
        } else {
            ensure!(r == Ok(hole), "lands in the hole");
        }
        Ok(())
    });
}

#[test]
fn fixed_noreplace_refuses_a_taken_range() {
    let _g = serial();
    let page = page_size();
    let p = anon(3 * page);
    // SAFETY: `p` is 3 writable pages owned by this test.
    unsafe { p.write_bytes(7, 3 * page) };
    let target = p.wrapping_add(page).cast::<c_void>();
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED_NOREPLACE;

    // The kernel itself (through libc, without rawmap's check) refuses;
    // QEMU's user mode takes the flag as a hint and maps elsewhere.
    // SAFETY: FIXED_NOREPLACE never replaces a mapping on a kernel that
    // knows it; a mapping made elsewhere is unmapped below.
    let raw = unsafe { libc_mmap(target, page, Prot::READ, flags) };
    if under_qemu_user() {
        let q = raw.expect("QEMU maps FIXED_NOREPLACE elsewhere");
        assert_ne!(q, target);
        // SAFETY: the mapping QEMU just made; nothing uses it.
        unsafe { munmap(q, page) }.unwrap();
    } else {
        assert_eq!(raw, Err(libc::EEXIST));
    }
    // rawmap says EEXIST everywhere, and the old contents stay.
    // SAFETY: as above; rawmap unmaps a misplaced mapping itself.
    assert_eq!(
        unsafe { mmap(target, page, Prot::READ, flags, -1, 0) },
        Err(Errno::EEXIST)
    );
    // SAFETY: `target` is still this test's writable page.
    assert_eq!(unsafe { target.cast::<u8>().read() }, 7);

    // Into a hole: exactly there (under QEMU with pages above 4K, address
    // hints are erratic, and rawmap then answers EEXIST).
    // SAFETY: the middle page of this test's mapping, not used again.
    unsafe { munmap(target, page) }.unwrap();
    // SAFETY: the range is a hole this test made (and holds the lock for).
    match unsafe { mmap(target, page, Prot::READ | Prot::WRITE, flags, -1, 0) } {
        Ok(q) => {
            assert_eq!(q, target);
            // SAFETY: a fresh anonymous page: zeros, writable.
            unsafe {
                assert_eq!(q.cast::<u8>().read(), 0);
                q.cast::<u8>().write(1);
            }
        }
        Err(Errno::EEXIST) if common::qemu_pagesize().is_some_and(|s| s > SUB_PAGE) => {}
        Err(e) => panic!("FIXED_NOREPLACE into a hole: {e}"),
    }
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 3 * page) }.unwrap();
}

#[test]
fn fixed_noreplace_leaves_no_mapping_behind() {
    // Where the system ignores the flag (QEMU), rawmap must unmap the
    // mapping the system made elsewhere: the process's map is the same
    // before and after the refused call. In a single-threaded child, so that
    // nothing else changes the map meanwhile.
    let _g = serial();
    let page = page_size();
    check_in_child(|| {
        // SAFETY: a new anonymous mapping replaces nothing.
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let mut before = [0u8; 32 * 1024];
        let mut after = [0u8; 32 * 1024];
        let Some(n) = read_into(c"/proc/self/maps", &mut before) else {
            return Err("reading /proc/self/maps");
        };
        for _ in 0..8 {
            // SAFETY: with the flag honoured or verified, nothing is
            // replaced; a mapping made elsewhere is removed by rawmap.
            let r = unsafe { mmap(p, page, RW, ANON | MapFlags::FIXED_NOREPLACE, -1, 0) };
            ensure!(r == Err(Errno::EEXIST), "EEXIST");
        }
        let Some(m) = read_into(c"/proc/self/maps", &mut after) else {
            return Err("reading /proc/self/maps");
        };
        ensure!(
            before[..n] == after[..m],
            "the map changed: a mapping was left behind"
        );
        Ok(())
    });
}

// Ported from tools/testing/selftests/mm/map_fixed_noreplace.c: with the
// middle three of five free pages mapped ("-+++-"), every FIXED_NOREPLACE
// request that touches them is EEXIST (the same range, one that holds it,
// one overlapping its start or its end, one inside it) and leaves them as
// they were, while the free pages right before and after map exactly there.
// In a single-threaded child, so that the two holes stay free.
#[test]
fn fixed_noreplace_around_a_mapping_as_the_kernel_selftest() {
    let _g = serial();
    let page = page_size();
    // QEMU reads the flag as a hint, and with pages larger than the host's
    // its hints fail erratically (DESIGN.md): a request into a free range
    // then comes back EEXIST from rawmap instead of landing. Never anything
    // else, and never a mapping elsewhere.
    let larger = qemu_with_larger_pages();
    check_in_child(|| {
        // Five free pages: mapped by the kernel's choice, then unmapped.
        // SAFETY: a new reservation replaces nothing; it is unmapped again
        // before anything uses it.
        let Ok(base) = (unsafe { mmap(ptr::null_mut(), 5 * page, Prot::NONE, ANON, -1, 0) }) else {
            return Err("reserve");
        };
        let base: *mut u8 = base.cast();
        // SAFETY: the range mapped just above.
        ensure!(unsafe { munmap(base.cast(), 5 * page) }.is_ok(), "munmap");
        let at = |i: usize| base.wrapping_add(i * page).cast::<c_void>();
        // SAFETY: the five pages are free (one thread: nothing else maps);
        // FIXED_NOREPLACE replaces nothing.
        let try_map = |i: usize, n: usize| unsafe {
            mmap(at(i), n * page, RW, ANON | MapFlags::FIXED_NOREPLACE, -1, 0)
        };

        // "-+++-": pages 1..4. Where QEMU refuses, FIXED builds the same
        // layout (the range is free and this child's).
        match try_map(1, 3) {
            Ok(p) => ensure!(p == at(1), "the middle lands there"),
            Err(Errno::EEXIST) if larger => {
                // SAFETY: as above; FIXED replaces only free pages.
                let r = unsafe { mmap(at(1), 3 * page, RW, ANON | MapFlags::FIXED, -1, 0) };
                ensure!(r == Ok(at(1)), "FIXED builds the layout");
            }
            Err(_) => return Err("FIXED_NOREPLACE into free pages"),
        }
        // SAFETY: pages 1..4 are mapped read-write.
        unsafe { base.add(2 * page).write(0x5a) };

        for (i, n, what) in [
            (1, 3, "not EEXIST: the same range"),
            (0, 5, "not EEXIST: a range holding it"),
            (0, 2, "not EEXIST: a range over its start"),
            (3, 2, "not EEXIST: a range over its end"),
            (2, 1, "not EEXIST: a page inside it"),
        ] {
            if try_map(i, n) != Err(Errno::EEXIST) {
                return Err(what);
            }
            // SAFETY: page 2 is still this child's, unchanged.
            ensure!(unsafe { base.add(2 * page).read() } == 0x5a, "kept");
        }
        ensure!(
            common::proc::maps_range_of(at(1) as usize) == Some((at(1) as usize, at(4) as usize)),
            "the middle mapping is as it was"
        );

        // The free pages right before and after it: exactly there.
        for i in [0, 4] {
            match try_map(i, 1) {
                Ok(p) => {
                    ensure!(p == at(i), "an adjacent free page lands there");
                    // SAFETY: a fresh anonymous page: zeros, writable.
                    unsafe {
                        ensure!(p.cast::<u8>().read() == 0, "zeroed");
                        p.cast::<u8>().write(1);
                    }
                }
                Err(Errno::EEXIST) if larger => {}
                Err(_) => return Err("FIXED_NOREPLACE next to a mapping"),
            }
        }
        Ok(())
    });
}

/// `SHARED_VALIDATE`: a kernel maps it as `SHARED` when every flag is known
/// and honoured, and refuses anything else with `EOPNOTSUPP`; plain `SHARED`
/// ignores what it does not know.
#[test]
fn mmap_shared_validate() {
    let _g = serial();
    let page = page_size();
    let (file, expected) = pattern_file(page);
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    let map = |flags: MapFlags| {
        // SAFETY: a new shared mapping of a file only this test uses, or a
        // failure that maps nothing.
        unsafe { mmap(ptr::null_mut(), page, RW, flags, rw.as_raw_fd(), 0) }
    };
    let alone = map(MapFlags::SHARED_VALIDATE);
    // MAP_SYNC needs a DAX file system (neither tmpfs nor the usual disks
    // are); bits 22 and 23 (0x0040_0000, 0x0080_0000) are no flags at all.
    let unknown = MapFlags::from_bits_retain(0x0040_0000);
    let refused = [
        MapFlags::SYNC,
        unknown,
        MapFlags::from_bits_retain(0x0080_0000),
    ]
    .map(|extra| (extra, map(MapFlags::SHARED_VALIDATE | extra)));
    if under_qemu_user() {
        // QEMU 7.2 does not know MAP_SHARED_VALIDATE: it refuses the
        // mapping type itself with EINVAL, whatever the other flags are
        // (DESIGN.md: EINVAL where a kernel gives EOPNOTSUPP).
        let env = common::environment();
        assert_eq!(alone, Err(Errno::EINVAL), "{env}");
        for (extra, r) in refused {
            assert_eq!(
                r,
                Err(Errno::EINVAL),
                "SHARED_VALIDATE | {extra:?} under {env}"
            );
        }
    } else {
        let p: *mut u8 = alone.expect("SHARED_VALIDATE with known flags").cast();
        // SAFETY: one page is mapped read-write.
        unsafe {
            assert_eq!(bytes(p, page), &expected[..]);
            p.write(!expected[0]);
        }
        unmap(p, page);
        assert_eq!(std::fs::read(file.path()).unwrap()[0], !expected[0]);
        for (extra, r) in refused {
            assert_eq!(r, Err(Errno::EOPNOTSUPP), "SHARED_VALIDATE | {extra:?}");
        }
    }
    // Plain SHARED ignores what it does not know, everywhere.
    let p = map(MapFlags::SHARED | unknown).expect("SHARED with an unknown bit");
    unmap(p.cast(), page);
}
