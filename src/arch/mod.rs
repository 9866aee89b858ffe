//! Architecture dispatch: the one place that knows which architecture this is.
//!
//! Each supported architecture has one file here. It provides:
//!
//! - `MAP_NAMES`: the `Debug` names of its architecture-only [`MapFlags`]
//!   (their constants are defined in the same file, in an `impl MapFlags`);
//! - `mmap`: the system call that maps memory, taking a byte offset as a
//!   `u64`. 64-bit architectures pass it to `mmap` as is; 32-bit ones convert
//!   it to `mmap2`'s page units, or fail.
//!
//! Everything else (syscall numbers, the syscall instruction) comes from the
//! `syscalls` crate, and the flag values shared by all these architectures
//! are in `flags.rs`. Adding an architecture is a new file and a line below.
//!
//! [`MapFlags`]: crate::MapFlags

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
mod imp;

pub(crate) use imp::{MAP_NAMES, mmap};

#[cfg(not(all(
    target_os = "linux",
    any(
        all(target_arch = "x86_64", target_pointer_width = "64"),
        all(target_arch = "aarch64", target_pointer_width = "64"),
    )
)))]
compile_error!("rawmap supports Linux on x86_64 and aarch64 (64-bit ABIs only: not x32 or ilp32)");

/// `mmap` on a 64-bit architecture, where the kernel takes the byte offset
/// in one register.
///
/// # Safety
///
/// As for [`crate::mmap`].
#[cfg(target_pointer_width = "64")]
#[inline(always)]
pub(crate) unsafe fn mmap_lp64(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: core::ffi::c_int,
    offset: u64,
) -> Result<usize, syscalls::Errno> {
    // SAFETY: the caller upholds `mmap`'s contract. The casts are lossless:
    // u32 -> usize zero-extends (the kernel reads these arguments as unsigned
    // long and ignores bits it does not know), the fd is sign-extended as the
    // kernel's `int`/`unsigned long` reading expects (-1 stays -1), and a u64
    // fits a 64-bit register exactly.
    unsafe {
        syscalls::syscall6(
            syscalls::Sysno::mmap,
            addr,
            len,
            prot as usize,
            flags as usize,
            fd as isize as usize,
            offset as usize,
        )
    }
}
