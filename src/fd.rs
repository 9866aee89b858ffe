//! Owned file descriptors without `std`: [`File`], a file opened by path,
//! and the core it shares with [`Memfd`](crate::Memfd): one descriptor,
//! closed on drop, with the size and positioned I/O calls.
//!
//! [`IoSafeFd`] marks the mapping sources that keep their descriptor open
//! while they are borrowed, which the safe
//! [`map_if_safe`](crate::MmapOptions::map_if_safe) needs.

use core::ffi::CStr;

use syscalls::Errno;

use crate::map::MapFd;
use crate::sys::RawFd;
use crate::sys::consts::{
    AT_EMPTY_PATH, AT_FDCWD, O_CLOEXEC, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, STATX_SIZE,
};
use crate::sys::fd;

/// One open descriptor, owned: closed exactly once, on drop. The core of
/// [`File`] and [`Memfd`](crate::Memfd).
pub(crate) struct OwnedRawFd(RawFd);

impl OwnedRawFd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// `fd` is an open descriptor that nothing else closes or uses as its
    /// own.
    #[inline]
    pub(crate) unsafe fn from_raw(fd: RawFd) -> Self {
        Self(fd)
    }

    /// The descriptor, still owned by `self`.
    #[inline]
    pub(crate) fn raw(&self) -> RawFd {
        self.0
    }

    /// The descriptor, no longer owned: the caller closes it.
    #[inline]
    pub(crate) fn into_raw(self) -> RawFd {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }

    /// `ftruncate`.
    #[inline]
    pub(crate) fn set_len(&self, len: u64) -> Result<(), Errno> {
        fd::ftruncate(self.0, len)
    }

    /// `statx(fd, "", AT_EMPTY_PATH, STATX_SIZE)`'s `stx_size`.
    #[inline]
    pub(crate) fn len(&self) -> Result<u64, Errno> {
        fd::statx(self.0, c"", AT_EMPTY_PATH, STATX_SIZE).map(|stx| stx.size())
    }

    /// `pread64`.
    #[inline]
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        fd::pread(self.0, buf, offset)
    }

    /// `pwrite64`.
    #[inline]
    pub(crate) fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        fd::pwrite(self.0, buf, offset)
    }

    /// `pwrite64` until all of `buf` is written, retrying after `EINTR`; a
    /// write of 0 bytes is `EIO`.
    #[inline]
    pub(crate) fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> Result<(), Errno> {
        while !buf.is_empty() {
            match fd::pwrite(self.0, buf, offset) {
                Ok(0) => return Err(Errno::EIO),
                Ok(n) => {
                    buf = buf.get(n..).ok_or(Errno::EIO)?;
                    // The kernel took `offset` (at most i64::MAX) and `n` bytes
                    // (at most isize::MAX): the sum fits a u64.
                    offset = offset.wrapping_add(n as u64);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `pread64` until `buf` is full, retrying after `EINTR`; the end of the
    /// file first is `EIO`.
    #[inline]
    pub(crate) fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> Result<(), Errno> {
        while !buf.is_empty() {
            match fd::pread(self.0, buf, offset) {
                Ok(0) => return Err(Errno::EIO),
                Ok(n) => {
                    buf = buf.get_mut(n..).ok_or(Errno::EIO)?;
                    // The kernel took `offset` (at most i64::MAX) and `n` bytes
                    // (at most isize::MAX): the sum fits a u64.
                    offset = offset.wrapping_add(n as u64);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for OwnedRawFd {
    #[inline]
    fn drop(&mut self) {
        // An error of close (EINTR, EIO) cannot be reported from drop; the
        // descriptor is released either way on Linux.
        // SAFETY: `self` owns the descriptor and nothing uses it afterwards.
        let _ = unsafe { fd::close(self.0) };
    }
}

impl core::fmt::Debug for OwnedRawFd {
    #[inline]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("fd").field(&self.0).finish()
    }
}

/// A mapping source whose descriptor stays open, naming the same open file,
/// for as long as the value lives: a borrow of an owner (`&File`,
/// `&Memfd`, and with `std` `&T` for any `T: AsFd` and `BorrowedFd`), never
/// a bare [`RawFd`], which another thread may close and reuse meanwhile.
///
/// [`MmapOptions::map_if_safe`](crate::MmapOptions::map_if_safe) checks a
/// file and then maps it; that is only sound if the descriptor still names
/// the file it checked.
///
/// # Safety
///
/// An implementation promises that [`map_fd`](MapFd::map_fd) returns a
/// descriptor that is open, and names the same open file, for as long as
/// `self` exists.
///
/// ```
/// use rawmap::{IoSafeFd, Memfd, MemfdFlags};
/// fn takes_a_safe_fd(_: impl IoSafeFd) {}
/// let memfd = Memfd::create(c"x", MemfdFlags::CLOEXEC)?;
/// takes_a_safe_fd(&memfd);
/// # Ok::<(), rawmap::Errno>(())
/// ```
pub unsafe trait IoSafeFd: MapFd {}

/// A file opened by path without `std`: owns its descriptor and closes it
/// on drop (`openat`, `close`), with the size (`ftruncate`, `statx`) and
/// positioned I/O (`pread64`, `pwrite64`) calls. It is a [`MapFd`], so
/// [`MmapOptions`](crate::MmapOptions) maps it.
///
/// Every descriptor it opens is close-on-exec (`O_CLOEXEC`), and large-file
/// capable on 32-bit architectures (`O_LARGEFILE`). With the `std` feature
/// it converts to and from [`OwnedFd`](std::os::fd::OwnedFd) and is
/// [`AsFd`](std::os::fd::AsFd).
///
/// ```
/// # fn main() -> Result<(), rawmap::Errno> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
/// use rawmap::{File, MmapOptions};
/// let file = File::create(&path)?;           // openat(O_RDWR | O_CREAT | O_TRUNC)
/// file.write_all_at(b"hello", 0)?;            // pwrite64
/// assert_eq!(file.len()?, 5);                 // statx
/// // SAFETY: nobody else changes or truncates the file while it is mapped.
/// let map = unsafe { MmapOptions::new().map(&file)? };
/// assert_eq!(&map[..], b"hello");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct File {
    fd: OwnedRawFd,
}

impl File {
    /// Opens the file at `path` for reading only (`openat(AT_FDCWD, path,
    /// O_RDONLY | O_CLOEXEC)`). A relative path is relative to the current
    /// directory.
    ///
    /// # Errors
    ///
    /// The kernel's: `ENOENT`, `EACCES`, `ENOTDIR`, `ELOOP`, ... See
    /// [openat(2)](https://man7.org/linux/man-pages/man2/openat.2.html).
    ///
    /// ```
    /// let file = rawmap::File::open(c"/proc/self/status")?;
    /// let mut head = [0u8; 5];
    /// file.read_exact_at(&mut head, 0)?;
    /// assert_eq!(&head, b"Name:");
    /// assert_eq!(rawmap::File::open(c"/no/such/file").unwrap_err(), rawmap::Errno::ENOENT);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "openat")]
    #[inline]
    pub fn open(path: &CStr) -> Result<File, Errno> {
        Self::open_flags(path, O_RDONLY, 0)
    }

    /// Opens the existing file at `path` for reading and writing
    /// (`openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC)`).
    ///
    /// # Errors
    ///
    /// As for [`open`](Self::open), and `EISDIR` for a directory.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// rawmap::File::create(&path)?.write_all_at(b"abc", 0)?;
    /// let file = rawmap::File::open_rw(&path)?;
    /// file.write_all_at(b"X", 1)?;
    /// let mut back = [0u8; 3];
    /// file.read_exact_at(&mut back, 0)?;
    /// assert_eq!(&back, b"aXc");
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "openat")]
    #[inline]
    pub fn open_rw(path: &CStr) -> Result<File, Errno> {
        Self::open_flags(path, O_RDWR, 0)
    }

    /// Creates the file at `path`, or truncates an existing one to length
    /// 0, and opens it for reading and writing (`openat(AT_FDCWD, path,
    /// O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)`; the process's umask
    /// takes bits away from the mode, as for `std::fs::File::create`).
    ///
    /// # Errors
    ///
    /// As for [`open`](Self::open), and `EISDIR` for a directory, `EROFS`
    /// on a read-only file system.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// let file = rawmap::File::create(&path)?;
    /// file.set_len(10)?;
    /// drop(file);
    /// assert_eq!(rawmap::File::create(&path)?.len()?, 0); // truncated again
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "openat")]
    #[doc(alias = "creat")]
    #[inline]
    pub fn create(path: &CStr) -> Result<File, Errno> {
        Self::open_flags(path, O_RDWR | O_CREAT | O_TRUNC, 0o666)
    }

    #[inline]
    fn open_flags(path: &CStr, access: core::ffi::c_int, mode: u32) -> Result<File, Errno> {
        let flags = access | O_CLOEXEC | crate::arch::O_LARGEFILE;
        let raw = fd::openat_mode(AT_FDCWD, path, flags, mode)?;
        // SAFETY: the kernel just opened `raw` for this process; nothing
        // else knows it.
        let fd = unsafe { OwnedRawFd::from_raw(raw) };
        Ok(File { fd })
    }

    /// Sets the size of the file to `len` bytes (`ftruncate`): it grows with
    /// zeros or is cut.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a file not open for writing, or a length above
    /// `i64::MAX`; `EFBIG` above the file system's limit; `EPERM` for a
    /// sealed memory file. See
    /// [ftruncate(2)](https://man7.org/linux/man-pages/man2/ftruncate.2.html).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// let file = rawmap::File::create(&path)?;
    /// file.set_len(4096)?;
    /// assert_eq!(file.len()?, 4096);
    /// assert_eq!(file.set_len(u64::MAX), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "ftruncate")]
    #[inline]
    pub fn set_len(&self, len: u64) -> Result<(), Errno> {
        self.fd.set_len(len)
    }

    /// The size of the file in bytes (`statx`'s `stx_size`, Linux 4.11+).
    ///
    /// # Errors
    ///
    /// The kernel's errors of `statx` (`ENOSYS` before Linux 4.11). See
    /// [statx(2)](https://man7.org/linux/man-pages/man2/statx.2.html).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// let file = rawmap::File::create(&path)?;
    /// assert_eq!(file.len()?, 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "statx")]
    #[allow(clippy::len_without_is_empty)] // the size can change; a cached "is empty" would mislead
    #[inline]
    pub fn len(&self) -> Result<u64, Errno> {
        self.fd.len()
    }

    /// Reads into `buf` from byte `offset` of the file (`pread64`): the
    /// number of bytes read, 0 at or past the end of the file. The file
    /// position does not move.
    ///
    /// # Errors
    ///
    /// `EBADF` for a file not open for reading, `EISDIR`, `EINVAL` for an
    /// offset above `i64::MAX`. See
    /// [pread(2)](https://man7.org/linux/man-pages/man2/pread.2.html).
    ///
    /// ```
    /// let file = rawmap::File::open(c"/proc/self/status")?;
    /// let mut buf = [0u8; 4];
    /// assert_eq!(file.read_at(&mut buf, 0)?, 4);
    /// assert_eq!(&buf, b"Name");
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "pread")]
    #[doc(alias = "pread64")]
    #[inline]
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        self.fd.read_at(buf, offset)
    }

    /// Writes `buf` at byte `offset` of the file (`pwrite64`): the number of
    /// bytes written, which may be fewer than `buf.len()`. The file position
    /// does not move.
    ///
    /// # Errors
    ///
    /// `EBADF` for a file not open for writing, `EINVAL` for an offset above
    /// `i64::MAX`, `ENOSPC`, `EFBIG`. See
    /// [pwrite(2)](https://man7.org/linux/man-pages/man2/pwrite.2.html).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// let file = rawmap::File::create(&path)?;
    /// assert_eq!(file.write_at(b"abc", 2)?, 3);
    /// assert_eq!(file.len()?, 5); // a hole of two zero bytes before it
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "pwrite")]
    #[doc(alias = "pwrite64")]
    #[inline]
    pub fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        self.fd.write_at(buf, offset)
    }

    /// Writes all of `buf` at byte `offset` (`pwrite64` until done, retried
    /// after `EINTR`).
    ///
    /// # Errors
    ///
    /// As for [`write_at`](Self::write_at); a write that makes no progress
    /// is `EIO`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = std::ffi::CString::new(dir.path().join("f").into_os_string().into_encoded_bytes()).unwrap();
    /// let file = rawmap::File::create(&path)?;
    /// file.write_all_at(&[7; 10_000], 0)?;
    /// assert_eq!(file.len()?, 10_000);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn write_all_at(&self, buf: &[u8], offset: u64) -> Result<(), Errno> {
        self.fd.write_all_at(buf, offset)
    }

    /// Fills all of `buf` from byte `offset` (`pread64` until done, retried
    /// after `EINTR`).
    ///
    /// # Errors
    ///
    /// As for [`read_at`](Self::read_at); reaching the end of the file
    /// before `buf` is full is `EIO`.
    ///
    /// ```
    /// let file = rawmap::File::open(c"/proc/self/status")?;
    /// let mut head = [0u8; 5];
    /// file.read_exact_at(&mut head, 0)?;
    /// assert_eq!(&head, b"Name:");
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Errno> {
        self.fd.read_exact_at(buf, offset)
    }

    /// The descriptor, still owned by the `File`.
    ///
    /// ```
    /// let file = rawmap::File::open(c"/")?;
    /// assert!(file.as_raw_fd() >= 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }

    /// Gives up ownership: the descriptor stays open, and the caller closes
    /// it.
    ///
    /// ```
    /// let fd = rawmap::File::open(c"/")?.into_raw_fd();
    /// // SAFETY: `fd` was just handed over and is owned by nothing else.
    /// let file = unsafe { rawmap::File::from_raw_fd(fd) };
    /// assert_eq!(file.as_raw_fd(), fd);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw()
    }

    /// Takes ownership of an open descriptor: the `File` closes it on drop.
    ///
    /// # Safety
    ///
    /// `fd` is open, and nothing else owns it: nothing else closes it or
    /// uses it after the `File` is dropped.
    ///
    /// ```
    /// let fd = rawmap::File::open(c"/")?.into_raw_fd();
    /// // SAFETY: `fd` was just handed over and is owned by nothing else.
    /// let file = unsafe { rawmap::File::from_raw_fd(fd) };
    /// drop(file); // closes it
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw_fd(fd: RawFd) -> File {
        File {
            // SAFETY: the caller hands over ownership of the open `fd`.
            fd: unsafe { OwnedRawFd::from_raw(fd) },
        }
    }
}

