//! 32-bit x86: `mmap2` with 4096-byte offset units. (Syscall 90, `mmap`, takes
//! a pointer to a struct of arguments here and is never used.) The flag
//! values are the generic ones; `MAP_32BIT` has no effect on 32-bit
//! processes, so rawmap defines it for x86_64 only.

pub(crate) use super::mmap2_units as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap2;
