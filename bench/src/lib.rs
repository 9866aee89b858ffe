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
