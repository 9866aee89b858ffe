//! [`Reservation`]: owned address space whose committed prefix grows and
//! shrinks in place.
//!
//! # Safety
//!
//! The only `unsafe` here is the system calls on the reservation's own range
//! and the slices of its committed prefix; the type's docs prove why no
//! safe use of it can reach undefined behaviour.

use core::ffi::c_void;
use core::fmt;
use core::ptr::NonNull;
use core::slice;

use syscalls::Errno;

use crate::flags::{MapFlags, Prot, UncheckedAdvice};
use crate::page::{page_size, round_up};
use crate::sys::mm;

/// The pointer of an empty reservation: dangling, never dereferenced, and
/// aligned for any primitive type.
#[repr(C, align(64))]
struct MaxAlign;

/// Address space owned by a value: `len` bytes mapped `PROT_NONE` and
/// `MAP_NORESERVE` (no memory, no swap, nothing else can be mapped there),
/// never moved. A prefix of it is *committed* (readable and writable); it
/// grows with [`commit`](Self::commit) and shrinks with
/// [`decommit`](Self::decommit), like a `Vec`'s capacity, but its address
/// never changes: for heaps, JIT arenas and guest memory.
///
/// ```
/// use rawmap::{page_size, Reservation};
/// let mut arena = Reservation::new(1 << 30)?;        // 1 GiB of address space
/// let base = arena.as_ptr();
/// arena.commit(3 * page_size())?;                    // the first 3 pages usable
/// arena.as_mut_slice()[0] = 42;
/// arena.commit(1 << 20)?;                            // grows in place
/// assert_eq!((arena.as_ptr(), arena.as_slice()[0]), (base, 42));
/// arena.decommit(0)?;                                // memory back to the kernel
/// assert!(arena.as_slice().is_empty());
/// # Ok::<(), rawmap::Errno>(())
/// ```
///
/// # Soundness
///
/// No safe use of a `Reservation` can read or write memory it does not own,
/// see memory change under a reference, or unmap anyone else's memory:
///
/// - **Nothing else can be placed inside it.** The whole range stays mapped
///   (at least `PROT_NONE`) from [`new`](Self::new) until drop, so the
///   kernel gives none of its addresses to another `mmap` without
///   `MAP_FIXED`. Every system call the type makes (`mprotect`, `madvise`,
///   and the final `munmap`) names a range inside `[as_ptr(), as_ptr() +
///   capacity())`, and commit and decommit never unmap, so no moment exists
///   at which a hole could be filled by someone else. Drop unmaps exactly
///   the reserved range, once.
/// - **Slices cover only committed memory.** [`as_slice`](Self::as_slice) and
///   [`as_mut_slice`](Self::as_mut_slice) cover `[as_ptr(), as_ptr() +
///   committed())`, which is readable and writable: commit makes the pages
///   so before `committed()` grows, and decommit shrinks `committed()`
///   before the pages become `PROT_NONE`.
/// - **No reference outlives or aliases a decommit.** `commit` and
///   `decommit` take `&mut self`, so the borrow checker rejects them while
///   any slice from `as_slice`/`as_mut_slice` is alive; the slices borrow
///   `self`, so none outlives the reservation either.
/// - **Addresses never move.** No call moves the range (there is no
///   `mremap`), so [`as_ptr`](Self::as_ptr) is the same for the life of the
///   value and raw pointers into the committed part stay valid until it
///   is decommitted.
///
/// What a caller cannot do, then: keep a `&[u8]` across a `decommit`
/// (compile error), reach past `committed()` through a slice (bounds
/// checked, it panics as every slice index does), commit beyond the
/// reservation (`EINVAL`, nothing changes). With a raw pointer from
/// `as_ptr` it can touch an uncommitted page, which the kernel answers
/// with `SIGSEGV` (a crash, not undefined behaviour, since no other object
/// can live there); dereferencing raw pointers is `unsafe` in any case.
///
/// Decommitted memory is given back to the kernel (`MADV_DONTNEED`), so a
/// page committed again reads as zeros.
pub struct Reservation {
    /// The first byte; aligned dangling when `len == 0`.
    base: NonNull<u8>,
    /// The reserved length: a multiple of the page size, 0 if nothing is
    /// reserved.
    len: usize,
    /// The committed prefix: a multiple of the page size, `<= len`.
    committed: usize,
}

