//! [`MmapOptions`], the builder of mappings, and [`MapFd`], what it maps.

use syscalls::Errno;

use super::inner::Inner;
use super::{Mmap, MmapMut, MmapRaw};
use crate::flags::{MapFlags, Prot};
use crate::page::{cached_page_size, default_huge_page_size, page_size};
use crate::sys::RawFd;
use crate::sys::consts::{
    AT_EMPTY_PATH, PSEUDO_FS_MAGICS, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK,
    STATX_SIZE, STATX_TYPE,
};
use crate::sys::fd;

/// Something [`MmapOptions`] can map: a file descriptor.
///
/// Implemented for [`RawFd`] always, and with the `std` feature for
/// [`BorrowedFd`](std::os::fd::BorrowedFd) and `&T` for any `T: AsFd` (so
/// `&File` works).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::os::fd::AsRawFd;
/// let file = tempfile::tempfile()?;
/// file.set_len(10)?;
/// let opts = rawmap::MmapOptions::new();
/// // SAFETY: the temporary file is private to this example.
/// let a = unsafe { opts.map(&file)? };              // &File
/// let b = unsafe { opts.map(file.as_raw_fd())? };   // RawFd
/// assert_eq!(a.len(), b.len());
/// # Ok(()) }
/// ```
pub trait MapFd {
    /// The descriptor to pass to `mmap`.
    ///
    /// ```
    /// use rawmap::MapFd;
    /// use std::os::fd::AsRawFd;
    /// let file = tempfile::tempfile()?;
    /// assert_eq!((&file).map_fd(), file.as_raw_fd());
    /// assert_eq!(7.map_fd(), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn map_fd(&self) -> RawFd;
}

impl MapFd for RawFd {
    #[inline]
    fn map_fd(&self) -> RawFd {
        *self
    }
}

/// The length of the file open at `fd`, for a mapping without an explicit
/// length: `statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE)` (Linux
/// 4.11+), and for the few files whose `stx_size` is no length of bytes,
/// one more call or an error.
///
/// A negative `fd` is `EBADF` before any system call (`AT_FDCWD`, -100,
/// would otherwise make `statx` describe the current directory); a
/// directory is `EISDIR`, and a FIFO or a socket `ENODEV` (what `mmap` says
/// of them). A block device's size is `ioctl(BLKGETSIZE64)`'s. A character
/// device of size 0 (`/dev/zero`, a frame buffer, ...) and a regular file of
/// size 0 on a file system whose sizes mean nothing (`/proc`, `/sys`, ...:
/// [`PSEUDO_FS_MAGICS`], asked with `fstatfs` only for such an empty file)
/// have no length to take: [`MapFailure::LengthNeeded`]. Only a regular
/// file is really empty when it says so.
#[inline]
fn file_len(fd: RawFd) -> Result<u64, MapFailure> {
    if fd < 0 {
        return Err(Errno::EBADF.into());
    }
    let stx = fd::statx(fd, c"", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE)?;
    let size = stx.size();
    match stx.mode() & S_IFMT {
        S_IFDIR => Err(Errno::EISDIR.into()),
        S_IFIFO | S_IFSOCK => Err(Errno::ENODEV.into()),
        S_IFBLK => Ok(fd::blkgetsize64(fd)?),
        S_IFCHR if size == 0 => Err(MapFailure::LengthNeeded(SizeUnknown::CharDevice)),
        S_IFREG if size == 0 => {
            if is_pseudo_fs(fd::fstatfs_type(fd)?) {
                Err(MapFailure::LengthNeeded(SizeUnknown::PseudoFile))
            } else {
                Ok(0)
            }
        }
        _ => Ok(size),
    }
}

/// Whether `magic` is one of [`PSEUDO_FS_MAGICS`]. A plain loop rather
/// than `<[u32]>::contains`: core's iterator adapters bring unwinding
/// metadata (a personality function, then `.eh_frame` for the whole
/// program) into `panic = "abort"` programs without a libc.
#[inline]
fn is_pseudo_fs(magic: u32) -> bool {
    let mut i = 0;
    while i < PSEUDO_FS_MAGICS.len() {
        if PSEUDO_FS_MAGICS[i] == magic {
            return true;
        }
        i += 1;
    }
    false
}

