//! The file system calls rawmap makes itself: `openat`, `read` and `close`
//! (for `/proc` files, without `std`) and `statx` (a file's type and size).

use core::ffi::{CStr, c_int};

use syscalls::{Errno, Sysno, syscall1, syscall3, syscall4, syscall5};

use super::RawFd;

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
