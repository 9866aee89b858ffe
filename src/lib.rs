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
//! A mapping of a file shows whatever the file holds, so another process
//! writing the file changes bytes under a `&[u8]`, and truncating it makes
//! access past the new end raise `SIGBUS`. That is why the constructors that
//! map files are `unsafe`: see [`MmapOptions::map`].
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
// page, flags), fs (the std feature; uses map, sys).
mod arch;
mod flags;
#[cfg(feature = "std")]
mod fs;
mod map;
mod page;
mod procfs;
mod raw;
mod sys;

pub use core::ffi::c_void;
pub use syscalls::Errno;

pub use flags::{Advice, AdviceArg, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};
pub use map::{MapFd, Mmap, MmapError, MmapMut, MmapOptions};
pub use page::{page_size, set_page_size};
pub use raw::{madvise, mincore, mlock, mmap, mprotect, mremap, msync, munlock, munmap};
pub use sys::RawFd;
