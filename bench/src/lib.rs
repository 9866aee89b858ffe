//! The benchmark cases, one `#[inline(never)]` function per peer and case, so
//! that the instruction counter (`src/bin/icount.rs`) and the wall-time
//! benchmarks (`benches/wall.rs`) measure exactly the same code.
//!
//! Every peer does the same work and handles errors the same way: a failed
//! call aborts the process through [`fail`].
//!
//! - `*_map(len, stride)`: map `len` bytes of private anonymous read-write
//!   memory, write one byte every `stride` bytes (`stride == len`: the first
//!   byte only), unmap.
//! - `*_msync(ptr, len)`: write one byte at `ptr` (so the page is dirty) and
//!   `msync(MS_ASYNC)` the `len` bytes there (a shared file mapping).
//! - `*_page_size()`: the page size, after the first call.

use core::ffi::c_void;
use core::ptr;
use std::hint::black_box;

/// What every peer does when a call fails.
#[cold]
#[inline(never)]
pub fn fail() -> ! {
    std::process::abort()
}

/// Writes one byte every `stride` bytes of `[p, p + len)`.
///
/// # Safety
///
/// `[p, p + len)` must be writable memory.
#[inline(always)]
unsafe fn touch(p: *mut u8, len: usize, stride: usize) {
    let mut off = 0;
    while off < len {
        // SAFETY: `off < len`, inside the caller's writable range.
        unsafe { p.add(off).write_volatile(1) };
        off += stride;
    }
}

/// Does nothing: the call and loop overhead that the instruction counts
/// subtract.
#[inline(never)]
pub fn empty(len: usize, stride: usize) {
    black_box((len, stride));
}

/// glibc's `mmap` and `munmap`, called directly.
#[inline(never)]
pub fn libc_map(len: usize, stride: usize) {
    // SAFETY: a new anonymous mapping replaces nothing; unmapped below and
    // used by nothing else.
    unsafe {
        let p = libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            fail();
        }
        touch(p.cast(), len, stride);
        if libc::munmap(p, len) != 0 {
            fail();
        }
    }
}

/// `rustix::mm`.
#[inline(never)]
pub fn rustix_map(len: usize, stride: usize) {
    use rustix::mm::{MapFlags, ProtFlags};
    // SAFETY: as in `libc_map`.
    unsafe {
        let p = rustix::mm::mmap_anonymous(
            ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )
        .unwrap_or_else(|_| fail());
        touch(p.cast(), len, stride);
        rustix::mm::munmap(p, len).unwrap_or_else(|_| fail());
    }
}

/// The bare `syscalls` crate: the floor.
#[inline(never)]
pub fn syscalls_map(len: usize, stride: usize) {
    use syscalls::{Sysno, syscall2, syscall6};
    const PROT_RW: usize = 0x3;
    const MAP_PRIVATE_ANON: usize = 0x22;
    // SAFETY: as in `libc_map`.
    unsafe {
        let p = syscall6(
            Sysno::mmap,
            0,
            len,
            PROT_RW,
            MAP_PRIVATE_ANON,
            usize::MAX,
            0,
        )
        .unwrap_or_else(|_| fail());
        touch(p as *mut u8, len, stride);
        syscall2(Sysno::munmap, p, len).unwrap_or_else(|_| fail());
    }
}

/// rawmap's raw layer.
#[inline(never)]
pub fn rawmap_map(len: usize, stride: usize) {
    use rawmap::{MapFlags, Prot};
    // SAFETY: as in `libc_map`.
    unsafe {
        let p = rawmap::mmap(
            ptr::null_mut(),
            len,
            Prot::READ | Prot::WRITE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
        .unwrap_or_else(|_| fail());
        touch(p.cast(), len, stride);
        rawmap::munmap(p, len).unwrap_or_else(|_| fail());
    }
}

/// rawmap's safe layer: `MmapOptions::new().len(len).map_anon()`, drop.
#[inline(never)]
pub fn rawmap_safe_map(len: usize, stride: usize) {
    let mut map = rawmap::MmapOptions::new()
        .len(len)
        .map_anon()
        .unwrap_or_else(|_| fail());
    // SAFETY: the mapping is `len` writable bytes.
    unsafe { touch(map.as_mut_ptr(), len, stride) };
}

/// memmap2's safe layer: `MmapOptions::new().len(len).map_anon()`, drop.
#[inline(never)]
pub fn memmap2_map(len: usize, stride: usize) {
    let mut map = memmap2::MmapOptions::new()
        .len(len)
        .map_anon()
        .unwrap_or_else(|_| fail());
    // SAFETY: the mapping is `len` writable bytes.
    unsafe { touch(map.as_mut_ptr(), len, stride) };
}

/// glibc's `msync(MS_ASYNC)` on a dirty page.
///
/// # Safety
///
/// `[p, p + len)` must be a writable shared mapping that nothing else uses.
#[inline(never)]
pub unsafe fn libc_msync(p: *mut c_void, len: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        p.cast::<u8>().write_volatile(1);
        if libc::msync(p, len, libc::MS_ASYNC) != 0 {
            fail();
        }
    }
}

