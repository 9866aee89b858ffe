//! aarch64: `mmap` takes a byte offset; the flag values are the generic ones.
//! Kernels run with 4 KiB, 16 KiB or 64 KiB pages, which is why rawmap never
//! assumes a page size.

pub(crate) use super::mmap_lp64 as mmap;
