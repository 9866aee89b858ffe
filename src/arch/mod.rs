//! Architecture dispatch: the one place that knows which architecture this is.
//!
//! Each supported architecture has one file here. It provides:
//!
//! - the values of its architecture-only flags (`MAP_32BIT` on x86_64),
//!   which `src/flags/` names and documents;
//! - `mmap`: the system call that maps memory, taking a byte offset as a
//!   `u64`. 64-bit architectures pass it to `mmap` as is (`mmap_lp64`);
//!   32-bit ones use `mmap2`, whose offset is in 4096-byte units
//!   (`mmap_ilp32`): an offset that is not a multiple of 4096 is `EINVAL`,
//!   one of 16 TiB or more `EOVERFLOW`, never a truncated offset.
//!
//! Everything else (syscall numbers, the syscall instruction) comes from the
//! `syscalls` crate, and the flag values shared by all these architectures
//! are in `src/flags/`. Adding an architecture is a new file and a line below.

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
#[cfg_attr(target_arch = "riscv64", path = "riscv64.rs")]
#[cfg_attr(target_arch = "arm", path = "arm.rs")]
#[cfg_attr(target_arch = "x86", path = "x86.rs")]
mod imp;

#[cfg(target_arch = "x86_64")]
pub(crate) use imp::MAP_32BIT;
pub(crate) use imp::mmap;

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

/// The `mmap` family's system call `nr` with its offset argument already in
/// the kernel's form (bytes for `mmap`, 4096-byte units for `mmap2`).
///
/// # Safety
///
/// As for [`crate::mmap`].
#[inline(always)]
unsafe fn mmap_call(
    nr: syscalls::Sysno,
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: core::ffi::c_int,
    offset_arg: usize,
) -> Result<usize, syscalls::Errno> {
    // The casts are lossless: u32 -> usize zero-extends (the kernel reads
    // these arguments as unsigned long and ignores bits it does not know),
    // and the fd is sign-extended as the kernel's `int`/`unsigned long`
    // reading expects (-1 stays -1).
    // SAFETY: the caller upholds `mmap`'s contract.
    unsafe {
        syscalls::syscall6(
            nr,
            addr,
            len,
            prot as usize,
            flags as usize,
            fd as isize as usize,
            offset_arg,
        )
    }
}

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
    // A u64 fits a 64-bit register exactly.
    // SAFETY: the caller upholds `mmap`'s contract.
    unsafe {
        mmap_call(
            syscalls::Sysno::mmap,
            addr,
            len,
            prot,
            flags,
            fd,
            offset as usize,
        )
    }
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
pub(crate) const fn mmap2_units(offset: u64) -> Result<usize, syscalls::Errno> {
    if offset & (MMAP2_UNIT - 1) != 0 {
        return Err(syscalls::Errno::EINVAL);
    }
    let units = offset / MMAP2_UNIT;
    if units > usize::MAX as u64 {
        return Err(syscalls::Errno::EOVERFLOW);
    }
    Ok(units as usize)
}

/// `mmap` on a 32-bit architecture: `mmap2`, which takes the offset in
/// 4096-byte units, so that offsets beyond 4 GiB (below 16 TiB) work.
///
/// # Safety
///
/// As for [`crate::mmap`].
#[cfg(target_pointer_width = "32")]
#[inline(always)]
pub(crate) unsafe fn mmap_ilp32(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: core::ffi::c_int,
    offset: u64,
) -> Result<usize, syscalls::Errno> {
    let units = mmap2_units(offset)?;
    // SAFETY: the caller upholds `mmap`'s contract; `units` is the exact
    // offset in `mmap2`'s units.
    unsafe { mmap_call(syscalls::Sysno::mmap2, addr, len, prot, flags, fd, units) }
}

#[cfg(all(test, target_pointer_width = "32"))]
mod tests {
    use super::*;
    use syscalls::Errno;

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
