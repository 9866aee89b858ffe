//! What happens to a safe-layer mapping after it is made, against the real
//! kernel: protection changes seen in `/proc/self/maps` and by probes,
//! failed conversions that give the mapping back, remapping, sharing with a
//! forked child, ownership hand-offs (`unmap`, `into_raw`/`from_raw`,
//! `leak`), what `Drop` unmaps, checked sub-ranges that never reach a
//! neighbour, and locking.
//!
//! Every test here looks at process-wide state (`/proc/self/maps`, `VmLck`,
//! whether an address is still mapped, `fork`), so each takes [`exclusive`]:
//! no other test maps or unmaps meanwhile.

mod common;

use std::os::fd::AsRawFd;

use common::fork::{check_in_child, ensure, in_child, no_core_dumps, unmaps_in_child};
use common::mem::{kernel_range, mapped, mincore_at};
use common::proc::{maps_entry, smaps_vmflags, status_kb};
use common::{exclusive, file_contents, file_with, seeded_pattern};
use rawmap::{
    Advice, Errno, MapFlags, Mmap, MmapError, MmapMut, MmapOptions, Operation, Prot,
    UncheckedAdvice, page_size,
};

/// What the system lets this process do with the byte at `addr`, found
/// without `/proc`: "r" (checked: the kernel can `write` it to a pipe), "w"
/// if it can write it (`read` from a pipe, writing back the byte that is
/// there), "x" if a child made with `fork` can call the function that
/// starts there (the caller puts [`RET`] there).
fn probe_prot(addr: *const u8) -> String {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let [rd, wr] = fds;
    // SAFETY: `write` reads one byte at `addr`, or fails with EFAULT.
    let readable = unsafe { libc::write(wr, addr.cast(), 1) } == 1;
    // Every mapping the safe layer makes is readable.
    assert!(readable, "{addr:p} is not readable");
    let mut p = String::from("r");
    // The byte now in the pipe is the byte at `addr`: put it back.
    // SAFETY: `read` writes one byte at `addr`, or fails with EFAULT.
    let writable = unsafe { libc::read(rd, addr as *mut _, 1) } == 1;
    p.push(if writable { 'w' } else { '-' });
    // SAFETY: both descriptors are ours.
    unsafe {
        libc::close(rd);
        libc::close(wr);
    }
    let code = in_child(|| {
        // No core file from the expected SIGSEGV.
        no_core_dumps();
        // SAFETY: the caller put a `ret` at `addr`; if the page is not
        // executable the child dies of SIGSEGV, which is the answer.
        let f: extern "C" fn() = unsafe { core::mem::transmute(addr) };
        f();
        0
    });
    assert!(code == 0 || code == 128 + libc::SIGSEGV, "child: {code}");
    p.push(if code == 0 { 'x' } else { '-' });
    p
}

/// A function that only returns, as machine code.
#[cfg(target_arch = "x86_64")]
const RET: &[u8] = &[0xC3];
#[cfg(target_arch = "aarch64")]
const RET: &[u8] = &0xd65f03c0u32.to_le_bytes();
#[cfg(target_arch = "x86")]
const RET: &[u8] = &[0xC3];
/// `bx lr` (A32: the call reaches an even address in ARM state).
#[cfg(target_arch = "arm")]
const RET: &[u8] = &0xe12f_ff1eu32.to_le_bytes();
/// `jalr x0, 0(ra)`.
#[cfg(target_arch = "riscv64")]
const RET: &[u8] = &0x0000_8067u32.to_le_bytes();

/// The permissions of the whole kernel range behind `ptr`, `len`: from
/// `/proc/self/maps` (checked to be one entry covering the range), checked
/// against what [`probe_prot`] finds. QEMU's user mode with a page size of
/// its own (16K, 64K) leaves mappings out of its emulated maps file when
/// the host merged them with memory of its own; there the probes alone
/// answer (three columns: whether the mapping is shared is tested through
/// `fork` elsewhere).
fn perms(ptr: *const u8, len: usize) -> String {
    let (base, map_len) = kernel_range(ptr, len);
    let probed = probe_prot(ptr);
    let entry = maps_entry(base);
    if entry.is_none() && common::qemu_pagesize().is_some() {
        return probed;
    }
    let (start, end, perms) = entry.expect("mapping missing from /proc/self/maps");
    assert!(
        start <= base && base + map_len <= end,
        "{start:#x}-{end:#x} does not cover {base:#x}+{map_len:#x}"
    );
    for (p, q) in perms.chars().zip(probed.chars()) {
        assert_eq!(p, q, "maps says {perms}, probes say {probed}");
    }
    perms
}

