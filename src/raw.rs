//! The raw layer: the public `unsafe fn` of each memory-management system
//! call, documented, forwarding to `src/sys/mm.rs`.
//!
//! Each returns exactly what the kernel returns, with one documented
//! addition: [`mmap`] verifies [`MapFlags::FIXED_NOREPLACE`].
//!
//! # Safety
//!
//! These functions create, change and remove mappings, so they can invalidate
//! any memory in the process. Each `unsafe fn` says what its caller promises.

use core::ffi::{c_int, c_void};

use syscalls::Errno;

use crate::flags::{
    AdviceArg, MapFlags, MlockAllFlags, MlockFlags, MremapFlags, MsyncFlags, PkeyAccess, Prot,
};
use crate::page::page_size;
use crate::sys::RawFd;
use crate::sys::mm;

/// `mmap(addr, len, prot, flags, fd, offset)`: maps `len` bytes of the file
/// open at `fd` from byte `offset` (or anonymous memory), returning the
/// mapping's address.
///
/// The arguments reach the kernel unchanged and its answer comes back
/// unchanged, except that [`MapFlags::FIXED_NOREPLACE`] is verified: if the
/// kernel placed the mapping anywhere but `addr` (kernels before 4.17 and
/// QEMU's user mode read the flag as a hint), that mapping is unmapped again
/// and the result is `EEXIST` (`EINVAL` if `addr` is not page-aligned, as a
/// kernel that knows the flag answers).
///
/// On 32-bit ARM and x86 the system call is `mmap2`, whose offset counts
/// 4096-byte units: an `offset` that is not a multiple of 4096 is `EINVAL`
/// and one of 16 TiB or more `EOVERFLOW`, before any system call.
///
/// # Safety
///
/// - With [`MapFlags::FIXED`], everything mapped in `[addr, addr + len)` is
///   replaced: no live reference, allocation or other owner may use that
///   range any more.
/// - Memory mapped from a file that another process (or this one) can
///   truncate raises `SIGBUS` when a page past the new end of file is
///   touched; a shared mapping can change under any reference into it.
///   Whoever turns the result into Rust references must rule both out.
///
/// # Errors
///
/// The kernel's errno: `EINVAL` (zero `len`, unaligned `offset` or fixed
/// `addr`, neither `SHARED` nor `PRIVATE`), `EBADF`, `EACCES`, `ENODEV`,
/// `ENOMEM`, `EEXIST`, `EOPNOTSUPP` (`SHARED_VALIDATE` with an unknown flag),
/// `EOVERFLOW`, `EPERM`, `ETXTBSY`, `EAGAIN`, `ENFILE`.
///
/// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mmap, munmap, page_size, MapFlags, Prot};
/// use core::ptr;
///
/// let len = page_size();
/// // SAFETY: a new anonymous mapping replaces nothing, and only this code
/// // uses it until it is unmapped below.
/// unsafe {
///     let p = mmap(ptr::null_mut(), len, Prot::READ | Prot::WRITE,
///                  MapFlags::PRIVATE | MapFlags::ANONYMOUS, -1, 0)?;
///     p.cast::<u8>().write(42);
///     assert_eq!(p.cast::<u8>().read(), 42);
///     munmap(p, len)?;
/// }
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[doc(alias = "mmap64")]
#[inline]
pub unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    flags: MapFlags,
    fd: RawFd,
    offset: u64,
) -> Result<*mut c_void, Errno> {
    // SAFETY: the caller upholds this function's contract, which is the
    // kernel's.
    let ret = unsafe { mm::mmap(addr, len, prot, flags, fd, offset)? };
    if flags.contains(MapFlags::FIXED_NOREPLACE) && ret != addr {
        return Err(noreplace_missed(ret, addr, len));
    }
    Ok(ret)
}

/// The kernel ignored `FIXED_NOREPLACE` and mapped at `got` instead of
/// `wanted`: undo that mapping and say what a kernel that honours the flag
/// would have said.
#[cold]
#[inline]
fn noreplace_missed(got: *mut c_void, wanted: *mut c_void, len: usize) -> Errno {
    // SAFETY: `got` is the mapping the kernel has just made for this call, of
    // `len` bytes; nothing else knows of it yet.
    let _ = unsafe { mm::munmap(got, len) };
    if wanted as usize & (page_size() - 1) != 0 {
        Errno::EINVAL
    } else {
        Errno::EEXIST
    }
}

