//! riscv64: `mmap` takes a byte offset; the flag values are the generic ones.

pub(crate) use super::mmap_lp64 as mmap;