/// Why a mapping was not made: the kernel's errno (or a check's), or a file
/// that gives no length when the caller gave none. The public `map*`
/// methods answer `EINVAL` for the latter; the `std` layer says it in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapFailure {
    /// An errno.
    Errno(Errno),
    /// No explicit length, and the file's size says nothing.
    LengthNeeded(SizeUnknown),
}

/// Which kind of file reported a size that is no length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SizeUnknown {
    /// A character device of size 0.
    CharDevice,
    /// A regular file of size 0 on `/proc`, `/sys` or a file system like
    /// them.
    PseudoFile,
}

impl From<Errno> for MapFailure {
    #[inline]
    fn from(errno: Errno) -> Self {
        MapFailure::Errno(errno)
    }
}

impl From<MapFailure> for Errno {
    #[inline]
    fn from(failure: MapFailure) -> Errno {
        match failure {
            MapFailure::Errno(errno) => errno,
            MapFailure::LengthNeeded(_) => Errno::EINVAL,
        }
    }
}

/// A builder of mappings, as in memmap2: set the offset, length and extra
/// flags, then call one of the `map*` methods.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use rawmap::MmapOptions;
/// use std::io::Write;
///
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"hello, mapped world")?;
/// // SAFETY: the temporary file is private to this example.
/// let map = unsafe { MmapOptions::new().offset(7).len(6).map(&file)? };
/// assert_eq!(&map[..], b"mapped");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MmapOptions {
    offset: u64,
    len: Option<usize>,
    /// Extra flags: POPULATE, STACK, NORESERVE, HUGETLB and its size field.
    flags: MapFlags,
    /// `None`: normal pages; `Some(None)`: the default huge page size;
    /// `Some(Some(bits))`: huge pages of `2^bits` bytes.
    huge: Option<Option<u8>>,
    /// Pages of guard below an anonymous mapping ([`guard_pages`](Self::guard_pages)).
    guard_pages: usize,
}

