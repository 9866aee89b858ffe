//! [`Inner`]: the one owner of a mapping. Every system call on a mapping
//! goes through here, and it is the only type with `Drop`.

use core::ffi::{c_int, c_void};
use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::slice;

use syscalls::Errno;

use crate::flags::{MapFlags, MlockFlags, MremapFlags, MsyncFlags, Prot, UncheckedAdvice};
use crate::page::{page_size, round_up};
use crate::sys::RawFd;
use crate::sys::mm;

/// The largest alignment of any primitive type (`u128`/`f128` need 16 on
/// some targets), with room to spare: an empty mapping's pointer has it, so
/// that casting an empty mapping to a slice of any primitive (e.g.
/// `bytemuck::cast_slice::<u8, u64>`) succeeds.
#[repr(C, align(64))]
struct MaxAlign;

/// The pointer of an empty mapping: dangling, never dereferenced, and
/// aligned to 64 bytes.
const EMPTY_PTR: NonNull<u8> = NonNull::<MaxAlign>::dangling().cast::<u8>();

/// The one owner of a mapping: the user's view `(ptr, len)`, the kernel's
/// view `(base, map_len)`, the alignment it was mapped with and the guard
/// pages below it. Every system
/// call on a mapping goes through here.
///
/// Both views are kept, so that `Drop` and the whole-mapping calls (`munmap`,
/// `msync`, `mprotect`) pass the kernel's range as it is, computing nothing.
/// Invariants: `len == 0` exactly when `map_len == 0` (nothing is mapped);
/// otherwise `base` is aligned to `align`, `ptr = base + head` with `head <
/// align`, and `map_len` is `head + len` rounded up to `align`.
pub(super) struct Inner {
    /// The user's first byte. When `len == 0`, dangling but aligned for any
    /// primitive type ([`EMPTY_PTR`]).
    ptr: NonNull<u8>,
    /// The user's length. 0 means nothing is mapped.
    len: usize,
    /// The first byte of the kernel's mapping (null when nothing is mapped).
    base: *mut c_void,
    /// The length of the kernel's mapping: whole pages (or huge pages).
    map_len: usize,
    /// The page size (or huge page size) the mapping was made with: a power
    /// of two.
    align: usize,
    /// Bytes of guard pages just below the kernel range, unmapped with it
    /// (0 for a mapping without guard pages).
    guard: usize,
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
        ptr: EMPTY_PTR,
        len: 0,
        base: core::ptr::null_mut(),
        map_len: 0,
        align: 1,
        guard: 0,
    };

    /// Maps `len` bytes from byte `offset` of `fd`; `len == 0` maps nothing.
    ///
    /// `align` is the page size (or huge page size) to map with, a power of
    /// two; 0 means "the page size, not looked up yet" (what
    /// `page::cached_page_size` answers before the first lookup), and it is
    /// then looked up only if something is to be mapped. The common case
    /// reads no page size itself and makes one carry test (see `layout`)
    /// before the system call; the kernel's range is kept, for `Drop`.
    #[inline]
    pub(super) fn new(
        len: usize,
        offset: u64,
        prot: Prot,
        flags: MapFlags,
        fd: RawFd,
        align: usize,
    ) -> Result<Inner, Errno> {
        // `offset + len` must fit the file offset type, as the kernel's own
        // check demands. (With `offset == 0`, as for anonymous memory, this
        // folds away.)
        offset.checked_add(len as u64).ok_or(Errno::EOVERFLOW)?;
        let align = match align {
            0 if len == 0 => return Ok(Inner::EMPTY),
            0 => page_size(),
            align => align,
        };
        let Some((head, map_len)) = Inner::layout(len, offset, align) else {
            return if len == 0 {
                Ok(Inner::EMPTY)
            } else {
                Err(Errno::ENOMEM)
            };
        };
        // Tells the compiler what `layout` proved, so that the caller's own
        // loops over the new mapping need no test for an empty one.
        // SAFETY: `layout` answers `None` for `len == 0` (see there).
        unsafe { core::hint::assert_unchecked(len != 0) };
        // SAFETY: a new mapping without FIXED replaces nothing. The caller of
        // the public constructor vouched for the file (see `map`).
        let base = unsafe {
            mm::mmap(
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
        Ok(Inner {
            ptr,
            len,
            base,
            map_len,
            align,
            guard: 0,
        })
    }

    /// `(head, map_len)` of a mapping of `len` bytes from byte `offset` with
    /// pages of `align` bytes (a power of two): `head + len` rounded up to
    /// `align`, computed as `((len - 1) + head + align) & !(align - 1)`, so
    /// that one carry test covers both cases that give `None`: `len == 0`
    /// (`len - 1` wraps to `usize::MAX`, and `head + align` is at least 1)
    /// and a rounded length that does not fit a usize.
    #[inline]
    fn layout(len: usize, offset: u64, align: usize) -> Option<(usize, usize)> {
        let mask = align.wrapping_sub(1);
        // The remainder is at most `mask`, a usize: the cast is lossless.
        let head = (offset & mask as u64) as usize;
        // `head < align <= 2^(usize::BITS - 1)`: this sum does not wrap.
        let end = len.wrapping_sub(1).checked_add(head.wrapping_add(align))?;
        // At least `align`, so never 0.
        Some((head, end & !mask))
    }

    /// The kernel's view: the mapping's aligned base address and length.
    #[inline]
    fn kernel_range(&self) -> (*mut c_void, usize) {
        (self.base, self.map_len)
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

    /// The user's first byte (dangling when the mapping is empty).
    #[inline]
    pub(super) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The user's length; 0 for an empty mapping.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// `Type { ptr, len }`, for the owners' `Debug`.
    #[inline]
    pub(super) fn debug(&self, f: &mut fmt::Formatter<'_>, ty: &str) -> fmt::Result {
        f.debug_struct(ty)
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }

    #[inline]
    pub(super) fn slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for reads of `len` bytes while the mapping
        // lives (or dangling with len 0); the constructor's caller promised
        // nobody changes or truncates the file under it.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    #[inline]
    pub(super) fn slice_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `slice`, and `&mut self` makes the access exclusive;
        // only `MmapMut` calls this, whose mapping is writable.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// `msync` of a sub-range, checked.
    #[inline]
    pub(super) fn msync(&self, offset: usize, len: usize, flags: MsyncFlags) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; msync does not change
            // its contents.
            Some((addr, len)) => unsafe { mm::msync(addr, len, flags) },
            None => Ok(()),
        }
    }

    /// `msync` of the whole mapping: its kernel range as it is.
    #[inline]
    pub(super) fn msync_all(&self, flags: MsyncFlags) -> Result<(), Errno> {
        if self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: this is exactly our mapping; msync does not change its
        // contents.
        unsafe { mm::msync(self.base, self.map_len, flags) }
    }

    /// `madvise` of a sub-range, checked.
    ///
    /// # Safety
    ///
    /// With advice that changes contents, no reference may rely on the old
    /// contents of the range.
    #[inline]
    pub(super) unsafe fn madvise(
        &self,
        offset: usize,
        len: usize,
        advice: c_int,
    ) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; the caller accepts
            // what the advice does to its contents.
            Some((addr, len)) => unsafe { mm::madvise(addr, len, advice) },
            None => Ok(()),
        }
    }

    /// `mlock` of a sub-range, checked.
    #[inline]
    pub(super) fn mlock(&self, offset: usize, len: usize) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; locking changes no
            // contents.
            Some((addr, len)) => unsafe { mm::mlock(addr, len) },
            None => Ok(()),
        }
    }

    /// `munlock` of a sub-range, checked.
    #[inline]
    pub(super) fn munlock(&self, offset: usize, len: usize) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; unlocking changes
            // no contents.
            Some((addr, len)) => unsafe { mm::munlock(addr, len) },
            None => Ok(()),
        }
    }

    /// Changes the protection of the whole kernel range, for the type-state
    /// conversions: on failure the owner comes back, unchanged.
    ///
    /// # Safety
    ///
    /// The new protection must suit every reference the caller hands out
    /// afterwards (consuming the old owner guarantees no other is alive).
    #[inline]
    pub(super) unsafe fn protect(self, prot: Prot) -> Result<Inner, (Inner, Errno)> {
        if self.map_len == 0 {
            return Ok(self);
        }
        let (base, map_len) = self.kernel_range();
        // SAFETY: this is exactly our mapping; the caller made sure the new
        // protection suits the references it hands out.
        match unsafe { mm::mprotect(base, map_len, prot) } {
            Ok(()) => Ok(self),
            Err(errno) => Err((self, errno)),
        }
    }

    /// `mremap` of the whole mapping to `new_len` bytes.
    ///
    /// # Safety
    ///
    /// For a file mapping, growing must not reach past the end of the file
    /// (touching such pages raises `SIGBUS`).
    #[inline]
    pub(super) unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> Result<(), Errno> {
        if new_len == 0 || self.map_len == 0 {
            return Err(Errno::EINVAL);
        }
        let (base, old_map_len) = self.kernel_range();
        let head = self.ptr.as_ptr() as usize - base as usize;
        let new_map_len = head
            .checked_add(new_len)
            .and_then(|n| round_up(n, self.align))
            .ok_or(Errno::ENOMEM)?;
        // A mapping with guard pages stays above them: it never moves.
        let flags = if may_move && self.guard == 0 {
            MremapFlags::MAYMOVE
        } else {
            MremapFlags::empty()
        };
        // SAFETY: the old range is exactly our mapping and `&mut self` means
        // no reference into it is alive; the caller vouches for the file.
        let new_base =
            unsafe { mm::mremap(base, old_map_len, new_map_len, flags, core::ptr::null_mut()) }?;
        // SAFETY: the kernel returned a mapping of `new_map_len > head` bytes.
        self.ptr = unsafe { NonNull::new_unchecked(new_base.cast::<u8>().add(head)) };
        self.len = new_len;
        self.base = new_base;
        self.map_len = new_map_len;
        Ok(())
    }

    /// `munmap` of the whole kernel range; `self` is left intact on error.
    ///
    /// # Safety
    ///
    /// On success nothing may use the mapping again: the caller forgets or
    /// drops `self` without a second `munmap`.
    #[inline]
    unsafe fn munmap(&self) -> Result<(), Errno> {
        if self.map_len == 0 {
            return Ok(());
        }
        let (base, map_len) = self.kernel_range();
        // SAFETY: this is exactly our mapping with its guard pages below
        // (`guard` is 0 without), and the caller makes sure nothing uses it
        // afterwards.
        unsafe { mm::munmap(base.wrapping_sub(self.guard), map_len + self.guard) }
    }

    /// Unmaps now, reporting `munmap`'s error (which `Drop` has to ignore);
    /// on error the owner comes back, still mapped.
    #[inline]
    pub(super) fn unmap(self) -> Result<(), (Inner, Errno)> {
        // SAFETY: on success `self` is forgotten below, so nothing uses the
        // mapping and Drop does not unmap it again.
        match unsafe { self.munmap() } {
            Ok(()) => {
                core::mem::forget(self);
                Ok(())
            }
            Err(errno) => Err((self, errno)),
        }
    }

    /// Gives up ownership: the user's `(ptr, len)`, with the mapping left in
    /// place.
    #[inline]
    pub(super) fn into_raw(self) -> (*mut u8, usize) {
        let this = ManuallyDrop::new(self);
        (this.ptr.as_ptr(), this.len)
    }

    /// Rebuilds the owner of a mapping of page-sized pages.
    ///
    /// # Safety
    ///
    /// As documented on `Mmap::from_raw`.
    #[inline]
    pub(super) unsafe fn from_raw(ptr: *mut u8, len: usize) -> Inner {
        match NonNull::new(ptr) {
            Some(nn) if len != 0 => {
                let align = page_size();
                let addr = ptr as usize;
                let head = addr & (align - 1);
                // Cannot overflow: the caller promises the pages exist, so
                // their rounded end fits. Wrapping, so that no panic path
                // is compiled in.
                let map_len = head.wrapping_add(len).wrapping_add(align - 1) & !(align - 1);
                Inner {
                    ptr: nn,
                    len,
                    base: ptr.wrapping_sub(head).cast(),
                    map_len,
                    align,
                    guard: 0,
                }
            }
            _ => Inner::EMPTY,
        }
    }
}

