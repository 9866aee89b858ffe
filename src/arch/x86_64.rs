//! x86_64: `mmap` takes a byte offset; `MAP_32BIT` exists only here.

pub(crate) use super::mmap_lp64 as mmap;

/// `MAP_32BIT`'s value (`arch/x86/include/uapi/asm/mman.h`).
pub(crate) const MAP_32BIT: u32 = 0x40;