impl MmapOptions {
    /// Options for a mapping of the whole file (from offset 0), with no extra
    /// flags.
    ///
    /// ```
    /// let anon = rawmap::MmapOptions::new().len(100).map_anon()?;
    /// assert_eq!(anon.len(), 100);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self {
            offset: 0,
            len: None,
            flags: MapFlags::empty(),
            huge: None,
            guard_pages: 0,
        }
    }

    /// Starts the mapping at byte `offset` of the file. Any offset works,
    /// aligned or not: the kernel maps from the page boundary below and the
    /// mapping shows the bytes from `offset` on. Ignored by
    /// [`map_anon`](Self::map_anon) and [`map_anon_shared`](Self::map_anon_shared).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Write;
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"0123456789")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let map = unsafe { rawmap::MmapOptions::new().offset(3).map(&file)? };
    /// assert_eq!(&map[..], b"3456789");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Maps `len` bytes. Without it, a file is mapped from the offset to its
    /// end, and an anonymous mapping is empty. A length of 0 gives an empty
    /// mapping without any system call (the file is not even looked at).
    ///
    /// ```
    /// let empty = rawmap::MmapOptions::new().len(0).map_anon()?;
    /// assert!(empty.is_empty());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// Faults the whole mapping in before returning (`MAP_POPULATE`): the
    /// file is read ahead, anonymous pages are allocated.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1 << 16).populate().map_anon()?;
    /// assert!(map.iter().all(|&b| b == 0));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn populate(&mut self) -> &mut Self {
        self.flags |= MapFlags::POPULATE;
        self
    }

    /// Marks the mapping as a thread stack (`MAP_STACK`).
    ///
    /// ```
    /// let stack = rawmap::MmapOptions::new().len(1 << 16).stack().map_anon()?;
    /// assert_eq!(stack.len(), 1 << 16);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn stack(&mut self) -> &mut Self {
        self.flags |= MapFlags::STACK;
        self
    }

    /// Backs the mapping with huge pages (`MAP_HUGETLB`) of `2^page_bits`
    /// bytes, or of the system's default huge page size (the `Hugepagesize:`
    /// line of `/proc/meminfo`) with `None`.
    ///
    /// The mapping is made (and unmapped) in whole huge pages: the length is
    /// rounded up, and a file offset is rounded down to a huge page with the
    /// mapping showing the bytes from the offset on, as for normal pages.
    /// Where the system has no huge pages reserved the kernel answers
    /// `ENOMEM`; a size it does not support, or `page_bits` not larger than
    /// a normal page (or above 63), is `EINVAL`; with `None` and no
    /// `Hugepagesize:` in `/proc/meminfo` (no hugetlb support, or no
    /// `/proc`), `ENOSYS`. A file not on `hugetlbfs` gives `EINVAL`.
    ///
    /// ```
    /// use rawmap::{Errno, MmapOptions};
    /// match MmapOptions::new().len(1).huge(Some(21)).map_anon() {
    ///     Ok(map) => assert_eq!(map.len(), 1),
    ///     // most systems reserve no huge pages
    ///     Err(e) => assert!([Errno::ENOMEM, Errno::EINVAL, Errno::ENOSYS].contains(&e)),
    /// }
    /// ```
    #[inline]
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = Some(page_bits);
        self.flags = self
            .flags
            .difference(MapFlags::from_bits_retain(MapFlags::HUGE_FIELD))
            | MapFlags::HUGETLB;
        if let Some(bits) = page_bits {
            self.flags |= MapFlags::huge_page_size_log2(bits);
        }
        self
    }

    /// Maps without reserving swap space (`MAP_NORESERVE`): writes may then
    /// fail with `SIGSEGV` when memory runs out.
    ///
    /// ```
    /// let big = rawmap::MmapOptions::new().len(1 << 30).no_reserve().map_anon()?;
    /// assert_eq!(big.len(), 1 << 30);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn no_reserve(&mut self) -> &mut Self {
        self.flags |= MapFlags::NORESERVE;
        self
    }

    /// Maps the file read-only and shared (`PROT_READ`, `MAP_SHARED`).
    ///
    /// # Safety
    ///
    /// The returned [`Mmap`] hands out `&[u8]` into the file's pages, so for
    /// as long as it lives:
    ///
    /// - nobody (this process or another) may change the mapped part of the
    ///   file, or the slice's contents change under a shared reference;
    /// - nobody may truncate the file below the end of the mapping: touching
    ///   a page past the new end of file raises `SIGBUS` and kills the
    ///   process (see [Safety of file mappings](crate#safety-of-file-mappings));
    /// - with an explicit [`len`](Self::len), the file must already reach
    ///   `offset + len`: the kernel does not compare the length with the
    ///   file, so the mapping is made, and touching its pages that lie wholly
    ///   past the end of the file raises `SIGBUS` in the same way (the bytes
    ///   of the last, partial page past the end read as zeros). Without
    ///   `len` the length is taken from the file and this cannot happen.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an offset past the end of the file when no `len` is
    /// given, and without `len` for a file whose size is no length: a
    /// character device of size 0 (`/dev/zero`), or a regular file of size
    /// 0 on `/proc`, `/sys` and the like (their contents are made when
    /// read); give these a `len` (a regular empty file elsewhere gives an
    /// empty mapping, and a block device is mapped to its size,
    /// `BLKGETSIZE64`); `EOVERFLOW` if `offset + len` does not fit a `u64`; `ENOMEM` if
    /// the length rounded up to pages does not fit a `usize`; without `len`,
    /// `EBADF` for a negative `fd`, `EISDIR` for a directory, `ENODEV` for a
    /// FIFO or a socket, and the errors of `statx`; the errors of [`mmap`](crate::mmap): `EACCES` (fd not
    /// open for reading), `ENODEV` (a file that cannot be mapped, e.g. a
    /// directory with an explicit `len`), `EBADF`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Write;
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"abc")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let map = unsafe { rawmap::MmapOptions::new().map(&file)? };
    /// assert_eq!(&map[..], b"abc");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn map(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ, MapFlags::SHARED, fd.map_fd())
            .map(Mmap::from_inner)
    }

    /// Maps the file read-write and shared (`PROT_READ | PROT_WRITE`,
    /// `MAP_SHARED`): writes reach the file.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody else may change or truncate the
    /// mapped part of the file while the mapping lives (touching a page past
    /// a new end of file raises `SIGBUS`: see
    /// [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map), and `EACCES` if the file is not open for
    /// both reading and writing.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(4)?;
    /// // SAFETY: the temporary file is private to this example.
    /// let mut map = unsafe { rawmap::MmapOptions::new().map_mut(&file)? };
    /// map.copy_from_slice(b"data");
    /// map.flush()?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn map_mut(&self, fd: impl MapFd) -> Result<MmapMut, Errno> {
        self.map_file(Prot::READ | Prot::WRITE, MapFlags::SHARED, fd.map_fd())
            .map(MmapMut::from_inner)
    }

    /// Maps the file copy-on-write (`PROT_READ | PROT_WRITE`, `MAP_PRIVATE`):
    /// writes stay in this process and never reach the file.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): pages not yet written still show the file,
    /// so nobody may change or truncate it while the mapping lives (touching
    /// a page past a new end of file raises `SIGBUS`: see
    /// [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{Read, Seek, Write};
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"keep")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let mut map = unsafe { rawmap::MmapOptions::new().map_copy(&file)? };
    /// map[0] = b'X';
    /// let mut on_disk = Vec::new();
    /// file.rewind()?;
    /// file.read_to_end(&mut on_disk)?;
    /// assert_eq!((&map[..], &on_disk[..]), (&b"Xeep"[..], &b"keep"[..]));
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn map_copy(&self, fd: impl MapFd) -> Result<MmapMut, Errno> {
        self.map_file(Prot::READ | Prot::WRITE, MapFlags::PRIVATE, fd.map_fd())
            .map(MmapMut::from_inner)
    }

    /// Maps the file read-only and private (`PROT_READ`, `MAP_PRIVATE`):
    /// [`Mmap::make_mut`] then gives a copy-on-write mapping even of a file
    /// opened read-only.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody may change or truncate the file
    /// while the mapping lives (touching a page past a new end of file
    /// raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Write;
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"ro")?;
    /// // SAFETY: the temporary file is private to this example.
    /// let map = unsafe { rawmap::MmapOptions::new().map_copy_read_only(&file)? };
    /// let mut map = map.make_mut()?;
    /// map[0] = b'R';
    /// assert_eq!(&map[..], b"Ro");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn map_copy_read_only(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ, MapFlags::PRIVATE, fd.map_fd())
            .map(Mmap::from_inner)
    }

    /// Maps the file readable and executable, shared (`PROT_READ |
    /// PROT_EXEC`, `MAP_SHARED`).
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody may change or truncate the file
    /// while the mapping lives (touching a page past a new end of file
    /// raises `SIGBUS`: see [Safety of file mappings](crate#safety-of-file-mappings)).
    /// Running code from the mapping is a further `unsafe` step of its own.
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map), and `EPERM`/`EACCES` on a `noexec` mount.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(16)?;
    /// // SAFETY: the temporary file is private to this example.
    /// match unsafe { rawmap::MmapOptions::new().map_exec(&file) } {
    ///     Ok(map) => assert_eq!(map.len(), 16),
    ///     // the temporary directory may be mounted noexec
    ///     Err(e) => assert!([rawmap::Errno::EPERM, rawmap::Errno::EACCES].contains(&e)),
    /// }
    /// # Ok(()) }
    /// ```
    #[inline]
    pub unsafe fn map_exec(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ | Prot::EXEC, MapFlags::SHARED, fd.map_fd())
            .map(Mmap::from_inner)
    }

    /// Maps private anonymous memory (`PROT_READ | PROT_WRITE`, `MAP_PRIVATE
    /// | MAP_ANONYMOUS`): zero-filled, and copied (not shared) on `fork`.
    ///
    /// Safe: nothing outside this process can change or remove the memory.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when memory or address space runs out (or the length rounded
    /// up to pages does not fit a `usize`); with [`huge`](Self::huge), the
    /// errors listed there.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(10).map_anon()?;
    /// assert_eq!(&map[..], &[0; 10]);
    /// map[9] = 1;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn map_anon(&self) -> Result<MmapMut, Errno> {
        self.map_anonymous(MapFlags::PRIVATE)
    }

    /// Maps shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`): a child
    /// made with `fork` shares it with its parent, each seeing the other's
    /// writes.
    ///
    /// # Errors
    ///
    /// As for [`map_anon`](Self::map_anon).
    ///
    /// ```
    /// let mut shared = rawmap::MmapOptions::new().len(8).map_anon_shared()?;
    /// shared[0] = 1;
    /// assert_eq!(shared[0], 1);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn map_anon_shared(&self) -> Result<MmapMut, Errno> {
        self.map_anonymous(MapFlags::SHARED)
    }

    #[inline]
    fn map_anonymous(&self, sharing: MapFlags) -> Result<MmapMut, Errno> {
        let len = self.len.unwrap_or(0);
        let flags = sharing | MapFlags::ANONYMOUS | self.flags;
        if self.guard_pages != 0 {
            return self.map_guarded(len, flags);
        }
        Inner::new(
            len,
            0,
            Prot::READ | Prot::WRITE,
            flags,
            -1,
            self.align_for(len)?,
        )
        .map(MmapMut::from_inner)
    }

    #[inline]
    fn map_file(&self, prot: Prot, sharing: MapFlags, fd: RawFd) -> Result<Inner, Errno> {
        self.map_file_or_why(prot, sharing, fd).map_err(Errno::from)
    }

    #[inline]
    fn map_file_or_why(
        &self,
        prot: Prot,
        sharing: MapFlags,
        fd: RawFd,
    ) -> Result<Inner, MapFailure> {
        // Guard pages are for anonymous memory only.
        if self.guard_pages != 0 {
            return Err(MapFailure::from(Errno::EINVAL));
        }
        let len = match self.len {
            Some(len) => len,
            None => {
                let size = file_len(fd)?;
                let rest = size.checked_sub(self.offset).ok_or(Errno::EINVAL)?;
                usize::try_from(rest).map_err(|_| Errno::ENOMEM)?
            }
        };
        Ok(Inner::new(
            len,
            self.offset,
            prot,
            sharing | self.flags,
            fd,
            self.align_for(len)?,
        )?)
    }

    /// The `align` argument of `Inner::new`: for normal pages the cached
    /// page size, 0 if it is not known yet (`Inner::new` looks it up only
    /// when something is to be mapped); for huge pages [`align`](Self::align),
    /// unless nothing is to be mapped: an empty mapping makes no system
    /// call, not even the read of `/proc/meminfo` that `huge(None)` needs.
    #[inline]
    fn align_for(&self, len: usize) -> Result<usize, Errno> {
        match self.huge {
            None => Ok(cached_page_size()),
            Some(_) if len == 0 => Ok(1),
            Some(_) => self.align(),
        }
    }

    /// The alignment of the mapping: the page size, or the huge page size.
    #[inline]
    fn align(&self) -> Result<usize, Errno> {
        match self.huge {
            None => Ok(page_size()),
            // A huge page is larger than a normal page (this also refuses
            // `Some(0)`, whose field would mean "the default size") and
            // fits the 6-bit size field.
            Some(Some(bits)) => match 1usize.checked_shl(u32::from(bits)) {
                Some(size) if bits <= 63 && size > page_size() => Ok(size),
                _ => Err(Errno::EINVAL),
            },
            Some(None) => default_huge_page_size(),
        }
    }
}

