//! [`MmapError`]: a failed operation that hands the mapping back.

use core::fmt;

use syscalls::Errno;

/// An operation that consumes a mapping failed: the error, with the mapping
/// handed back unchanged and still usable.
///
/// It converts into [`Errno`] (and with `std` into `std::io::Error`), so `?`
/// works when the mapping is not wanted back.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let file = tempfile::tempfile()?;   // opened read-write ...
/// file.set_len(8)?;
/// let ro = std::fs::File::open(format!("/proc/self/fd/{}", {
///     use std::os::fd::AsRawFd; file.as_raw_fd() }))?; // ... and read-only
/// // SAFETY: the temporary file is private to this example.
/// let map = unsafe { rawmap::MmapOptions::new().map(&ro)? };
/// // A shared mapping of a read-only descriptor cannot become writable.
/// let err = map.make_mut().unwrap_err();
/// assert_eq!(err.errno(), rawmap::Errno::EACCES);
/// let map = err.into_mmap();          // still mapped, still readable
/// assert_eq!(&map[..], &[0; 8]);
/// # Ok(()) }
/// ```
pub struct MmapError<M> {
    map: M,
    errno: Errno,
}

impl<M> MmapError<M> {
    /// `map` with the error that the operation on it gave.
    #[inline]
    pub(crate) fn new(map: M, errno: Errno) -> Self {
        Self { map, errno }
    }
}

impl<M> MmapError<M> {
    /// The kernel's error.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::NamedTempFile::new()?;
    /// file.as_file().set_len(1)?;
    /// let read_only = std::fs::File::open(file.path())?;
    /// // SAFETY: the temporary file is private to this example.
    /// let map = unsafe { rawmap::MmapOptions::new().map(&read_only)? };
    /// let err = map.make_mut().unwrap_err();
    /// assert_eq!(err.errno(), rawmap::Errno::EACCES);
    /// # Ok(()) }
    /// ```
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// The mapping, as it was before the failed operation.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1).map_anon()?;
    /// if let Err(e) = map.unmap() {
    ///     let _still_mine = e.into_mmap();
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn into_mmap(self) -> M {
        self.map
    }
}

impl<M> fmt::Debug for MmapError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmapError")
            .field("errno", &self.errno)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for MmapError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mapping operation failed: {}", self.errno)
    }
}

impl<M> From<MmapError<M>> for Errno {
    fn from(e: MmapError<M>) -> Errno {
        e.errno
    }
}

#[cfg(feature = "std")]
impl<M> From<MmapError<M>> for std::io::Error {
    fn from(e: MmapError<M>) -> std::io::Error {
        e.errno.into()
    }
}

#[cfg(feature = "std")]
impl<M> std::error::Error for MmapError<M> {}