/// `rustix::mm::msync`.
///
/// # Safety
///
/// As for [`libc_msync`].
#[inline(never)]
pub unsafe fn rustix_msync(p: *mut c_void, len: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        p.cast::<u8>().write_volatile(1);
        rustix::mm::msync(p, len, rustix::mm::MsyncFlags::ASYNC).unwrap_or_else(|_| fail());
    }
}

/// The bare `syscalls` crate.
///
/// # Safety
///
/// As for [`libc_msync`].
#[inline(never)]
pub unsafe fn syscalls_msync(p: *mut c_void, len: usize) {
    const MS_ASYNC: usize = 1;
    // SAFETY: the caller's contract.
    unsafe {
        p.cast::<u8>().write_volatile(1);
        syscalls::syscall3(syscalls::Sysno::msync, p as usize, len, MS_ASYNC)
            .unwrap_or_else(|_| fail());
    }
}

/// rawmap's raw layer.
///
/// # Safety
///
/// As for [`libc_msync`].
#[inline(never)]
pub unsafe fn rawmap_msync(p: *mut c_void, len: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        p.cast::<u8>().write_volatile(1);
        rawmap::msync(p, len, rawmap::MsyncFlags::ASYNC).unwrap_or_else(|_| fail());
    }
}

/// rawmap's safe layer: `MmapMut::flush_async`.
#[inline(never)]
pub fn rawmap_flush_async(map: &mut rawmap::MmapMut) {
    // SAFETY: `map` is at least one writable byte long (checked by the
    // caller's setup; an empty map would make `as_mut_ptr` dangling).
    unsafe { map.as_mut_ptr().write_volatile(1) };
    map.flush_async().unwrap_or_else(|_| fail());
}

/// memmap2's safe layer: `MmapMut::flush_async`.
#[inline(never)]
pub fn memmap2_flush_async(map: &mut memmap2::MmapMut) {
    // SAFETY: as in `rawmap_flush_async`.
    unsafe { map.as_mut_ptr().write_volatile(1) };
    map.flush_async().unwrap_or_else(|_| fail());
}

/// `sysconf(_SC_PAGESIZE)` through glibc.
#[inline(never)]
pub fn libc_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// `rustix::param::page_size`.
#[inline(never)]
pub fn rustix_page_size() -> usize {
    rustix::param::page_size()
}

/// `rawmap::page_size`.
#[inline(never)]
pub fn rawmap_page_size() -> usize {
    rawmap::page_size()
}

/// A one-page shared mapping of a new temporary file, for the msync cases,
/// in every peer's own type. Removes its file when dropped.
pub struct SharedFile {
    /// The path of the file (removed on drop).
    pub path: std::path::PathBuf,
    /// The file's length: one page.
    pub len: usize,
    /// A raw `MAP_SHARED` mapping made with libc, for the raw peers.
    pub raw: *mut c_void,
    /// rawmap's owner of a shared mapping of the file.
    pub rawmap: rawmap::MmapMut,
    /// memmap2's owner of a shared mapping of the file.
    pub memmap2: memmap2::MmapMut,
}

