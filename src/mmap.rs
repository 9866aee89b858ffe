//! The safe layer: [`MmapOptions`] builds [`Mmap`] and [`MmapMut`], which own
//! their mapping and unmap it on drop. No allocation, no libc.
//!
//! The user's view of a mapping is not the kernel's: an offset into a file
//! need not be page-aligned, so the kernel maps from the aligned offset below
//! and the user sees the bytes from the requested one:
//!
//! ```text
//!  file:    |<- aligned offset ->|<- head ->|<-------- len -------->|
//!  kernel:                       [base ...........................................)  map_len
//!  user:                                    [ptr ...................)               len
//!                                page-aligned                        rounded up to a page
//! ```
//!
//! [`Inner`] owns `(ptr, len)` plus the alignment it was mapped with, and is
//! the only place that turns the user's view back into the kernel's
//! (`kernel_range`) or checks a sub-range (`checked_range`). A length of 0
//! means nothing is mapped: such a mapping makes no system call at all.

use core::ffi::c_void;
use core::fmt;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::slice;

use syscalls::Errno;

use crate::flags::{Advice, MapFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};
use crate::page::{page_size, round_up};
use crate::sys::RawFd;
use crate::sys::consts::{
    AT_EMPTY_PATH, S_IFDIR, S_IFIFO, S_IFMT, S_IFSOCK, STATX_SIZE, STATX_TYPE,
};
use crate::sys::{fd as sys_fd, mm as sys};

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

/// The size of the file open at `fd`, from `statx(fd, "", AT_EMPTY_PATH,
/// STATX_TYPE | STATX_SIZE)` (Linux 4.11+).
///
/// A negative `fd` is `EBADF` before any system call (`AT_FDCWD`, -100,
/// would otherwise make `statx` describe the current directory); a
/// directory is `EISDIR`, and a FIFO or a socket `ENODEV` (what `mmap` says
/// of them): their "size" is no length of bytes to map.
fn file_size(fd: RawFd) -> Result<u64, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    let stx = sys_fd::statx(fd, c"", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE)?;
    match stx.mode() & S_IFMT {
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFIFO | S_IFSOCK => return Err(Errno::ENODEV),
        _ => {}
    }
    Ok(stx.size())
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
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = Some(page_bits);
        self.flags = self.flags.difference(huge_field()) | MapFlags::HUGETLB;
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
    ///   process (the test `truncated_file_raises_sigbus` in
    ///   `tests/reliability.rs` shows exactly that);
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
    /// given; `EOVERFLOW` if `offset + len` does not fit a `u64`; `ENOMEM` if
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
    pub unsafe fn map(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ, MapFlags::SHARED, fd.map_fd())
            .map(|inner| Mmap { inner })
    }

    /// Maps the file read-write and shared (`PROT_READ | PROT_WRITE`,
    /// `MAP_SHARED`): writes reach the file.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody else may change or truncate the
    /// mapped part of the file while the mapping lives (touching a page past
    /// a new end of file raises `SIGBUS`: see the test
    /// `truncated_file_raises_sigbus` in `tests/reliability.rs`).
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
    pub unsafe fn map_mut(&self, fd: impl MapFd) -> Result<MmapMut, Errno> {
        self.map_file(Prot::READ | Prot::WRITE, MapFlags::SHARED, fd.map_fd())
            .map(|inner| MmapMut { inner })
    }

    /// Maps the file copy-on-write (`PROT_READ | PROT_WRITE`, `MAP_PRIVATE`):
    /// writes stay in this process and never reach the file.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): pages not yet written still show the file,
    /// so nobody may change or truncate it while the mapping lives (touching
    /// a page past a new end of file raises `SIGBUS`: see the test
    /// `truncated_file_raises_sigbus` in `tests/reliability.rs`).
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
    pub unsafe fn map_copy(&self, fd: impl MapFd) -> Result<MmapMut, Errno> {
        self.map_file(Prot::READ | Prot::WRITE, MapFlags::PRIVATE, fd.map_fd())
            .map(|inner| MmapMut { inner })
    }

    /// Maps the file read-only and private (`PROT_READ`, `MAP_PRIVATE`):
    /// [`Mmap::make_mut`] then gives a copy-on-write mapping even of a file
    /// opened read-only.
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody may change or truncate the file
    /// while the mapping lives (touching a page past a new end of file
    /// raises `SIGBUS`: see the test `truncated_file_raises_sigbus` in `tests/reliability.rs`).
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
    pub unsafe fn map_copy_read_only(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ, MapFlags::PRIVATE, fd.map_fd())
            .map(|inner| Mmap { inner })
    }

    /// Maps the file readable and executable, shared (`PROT_READ |
    /// PROT_EXEC`, `MAP_SHARED`).
    ///
    /// # Safety
    ///
    /// As for [`map`](Self::map): nobody may change or truncate the file
    /// while the mapping lives (touching a page past a new end of file
    /// raises `SIGBUS`: see the test `truncated_file_raises_sigbus` in `tests/reliability.rs`).
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
    pub unsafe fn map_exec(&self, fd: impl MapFd) -> Result<Mmap, Errno> {
        self.map_file(Prot::READ | Prot::EXEC, MapFlags::SHARED, fd.map_fd())
            .map(|inner| Mmap { inner })
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
        Inner::new(
            len,
            0,
            Prot::READ | Prot::WRITE,
            flags,
            -1,
            self.align_for(len)?,
        )
        .map(|inner| MmapMut { inner })
    }

    fn map_file(&self, prot: Prot, sharing: MapFlags, fd: RawFd) -> Result<Inner, Errno> {
        let len = match self.len {
            Some(len) => len,
            None => {
                let size = file_size(fd)?;
                let rest = size.checked_sub(self.offset).ok_or(Errno::EINVAL)?;
                usize::try_from(rest).map_err(|_| Errno::ENOMEM)?
            }
        };
        Inner::new(
            len,
            self.offset,
            prot,
            sharing | self.flags,
            fd,
            self.align_for(len)?,
        )
    }

    /// [`align`](Self::align), unless nothing is to be mapped: an empty
    /// mapping makes no system call, not even the read of `/proc/meminfo`
    /// that `huge(None)` needs.
    #[inline]
    fn align_for(&self, len: usize) -> Result<usize, Errno> {
        if len == 0 { Ok(1) } else { self.align() }
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
            Some(None) => crate::page::default_huge_page_size(),
        }
    }
}

