//! The safe layer against the real kernel: writing and flushing, private
//! copies, anonymous memory, protection changes seen in `/proc/self/maps`,
//! remapping, sharing with a forked child, ownership hand-offs, what `Drop`
//! unmaps, checked sub-ranges, locking, and the extra mapping flags.
//!
//! Tests that look at process-wide state (`/proc/self/maps`, `VmLck`,
//! whether an address is still mapped, `fork`) take [`exclusive`]; all others
//! take [`shared`], so no other test maps or unmaps meanwhile.

mod common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use rawmap::{
    Advice, Errno, MapFlags, Mmap, MmapError, MmapMut, MmapOptions, Prot, UncheckedAdvice,
    page_size,
};

static STATE: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    STATE.read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    STATE.write().unwrap_or_else(|e| e.into_inner())
}

/// Bytes that differ from their neighbours and from page to page.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ ((i >> 8) as u8) ^ seed)
        .collect()
}

fn file_with(bytes: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

fn file_contents(file: &mut std::fs::File) -> Vec<u8> {
    let mut v = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut v).unwrap();
    v
}

/// The kernel's range behind a user's view at `ptr`, `len` bytes long.
fn kernel_range(ptr: *const u8, len: usize) -> (usize, usize) {
    let page = page_size();
    let base = ptr as usize & !(page - 1);
    let end = (ptr as usize + len).next_multiple_of(page);
    (base, end - base)
}

/// `mincore` over `len` bytes at `addr` (page-aligned): `Ok` if all of it is
/// mapped, `Err(ENOMEM)` if some of it is not. The vector is oversized:
/// QEMU above 4K pages writes one byte per host page.
fn mincore(addr: usize, len: usize) -> Result<Vec<u8>, Errno> {
    let mut vec = vec![0u8; len.div_ceil(page_size()) * 16 + 1];
    // SAFETY: mincore only writes into `vec`, which is large enough.
    unsafe { rawmap::mincore(addr as *mut _, len, vec.as_mut_ptr()) }?;
    Ok(vec)
}

/// The `/proc/self/maps` line that contains `addr`: (start, end, perms).
/// QEMU's emulated file can briefly miss a live mapping, so look again a
/// few times before saying it is not there.
fn maps_entry(addr: usize) -> Option<(usize, usize, String)> {
    for _ in 0..50 {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let range = fields.next().unwrap();
            let perms = fields.next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            let a = usize::from_str_radix(a, 16).unwrap();
            let b = usize::from_str_radix(b, 16).unwrap();
            if (a..b).contains(&addr) {
                return Some((a, b, perms.to_string()));
            }
        }
        std::thread::yield_now();
    }
    None
}

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
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: sets a limit of this child only.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
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

/// The `VmFlags:` of the `/proc/self/smaps` entry containing `addr`.
fn smaps_vmflags(addr: usize) -> Vec<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            inside = (a..b).contains(&addr);
            continue;
        }
        if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return flags.split_whitespace().map(str::to_string).collect();
        }
    }
    panic!("{addr:#x} not in /proc/self/smaps");
}

/// Runs `f` in a child made with `fork` and returns its exit code, or
/// 128 + the signal that killed it.
fn in_child(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `f` (memory reads and writes, no locks)
    // and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child made above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

/// `VmLck:` of `/proc/self/status`, in kB.
fn vm_lck_kb() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn map_mut_write_flush_reaches_the_file() {
    let _g = shared();
    let page = page_size();
    let len = 2 * page + 3;
    let mut file = file_with(&pattern(len, 1));
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().map_mut(&file) }.unwrap();
    assert_eq!(map.len(), len);
    map[0] = 0xAB;
    map[page + 1] = 0xCD;
    map[len - 1] = 0xEF;
    map.flush().unwrap();
    let mut want = pattern(len, 1);
    want[0] = 0xAB;
    want[page + 1] = 0xCD;
    want[len - 1] = 0xEF;
    assert_eq!(file_contents(&mut file), want);

    map[2 * page] = 1;
    map.flush_async().unwrap();
    map.flush().unwrap();
    want[2 * page] = 1;
    assert_eq!(file_contents(&mut file), want);
}

