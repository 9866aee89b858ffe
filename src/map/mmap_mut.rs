//! [`MmapMut`]: a writable mapping.

use core::ffi::c_int;
use core::ops::DerefMut;
use core::slice;

use syscalls::Errno;

#[cfg(doc)]
use super::MmapOptions; // for the doc links
use super::inner::Inner;
use super::{Mmap, MmapError, Operation, slice_owner_impls};
use crate::flags::{Advice, MlockFlags, MsyncFlags, Prot, UncheckedAdvice};

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

slice_owner_impls!(MmapMut);

impl MmapMut {
    /// The owner of `inner`'s mapping.
    #[inline]
    pub(super) const fn from_inner(inner: Inner) -> Self {
        Self { inner }
    }

    /// The address of the first byte.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// assert!(!map.as_ptr().is_null());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.inner.ptr()
    }

    /// The length in bytes, as asked for (not rounded to pages).
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// assert_eq!(map.len(), 3);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the mapping is empty (then nothing is mapped at all).
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(0).map_anon()?;
    /// assert!(map.is_empty());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
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
    /// map.advise(rawmap::Advice::Sequential)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "madvise")]
    #[inline]
    pub fn advise(&self, advice: Advice) -> Result<(), Errno> {
        self.advise_range(advice, 0, self.inner.len())
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
    /// map.advise_range(rawmap::Advice::WillNeed, 10, 20)?;
    /// assert_eq!(map.advise_range(rawmap::Advice::WillNeed, 100, 1),
    ///            Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn advise_range(&self, advice: Advice, offset: usize, len: usize) -> Result<(), Errno> {
        // SAFETY: `Advice` never changes the contents of memory.
        unsafe { self.inner.madvise(offset, len, advice as c_int) }
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
    /// // SAFETY: no reference relies on the contents.
    /// unsafe { map.unchecked_advise(rawmap::UncheckedAdvice::DontNeed)? };
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> Result<(), Errno> {
        // SAFETY: the caller accepts what the advice does.
        unsafe { self.unchecked_advise_range(advice, 0, self.inner.len()) }
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
    /// // SAFETY: no reference relies on the contents.
    /// unsafe { map.unchecked_advise_range(rawmap::UncheckedAdvice::DontNeed, 0, 1)? };
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn unchecked_advise_range(
        &self,
        advice: UncheckedAdvice,
        offset: usize,
        len: usize,
    ) -> Result<(), Errno> {
        // SAFETY: the caller accepts what the advice does.
        unsafe { self.inner.madvise(offset, len, advice as c_int) }
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
    /// if map.lock().is_ok() {
    ///     map.unlock()?;
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "mlock")]
    #[inline]
    pub fn lock(&self) -> Result<(), Errno> {
        self.inner.mlock(0, self.inner.len())
    }

    /// Unlocks the whole mapping (`munlock`).
    ///
    /// # Errors
    ///
    /// The kernel's (rare: the range is always mapped).
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// map.unlock()?; // unlocking unlocked memory is fine
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "munlock")]
    #[inline]
    pub fn unlock(&self) -> Result<(), Errno> {
        self.inner.munlock(0, self.inner.len())
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
    /// assert_eq!(map.lock_range(50, 51), Err(rawmap::Errno::EINVAL));
    /// if map.lock_range(0, 10).is_ok() {
    ///     map.unlock_range(0, 10)?;
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn lock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.mlock(offset, len)
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
    /// map.unlock_range(0, 100)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn unlock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.munlock(offset, len)
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
    /// map.unmap()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[doc(alias = "munmap")]
    #[inline]
    pub fn unmap(self) -> Result<(), MmapError<Self>> {
        self.inner
            .unmap()
            .map_err(|(inner, errno)| MmapError::new(Self { inner }, Operation::Unmap, errno))
    }

    /// Gives up ownership: returns the address and length of the
    /// user's view, and leaves the mapping in place. Rebuild the
    /// owner with [`from_raw`](Self::from_raw), or unmap it yourself
    /// (the kernel's range starts at the address rounded down to a
    /// page and ends at `address + len` rounded up).
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?;
    /// let (ptr, len) = map.into_raw();
    /// // SAFETY: `ptr` and `len` come from `into_raw` of a mapping of normal pages,
    /// // and nothing else owns it.
    /// let map = unsafe { rawmap::MmapMut::from_raw(ptr, len) };
    /// assert_eq!(map.len(), 3);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn into_raw(self) -> (*mut u8, usize) {
        self.inner.into_raw()
    }

    /// Takes ownership of a mapping made elsewhere: `len` bytes at
    /// `ptr`. A null `ptr` or a zero `len` gives an empty mapping.
    ///
    /// # Safety
    ///
    /// - The pages from `ptr` rounded down to [`page_size`](crate::page_size) up to
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
    ///     rawmap::MmapMut::from_raw(p.cast(), len)
    /// };
    /// assert_eq!(map[len - 1], 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Self {
        // SAFETY: the caller's promise is `Inner::from_raw`'s.
        let inner = unsafe { Inner::from_raw(ptr, len) };
        Self { inner }
    }

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
        self.inner.ptr()
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
        self.inner.msync_all(MsyncFlags::SYNC)
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
        self.inner.msync_all(MsyncFlags::ASYNC)
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
    #[inline]
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
    #[inline]
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
    #[inline]
    pub fn make_read_only(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` is alive; removing
        // WRITE affects only writers, and the result hands out `&[u8]` only.
        unsafe { self.inner.protect(Prot::READ) }
            .map(Mmap::from_inner)
            .map_err(|(inner, errno)| {
                MmapError::new(Self { inner }, Operation::MakeReadOnly, errno)
            })
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
    #[inline]
    pub fn make_exec(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` is alive; the result
        // hands out `&[u8]` only.
        unsafe { self.inner.protect(Prot::READ | Prot::EXEC) }
            .map(Mmap::from_inner)
            .map_err(|(inner, errno)| MmapError::new(Self { inner }, Operation::MakeExec, errno))
    }

    /// Grows or shrinks the mapping to `new_len` bytes (`mremap`), keeping
    /// its contents; with `may_move`, the kernel may move it to grow it.
    ///
    /// # Safety
    ///
    /// For a file mapping, the file must be at least as long as the grown
    /// mapping: touching pages past its end raises `SIGBUS` (see
    /// [Safety of file mappings](crate#safety-of-file-mappings)). (Anonymous mappings are always safe
    /// to remap.)
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
    #[inline]
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
    #[inline]
    pub fn leak(self) -> &'static mut [u8] {
        let (ptr, len) = self.inner.into_raw();
        // SAFETY: the mapping is never unmapped and `self` is gone, so this
        // is the only reference, valid forever.
        unsafe { slice::from_raw_parts_mut(ptr, len) }
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