impl Drop for Inner {
    #[inline]
    fn drop(&mut self) {
        // Drop cannot report an error; `unmap` exists for callers who want it.
        // SAFETY: `self` is being dropped, so nothing uses the mapping after
        // this.
        let _ = unsafe { self.munmap() };
    }
}

/// What the owners added after the first ring need of `Inner`: whole-range
/// advice, conversions between owners, and mappings aligned beyond a page.
impl Inner {
    /// Maps `len` bytes of anonymous memory at an address that is a multiple
    /// of `align` (a power of two larger than the page size): maps `len +
    /// align - page` bytes, then unmaps the head below the first aligned
    /// address and the tail past the aligned `len` rounded to pages, which
    /// leaves exactly one mapping of the rounded length.
    #[inline]
    pub(super) fn new_aligned(
        len: usize,
        prot: Prot,
        flags: MapFlags,
        align: usize,
    ) -> Result<Inner, Errno> {
        let page = page_size();
        if len == 0 {
            return Ok(Inner::EMPTY);
        }
        let map_len = round_up(len, page).ok_or(Errno::ENOMEM)?;
        let over_len = map_len.checked_add(align - page).ok_or(Errno::ENOMEM)?;
        // SAFETY: a new mapping without FIXED replaces nothing.
        let base = unsafe { mm::mmap(core::ptr::null_mut(), over_len, prot, flags, -1, 0) }?;
        let start = base as usize;
        // Cannot overflow: the over-sized mapping exists, so everything up
        // to its end fits, and the aligned start is inside it.
        let aligned = (start + align - 1) & !(align - 1);
        let head = aligned - start;
        let tail = over_len - head - map_len;
        let trim = |addr: usize, n: usize| -> Result<(), Errno> {
            if n == 0 {
                return Ok(());
            }
            // SAFETY: `[addr, addr + n)` is part of the mapping just made,
            // outside the part handed out; nothing refers to it.
            unsafe { mm::munmap(addr as *mut c_void, n) }
        };
        if let Err(errno) = trim(start, head).and_then(|()| trim(aligned + map_len, tail)) {
            // SAFETY: the whole over-sized range is ours (munmap of parts
            // already unmapped is harmless); nothing refers to it.
            let _ = unsafe { mm::munmap(base, over_len) };
            return Err(errno);
        }
        Ok(Inner {
            // SAFETY: `aligned` lies inside a live mapping, so it is not null.
            ptr: unsafe { NonNull::new_unchecked(aligned as *mut u8) },
            len,
            base: aligned as *mut c_void,
            map_len,
            align: page,
            guard: 0,
        })
    }

