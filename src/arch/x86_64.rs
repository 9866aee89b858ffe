//! x86_64: `mmap` takes a byte offset; `MAP_32BIT` exists only here.

pub(crate) use super::byte_offset as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap;

/// `MAP_32BIT`'s value (`arch/x86/include/uapi/asm/mman.h`).
pub(crate) const MAP_32BIT: u32 = 0x40;
