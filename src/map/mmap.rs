//! [`Mmap`]: a read-only mapping.

use core::ffi::c_int;
use core::slice;

use syscalls::Errno;

#[cfg(doc)]
use super::MmapOptions; // for the doc links
use super::inner::Inner;
use super::{MmapError, MmapMut, Operation, slice_owner_impls};
use crate::flags::{Advice, MlockFlags, Prot, UncheckedAdvice};

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

slice_owner_impls!(Mmap);

impl Mmap {
    /// The owner of `inner`'s mapping.
    #[inline]
    pub(super) const fn from_inner(inner: Inner) -> Self {
        Self { inner }
    }

    /// The address of the first byte.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(0).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(100).map_anon()?.make_read_only()?;
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
    /// let map = map.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(100).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(100).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
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
    /// let map = rawmap::MmapOptions::new().len(3).map_anon()?.make_read_only()?;
    /// let (ptr, len) = map.into_raw();
    /// // SAFETY: `ptr` and `len` come from `into_raw` of a mapping of normal pages,
    /// // and nothing else owns it.
    /// let map = unsafe { rawmap::Mmap::from_raw(ptr, len) };
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
    ///     rawmap::Mmap::from_raw(p.cast(), len)
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
    #[inline]
    pub fn make_mut(self) -> Result<MmapMut, MmapError<Self>> {
        // SAFETY: `self` is consumed, so no `&[u8]` into the mapping is alive
        // when it becomes writable.
        unsafe { self.inner.protect(Prot::READ | Prot::WRITE) }
            .map(MmapMut::from_inner)
            .map_err(|(inner, errno)| MmapError::new(Self { inner }, Operation::MakeMut, errno))
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
    #[inline]
    pub fn make_exec(self) -> Result<Mmap, MmapError<Self>> {
        // SAFETY: the mapping stays readable; adding EXEC changes nothing
        // for `&[u8]` readers (running the code is unsafe on its own).
        unsafe { self.inner.protect(Prot::READ | Prot::EXEC) }
            .map(Self::from_inner)
            .map_err(|(inner, errno)| MmapError::new(Self { inner }, Operation::MakeExec, errno))
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
    #[inline]
    pub fn leak(self) -> &'static [u8] {
        let (ptr, len) = self.inner.into_raw();
        // SAFETY: the mapping is never unmapped, so the slice stays valid
        // forever; the constructor's caller vouched for the file.
        unsafe { slice::from_raw_parts(ptr, len) }
    }
}

/// Populating, remapping, and conversions to the other owners.
impl Mmap {
    /// Faults the whole mapping in, readable (`MADV_POPULATE_READ`, since
    /// Linux 5.14): afterwards reading it takes no page faults, and where
    /// reading a page would raise `SIGBUS` (a file mapping past the end of
    /// its file) this reports an error instead.
    ///
    /// # Errors
    ///
    /// `EFAULT` where touching the pages would raise `SIGBUS`; `EINVAL`
    /// before Linux 5.14; `ENOMEM` when memory runs out; `EHWPOISON` for a
    /// poisoned page. QEMU's user mode (7.2) answers 0 and populates
    /// nothing. An empty mapping makes no system call.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?.make_read_only()?;
    /// match map.populate_read() {
    ///     Ok(()) => {}
    ///     Err(e) => assert_eq!(e, rawmap::Errno::EINVAL), // before Linux 5.14
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "MADV_POPULATE_READ")]
    #[inline]
    pub fn populate_read(&self) -> Result<(), Errno> {
        self.advise(Advice::PopulateRead)
    }

    /// Grows or shrinks the mapping to `new_len` bytes (`mremap`), as
    /// [`MmapMut::remap`] does; with `may_move`, the kernel may move it to
    /// grow it. Huge page mappings are remapped in whole huge pages.
    ///
    /// # Safety
    ///
    /// For a file mapping, the file must be at least as long as the grown
    /// mapping: touching pages past its end raises `SIGBUS` (see
    /// [Safety of file mappings](crate#safety-of-file-mappings)).
    ///
    /// # Errors
    ///
    /// `EINVAL` for `new_len == 0` or an empty mapping; `ENOMEM` when the
    /// mapping cannot grow in place and `may_move` is false, when the
    /// rounded length does not fit a `usize`, or memory runs out.
    ///
    /// ```
    /// let mut map = rawmap::MmapOptions::new().len(10).map_anon()?.make_read_only()?;
    /// // SAFETY: an anonymous mapping has no file to outgrow.
    /// unsafe { map.remap(1 << 20, true)? };
    /// assert_eq!((map.len(), map[(1 << 20) - 1]), (1 << 20, 0));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mremap(2)](https://man7.org/linux/man-pages/man2/mremap.2.html).
    #[doc(alias = "mremap")]
    #[inline]
    pub unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> Result<(), Errno> {
        // SAFETY: `&mut self` means no `&[u8]` into the mapping is alive; the
        // caller vouches for the file's length.
        unsafe { self.inner.remap(new_len, may_move) }
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
    /// let map = rawmap::MmapOptions::new().len(1 << 16).map_anon()?.make_read_only()?;
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
    /// on it can never be unmapped, moved, grown, shrunk or given another
    /// protection, by anyone in this process. Since it can never be
    /// unmapped, the owner is consumed and the bytes stay borrowed for the
    /// rest of the program. Guard pages below the mapping are sealed with it.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an empty mapping (nothing to seal, no system call);
    /// `ENOSYS` before Linux 6.10, on 32-bit kernels and under QEMU 7.2's
    /// user mode; `EPERM` where the kernel refuses. The mapping comes back
    /// inside the error, unchanged and still owned.
    ///
    /// ```
    /// let map = rawmap::MmapOptions::new().len(8).map_anon()?.make_read_only()?;
    /// match map.seal() {
    ///     Ok(forever) => assert_eq!(forever, &[0; 8]),
    ///     Err(e) => {
    ///         assert_eq!(e.errno(), rawmap::Errno::ENOSYS); // before Linux 6.10
    ///         assert_eq!(e.into_mmap().len(), 8);
    ///     }
    /// }
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mseal(2)](https://man7.org/linux/man-pages/man2/mseal.2.html).
    #[doc(alias = "mseal")]
    #[inline]
    pub fn seal(self) -> Result<&'static [u8], MmapError<Self>> {
        // SAFETY: on success `self` is given up below and never unmapped.
        match unsafe { self.inner.seal() } {
            Ok(()) => {
                let (ptr, len) = self.inner.into_raw();
                // SAFETY: a sealed mapping is never unmapped or reprotected:
                // readable forever (the constructor's caller vouched for the
                // file).
                Ok(unsafe { slice::from_raw_parts(ptr, len) })
            }
            Err(errno) => Err(MmapError::new(self, Operation::Seal, errno)),
        }
    }
}
