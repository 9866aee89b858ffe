//! 32-bit x86: `mmap2` with 4096-byte offset units. (Syscall 90, `mmap`, takes
//! a pointer to a struct of arguments here and is never used.) The flag
//! values are the generic ones; `MAP_32BIT` has no effect on 32-bit
//! processes, so rawmap defines it for x86_64 only.

pub(crate) use super::mmap2_units as mmap_offset;

/// The system call that maps memory.
pub(crate) const MMAP: syscalls::Sysno = syscalls::Sysno::mmap2;

/// `O_LARGEFILE` on x86 (the generic value): lets a 32-bit process open
/// files of 2 GiB and more.
pub(crate) const O_LARGEFILE: core::ffi::c_int = 0o100_000;

/// Whether a 64-bit system call argument (a register pair, low word first)
/// starts at an even-numbered register: not on x86, where the pair follows
/// the previous argument directly.
pub(crate) const U64_PAIR_ALIGNED: bool = false;