/// Asserts the permissions of the mapping at `ptr`, `len` (which starts
/// with [`RET`]): all four columns of `/proc/self/maps`, or where QEMU's
/// emulated file leaves the mapping out, the three the probes find.
#[track_caller]
fn assert_perms(ptr: *const u8, len: usize, want: &str) {
    assert_eq!(&probe_prot(ptr)[..], &want[..3], "probes");
    let p = perms(ptr, len);
    if p.len() == 3 {
        assert_eq!(&p[..], &want[..3]);
    } else {
        assert_eq!(&p[..], want);
    }
}

/// `pattern`, starting with a function that returns.
fn code_pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut v = seeded_pattern(len, seed);
    v[..RET.len()].copy_from_slice(RET);
    v
}

#[test]
fn protection_round_trips_seen_in_proc_maps() {
    let _g = exclusive();
    let page = page_size();
    let len = 2 * page + 3;
    let want = code_pattern(len, 4);
    let mut map = MmapOptions::new().len(len).map_anon().unwrap();
    map.copy_from_slice(&want);
    let addr = map.as_ptr();
    assert_perms(addr, len, "rw-p");

    let ro: Mmap = map.make_read_only().unwrap();
    assert_eq!((ro.as_ptr(), &ro[..]), (addr, &want[..]));
    assert_perms(addr, len, "r--p");

    let exec: Mmap = ro.make_exec().unwrap();
    assert_eq!((exec.as_ptr(), &exec[..]), (addr, &want[..]));
    assert_perms(addr, len, "r-xp");

    let mut rw: MmapMut = exec.make_mut().unwrap();
    assert_eq!((rw.as_ptr(), &rw[..]), (addr, &want[..]));
    assert_perms(addr, len, "rw-p");
    rw[len - 1] ^= 0xFF;

    let exec: Mmap = rw.make_exec().unwrap();
    assert_eq!(exec.as_ptr(), addr);
    assert_eq!(exec[len - 1], want[len - 1] ^ 0xFF);
    assert_eq!(&exec[..len - 1], &want[..len - 1]);
    assert_perms(addr, len, "r-xp");

    // A shared file mapping at an unaligned offset (a multiple of 4, so
    // that an aarch64 instruction can start there).
    let off = page + 4;
    let mut bytes = code_pattern(3 * page, 5);
    bytes[off..off + RET.len()].copy_from_slice(RET);
    let mut file = file_with(&bytes);
    // SAFETY: the temporary file is private to this test.
    let map = unsafe {
        MmapOptions::new()
            .offset(off as u64)
            .len(page)
            .map_mut(&file)
    }
    .unwrap();
    let addr = map.as_ptr();
    assert_eq!(addr as usize % page, 4);
    assert_perms(addr, page, "rw-s");
    let ro = map.make_read_only().unwrap();
    assert_perms(addr, page, "r--s");
    let x = ro.make_exec().unwrap();
    assert_perms(addr, page, "r-xs");
    let mut rw = x.make_mut().unwrap();
    assert_eq!(rw.as_ptr(), addr);
    assert_perms(addr, page, "rw-s");
    rw[page - 1] = !bytes[off + page - 1];
    rw.flush().unwrap();
    assert_eq!(
        file_contents(&mut file)[off + page - 1],
        !bytes[off + page - 1]
    );
    drop(rw);

    // map_copy_read_only, map_exec and map_anon_shared start as documented.
    // SAFETY: as above.
    let cro = unsafe { MmapOptions::new().map_copy_read_only(&file) }.unwrap();
    assert_perms(cro.as_ptr(), cro.len(), "r--p");
    // SAFETY: as above.
    let x = unsafe { MmapOptions::new().map_exec(&file) }.unwrap();
    assert_perms(x.as_ptr(), x.len(), "r-xs");
    let mut sh = MmapOptions::new().len(10).map_anon_shared().unwrap();
    sh[..RET.len()].copy_from_slice(RET);
    assert_perms(sh.as_ptr(), sh.len(), "rw-s");
}

