//! aarch64: `mmap` takes a byte offset; the flag values are the generic ones.
//! Kernels run with 4 KiB, 16 KiB or 64 KiB pages, which is why rawmap never
//! assumes a page size.

pub(crate) use super::byte_offset as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap;