/// The huge page size field of [`MapFlags`].
const fn huge_field() -> MapFlags {
    MapFlags::from_bits_retain(MapFlags::HUGE_MASK << MapFlags::HUGE_SHIFT)
}

/// The one owner of a mapping: the user's `(ptr, len)` and the alignment it
/// was mapped with. Every system call on a mapping goes through here.
struct Inner {
    /// The user's first byte. Dangling (but aligned for `u8`) when `len == 0`.
    ptr: NonNull<u8>,
    /// The user's length. 0 means nothing is mapped.
    len: usize,
    /// The page size (or huge page size) the mapping was made with: a power
    /// of two.
    align: usize,
}

// SAFETY: `Inner` owns its mapping exclusively, as a `Box<[u8]>` owns its
// allocation; the mapping is not tied to the thread that made it, and shared
// access goes through `&[u8]` only (mutation needs `&mut`).
unsafe impl Send for Inner {}
// SAFETY: as above; `&Inner` gives only reads and system calls that do not
// change the contents (msync, madvise with safe advice, mlock).
unsafe impl Sync for Inner {}

impl Inner {
    const EMPTY: Inner = Inner {
        ptr: NonNull::dangling(),
        len: 0,
        align: 1,
    };

    /// Maps `len` bytes from byte `offset` of `fd`; `len == 0` maps nothing.
    #[inline]
    fn new(
        len: usize,
        offset: u64,
        prot: Prot,
        flags: MapFlags,
        fd: RawFd,
        align: usize,
    ) -> Result<Inner, Errno> {
        if len == 0 {
            return Ok(Inner::EMPTY);
        }
        // `offset + len` must fit the file offset type, as the kernel's own
        // check demands.
        offset.checked_add(len as u64).ok_or(Errno::EOVERFLOW)?;
        // `align` is a power of two, so the remainder fits a usize.
        let head = (offset & (align as u64 - 1)) as usize;
        let map_len = head
            .checked_add(len)
            .and_then(|n| round_up(n, align))
            .ok_or(Errno::ENOMEM)?;
        // SAFETY: a new mapping without FIXED replaces nothing. The caller of
        // the public constructor vouched for the file (see `map`).
        let base = unsafe {
            sys::mmap(
                core::ptr::null_mut(),
                map_len,
                prot,
                flags,
                fd,
                offset - head as u64,
            )
        }?;
        // SAFETY: the kernel returned a mapping of `map_len > head` bytes at
        // `base`, which is therefore not null, nor is `base + head`.
        let ptr = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(head)) };
        Ok(Inner { ptr, len, align })
    }

    /// The kernel's view: the mapping's aligned base address and length.
    #[inline]
    fn kernel_range(&self) -> (*mut c_void, usize) {
        let addr = self.ptr.as_ptr() as usize;
        let head = addr & (self.align - 1);
        // Cannot overflow: the mapping exists, so its rounded end fits.
        let map_len = (head + self.len + self.align - 1) & !(self.align - 1);
        (self.ptr.as_ptr().wrapping_sub(head).cast(), map_len)
    }

    /// The one check of a sub-range `[offset, offset + len)` of the user's
    /// view: inside the mapping, or `EINVAL` before any system call. Returns
    /// the range widened to whole pages (still inside the mapping), or
    /// `None` when the range is empty and there is nothing to do.
    #[inline]
    fn checked_range(
        &self,
        offset: usize,
        len: usize,
    ) -> Result<Option<(*mut c_void, usize)>, Errno> {
        let end = match offset.checked_add(len) {
            Some(end) if end <= self.len => end,
            _ => return Err(Errno::EINVAL),
        };
        if len == 0 {
            return Ok(None);
        }
        let start = self.ptr.as_ptr() as usize + offset;
        let page_start = start & !(self.align - 1);
        // The end is rounded up to the page too, as the kernel would round
        // the length: the call then means the same where the kernel's pages
        // are smaller than ours (QEMU's user mode with QEMU_PAGESIZE). It
        // stays inside the mapping, whose kernel range ends on a page
        // boundary, so this cannot overflow.
        let end_addr = self.ptr.as_ptr() as usize + end;
        let page_end = (end_addr + self.align - 1) & !(self.align - 1);
        Ok(Some((page_start as *mut c_void, page_end - page_start)))
    }

    fn slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for reads of `len` bytes while the mapping
        // lives (or dangling with len 0); the constructor's caller promised
        // nobody changes or truncates the file under it.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn slice_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `slice`, and `&mut self` makes the access exclusive;
        // only `MmapMut` calls this, whose mapping is writable.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    #[inline]
    fn msync(&self, offset: usize, len: usize, flags: MsyncFlags) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; msync does not change
            // its contents.
            Some((addr, len)) => unsafe { sys::msync(addr, len, flags) },
            None => Ok(()),
        }
    }

    /// # Safety
    ///
    /// With advice that changes contents, no reference may rely on the old
    /// contents of the range.
    unsafe fn madvise(&self, offset: usize, len: usize, advice: i32) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; the caller accepts
            // what the advice does to its contents.
            Some((addr, len)) => unsafe { sys::madvise(addr, len, advice) },
            None => Ok(()),
        }
    }

    fn lock(&self, offset: usize, len: usize, lock: bool) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; locking changes no
            // contents.
            Some((addr, len)) if lock => unsafe { sys::mlock(addr, len) },
            // SAFETY: as above.
            Some((addr, len)) => unsafe { sys::munlock(addr, len) },
            None => Ok(()),
        }
    }

    /// Changes the protection of the whole kernel range.
    ///
    /// # Safety
    ///
    /// The new protection must suit every reference the caller still hands
    /// out (the type-state conversions guarantee it).
    unsafe fn mprotect(&self, prot: Prot) -> Result<(), Errno> {
        if self.len == 0 {
            return Ok(());
        }
        let (base, map_len) = self.kernel_range();
        // SAFETY: this is exactly our mapping; the caller made sure the new
        // protection suits the references it hands out.
        unsafe { sys::mprotect(base, map_len, prot) }
    }

    /// # Safety
    ///
    /// For a file mapping, growing must not reach past the end of the file
    /// (touching such pages raises `SIGBUS`).
    unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> Result<(), Errno> {
        if new_len == 0 || self.len == 0 {
            return Err(Errno::EINVAL);
        }
        let (base, old_map_len) = self.kernel_range();
        let head = self.ptr.as_ptr() as usize - base as usize;
        let new_map_len = head
            .checked_add(new_len)
            .and_then(|n| round_up(n, self.align))
            .ok_or(Errno::ENOMEM)?;
        let flags = if may_move {
            MremapFlags::MAYMOVE
        } else {
            MremapFlags::empty()
        };
        // SAFETY: the old range is exactly our mapping and `&mut self` means
        // no reference into it is alive; the caller vouches for the file.
        let new_base =
            unsafe { sys::mremap(base, old_map_len, new_map_len, flags, core::ptr::null_mut()) }?;
        // SAFETY: the kernel returned a mapping of `new_map_len > head` bytes.
        self.ptr = unsafe { NonNull::new_unchecked(new_base.cast::<u8>().add(head)) };
        self.len = new_len;
        Ok(())
    }

    /// Unmaps, reporting munmap's error; `self` is left intact on error.
    #[inline]
    fn unmap(&self) -> Result<(), Errno> {
        if self.len == 0 {
            return Ok(());
        }
        let (base, map_len) = self.kernel_range();
        // SAFETY: this is exactly our mapping, and every caller forgets
        // `self` on success, so nothing uses it afterwards.
        unsafe { sys::munmap(base, map_len) }
    }

    /// Rebuilds the owner of a mapping of page-sized pages.
    ///
    /// # Safety
    ///
    /// As documented on `Mmap::from_raw`.
    unsafe fn from_raw(ptr: *mut u8, len: usize) -> Inner {
        match NonNull::new(ptr) {
            Some(ptr) if len != 0 => Inner {
                ptr,
                len,
                align: page_size(),
            },
            _ => Inner::EMPTY,
        }
    }
}

