//! aarch64: `mmap` takes a byte offset; the flag values are the generic ones.
//! Kernels run with 4 KiB, 16 KiB or 64 KiB pages, which is why rawmap never
//! assumes a page size.

pub(crate) use super::byte_offset as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap;

/// `PROT_BTI`'s value (`arch/arm64/include/uapi/asm/mman.h`).
pub(crate) const PROT_BTI: u32 = 0x10;
/// `PROT_MTE`'s value (`arch/arm64/include/uapi/asm/mman.h`).
pub(crate) const PROT_MTE: u32 = 0x20;
