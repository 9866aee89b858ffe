//! Memory files and the safe mapping of files that cannot change:
//! [`memfd_create`] and [`memfd_secret`] (raw), [`Memfd`] (an owned memory
//! file with seals), [`MmapOptions::map_if_safe`] and
//! [`MmapOptions::map_secret`].
//!
//! # When a file mapping is safe
//!
//! A shared `&[u8]` into a file mapping is sound only while nobody changes
//! the mapped bytes and nobody truncates the file below them (see
//! [Safety of file mappings](crate#safety-of-file-mappings)). The kernel
//! can promise both for two kinds of file:
//!
//! - a memory file sealed with [`Seals::SHRINK`] and [`Seals::WRITE`]:
//!   seals can never be removed, `F_SEAL_WRITE` cannot even be added while
//!   a writable shared mapping exists (`EBUSY`), and afterwards no `write`,
//!   `fallocate` hole or new writable mapping can change a byte;
//! - a file with fs-verity enabled (`STATX_ATTR_VERITY`): it can no longer
//!   be opened for writing or truncated.
//!
//! [`Seals::FUTURE_WRITE`] is *not* enough: it forbids new writes and new
//! writable mappings, but a writable shared mapping made before the seal
//! (in this process or another that had the descriptor) still changes the
//! contents. A file sealed that way is refused.

use core::ffi::CStr;
use core::fmt;

use syscalls::Errno;

use crate::fd::{IoSafeFd, OwnedRawFd};
use crate::flags::{MemfdFlags, Seals};
#[cfg(not(feature = "std"))]
use crate::map::MapFd;
use crate::map::{Mmap, MmapMut, MmapOptions};
use crate::sys::RawFd;
use crate::sys::consts::{
    AT_EMPTY_PATH, S_IFMT, S_IFREG, STATX_ATTR_VERITY, STATX_SIZE, STATX_TYPE,
};
use crate::sys::fd;

/// `memfd_create(name, flags)` (since Linux 3.17): creates an anonymous
/// memory file and returns its descriptor, which the caller owns (see
/// [`Memfd`] for an owner that closes it).
///
/// `name` shows in `/proc/self/fd/` as `/memfd:name` (at most 249 bytes).
///
/// # Errors
///
/// The kernel's: `EINVAL` for unknown flags or a name too long, `EMFILE`,
/// `ENOMEM`; `EINVAL` for [`MemfdFlags::HUGETLB`] where hugetlbfs is
/// missing. See [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html).
///
/// ```
/// use rawmap::{memfd_create, MemfdFlags};
/// let fd = memfd_create(c"example", MemfdFlags::CLOEXEC)?;
/// assert!(fd >= 0);
/// // SAFETY: `fd` was just created and is owned by nothing else.
/// let _owner = unsafe { rawmap::Memfd::from_raw_fd(fd) }; // closes it
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[inline]
pub fn memfd_create(name: &CStr, flags: MemfdFlags) -> Result<RawFd, Errno> {
    fd::memfd_create(name, flags.bits())
}

/// `memfd_secret(flags)` (since Linux 5.14): creates a file of secret
/// memory and returns its descriptor, which the caller owns. Its pages,
/// once mapped (with `MAP_SHARED`, after `ftruncate`), are removed from the
/// kernel's direct map, so neither the kernel nor other processes (nor
/// `/proc/<pid>/mem`) can read them, and they are never dumped or swapped.
/// [`MmapOptions::map_secret`] does all of that safely.
///
/// `flags` may hold `O_CLOEXEC` (`0o2000000`).
///
/// # Errors
///
/// `ENOSYS` where the kernel lacks it: before 5.14, built without
/// `CONFIG_SECRETMEM`, with secret memory switched off on the kernel
/// command line (`secretmem.enable=0`; before Linux 6.5 it is off unless
/// booted with `secretmem.enable=1`), on 32-bit ARM (no such call), and
/// under QEMU's user mode; `EINVAL` for unknown flags. See
/// [memfd_secret(2)](https://man7.org/linux/man-pages/man2/memfd_secret.2.html).
///
/// ```
/// match rawmap::memfd_secret(0o2000000) {
///     // SAFETY: `fd` was just created and is owned by nothing else.
///     Ok(fd) => drop(unsafe { rawmap::File::from_raw_fd(fd) }),
///     Err(e) => assert_eq!(e, rawmap::Errno::ENOSYS),
/// }
/// ```
#[inline]
pub fn memfd_secret(flags: u32) -> Result<RawFd, Errno> {
    fd::memfd_secret(flags)
}