    /// Maps `len` bytes of anonymous memory with `guard_len` bytes (whole
    /// pages, not 0) of guard pages just below, which fault on any access.
    /// With Linux 6.13+ they are guard markers (`MADV_GUARD_INSTALL`, no VMA
    /// of their own), verified to fault; elsewhere (older kernels, shared
    /// memory before 6.15, QEMU's user mode, which answers 0 to the advice
    /// and installs nothing) they are `PROT_NONE`.
    #[inline]
    pub(super) fn new_guarded(
        len: usize,
        prot: Prot,
        flags: MapFlags,
        guard_len: usize,
    ) -> Result<Inner, Errno> {
        if len == 0 {
            return Ok(Inner::EMPTY);
        }
        let page = page_size();
        let map_len = round_up(len, page).ok_or(Errno::ENOMEM)?;
        let total = map_len.checked_add(guard_len).ok_or(Errno::ENOMEM)?;
        // SAFETY: a new mapping without FIXED replaces nothing.
        let base = unsafe { mm::mmap(core::ptr::null_mut(), total, prot, flags, -1, 0) }?;
        let data = base.cast::<u8>().wrapping_add(guard_len);
        if !guard_markers_installed(base, guard_len, data) {
            // SAFETY: the guard range is part of the mapping just made, and
            // nothing refers to it.
            if let Err(errno) = unsafe { mm::mprotect(base, guard_len, Prot::NONE) } {
                // SAFETY: the whole mapping is ours and nothing refers to it.
                let _ = unsafe { mm::munmap(base, total) };
                return Err(errno);
            }
        }
        Ok(Inner {
            // SAFETY: `data` lies inside the live mapping, so it is not null.
            ptr: unsafe { NonNull::new_unchecked(data) },
            len,
            base: data.cast(),
            map_len,
            align: page,
            guard: guard_len,
        })
    }