// SAFETY: a `Reservation` owns its range exclusively, as a `Box<[u8]>` owns
// its allocation; the mapping is not tied to a thread.
unsafe impl Send for Reservation {}
// SAFETY: `&Reservation` gives only `&[u8]` reads of the committed part;
// every change takes `&mut`.
unsafe impl Sync for Reservation {}

impl fmt::Debug for Reservation {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("ptr", &self.base)
            .field("capacity", &self.len)
            .field("committed", &self.committed)
            .finish()
    }
}

impl Reservation {
    /// Reserves `len` bytes (rounded up to whole pages) of address space:
    /// `mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
    /// MAP_NORESERVE)`. Nothing is committed yet. A `len` of 0 reserves
    /// nothing and makes no system call.
    ///
    /// # Errors
    ///
    /// `ENOMEM` if the rounded length does not fit a `usize` or the address
    /// space has no such hole.
    ///
    /// ```
    /// let r = rawmap::Reservation::new(10)?;
    /// assert_eq!((r.capacity(), r.committed()), (rawmap::page_size(), 0));
    /// assert_eq!(rawmap::Reservation::new(usize::MAX).unwrap_err(), rawmap::Errno::ENOMEM);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    #[doc(alias = "mmap")]
    #[inline]
    pub fn new(len: usize) -> Result<Self, Errno> {
        if len == 0 {
            return Ok(Self {
                base: NonNull::<MaxAlign>::dangling().cast(),
                len: 0,
                committed: 0,
            });
        }
        let len = round_up(len, page_size()).ok_or(Errno::ENOMEM)?;
        let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
        // SAFETY: a new mapping without FIXED replaces nothing.
        let base = unsafe { mm::mmap(core::ptr::null_mut(), len, Prot::NONE, flags, -1, 0) }?;
        // SAFETY: the kernel returned a mapping of `len > 0` bytes, which
        // does not start at address 0.
        let base = unsafe { NonNull::new_unchecked(base.cast::<u8>()) };
        Ok(Self {
            base,
            len,
            committed: 0,
        })
    }

    /// The first byte of the reservation: the same for the value's whole
    /// life.
    ///
    /// ```
    /// let r = rawmap::Reservation::new(1 << 20)?;
    /// assert_eq!(r.as_ptr() as usize % rawmap::page_size(), 0);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The reserved length in bytes (a multiple of the page size).
    ///
    /// ```
    /// let r = rawmap::Reservation::new(3 * rawmap::page_size())?;
    /// assert_eq!(r.capacity(), 3 * rawmap::page_size());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// The committed prefix's length in bytes (a multiple of the page size).
    ///
    /// ```
    /// let mut r = rawmap::Reservation::new(1 << 20)?;
    /// r.commit(1)?;
    /// assert_eq!(r.committed(), rawmap::page_size());
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn committed(&self) -> usize {
        self.committed
    }