/// Populating, and conversions to the other owners.
impl MmapMut {
    /// Faults the whole mapping in, readable (`MADV_POPULATE_READ`, since
    /// Linux 5.14); where reading a page would raise `SIGBUS` this reports
    /// an error instead. See [`Mmap::populate_read`].
    ///
    /// # Errors
    ///
    /// As for [`Mmap::populate_read`].
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?;
    /// assert!(matches!(map.populate_read(), Ok(()) | Err(rawmap::Errno::EINVAL)));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "MADV_POPULATE_READ")]
    #[inline]
    pub fn populate_read(&self) -> Result<(), Errno> {
        self.advise(Advice::PopulateRead)
    }

    /// Faults the whole mapping in, writable (`MADV_POPULATE_WRITE`, since
    /// Linux 5.14): anonymous pages are allocated, private file pages
    /// copied, shared file pages made dirty-ready, with no change to the
    /// contents; where writing a page would raise `SIGBUS` (past the end of
    /// the file) this reports an error instead.
    ///
    /// # Errors
    ///
    /// As for [`Mmap::populate_read`].
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?;
    /// assert!(matches!(map.populate_write(), Ok(()) | Err(rawmap::Errno::EINVAL)));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "MADV_POPULATE_WRITE")]
    #[inline]
    pub fn populate_write(&self) -> Result<(), Errno> {
        self.advise(Advice::PopulateWrite)
    }

    /// The owner inside, for conversions to other owners.
    #[inline]
    pub(super) fn into_inner(self) -> Inner {
        self.inner
    }

    /// Locks the whole mapping in memory as its pages are faulted in
    /// (`mlock2(MLOCK_ONFAULT)`, since Linux 4.4), instead of faulting it
    /// all in now as [`lock`](Self::lock) does: pages never touched take no
    /// memory, pages touched stay resident.
    ///
    /// # Errors
    ///
    /// `ENOMEM`/`EPERM` past `RLIMIT_MEMLOCK`; `ENOSYS` where the kernel
    /// (or QEMU 7.2's user mode) has no `mlock2`. An empty mapping makes no
    /// system call.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?;
    /// match map.lock_on_fault() {
    ///     Ok(()) => map.unlock()?,
    ///     Err(e) => assert!([rawmap::Errno::ENOSYS, rawmap::Errno::ENOMEM,
    ///                        rawmap::Errno::EPERM].contains(&e)),
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mlock2(2)](https://man7.org/linux/man-pages/man2/mlock.2.html).
    #[doc(alias = "mlock2")]
    #[inline]
    pub fn lock_on_fault(&self) -> Result<(), Errno> {
        self.inner.mlock2(0, self.inner.len(), MlockFlags::ONFAULT)
    }

    /// Seals the mapping (`mseal`, since Linux 6.10, 64-bit only): from now
    /// on it can never be unmapped, moved, resized or given another
    /// protection. The owner is consumed and the bytes stay mutably
    /// borrowed for the rest of the program. See [`Mmap::seal`].
    ///
    /// # Errors
    ///
    /// As for [`Mmap::seal`]; the mapping comes back inside the error.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(8).map_anon()?;
    /// match map.seal() {
    ///     Ok(forever) => forever[0] = 1,
    ///     Err(e) => assert_eq!(e.errno(), rawmap::Errno::ENOSYS), // before Linux 6.10
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mseal(2)](https://man7.org/linux/man-pages/man2/mseal.2.html).
    #[doc(alias = "mseal")]
    #[inline]
    pub fn seal(self) -> Result<&'static mut [u8], MmapError<Self>> {
        // SAFETY: on success `self` is given up below and never unmapped.
        match unsafe { self.inner.seal() } {
            Ok(()) => {
                let (ptr, len) = self.inner.into_raw();
                // SAFETY: the sealed mapping can never be unmapped or
                // reprotected, and its owner is gone, so this is the only
                // reference, valid forever.
                Ok(unsafe { slice::from_raw_parts_mut(ptr, len) })
            }
            Err(errno) => Err(MmapError::new(self, Operation::Seal, errno)),
        }
    }
}