/// An anonymous memory file (`memfd_create`): owns its descriptor and
/// closes it on drop, with its size, positioned I/O and seals. It is a
/// [`MapFd`](crate::MapFd), and when sealed against writes and shrinking,
/// [`MmapOptions::map_if_safe`] maps it without `unsafe`.
///
/// It can be handed to another process by `fork` (the child inherits the
/// descriptor; do not set [`MemfdFlags::CLOEXEC`] for one that must survive
/// `execve`) or over a Unix socket. With the `std` feature it is `AsFd` and
/// converts to and from [`OwnedFd`](std::os::fd::OwnedFd).
///
/// ```
/// use rawmap::{Memfd, MemfdFlags, MmapOptions, Seals};
/// let memfd = Memfd::create(c"table", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
/// memfd.write_all_at(b"read-only from now on", 0)?;
/// memfd.add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)?;
/// let map = MmapOptions::new().map_if_safe(&memfd)?;   // no `unsafe`
/// assert_eq!(&map[..], b"read-only from now on");
/// assert_eq!(memfd.write_at(b"X", 0), Err(rawmap::Errno::EPERM));
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[derive(Debug)]
pub struct Memfd {
    fd: OwnedRawFd,
}

impl Memfd {
    /// Creates a memory file of size 0 (`memfd_create`); see
    /// [`memfd_create`] for `name` and the errors. Seals need
    /// [`MemfdFlags::ALLOW_SEALING`].
    ///
    /// ```
    /// use rawmap::{Memfd, MemfdFlags};
    /// let memfd = Memfd::create(c"scratch", MemfdFlags::CLOEXEC)?;
    /// assert_eq!(memfd.len()?, 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "memfd_create")]
    #[inline]
    pub fn create(name: &CStr, flags: MemfdFlags) -> Result<Memfd, Errno> {
        let raw = fd::memfd_create(name, flags.bits())?;
        // SAFETY: the kernel just created `raw` for this process; nothing
        // else knows it.
        let fd = unsafe { OwnedRawFd::from_raw(raw) };
        Ok(Memfd { fd })
    }

    /// Sets the size of the file (`ftruncate`): it grows with zeros or is
    /// cut.
    ///
    /// # Errors
    ///
    /// `EPERM` if a seal forbids it ([`Seals::GROW`], [`Seals::SHRINK`]);
    /// `EINVAL` for a length above `i64::MAX`; `EFBIG`. See
    /// [ftruncate(2)](https://man7.org/linux/man-pages/man2/ftruncate.2.html).
    ///
    /// ```
    /// use rawmap::{Memfd, MemfdFlags, Seals};
    /// let memfd = Memfd::create(c"m", MemfdFlags::ALLOW_SEALING)?;
    /// memfd.set_len(100)?;
    /// memfd.add_seals(Seals::SHRINK)?;
    /// assert_eq!(memfd.set_len(10), Err(rawmap::Errno::EPERM));
    /// assert_eq!(memfd.len()?, 100);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "ftruncate")]
    #[inline]
    pub fn set_len(&self, len: u64) -> Result<(), Errno> {
        self.fd.set_len(len)
    }

    /// The size of the file in bytes (`statx`'s `stx_size`).
    ///
    /// # Errors
    ///
    /// The kernel's errors of `statx`. See
    /// [statx(2)](https://man7.org/linux/man-pages/man2/statx.2.html).
    ///
    /// ```
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// memfd.set_len(3)?;
    /// assert_eq!(memfd.len()?, 3);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "statx")]
    #[allow(clippy::len_without_is_empty)] // the size can change; a cached "is empty" would mislead
    #[inline]
    pub fn len(&self) -> Result<u64, Errno> {
        self.fd.len()
    }

