//! The `std` feature: mapping sources from `std`'s descriptors, and opening
//! files by path.

use std::format;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use syscalls::Errno;

use crate::map::{MapFailure, MapFd, Mmap, MmapMut, MmapOptions, SizeUnknown};
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
    /// A file whose size is no length (a character device of size 0 such as
    /// `/dev/zero`, a file of `/proc` or `/sys`) is an error of kind
    /// `InvalidInput` whose message says that a length is needed (map it
    /// with [`MmapOptions::len`]); it has no `raw_os_error()`, as it is
    /// rawmap's answer, not the kernel's. A block device is mapped whole
    /// (its size is `ioctl(BLKGETSIZE64)`'s); an empty regular file gives an
    /// empty mapping.
    ///
    /// ```
    /// // SAFETY: nothing gets mapped.
    /// let err = unsafe { rawmap::Mmap::open("/proc/self/status") }.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("needs a length"));
    /// ```
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
    #[inline]
    pub unsafe fn open(path: impl AsRef<Path>) -> io::Result<Mmap> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            // Opening a FIFO by path must not wait for a writer; for
            // regular files this changes nothing.
            .custom_flags(O_NONBLOCK)
            .open(path)?;
        // SAFETY: the caller promises what `map` requires.
        unsafe { MmapOptions::new().map_or_why(file.as_raw_fd()) }
            .map_err(|why| map_error("Mmap::open", path, why))
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
    /// `raw_os_error()` is the errno; for a file whose size is no length
    /// (`/dev/zero`, a file of `/proc` or `/sys`), an `InvalidInput` error
    /// that says a length is needed, as for [`Mmap::open`].
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
    #[inline]
    pub unsafe fn open(path: impl AsRef<Path>) -> io::Result<MmapMut> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            // Opening a FIFO by path must not wait for a writer; for
            // regular files this changes nothing.
            .custom_flags(O_NONBLOCK)
            .open(path)?;
        // SAFETY: the caller promises what `map_mut` requires.
        unsafe { MmapOptions::new().map_mut_or_why(file.as_raw_fd()) }
            .map_err(|why| map_error("MmapMut::open", path, why))
    }

    /// Creates the file at `path` (or truncates an existing one), sets its
    /// length to `len` zero bytes, and maps it read-write and shared.
    ///
    /// Nothing on disk changes until everything that can be checked has
    /// been: `len` first (it must fit a mapping), then the file (opened
    /// without `O_TRUNC`; it must be a regular file). An existing file's
    /// bytes are discarded only once the mapping is made: a file that must
    /// grow is grown first (the kernel refuses a length beyond the file
    /// system's limit, `EFBIG`, before it changes anything), then mapped,
    /// and only then emptied and set to `len` again; if the mapping or the
    /// emptying fails, the file gets its old length back and keeps its
    /// bytes. A file this call creates stays there (empty) when a later
    /// step fails.
    ///
    /// # Safety
    ///
    /// As for [`MmapOptions::map_mut`]: nobody else may change or truncate
    /// the file while the mapping lives (touching a page past a new end of
    /// file raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// - `ENOMEM` (kind `OutOfMemory`) if `len` is more than `isize::MAX`
    ///   (no mapping can be that long), before the file is even opened;
    /// - opening's errors (`NotFound` for a missing directory,
    ///   `PermissionDenied`, `IsADirectory`, ...);
    /// - `EINVAL` (kind `InvalidInput`) if `path` is not a regular file (a
    ///   device, a FIFO, a socket), whose length cannot be set;
    /// - growing's errors (`EFBIG` for a length beyond the file system's
    ///   limit, `ENOSPC`), and mapping's (`ENOMEM` for a length beyond the
    ///   address space): the file is then as it was;
    /// - emptying's errors (`EPERM` for a file sealed against shrinking,
    ///   such as a memfd with `F_SEAL_SHRINK` reached through
    ///   `/proc/self/fd`), with the file's bytes as they were. (If such a
    ///   file had to grow to `len`, it stays at `len`, with zeros after its
    ///   bytes: the seal refuses its old length too.)
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("new.bin");
    /// // SAFETY: the file is private to this example.
    /// let map = unsafe { rawmap::MmapMut::create(&path, 3)? };
    /// assert_eq!(&map[..], &[0, 0, 0]);
    /// assert_eq!(std::fs::metadata(&path)?.len(), 3);
    ///
    /// // A length no mapping can have changes nothing.
    /// std::fs::write(&path, b"precious")?;
    /// // SAFETY: as above.
    /// let err = unsafe { rawmap::MmapMut::create(&path, u64::MAX) }.unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(rawmap::Errno::ENOMEM.into_raw()));
    /// assert_eq!(std::fs::read(&path)?, b"precious");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn create(path: impl AsRef<Path>, len: u64) -> io::Result<MmapMut> {
        // A mapping holds at most isize::MAX bytes (and a file offset is an
        // i64): anything longer cannot be mapped, so nothing is touched.
        let map_len = match usize::try_from(len) {
            Ok(n) if n <= isize::MAX as usize => n,
            _ => return Err(Errno::ENOMEM.into()),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            // Opening a FIFO by path must not wait; for regular files this
            // changes nothing.
            .custom_flags(O_NONBLOCK)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(Errno::EINVAL.into());
        }
        let old_len = meta.len();
        // Growing keeps every byte, and fails (EFBIG, ENOSPC) without a change.
        if len > old_len {
            file.set_len(len)?;
        }
        // SAFETY: the caller promises what `map_mut` requires; the file is
        // at least `len` bytes long.
        let map = match unsafe { MmapOptions::new().len(map_len).map_mut(&file) } {
            Ok(map) => map,
            Err(errno) => {
                if len > old_len {
                    // Back to the old length: the bytes are still there.
                    let _ = file.set_len(old_len);
                }
                return Err(errno.into());
            }
        };
        // Now the old bytes go: truncated to nothing and grown again, the
        // file reads as `len` zero bytes, and so does the mapping (whose
        // pages the kernel drops with the truncation). Nothing reads the
        // mapping meanwhile: `map` is not handed out yet.
        if old_len > 0 {
            if let Err(e) = file.set_len(0) {
                // Refused (EPERM for a seal against shrinking): nothing was
                // discarded.
                drop(map);
                if len > old_len {
                    let _ = file.set_len(old_len);
                }
                return Err(e);
            }
            // The file held `max(len, old_len)` bytes a moment ago, so this
            // rarely fails; if it does, the mapping would reach past the end
            // of the file and must go.
            file.set_len(len)?;
        }
        Ok(map)
    }
}

/// The `io::Error` of a mapping that `operation` (e.g. `Mmap::open`) of
/// `path` could not make: the errno as `raw_os_error()` (with its
/// `kind()`), or for a file whose size is no length an `InvalidInput` error
/// that says so.
#[inline]
fn map_error(operation: &str, path: &Path, why: MapFailure) -> io::Error {
    match why {
        MapFailure::Errno(errno) => errno.into(),
        MapFailure::LengthNeeded(what) => {
            let what = match what {
                SizeUnknown::CharDevice => "a character device of size 0",
                SizeUnknown::PseudoFile => {
                    "a file of /proc, /sys or a similar file system, whose sizes are 0"
                }
            };
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{operation}({path:?}) failed: the mapping needs a length: the file is \
                     {what}; map it with MmapOptions::len"
                ),
            )
        }
    }
}