/// `munmap(addr, len)`: removes the mappings in `[addr, addr + len)`
/// (rounded up to whole pages). Unmapping a range with nothing in it is not an
/// error.
///
/// # Safety
///
/// Nothing may use the range afterwards: no reference, pointer dereference
/// or owner (such as an [`Mmap`](crate::Mmap)) may remain for it.
///
/// # Errors
///
/// `EINVAL` for an unaligned `addr`, a zero `len` or a range outside the
/// address space; `ENOMEM` when splitting a mapping would exceed the limit of
/// mappings.
///
/// See [munmap(2)](https://man7.org/linux/man-pages/man2/munmap.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{munmap, Errno};
/// // An unaligned address is refused before anything is unmapped.
/// // SAFETY: the call fails, so nothing is unmapped.
/// assert_eq!(unsafe { munmap(1 as *mut _, 1) }, Err(Errno::EINVAL));
/// ```
#[inline]
pub unsafe fn munmap(addr: *mut c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller promises nothing uses the range any more.
    unsafe { mm::munmap(addr, len) }
}

/// `msync(addr, len, flags)`: writes the changes of a shared file mapping
/// back to the file ([`MsyncFlags::SYNC`] waits for the device).
///
/// # Safety
///
/// `msync` reads the pages but never changes their contents; the contract is
/// only that `[addr, addr + len)` is memory the caller may hand to the kernel
/// (it is `unsafe` as the whole raw layer is). With
/// [`MsyncFlags::INVALIDATE`] on old kernels, pages could be re-read from the
/// file.
///
/// # Errors
///
/// `EINVAL` for an unaligned `addr`, unknown flags or `ASYNC | SYNC`;
/// `ENOMEM` if part of the range is not mapped; `EBUSY` for `INVALIDATE` on
/// locked pages; `EIO` and other write-back errors of the file system.
///
/// See [msync(2)](https://man7.org/linux/man-pages/man2/msync.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{msync, Errno, MsyncFlags};
/// // SAFETY: the call fails on its flags and touches nothing.
/// let both = MsyncFlags::ASYNC | MsyncFlags::SYNC;
/// assert_eq!(unsafe { msync(core::ptr::null_mut(), 0, both) }, Err(Errno::EINVAL));
/// ```
#[inline]
pub unsafe fn msync(addr: *mut c_void, len: usize, flags: MsyncFlags) -> Result<(), Errno> {
    // SAFETY: msync does not change memory contents; the caller hands over a
    // range it may pass to the kernel.
    unsafe { mm::msync(addr, len, flags) }
}

/// `mprotect(addr, len, prot)`: changes the protection of the pages in
/// `[addr, addr + len)`.
///
/// # Safety
///
/// Removing access from memory that references still point to makes their
/// use fault; adding [`Prot::WRITE`] to memory behind a `&T` or adding
/// [`Prot::EXEC`] makes Rust's aliasing or code assumptions the caller's
/// job. The caller must own the range for the new protection.
///
/// # Errors
///
/// `EINVAL` for an unaligned `addr` or unknown bits; `ENOMEM` if part of the
/// range is not mapped; `EACCES` for `WRITE` on a shared mapping of a file
/// opened read-only (or `EXEC` on a `noexec` mount).
///
/// See [mprotect(2)](https://man7.org/linux/man-pages/man2/mprotect.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mprotect, Errno, Prot};
/// // SAFETY: the call fails on the unaligned address and changes nothing.
/// assert_eq!(unsafe { mprotect(3 as *mut _, 1, Prot::READ) }, Err(Errno::EINVAL));
/// ```
#[inline]
pub unsafe fn mprotect(addr: *mut c_void, len: usize, prot: Prot) -> Result<(), Errno> {
    // SAFETY: the caller owns the range for the new protection.
    unsafe { mm::mprotect(addr, len, prot) }
}