impl SharedFile {
    /// Creates a page-sized file under the temporary directory and maps it
    /// three times.
    pub fn new() -> std::io::Result<SharedFile> {
        let len = rawmap::page_size();
        let path = std::env::temp_dir().join(format!("rawmap-bench-{}.bin", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        file.set_len(len as u64)?;
        use std::os::fd::AsRawFd;
        // SAFETY: a new shared mapping of our own file; unmapped on drop.
        let raw = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the file is ours and nobody truncates it while mapped.
        let rawmap = unsafe { rawmap::MmapOptions::new().map_mut(&file)? };
        // SAFETY: as above.
        let memmap2 = unsafe { memmap2::MmapMut::map_mut(&file)? };
        Ok(SharedFile {
            path,
            len,
            raw,
            rawmap,
            memmap2,
        })
    }
}

impl Drop for SharedFile {
    fn drop(&mut self) {
        // SAFETY: `raw` is the mapping made in `new`, used by nothing else.
        unsafe { libc::munmap(self.raw, self.len) };
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A map + touch + unmap case: `f(len, stride)`.
pub type MapFn = fn(usize, usize);
/// A raw msync case: `f(ptr, len)` (see [`libc_msync`] for the contract).
pub type MsyncFn = unsafe fn(*mut c_void, usize);
/// A page size case.
pub type PageSizeFn = fn() -> usize;

/// The map + touch + unmap peers, libc first (the reference).
pub const MAPPERS: &[(&str, MapFn)] = &[
    ("libc", libc_map),
    ("syscalls", syscalls_map),
    ("rawmap", rawmap_map),
    ("rustix", rustix_map),
    ("rawmap_safe", rawmap_safe_map),
    ("memmap2", memmap2_map),
];

/// The raw msync peers, libc first. The safe layers' `flush_async` take
/// their own mapping types: see [`rawmap_flush_async`] and
/// [`memmap2_flush_async`].
pub const RAW_MSYNCS: &[(&str, MsyncFn)] = &[
    ("libc", libc_msync),
    ("syscalls", syscalls_msync),
    ("rawmap", rawmap_msync),
    ("rustix", rustix_msync),
];

/// The page size peers, libc first.
pub const PAGE_SIZES: &[(&str, PageSizeFn)] = &[
    ("libc", libc_page_size),
    ("rawmap", rawmap_page_size),
    ("rustix", rustix_page_size),
];

// --- The calls since Linux 4.4 ----------------------------------------------
//
// One call (or an alloc + free pair) per case, on a page of a [`Modern`]. A
// failed call does not abort here: valgrind 3.19 (the instruction counter)
// answers ENOSYS to `mlock2`, `mseal` and `process_madvise` and ENOSPC to
// `pkey_alloc`, which it does not know, so every peer hands its result to
// `black_box` instead, the same way.

/// A locked-on-fault page and a pidfd of this process, for the cases below.
pub struct Modern {
    /// A private anonymous read-write page.
    pub page: *mut c_void,
    /// Its length: one page.
    pub len: usize,
    /// `pidfd_open(getpid())`, or -1 where that fails.
    pub pidfd: i32,
}

impl Modern {
    /// Maps the page and opens the pidfd.
    pub fn new() -> std::io::Result<Modern> {
        let len = rawmap::page_size();
        // SAFETY: a new anonymous mapping replaces nothing; unmapped on drop.
        let page = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if page == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: pidfd_open of our own pid; closed on drop. valgrind 3.19
        // answers ENOSYS: the pidfd is then -1 (and process_madvise EBADF,
        // or valgrind's ENOSYS).
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
        Ok(Modern {
            page,
            len,
            pidfd: pidfd.max(-1) as i32,
        })
    }
}

impl Drop for Modern {
    fn drop(&mut self) {
        // SAFETY: the page and the pidfd made in `new`, used by nothing else.
        unsafe {
            libc::munmap(self.page, self.len);
            if self.pidfd >= 0 {
                libc::close(self.pidfd);
            }
        }
    }
}

/// glibc's `mlock2(MLOCK_ONFAULT)`.
#[inline(never)]
pub fn libc_mlock2(m: &Modern) {
    // SAFETY: locking the page changes no memory.
    black_box(unsafe { libc::mlock2(m.page, m.len, libc::MLOCK_ONFAULT) });
}

/// The bare `syscalls` crate's `mlock2(MLOCK_ONFAULT)`.
#[inline(never)]
pub fn syscalls_mlock2(m: &Modern) {
    // SAFETY: as in `libc_mlock2`.
    black_box(unsafe { syscalls::syscall3(syscalls::Sysno::mlock2, m.page as usize, m.len, 1) })
        .ok();
}

/// `rawmap::mlock2(ONFAULT)`.
#[inline(never)]
pub fn rawmap_mlock2(m: &Modern) {
    // SAFETY: as in `libc_mlock2`.
    black_box(unsafe { rawmap::mlock2(m.page, m.len, rawmap::MlockFlags::ONFAULT) }).ok();
}

/// glibc's `mlockall(MCL_FUTURE | MCL_ONFAULT)` and `munlockall()`.
#[inline(never)]
pub fn libc_mlockall(_: &Modern) {
    // SAFETY: locking and unlocking change no memory.
    unsafe {
        black_box(libc::mlockall(libc::MCL_FUTURE | libc::MCL_ONFAULT));
        black_box(libc::munlockall());
    }
}

/// The bare `syscalls` crate's `mlockall` and `munlockall`.
#[inline(never)]
pub fn syscalls_mlockall(_: &Modern) {
    const FUTURE_ONFAULT: usize = 2 | 4;
    // SAFETY: as in `libc_mlockall`.
    unsafe {
        black_box(syscalls::syscall1(
            syscalls::Sysno::mlockall,
            FUTURE_ONFAULT,
        ))
        .ok();
        black_box(syscalls::syscall0(syscalls::Sysno::munlockall)).ok();
    }
}

/// `rawmap::mlockall` and `rawmap::munlockall`.
#[inline(never)]
pub fn rawmap_mlockall(_: &Modern) {
    use rawmap::MlockAllFlags as F;
    black_box(rawmap::mlockall(F::FUTURE | F::ONFAULT)).ok();
    black_box(rawmap::munlockall()).ok();
}

/// The bare `syscalls` crate's `mseal` of an empty range (a no-op that
/// succeeds from Linux 6.10).
#[inline(never)]
pub fn syscalls_mseal(m: &Modern) {
    // SAFETY: an empty range seals nothing.
    black_box(unsafe { syscalls::syscall3(syscalls::Sysno::mseal, m.page as usize, 0, 0) }).ok();
}

/// `rawmap::mseal` of an empty range.
#[inline(never)]
pub fn rawmap_mseal(m: &Modern) {
    // SAFETY: an empty range seals nothing.
    black_box(unsafe { rawmap::mseal(m.page, 0) }).ok();
}

/// The bare `syscalls` crate's `process_madvise(MADV_COLD)` of the page.
#[inline(never)]
pub fn syscalls_process_madvise(m: &Modern) {
    const MADV_COLD: usize = 20;
    let iov = [libc::iovec {
        iov_base: m.page,
        iov_len: m.len,
    }];
    // SAFETY: MADV_COLD keeps the contents; `iov` is one iovec.
    black_box(unsafe {
        syscalls::syscall5(
            syscalls::Sysno::process_madvise,
            m.pidfd as usize,
            iov.as_ptr() as usize,
            1,
            MADV_COLD,
            0,
        )
    })
    .ok();
}

/// `rawmap::process_madvise(Advice::Cold)` of the page.
#[inline(never)]
pub fn rawmap_process_madvise(m: &Modern) {
    let iov = [rawmap::IoVec::new(m.page, m.len)];
    // SAFETY: MADV_COLD keeps the contents.
    black_box(unsafe { rawmap::process_madvise(m.pidfd, &iov, rawmap::Advice::Cold, 0) }).ok();
}

/// The bare `syscalls` crate's `pkey_alloc(0, PKEY_DISABLE_WRITE)`, and
/// `pkey_free` of the key it gives.
#[inline(never)]
pub fn syscalls_pkey_alloc_free(_: &Modern) {
    // SAFETY: no page carries the key, which is freed at once.
    unsafe {
        if let Ok(k) = black_box(syscalls::syscall2(syscalls::Sysno::pkey_alloc, 0, 2)) {
            black_box(syscalls::syscall1(syscalls::Sysno::pkey_free, k)).ok();
        }
    }
}

/// `rawmap::pkey_alloc(0, DISABLE_WRITE)` and `rawmap::pkey_free`.
#[inline(never)]
pub fn rawmap_pkey_alloc_free(_: &Modern) {
    if let Ok(k) = black_box(rawmap::pkey_alloc(0, rawmap::PkeyAccess::DISABLE_WRITE)) {
        // SAFETY: no page carries the key.
        black_box(unsafe { rawmap::pkey_free(k) }).ok();
    }
}

/// The bare `syscalls` crate's `pkey_mprotect(page, RW, -1)`.
#[inline(never)]
pub fn syscalls_pkey_mprotect(m: &Modern) {
    const RW: usize = 3;
    // SAFETY: the page stays read-write with the default key.
    black_box(unsafe {
        syscalls::syscall4(
            syscalls::Sysno::pkey_mprotect,
            m.page as usize,
            m.len,
            RW,
            -1isize as usize,
        )
    })
    .ok();
}

/// `rawmap::pkey_mprotect(page, RW, -1)`.
#[inline(never)]
pub fn rawmap_pkey_mprotect(m: &Modern) {
    let rw = rawmap::Prot::READ | rawmap::Prot::WRITE;
    // SAFETY: as in `syscalls_pkey_mprotect`.
    black_box(unsafe { rawmap::pkey_mprotect(m.page, m.len, rw, -1) }).ok();
}
