//! 32-bit ARM (EABI): `mmap2` with 4096-byte offset units; the flag values
//! are the generic ones.

pub(crate) use super::mmap_ilp32 as mmap;