/// `madvise(addr, len, advice)`: tells the kernel how the range will be used,
/// or (with [`UncheckedAdvice`](crate::UncheckedAdvice)) asks it to drop or
/// change pages.
///
/// `advice` is an [`Advice`](crate::Advice), an
/// [`UncheckedAdvice`](crate::UncheckedAdvice) or a raw `c_int`.
///
/// # Safety
///
/// The caller may pass the range to the kernel. With advice that changes
/// contents (`DontNeed`, `Free`, `Remove`, `HwPoison`, ... or a raw number),
/// no reference may rely on the old contents of the range.
///
/// # Errors
///
/// `EINVAL` for an unaligned `addr`, unknown advice or advice that does not
/// fit the mapping (e.g. `DontNeed` on locked pages); `ENOMEM` if part of the
/// range is not mapped; `EPERM` for privileged advice; `EAGAIN`; `EIO`.
///
/// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{madvise, Advice, Errno};
/// // SAFETY: harmless advice on an empty range.
/// assert_eq!(unsafe { madvise(core::ptr::null_mut(), 0, Advice::Normal) }, Ok(()));
/// // A raw advice number (0 is MADV_NORMAL); an unaligned address is refused.
/// // SAFETY: the call fails and changes nothing.
/// assert_eq!(unsafe { madvise(1 as *mut _, 1, 0) }, Err(Errno::EINVAL));
/// ```
#[doc(alias = "posix_madvise")]
#[inline]
pub unsafe fn madvise(addr: *mut c_void, len: usize, advice: impl AdviceArg) -> Result<(), Errno> {
    // SAFETY: the caller may pass the range, and accepts what the advice does
    // to its contents.
    unsafe { mm::madvise(addr, len, advice.to_raw()) }
}

/// `mremap(old_addr, old_len, new_len, flags, new_addr)`: grows, shrinks or
/// moves a mapping, returning its (possibly new) address. `new_addr` is used
/// only with [`MremapFlags::FIXED`].
///
/// # Safety
///
/// If the mapping moves or shrinks, nothing may use the old range (or the
/// part given up) any more; with `FIXED`, whatever was mapped at
/// `[new_addr, new_addr + new_len)` is replaced.
///
/// # Errors
///
/// `EINVAL` for an unaligned address, bad flags or a zero `new_len`;
/// `EFAULT` or `ENOMEM` if the old range is not one mapping, or growing in
/// place is impossible without `MAYMOVE`; `EAGAIN` for locked memory.
///
/// See [mremap(2)](https://man7.org/linux/man-pages/man2/mremap.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mmap, mremap, munmap, page_size, MapFlags, MremapFlags, Prot};
/// use core::ptr;
///
/// let page = page_size();
/// // SAFETY: a new private anonymous mapping; only this code uses it, and
/// // the old address is not used after the move.
/// unsafe {
///     let p = mmap(ptr::null_mut(), page, Prot::READ | Prot::WRITE,
///                  MapFlags::PRIVATE | MapFlags::ANONYMOUS, -1, 0)?;
///     p.cast::<u8>().write(7);
///     let q = mremap(p, page, 4 * page, MremapFlags::MAYMOVE, ptr::null_mut())?;
///     assert_eq!(q.cast::<u8>().read(), 7);
///     munmap(q, 4 * page)?;
/// }
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[inline]
pub unsafe fn mremap(
    old_addr: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: MremapFlags,
    new_addr: *mut c_void,
) -> Result<*mut c_void, Errno> {
    // SAFETY: the caller gives up the old range (and any fixed target).
    unsafe { mm::mremap(old_addr, old_len, new_len, flags, new_addr) }
}

/// `mlock(addr, len)`: keeps the pages of the range in RAM (faulting them in
/// first).
///
/// # Safety
///
/// Locking does not change memory; the contract is that the caller may pass
/// the range to the kernel.
///
/// # Errors
///
/// `ENOMEM` if part of the range is not mapped or `RLIMIT_MEMLOCK` is
/// exceeded; `EPERM` without the privilege where the limit is 0; `EAGAIN`;
/// `EINVAL` for a range that wraps.
///
/// See [mlock(2)](https://man7.org/linux/man-pages/man2/mlock.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mlock, munlock};
/// // SAFETY: an empty range locks nothing.
/// unsafe {
///     mlock(core::ptr::null(), 0)?;
///     munlock(core::ptr::null(), 0)?;
/// }
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[inline]
pub unsafe fn mlock(addr: *const c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: mlock does not change memory contents.
    unsafe { mm::mlock(addr, len) }
}