/// The owners beyond [`Mmap`] and [`MmapMut`]: [`MmapRaw`], and anonymous
/// memory aligned beyond a page.
impl MmapOptions {
    /// Maps the file read-write and shared (`PROT_READ | PROT_WRITE`,
    /// `MAP_SHARED`) as an [`MmapRaw`], which hands out only pointers and
    /// atomics.
    ///
    /// Safe, unlike [`map_mut`](Self::map_mut): no slice into the file is
    /// made, so the file changing under the mapping is no undefined
    /// behaviour. (Truncating it still makes access past the new end raise
    /// `SIGBUS`.)
    ///
    /// # Errors
    ///
    /// As for [`map_mut`](Self::map_mut).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(8)?;
    /// let raw = rawmap::MmapOptions::new().map_raw(&file)?;
    /// raw.atomic_u64(0)?.store(1, std::sync::atomic::Ordering::SeqCst);
    /// raw.flush()?;
    /// # Ok(()) }
    /// ```
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    #[inline]
    pub fn map_raw(&self, fd: impl MapFd) -> Result<MmapRaw, Errno> {
        self.map_file(Prot::READ | Prot::WRITE, MapFlags::SHARED, fd.map_fd())
            .map(|inner| MmapRaw::from_inner(inner, true))
    }