#[test]
fn flush_range_unaligned_works_and_stays_inside() {
    let _g = shared();
    let page = page_size();
    let len = 3 * page + 17;
    let mut file = file_with(&vec![0; len]);
    // An unaligned file offset, too: the view starts 5 bytes into a page.
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().offset(5).map_mut(&file) }.unwrap();
    assert_eq!(map.len(), len - 5);
    assert_eq!(map.as_ptr() as usize % page, 5);
    map[page - 1..page + 2].copy_from_slice(b"xyz");
    map.flush_range(page - 1, 3).unwrap();
    map.flush_async_range(1, page).unwrap();
    let on_disk = file_contents(&mut file);
    assert_eq!(&on_disk[page + 4..page + 7], b"xyz");
    assert_eq!(on_disk.len(), len);

    // The whole view, the empty range at its end, and ranges past it.
    let n = map.len();
    assert_eq!(map.flush_range(0, n), Ok(()));
    assert_eq!(map.flush_range(n, 0), Ok(()));
    assert_eq!(map.flush_range(n, 1), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(n - 1, 2), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(n + 1, 0), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(1, usize::MAX), Err(Errno::EINVAL));
    assert_eq!(map.flush_async_range(usize::MAX, 2), Err(Errno::EINVAL));
}

#[test]
fn map_copy_writes_leave_the_file_unchanged() {
    let _g = shared();
    let page = page_size();
    let len = page + 9;
    let original = pattern(len, 2);
    let mut file = file_with(&original);
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().offset(1).map_copy(&file) }.unwrap();
    assert_eq!(&map[..], &original[1..]);
    map.fill(0x77);
    map.flush().unwrap();
    assert!(map.iter().all(|&b| b == 0x77));
    assert_eq!(file_contents(&mut file), original);
    // A second mapping of the file still shows the file.
    // SAFETY: as above.
    let again = unsafe { MmapOptions::new().map(&file) }.unwrap();
    assert_eq!(&again[..], &original[..]);
}

#[test]
fn map_anon_is_zeroed_and_writable() {
    let _g = shared();
    let page = page_size();
    for len in [1, 2, page - 1, page, page + 1, 3 * page + 17, (1 << 20) + 5] {
        let mut map = MmapOptions::new().len(len).map_anon().unwrap();
        assert_eq!(map.len(), len);
        assert_eq!(map.as_ptr() as usize % page, 0);
        assert!(map.iter().all(|&b| b == 0), "len {len} not zeroed");
        let want = pattern(len, 3);
        map.copy_from_slice(&want);
        assert_eq!(&map[..], &want[..]);
        let shared = MmapOptions::new().len(len).map_anon_shared().unwrap();
        assert!(shared.iter().all(|&b| b == 0));
    }
    // The offset is ignored for anonymous memory.
    let map = MmapOptions::new().offset(3).len(10).map_anon().unwrap();
    assert_eq!(map.as_ptr() as usize % page, 0);
    // No length: an empty mapping.
    assert!(MmapOptions::new().map_anon().unwrap().is_empty());
}

