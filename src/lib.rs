//! Memory-mapped files and memory for Linux, through direct system calls:
//! no libc, `no_std`, no allocation.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?; let path = dir.path().join("data.bin");
//! use rawmap::MmapMut;
//!
//! // SAFETY: no other process changes or truncates this file meanwhile.
//! let mut map = unsafe { MmapMut::create(&path, 4096)? };  // create, size, map
//! map[..5].copy_from_slice(b"hello");                      // change it in place
//! map.flush()?;                                            // msync(MS_SYNC)
//! drop(map);                                               // munmap
//! assert_eq!(&std::fs::read(&path)?[..5], b"hello");
//! # Ok(()) }
//! ```
//!
//! # Layers
//!
//! - **Raw layer** ([`mmap`], [`munmap`], [`msync`], [`mprotect`],
//!   [`madvise`], [`mremap`], [`mlock`], [`munlock`], [`mincore`],
//!   [`page_size`]): one `unsafe fn` per system call, returning exactly what
//!   the kernel returns as `Result<_, Errno>`. The only addition is that
//!   [`MapFlags::FIXED_NOREPLACE`] is verified, so it holds on old kernels and
//!   under QEMU too.
//! - **Flags** ([`Prot`], [`MapFlags`], [`MsyncFlags`], [`MremapFlags`],
//!   [`Advice`], [`UncheckedAdvice`]): rawmap's own constants, checked in
//!   tests against `libc`'s on every target.
//! - **Safe layer** ([`MmapOptions`], [`Mmap`], [`MmapMut`]): owners that
//!   unmap on drop, with any file offset, checked sub-ranges, and
//!   protection changes that hand the mapping back when they fail. It works
//!   without `std` and without an allocator.
//! - **`std` feature** (on by default): [`Mmap::open`], [`MmapMut::open`],
//!   [`MmapMut::create`], `&File` and any `AsFd` as a mapping source, and
//!   `Errno` into `std::io::Error` for `?`.
//!
//! # Targets
//!
//! Linux on x86_64 and aarch64 (4 KiB, 16 KiB and 64 KiB pages), riscv64,
//! 32-bit ARM and 32-bit x86. The page size is always asked of the system,
//! never assumed. On the 32-bit targets, file offsets below 16 TiB work
//! (through `mmap2`); they are never truncated.
//!
//! # Safety of file mappings
//!
//! A mapping of a file shows whatever the file holds at the moment a byte is
//! read, not a copy made when it was mapped:
//!
//! - **Changes.** Another process (or this one, through the file or another
//!   mapping) writing the mapped part of the file changes bytes under a
//!   `&[u8]` or `&mut [u8]` that the mapping handed out. A private
//!   (copy-on-write) mapping is affected the same way for every page it has
//!   not written yet.
//! - **Truncation: `SIGBUS`.** If the file shrinks below the end of a
//!   mapping, touching a page that now lies wholly past the new end of file
//!   raises `SIGBUS`, a signal that by default kills the process: no error
//!   value rawmap could return. (The bytes of the last, partial page past
//!   the end read as zeros.) The same happens to the pages of a mapping made
//!   with an explicit [`len`](MmapOptions::len) beyond the end of the file,
//!   and to the pages that [`MmapMut::remap`] adds past the end of the file.
//!
//! That is why the constructors that map files ([`MmapOptions::map`] and its
//! siblings, [`Mmap::open`], [`MmapMut::open`], [`MmapMut::create`]) and
//! [`MmapMut::remap`] are `unsafe`: their caller promises that nobody changes
//! or truncates the mapped part of the file while the mapping lives, and that
//! the file reaches the end of the mapping. Anonymous mappings
//! ([`MmapOptions::map_anon`], [`MmapOptions::map_anon_shared`]) have no file
//! behind them, and are safe.
//!
//! # Errors
//!
//! Every call answers the kernel's errno as an [`Errno`]. Its own `Display`
//! (from the `syscalls` crate) reads `-13 EACCES (Permission denied)`; to
//! show one to a user, [`ErrnoDisplay`] reads `EACCES: Permission denied`,
//! and [`strerror`] gives the words alone, both in the GNU C library's
//! wording and without `std`. A conversion that gives the mapping back,
//! [`MmapError`], names the [`Operation`] too: `make_mut (mprotect) failed:
//! EACCES: Permission denied`. With `std`, both turn into `std::io::Error`
//! with the errno as `raw_os_error()` and std's `kind()` for it, which
//! `Display`s as `Permission denied (os error 13)`.
//!
//! ```
//! use rawmap::{Errno, ErrnoDisplay};
//! let io = std::io::Error::from(Errno::EACCES);
//! assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
//! assert_eq!(io.raw_os_error(), Some(13));
//! assert_eq!(ErrnoDisplay(Errno::EACCES).to_string(), "EACCES: Permission denied");
//! ```
#![no_std]
#![deny(
    missing_docs,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

#[cfg(feature = "std")]
extern crate std;

// The modules, each using only those listed before it (no cycles): arch
// (values per architecture), flags (uses arch), sys (the system calls; uses
// arch, flags), procfs (uses sys), page (uses sys, procfs, flags), raw (the
// public raw layer; uses sys, page, flags), map (the safe layer; uses sys,
// page, flags), fs (the std feature; uses map, sys). errno (the words of
// errors) uses nothing of the crate; map uses it.
mod arch;
mod errno;
mod flags;
#[cfg(feature = "std")]
mod fs;
mod map;
mod page;
mod procfs;
mod raw;
mod sys;
// The reservation of address space (uses sys, page, flags).
mod reserve;

pub use core::ffi::c_void;
pub use syscalls::Errno;

pub use flags::{Advice, AdviceArg, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};
pub use map::{MapFd, Mmap, MmapError, MmapMut, MmapOptions};
pub use page::{page_size, set_page_size};
pub use raw::{madvise, mincore, mlock, mmap, mprotect, mremap, msync, munlock, munmap};
pub use sys::RawFd;

pub use flags::{MlockAllFlags, MlockFlags, PkeyAccess};
pub use raw::{
    IoVec, mlock2, mlockall, mseal, munlockall, pkey_alloc, pkey_free, pkey_mprotect,
    process_madvise,
};

// The second ring's owners.
pub use map::MmapRaw;
pub use reserve::Reservation;

// Errors in words: the errno table, its Display adaptor, and the operation
// an MmapError names.
pub use errno::{ErrnoDisplay, strerror};
pub use map::Operation;

// Owned descriptors, memory files and safe mappings of files that cannot
// change (fd uses sys and map; memfd uses fd, map and sys).
mod fd;
mod memfd;
pub use fd::{File, IoSafeFd};
pub use flags::{MemfdFlags, Seals};
pub use memfd::{MapIfSafeError, Memfd, memfd_create, memfd_secret};