    /// Maps the file read-only and shared (`PROT_READ`, `MAP_SHARED`) as an
    /// [`MmapRaw`] (whose atomic views are then `EACCES`).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(8)?;
    /// let raw = rawmap::MmapOptions::new().map_raw_read_only(&file)?;
    /// assert!(!raw.is_writable());
    /// // SAFETY: the mapping is 8 bytes long; nobody writes the file meanwhile.
    /// assert_eq!(unsafe { raw.as_ptr().read_volatile() }, 0);
    /// # Ok(()) }
    /// ```
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    #[inline]
    pub fn map_raw_read_only(&self, fd: impl MapFd) -> Result<MmapRaw, Errno> {
        self.map_file(Prot::READ, MapFlags::SHARED, fd.map_fd())
            .map(|inner| MmapRaw::from_inner(inner, false))
    }

    /// Maps shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`) as an
    /// [`MmapRaw`]: after `fork`, parent and child share it and can use its
    /// atomic words to talk to each other.
    ///
    /// # Errors
    ///
    /// As for [`map_anon`](Self::map_anon).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let raw = rawmap::MmapOptions::new().len(8).map_raw_anon_shared()?;
    /// raw.atomic_u32(4)?.store(2, Ordering::Release);
    /// assert_eq!(raw.atomic_u32(4)?.load(Ordering::Acquire), 2);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    #[inline]
    pub fn map_raw_anon_shared(&self) -> Result<MmapRaw, Errno> {
        self.map_anonymous(MapFlags::SHARED)
            .map(|map| MmapRaw::from_inner(map.into_inner(), true))
    }