#[test]
fn empty_mappings_make_no_mmap_call() {
    let _g = shared();
    // `len(0)` never looks at the descriptor: even an invalid one works.
    // SAFETY: nothing is mapped.
    let map = unsafe { MmapOptions::new().len(0).map(-1) }.unwrap();
    assert!(map.is_empty());
    assert_eq!(&map[..], b"");
    // An empty file with flags mmap would refuse (HUGETLB on a file that is
    // not on hugetlbfs is EINVAL): no mmap call, so no error.
    let file = tempfile::tempfile().unwrap();
    // SAFETY: the temporary file is private to this test.
    let hugetlb = unsafe { MmapOptions::new().huge(Some(21)).map(&file) };
    assert!(hugetlb.unwrap().is_empty());
    // With a length, the same mapping reaches mmap and fails.
    // SAFETY: as above.
    let err = unsafe { MmapOptions::new().huge(Some(21)).len(1).map(&file) }.unwrap_err();
    assert_eq!(err, Errno::EINVAL);

    // Everything works on an empty mapping and does nothing.
    let mut map = MmapOptions::new().len(0).map_anon().unwrap();
    map.flush().unwrap();
    map.flush_async().unwrap();
    map.flush_range(0, 0).unwrap();
    assert_eq!(map.flush_range(0, 1), Err(Errno::EINVAL));
    map.advise(Advice::Random).unwrap();
    map.lock().unwrap();
    map.unlock().unwrap();
    assert_eq!(map.as_mut().len(), 0);
    // SAFETY: an anonymous mapping has no file to outgrow.
    assert_eq!(unsafe { map.remap(10, true) }, Err(Errno::EINVAL));
    let map = map.make_read_only().unwrap().make_exec().unwrap();
    let map = map.make_mut().unwrap();
    map.unmap().unwrap();
}

#[test]
fn length_arithmetic_never_wraps() {
    let _g = shared();
    let page = page_size();
    let file = file_with(b"0123456789");
    // SAFETY: every call fails before mapping anything.
    unsafe {
        let o = MmapOptions::new;
        assert_eq!(
            o().offset(u64::MAX).len(1).map(&file).unwrap_err(),
            Errno::EOVERFLOW
        );
        // On a 32-bit target 1 + usize::MAX fits a u64: then it is the
        // page-rounded length that does not fit a usize.
        let too_long = if cfg!(target_pointer_width = "64") {
            Errno::EOVERFLOW
        } else {
            Errno::ENOMEM
        };
        assert_eq!(
            o().offset(1).len(usize::MAX).map(&file).unwrap_err(),
            too_long
        );
        // offset + len fits, but the page-rounded length does not.
        let near = usize::MAX - page;
        assert_eq!(
            o().offset(page as u64 - 1)
                .len(near)
                .map(&file)
                .unwrap_err(),
            Errno::ENOMEM
        );
        // Without len: an offset past the end of the file.
        assert_eq!(o().offset(11).map(&file).unwrap_err(), Errno::EINVAL);
        assert_eq!(o().offset(u64::MAX).map(&file).unwrap_err(), Errno::EINVAL);
        // The offset may equal the size: an empty mapping.
        assert!(o().offset(10).map(&file).unwrap().is_empty());
    }
    assert_eq!(
        MmapOptions::new().len(usize::MAX).map_anon().unwrap_err(),
        Errno::ENOMEM
    );
    // Huge page sizes that cannot be: EINVAL before mmap.
    for bits in [0, 1, page.trailing_zeros() as u8, 64, 200] {
        let err = MmapOptions::new()
            .len(1)
            .huge(Some(bits))
            .map_anon()
            .unwrap_err();
        assert_eq!(err, Errno::EINVAL, "huge(Some({bits}))");
    }
}

