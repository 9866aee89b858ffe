//! The raw layer against the running kernel (or QEMU's user mode): every
//! function's success path with its effect observed, and its error paths
//! with the exact errno.
//!
//! Where QEMU's user mode differs from a kernel (DESIGN.md lists the known
//! cases; a few more are noted here), a test asserts QEMU's behaviour under
//! QEMU and the kernel's elsewhere, and says so.
//!
//! Several tests need an address range to stay unmapped between two calls
//! (after `munmap`, or a hole next to a mapping). Any other thread could map
//! into such a hole: another test, the test harness starting a thread, the
//! allocator. So every test here holds [`serial`] while it runs, and the
//! checks that need a hole run in a child process made with `fork`, which
//! has a single thread ([`in_child`]).

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::under_qemu_user;
use rawmap::{
    Advice, Errno, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice, c_void, madvise,
    mincore, mlock, mmap, mprotect, mremap, msync, munlock, munmap, page_size,
};

// ---------------------------------------------------------------------------
// Helpers

/// Serializes the tests of this file (see the module documentation).
///
/// It also looks up [`host_page_size`] before the test starts: reading
/// `/proc/self/smaps` takes a large buffer, which the allocator may place
/// with `mmap` into a hole a test has just made.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    host_page_size();
    guard
}

const RW: Prot = Prot::READ.union(Prot::WRITE);
const ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);

/// The page size of the machine that really runs the code: the kernel's
/// `KernelPageSize` of the first mapping in `/proc/self/smaps`. QEMU 7.2's
/// user mode does not emulate that file, so under QEMU this is the host's
/// page size, which can be smaller than the page size QEMU emulates.
fn host_page_size() -> usize {
    static CACHE: OnceLock<usize> = OnceLock::new();
    *CACHE.get_or_init(read_host_page_size)
}

fn read_host_page_size() -> usize {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let kb: usize = smaps
        .lines()
        .find_map(|l| l.strip_prefix("KernelPageSize:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a KernelPageSize line");
    kb * 1024
}

/// Whether QEMU emulates pages larger than the host's: the configuration
/// where most of its documented defects show.
fn qemu_with_larger_pages() -> bool {
    under_qemu_user() && page_size() > host_page_size()
}

/// A private anonymous read-write mapping of `len` bytes.
fn anon(len: usize) -> *mut u8 {
    // SAFETY: a new anonymous mapping replaces nothing.
    unsafe { mmap(ptr::null_mut(), len, RW, ANON, -1, 0) }
        .expect("anonymous mmap")
        .cast()
}

/// `len` bytes of address space that nothing else will be given: a
/// `PROT_NONE` private anonymous mapping.
fn reserve(len: usize) -> *mut u8 {
    // SAFETY: a new anonymous mapping replaces nothing.
    unsafe { mmap(ptr::null_mut(), len, Prot::NONE, ANON, -1, 0) }
        .expect("reserving address space")
        .cast()
}

/// Unmaps a region this test mapped.
fn unmap(p: *mut u8, len: usize) {
    // SAFETY: the caller mapped `[p, p + len)` and uses it no more.
    unsafe { munmap(p.cast(), len) }.expect("munmap");
}

/// A recognisable byte for position `i` of a test pattern.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ 0x5a
}

/// A temporary file holding `len` bytes of [`pattern`].
fn pattern_file(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(pattern).collect();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    file.flush().unwrap();
    (file, bytes)
}

/// The bytes `[p, p + len)` of a live mapping.
///
/// # Safety
///
/// The range is mapped readable and nothing writes it while the slice lives.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(p, len) }
}

/// An address at which nothing is mapped and nothing will be: the second
/// page of the address space, below the kernel's `mmap_min_addr` (64 KiB by
/// default; QEMU keeps guest mappings far above it too).
fn never_mapped() -> *mut c_void {
    page_size() as *mut c_void
}

/// The errno of the last failed libc call.
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