    /// Maps private anonymous memory, as [`map_anon`](Self::map_anon), at an
    /// address that is a multiple of `align`: e.g. the transparent huge page
    /// size (2 MiB on x86_64), so that the kernel can back the mapping with
    /// huge pages from its first byte.
    ///
    /// It maps `len + align - page_size()` bytes and unmaps the parts below
    /// the aligned address and past the length rounded up to pages, so
    /// exactly one mapping of the rounded length remains (and Drop unmaps
    /// exactly that). An `align` up to the page size is the page size.
    /// Only the length, [`populate`](Self::populate),
    /// [`no_reserve`](Self::no_reserve) and [`stack`](Self::stack) apply.
    ///
    /// # Errors
    ///
    /// `EINVAL` if `align` is not a power of two, or if [`huge`](Self::huge)
    /// is set (huge pages are aligned to their size already) or
    /// [`guard_pages`](Self::guard_pages); `ENOMEM` if
    /// the over-sized length does not fit a `usize`, or memory runs out.
    ///
    /// ```
    /// let align = 2 << 20;
    /// let map = rawmap::MmapOptions::new().len(3 << 20).map_anon_aligned(align)?;
    /// assert_eq!(map.as_ptr() as usize % align, 0);
    /// map.advise(rawmap::Advice::HugePage).ok(); // transparent huge pages may be off
    /// assert_eq!(rawmap::MmapOptions::new().len(1).map_anon_aligned(3).unwrap_err(),
    ///            rawmap::Errno::EINVAL);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    #[inline]
    pub fn map_anon_aligned(&self, align: usize) -> Result<MmapMut, Errno> {
        if !align.is_power_of_two() || self.huge.is_some() || self.guard_pages != 0 {
            return Err(Errno::EINVAL);
        }
        let len = self.len.unwrap_or(0);
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | self.flags;
        let prot = Prot::READ | Prot::WRITE;
        let page = page_size();
        if align <= page {
            return Inner::new(len, 0, prot, flags, -1, page).map(MmapMut::from_inner);
        }
        // MAP_POPULATE would fault in the head and tail only to unmap them:
        // map without it, and populate what remains.
        let populate = flags.contains(MapFlags::POPULATE);
        let inner = Inner::new_aligned(len, prot, flags.difference(MapFlags::POPULATE), align)?;
        let map = MmapMut::from_inner(inner);
        if populate && !map.is_empty() {
            // Best effort, as MAP_POPULATE is: it does not fail the mmap.
            let _ = map.advise(crate::flags::Advice::PopulateWrite);
        }
        Ok(map)
    }