    /// Reads into `buf` from byte `offset` (`pread64`): the number of bytes
    /// read, 0 at or past the end of the file.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an offset above `i64::MAX`. See
    /// [pread(2)](https://man7.org/linux/man-pages/man2/pread.2.html).
    ///
    /// ```
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// memfd.write_all_at(b"abc", 0)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(memfd.read_at(&mut buf, 1)?, 2);
    /// assert_eq!(&buf[..2], b"bc");
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "pread")]
    #[doc(alias = "pread64")]
    #[inline]
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        self.fd.read_at(buf, offset)
    }

    /// Writes `buf` at byte `offset` (`pwrite64`): the number of bytes
    /// written.
    ///
    /// # Errors
    ///
    /// `EPERM` if a seal forbids it ([`Seals::WRITE`],
    /// [`Seals::FUTURE_WRITE`], or [`Seals::GROW`] for a write past the
    /// end); `EINVAL` for an offset above `i64::MAX`. See
    /// [pwrite(2)](https://man7.org/linux/man-pages/man2/pwrite.2.html).
    ///
    /// ```
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// assert_eq!(memfd.write_at(b"abc", 0)?, 3);
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
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// memfd.write_all_at(&[1; 100_000], 0)?;
    /// assert_eq!(memfd.len()?, 100_000);
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
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// memfd.set_len(4)?;
    /// let mut buf = [9u8; 4];
    /// memfd.read_exact_at(&mut buf, 0)?;
    /// assert_eq!(buf, [0; 4]);
    /// assert_eq!(memfd.read_exact_at(&mut [0; 5], 0), Err(rawmap::Errno::EIO));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Errno> {
        self.fd.read_exact_at(buf, offset)
    }

    /// Adds `seals` to the file (`fcntl(F_ADD_SEALS)`, since Linux 3.17).
    /// Seals are never removed.
    ///
    /// # Errors
    ///
    /// `EPERM` if the file was made without [`MemfdFlags::ALLOW_SEALING`]
    /// or is sealed with [`Seals::SEAL`]; `EBUSY` when adding
    /// [`Seals::WRITE`] while a writable shared mapping of the file exists;
    /// `EINVAL` for unknown seals. See
    /// [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
    /// and [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html).
    ///
    /// ```
    /// use rawmap::{Memfd, MemfdFlags, Seals};
    /// let memfd = Memfd::create(c"m", MemfdFlags::ALLOW_SEALING)?;
    /// memfd.add_seals(Seals::GROW)?;
    /// assert_eq!(memfd.seals()?, Seals::GROW);
    /// let unsealable = Memfd::create(c"n", MemfdFlags::empty())?;
    /// assert_eq!(unsealable.add_seals(Seals::GROW), Err(rawmap::Errno::EPERM));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "F_ADD_SEALS")]
    #[inline]
    pub fn add_seals(&self, seals: Seals) -> Result<(), Errno> {
        fd::add_seals(self.fd.raw(), seals.bits())
    }

    /// The file's seals (`fcntl(F_GET_SEALS)`, since Linux 3.17). A file
    /// made without [`MemfdFlags::ALLOW_SEALING`] has [`Seals::SEAL`].
    ///
    /// # Errors
    ///
    /// `EINVAL` for a descriptor that is not a memory file (possible only
    /// through [`from_raw_fd`](Self::from_raw_fd)). See
    /// [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html).
    ///
    /// ```
    /// use rawmap::{Memfd, MemfdFlags, Seals};
    /// let memfd = Memfd::create(c"m", MemfdFlags::empty())?;
    /// assert_eq!(memfd.seals()?, Seals::SEAL);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "F_GET_SEALS")]
    #[inline]
    pub fn seals(&self) -> Result<Seals, Errno> {
        fd::get_seals(self.fd.raw()).map(Seals::from_bits_retain)
    }

    /// The descriptor, still owned by the `Memfd`.
    ///
    /// ```
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// assert!(memfd.as_raw_fd() >= 0);
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
    /// let fd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?.into_raw_fd();
    /// // SAFETY: `fd` was just handed over and is owned by nothing else.
    /// let memfd = unsafe { rawmap::Memfd::from_raw_fd(fd) };
    /// assert_eq!(memfd.as_raw_fd(), fd);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw()
    }

    /// Takes ownership of an open descriptor of a memory file (one inherited
    /// from a parent, or received over a socket): the `Memfd` closes it on
    /// drop.
    ///
    /// # Safety
    ///
    /// `fd` is open, and nothing else owns it: nothing else closes it or
    /// uses it after the `Memfd` is dropped. (A descriptor of another kind
    /// of file is no memory unsafety: [`seals`](Self::seals) then reports
    /// `EINVAL`, and [`MmapOptions::map_if_safe`] refuses it.)
    ///
    /// ```
    /// let fd = rawmap::memfd_create(c"m", rawmap::MemfdFlags::CLOEXEC)?;
    /// // SAFETY: `fd` was just created and is owned by nothing else.
    /// let memfd = unsafe { rawmap::Memfd::from_raw_fd(fd) };
    /// assert_eq!(memfd.len()?, 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw_fd(fd: RawFd) -> Memfd {
        Memfd {
            // SAFETY: the caller hands over ownership of the open `fd`.
            fd: unsafe { OwnedRawFd::from_raw(fd) },
        }
    }
}