#[test]
fn failed_conversion_gives_the_mapping_back() {
    let _g = exclusive();
    let page = page_size();
    // A whole number of pages: QEMU with a page size of its own maps a
    // file only up to its end rounded to host pages.
    let len = 2 * page;
    let want = code_pattern(len, 6);
    let file = file_with(&want);
    let ro_fd = std::fs::File::open(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
    // SAFETY: the temporary file is private to this test.
    let map = unsafe { MmapOptions::new().map(&ro_fd) }.unwrap();
    let addr = map.as_ptr();

    let err: MmapError<Mmap> = map.make_mut().unwrap_err();
    assert_eq!(err.errno(), Errno::EACCES);
    assert_eq!(err.operation(), Operation::MakeMut);
    assert_eq!(
        err.to_string(),
        "make_mut (mprotect) failed: EACCES: Permission denied"
    );
    let map = err.into_mmap();
    assert_eq!((map.as_ptr(), &map[..]), (addr, &want[..]));
    assert_perms(addr, len, "r--s");

    // The error works with `?`, as an Errno or an io::Error.
    fn as_errno(m: Mmap) -> Result<MmapMut, Errno> {
        Ok(m.make_mut()?)
    }
    fn as_io(m: Mmap) -> std::io::Result<MmapMut> {
        Ok(m.make_mut()?)
    }
    assert_eq!(as_errno(map).unwrap_err(), Errno::EACCES);
    // SAFETY: as above.
    let map = unsafe { MmapOptions::new().map(&ro_fd) }.unwrap();
    let io = as_io(map).unwrap_err();
    assert_eq!(io.raw_os_error(), Some(libc::EACCES));
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);

    // The mapping given back still works: it can be unmapped with success.
    // SAFETY: as above.
    let map = unsafe { MmapOptions::new().map(&ro_fd) }.unwrap();
    let (base, map_len) = kernel_range(map.as_ptr(), map.len());
    let map = map.make_mut().unwrap_err().into_mmap();
    map.advise(Advice::Sequential).unwrap();
    // In a single-threaded child: nothing else can map into the freed range
    // before the check.
    unmaps_in_child(base, map_len, move || map.unmap().is_ok());
}

#[test]
fn remap_grows_and_shrinks_keeping_contents() {
    let _g = exclusive();
    let page = page_size();
    let small = page + 10;
    let want = seeded_pattern(small, 7);
    let mut map = MmapOptions::new().len(small).map_anon().unwrap();
    map.copy_from_slice(&want);
    // SAFETY: anonymous memory has no file to outgrow.
    unsafe { map.remap(3 * page + 5, true) }.unwrap();
    assert_eq!(map.len(), 3 * page + 5);
    assert_eq!(&map[..small], &want[..]);
    assert!(map[small..].iter().all(|&b| b == 0));
    map[3 * page + 4] = 9;
    let addr = map.as_ptr();

    // Shrink in place, then grow back in place (nothing else maps meanwhile).
    // SAFETY: as above.
    unsafe { map.remap(17, false) }.unwrap();
    assert_eq!((map.as_ptr(), &map[..], map.len()), (addr, &want[..17], 17));
    assert_eq!(
        mincore_at(addr as usize + page, page).unwrap_err(),
        Errno::ENOMEM
    );
    // SAFETY: as above.
    unsafe { map.remap(2 * page, false) }.unwrap();
    assert_eq!((map.as_ptr(), &map[..17]), (addr, &want[..17]));
    // What was cut off came back as new zero pages.
    assert!(map[page..].iter().all(|&b| b == 0));
    // SAFETY: as above.
    assert_eq!(unsafe { map.remap(0, true) }, Err(Errno::EINVAL));
    assert_eq!(map.len(), 2 * page);
    // SAFETY: as above.
    assert_eq!(unsafe { map.remap(usize::MAX, true) }, Err(Errno::ENOMEM));

    // A file mapping at an unaligned offset grows over the rest of the file.
    let file_bytes = seeded_pattern(4 * page, 8);
    let file = file_with(&file_bytes);
    // SAFETY: the file is 4 pages long, more than the grown mapping needs.
    let mut fmap = unsafe { MmapOptions::new().offset(7).len(10).map_mut(&file) }.unwrap();
    assert_eq!(&fmap[..], &file_bytes[7..17]);
    // SAFETY: as above.
    unsafe { fmap.remap(3 * page, true) }.unwrap();
    assert_eq!(fmap.as_ptr() as usize % page, 7);
    assert_eq!(&fmap[..], &file_bytes[7..7 + 3 * page]);
    // SAFETY: as above.
    unsafe { fmap.remap(1, true) }.unwrap();
    assert_eq!(&fmap[..], &file_bytes[7..8]);
    let (base, map_len) = kernel_range(fmap.as_ptr(), fmap.len());
    assert_eq!(map_len, page);
    // In a single-threaded child, as in failed_conversion_gives_the_mapping_back.
    unmaps_in_child(base, map_len, move || {
        drop(fmap);
        true
    });
}