/// `munlock(addr, len)`: lets the kernel page the range out again.
///
/// # Safety
///
/// Unlocking does not change memory; the contract is that the caller may
/// pass the range to the kernel.
///
/// # Errors
///
/// `ENOMEM` if part of the range is not mapped; `EINVAL` for a range that
/// wraps.
///
/// See [munlock(2)](https://man7.org/linux/man-pages/man2/munlock.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{munlock, Errno};
/// // SAFETY: nothing is mapped at the top of the address space.
/// let top = (usize::MAX & !0xffff) as *const _;
/// assert_eq!(unsafe { munlock(top, 1) }, Err(Errno::ENOMEM));
/// ```
#[inline]
pub unsafe fn munlock(addr: *const c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: munlock does not change memory contents.
    unsafe { mm::munlock(addr, len) }
}

/// `mincore(addr, len, vec)`: writes one byte per page of
/// `[addr, addr + len)` into `vec`, whose lowest bit says whether that page
/// is resident in memory.
///
/// # Safety
///
/// `vec` must be valid for writes of `len.div_ceil(page_size())` bytes.
/// (QEMU's user mode with a page size above 4 KiB writes one byte per 4 KiB
/// host page instead: give it `len.div_ceil(4096)` bytes there.)
///
/// # Errors
///
/// `ENOMEM` if part of the range is not mapped (the usual way to ask "is
/// anything mapped here?"); `EINVAL` for an unaligned `addr`; `EFAULT` for a
/// bad `vec`.
///
/// See [mincore(2)](https://man7.org/linux/man-pages/man2/mincore.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mincore, page_size, Errno};
/// let mut vec = [0u8; 1];
/// let top = (usize::MAX & !(page_size() - 1)) as *mut _;
/// // SAFETY: `vec` has room for the one page asked about.
/// assert_eq!(unsafe { mincore(top, 1, vec.as_mut_ptr()) }, Err(Errno::ENOMEM));
/// ```
#[inline]
pub unsafe fn mincore(addr: *mut c_void, len: usize, vec: *mut u8) -> Result<(), Errno> {
    // SAFETY: the caller provides room for one byte per page at `vec`.
    unsafe { mm::mincore(addr, len, vec) }
}

// The calls since Linux 4.4: `mlock2`, `mlockall`, `munlockall`, `mseal`,
// `process_madvise` and the protection keys. Where an architecture or kernel
// has no such call, its own answer (`ENOSYS`, `EINVAL`, `ENOSPC`) comes back
// unchanged.

/// `mlock2(addr, len, flags)` (since Linux 4.4): [`mlock`] with flags; with
/// [`MlockFlags::ONFAULT`] the pages are locked as they are faulted in
/// rather than all faulted in now.
///
/// # Safety
///
/// Locking does not change memory; the contract is that the caller may pass
/// the range to the kernel.
///
/// # Errors
///
/// As for [`mlock`], and `EINVAL` for an unknown flag.
///
/// See [mlock2(2)](https://man7.org/linux/man-pages/man2/mlock2.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mlock2, munlock, Errno, MlockFlags};
/// // SAFETY: an empty range locks nothing.
/// match unsafe { mlock2(core::ptr::null(), 0, MlockFlags::ONFAULT) } {
///     // SAFETY: as above.
///     Ok(()) => unsafe { munlock(core::ptr::null(), 0)? },
///     // QEMU 7.2's user mode has no mlock2.
///     Err(e) => assert_eq!(e, Errno::ENOSYS),
/// }
/// // An unknown flag is refused.
/// let bad = MlockFlags::from_bits_retain(0x80);
/// // SAFETY: as above.
/// let e = unsafe { mlock2(core::ptr::null(), 0, bad) }.unwrap_err();
/// assert!(matches!(e, Errno::EINVAL | Errno::ENOSYS));
/// # Ok::<(), Errno>(())
/// ```
#[inline]
pub unsafe fn mlock2(addr: *const c_void, len: usize, flags: MlockFlags) -> Result<(), Errno> {
    // SAFETY: mlock2 does not change memory contents.
    unsafe { mm::mlock2(addr, len, flags) }
}

