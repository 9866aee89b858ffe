//! The behaviours QEMU's user mode cannot show, asserted where they are real.
//!
//! QEMU's user mode (`qemu-aarch64`) passes calls on to the x86_64 host
//! kernel and keeps 4 KiB target pages whatever `QEMU_PAGESIZE` says, so it
//! accepts 4K-aligned offsets and ranges that a 16K or 64K kernel refuses; it
//! reads `MAP_FIXED_NOREPLACE` as a hint, answers `MAP_SHARED_VALIDATE` with
//! an unknown flag with `EINVAL`, and above 4K pages `MADV_DONTNEED` leaves
//! the pages as they were (DESIGN.md). These tests assert the kernel's
//! behaviour everywhere else — on this machine's kernel and under the
//! real-kernel runner (`tests/kernel/run.sh`: aarch64 with 4K and 16K pages,
//! x86_64) — and QEMU's documented behaviour under QEMU.
//!
//! Where "page" appears it is `rawmap::page_size()`. `SUB_PAGE` is the
//! smallest page of any Linux architecture: on a 16K or 64K kernel it is a
//! multiple of nothing the kernel accepts as aligned.

mod common;

use std::ffi::c_void;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::ptr;
use std::sync::{Mutex, MutexGuard};

use common::{qemu_pagesize, under_qemu_user, under_real_kernel_runner};
use rawmap::{
    Errno, MapFlags, MmapOptions, Prot, UncheckedAdvice, madvise, mincore, mmap, mprotect, munmap,
    page_size,
};

/// The smallest page size of any Linux architecture (not the page size).
const SUB_PAGE: usize = 4096;

/// Tests that rely on an address range staying free (a hole they made)
/// take this, so that no other test of this file maps into the hole.
static ADDRESS_SPACE: Mutex<()> = Mutex::new(());

fn address_space() -> MutexGuard<'static, ()> {
    ADDRESS_SPACE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether calls accept an address or offset aligned to `SUB_PAGE` but not
/// to the page: on a 4K kernel it is page-aligned; QEMU's user mode checks
/// alignment against its 4K target pages whatever the page size it reports.
fn sub_page_accepted() -> bool {
    page_size() == SUB_PAGE || under_qemu_user()
}

/// Private anonymous read-write memory of `len` bytes.
fn anon(len: usize) -> *mut u8 {
    // SAFETY: a new private anonymous mapping replaces nothing.
    unsafe {
        mmap(
            ptr::null_mut(),
            len,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
    }
    .expect("anonymous mapping")
    .cast()
}

/// Whether the kernel can write a byte at `addr` for this process: `read`
/// from a pipe into it succeeds, or fails with `EFAULT` if the address is
/// not mapped writable. No signal is involved, and QEMU's user mode checks
/// its own page flags the same way.
fn writable(addr: *mut u8) -> bool {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: writes one byte from a live local to the pipe just made.
    assert_eq!(unsafe { libc::write(fds[1], b"w".as_ptr().cast(), 1) }, 1);
    // SAFETY: the kernel checks `addr` and reports EFAULT instead of
    // faulting; if it is writable, it is memory this test owns.
    let n = unsafe { libc::read(fds[0], addr.cast(), 1) };
    let err = std::io::Error::last_os_error().raw_os_error();
    // SAFETY: closes the two descriptors made above.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    match n {
        1 => true,
        _ => {
            assert_eq!(err, Some(libc::EFAULT), "read into {addr:p}");
            false
        }
    }
}

/// Whether the kernel can read a byte at `addr`: `write` from it into a
/// pipe succeeds, or fails with `EFAULT`.
fn readable(addr: *const u8) -> bool {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the kernel checks `addr` and reports EFAULT instead of
    // faulting.
    let n = unsafe { libc::write(fds[1], addr.cast(), 1) };
    let err = std::io::Error::last_os_error().raw_os_error();
    // SAFETY: closes the two descriptors made above.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    match n {
        1 => true,
        _ => {
            assert_eq!(err, Some(libc::EFAULT), "write from {addr:p}");
            false
        }
    }
}

/// Whether anything is mapped at `[addr, addr + len)` by `mincore`'s
/// account (`ENOMEM` means a hole). Not for QEMU's user mode, which asks the
/// host about its own memory rather than the guest's mappings.
fn mapped(addr: *mut u8, len: usize) -> bool {
    assert!(!under_qemu_user());
    let mut vec = vec![0u8; len.div_ceil(page_size())];
    // SAFETY: `vec` has one byte per page of the range.
    match unsafe { mincore(addr.cast(), len, vec.as_mut_ptr()) } {
        Ok(()) => true,
        Err(Errno::ENOMEM) => false,
        Err(e) => panic!("mincore({addr:p}, {len}): {e}"),
    }
}

