//! The memory-management system calls: `mmap` (`mmap2` on 32-bit
//! architectures), `munmap`, `msync`, `mprotect`, `madvise`, `mremap`,
//! `mlock`, `munlock` and `mincore`, with the kernel's semantics exactly.
//!
//! The public, documented forms are in `src/raw.rs`; the contracts below are
//! theirs.

use core::ffi::{c_int, c_void};

use syscalls::{
    Errno, Sysno, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6,
};

use super::RawFd;
use crate::arch;
use crate::flags::{MapFlags, MlockAllFlags, MlockFlags, MremapFlags, MsyncFlags, Prot};

/// `mmap(addr, len, prot, flags, fd, offset)`, through the architecture's
/// call and offset form (`arch::MMAP`, `arch::mmap_offset`).
///
/// # Safety
///
/// As for [`crate::mmap`].
#[inline(always)]
pub(crate) unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    flags: MapFlags,
    fd: RawFd,
    offset: u64,
) -> Result<*mut c_void, Errno> {
    let offset = arch::mmap_offset(offset)?;
    // The casts are lossless: u32 -> usize zero-extends (the kernel reads
    // these arguments as unsigned long and ignores bits it does not know),
    // and the fd is sign-extended as the kernel's `int`/`unsigned long`
    // reading expects (-1 stays -1).
    // SAFETY: the caller upholds `mmap`'s contract; `offset` is in the form
    // the architecture's call expects.
    let ret = unsafe {
        syscall6(
            arch::MMAP,
            addr as usize,
            len,
            prot.bits() as usize,
            flags.bits() as usize,
            fd as isize as usize,
            offset,
        )
    }?;
    Ok(ret as *mut c_void)
}

/// `munmap(addr, len)`.
///
/// # Safety
///
/// As for [`crate::munmap`]: nothing uses the range afterwards.
#[inline(always)]
pub(crate) unsafe fn munmap(addr: *mut c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller promises nothing uses the range any more.
    unsafe { syscall2(Sysno::munmap, addr as usize, len) }.map(drop)
}

/// `msync(addr, len, flags)`.
///
/// # Safety
///
/// As for [`crate::msync`]: the caller may hand the range to the kernel.
#[inline(always)]
pub(crate) unsafe fn msync(addr: *mut c_void, len: usize, flags: MsyncFlags) -> Result<(), Errno> {
    // SAFETY: msync does not change memory contents; the caller hands over a
    // range it may pass to the kernel.
    unsafe { syscall3(Sysno::msync, addr as usize, len, flags.bits() as usize) }.map(drop)
}

/// `mprotect(addr, len, prot)`.
///
/// # Safety
///
/// As for [`crate::mprotect`]: the caller owns the range for the new
/// protection.
#[inline(always)]
pub(crate) unsafe fn mprotect(addr: *mut c_void, len: usize, prot: Prot) -> Result<(), Errno> {
    // SAFETY: the caller owns the range for the new protection.
    unsafe { syscall3(Sysno::mprotect, addr as usize, len, prot.bits() as usize) }.map(drop)
}

/// `madvise(addr, len, advice)` with a raw advice number.
///
/// # Safety
///
/// As for [`crate::madvise`]: the caller accepts what the advice does to the
/// range's contents.
#[inline(always)]
pub(crate) unsafe fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> Result<(), Errno> {
    // SAFETY: the caller may pass the range, and accepts what the advice does
    // to its contents. The advice is sign-extended as the kernel's `int`.
    unsafe { syscall3(Sysno::madvise, addr as usize, len, advice as isize as usize) }.map(drop)
}

/// `mremap(old_addr, old_len, new_len, flags, new_addr)`.
///
/// # Safety
///
/// As for [`crate::mremap`]: the caller gives up the old range (and any
/// fixed target).
#[inline(always)]
pub(crate) unsafe fn mremap(
    old_addr: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: MremapFlags,
    new_addr: *mut c_void,
) -> Result<*mut c_void, Errno> {
    // SAFETY: the caller gives up the old range (and any fixed target).
    let ret = unsafe {
        syscall5(
            Sysno::mremap,
            old_addr as usize,
            old_len,
            new_len,
            flags.bits() as usize,
            new_addr as usize,
        )
    }?;
    Ok(ret as *mut c_void)
}

/// `mlock(addr, len)`.
///
/// # Safety
///
/// As for [`crate::mlock`]: the caller may pass the range to the kernel.
#[inline(always)]
pub(crate) unsafe fn mlock(addr: *const c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: mlock does not change memory contents.
    unsafe { syscall2(Sysno::mlock, addr as usize, len) }.map(drop)
}

