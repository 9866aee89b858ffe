//! [`MmapRaw`]: a mapping that hands out pointers (and atomic words), never
//! `&[u8]`.

use core::ffi::c_int;
use core::fmt;
use core::mem::{align_of, size_of};
use core::sync::atomic::AtomicU32;
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::AtomicU64;

use syscalls::Errno;

#[cfg(doc)]
use super::MmapOptions; // for the doc links
use super::inner::Inner;
use super::{Mmap, MmapError, MmapMut, Operation};
use crate::flags::{Advice, MlockFlags, MsyncFlags, UncheckedAdvice};

/// A memory mapping that hands out only raw pointers and atomic words, never
/// `&[u8]` or `&mut [u8]`: for memory that other processes (or the file's
/// other users) change while it is mapped. Unmapped on drop.
///
/// Because no slice into the mapping is ever made, the contents changing
/// under it is not undefined behaviour, so making one is safe even for a
/// file ([`MmapOptions::map_raw`]), as in memmap2. What the caller does
/// with the pointers is `unsafe` and up to it; the checked atomic views
/// ([`atomic_u32`](Self::atomic_u32), [`atomic_u64`](Self::atomic_u64)) are
/// safe.
///
/// Made by [`MmapOptions::map_raw`], [`MmapOptions::map_raw_read_only`],
/// [`MmapOptions::map_raw_anon_shared`], and from [`Mmap`] and [`MmapMut`]
/// with `From`.
///
/// A file mapped this way can still be truncated by someone else: touching
/// a page past the new end of file then raises `SIGBUS` (see
/// [Safety of file mappings](crate#safety-of-file-mappings)); that kills
/// the process but is not undefined behaviour.
///
/// ```
/// use std::sync::atomic::Ordering;
/// let shared = rawmap::MmapOptions::new().len(64).map_raw_anon_shared()?;
/// let counter = shared.atomic_u32(0)?;
/// counter.fetch_add(1, Ordering::SeqCst);
/// assert_eq!(counter.load(Ordering::SeqCst), 1);
/// # Ok::<(), rawmap::Errno>(())
/// ```
pub struct MmapRaw {
    inner: Inner,
    /// Whether the mapping is writable, so that atomic views (which can
    /// store) are handed out.
    writable: bool,
}

impl fmt::Debug for MmapRaw {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.debug(f, "MmapRaw")
    }
}

impl From<Mmap> for MmapRaw {
    /// The same mapping, read-only: its atomic views are `EACCES`.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(8).map_anon()?.make_read_only()?;
    /// let raw = rawmap::MmapRaw::from(map);
    /// assert_eq!(raw.atomic_u32(0).unwrap_err(), rawmap::Errno::EACCES);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    fn from(map: Mmap) -> Self {
        Self::from_inner(map.into_inner(), false)
    }
}

impl From<MmapMut> for MmapRaw {
    /// The same mapping, writable.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(8).map_anon()?;
    /// map[0] = 7;
    /// let raw = rawmap::MmapRaw::from(map);
    /// // SAFETY: the mapping is 8 bytes long and nothing else refers to it.
    /// assert_eq!(unsafe { *raw.as_ptr() }, 7);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    fn from(map: MmapMut) -> Self {
        Self::from_inner(map.into_inner(), true)
    }
}

impl MmapRaw {
    /// The owner of `inner`'s mapping.
    #[inline]
    pub(super) const fn from_inner(inner: Inner, writable: bool) -> Self {
        Self { inner, writable }
    }