/// The byte at `i` of the test files: a pattern that repeats every 251
/// bytes, so a mapping from the wrong offset shows.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// A temporary file of `len` pattern bytes (in `TMPDIR`: a tmpfs under the
/// real-kernel runner).
fn pattern_file(len: usize) -> std::fs::File {
    let mut file = tempfile::tempfile().expect("temporary file");
    let bytes: Vec<u8> = (0..len).map(pattern).collect();
    file.write_all(&bytes).expect("write temporary file");
    file
}

/// `mmap` through libc's `syscall`, an oracle independent of rawmap: the
/// kernel's (or QEMU's) answer without rawmap's `FIXED_NOREPLACE` check.
///
/// # Safety
///
/// As for `rawmap::mmap`.
unsafe fn libc_mmap(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    flags: MapFlags,
) -> Result<*mut c_void, i32> {
    // SAFETY: the caller upholds mmap's contract.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mmap,
            addr,
            len,
            prot.bits() as libc::c_long,
            flags.bits() as libc::c_long,
            -1 as libc::c_long,
            0 as libc::c_long,
        )
    };
    if ret == -1 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap())
    } else {
        Ok(ret as *mut c_void)
    }
}

#[test]
fn page_size_is_the_kernels() {
    let page = page_size();
    // musl's and glibc's sysconf read AT_PAGESZ, which the kernel (or QEMU)
    // sets: an oracle independent of rawmap's lookup chain.
    // SAFETY: sysconf has no preconditions.
    let sysconf = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    assert_eq!(page as libc::c_long, sysconf);
    if let Some(size) = qemu_pagesize() {
        assert_eq!(page, size, "QEMU_PAGESIZE");
    }
    // The runner names the kernel it booted; its page size is known.
    match std::env::var("RAWMAP_KERNEL").as_deref() {
        Ok("aarch64-16k") => assert_eq!(page, 4 * SUB_PAGE),
        Ok("aarch64-4k" | "x86_64") => assert_eq!(page, SUB_PAGE),
        Ok(other) => panic!("unknown RAWMAP_KERNEL {other:?}"),
        Err(_) => assert!(!under_real_kernel_runner(), "the runner sets RAWMAP_KERNEL"),
    }
    eprintln!("environment: {}, page size {page}", common::environment());
}

#[test]
fn file_offset_must_be_page_aligned() {
    let page = page_size();
    let file = pattern_file(3 * page);
    let fd = file.as_raw_fd();
    // A page-aligned offset maps the file from there, everywhere.
    // SAFETY: a new shared read-only mapping of a private temporary file.
    let p = unsafe {
        mmap(
            ptr::null_mut(),
            page,
            Prot::READ,
            MapFlags::SHARED,
            fd,
            page as u64,
        )
    }
    .expect("mmap at offset page");
    // SAFETY: `p` is `page` readable bytes mapped just above.
    let got = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), page) };
    assert!(got.iter().enumerate().all(|(i, &b)| b == pattern(page + i)));
    // SAFETY: unmaps the mapping made above; `got` is not used again.
    unsafe { munmap(p, page) }.unwrap();

    // An offset of SUB_PAGE: aligned on a 4K kernel, not on a 16K or 64K
    // one, which refuses it; QEMU's user mode lets it through.
    // SAFETY: as above.
    let r = unsafe {
        mmap(
            ptr::null_mut(),
            page,
            Prot::READ,
            MapFlags::SHARED,
            fd,
            SUB_PAGE as u64,
        )
    };
    if sub_page_accepted() {
        let p = r.expect("mmap at offset SUB_PAGE");
        // SAFETY: QEMU or a 4K kernel mapped at least SUB_PAGE bytes of the
        // file, from offset SUB_PAGE.
        let got = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), SUB_PAGE) };
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(SUB_PAGE + i))
        );
        // SAFETY: unmaps the mapping made above; `got` is not used again.
        unsafe { munmap(p, page) }.unwrap();
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "offset {SUB_PAGE} with {page}-byte pages"
        );
    }
    // Any offset short of a page, on any kernel.
    // SAFETY: as above.
    let r = unsafe { mmap(ptr::null_mut(), page, Prot::READ, MapFlags::SHARED, fd, 1) };
    assert_eq!(r, Err(Errno::EINVAL));
}