#[test]
fn bad_descriptors_are_clear_errors() {
    let _g = shared();
    // SAFETY: every call fails before mapping anything.
    unsafe {
        assert_eq!(MmapOptions::new().map(-1).unwrap_err(), Errno::EBADF);
        // AT_FDCWD must not be taken for the current directory.
        assert_eq!(MmapOptions::new().map(-100).unwrap_err(), Errno::EBADF);
        assert_eq!(MmapOptions::new().len(1).map(-1).unwrap_err(), Errno::EBADF);
        let mut fds = [0; 2];
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        assert_eq!(MmapOptions::new().map(fds[0]).unwrap_err(), Errno::ENODEV);
        // QEMU with a page size of its own cuts file mappings at the size
        // fstat gives (0 for a pipe) before the host sees them: EINVAL.
        let want = if common::qemu_pagesize().is_some() {
            Errno::EINVAL
        } else {
            Errno::ENODEV
        };
        assert_eq!(MmapOptions::new().len(1).map(fds[0]).unwrap_err(), want);
        libc::close(fds[0]);
        libc::close(fds[1]);
        let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
        assert_eq!(MmapOptions::new().map(&dir).unwrap_err(), Errno::EISDIR);
        assert_eq!(
            MmapOptions::new().len(1).map(&dir).unwrap_err(),
            Errno::ENODEV
        );
    }
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
    let mut v = pattern(len, seed);
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
    assert_eq!(
        err.to_string(),
        format!("mapping operation failed: {}", Errno::EACCES)
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
    map.unmap().unwrap();
    assert_eq!(mincore(base, map_len).unwrap_err(), Errno::ENOMEM);
}

#[test]
fn remap_grows_and_shrinks_keeping_contents() {
    let _g = exclusive();
    let page = page_size();
    let small = page + 10;
    let want = pattern(small, 7);
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
        mincore(addr as usize + page, page).unwrap_err(),
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
    let file_bytes = pattern(4 * page, 8);
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
    drop(fmap);
    assert_eq!(mincore(base, map_len).unwrap_err(), Errno::ENOMEM);
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
    map.unmap().unwrap();
    assert_eq!(mincore(base, map_len).unwrap_err(), Errno::ENOMEM);

    // into_raw + from_raw of an unaligned file view.
    let bytes = pattern(3 * page, 9);
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
    mincore(base, map_len).expect("into_raw must leave the mapping in place");
    // SAFETY: (ptr, len) come from into_raw of an MmapMut of normal pages.
    let map = unsafe { MmapMut::from_raw(ptr, len) };
    assert_eq!((map.as_ptr(), map.len()), (ptr as *const u8, page));
    assert_eq!(map[0], 0);
    assert_eq!(&map[1..], &bytes[page - 2..2 * page - 3]);
    drop(map);
    assert_eq!(mincore(base, map_len).unwrap_err(), Errno::ENOMEM);

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
    mincore(addr, page).expect("a leaked mapping stays mapped");
    let ro: &'static [u8] = MmapOptions::new()
        .len(2)
        .map_anon()
        .unwrap()
        .make_read_only()
        .unwrap()
        .leak();
    assert_eq!(ro, &[0, 0]);
    mincore(ro.as_ptr() as usize, page).expect("a leaked mapping stays mapped");
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
    drop(map);
    assert_eq!(mincore(raw + page, page).unwrap_err(), Errno::ENOMEM);
    mincore(raw, page).expect("the page before must stay mapped");
    mincore(raw + 2 * page, page).expect("the page after must stay mapped");
    // SAFETY: the two raw pages are ours.
    unsafe {
        rawmap::munmap(raw as *mut _, page).unwrap();
        rawmap::munmap((raw + 2 * page) as *mut _, page).unwrap();
    }

    // A file mapping at an unaligned offset: the whole page-aligned range.
    // (It ends inside the file: QEMU with a page size of its own maps a
    // file only up to its end rounded to host pages.)
    let file = file_with(&pattern(4 * page + 17, 10));
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
    mincore(base, map_len).unwrap();
    drop(map);
    assert_eq!(mincore(base, map_len).unwrap_err(), Errno::ENOMEM);
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

/// (HugePages_Total, Hugepagesize in bytes) from /proc/meminfo.
fn huge_pages() -> (usize, usize) {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let value = |key: &str| -> usize {
        let line = meminfo.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (value("HugePages_Total:"), value("Hugepagesize:") * 1024)
}

#[test]
fn huge_without_huge_pages_is_a_clear_error() {
    let _g = shared();
    let overcommit: usize = std::fs::read_to_string("/proc/sys/vm/nr_overcommit_hugepages")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (total, size) = huge_pages();
    let bits = size.trailing_zeros() as u8;
    let default = MmapOptions::new().len(1).huge(None).map_anon();
    let sized = MmapOptions::new().len(1).huge(Some(bits)).map_anon();
    if common::under_qemu_user() {
        // QEMU's user mode (7.2) refuses MAP_HUGETLB for guest mappings
        // with EINVAL, whatever the host has.
        assert_eq!(default.unwrap_err(), Errno::EINVAL);
        assert_eq!(sized.unwrap_err(), Errno::EINVAL);
    } else if total == 0 && overcommit == 0 {
        assert_eq!(default.unwrap_err(), Errno::ENOMEM);
        assert_eq!(sized.unwrap_err(), Errno::ENOMEM);
    } else {
        for r in [default, sized] {
            let mut map = r.unwrap();
            assert_eq!(map.as_ptr() as usize % size, 0);
            map[0] = 1;
        }
    }
}

#[test]
fn populate_no_reserve_and_stack_pass_their_flags() {
    let _g = exclusive();
    let page = page_size();
    let len = 8 * page;
    let pages = len / page;
    let lazy = MmapOptions::new().len(len).map_anon().unwrap();
    let eager = MmapOptions::new().len(len).populate().map_anon().unwrap();
    let lazy_in = mincore(lazy.as_ptr() as usize, len).unwrap();
    let eager_in = mincore(eager.as_ptr() as usize, len).unwrap();
    assert!(lazy_in[..pages].iter().all(|&b| b & 1 == 0), "{lazy_in:?}");
    if common::under_qemu_user() {
        // QEMU's user mode (7.2) does not pass MAP_POPULATE on to the host:
        // the pages stay absent until touched.
        assert!(
            eager_in[..pages].iter().all(|&b| b & 1 == 0),
            "{eager_in:?}"
        );
    } else {
        assert!(
            eager_in[..pages].iter().all(|&b| b & 1 == 1),
            "{eager_in:?}"
        );
    }

    // A file: populate reads it in.
    let file = file_with(&pattern(len, 11));
    // SAFETY: the temporary file is private to this test.
    let fmap = unsafe { MmapOptions::new().populate().map(&file) }.unwrap();
    assert_eq!(&fmap[..], &pattern(len, 11)[..]);

    let nr = MmapOptions::new().len(len).no_reserve().map_anon().unwrap();
    let stack = MmapOptions::new().len(len).stack().map_anon().unwrap();
    assert_eq!((nr.len(), stack.len()), (len, len));
    if common::under_qemu_user() {
        // QEMU's emulated smaps has no VmFlags for these; the mappings work.
        assert!(nr.iter().chain(stack.iter()).all(|&b| b == 0));
    } else {
        // VM_NORESERVE shows as "nr"; MAP_STACK turns transparent huge pages
        // off for the mapping (VM_NOHUGEPAGE, "nh") since Linux 6.7.
        assert!(smaps_vmflags(nr.as_ptr() as usize).contains(&"nr".to_string()));
        assert!(!smaps_vmflags(lazy.as_ptr() as usize).contains(&"nr".to_string()));
        // Before 6.7 the kernel ignores MAP_STACK.
        let stack_is_nohugepage = common::kernel_version() >= (6, 7);
        assert_eq!(
            smaps_vmflags(stack.as_ptr() as usize).contains(&"nh".to_string()),
            stack_is_nohugepage,
            "kernel {:?}",
            common::kernel_version()
        );
        assert!(!smaps_vmflags(lazy.as_ptr() as usize).contains(&"nh".to_string()));
    }
}

#[test]
fn deref_as_ref_as_mut_and_debug() {
    let _g = shared();
    let mut map = MmapOptions::new().len(4).map_anon().unwrap();
    map.as_mut().copy_from_slice(b"abcd");
    assert_eq!(map.as_ref(), b"abcd");
    // SAFETY: the mapping is 4 writable bytes.
    unsafe { map.as_mut_ptr().add(3).write(b'!') };
    assert_eq!(&*map, b"abc!");
    let dbg = format!("{map:?}");
    assert!(
        dbg.starts_with("MmapMut { ptr: ") && dbg.ends_with("len: 4 }"),
        "{dbg}"
    );
    let ro = map.make_read_only().unwrap();
    assert_eq!(ro.as_ref(), b"abc!");
    assert!(format!("{ro:?}").starts_with("Mmap { ptr: "));
}

static_assertions::assert_impl_all!(Mmap: Send, Sync, AsRef<[u8]>, std::ops::Deref<Target = [u8]>);
static_assertions::assert_impl_all!(MmapMut: Send, Sync, AsMut<[u8]>, std::ops::DerefMut);
static_assertions::assert_impl_all!(MmapError<MmapMut>: std::error::Error, Into<Errno>, Into<std::io::Error>);

#[test]
fn touching_past_the_end_of_the_file_raises_sigbus() {
    let _g = exclusive();
    let page = page_size();
    // What the `# Safety` sections promise happens when their rules are
    // broken, shown in children made with `fork`.
    let file = file_with(&pattern(2 * page, 12));
    let fd = file.as_raw_fd();
    // SAFETY: the file is changed only in the child, which dies of it.
    let map = unsafe { MmapOptions::new().map(&file) }.unwrap();
    let addr = map.as_ptr() as usize;
    let truncated = in_child(|| {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: limits and truncates in this child only (the file is
        // shared, but the parent does not read past the first page after).
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            libc::ftruncate(fd, 1);
            core::ptr::read_volatile((addr + page) as *const u8);
        }
        0
    });
    assert_eq!(truncated, 128 + libc::SIGBUS);
    drop(map);

    // An explicit length past the end of a 1-byte file.
    let short = file_with(b"x");
    // SAFETY: the page past the end is touched only in the child.
    let map = unsafe { MmapOptions::new().len(2 * page).map(&short) }.unwrap();
    assert_eq!(map[0], b'x');
    assert_eq!(map[page - 1], 0, "the rest of the last page reads as zeros");
    let addr = map.as_ptr() as usize;
    let past = in_child(|| {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: the child reads a page past the end of the file.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            core::ptr::read_volatile((addr + page) as *const u8);
        }
        0
    });
    if common::qemu_pagesize().is_some() {
        // QEMU with a page size of its own maps the file only up to its end
        // rounded to host pages: past that, nothing is mapped at all.
        assert_eq!(past, 128 + libc::SIGSEGV);
    } else {
        assert_eq!(past, 128 + libc::SIGBUS);
    }
}

#[test]
fn safe_layer_maps_any_offset_with_the_real_page_size() {
    // The safe layer maps from the page-aligned offset below and hands out a
    // pointer into it; a kernel with 16K pages refuses anything computed
    // with 4K pages, so this passing there shows the arithmetic is right.
    let page = page_size();
    let file = common::file_with(&common::pattern_bytes(3 * page));
    for offset in [
        1,
        common::mem::SUB_PAGE,
        page - 1,
        page,
        page + common::mem::SUB_PAGE + 7,
        2 * page,
    ] {
        let len = 3 * page - offset;
        // SAFETY: the temporary file is private to this test.
        let map = unsafe { MmapOptions::new().offset(offset as u64).map(&file) }
            .unwrap_or_else(|e| panic!("map at offset {offset}: {e}"));
        assert_eq!(map.len(), len);
        assert!(
            map.iter()
                .enumerate()
                .all(|(i, &b)| b == common::pattern(offset + i)),
            "offset {offset}"
        );
        map.unmap()
            .unwrap_or_else(|e| panic!("unmap at offset {offset}: {}", e.errno()));
    }
}