    /// The address of the first byte (aligned for any primitive type when
    /// the mapping is empty, and then never to be dereferenced).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// assert!(!raw.as_ptr().is_null());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.inner.ptr()
    }

    /// The address of the first byte, for writing (writes to a read-only
    /// mapping raise `SIGSEGV`).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// // SAFETY: the mapping is writable, 4 bytes long, and no reference into it exists.
    /// unsafe { raw.as_mut_ptr().write(9) };
    /// // SAFETY: as above.
    /// assert_eq!(unsafe { *raw.as_ptr() }, 9);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.inner.ptr()
    }

    /// The length in bytes, as asked for (not rounded to pages).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(5).map_raw_anon_shared()?;
    /// assert_eq!(raw.len(), 5);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the mapping is empty (nothing is mapped).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(0).map_raw_anon_shared()?;
    /// assert!(raw.is_empty());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// Whether the mapping is writable (made read-write, or from an
    /// [`MmapMut`]).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(5).map_raw_anon_shared()?;
    /// assert!(raw.is_writable());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The checked place of a `T`-sized word at `offset`.
    #[inline]
    fn word<T>(&self, offset: usize) -> Result<*mut T, Errno> {
        if !self.writable {
            return Err(Errno::EACCES);
        }
        match offset.checked_add(size_of::<T>()) {
            Some(end) if end <= self.inner.len() => {}
            _ => return Err(Errno::EINVAL),
        }
        // `offset` is inside the mapping, so the sum does not wrap.
        let addr = self.inner.ptr() as usize + offset;
        if addr & (align_of::<T>() - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(self.inner.ptr().wrapping_add(offset).cast::<T>())
    }

    /// The 32-bit word at byte `offset`, as an atomic: for counters, flags
    /// and futex words shared with other processes.
    ///
    /// Sound because the word lies inside the mapping (which outlives the
    /// borrow of `self`), is aligned, is writable, and `AtomicU32` allows
    /// changes through a shared reference; other processes must access it
    /// atomically too.
    ///
    /// # Errors
    ///
    /// `EINVAL` if `offset..offset + 4` is not inside the mapping or the
    /// word's address is not a multiple of 4; `EACCES` if the mapping is
    /// read-only. No system call is made.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let raw = rawmap::MmapOptions::new().len(16).map_raw_anon_shared()?;
    /// raw.atomic_u32(12)?.store(5, Ordering::Relaxed);
    /// assert_eq!(raw.atomic_u32(13).unwrap_err(), rawmap::Errno::EINVAL); // unaligned
    /// assert_eq!(raw.atomic_u32(16).unwrap_err(), rawmap::Errno::EINVAL); // past the end
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn atomic_u32(&self, offset: usize) -> Result<&AtomicU32, Errno> {
        let word = self.word::<AtomicU32>(offset)?;
        // SAFETY: `word` is aligned, inside the mapping, and writable; the
        // mapping lives as long as `&self`; memory shared with others may be
        // changed through an atomic at any time.
        Ok(unsafe { &*word })
    }

    /// The 64-bit word at byte `offset`, as an atomic (on targets with
    /// 64-bit atomics).
    ///
    /// # Errors
    ///
    /// As for [`atomic_u32`](Self::atomic_u32), with 8 bytes and an
    /// alignment of `align_of::<AtomicU64>()`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let raw = rawmap::MmapOptions::new().len(16).map_raw_anon_shared()?;
    /// assert_eq!(raw.atomic_u64(8)?.fetch_add(3, Ordering::SeqCst), 0);
    /// assert_eq!(raw.atomic_u64(9).unwrap_err(), rawmap::Errno::EINVAL);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[cfg(target_has_atomic = "64")]
    #[inline]
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64, Errno> {
        let word = self.word::<AtomicU64>(offset)?;
        // SAFETY: as in `atomic_u32`.
        Ok(unsafe { &*word })
    }

    /// Writes the whole mapping back to its file and waits (`msync(MS_SYNC)`).
    ///
    /// # Errors
    ///
    /// The kernel's (e.g. `EIO`).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.flush()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [msync(2)](https://man7.org/linux/man-pages/man2/msync.2.html).
    #[doc(alias = "msync")]
    #[inline]
    pub fn flush(&self) -> Result<(), Errno> {
        self.inner.msync(0, self.inner.len(), MsyncFlags::SYNC)
    }

    /// Starts writing the whole mapping back (`msync(MS_ASYNC)`).
    ///
    /// # Errors
    ///
    /// The kernel's.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.flush_async()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn flush_async(&self) -> Result<(), Errno> {
        self.inner.msync(0, self.inner.len(), MsyncFlags::ASYNC)
    }

    /// Writes bytes `offset..offset + len` back and waits.
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range is not inside the
    /// mapping; the kernel's otherwise.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.flush_range(1, 2)?;
    /// assert_eq!(raw.flush_range(3, 2), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn flush_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.msync(offset, len, MsyncFlags::SYNC)
    }

    /// Starts writing bytes `offset..offset + len` back.
    ///
    /// # Errors
    ///
    /// As for [`flush_range`](Self::flush_range).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.flush_async_range(0, 4)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn flush_async_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.msync(offset, len, MsyncFlags::ASYNC)
    }

    /// Gives the kernel advice about the whole mapping (`madvise`).
    ///
    /// # Errors
    ///
    /// The kernel's (e.g. `EINVAL` for advice it does not know).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.advise(rawmap::Advice::WillNeed)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "madvise")]
    #[inline]
    pub fn advise(&self, advice: Advice) -> Result<(), Errno> {
        self.advise_range(advice, 0, self.inner.len())
    }

    /// Gives the kernel advice about bytes `offset..offset + len`.
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range is not inside the
    /// mapping; the kernel's otherwise.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// assert_eq!(raw.advise_range(rawmap::Advice::Random, 4, 1), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn advise_range(&self, advice: Advice, offset: usize, len: usize) -> Result<(), Errno> {
        // SAFETY: `Advice` never changes the contents of memory.
        unsafe { self.inner.madvise(offset, len, advice as c_int) }
    }

    /// Gives the kernel advice that may change or discard the contents of
    /// the whole mapping.
    ///
    /// # Safety
    ///
    /// Nothing (in this process or another) may rely on the contents
    /// staying as they are (see [`UncheckedAdvice`]).
    ///
    /// # Errors
    ///
    /// The kernel's.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// // SAFETY: nothing relies on the contents.
    /// unsafe { raw.unchecked_advise(rawmap::UncheckedAdvice::DontNeed)? };
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> Result<(), Errno> {
        // SAFETY: the caller's promise.
        unsafe { self.unchecked_advise_range(advice, 0, self.inner.len()) }
    }

    /// Gives the kernel advice that may change or discard the contents of
    /// bytes `offset..offset + len` (widened to whole pages).
    ///
    /// # Safety
    ///
    /// As for [`unchecked_advise`](Self::unchecked_advise), for the range
    /// widened to whole pages.
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range is not inside the
    /// mapping; the kernel's otherwise.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// // SAFETY: nothing relies on the contents.
    /// unsafe { raw.unchecked_advise_range(rawmap::UncheckedAdvice::DontNeed, 0, 4)? };
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn unchecked_advise_range(
        &self,
        advice: UncheckedAdvice,
        offset: usize,
        len: usize,
    ) -> Result<(), Errno> {
        // SAFETY: the caller accepts what the advice does to the range.
        unsafe { self.inner.madvise(offset, len, advice as c_int) }
    }

    /// Locks the whole mapping in memory (`mlock`).
    ///
    /// # Errors
    ///
    /// `ENOMEM`/`EPERM` past `RLIMIT_MEMLOCK`; the kernel's otherwise.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// if raw.lock().is_ok() { raw.unlock()?; }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mlock(2)](https://man7.org/linux/man-pages/man2/mlock.2.html).
    #[doc(alias = "mlock")]
    #[inline]
    pub fn lock(&self) -> Result<(), Errno> {
        self.inner.mlock(0, self.inner.len())
    }

    /// Unlocks the whole mapping (`munlock`).
    ///
    /// # Errors
    ///
    /// The kernel's.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.unlock()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [munlock(2)](https://man7.org/linux/man-pages/man2/mlock.2.html).
    #[doc(alias = "munlock")]
    #[inline]
    pub fn unlock(&self) -> Result<(), Errno> {
        self.inner.munlock(0, self.inner.len())
    }

    /// Locks bytes `offset..offset + len` (widened to whole pages).
    ///
    /// # Errors
    ///
    /// `EINVAL` before any system call if the range is not inside the
    /// mapping; as for [`lock`](Self::lock) otherwise.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// assert_eq!(raw.lock_range(2, 3), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn lock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.mlock(offset, len)
    }

    /// Unlocks bytes `offset..offset + len` (widened to whole pages).
    ///
    /// # Errors
    ///
    /// As for [`lock_range`](Self::lock_range).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.unlock_range(0, 4)?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn unlock_range(&self, offset: usize, len: usize) -> Result<(), Errno> {
        self.inner.munlock(offset, len)
    }

    /// Unmaps now, reporting `munmap`'s error; on error the mapping comes
    /// back inside it.
    ///
    /// # Errors
    ///
    /// `munmap`'s: `ENOMEM` when unmapping would split a mapping beyond the
    /// process's limit of mappings.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// raw.unmap()?;
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [munmap(2)](https://man7.org/linux/man-pages/man2/munmap.2.html).
    #[doc(alias = "munmap")]
    #[inline]
    pub fn unmap(self) -> Result<(), MmapError<Self>> {
        let writable = self.writable;
        self.inner.unmap().map_err(|(inner, errno)| {
            MmapError::new(Self { inner, writable }, Operation::Unmap, errno)
        })
    }

    /// Gives up ownership: the address and length of the user's view, with
    /// the mapping left in place (see [`Mmap::into_raw`]).
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// let (ptr, len) = raw.into_raw();
    /// // SAFETY: `(ptr, len)` come from `into_raw` of a writable mapping of normal pages.
    /// let raw = unsafe { rawmap::MmapRaw::from_raw(ptr, len) };
    /// assert_eq!(raw.len(), 4);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn into_raw(self) -> (*mut u8, usize) {
        self.inner.into_raw()
    }

    /// Takes ownership of a readable and writable mapping made elsewhere:
    /// `len` bytes at `ptr`. A null `ptr` or a zero `len` gives an empty
    /// mapping.
    ///
    /// # Safety
    ///
    /// As for [`Mmap::from_raw`], and the whole range is writable (the
    /// atomic views store through it); use
    /// [`from_raw_read_only`](Self::from_raw_read_only) for a read-only one.
    ///
    /// ```
    /// use rawmap::{mmap, page_size, MapFlags, Prot};
    /// // SAFETY: a new shared anonymous mapping, owned by nobody else.
    /// let raw = unsafe {
    ///     let p = mmap(core::ptr::null_mut(), page_size(), Prot::READ | Prot::WRITE,
    ///                  MapFlags::SHARED | MapFlags::ANONYMOUS, -1, 0)?;
    ///     rawmap::MmapRaw::from_raw(p.cast(), page_size())
    /// };
    /// assert!(raw.is_writable());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Self {
        // SAFETY: the caller's promise is `Inner::from_raw`'s.
        Self::from_inner(unsafe { Inner::from_raw(ptr, len) }, true)
    }

    /// Takes ownership of a readable mapping made elsewhere; its atomic
    /// views are `EACCES`.
    ///
    /// # Safety
    ///
    /// As for [`Mmap::from_raw`].
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_anon()?.make_read_only()?;
    /// let (ptr, len) = raw.into_raw();
    /// // SAFETY: `(ptr, len)` come from `into_raw` of a readable mapping of normal pages.
    /// let raw = unsafe { rawmap::MmapRaw::from_raw_read_only(ptr, len) };
    /// assert!(!raw.is_writable());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw_read_only(ptr: *mut u8, len: usize) -> Self {
        // SAFETY: the caller's promise is `Inner::from_raw`'s.
        Self::from_inner(unsafe { Inner::from_raw(ptr, len) }, false)
    }

    /// Faults the whole mapping in, readable (`MADV_POPULATE_READ`, since
    /// Linux 5.14); where reading a page would raise `SIGBUS` this reports
    /// an error instead. See [`Mmap::populate_read`].
    ///
    /// # Errors
    ///
    /// As for [`Mmap::populate_read`].
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// assert!(matches!(raw.populate_read(), Ok(()) | Err(rawmap::Errno::EINVAL)));
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
    /// Linux 5.14), without changing its contents. See
    /// [`MmapMut::populate_write`].
    ///
    /// # Errors
    ///
    /// As for [`Mmap::populate_read`], and the kernel's `EINVAL` for a
    /// read-only mapping.
    ///
    /// ```
    /// let raw = rawmap::MmapOptions::new().len(4).map_raw_anon_shared()?;
    /// assert!(matches!(raw.populate_write(), Ok(()) | Err(rawmap::Errno::EINVAL)));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "MADV_POPULATE_WRITE")]
    #[inline]
    pub fn populate_write(&self) -> Result<(), Errno> {
        self.advise(Advice::PopulateWrite)
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
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_raw_anon_shared()?;
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
}
