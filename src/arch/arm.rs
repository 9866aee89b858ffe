//! 32-bit ARM (EABI): `mmap2` with 4096-byte offset units; the flag values
//! are the generic ones.

pub(crate) use super::mmap2_units as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap2;

/// `O_LARGEFILE` on arm (`arch/arm/include/uapi/asm/fcntl.h`): lets a 32-bit
/// process open files of 2 GiB and more.
pub(crate) const O_LARGEFILE: core::ffi::c_int = 0o400_000;

/// Whether a 64-bit system call argument (a register pair, low word first)
/// starts at an even-numbered register, with a padding register before it
/// when needed: yes on ARM EABI (`pread64`, `ftruncate64`).
pub(crate) const U64_PAIR_ALIGNED: bool = true;