// Without `std`, borrowed owners are mapping sources here; with `std` the
// blanket `&T: AsFd` impls of src/fs.rs cover them.
#[cfg(not(feature = "std"))]
impl MapFd for &File {
    #[inline]
    fn map_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

// SAFETY: the `File` is borrowed for as long as `&File` lives, so its
// descriptor stays open and names the same file.
#[cfg(not(feature = "std"))]
unsafe impl IoSafeFd for &File {}

#[cfg(feature = "std")]
mod std_impls {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

    use super::{File, IoSafeFd, OwnedRawFd};

    // SAFETY: a borrow of `T: AsFd` keeps its `BorrowedFd` valid (I/O
    // safety), so the descriptor stays open and names the same file.
    unsafe impl<T: AsFd + ?Sized> IoSafeFd for &T {}
    // SAFETY: a `BorrowedFd<'_>` is open for its whole lifetime.
    unsafe impl IoSafeFd for BorrowedFd<'_> {}

    impl AsFd for File {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            // SAFETY: the `File` owns the open descriptor for at least as
            // long as the borrow.
            unsafe { BorrowedFd::borrow_raw(self.fd.raw()) }
        }
    }

    impl AsRawFd for File {
        #[inline]
        fn as_raw_fd(&self) -> i32 {
            self.fd.raw()
        }
    }

    impl From<File> for OwnedFd {
        #[inline]
        fn from(file: File) -> OwnedFd {
            // SAFETY: the `File` hands over its open descriptor.
            unsafe { OwnedFd::from_raw_fd(file.fd.into_raw()) }
        }
    }

    impl From<OwnedFd> for File {
        #[inline]
        fn from(fd: OwnedFd) -> File {
            File {
                // SAFETY: the `OwnedFd` hands over its open descriptor.
                fd: unsafe { OwnedRawFd::from_raw(fd.into_raw_fd()) },
            }
        }
    }
}
