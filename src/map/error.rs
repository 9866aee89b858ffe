//! [`MmapError`]: a failed operation that hands the mapping back, and
//! [`Operation`], which one it was.

use core::fmt;

use syscalls::Errno;

use crate::errno::ErrnoDisplay;

/// An operation that consumes a mapping failed: the error, with the mapping
/// handed back unchanged and still usable.
///
/// It converts into [`Errno`] (and with `std` into `std::io::Error`, with
/// the errno as its `raw_os_error()` and the matching `kind()`), so `?`
/// works when the mapping is not wanted back. Its `Display` names the
/// operation and the errno: `make_mut (mprotect) failed: EACCES: Permission
/// denied`.
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
/// assert_eq!(err.operation(), rawmap::Operation::MakeMut);
/// assert_eq!(err.to_string(), "make_mut (mprotect) failed: EACCES: Permission denied");
/// let map = err.into_mmap();          // still mapped, still readable
/// assert_eq!(&map[..], &[0; 8]);
/// # Ok(()) }
/// ```
pub struct MmapError<M> {
    map: M,
    op: Operation,
    errno: Errno,
}

impl<M> MmapError<M> {
    /// `map` with the error that the operation `op` on it gave.
    #[inline]
    pub(crate) fn new(map: M, op: Operation, errno: Errno) -> Self {
        Self { map, op, errno }
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
    #[inline]
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// The operation that failed.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1).map_anon()?;
    /// if let Err(e) = map.unmap() {
    ///     assert_eq!(e.operation(), rawmap::Operation::Unmap);
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn operation(&self) -> Operation {
        self.op
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
    #[inline]
    pub fn into_mmap(self) -> M {
        self.map
    }
}

impl<M> fmt::Debug for MmapError<M> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmapError")
            .field("operation", &self.op)
            .field("errno", &self.errno)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for MmapError<M> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.op, ErrnoDisplay(self.errno))
    }
}

impl<M> From<MmapError<M>> for Errno {
    #[inline]
    fn from(e: MmapError<M>) -> Errno {
        e.errno
    }
}

#[cfg(feature = "std")]
impl<M> From<MmapError<M>> for std::io::Error {
    #[inline]
    fn from(e: MmapError<M>) -> std::io::Error {
        e.errno.into()
    }
}

#[cfg(feature = "std")]
impl<M> std::error::Error for MmapError<M> {}

/// An operation that consumes a mapping and, when it fails, gives it back in
/// an [`MmapError`]: which method it was, and the system call that refused.
///
/// Its `Display` is the method's name with the system call in brackets,
/// e.g. `make_mut (mprotect)`.
///
/// ```
/// use rawmap::Operation;
/// assert_eq!(Operation::MakeReadOnly.to_string(), "make_read_only (mprotect)");
/// assert_eq!(Operation::Unmap.syscall(), "munmap");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `make_mut`: `mprotect` to `PROT_READ | PROT_WRITE`.
    MakeMut,
    /// `make_read_only`: `mprotect` to `PROT_READ`.
    MakeReadOnly,
    /// `make_exec`: `mprotect` to `PROT_READ | PROT_EXEC`.
    MakeExec,
    /// `unmap`: `munmap` of the whole mapping.
    Unmap,
    /// `remap`: `mremap` to a new length.
    Remap,
    /// `seal`: `mseal` of the whole mapping (Linux 6.10).
    Seal,
}

impl Operation {
    /// The method's name, as in `make_mut`.
    ///
    /// ```
    /// assert_eq!(rawmap::Operation::MakeExec.method(), "make_exec");
    /// ```
    #[inline]
    pub const fn method(self) -> &'static str {
        match self {
            Operation::MakeMut => "make_mut",
            Operation::MakeReadOnly => "make_read_only",
            Operation::MakeExec => "make_exec",
            Operation::Unmap => "unmap",
            Operation::Remap => "remap",
            Operation::Seal => "seal",
        }
    }

    /// The system call the method makes, as in `mprotect`.
    ///
    /// ```
    /// assert_eq!(rawmap::Operation::Remap.syscall(), "mremap");
    /// ```
    #[inline]
    pub const fn syscall(self) -> &'static str {
        match self {
            Operation::MakeMut | Operation::MakeReadOnly | Operation::MakeExec => "mprotect",
            Operation::Unmap => "munmap",
            Operation::Remap => "mremap",
            Operation::Seal => "mseal",
        }
    }
}

impl fmt::Display for Operation {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.method(), self.syscall())
    }
}