    /// Puts `n` guard pages just below an anonymous mapping
    /// ([`map_anon`](Self::map_anon), [`map_anon_shared`](Self::map_anon_shared),
    /// [`map_raw_anon_shared`](Self::map_raw_anon_shared)): any access to
    /// them raises `SIGSEGV`, so a thread stack that overflows downwards
    /// faults instead of running into other memory. `0` (the default) puts
    /// none.
    ///
    /// With Linux 6.13+ they are guard markers (`MADV_GUARD_INSTALL`, no
    /// extra VMA; since 6.15 for shared memory too), checked to fault right
    /// after they are installed (QEMU 7.2's user mode answers 0 to the
    /// advice and installs nothing); elsewhere they are a `PROT_NONE`
    /// mapping. Either way they are unmapped with the mapping, and sealed
    /// with it by `seal`. The mapping stays above its guard: `remap` never
    /// moves it. An empty mapping has no guard pages. `into_raw` and `leak`
    /// leave the guard pages mapped below the pointer they hand out.
    ///
    /// # Errors
    ///
    /// At mapping time: `ENOMEM` if `n` pages plus the length do not fit a
    /// `usize`; `EINVAL` for a file mapping, with [`huge`](Self::huge), or
    /// with [`map_anon_aligned`](Self::map_anon_aligned).
    ///
    /// ```
    /// let stack = rawmap::MmapOptions::new().len(1 << 16).stack().guard_pages(1).map_anon()?;
    /// assert_eq!(stack.len(), 1 << 16); // the guard page lies below `as_ptr()`
    /// assert_eq!(rawmap::MmapOptions::new().len(1).guard_pages(usize::MAX).map_anon().unwrap_err(),
    ///            rawmap::Errno::ENOMEM);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[inline]
    pub fn guard_pages(&mut self, n: usize) -> &mut Self {
        self.guard_pages = n;
        self
    }

    /// [`map_anonymous`](Self::map_anonymous) with guard pages below.
    #[cold]
    #[inline]
    fn map_guarded(&self, len: usize, flags: MapFlags) -> Result<MmapMut, Errno> {
        if self.huge.is_some() {
            return Err(Errno::EINVAL);
        }
        let guard_len = self
            .guard_pages
            .checked_mul(page_size())
            .ok_or(Errno::ENOMEM)?;
        Inner::new_guarded(len, Prot::READ | Prot::WRITE, flags, guard_len).map(MmapMut::from_inner)
    }
}

/// For the `std` layer, which words the errors itself: the mappings
/// [`Mmap::open`] and [`MmapMut::open`] make, with the reason a length was
/// missing kept apart from the errnos.
#[cfg(feature = "std")]
impl MmapOptions {
    /// [`map`](Self::map), with [`MapFailure::LengthNeeded`] kept.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map).
    #[inline]
    pub(crate) unsafe fn map_or_why(&self, fd: RawFd) -> Result<Mmap, MapFailure> {
        self.map_file_or_why(Prot::READ, MapFlags::SHARED, fd)
            .map(Mmap::from_inner)
    }

    /// [`map_mut`](Self::map_mut), with [`MapFailure::LengthNeeded`] kept.
    ///
    /// # Safety
    ///
    /// As for [`map_mut`](Self::map_mut).
    #[inline]
    pub(crate) unsafe fn map_mut_or_why(&self, fd: RawFd) -> Result<MmapMut, MapFailure> {
        self.map_file_or_why(Prot::READ | Prot::WRITE, MapFlags::SHARED, fd)
            .map(MmapMut::from_inner)
    }
}

// ---------------------------------------------------------------------------
// For `map_if_safe` and `map_secret` (src/memfd.rs): the range asked for.

impl MmapOptions {
    /// The offset and the explicit length, if one was given.
    #[inline]
    pub(crate) fn requested_range(&self) -> (u64, Option<usize>) {
        (self.offset, self.len)
    }
}
