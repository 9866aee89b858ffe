//! The file system calls rawmap makes itself: `openat`, `read` and `close`
//! (for `/proc` files, without `std`) and `statx` (a file's type and size);
//! at the end, those of owned descriptors and memory files: `memfd_create`,
//! `memfd_secret`, `fcntl` for seals, `ftruncate`, `pread64`, `pwrite64`.

use core::ffi::{CStr, c_int};

#[cfg(target_pointer_width = "32")]
use syscalls::syscall6;
use syscalls::{Errno, Sysno, syscall1, syscall2, syscall3, syscall4, syscall5};

use super::RawFd;
use super::consts::{F_ADD_SEALS, F_GET_SEALS};

/// `openat(dirfd, path, flags, 0)`: the new descriptor. (A mode is not
/// passed, so `flags` should not hold `O_CREAT`.)
#[inline]
pub(crate) fn openat(dirfd: RawFd, path: &CStr, flags: c_int) -> Result<RawFd, Errno> {
    // `dirfd` (AT_FDCWD is -100) is sign-extended as the kernel's `int`
    // reading expects; `flags` are bits, zero-extended.
    // SAFETY: `path` is NUL-terminated and outlives the call; opening a file
    // touches no memory of this process.
    let fd = unsafe {
        syscall4(
            Sysno::openat,
            dirfd as isize as usize,
            path.as_ptr() as usize,
            flags as u32 as usize,
            0,
        )
    }?;
    // A descriptor is a small non-negative `int`.
    Ok(fd as RawFd)
}

/// `read(fd, buf, buf.len())`: the number of bytes read, 0 at the end of
/// the file.
#[inline]
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`. The fd
    // is sign-extended as the kernel's `int`.
    unsafe {
        syscall3(
            Sysno::read,
            fd as isize as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    }
}

/// `close(fd)`.
///
/// # Safety
///
/// The caller owns `fd`, and nothing uses it afterwards.
#[inline]
pub(crate) unsafe fn close(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: the caller owns `fd` and gives it up.
    unsafe { syscall1(Sysno::close, fd as isize as usize) }.map(drop)
}

/// The kernel's `struct statx`: 256 bytes, the same layout on every
/// architecture (Linux 4.11+). Only the fields rawmap reads are decoded.
pub(crate) struct Statx {
    /// u64 words give the buffer the struct's alignment.
    words: [u64; 32],
}

impl Statx {
    /// Byte offset of `stx_mode` (a u16).
    pub(crate) const MODE_OFFSET: usize = 28;
    /// Byte offset of `stx_size` (a u64).
    pub(crate) const SIZE_OFFSET: usize = 40;

    /// `stx_mode`: the file type (`S_IFMT` bits) and permissions.
    #[inline]
    pub(crate) fn mode(&self) -> u16 {
        // Word 3, bytes 4..6.
        let word = self.words[Self::MODE_OFFSET / 8].to_ne_bytes();
        let at = Self::MODE_OFFSET % 8;
        u16::from_ne_bytes([word[at], word[at + 1]])
    }

    /// `stx_size`: the file's size in bytes.
    #[inline]
    pub(crate) fn size(&self) -> u64 {
        self.words[Self::SIZE_OFFSET / 8]
    }
}

/// `statx(dirfd, path, flags, mask, &statx)`.
#[inline]
pub(crate) fn statx(dirfd: RawFd, path: &CStr, flags: c_int, mask: u32) -> Result<Statx, Errno> {
    let mut buf = Statx { words: [0; 32] };
    // `dirfd` is sign-extended as the kernel's `int`; `flags` and `mask` are
    // bits, zero-extended.
    // SAFETY: the kernel writes at most 256 bytes (`size_of::<Statx>()`)
    // into `buf`; `path` is NUL-terminated and outlives the call.
    unsafe {
        syscall5(
            Sysno::statx,
            dirfd as isize as usize,
            path.as_ptr() as usize,
            flags as u32 as usize,
            mask as usize,
            buf.words.as_mut_ptr() as usize,
        )
    }?;
    Ok(buf)
}

static_assertions::assert_eq_size!(Statx, [u8; 256]);

// ---------------------------------------------------------------------------
// What a file's size means: the file system it is on (`fstatfs`) and a block
// device's size (`ioctl(BLKGETSIZE64)`).

/// `fstatfs(fd, &statfs)` (`fstatfs64(fd, 84, &statfs64)` on 32-bit
/// architectures): the magic number of the file system the file is on
/// (`f_type`, e.g. `PROC_SUPER_MAGIC`), the only field rawmap reads.
#[inline]
pub(crate) fn fstatfs_type(fd: RawFd) -> Result<u32, Errno> {
    // `struct statfs` is 120 bytes on the 64-bit architectures, `struct
    // statfs64` 84 on the 32-bit ones (packed to 4-byte alignment on arm);
    // both start with `f_type`, a `long` (64-bit) or a `__u32` (32-bit).
    let mut buf = [0u64; 16];
    // The fd is sign-extended as the kernel's `int`.
    // SAFETY: the kernel writes at most 120 bytes (64-bit) or exactly the 84
    // bytes asked for (32-bit) into `buf`, which holds 128.
    #[cfg(target_pointer_width = "64")]
    unsafe {
        syscalls::syscall2(
            Sysno::fstatfs,
            fd as isize as usize,
            buf.as_mut_ptr() as usize,
        )
    }?;
    // SAFETY: as above.
    #[cfg(target_pointer_width = "32")]
    unsafe {
        syscall3(
            Sysno::fstatfs64,
            fd as isize as usize,
            84,
            buf.as_mut_ptr() as usize,
        )
    }?;
    // f_type is the first field: a native-endian `long` on 64-bit, a `__u32`
    // on 32-bit. File system magics are 32-bit values; a `long` holds one
    // zero-extended (or, on 64-bit, sign-extended for those with the top bit
    // set, such as SELINUX_MAGIC), so its low 32 bits are the magic.
    #[cfg(target_pointer_width = "64")]
    let f_type = buf[0] as u32;
    #[cfg(target_pointer_width = "32")]
    let f_type = {
        let b = buf[0].to_ne_bytes();
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    };
    Ok(f_type)
}