#[test]
fn safe_layer_maps_any_offset_with_the_real_page_size() {
    // The safe layer maps from the page-aligned offset below and hands out a
    // pointer into it; a kernel with 16K pages refuses anything computed
    // with 4K pages, so this passing there shows the arithmetic is right.
    let page = page_size();
    let file = pattern_file(3 * page);
    for offset in [1, SUB_PAGE, page - 1, page, page + SUB_PAGE + 7, 2 * page] {
        let len = 3 * page - offset;
        // SAFETY: the temporary file is private to this test.
        let map = unsafe { MmapOptions::new().offset(offset as u64).map(&file) }
            .unwrap_or_else(|e| panic!("map at offset {offset}: {e}"));
        assert_eq!(map.len(), len);
        assert!(
            map.iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(offset + i)),
            "offset {offset}"
        );
        map.unmap()
            .unwrap_or_else(|e| panic!("unmap at offset {offset}: {}", e.errno()));
    }
}

#[test]
fn munmap_needs_a_page_aligned_address_and_unmaps_whole_pages() {
    let _guard = address_space();
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
            assert!(!mapped(p.wrapping_add(SUB_PAGE), SUB_PAGE));
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
            assert!(!mapped(last, page));
        }
    }
    // SAFETY: the rest of this test's mapping (holes included: munmap of a
    // range with nothing in it is not an error).
    unsafe { munmap(p.cast(), 3 * page) }.unwrap();
}

#[test]
fn mprotect_needs_a_page_aligned_address_and_covers_whole_pages() {
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

#[test]
fn madvise_and_msync_need_a_page_aligned_address() {
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

#[test]
fn fixed_noreplace_refuses_a_taken_range() {
    let _guard = address_space();
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
        Err(Errno::EEXIST) if qemu_pagesize().is_some_and(|s| s > SUB_PAGE) => {}
        Err(e) => panic!("FIXED_NOREPLACE into a hole: {e}"),
    }
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 3 * page) }.unwrap();
}

#[test]
fn shared_validate_refuses_unknown_flags_with_eopnotsupp() {
    let page = page_size();
    let file = tempfile::tempfile().unwrap();
    file.set_len(page as u64).unwrap();
    let fd = file.as_raw_fd();
    let rw = Prot::READ | Prot::WRITE;
    // Known flags are accepted by a kernel. QEMU's user mode knows only
    // SHARED and PRIVATE and answers EINVAL to SHARED_VALIDATE, whatever
    // comes with it.
    // SAFETY: a new shared mapping of a private temporary file.
    let r = unsafe { mmap(ptr::null_mut(), page, rw, MapFlags::SHARED_VALIDATE, fd, 0) };
    if under_qemu_user() {
        assert_eq!(r, Err(Errno::EINVAL));
    } else {
        let p = r.expect("SHARED_VALIDATE with known flags");
        // SAFETY: unmaps the mapping just made.
        unsafe { munmap(p, page) }.unwrap();
    }

    // MAP_SYNC needs a DAX file system (neither tmpfs nor the usual disks
    // are), and bit 22 means nothing: the kernel answers EOPNOTSUPP.
    let unknown = MapFlags::from_bits_retain(1 << 22);
    for extra in [MapFlags::SYNC, unknown] {
        // SAFETY: as above; the call fails.
        let r = unsafe {
            mmap(
                ptr::null_mut(),
                page,
                rw,
                MapFlags::SHARED_VALIDATE | extra,
                fd,
                0,
            )
        };
        let want = if under_qemu_user() {
            Errno::EINVAL
        } else {
            Errno::EOPNOTSUPP
        };
        assert_eq!(r, Err(want), "SHARED_VALIDATE | {extra:?}");
    }
    // Plain SHARED ignores what it does not know.
    // SAFETY: as above.
    let p = unsafe { mmap(ptr::null_mut(), page, rw, MapFlags::SHARED | unknown, fd, 0) }
        .expect("SHARED with an unknown bit");
    // SAFETY: unmaps the mapping just made.
    unsafe { munmap(p, page) }.unwrap();
}

#[test]
fn dontneed_zeroes_private_anonymous_memory() {
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
    // SAFETY: this test's mapping, not used again.
    unsafe { munmap(p.cast(), 2 * page) }.unwrap();
}

#[test]
fn dontneed_through_the_safe_layer() {
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
    let file = pattern_file(page);
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