#[test]
fn map_anon_shared_is_shared_with_a_forked_child() {
    let _g = exclusive();
    let page = page_size();
    let len = 2 * page + 1;
    let mut shared = MmapOptions::new().len(len).map_anon_shared().unwrap();
    let mut private = MmapOptions::new().len(len).map_anon().unwrap();
    shared[0] = 1;
    private[0] = 1;
    let (sp, pp) = (shared.as_mut_ptr() as usize, private.as_mut_ptr() as usize);
    let code = in_child(|| {
        // SAFETY: the child owns copies of both mappings; `len` bytes each.
        unsafe {
            let s = core::slice::from_raw_parts_mut(sp as *mut u8, len);
            let p = core::slice::from_raw_parts_mut(pp as *mut u8, len);
            if s[0] != 1 || p[0] != 1 {
                return 1;
            }
            s[0] = 2;
            s[len - 1] = 3;
            p[0] = 2;
            p[len - 1] = 3;
        }
        0
    });
    assert_eq!(code, 0);
    assert_eq!((shared[0], shared[len - 1]), (2, 3));
    assert_eq!((private[0], private[len - 1]), (1, 0));
}

#[test]
fn unmap_into_raw_from_raw_and_leak() {
    let _g = exclusive();
    let page = page_size();

    let map = MmapOptions::new().len(page + 1).map_anon().unwrap();
    let (base, map_len) = kernel_range(map.as_ptr(), map.len());
    assert_eq!(map_len, 2 * page);
    // In a single-threaded child, as in failed_conversion_gives_the_mapping_back.
    unmaps_in_child(base, map_len, move || map.unmap().is_ok());

    // into_raw + from_raw of an unaligned file view.
    let bytes = seeded_pattern(3 * page, 9);
    let file = file_with(&bytes);
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe {
        MmapOptions::new()
            .offset(page as u64 - 3)
            .len(page)
            .map_mut(&file)
    }
    .unwrap();
    map[0] = 0;
    let (ptr, len) = map.into_raw();
    assert_eq!((ptr as usize % page, len), (page - 3, page));
    let (base, map_len) = kernel_range(ptr, len);
    assert_eq!(map_len, 2 * page);
    mincore_at(base, map_len).expect("into_raw must leave the mapping in place");
    // SAFETY: (ptr, len) come from into_raw of an MmapMut of normal pages.
    let map = unsafe { MmapMut::from_raw(ptr, len) };
    assert_eq!((map.as_ptr(), map.len()), (ptr as *const u8, page));
    assert_eq!(map[0], 0);
    assert_eq!(&map[1..], &bytes[page - 2..2 * page - 3]);
    unmaps_in_child(base, map_len, move || {
        drop(map);
        true
    });

    // Mmap's round trip, and from_raw of nothing.
    let ro = MmapOptions::new()
        .len(5)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap();
    let (ptr, len) = ro.into_raw();
    // SAFETY: as above, for an Mmap.
    let ro = unsafe { Mmap::from_raw(ptr, len) };
    assert_eq!(&ro[..], &[0; 5]);
    // SAFETY: an empty owner owns nothing.
    let empty = unsafe { Mmap::from_raw(core::ptr::null_mut(), 10) };
    assert!(empty.is_empty());

    // leak: the memory stays mapped and usable for good.
    let mut map = MmapOptions::new().len(3).map_anon().unwrap();
    map[2] = 4;
    let addr = map.as_ptr() as usize;
    let leaked: &'static mut [u8] = map.leak();
    assert_eq!(leaked, &[0, 0, 4]);
    leaked[0] = 1;
    mincore_at(addr, page).expect("a leaked mapping stays mapped");
    let ro: &'static [u8] = MmapOptions::new()
        .len(2)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap()
        .leak();
    assert_eq!(ro, &[0, 0]);
    mincore_at(ro.as_ptr() as usize, page).expect("a leaked mapping stays mapped");
}