/// `ioctl(fd, BLKGETSIZE64, &size)`: a block device's size in bytes
/// (`ENOTTY` for anything else).
#[inline]
pub(crate) fn blkgetsize64(fd: RawFd) -> Result<u64, Errno> {
    let mut size = 0u64;
    // The fd is sign-extended as the kernel's `int`; the request number is
    // an unsigned `int`, zero-extended.
    // SAFETY: for BLKGETSIZE64 the kernel writes one u64 at the pointer,
    // whatever the size the request number encodes (`size_t`).
    unsafe {
        syscall3(
            Sysno::ioctl,
            fd as isize as usize,
            super::consts::BLKGETSIZE64 as usize,
            &raw mut size as usize,
        )
    }?;
    Ok(size)
}

// Owned descriptors: memory files (`memfd_create`, `memfd_secret`), their
// seals (`fcntl`), creating files (`openat` with a mode), their size
// (`ftruncate`) and positioned I/O (`pread64`, `pwrite64`).

impl Statx {
    /// Byte offset of `stx_attributes` (a u64).
    pub(crate) const ATTRIBUTES_OFFSET: usize = 8;

    /// `stx_attributes`: the `STATX_ATTR_*` bits of the file.
    #[inline]
    pub(crate) fn attributes(&self) -> u64 {
        self.words[Self::ATTRIBUTES_OFFSET / 8]
    }
}

/// `openat(dirfd, path, flags, mode)`: the new descriptor; `mode` is used
/// when `flags` hold `O_CREAT`.
#[inline]
pub(crate) fn openat_mode(
    dirfd: RawFd,
    path: &CStr,
    flags: c_int,
    mode: u32,
) -> Result<RawFd, Errno> {
    // `dirfd` is sign-extended as the kernel's `int` reading expects;
    // `flags` and `mode` are bits, zero-extended.
    // SAFETY: `path` is NUL-terminated and outlives the call; opening a file
    // touches no memory of this process.
    let fd = unsafe {
        syscall4(
            Sysno::openat,
            dirfd as isize as usize,
            path.as_ptr() as usize,
            flags as u32 as usize,
            mode as usize,
        )
    }?;
    // A descriptor is a small non-negative `int`.
    Ok(fd as RawFd)
}

/// A 64-bit argument as the register pair a 32-bit architecture takes it
/// in: (low word, high word). Both halves fit a 32-bit `usize` exactly.
#[cfg(target_pointer_width = "32")]
#[inline(always)]
fn u64_pair(value: u64) -> (usize, usize) {
    (value as u32 as usize, (value >> 32) as u32 as usize)
}

/// `ftruncate(fd, len)`: sets the size of the file (`ftruncate64` on
/// 32-bit architectures, so no length is truncated). A length above
/// `i64::MAX` reaches the kernel as a negative one, which it refuses with
/// `EINVAL`.
#[inline]
pub(crate) fn ftruncate(fd: RawFd, len: u64) -> Result<(), Errno> {
    #[cfg(target_pointer_width = "64")]
    // SAFETY: changing a file's size touches no memory of this process (a
    // mapping past the new end faults, which is the mapping owner's concern).
    let ret = unsafe { syscall2(Sysno::ftruncate, fd as isize as usize, len as usize) };
    #[cfg(target_pointer_width = "32")]
    let ret = {
        let (lo, hi) = u64_pair(len);
        if crate::arch::U64_PAIR_ALIGNED {
            // SAFETY: as above; the pair starts at an even register.
            unsafe { syscall4(Sysno::ftruncate64, fd as isize as usize, 0, lo, hi) }
        } else {
            // SAFETY: as above; the pair follows the descriptor.
            unsafe { syscall3(Sysno::ftruncate64, fd as isize as usize, lo, hi) }
        }
    };
    ret.map(drop)
}