/// `mlockall(flags)`: locks every page of the process that is mapped now
/// ([`MlockAllFlags::CURRENT`]) and/or will be mapped
/// ([`MlockAllFlags::FUTURE`]), optionally only as they are faulted in
/// ([`MlockAllFlags::ONFAULT`], since Linux 4.4).
///
/// Safe: locking changes no memory. With `FUTURE`, later mappings that do
/// not fit under `RLIMIT_MEMLOCK` fail with `ENOMEM` (or `EAGAIN`).
///
/// # Errors
///
/// `EINVAL` for no flag, an unknown flag, or `ONFAULT` alone; `ENOMEM` over
/// `RLIMIT_MEMLOCK`; `EPERM` without `CAP_IPC_LOCK` where that limit is 0.
///
/// See [mlockall(2)](https://man7.org/linux/man-pages/man2/mlockall.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{mlockall, munlockall, Errno, MlockAllFlags};
/// assert_eq!(mlockall(MlockAllFlags::empty()), Err(Errno::EINVAL));
/// assert_eq!(mlockall(MlockAllFlags::ONFAULT), Err(Errno::EINVAL));
/// munlockall()?;
/// # Ok::<(), Errno>(())
/// ```
#[inline]
pub fn mlockall(flags: MlockAllFlags) -> Result<(), Errno> {
    mm::mlockall(flags)
}

/// `munlockall()`: unlocks every page of the process and ends
/// [`mlockall`]'s `FUTURE`.
///
/// # Errors
///
/// None on Linux; the kernel's answer comes back as it is.
///
/// See [munlockall(2)](https://man7.org/linux/man-pages/man2/munlockall.2.html).
///
/// # Example
///
/// ```
/// rawmap::munlockall()?;
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[inline]
pub fn munlockall() -> Result<(), Errno> {
    mm::munlockall()
}

/// `mseal(addr, len, 0)` (since Linux 6.10, 64-bit kernels only): seals the
/// mappings of the range for the rest of the process's life. A sealed range
/// cannot be unmapped, moved, shrunk, expanded in place, remapped over
/// (`MAP_FIXED`), reprotected (`mprotect`, `pkey_mprotect`) or given
/// destructive advice (`MADV_DONTNEED` and the like on memory it cannot
/// write): each of those answers `EPERM`.
///
/// `len` is rounded up to whole pages; a zero `len` is a successful no-op.
///
/// # Safety
///
/// The range is never unmapped again: no owner of it (an [`MmapMut`] and the
/// like, an allocator) may rely on unmapping, moving or reprotecting it
/// afterwards, and its memory stays as long as the process.
///
/// # Errors
///
/// `EINVAL` for an unaligned `addr` or a range that wraps; `ENOMEM` if part
/// of the range is not mapped; `EPERM` from some kernels for a range that
/// includes a special mapping (`[vsyscall]`). `ENOSYS` on kernels before
/// 6.10, on every 32-bit kernel (the call exists only for 64-bit ones) and
/// under QEMU 7.2's user mode. A 32-bit program on a 64-bit kernel (i686 on
/// x86_64, armv7 on aarch64) has the call; its range cannot wrap there (the
/// kernel adds in 64 bits), so a `len` that would wrap is `ENOMEM`.
///
/// See [mseal(2)](https://man7.org/linux/man-pages/man2/mseal.2.html).
///
/// [`MmapMut`]: crate::MmapMut
///
/// # Example
///
/// ```
/// use rawmap::{mseal, Errno};
/// // SAFETY: an empty range seals nothing.
/// match unsafe { mseal(core::ptr::null_mut(), 0) } {
///     Ok(()) => {}
///     // Before Linux 6.10, on 32-bit kernels and under QEMU 7.2.
///     Err(e) => assert_eq!(e, Errno::ENOSYS),
/// }
/// ```
#[inline]
pub unsafe fn mseal(addr: *mut c_void, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller accepts that the range stays mapped as it is.
    unsafe { mm::mseal(addr, len, 0) }
}

