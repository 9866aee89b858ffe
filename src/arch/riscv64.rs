//! riscv64: `mmap` takes a byte offset; the flag values are the generic ones.

pub(crate) use super::byte_offset as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap;