// Without `std`, a borrowed `Memfd` is a mapping source here; with `std`
// the blanket `&T: AsFd` impls cover it.
#[cfg(not(feature = "std"))]
impl MapFd for &Memfd {
    #[inline]
    fn map_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

// SAFETY: the `Memfd` is borrowed for as long as `&Memfd` lives, so its
// descriptor stays open and names the same file.
#[cfg(not(feature = "std"))]
unsafe impl IoSafeFd for &Memfd {}

#[cfg(feature = "std")]
mod std_impls {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

    use super::{Memfd, OwnedRawFd};
    use crate::sys::fd;

    impl AsFd for Memfd {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            // SAFETY: the `Memfd` owns the open descriptor for at least as
            // long as the borrow.
            unsafe { BorrowedFd::borrow_raw(self.fd.raw()) }
        }
    }

    impl AsRawFd for Memfd {
        #[inline]
        fn as_raw_fd(&self) -> i32 {
            self.fd.raw()
        }
    }

    impl From<Memfd> for OwnedFd {
        #[inline]
        fn from(memfd: Memfd) -> OwnedFd {
            // SAFETY: the `Memfd` hands over its open descriptor.
            unsafe { OwnedFd::from_raw_fd(memfd.fd.into_raw()) }
        }
    }

    /// A descriptor of a file that has seals (`fcntl(F_GET_SEALS)`
    /// succeeds: a memory file, or a file on tmpfs or hugetlbfs) becomes a
    /// `Memfd`; any other is refused with the kernel's error (`EINVAL`), and
    /// closed.
    ///
    /// ```
    /// use std::os::fd::OwnedFd;
    /// let memfd = rawmap::Memfd::create(c"m", rawmap::MemfdFlags::empty())?;
    /// let fd: OwnedFd = memfd.into();
    /// let back = rawmap::Memfd::try_from(fd)?;
    /// let pipe_end: OwnedFd = std::io::pipe()?.0.into();
    /// assert_eq!(rawmap::Memfd::try_from(pipe_end).unwrap_err().raw_os_error(), Some(22));
    /// # drop(back);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    impl TryFrom<OwnedFd> for Memfd {
        type Error = std::io::Error;

        #[inline]
        fn try_from(owned: OwnedFd) -> Result<Memfd, std::io::Error> {
            fd::get_seals(owned.as_raw_fd())?;
            Ok(Memfd {
                // SAFETY: the `OwnedFd` hands over its open descriptor.
                fd: unsafe { OwnedRawFd::from_raw(owned.into_raw_fd()) },
            })
        }
    }
}