#[test]
fn drop_unmaps_exactly_the_mapped_range() {
    let _g = exclusive();
    let page = page_size();
    // Three pages made with the raw layer; the safe owner takes the middle
    // one (from an unaligned pointer), its neighbours stay raw.
    // SAFETY: a new private anonymous mapping.
    let raw = unsafe {
        rawmap::mmap(
            core::ptr::null_mut(),
            3 * page,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
    }
    .unwrap() as usize;
    // SAFETY: the middle page is one mapping of normal pages nobody else owns.
    let map = unsafe { MmapMut::from_raw((raw + page + 10) as *mut u8, page - 10) };
    // In a single-threaded child: nothing else can map into the freed page
    // before the check (the parent's copy is dropped).
    check_in_child(move || {
        drop(map);
        ensure!(
            mapped((raw + page) as *mut u8, page) == Err(Errno::ENOMEM),
            "the middle page unmapped"
        );
        ensure!(
            mapped(raw as *mut u8, page).is_ok(),
            "the page before mapped"
        );
        ensure!(
            mapped((raw + 2 * page) as *mut u8, page).is_ok(),
            "the page after mapped"
        );
        Ok(())
    });
    mincore_at(raw, page).expect("the page before must stay mapped");
    mincore_at(raw + 2 * page, page).expect("the page after must stay mapped");
    // SAFETY: the two raw pages are ours.
    unsafe {
        rawmap::munmap(raw as *mut _, page).unwrap();
        rawmap::munmap((raw + 2 * page) as *mut _, page).unwrap();
    }

    // A file mapping at an unaligned offset: the whole page-aligned range.
    // (It ends inside the file: QEMU with a page size of its own maps a
    // file only up to its end rounded to host pages.)
    let file = file_with(&seeded_pattern(4 * page + 17, 10));
    // SAFETY: the temporary file is private to this test.
    let map = unsafe {
        MmapOptions::new()
            .offset(page as u64 + 1)
            .len(3 * page - 1)
            .map(&file)
    }
    .unwrap();
    let (base, map_len) = kernel_range(map.as_ptr(), map.len());
    assert_eq!((map.as_ptr() as usize - base, map_len), (1, 3 * page));
    mincore_at(base, map_len).unwrap();
    unmaps_in_child(base, map_len, move || {
        drop(map);
        true
    });
}

#[test]
fn advise_range_never_reaches_the_neighbour() {
    let _g = exclusive();
    let page = page_size();
    // Two adjacent private anonymous pages; the safe owner has the first.
    // SAFETY: a new private anonymous mapping.
    let raw = unsafe {
        rawmap::mmap(
            core::ptr::null_mut(),
            2 * page,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
    }
    .unwrap() as usize;
    let neighbour = raw + page;
    // SAFETY: the second page is ours and writable.
    unsafe { core::ptr::write_bytes(neighbour as *mut u8, 0x5A, page) };
    // SAFETY: the first page is one mapping of normal pages nobody else owns.
    let mut map = unsafe { MmapMut::from_raw(raw as *mut u8, page) };
    map.fill(0x33);
    let len = map.len();

    // The case a well-known peer lets through: offset = len.
    assert_eq!(
        map.advise_range(Advice::WipeOnFork, len, len),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map.advise_range(Advice::DontFork, len, len),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map.advise_range(Advice::DontFork, len, 1),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map.advise_range(Advice::DontFork, len - 1, 2),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map.advise_range(Advice::DontFork, usize::MAX, 2),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map.advise_range(Advice::DontFork, 1, usize::MAX),
        Err(Errno::EINVAL)
    );
    // SAFETY: every range is refused before any system call.
    unsafe {
        let dn = UncheckedAdvice::DontNeed;
        assert_eq!(map.unchecked_advise_range(dn, len, len), Err(Errno::EINVAL));
        assert_eq!(map.unchecked_advise_range(dn, len, 1), Err(Errno::EINVAL));
        assert_eq!(
            map.unchecked_advise_range(dn, len + 1, 0),
            Err(Errno::EINVAL)
        );
    }
    // The empty range at the end is fine and does nothing.
    assert_eq!(map.advise_range(Advice::DontFork, len, 0), Ok(()));

    // DontNeed on the neighbour would have zeroed it (private anonymous).
    // SAFETY: the neighbour page is still mapped and ours.
    let nb = unsafe { core::slice::from_raw_parts(neighbour as *const u8, page) };
    assert!(nb.iter().all(|&b| b == 0x5A), "the neighbour was discarded");

    // DontFork on the neighbour would kill a child touching it; WipeOnFork
    // would show it zeroed there. A positive control: WipeOnFork applied to
    // the mapping itself, legitimately.
    map.advise_range(Advice::WipeOnFork, 0, 1).unwrap();
    let (mine, theirs) = (raw, neighbour);
    let code = in_child(|| {
        // SAFETY: both pages are mapped in the child as in the parent.
        let (m, n) = unsafe {
            (
                core::slice::from_raw_parts(mine as *const u8, page),
                core::slice::from_raw_parts(theirs as *const u8, page),
            )
        };
        let wiped = m.iter().all(|&b| b == 0);
        let kept = m.iter().all(|&b| b == 0x33);
        let neighbour_ok = n.iter().all(|&b| b == 0x5A);
        match (wiped, kept, neighbour_ok) {
            (_, _, false) => 1,
            (true, _, true) => 10,
            (_, true, true) => 11,
            _ => 2,
        }
    });
    if common::under_qemu_user() {
        // QEMU's user mode accepts MADV_WIPEONFORK and ignores it.
        assert_eq!(code, 11);
    } else {
        assert_eq!(code, 10);
        // The kernel's record of the advice: only our page has it.
        assert!(smaps_vmflags(raw).contains(&"wf".to_string()));
        let flags = smaps_vmflags(neighbour);
        assert!(!flags.contains(&"wf".to_string()) && !flags.contains(&"dc".to_string()));
    }
    drop(map);
    // SAFETY: the neighbour page is ours.
    unsafe { rawmap::munmap(neighbour as *mut _, page) }.unwrap();
}

#[test]
fn lock_and_lock_range_show_in_vmlck() {
    let _g = exclusive();
    let page = page_size();
    let kb = |pages: usize| pages * page / 1024;
    let vm_lck_kb = || status_kb("VmLck");
    let before = vm_lck_kb();
    let map = MmapOptions::new().len(3 * page).map_anon().unwrap();
    map.lock().unwrap();
    assert_eq!(vm_lck_kb(), before + kb(3));
    map.unlock().unwrap();
    assert_eq!(vm_lck_kb(), before);

    map.lock_range(page, page).unwrap();
    assert_eq!(vm_lck_kb(), before + kb(1));
    map.unlock_range(page, page).unwrap();
    assert_eq!(vm_lck_kb(), before);

    // Unaligned: widened to the two pages the bytes touch.
    map.lock_range(page - 1, 2).unwrap();
    let locked = vm_lck_kb() - before;
    if common::qemu_pagesize().is_some() {
        // QEMU with a page size of its own passes the length on unrounded,
        // and the host rounds it up to its own pages (smaller than the
        // guest's above 4K): more than one guest page is locked, at most two.
        assert!(locked > kb(1) && locked <= kb(2), "{locked} kB");
    } else {
        assert_eq!(locked, kb(2));
    }
    map.unlock_range(0, 3 * page).unwrap();
    assert_eq!(vm_lck_kb(), before);

    // Out of range: refused, nothing locked.
    assert_eq!(map.lock_range(3 * page - 1, 2), Err(Errno::EINVAL));
    assert_eq!(map.lock_range(3 * page, 1), Err(Errno::EINVAL));
    assert_eq!(map.unlock_range(3 * page, 1), Err(Errno::EINVAL));
    assert_eq!(map.lock_range(3 * page, 0), Ok(()));
    assert_eq!(vm_lck_kb(), before);

    // A read-only mapping locks too; dropping a locked mapping unlocks it.
    let ro = map.make_read_only().unwrap();
    ro.lock().unwrap();
    assert_eq!(vm_lck_kb(), before + kb(3));
    drop(ro);
    assert_eq!(vm_lck_kb(), before);
}
