//! 32-bit ARM (EABI): `mmap2` with 4096-byte offset units; the flag values
//! are the generic ones.

pub(crate) use super::mmap2_units as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap2;