/// Why [`MmapOptions::map_if_safe`] made no mapping. `Display` says why in
/// words; [`errno`](Self::errno) (and `Into<Errno>`, and with `std`
/// `Into<std::io::Error>`) gives an errno for `?`.
///
/// ```
/// use rawmap::{MapIfSafeError, Memfd, MemfdFlags, MmapOptions, Seals};
/// let memfd = Memfd::create(c"m", MemfdFlags::ALLOW_SEALING)?;
/// memfd.set_len(8)?;
/// let err = MmapOptions::new().map_if_safe(&memfd).unwrap_err();
/// assert_eq!(err, MapIfSafeError::MissingSeals(Seals::SHRINK | Seals::WRITE));
/// assert_eq!(err.errno(), rawmap::Errno::EPERM);
/// assert_eq!(
///     err.to_string(),
///     "not safe to map: the memory file lacks the seals SHRINK | WRITE"
/// );
/// # Ok::<(), rawmap::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapIfSafeError {
    /// The descriptor could not be examined: `statx` or
    /// `fcntl(F_GET_SEALS)` failed with this error (`EBADF` for a closed
    /// or negative descriptor).
    Examine(Errno),
    /// Not a regular file (a directory, FIFO, socket or device): with this
    /// `S_IFMT` type. Its errno is `ENODEV`.
    NotRegularFile {
        /// The file type bits of `stx_mode`.
        file_type: u16,
    },
    /// A regular file that can change under a mapping: neither a memory
    /// file with seals nor an fs-verity file. Its errno is `EPERM`.
    NotImmutable,
    /// A memory file without all of [`Seals::SHRINK`] and
    /// [`Seals::WRITE`]: the missing ones. ([`Seals::FUTURE_WRITE`] does
    /// not stand in for `WRITE`: see
    /// [`map_if_safe`](MmapOptions::map_if_safe).) Its errno is `EPERM`.
    MissingSeals(Seals),
    /// The range asked for does not lie inside the file, whose size is
    /// `size`: an offset past the end, or an explicit length that reaches
    /// past it (or overflows). Its errno is `EINVAL`.
    OutOfRange {
        /// The file's size in bytes.
        size: u64,
    },
    /// The file was safe, but `mmap` failed with this error.
    Map(Errno),
}

impl MapIfSafeError {
    /// The errno this error stands for: the kernel's for
    /// [`Examine`](Self::Examine) and [`Map`](Self::Map), and as each
    /// variant says otherwise.
    ///
    /// ```
    /// use rawmap::{Errno, MapIfSafeError};
    /// assert_eq!(MapIfSafeError::NotImmutable.errno(), Errno::EPERM);
    /// assert_eq!(MapIfSafeError::OutOfRange { size: 1 }.errno(), Errno::EINVAL);
    /// ```
    #[inline]
    pub fn errno(self) -> Errno {
        match self {
            Self::Examine(e) | Self::Map(e) => e,
            Self::NotRegularFile { .. } => Errno::ENODEV,
            Self::NotImmutable | Self::MissingSeals(_) => Errno::EPERM,
            Self::OutOfRange { .. } => Errno::EINVAL,
        }
    }
}

impl fmt::Display for MapIfSafeError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Examine(e) => write!(f, "cannot examine the file descriptor: {e}"),
            Self::NotRegularFile { file_type } => write!(
                f,
                "not safe to map: not a regular file (file type {file_type:#o})"
            ),
            Self::NotImmutable => f.write_str(
                "not safe to map: the file can change (neither a sealed memory file nor fs-verity)",
            ),
            Self::MissingSeals(missing) => {
                f.write_str("not safe to map: the memory file lacks the seals ")?;
                // `Seals(SHRINK | WRITE)` without the type's name.
                crate::flags::write_names(f, missing.bits(), Seals::NAMES)
            }
            Self::OutOfRange { size } => write!(
                f,
                "not safe to map: the range reaches past the end of the file ({size} bytes)"
            ),
            Self::Map(e) => write!(f, "mmap failed: {e}"),
        }
    }
}

impl From<MapIfSafeError> for Errno {
    #[inline]
    fn from(e: MapIfSafeError) -> Errno {
        e.errno()
    }
}

impl core::error::Error for MapIfSafeError {}