    /// The committed prefix.
    ///
    /// ```
    /// let mut r = rawmap::Reservation::new(1 << 20)?;
    /// r.commit(100)?;
    /// assert!(r.as_slice().iter().all(|&b| b == 0));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `[base, base + committed)` is mapped readable and writable
        // (or `committed == 0` with an aligned dangling `base`); changing it
        // needs `&mut self`, which this borrow excludes.
        unsafe { slice::from_raw_parts(self.base.as_ptr(), self.committed) }
    }

    /// The committed prefix, writable.
    ///
    /// ```
    /// let mut r = rawmap::Reservation::new(1 << 20)?;
    /// r.commit(8)?;
    /// r.as_mut_slice()[..2].copy_from_slice(b"ok");
    /// assert_eq!(&r.as_slice()[..2], b"ok");
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access
        // exclusive.
        unsafe { slice::from_raw_parts_mut(self.base.as_ptr(), self.committed) }
    }

    /// Grows the committed prefix to at least `len` bytes (rounded up to
    /// whole pages): `mprotect(PROT_READ | PROT_WRITE)` of the pages past
    /// the committed part. The addresses stay where they are, and so do the
    /// contents of the part already committed; new pages read as zeros. A
    /// `len` not above [`committed`](Self::committed) changes nothing.
    ///
    /// # Errors
    ///
    /// `EINVAL` if `len` is beyond [`capacity`](Self::capacity), before any
    /// system call; `ENOMEM` if the kernel cannot (e.g. with strict
    /// overcommit, `vm.overcommit_memory = 2`). On error the committed part
    /// is unchanged.
    ///
    /// ```
    /// let mut r = rawmap::Reservation::new(2 * rawmap::page_size())?;
    /// r.commit(2 * rawmap::page_size())?;
    /// assert_eq!(r.commit(r.capacity() + 1), Err(rawmap::Errno::EINVAL));
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [mprotect(2)](https://man7.org/linux/man-pages/man2/mprotect.2.html).
    #[doc(alias = "mprotect")]
    #[inline]
    pub fn commit(&mut self, len: usize) -> Result<(), Errno> {
        if len > self.len {
            return Err(Errno::EINVAL);
        }
        if len <= self.committed {
            return Ok(());
        }
        // Cannot overflow: `len <= self.len`, a multiple of the page size.
        let new = len.next_multiple_of(page_size());
        let start = self.base.as_ptr().wrapping_add(self.committed);
        // SAFETY: `[start, base + new)` lies inside the reservation, past the
        // committed part, so no reference into it exists.
        unsafe { mm::mprotect(start.cast(), new - self.committed, Prot::READ | Prot::WRITE) }?;
        self.committed = new;
        Ok(())
    }

    /// Shrinks the committed prefix to `len` bytes (rounded up to whole
    /// pages) and gives the memory past it back to the kernel:
    /// `mprotect(PROT_NONE)`, then `madvise(MADV_DONTNEED)`. The pages stay
    /// reserved; committed again, they read as zeros. A `len` at or above
    /// [`committed`](Self::committed) changes nothing.
    ///
    /// # Errors
    ///
    /// `ENOMEM` if the kernel cannot split the mapping (its limit of
    /// mappings): nothing changes. An error of `madvise` after the
    /// `mprotect` is reported too, with the pages already decommitted
    /// (inaccessible, though perhaps not freed).
    ///
    /// ```
    /// let page = rawmap::page_size();
    /// let mut r = rawmap::Reservation::new(4 * page)?;
    /// r.commit(4 * page)?;
    /// r.as_mut_slice()[page] = 1;
    /// r.decommit(page)?;
    /// assert_eq!(r.committed(), page);
    /// # Ok::<(), rawmap::Errno>(())
    /// ```
    ///
    /// See [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html).
    #[doc(alias = "madvise")]
    #[inline]
    pub fn decommit(&mut self, len: usize) -> Result<(), Errno> {
        if len >= self.committed {
            return Ok(());
        }
        // Cannot overflow: `len < self.committed <= self.len`.
        let new = len.next_multiple_of(page_size());
        if new >= self.committed {
            return Ok(());
        }
        let start: *mut c_void = self.base.as_ptr().wrapping_add(new).cast();
        let n = self.committed - new;
        // SAFETY: `[start, start + n)` lies inside the reservation's
        // committed part, and `&mut self` means no reference into it is
        // alive.
        unsafe { mm::mprotect(start, n, Prot::NONE) }?;
        self.committed = new;
        // SAFETY: as above; the pages are no longer committed, so nothing
        // relies on their contents.
        unsafe { mm::madvise(start, n, UncheckedAdvice::DontNeed as core::ffi::c_int) }
    }
}

impl Drop for Reservation {
    #[inline]
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: the whole reservation is ours and is being dropped, so
            // nothing uses it afterwards. Drop cannot report an error.
            let _ = unsafe { mm::munmap(self.base.as_ptr().cast(), self.len) };
        }
    }
}