/// `pread64(fd, buf, buf.len(), offset)`: the number of bytes read, 0 at
/// the end of the file.
#[inline]
pub(crate) fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    let (ptr, len) = (buf.as_mut_ptr() as usize, buf.len());
    #[cfg(target_pointer_width = "64")]
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let ret = unsafe {
        syscall4(
            Sysno::pread64,
            fd as isize as usize,
            ptr,
            len,
            offset as usize,
        )
    };
    #[cfg(target_pointer_width = "32")]
    let ret = {
        let (lo, hi) = u64_pair(offset);
        if crate::arch::U64_PAIR_ALIGNED {
            // SAFETY: as above; the pair starts at an even register.
            unsafe { syscall6(Sysno::pread64, fd as isize as usize, ptr, len, 0, lo, hi) }
        } else {
            // SAFETY: as above; the pair follows the length.
            unsafe { syscall5(Sysno::pread64, fd as isize as usize, ptr, len, lo, hi) }
        }
    };
    ret
}

/// `pwrite64(fd, buf, buf.len(), offset)`: the number of bytes written.
#[inline]
pub(crate) fn pwrite(fd: RawFd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
    let (ptr, len) = (buf.as_ptr() as usize, buf.len());
    #[cfg(target_pointer_width = "64")]
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
    let ret = unsafe {
        syscall4(
            Sysno::pwrite64,
            fd as isize as usize,
            ptr,
            len,
            offset as usize,
        )
    };
    #[cfg(target_pointer_width = "32")]
    let ret = {
        let (lo, hi) = u64_pair(offset);
        if crate::arch::U64_PAIR_ALIGNED {
            // SAFETY: as above; the pair starts at an even register.
            unsafe { syscall6(Sysno::pwrite64, fd as isize as usize, ptr, len, 0, lo, hi) }
        } else {
            // SAFETY: as above; the pair follows the length.
            unsafe { syscall5(Sysno::pwrite64, fd as isize as usize, ptr, len, lo, hi) }
        }
    };
    ret
}

/// `fcntl(fd, F_ADD_SEALS, seals)` (Linux 3.17).
#[inline]
pub(crate) fn add_seals(fd: RawFd, seals: u32) -> Result<(), Errno> {
    // `F_ADD_SEALS` is a positive `int`; `seals` are bits, zero-extended.
    // SAFETY: sealing a file touches no memory of this process.
    unsafe {
        syscall3(
            Sysno::fcntl,
            fd as isize as usize,
            F_ADD_SEALS as usize,
            seals as usize,
        )
    }
    .map(drop)
}

/// `fcntl(fd, F_GET_SEALS)` (Linux 3.17): the file's seals; `EINVAL` for a
/// file that cannot be sealed.
#[inline]
pub(crate) fn get_seals(fd: RawFd) -> Result<u32, Errno> {
    // SAFETY: reading a file's seals touches no memory of this process.
    let seals = unsafe { syscall2(Sysno::fcntl, fd as isize as usize, F_GET_SEALS as usize) }?;
    // The seals are the low bits of a non-negative `int`.
    Ok(seals as u32)
}

/// `memfd_create(name, flags)` (Linux 3.17): a new memory file's descriptor.
#[inline]
pub(crate) fn memfd_create(name: &CStr, flags: u32) -> Result<RawFd, Errno> {
    // SAFETY: `name` is NUL-terminated and outlives the call; creating a
    // memory file touches no memory of this process.
    let fd = unsafe { syscall2(Sysno::memfd_create, name.as_ptr() as usize, flags as usize) }?;
    // A descriptor is a small non-negative `int`.
    Ok(fd as RawFd)
}

/// `memfd_secret(flags)` (Linux 5.14): a new secret memory file's
/// descriptor. 32-bit ARM has no such call (its number is reserved), so
/// there the answer is the kernel's for any unknown call, `ENOSYS`.
#[inline]
pub(crate) fn memfd_secret(flags: u32) -> Result<RawFd, Errno> {
    #[cfg(not(target_arch = "arm"))]
    {
        // SAFETY: creating a secret memory file touches no memory of this
        // process.
        let fd = unsafe { syscall1(Sysno::memfd_secret, flags as usize) }?;
        // A descriptor is a small non-negative `int`.
        Ok(fd as RawFd)
    }
    #[cfg(target_arch = "arm")]
    {
        let _ = flags;
        Err(Errno::ENOSYS)
    }
}