/// What the kernel's `read(2)` of one byte from `/dev/zero` into `p` says:
/// `Ok` if the kernel could write `p`, `EFAULT` if the page's protection
/// forbids it. (QEMU checks the guest's page protection the same way.)
fn kernel_can_write(p: *mut u8) -> Result<(), i32> {
    let zero = File::open("/dev/zero").unwrap();
    // SAFETY: `read` writes at most one byte at `p`, which the caller maps;
    // the kernel reports EFAULT instead of faulting if it is not writable.
    match unsafe { libc::read(zero.as_raw_fd(), p.cast(), 1) } {
        1 => Ok(()),
        _ => Err(last_errno()),
    }
}

/// What the kernel's `write(2)` of one byte from `p` into a file says: `Ok`
/// if the kernel could read `p`, `EFAULT` if not.
fn kernel_can_read(p: *const u8) -> Result<(), i32> {
    let file = tempfile::tempfile().unwrap();
    // SAFETY: `write` reads at most one byte at `p`; the kernel reports
    // EFAULT instead of faulting if it is not readable.
    match unsafe { libc::write(file.as_raw_fd(), p.cast(), 1) } {
        1 => Ok(()),
        _ => Err(last_errno()),
    }
}

/// `mincore` on `[p, p + len)` into a vector with room for one byte per
/// *host* page (QEMU with larger pages writes that many) and a sentinel
/// after it; returns the vector and how many bytes were written.
fn mincore_vec(p: *mut u8, len: usize) -> Result<(Vec<u8>, usize), Errno> {
    const SENTINEL: u8 = 0xee;
    let room = len.div_ceil(host_page_size().min(page_size()));
    let mut vec = vec![SENTINEL; room + 8];
    // SAFETY: `vec` has room for one byte per page of the range, at the
    // smaller of the two page sizes.
    unsafe { mincore(p.cast(), len, vec.as_mut_ptr()) }?;
    let written = vec
        .iter()
        .rposition(|&b| b != SENTINEL)
        .map_or(0, |i| i + 1);
    Ok((vec, written))
}

/// Fails the check running in a [`in_child`] process with a message that
/// names the line.
macro_rules! ensure {
    ($cond:expr, $what:literal) => {
        if !$cond {
            return Err(concat!(file!(), ":", line!(), ": ", $what));
        }
    };
}

/// Runs `check` in a child process made with `fork`, and fails the test if
/// it fails.
///
/// The child has a single thread, so nothing else maps memory while it
/// runs: a check that an unmapped range stays unmapped cannot be spoiled by
/// another test's thread (or the allocator) mapping into it. `check` must
/// not allocate or take locks another thread may have held at the fork (it
/// makes raw system calls and uses the stack); it reports a failure by
/// returning a message, which the child writes to standard error.
fn in_child(check: impl FnOnce() -> Result<(), &'static str>) {
    // Looked up before the fork: the child must not allocate.
    let _ = (page_size(), host_page_size());
    // SAFETY: the child runs `check` under the rules above, then leaves
    // with _exit, never returning into the test harness.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
                Ok(Ok(())) => 0,
                Ok(Err(msg)) => {
                    // SAFETY: writes the message's bytes to standard error.
                    unsafe {
                        libc::write(2, msg.as_ptr().cast(), msg.len());
                        libc::write(2, b"\n".as_ptr().cast(), 1);
                    }
                    1
                }
                Err(_) => 2,
            };
            // SAFETY: ends the child without running anything of the parent's.
            unsafe { libc::_exit(code) }
        }
        child => {
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "the check in the child failed (status {status:#x}; its message is above)"
            );
        }
    }
}

/// `mincore` without allocating (for [`in_child`]): whether the whole
/// range is mapped (`Ok`) or the kernel's errno.
fn mapped(p: *mut u8, len: usize) -> Result<(), Errno> {
    let mut vec = [0u8; 1024];
    if len.div_ceil(host_page_size().min(page_size())) > vec.len() {
        return Err(Errno::E2BIG);
    }
    // SAFETY: `vec` has room for one byte per page of the range, at the
    // smaller of the two page sizes.
    unsafe { mincore(p.cast(), len, vec.as_mut_ptr()) }
}

