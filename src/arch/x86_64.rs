//! x86_64: `mmap` takes a byte offset; `MAP_32BIT` exists only here.

use crate::MapFlags;
use crate::flags::Named;

pub(crate) use super::mmap_lp64 as mmap;

impl MapFlags {
    /// `MAP_32BIT` (x86_64 only): place the mapping in the first 2 GiB of the
    /// address space. Ignored with `FIXED`.
    pub const MAP_32BIT: Self = Self::from_bits_retain(0x40);
}

pub(crate) const MAP_NAMES: &[Named] = &[Named::flag("MAP_32BIT", MapFlags::MAP_32BIT.bits())];