/// One range for [`process_madvise`]: the C `struct iovec` (`base`, `len`),
/// with the same layout. See
/// [iovec(3type)](https://man7.org/linux/man-pages/man3/iovec.3type.html).
///
/// ```
/// use rawmap::IoVec;
/// let v = IoVec::new(core::ptr::null_mut(), 0);
/// assert_eq!(v.len, 0);
/// assert_eq!(size_of::<IoVec>(), 2 * size_of::<usize>());
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IoVec {
    /// `iov_base`: the start of the range.
    pub base: *mut c_void,
    /// `iov_len`: its length in bytes.
    pub len: usize,
}

impl IoVec {
    /// The range of `len` bytes at `base`.
    #[inline]
    pub const fn new(base: *mut c_void, len: usize) -> Self {
        Self { base, len }
    }
}

/// `process_madvise(pidfd, iovec, vlen, advice, flags)` (since Linux 5.10):
/// gives `advice` for each range of `iovec` in the address space of the
/// process that `pidfd` (from `pidfd_open`) refers to, returning the number
/// of bytes advised.
///
/// For another process the kernel takes only `MADV_COLD`, `MADV_PAGEOUT`,
/// `MADV_WILLNEED` (since 5.16) and `MADV_COLLAPSE` (since 6.1), and needs
/// `PTRACE_MODE_READ` rights plus `CAP_SYS_NICE`; for the calling process
/// itself, any advice `madvise` takes (since Linux 6.13; before, the same
/// short list). `flags` must be 0. The ranges are advised in order and the
/// call stops at the first failing one: a partial count is success.
///
/// # Safety
///
/// If `pidfd` refers to this process, each range is as for [`madvise`]: the
/// caller may pass it and accepts what the advice does to its contents.
///
/// # Errors
///
/// `EBADF` (not a pidfd), `EINVAL` (advice not allowed, `flags` not 0, more
/// than `IOV_MAX` ranges, an unaligned range), `ENOMEM`, `EPERM` (no
/// rights), `ESRCH` (the process has exited). `ENOSYS` before Linux 5.10 and
/// under QEMU 7.2's user mode.
///
/// See [process_madvise(2)](https://man7.org/linux/man-pages/man2/process_madvise.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{process_madvise, Advice, Errno, IoVec};
/// let len = rawmap::page_size();
/// let mut page = rawmap::MmapOptions::new().len(len).map_anon()?;
/// page[0] = 1;
/// // SAFETY: pidfd_open of this process's pid, no flags.
/// let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) } as i32;
/// let v = [IoVec::new(page.as_mut_ptr().cast(), len)];
/// // SAFETY: MADV_COLD keeps the contents of the range, which is this one's.
/// match unsafe { process_madvise(pidfd, &v, Advice::Cold, 0) } {
///     Ok(n) => assert_eq!(n, len),
///     // Under QEMU 7.2's user mode.
///     Err(e) => assert_eq!(e, Errno::ENOSYS),
/// }
/// assert_eq!(page[0], 1);
/// // SAFETY: the pidfd is ours and used no more.
/// unsafe { libc::close(pidfd) };
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline]
pub unsafe fn process_madvise(
    pidfd: RawFd,
    iovec: &[IoVec],
    advice: impl AdviceArg,
    flags: u32,
) -> Result<usize, Errno> {
    // SAFETY: `iovec` is `iovec.len()` readable `struct iovec`s; the caller
    // accepts the advice's effect on the ranges.
    unsafe {
        mm::process_madvise(
            pidfd,
            iovec.as_ptr().cast(),
            iovec.len(),
            advice.to_raw(),
            flags,
        )
    }
}