// ---------------------------------------------------------------------------
// mmap

#[test]
fn mmap_anonymous_private_is_zeroed_and_writable() {
    let _g = serial();
    let len = 3 * page_size();
    let p = anon(len);
    assert_eq!(p as usize % page_size(), 0);
    // SAFETY: the mapping is `len` bytes, readable and writable, and only
    // this test uses it.
    unsafe {
        assert!(bytes(p, len).iter().all(|&b| b == 0));
        for i in 0..len {
            p.add(i).write(pattern(i));
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
fn mmap_length_is_rounded_up_to_pages() {
    let _g = serial();
    let page = page_size();
    let host = host_page_size();
    let larger = qemu_with_larger_pages();
    in_child(|| {
        // SAFETY: a new anonymous mapping replaces nothing.
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 17, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: the first 17 bytes are mapped read-write.
        unsafe {
            p.add(16).write(9);
            ensure!(p.add(16).read() == 9, "write and read back");
            ensure!(p.add(17).read() == 0, "zero after the length");
        }
        if larger {
            // QEMU with pages larger than the host's backs only the host
            // pages that hold the requested bytes: the rest of the emulated
            // page has nothing behind it on the host, so the host's mincore
            // refuses it.
            ensure!(mapped(p, host).is_ok(), "the host page is mapped");
            ensure!(
                mapped(p, page) == Err(Errno::ENOMEM),
                "QEMU: rest of page unbacked"
            );
        } else {
            // The kernel maps whole pages: the bytes after `len` up to the
            // page end are part of the mapping, zero and writable.
            ensure!(mapped(p, page).is_ok(), "the whole page is mapped");
            // SAFETY: the whole page is mapped read-write.
            unsafe {
                let tail = bytes(p.add(17), page - 17);
                ensure!(tail.iter().all(|&b| b == 0), "page tail is zero");
                p.add(page - 1).write(9);
            }
        }
        // SAFETY: the mapping made above, no longer used.
        ensure!(unsafe { munmap(p.cast(), 17) }.is_ok(), "munmap");
        ensure!(
            mapped(p, page) == Err(Errno::ENOMEM),
            "the whole page is unmapped"
        );
        Ok(())
    });
}

#[test]
fn mmap_file_shared_shows_the_files_bytes() {
    let _g = serial();
    let len = 2 * page_size() + 100;
    let (file, expected) = pattern_file(len);
    // SAFETY: a new shared read-only mapping of a file only this test uses.
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
    // SAFETY: `len` bytes are mapped readable; nobody writes the file.
    unsafe {
        assert_eq!(bytes(p, len), &expected[..]);
        // The rest of the page that holds the end of file reads as zeros.
        let tail = 3 * page_size() - len;
        assert!(bytes(p.add(len), tail).iter().all(|&b| b == 0));
    }
    unmap(p, len);
}

#[test]
fn mmap_file_at_a_page_offset_shows_the_files_bytes_from_there() {
    let _g = serial();
    let len = 3 * page_size();
    let (file, expected) = pattern_file(len);
    let off = page_size();
    // SAFETY: a new shared read-only mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            page_size(),
            Prot::READ,
            MapFlags::SHARED,
            file.as_raw_fd(),
            off as u64,
        )
    }
    .unwrap()
    .cast();
    // SAFETY: one page is mapped readable.
    let seen = unsafe { bytes(p, page_size()) };
    assert_eq!(seen, &expected[off..off + page_size()]);
    unmap(p, page_size());
}

#[test]
fn mmap_shared_write_and_msync_reach_the_file() {
    let _g = serial();
    let len = 2 * page_size() + 10;
    let (file, mut expected) = pattern_file(len);
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    // SAFETY: a new shared mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            RW,
            MapFlags::SHARED,
            rw.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    for (i, at) in [0, 1, page_size() - 1, page_size(), len - 1]
        .into_iter()
        .enumerate()
    {
        let v = 0xa0 + i as u8;
        // SAFETY: `at < len`, inside the writable mapping.
        unsafe { p.add(at).write(v) };
        expected[at] = v;
    }
    // SAFETY: the range is this test's mapping.
    unsafe { msync(p.cast(), len, MsyncFlags::SYNC) }.unwrap();
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
    unmap(p, len);
    // Still there after the unmap.
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
}

#[test]
fn mmap_private_write_leaves_the_file_unchanged() {
    let _g = serial();
    let len = page_size() + 5;
    let (file, expected) = pattern_file(len);
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    // SAFETY: a new private mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            RW,
            MapFlags::PRIVATE,
            rw.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    // SAFETY: inside the writable mapping.
    unsafe {
        p.write(!expected[0]);
        p.add(len - 1).write(!expected[len - 1]);
        assert_eq!(p.read(), !expected[0]);
        // msync of a private mapping is allowed and writes nothing back.
        msync(p.cast(), len, MsyncFlags::SYNC).unwrap();
    }
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
    unmap(p, len);
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
}

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
    in_child(|| {
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
fn mmap_zero_length_is_einval() {
    let _g = serial();
    let (file, _) = pattern_file(10);
    // SAFETY: the calls fail on the length and map nothing.
    unsafe {
        assert_eq!(
            mmap(ptr::null_mut(), 0, RW, ANON, -1, 0),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mmap(
                ptr::null_mut(),
                0,
                Prot::READ,
                MapFlags::SHARED,
                file.as_raw_fd(),
                0
            ),
            Err(Errno::EINVAL)
        );
    }
}

#[test]
fn mmap_unaligned_offset_is_einval() {
    let _g = serial();
    let (file, _) = pattern_file(3 * page_size());
    for off in [1, 17, page_size() + 1, 2 * page_size() - 1] {
        // SAFETY: the call fails on the offset and maps nothing.
        let r = unsafe {
            mmap(
                ptr::null_mut(),
                page_size(),
                Prot::READ,
                MapFlags::SHARED,
                file.as_raw_fd(),
                off as u64,
            )
        };
        assert_eq!(r, Err(Errno::EINVAL), "offset {off}");
    }
}

#[test]
fn mmap_without_anonymous_and_fd_minus_one_is_ebadf() {
    let _g = serial();
    for flags in [MapFlags::PRIVATE, MapFlags::SHARED] {
        // SAFETY: the call fails on the descriptor and maps nothing.
        let r = unsafe { mmap(ptr::null_mut(), page_size(), Prot::READ, flags, -1, 0) };
        assert_eq!(r, Err(Errno::EBADF), "{flags:?}");
    }
}

#[test]
fn mmap_shared_writable_on_a_read_only_fd_is_eacces() {
    let _g = serial();
    let (file, _) = pattern_file(page_size());
    let ro = File::open(file.path()).unwrap();
    // SAFETY: the call fails on the access mode and maps nothing.
    let r = unsafe {
        mmap(
            ptr::null_mut(),
            page_size(),
            RW,
            MapFlags::SHARED,
            ro.as_raw_fd(),
            0,
        )
    };
    assert_eq!(r, Err(Errno::EACCES));
    // A private writable mapping of the same descriptor is fine: writes
    // never reach the file.
    // SAFETY: a new private mapping of a file only this test uses.
    let p = unsafe {
        mmap(
            ptr::null_mut(),
            page_size(),
            RW,
            MapFlags::PRIVATE,
            ro.as_raw_fd(),
            0,
        )
    }
    .unwrap();
    unmap(p.cast(), page_size());
}

#[test]
fn mmap_without_shared_or_private_is_einval() {
    let _g = serial();
    // SAFETY: the call fails on the flags and maps nothing.
    let r = unsafe { mmap(ptr::null_mut(), page_size(), RW, MapFlags::ANONYMOUS, -1, 0) };
    assert_eq!(r, Err(Errno::EINVAL));
}

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
    // MAP_SYNC needs a DAX file; bit 0x0080_0000 is no flag at all.
    let sync = map(MapFlags::SHARED_VALIDATE | MapFlags::SYNC);
    let unknown = map(MapFlags::SHARED_VALIDATE | MapFlags::from_bits_retain(0x0080_0000));
    if under_qemu_user() {
        // QEMU 7.2 does not know MAP_SHARED_VALIDATE: it refuses the
        // mapping type itself with EINVAL, whatever the other flags are
        // (DESIGN.md: EINVAL where a kernel gives EOPNOTSUPP).
        let env = common::environment();
        assert_eq!(alone, Err(Errno::EINVAL), "{env}");
        assert_eq!(sync, Err(Errno::EINVAL), "{env}");
        assert_eq!(unknown, Err(Errno::EINVAL), "{env}");
    } else {
        // A kernel maps it as SHARED when every flag is known and honoured,
        // and refuses anything else with EOPNOTSUPP.
        let p: *mut u8 = alone.unwrap().cast();
        // SAFETY: one page is mapped read-write.
        unsafe {
            assert_eq!(bytes(p, page), &expected[..]);
            p.write(!expected[0]);
        }
        unmap(p, page);
        assert_eq!(std::fs::read(file.path()).unwrap()[0], !expected[0]);
        assert_eq!(sync, Err(Errno::EOPNOTSUPP));
        assert_eq!(unknown, Err(Errno::EOPNOTSUPP));
    }
}

// ---------------------------------------------------------------------------
// msync

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
    in_child(|| {
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

// ---------------------------------------------------------------------------
// munmap

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
    in_child(|| {
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
    in_child(|| {
        // SAFETY: a new mapping; its middle page is unmapped, and nothing
        // else maps into it (one thread).
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 3 * page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: the middle page of the mapping made above.
        let r = unsafe { munmap(p.wrapping_add(page).cast(), page) };
        ensure!(r.is_ok(), "munmap");
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

// ---------------------------------------------------------------------------
// mprotect

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

// ---------------------------------------------------------------------------
// madvise

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
fn madvise_dontneed_drops_private_anonymous_pages() {
    let _g = serial();
    let len = 2 * page_size();
    let p = anon(len);
    // SAFETY: the mapping is this test's and no reference into it lives
    // across the advice.
    unsafe {
        p.write_bytes(0x33, len);
        madvise(p.cast(), len, UncheckedAdvice::DontNeed).unwrap();
        // The pages are dropped: they read back as zeros (QEMU passes the
        // advice on for mappings made of whole emulated pages).
        assert!(bytes(p, len).iter().all(|&b| b == 0));
    }
    unmap(p, len);
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

// ---------------------------------------------------------------------------
// mremap

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
    in_child(|| {
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
    in_child(|| {
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

// ---------------------------------------------------------------------------
// mlock / munlock

/// `VmLck:` of `/proc/self/status`, in bytes. Under QEMU this is the QEMU
/// process's, which locks the host pages behind the guest's.
fn locked_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a VmLck line");
    kb * 1024
}

#[test]
fn mlock_and_munlock_lock_the_pages() {
    let _g = serial();
    let len = 2 * page_size();
    let p = anon(len);
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

// ---------------------------------------------------------------------------
// mincore

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

// ---------------------------------------------------------------------------
// Two processes

/// How long either process waits for the other before giving up.
const PATIENCE: Duration = Duration::from_secs(60);

/// The seed's first sentence: a change one program makes to a shared
/// mapping of a file is seen by the others. A child made with `fork` maps the
/// file itself and writes to it step by step; the parent checks each write
/// through its own mapping before letting the child go on.
#[test]
fn two_processes_share_a_file_mapping() {
    let _g = serial();
    let page = page_size();
    let len = 3 * page;
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(len as u64).unwrap();
    let fd = file.as_raw_fd();
    // SAFETY: a new shared mapping of a file only this test uses.
    let mine: *mut u8 = unsafe { mmap(ptr::null_mut(), len, RW, MapFlags::SHARED, fd, 0) }
        .unwrap()
        .cast();
    // Word 0: the child's step counter; word 1: the parent's acknowledgement.
    // SAFETY: the mapping is page-aligned, so words 0 and 1 are aligned
    // u32s, used only through atomics by both processes.
    let (step, ack) = unsafe {
        (
            &*mine.cast::<AtomicU32>(),
            &*mine.cast::<AtomicU32>().add(1),
        )
    };
    const STEPS: u32 = 64;
    // Where step k writes: spread over all three pages.
    let slot = |k: u32| 64 + (k as usize * (len - 128)) / STEPS as usize;

    // SAFETY: the child only makes system calls and touches memory it maps
    // itself, then leaves with _exit: nothing that could deadlock on a lock
    // held by another thread of the parent.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            // SAFETY: only async-signal-safe work here (see above).
            unsafe { libc::_exit(child_writes(fd, len, STEPS, slot)) }
        }
        child => {
            // Every step is acknowledged whatever the parent saw, so the
            // child always finishes; the assertions come after it is reaped.
            let deadline = Instant::now() + PATIENCE;
            let mut seen = Vec::new();
            let mut stuck_at = None;
            'steps: for k in 1..=STEPS {
                while step.load(Ordering::Acquire) != k {
                    if Instant::now() > deadline {
                        stuck_at = Some(k);
                        break 'steps;
                    }
                    std::hint::spin_loop();
                }
                // SAFETY: the byte lies in this process's own mapping.
                seen.push(unsafe { mine.add(slot(k)).read_volatile() });
                ack.store(k, Ordering::Release);
            }
            if stuck_at.is_some() {
                // SAFETY: `child` is our child process.
                unsafe { libc::kill(child, libc::SIGKILL) };
            }
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
            assert_eq!(stuck_at, None, "the child did not make this step in time");
            let expected: Vec<u8> = (1..=STEPS).map(|k| k as u8).collect();
            assert_eq!(seen, expected, "what the parent saw at each step");
            assert!(libc::WIFEXITED(status), "child status {status:#x}");
            assert_eq!(libc::WEXITSTATUS(status), 0, "child failed");
        }
    }
    // Every write is in the file too.
    let on_disk = std::fs::read(file.path()).unwrap();
    for k in 1..=STEPS {
        assert_eq!(on_disk[slot(k)], k as u8);
    }
    assert_eq!(u32::from_ne_bytes(on_disk[..4].try_into().unwrap()), STEPS);
    unmap(mine, len);
}

/// The child's side: map the file, make each step, wait for the parent's
/// acknowledgement. Returns the exit code (0 for success).
fn child_writes(fd: i32, len: usize, steps: u32, slot: impl Fn(u32) -> usize) -> i32 {
    // SAFETY: a new shared mapping in the child; the parent's mapping of the
    // same file is a different one.
    let Ok(p) = (unsafe { mmap(ptr::null_mut(), len, RW, MapFlags::SHARED, fd, 0) }) else {
        return 2;
    };
    let p: *mut u8 = p.cast();
    // SAFETY: as in the parent: aligned words used through atomics.
    let (step, ack) = unsafe { (&*p.cast::<AtomicU32>(), &*p.cast::<AtomicU32>().add(1)) };
    for k in 1..=steps {
        // SAFETY: `slot(k) < len`, inside the child's mapping.
        unsafe { p.add(slot(k)).write_volatile(k as u8) };
        step.store(k, Ordering::Release);
        let Some(deadline) = monotonic_secs().map(|now| now + PATIENCE.as_secs()) else {
            return 5;
        };
        while ack.load(Ordering::Acquire) != k {
            if monotonic_secs().is_none_or(|now| now > deadline) {
                return 3;
            }
            std::hint::spin_loop();
        }
    }
    // SAFETY: the child's own mapping, written back and removed.
    unsafe {
        if msync(p.cast(), len, MsyncFlags::SYNC).is_err() || munmap(p.cast(), len).is_err() {
            return 4;
        }
    }
    0
}

/// Seconds of `CLOCK_MONOTONIC`, read without allocating or locking (for a
/// forked child).
fn monotonic_secs() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } == 0;
    ok.then(|| u64::try_from(ts.tv_sec).ok()).flatten()
}

// ---------------------------------------------------------------------------
// The QEMU-vs-kernel difference rawmap hides

#[test]
fn fixed_noreplace_as_the_kernel_or_qemu_answers_it() {
    let _g = serial();
    let page = page_size();
    let p = anon(page);
    // 32-bit targets map with `mmap2` (the offset, 0, is the same in its
    // units).
    #[cfg(target_pointer_width = "64")]
    let sys_mmap = libc::SYS_mmap;
    #[cfg(target_pointer_width = "32")]
    let sys_mmap = libc::SYS_mmap2;
    // Straight to the system, bypassing rawmap's check.
    // SAFETY: asks for a new mapping at an address that is taken; whatever
    // the system does, it replaces nothing, and any mapping made is removed.
    let raw = unsafe {
        libc::syscall(
            sys_mmap,
            p as usize,
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if under_qemu_user() {
        // QEMU 7.2 reads the flag as a hint and maps somewhere else
        // (DESIGN.md).
        assert!(
            raw > 0 && raw as usize != p as usize,
            "{raw:#x} under {}",
            common::environment()
        );
        unmap(raw as usize as *mut u8, page);
    } else {
        assert_eq!((raw, last_errno()), (-1, libc::EEXIST));
    }
    // rawmap gives the kernel's answer in both cases.
    // SAFETY: as above.
    let r = unsafe { mmap(p.cast(), page, RW, ANON | MapFlags::FIXED_NOREPLACE, -1, 0) };
    assert_eq!(r, Err(Errno::EEXIST));
    unmap(p, page);
}

/// Reads `/proc/self/maps` into `buf` without allocating (for
/// [`in_child`]); returns the number of bytes read, or `None` if the file
/// cannot be read or does not fit.
fn read_maps(buf: &mut [u8]) -> Option<usize> {
    // SAFETY: open, read and close with a NUL-terminated path and a buffer
    // the kernel writes at most `buf.len()` bytes into.
    unsafe {
        let fd = libc::open(
            c"/proc/self/maps".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return None;
        }
        let mut filled = 0;
        loop {
            let n = libc::read(fd, buf[filled..].as_mut_ptr().cast(), buf.len() - filled);
            if n <= 0 {
                libc::close(fd);
                return (n == 0 && filled < buf.len()).then_some(filled);
            }
            filled += n as usize;
            if filled == buf.len() {
                libc::close(fd);
                return None;
            }
        }
    }
}

#[test]
fn fixed_noreplace_leaves_no_mapping_behind() {
    // Where the system ignores the flag (QEMU), rawmap must unmap the
    // mapping the system made elsewhere: the process's map is the same
    // before and after the refused call. In a single-threaded child, so that
    // nothing else changes the map meanwhile.
    let _g = serial();
    let page = page_size();
    in_child(|| {
        // SAFETY: a new anonymous mapping replaces nothing.
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), page, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let mut before = [0u8; 32 * 1024];
        let mut after = [0u8; 32 * 1024];
        let Some(n) = read_maps(&mut before) else {
            return Err("reading /proc/self/maps");
        };
        for _ in 0..8 {
            // SAFETY: with the flag honoured or verified, nothing is
            // replaced; a mapping made elsewhere is removed by rawmap.
            let r = unsafe { mmap(p, page, RW, ANON | MapFlags::FIXED_NOREPLACE, -1, 0) };
            ensure!(r == Err(Errno::EEXIST), "EEXIST");
        }
        let Some(m) = read_maps(&mut after) else {
            return Err("reading /proc/self/maps");
        };
        ensure!(
            before[..n] == after[..m],
            "the map changed: a mapping was left behind"
        );
        Ok(())
    });
}
