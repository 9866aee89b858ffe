//! The `std` feature: mapping sources from `std`'s descriptors, and opening
//! files by path.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::map::{MapFd, Mmap, MmapMut, MmapOptions};
use crate::sys::RawFd;
use crate::sys::consts::O_NONBLOCK;

impl<T: AsFd + ?Sized> MapFd for &T {
    #[inline]
    fn map_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl MapFd for BorrowedFd<'_> {
    #[inline]
    fn map_fd(&self) -> RawFd {
        self.as_raw_fd()
    }
}

impl Mmap {
    /// Opens the file at `path` read-only and maps all of it (`PROT_READ`,
    /// `MAP_SHARED`). The file is closed again; the mapping stays.
    ///
    /// # Safety
    ///
    /// As for [`MmapOptions::map`]: nobody may change or truncate the file
    /// while the mapping lives (touching a page past a new end of file
    /// raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// Opening's errors (`NotFound`, `PermissionDenied`, ...), and mapping's
    /// as an `io::Error` whose `raw_os_error()` is the errno (`EISDIR`, kind
    /// `IsADirectory`, for a directory; `ENODEV` for a FIFO or a socket,
    /// which are opened without waiting for a writer).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::NamedTempFile::new()?;
    /// std::fs::write(file.path(), b"on disk")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let map = unsafe { rawmap::Mmap::open(file.path())? };
    /// assert_eq!(&map[..], b"on disk");
    /// # Ok(()) }
    /// ```
    pub unsafe fn open(path: impl AsRef<Path>) -> io::Result<Mmap> {
        let file = OpenOptions::new()
            .read(true)
            // Opening a FIFO by path must not wait for a writer; for
            // regular files this changes nothing.
            .custom_flags(O_NONBLOCK)
            .open(path)?;
        // SAFETY: the caller promises what `map` requires.
        Ok(unsafe { MmapOptions::new().map(&file) }?)
    }
}

impl MmapMut {
    /// Opens the file at `path` for reading and writing and maps all of it
    /// (`PROT_READ | PROT_WRITE`, `MAP_SHARED`): writes reach the file.
    ///
    /// # Safety
    ///
    /// As for [`MmapOptions::map_mut`]: nobody else may change or truncate
    /// the file while the mapping lives (touching a page past a new end of
    /// file raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// Opening's errors (`NotFound`, `PermissionDenied` for a read-only file,
    /// `IsADirectory`, ...), and mapping's as an `io::Error` whose
    /// `raw_os_error()` is the errno.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::NamedTempFile::new()?;
    /// std::fs::write(file.path(), b"old")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let mut map = unsafe { rawmap::MmapMut::open(file.path())? };
    /// map.copy_from_slice(b"new");
    /// map.flush()?;
    /// assert_eq!(std::fs::read(file.path())?, b"new");
    /// # Ok(()) }
    /// ```
    pub unsafe fn open(path: impl AsRef<Path>) -> io::Result<MmapMut> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            // Opening a FIFO by path must not wait for a writer; for
            // regular files this changes nothing.
            .custom_flags(O_NONBLOCK)
            .open(path)?;
        // SAFETY: the caller promises what `map_mut` requires.
        Ok(unsafe { MmapOptions::new().map_mut(&file) }?)
    }

    /// Creates the file at `path` (or truncates an existing one), sets its
    /// length to `len` zero bytes, and maps it read-write and shared.
    ///
    /// # Safety
    ///
    /// As for [`MmapOptions::map_mut`]: nobody else may change or truncate
    /// the file while the mapping lives (touching a page past a new end of
    /// file raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// Creating's errors (`NotFound` for a missing directory,
    /// `PermissionDenied`, ...), `set_len`'s (`EFBIG`, `ENOSPC`), `ENOMEM`
    /// if `len` does not fit a `usize`, and mapping's errors.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("new.bin");
    /// // SAFETY: the file is private to this example.
    /// let map = unsafe { rawmap::MmapMut::create(&path, 3)? };
    /// assert_eq!(&map[..], &[0, 0, 0]);
    /// assert_eq!(std::fs::metadata(&path)?.len(), 3);
    /// # Ok(()) }
    /// ```
    pub unsafe fn create(path: impl AsRef<Path>, len: u64) -> io::Result<MmapMut> {
        let map_len = usize::try_from(len).map_err(|_| io::Error::from(syscalls::Errno::ENOMEM))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.set_len(len)?;
        // SAFETY: the caller promises what `map_mut` requires.
        Ok(unsafe { MmapOptions::new().len(map_len).map_mut(&file) }?)
    }
}
