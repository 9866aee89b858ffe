//! riscv64: `mmap` takes a byte offset; the flag values are the generic ones.

use crate::flags::Named;

pub(crate) use super::mmap_lp64 as mmap;

pub(crate) const MAP_NAMES: &[Named] = &[];