impl Drop for Inner {
    #[inline]
    fn drop(&mut self) {
        // Drop cannot report an error; `unmap` exists for callers who want it.
        let _ = self.unmap();
    }
}

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

/// A read-only memory mapping: derefs to `&[u8]`, unmapped on drop.
///
/// Made by [`MmapOptions::map`], [`MmapOptions::map_copy_read_only`],
/// [`MmapOptions::map_exec`], [`MmapMut::make_read_only`] and, with `std`,
/// [`Mmap::open`].
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::io::Write;
/// let mut file = tempfile::NamedTempFile::new()?;
/// file.write_all(b"read me")?;
/// // SAFETY: the temporary file is private to this example.
/// let map = unsafe { rawmap::Mmap::open(file.path())? };
/// assert!(map.starts_with(b"read"));
/// # Ok(()) }
/// ```
pub struct Mmap {
    inner: Inner,
}

/// A writable memory mapping: derefs to `&mut [u8]`, unmapped on drop.
///
/// Made by [`MmapOptions::map_mut`], [`MmapOptions::map_copy`],
/// [`MmapOptions::map_anon`], [`MmapOptions::map_anon_shared`],
/// [`Mmap::make_mut`] and, with `std`, [`MmapMut::open`] and
/// [`MmapMut::create`].
///
/// ```
/// let mut map = rawmap::MmapOptions::new().len(4).map_anon()?;
/// map.copy_from_slice(b"abcd");
/// assert_eq!(&map[1..3], b"bc");
/// # Ok::<(), rawmap::Errno>(())
/// ```
pub struct MmapMut {
    inner: Inner,
}