#[cfg(feature = "std")]
impl From<MapIfSafeError> for std::io::Error {
    /// An `io::Error` of the errno's kind that displays the reason.
    #[inline]
    fn from(e: MapIfSafeError) -> std::io::Error {
        std::io::Error::new(std::io::Error::from(e.errno()).kind(), e)
    }
}

/// The seals a memory file needs for [`MmapOptions::map_if_safe`].
const REQUIRED_SEALS: Seals = Seals::SHRINK.union(Seals::WRITE);

impl MmapOptions {
    /// Maps a file that cannot change under the mapping, without `unsafe`:
    /// read-only (`PROT_READ`, `MAP_PRIVATE`), from the
    /// [`offset`](Self::offset), [`len`](Self::len) bytes or to the end of
    /// the file.
    ///
    /// It maps only
    ///
    /// - a memory file sealed with [`Seals::SHRINK`] and [`Seals::WRITE`]
    ///   (checked with `fcntl(F_GET_SEALS)`), or
    /// - a file with fs-verity enabled (`statx`'s `STATX_ATTR_VERITY`,
    ///   Linux 5.5+),
    ///
    /// and only a range inside the file's size, so that no page of the
    /// mapping can change or raise `SIGBUS`. [`Seals::FUTURE_WRITE`] is not
    /// enough, since writable shared mappings made before it can still
    /// write (see [`Seals::FUTURE_WRITE`]). Seals are never removed and a
    /// file sealed against shrinking only grows, so what is checked holds
    /// for the life of the mapping. The descriptor must be an [`IoSafeFd`]
    /// (a borrow of its owner, not a bare number), so that it still names
    /// the checked file when it is mapped.
    ///
    /// The mapping is private: nothing can write the file, so a private
    /// mapping shows exactly its bytes (and shares its pages), and it can
    /// never become a writable view of the file: [`Mmap::make_mut`] gives a
    /// copy-on-write one.
    ///
    /// # Errors
    ///
    /// A [`MapIfSafeError`] that says why, and no mapping is made:
    /// [`NotRegularFile`](MapIfSafeError::NotRegularFile) for a pipe,
    /// socket, directory or device;
    /// [`NotImmutable`](MapIfSafeError::NotImmutable) for an ordinary file;
    /// [`MissingSeals`](MapIfSafeError::MissingSeals) for a memory file not
    /// sealed enough; [`OutOfRange`](MapIfSafeError::OutOfRange) for a range
    /// past the end; [`Examine`](MapIfSafeError::Examine) (`EBADF`, ...) and
    /// [`Map`](MapIfSafeError::Map) with the kernel's errno. An empty range
    /// inside the file gives an empty mapping.
    ///
    /// ```
    /// use rawmap::{MapIfSafeError, Memfd, MemfdFlags, MmapOptions, Seals};
    /// let memfd = Memfd::create(c"config", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    /// memfd.write_all_at(b"key=value", 0)?;
    /// memfd.add_seals(Seals::SHRINK | Seals::WRITE)?;
    /// let map = MmapOptions::new().offset(4).map_if_safe(&memfd)?;
    /// assert_eq!(&map[..], b"value");
    /// let too_far = MmapOptions::new().offset(4).len(6).map_if_safe(&memfd);
    /// assert_eq!(too_far.unwrap_err(), MapIfSafeError::OutOfRange { size: 9 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn map_if_safe(&self, fd: impl IoSafeFd) -> Result<Mmap, MapIfSafeError> {
        let raw = fd.map_fd();
        if raw < 0 {
            // AT_FDCWD (-100) would make statx describe the current directory.
            return Err(MapIfSafeError::Examine(Errno::EBADF));
        }
        let stx = fd::statx(raw, c"", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE)
            .map_err(MapIfSafeError::Examine)?;
        let file_type = stx.mode() & S_IFMT;
        if file_type != S_IFREG {
            return Err(MapIfSafeError::NotRegularFile { file_type });
        }
        match fd::get_seals(raw) {
            Ok(seals) => {
                let missing = REQUIRED_SEALS.difference(Seals::from_bits_retain(seals));
                if !missing.is_empty() {
                    return Err(MapIfSafeError::MissingSeals(missing));
                }
            }
            // Not a file that has seals: fs-verity is the other way.
            Err(Errno::EINVAL) => {
                if stx.attributes() & STATX_ATTR_VERITY == 0 {
                    return Err(MapIfSafeError::NotImmutable);
                }
            }
            Err(e) => return Err(MapIfSafeError::Examine(e)),
        }
        // The size now can only grow (SHRINK is sealed, or fs-verity
        // forbids truncation), so a range inside it stays inside.
        let size = fd::statx(raw, c"", AT_EMPTY_PATH, STATX_SIZE)
            .map_err(MapIfSafeError::Examine)?
            .size();
        let (offset, len) = self.requested_range();
        let out_of_range = MapIfSafeError::OutOfRange { size };
        let rest = size.checked_sub(offset).ok_or(out_of_range)?;
        let len = match len {
            Some(len) if len as u64 <= rest => len,
            Some(_) => return Err(out_of_range),
            None => usize::try_from(rest).map_err(|_| MapIfSafeError::Map(Errno::ENOMEM))?,
        };
        let mut opts = self.clone();
        opts.len(len);
        // The file is sealed SHRINK | WRITE or is fs-verity (checked above,
        // after the seals were in place).
        // SAFETY: so its mapped bytes cannot change nor the file shrink below
        // them, and `raw` names that file while `fd` lives (`IoSafeFd`).
        unsafe { opts.map_copy_read_only(raw) }.map_err(MapIfSafeError::Map)
    }

    /// Maps [`len`](Self::len) bytes of secret memory (`memfd_secret`,
    /// since Linux 5.14), readable and writable, zero-filled: pages outside
    /// the kernel's direct map, which the kernel, other processes and
    /// `/proc/<pid>/mem` cannot read, and which are never swapped or dumped.
    /// For keys and other secrets.
    ///
    /// Safe, as [`map_anon_shared`](Self::map_anon_shared) is: the secret
    /// memory file is closed once mapped, so only this mapping (and children
    /// made by `fork`, which share it) reaches the memory. The offset is
    /// ignored; a length of 0 gives an empty mapping without any system
    /// call.
    ///
    /// # Errors
    ///
    /// `ENOSYS` where the kernel has no secret memory: before Linux 5.14,
    /// without `CONFIG_SECRETMEM`, with `secretmem.enable=0` on the kernel
    /// command line (before Linux 6.5, unless booted with
    /// `secretmem.enable=1`), on 32-bit ARM, and under QEMU's user mode. `EAGAIN` or `ENOMEM` when the memory cannot be set aside
    /// (some kernels count it against `RLIMIT_MEMLOCK`); the errors
    /// of [`map_anon`](Self::map_anon).
    ///
    /// ```
    /// match rawmap::MmapOptions::new().len(64).map_secret() {
    ///     Ok(mut key) => {
    ///         key[..4].copy_from_slice(b"k3y!");
    ///         assert_eq!(&key[..4], b"k3y!");
    ///     }
    ///     Err(e) => assert_eq!(e, rawmap::Errno::ENOSYS), // no secret memory here
    /// }
    /// ```
    #[doc(alias = "memfd_secret")]
    #[inline]
    pub fn map_secret(&self) -> Result<MmapMut, Errno> {
        let (_, len) = self.requested_range();
        let len = len.unwrap_or(0);
        if len == 0 {
            return self.map_anon();
        }
        let raw = fd::memfd_secret(crate::sys::consts::O_CLOEXEC as u32)?;
        // SAFETY: the kernel just created `raw` for this process; nothing
        // else knows it. It is closed when `secret` drops, below.
        let secret = unsafe { OwnedRawFd::from_raw(raw) };
        secret.set_len(len as u64)?;
        let mut opts = self.clone();
        opts.offset(0).len(len);
        // SAFETY: nothing but this mapping will reach the file: its only
        // descriptor is closed right after, and its size stays `len`.
        unsafe { opts.map_mut(secret.raw()) }
    }
}

static_assertions::assert_impl_all!(MapIfSafeError: Copy);