/// `munlock(addr, len)`.
///
/// # Safety
///
/// As for [`crate::munlock`]: the caller may pass the range to the kernel.
#[inline(always)]
pub(crate) unsafe fn munlock(addr: *const c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: munlock does not change memory contents.
    unsafe { syscall2(Sysno::munlock, addr as usize, len) }.map(drop)
}

/// `mincore(addr, len, vec)`.
///
/// # Safety
///
/// As for [`crate::mincore`]: `vec` has room for one byte per page.
#[inline(always)]
pub(crate) unsafe fn mincore(addr: *mut c_void, len: usize, vec: *mut u8) -> Result<(), Errno> {
    // SAFETY: the caller provides room for one byte per page at `vec`.
    unsafe { syscall3(Sysno::mincore, addr as usize, len, vec as usize) }.map(drop)
}

// The calls since Linux 4.4: `mlock2`, `mlockall`, `munlockall`, the
// protection keys, `process_madvise` and `mseal`. Each is made on every
// architecture; where the kernel has no such call (`mseal` on 32-bit) its
// own answer, `ENOSYS`, comes back.

/// `mlock2(addr, len, flags)`.
///
/// # Safety
///
/// As for [`crate::mlock2`]: the caller may pass the range to the kernel.
#[inline(always)]
pub(crate) unsafe fn mlock2(
    addr: *const c_void,
    len: usize,
    flags: MlockFlags,
) -> Result<(), Errno> {
    // SAFETY: mlock2 does not change memory contents.
    unsafe { syscall3(Sysno::mlock2, addr as usize, len, flags.bits() as usize) }.map(drop)
}

/// `mlockall(flags)`.
#[inline(always)]
pub(crate) fn mlockall(flags: MlockAllFlags) -> Result<(), Errno> {
    // SAFETY: locking pages in RAM changes no memory contents or mappings.
    unsafe { syscall1(Sysno::mlockall, flags.bits() as usize) }.map(drop)
}

/// `munlockall()`.
#[inline(always)]
pub(crate) fn munlockall() -> Result<(), Errno> {
    // SAFETY: unlocking pages changes no memory contents or mappings.
    unsafe { syscall0(Sysno::munlockall) }.map(drop)
}

/// `mseal(addr, len, flags)`.
///
/// # Safety
///
/// As for [`crate::mseal`]: the caller gives up ever unmapping the range.
#[inline(always)]
pub(crate) unsafe fn mseal(addr: *mut c_void, len: usize, flags: usize) -> Result<(), Errno> {
    // SAFETY: the caller accepts that the range can never be unmapped,
    // moved or reprotected.
    unsafe { syscall3(Sysno::mseal, addr as usize, len, flags) }.map(drop)
}
/// `process_madvise(pidfd, iovec, vlen, advice, flags)`.
///
/// # Safety
///
/// As for [`crate::process_madvise`]: `iov` points to `vlen` readable
/// `iovec`s and the caller accepts what the advice does to the ranges.
#[inline(always)]
pub(crate) unsafe fn process_madvise(
    pidfd: RawFd,
    iov: *const c_void,
    vlen: usize,
    advice: c_int,
    flags: u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller provides `vlen` iovecs at `iov` and accepts the
    // advice's effect; fd and advice are sign-extended as the kernel's `int`.
    unsafe {
        syscall5(
            Sysno::process_madvise,
            pidfd as isize as usize,
            iov as usize,
            vlen,
            advice as isize as usize,
            flags as usize,
        )
    }
}

/// `pkey_alloc(flags, access_rights)`.
#[inline(always)]
pub(crate) fn pkey_alloc(flags: u32, access_rights: u32) -> Result<c_int, Errno> {
    // SAFETY: allocating a key changes no memory; the rights only apply to
    // pages later given the key.
    let ret = unsafe { syscall2(Sysno::pkey_alloc, flags as usize, access_rights as usize) }?;
    // A key is a small non-negative int.
    Ok(ret as c_int)
}

/// `pkey_free(pkey)`.
///
/// # Safety
///
/// As for [`crate::pkey_free`].
#[inline(always)]
pub(crate) unsafe fn pkey_free(pkey: c_int) -> Result<(), Errno> {
    // SAFETY: the caller no longer relies on the key's rights.
    unsafe { syscall1(Sysno::pkey_free, pkey as isize as usize) }.map(drop)
}

/// `pkey_mprotect(addr, len, prot, pkey)`.
///
/// # Safety
///
/// As for [`crate::pkey_mprotect`].
#[inline(always)]
pub(crate) unsafe fn pkey_mprotect(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    pkey: c_int,
) -> Result<(), Errno> {
    // SAFETY: the caller owns the range for the new protection and key.
    unsafe {
        syscall4(
            Sysno::pkey_mprotect,
            addr as usize,
            len,
            prot.bits() as usize,
            pkey as isize as usize,
        )
    }
    .map(drop)
}