/// `pkey_alloc(flags, access_rights)` (since Linux 4.9): allocates a memory
/// protection key whose pages get `access_rights` in this thread (and
/// threads created afterwards), for [`pkey_mprotect`].
///
/// Keys exist only with hardware support: x86_64's PKU (Intel since
/// Skylake-SP, AMD since Zen 3) and aarch64's POE (since Linux 6.12). Without
/// it the kernel answers `ENOSPC` (no key free), or `ENOSYS` where it is
/// built without protection keys (aarch64 before 6.12, as Debian's 6.1
/// `arm64` kernel is; riscv64; QEMU 7.2's user mode); `flags` must be 0.
/// On an x86 CPU without PKU the first call of a process answers `EINVAL`
/// and every later one `ENOSPC`: the kernel hands out key 0, fails to give
/// it the rights, and cannot take key 0 back.
///
/// # Errors
///
/// `EINVAL` (`flags` not 0, unknown rights; the first call without x86
/// PKU), `ENOSPC` (no key free, or no hardware keys), `ENOSYS`.
///
/// See [pkey_alloc(2)](https://man7.org/linux/man-pages/man2/pkey_alloc.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{pkey_alloc, pkey_free, Errno, PkeyAccess};
/// match pkey_alloc(0, PkeyAccess::DISABLE_WRITE) {
///     // SAFETY: no page was given the key.
///     Ok(key) => unsafe { pkey_free(key)? },
///     // No protection keys on this machine.
///     Err(e) => assert!(matches!(e, Errno::ENOSPC | Errno::EINVAL | Errno::ENOSYS)),
/// }
/// let e = pkey_alloc(1, PkeyAccess::empty()).unwrap_err();
/// assert!(matches!(e, Errno::EINVAL | Errno::ENOSYS));
/// # Ok::<(), Errno>(())
/// ```
#[inline]
pub fn pkey_alloc(flags: u32, access_rights: PkeyAccess) -> Result<c_int, Errno> {
    mm::pkey_alloc(flags, access_rights.bits())
}

/// `pkey_free(pkey)` (since Linux 4.9): returns a key from [`pkey_alloc`].
///
/// # Safety
///
/// Pages still carrying the key keep it; a later [`pkey_alloc`] may hand
/// the same key out with other rights, which then apply to them. The caller
/// makes sure no page it relies on carries the key.
///
/// # Errors
///
/// `EINVAL` for a key that is not allocated; `ENOSYS` where the kernel
/// lacks the call.
///
/// See [pkey_free(2)](https://man7.org/linux/man-pages/man2/pkey_free.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{pkey_free, Errno};
/// // SAFETY: key 15 is not allocated here, so no page carries it.
/// let e = unsafe { pkey_free(15) }.unwrap_err();
/// assert!(matches!(e, Errno::EINVAL | Errno::ENOSYS));
/// ```
#[inline]
pub unsafe fn pkey_free(pkey: c_int) -> Result<(), Errno> {
    // SAFETY: the caller relies on no page carrying the key.
    unsafe { mm::pkey_free(pkey) }
}

/// `pkey_mprotect(addr, len, prot, pkey)` (since Linux 4.9): [`mprotect`]
/// that also gives the pages the protection key `pkey` (from
/// [`pkey_alloc`]); `pkey` -1 is plain `mprotect`.
///
/// # Safety
///
/// As for [`mprotect`]: the caller owns the range, and no reference into it
/// is used in a way the new protection and the key's rights forbid.
///
/// # Errors
///
/// As for [`mprotect`], and `EINVAL` for a key that is not allocated
/// (always, without hardware keys, unless `pkey` is -1); `ENOSYS` where the
/// kernel lacks the call.
///
/// See [pkey_mprotect(2)](https://man7.org/linux/man-pages/man2/pkey_mprotect.2.html).
///
/// # Example
///
/// ```
/// use rawmap::{pkey_mprotect, Errno, MmapOptions, Prot};
/// let len = rawmap::page_size();
/// let mut m = MmapOptions::new().len(len).map_anon()?;
/// // SAFETY: the mapping is ours and stays readable and writable.
/// match unsafe { pkey_mprotect(m.as_mut_ptr().cast(), len, Prot::READ | Prot::WRITE, -1) } {
///     Ok(()) => {}
///     // Kernels built without protection keys, QEMU 7.2's user mode.
///     Err(e) => assert_eq!(e, Errno::ENOSYS),
/// }
/// m[0] = 1;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline]
pub unsafe fn pkey_mprotect(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    pkey: c_int,
) -> Result<(), Errno> {
    // SAFETY: the caller owns the range for the new protection and key.
    unsafe { mm::pkey_mprotect(addr, len, prot, pkey) }
}
