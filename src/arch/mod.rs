//! Architecture dispatch: the one place that knows which architecture this is.
//!
//! Each supported architecture has one file here, holding values only:
//!
//! - `MMAP`: the number of the system call that maps memory, and
//!   `mmap_offset`: how that call takes a byte offset. 64-bit architectures
//!   use `mmap`, which takes the byte offset in one register
//!   ([`byte_offset`]); 32-bit ones use `mmap2`, whose offset is in 4096-byte
//!   units ([`mmap2_units`]): an offset that is not a multiple of 4096 is
//!   `EINVAL`, one of 16 TiB or more `EOVERFLOW`, never a truncated offset;
//! - the values of its architecture-only flags (`MAP_32BIT` on x86_64),
//!   which `src/flags/` names and documents.
//!
//! The system calls themselves are made in `src/sys/`; syscall numbers and
//! the syscall instruction come from the `syscalls` crate, and the flag
//! values shared by all these architectures are in `src/flags/`. Adding an
//! architecture is a new file and a line below.

use syscalls::Errno;

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
#[cfg_attr(target_arch = "riscv64", path = "riscv64.rs")]
#[cfg_attr(target_arch = "arm", path = "arm.rs")]
#[cfg_attr(target_arch = "x86", path = "x86.rs")]
mod imp;

#[cfg(target_arch = "x86_64")]
pub(crate) use imp::MAP_32BIT;
pub(crate) use imp::{MMAP, mmap_offset};
#[cfg(target_arch = "aarch64")]
pub(crate) use imp::{PROT_BTI, PROT_MTE};

// File descriptors (Memfd, File): opening large files, and 64-bit
// arguments on 32-bit architectures.
#[cfg(target_pointer_width = "32")]
pub(crate) use imp::{O_LARGEFILE, U64_PAIR_ALIGNED};

/// `O_LARGEFILE` on a 64-bit architecture: nothing to ask for (the kernel
/// sets it for every 64-bit process itself).
#[cfg(target_pointer_width = "64")]
pub(crate) const O_LARGEFILE: core::ffi::c_int = 0;

#[cfg(not(all(
    target_os = "linux",
    any(
        all(target_arch = "x86_64", target_pointer_width = "64"),
        all(target_arch = "aarch64", target_pointer_width = "64"),
        all(target_arch = "riscv64", target_pointer_width = "64"),
        all(target_arch = "arm", target_pointer_width = "32"),
        all(target_arch = "x86", target_pointer_width = "32"),
    )
)))]
compile_error!(
    "rawmap supports Linux on x86_64, aarch64, riscv64, arm and x86 (not x32 or aarch64 ilp32)"
);

/// `mmap`'s offset argument on a 64-bit architecture: the byte offset itself.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
pub(crate) const fn byte_offset(offset: u64) -> Result<usize, Errno> {
    // A u64 fits a 64-bit register exactly.
    Ok(offset as usize)
}

/// The unit of `mmap2`'s offset: 4096 bytes on arm and x86, whatever the
/// page size.
#[cfg(target_pointer_width = "32")]
const MMAP2_UNIT: u64 = 4096;

/// `mmap2`'s offset argument for a byte offset: `EINVAL` if it is not a
/// multiple of 4096 (nothing is ever rounded away), `EOVERFLOW` if the number
/// of 4096-byte units does not fit the 32-bit register.
#[cfg(target_pointer_width = "32")]
#[inline(always)]
pub(crate) const fn mmap2_units(offset: u64) -> Result<usize, Errno> {
    if offset & (MMAP2_UNIT - 1) != 0 {
        return Err(Errno::EINVAL);
    }
    let units = offset / MMAP2_UNIT;
    if units > usize::MAX as u64 {
        return Err(Errno::EOVERFLOW);
    }
    Ok(units as usize)
}

#[cfg(all(test, target_pointer_width = "32"))]
mod tests {
    use super::*;

    #[test]
    fn mmap2_units_are_exact_or_an_error() {
        assert_eq!(mmap2_units(0), Ok(0));
        assert_eq!(mmap2_units(4096), Ok(1));
        assert_eq!(mmap2_units(5 << 30), Ok(5 << 18));
        assert_eq!(mmap2_units(1), Err(Errno::EINVAL));
        assert_eq!(mmap2_units(4095), Err(Errno::EINVAL));
        assert_eq!(mmap2_units((1 << 44) + 512), Err(Errno::EINVAL));
        assert_eq!(mmap2_units((1 << 44) - 4096), Ok(usize::MAX));
        assert_eq!(mmap2_units(1 << 44), Err(Errno::EOVERFLOW));
        assert_eq!(mmap2_units(!4095), Err(Errno::EOVERFLOW));
        assert_eq!(mmap2_units(u64::MAX), Err(Errno::EINVAL));
    }
}