static_assertions::assert_impl_all!(Mmap: Send, Sync);
static_assertions::assert_impl_all!(MmapMut: Send, Sync);
static_assertions::assert_impl_all!(MmapError<MmapMut>: Send, Sync);

/// The methods `Mmap` and `MmapMut` share, forwarded to `Inner`. `$get`
/// turns a fresh anonymous `MmapMut` named `map` into the type, for the
/// examples.
macro_rules! common_methods {
    ($ty:ident, $get:literal) => {
        impl $ty {
            /// The address of the first byte.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// assert!(!map.as_ptr().is_null());
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[inline]
            pub fn as_ptr(&self) -> *const u8 {
                self.inner.ptr.as_ptr()
            }

            /// The length in bytes, as asked for (not rounded to pages).
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// assert_eq!(map.len(), 3);
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[inline]
            pub fn len(&self) -> usize {
                self.inner.len
            }

            /// Whether the mapping is empty (then nothing is mapped at all).
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(0).map_anon()?;
            #[doc = $get]
            /// assert!(map.is_empty());
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.inner.len == 0
            }

            /// Gives the kernel advice about the whole mapping (`madvise`).
            ///
            /// # Errors
            ///
            /// The kernel's, e.g. `EINVAL` for advice that does not suit the
            /// mapping.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// map.advise(rawmap::Advice::Sequential)?;
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[doc(alias = "madvise")]
            pub fn advise(&self, advice: Advice) -> Result<(), Errno> {
                self.advise_range(advice, 0, self.inner.len)
            }

            /// Gives the kernel advice about bytes `offset..offset + len` of
            /// the mapping (widened to whole pages, never beyond the mapping).
            ///
            /// # Errors
            ///
            /// `EINVAL` before any system call if the range does not lie
            /// inside the mapping (or `offset + len` overflows); the
            /// kernel's errors otherwise.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(100).map_anon()?;
            #[doc = $get]
            /// map.advise_range(rawmap::Advice::WillNeed, 10, 20)?;
            /// assert_eq!(map.advise_range(rawmap::Advice::WillNeed, 100, 1),
            ///            Err(rawmap::Errno::EINVAL));
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub fn advise_range(&self, advice: Advice, offset: usize, len: usize) -> Result<(), Errno> {
                // SAFETY: `Advice` never changes the contents of memory.
                unsafe { self.inner.madvise(offset, len, advice as i32) }
            }

            /// Gives the kernel advice that may change or discard the
            /// contents of the whole mapping.
            ///
            /// # Safety
            ///
            /// No reference into the mapping may rely on its contents staying
            /// as they are: after [`UncheckedAdvice::DontNeed`] private
            /// anonymous memory reads back as zeros and a private file
            /// mapping as the file's contents again, after
            /// [`UncheckedAdvice::Remove`] the file itself has a hole.
            ///
            /// # Errors
            ///
            /// The kernel's (e.g. `EINVAL` for `DontNeed` on locked pages,
            /// `EPERM` for privileged advice).
            ///
            /// ```
            /// let mut map = rawmap::MmapOptions::new().len(3).map_anon()?;
            /// map[0] = 9;
            #[doc = $get]
            /// // SAFETY: no reference relies on the contents.
            /// unsafe { map.unchecked_advise(rawmap::UncheckedAdvice::DontNeed)? };
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> Result<(), Errno> {
                // SAFETY: the caller accepts what the advice does.
                unsafe { self.unchecked_advise_range(advice, 0, self.inner.len) }
            }

            /// Gives the kernel advice that may change or discard the
            /// contents of bytes `offset..offset + len` (widened to whole
            /// pages, never beyond the mapping).
            ///
            /// # Safety
            ///
            /// As for [`unchecked_advise`](Self::unchecked_advise), for every
            /// page the range touches.
            ///
            /// # Errors
            ///
            /// `EINVAL` before any system call if the range does not lie
            /// inside the mapping; the kernel's errors otherwise.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// // SAFETY: no reference relies on the contents.
            /// unsafe { map.unchecked_advise_range(rawmap::UncheckedAdvice::DontNeed, 0, 1)? };
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub unsafe fn unchecked_advise_range(
                &self,
                advice: UncheckedAdvice,
                offset: usize,
                len: usize,
            ) -> Result<(), Errno> {
                // SAFETY: the caller accepts what the advice does.
                unsafe { self.inner.madvise(offset, len, advice as i32) }
            }

            /// Locks the whole mapping in RAM (`mlock`).
            ///
            /// # Errors
            ///
            /// `ENOMEM` or `EPERM` when `RLIMIT_MEMLOCK` does not allow it;
            /// `EAGAIN`.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// if map.lock().is_ok() {
            ///     map.unlock()?;
            /// }
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[doc(alias = "mlock")]
            pub fn lock(&self) -> Result<(), Errno> {
                self.inner.lock(0, self.inner.len, true)
            }

            /// Unlocks the whole mapping (`munlock`).
            ///
            /// # Errors
            ///
            /// The kernel's (rare: the range is always mapped).
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// map.unlock()?; // unlocking unlocked memory is fine
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[doc(alias = "munlock")]
            pub fn unlock(&self) -> Result<(), Errno> {
                self.inner.lock(0, self.inner.len, false)
            }

            /// Locks bytes `offset..offset + len` in RAM (widened to whole
            /// pages, never beyond the mapping).
            ///
            /// # Errors
            ///
            /// `EINVAL` before any system call if the range does not lie
            /// inside the mapping; otherwise as for [`lock`](Self::lock).
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(100).map_anon()?;
            #[doc = $get]
            /// assert_eq!(map.lock_range(50, 51), Err(rawmap::Errno::EINVAL));
            /// if map.lock_range(0, 10).is_ok() {
            ///     map.unlock_range(0, 10)?;
            /// }
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub fn lock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
                self.inner.lock(offset, len, true)
            }

            /// Unlocks bytes `offset..offset + len` (widened to whole pages,
            /// never beyond the mapping).
            ///
            /// # Errors
            ///
            /// `EINVAL` before any system call if the range does not lie
            /// inside the mapping.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(100).map_anon()?;
            #[doc = $get]
            /// map.unlock_range(0, 100)?;
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub fn unlock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
                self.inner.lock(offset, len, false)
            }

            /// Unmaps now, reporting `munmap`'s error (which `Drop` has to
            /// ignore). On error the mapping comes back inside the error.
            ///
            /// # Errors
            ///
            /// `munmap`'s: `ENOMEM` when unmapping would split a mapping
            /// beyond the process's limit of mappings.
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// map.unmap()?;
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            #[doc(alias = "munmap")]
            pub fn unmap(self) -> Result<(), MmapError<Self>> {
                match self.inner.unmap() {
                    Ok(()) => {
                        core::mem::forget(self);
                        Ok(())
                    }
                    Err(errno) => Err(MmapError { map: self, errno }),
                }
            }

            /// Gives up ownership: returns the address and length of the
            /// user's view, and leaves the mapping in place. Rebuild the
            /// owner with [`from_raw`](Self::from_raw), or unmap it yourself
            /// (the kernel's range starts at the address rounded down to a
            /// page and ends at `address + len` rounded up).
            ///
            /// ```
            /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
            #[doc = $get]
            /// let (ptr, len) = map.into_raw();
            #[doc = concat!("// SAFETY: `ptr` and `len` come from `into_raw` of a mapping",
                            " of normal pages,\n// and nothing else owns it.")]
            #[doc = concat!("let map = unsafe { rawmap::", stringify!($ty), "::from_raw(ptr, len) };")]
            /// assert_eq!(map.len(), 3);
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub fn into_raw(self) -> (*mut u8, usize) {
                let this = ManuallyDrop::new(self);
                (this.inner.ptr.as_ptr(), this.inner.len)
            }

            /// Takes ownership of a mapping made elsewhere: `len` bytes at
            /// `ptr`. A null `ptr` or a zero `len` gives an empty mapping.
            ///
            /// # Safety
            ///
            /// - The pages from `ptr` rounded down to [`page_size`] up to
            ///   `ptr + len` rounded up are one mapping of normal pages (not
            ///   made with [`MmapOptions::huge`]) that nothing else owns, and
            ///   that is dropped with `munmap` of exactly that range;
            /// - it is readable (and, for `MmapMut`, writable) for the whole
            ///   of `ptr..ptr + len`, and the file behind it (if any) follows
            ///   the rules of [`MmapOptions::map`].
            ///
            /// `(ptr, len)` from [`into_raw`](Self::into_raw) of a mapping of
            /// normal pages of the same type meets all of this.
            ///
            /// ```
            /// use rawmap::{mmap, page_size, MapFlags, Prot};
            /// let len = page_size();
            /// // SAFETY: a new private anonymous mapping, owned by nobody else.
            /// let map = unsafe {
            ///     let p = mmap(core::ptr::null_mut(), len, Prot::READ | Prot::WRITE,
            ///                  MapFlags::PRIVATE | MapFlags::ANONYMOUS, -1, 0)?;
            #[doc = concat!("    rawmap::", stringify!($ty), "::from_raw(p.cast(), len)")]
            /// };
            /// assert_eq!(map[len - 1], 0);
            /// # Ok::<(), rawmap::Errno>(())
            /// ```
            pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Self {
                // SAFETY: the caller's promise is `Inner::from_raw`'s.
                Self { inner: unsafe { Inner::from_raw(ptr, len) } }
            }
        }

        impl Deref for $ty {
            type Target = [u8];
            #[inline]
            fn deref(&self) -> &[u8] {
                self.inner.slice()
            }
        }

        impl AsRef<[u8]> for $ty {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                self.inner.slice()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("ptr", &self.inner.ptr)
                    .field("len", &self.inner.len)
                    .finish()
            }
        }
    };
}