    /// `mseal` of the whole mapping and its guard pages (Linux 6.10+,
    /// 64-bit): afterwards it can never be unmapped, moved or reprotected.
    /// An empty mapping is `EINVAL` (there is nothing to seal).
    ///
    /// # Safety
    ///
    /// On success the caller never unmaps the mapping (it forgets `self`).
    #[inline]
    pub(super) unsafe fn seal(&self) -> Result<(), Errno> {
        if self.len == 0 {
            return Err(Errno::EINVAL);
        }
        let (base, map_len) = self.kernel_range();
        // SAFETY: the range is exactly our mapping with its guard pages; the
        // caller gives up unmapping it.
        unsafe { mm::mseal(base.wrapping_sub(self.guard), map_len + self.guard, 0) }
    }

    /// `mlock2` of a sub-range, checked.
    #[inline]
    pub(super) fn mlock2(&self, offset: usize, len: usize, flags: MlockFlags) -> Result<(), Errno> {
        match self.checked_range(offset, len)? {
            // SAFETY: the range lies inside this mapping; locking changes no
            // contents.
            Some((addr, len)) => unsafe { mm::mlock2(addr, len, flags) },
            None => Ok(()),
        }
    }
}

/// Installs guard markers on `[base, base + guard_len)` and checks that they
/// fault: `mincore` of the page at `data` (mapped) with its result vector at
/// `base` must fail with `EFAULT`, the kernel's own write into the guard
/// having faulted. Where the advice is refused, or answered 0 without
/// effect (QEMU 7.2), it returns `false`; the kernel's write then landed in
/// a page that is about to become `PROT_NONE`.
#[inline]
fn guard_markers_installed(base: *mut c_void, guard_len: usize, data: *mut u8) -> bool {
    // SAFETY: the range is the guard part of a mapping just made, which
    // nothing refers to; discarding its (zero) contents is harmless.
    let advised = unsafe { mm::madvise(base, guard_len, UncheckedAdvice::GuardInstall as c_int) };
    if advised.is_err() {
        return false;
    }
    // SAFETY: `data` starts a mapped page; the vector (one byte, or one per
    // 4K host page under QEMU: at most page_size() / 4096 bytes) goes to
    // `base`, inside the guard range we own, which is at least a page.
    let probe = unsafe { mm::mincore(data.cast(), page_size(), base.cast()) };
    probe == Err(Errno::EFAULT)
}