common_methods!(Mmap, "let map = map.make_read_only()?;");
common_methods!(MmapMut, "let map = map;");

impl Mmap {
    /// Makes the mapping writable (`mprotect` to `READ | WRITE`).
    ///
    /// For a private mapping ([`MmapOptions::map_copy_read_only`]) writes
    /// then stay in this process; for a shared mapping they reach the file,
    /// which the kernel allows only if the file was opened for writing.
    ///
    /// # Errors
    ///
    /// `EACCES` for a shared mapping of a file opened read-only; the mapping
    /// comes back inside the error, unchanged.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
    /// let mut map = map.make_mut()?;
    /// map[0] = 1;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn make_mut(self) -> Result<MmapMut, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&[u8]` into the mapping is alive
        // when it becomes writable.
        match unsafe { self.inner.mprotect(Prot::READ | Prot::WRITE) } {
            Ok(()) => Ok(MmapMut { inner: self.inner }),
            Err(errno) => Err(MmapError { map: self, errno }),
        }
    }

    /// Makes the mapping executable (`mprotect` to `READ | EXEC`).
    ///
    /// # Errors
    ///
    /// `EACCES` (or `EPERM`) for a file on a `noexec` mount; the mapping
    /// comes back inside the error, unchanged.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
    /// let code = map.make_exec()?;
    /// assert_eq!(code.len(), 3);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn make_exec(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: the mapping stays readable; adding EXEC changes nothing
        // for `&[u8]` readers (running the code is unsafe on its own).
        match unsafe { self.inner.mprotect(Prot::READ | Prot::EXEC) } {
            Ok(()) => Ok(self),
            Err(errno) => Err(MmapError { map: self, errno }),
        }
    }

    /// Gives up ownership for the rest of the program: the mapping is never
    /// unmapped.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
    /// let forever: &'static [u8] = map.leak();
    /// assert_eq!(forever, &[0, 0, 0]);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn leak(self) -> &'static [u8] {
        let this = ManuallyDrop::new(self);
        // SAFETY: the mapping is never unmapped, so the slice stays valid
        // forever; the constructor's caller vouched for the file.
        unsafe { slice::from_raw_parts(this.inner.ptr.as_ptr(), this.inner.len) }
    }
}

impl MmapMut {
    /// The address of the first byte, for writing.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(1).map_anon()?;
    /// // SAFETY: the mapping is one writable byte long.
    /// unsafe { map.as_mut_ptr().write(5) };
    /// assert_eq!(map[0], 5);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.inner.ptr.as_ptr()
    }

    /// Writes the changes back to the file and waits until they are on the
    /// device (`msync(MS_SYNC)`). A no-op for anonymous memory.
    ///
    /// # Errors
    ///
    /// The file system's write-back errors (`EIO`, `ENOSPC`, ...).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::NamedTempFile::new()?;
    /// // SAFETY: the temporary file is private to this example.
    /// let mut map = unsafe { rawmap::MmapMut::create(file.path(), 5)? };
    /// map.copy_from_slice(b"saved");
    /// map.flush()?;
    /// assert_eq!(std::fs::read(file.path())?, b"saved");
    /// # Ok(()) }
    /// ```
    #[doc(alias = "msync")]
    #[inline]
    pub fn flush(&self) -> Result<(), Errno> {
        self.inner.msync(0, self.inner.len, MsyncFlags::SYNC)
    }

    /// Starts writing the changes back and returns at once
    /// (`msync(MS_ASYNC)`).
    ///
    /// # Errors
    ///
    /// As for [`flush`](Self::flush).
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(5).map_anon_shared()?;
    /// map[0] = 1;
    /// map.flush_async()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn flush_async(&self) -> Result<(), Errno> {
        self.inner.msync(0, self.inner.len, MsyncFlags::ASYNC)
    }

    /// Writes bytes `offset..offset + len` back (widened to whole pages,
    /// never beyond the mapping) and waits for the device.
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range does not lie inside the
    /// mapping; otherwise as for [`flush`](Self::flush).
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(100).map_anon_shared()?;
    /// map.flush_range(3, 50)?;
    /// assert_eq!(map.flush_range(90, 11), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn flush_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.msync(offset, len, MsyncFlags::SYNC)
    }

    /// Starts writing bytes `offset..offset + len` back (widened to whole
    /// pages, never beyond the mapping) and returns at once.
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range does not lie inside the
    /// mapping.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(100).map_anon_shared()?;
    /// map.flush_async_range(0, 100)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn flush_async_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.msync(offset, len, MsyncFlags::ASYNC)
    }

    /// Makes the mapping read-only (`mprotect` to `READ`).
    ///
    /// # Errors
    ///
    /// The kernel's (rare); the mapping comes back inside the error,
    /// unchanged.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// map[0] = 7;
    /// let map = map.make_read_only()?;
    /// assert_eq!(map[0], 7);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn make_read_only(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` is alive; removing
        // WRITE affects only writers, and the result hands out `&[u8]` only.
        match unsafe { self.inner.mprotect(Prot::READ) } {
            Ok(()) => Ok(Mmap { inner: self.inner }),
            Err(errno) => Err(MmapError { map: self, errno }),
        }
    }

    /// Makes the mapping executable and read-only (`mprotect` to
    /// `READ | EXEC`).
    ///
    /// # Errors
    ///
    /// `EACCES` (or `EPERM`) for a file on a `noexec` mount; the mapping
    /// comes back inside the error, unchanged.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// let code = map.make_exec()?;
    /// assert_eq!(code[0], 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn make_exec(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` is alive; the result
        // hands out `&[u8]` only.
        match unsafe { self.inner.mprotect(Prot::READ | Prot::EXEC) } {
            Ok(()) => Ok(Mmap { inner: self.inner }),
            Err(errno) => Err(MmapError { map: self, errno }),
        }
    }

    /// Grows or shrinks the mapping to `new_len` bytes (`mremap`), keeping
    /// its contents; with `may_move`, the kernel may move it to grow it.
    ///
    /// # Safety
    ///
    /// For a file mapping, the file must be at least as long as the grown
    /// mapping: touching pages past its end raises `SIGBUS` (the test
    /// `truncated_file_raises_sigbus` in `tests/reliability.rs` shows it). (Anonymous
    /// mappings are always safe to remap.)
    ///
    /// # Errors
    ///
    /// `EINVAL` for `new_len == 0` or an empty mapping; `ENOMEM` when the
    /// mapping cannot grow in place and `may_move` is false, or memory runs
    /// out.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(10).map_anon()?;
    /// map[9] = 1;
    /// // SAFETY: an anonymous mapping has no file to outgrow.
    /// unsafe { map.remap(1 << 20, true)? };
    /// assert_eq!((map.len(), map[9]), (1 << 20, 1));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "mremap")]
    pub unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> Result<(), Errno> {
        // SAFETY: the caller vouches for the file's length.
        unsafe { self.inner.remap(new_len, may_move) }
    }

    /// Gives up ownership for the rest of the program: the mapping is never
    /// unmapped.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// let forever: &'static mut [u8] = map.leak();
    /// forever[0] = 1;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    pub fn leak(self) -> &'static mut [u8] {
        let this = ManuallyDrop::new(self);
        // SAFETY: the mapping is never unmapped and `self` is gone, so this
        // is the only reference, valid forever.
        unsafe { slice::from_raw_parts_mut(this.inner.ptr.as_ptr(), this.inner.len) }
    }
}

impl DerefMut for MmapMut {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        self.inner.slice_mut()
    }
}

impl AsMut<[u8]> for MmapMut {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self.inner.slice_mut()
    }
}
