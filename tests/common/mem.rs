//! Small helpers around the raw layer: anonymous memory, what the kernel
//! may access at an address, `mincore`, an independent `mmap` through libc,
//! and the sub-page checks that tell a 16K or 64K kernel from QEMU's user
//! mode.

use std::ptr;

use rawmap::{Errno, MapFlags, Prot, c_void, mincore, mmap, munmap, page_size};

use super::proc::host_page_size;
use super::under_qemu_user;

pub const RW: Prot = Prot::READ.union(Prot::WRITE);
pub const ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);

/// The smallest page size of any Linux architecture (not the page size): on
/// a 16K or 64K kernel it is a multiple of nothing the kernel accepts as
/// aligned.
pub const SUB_PAGE: usize = 4096;

/// Whether calls accept an address or offset aligned to [`SUB_PAGE`] but
/// not to the page: on a 4K kernel it is page-aligned; QEMU's user mode
/// checks alignment against its 4K target pages whatever the page size it
/// reports.
pub fn sub_page_accepted() -> bool {
    page_size() == SUB_PAGE || under_qemu_user()
}

/// Whether QEMU emulates pages larger than the host's: the configuration
/// where most of its documented defects show.
pub fn qemu_with_larger_pages() -> bool {
    under_qemu_user() && page_size() > host_page_size()
}

/// A private anonymous read-write mapping of `len` bytes.
pub fn anon(len: usize) -> *mut u8 {
    // SAFETY: a new anonymous mapping replaces nothing.
    unsafe { mmap(ptr::null_mut(), len, RW, ANON, -1, 0) }
        .expect("anonymous mmap")
        .cast()
}

/// `len` bytes of address space that nothing else will be given: a
/// `PROT_NONE` private anonymous mapping.
pub fn reserve(len: usize) -> *mut u8 {
    // SAFETY: a new anonymous mapping replaces nothing.
    unsafe { mmap(ptr::null_mut(), len, Prot::NONE, ANON, -1, 0) }
        .expect("reserving address space")
        .cast()
}

/// For a check in a single-threaded child ([`check_in_child`]): `pages` new
/// read-write private anonymous pages with page number `hole` unmapped
/// again, a free page inside or after the mapping that nothing else maps
/// into. The mapping's start, or what failed.
///
/// [`check_in_child`]: super::fork::check_in_child
pub fn anon_with_hole(pages: usize, hole: usize) -> Result<*mut u8, &'static str> {
    let page = page_size();
    // SAFETY: a new anonymous mapping replaces nothing.
    let p: *mut u8 = unsafe { mmap(ptr::null_mut(), pages * page, RW, ANON, -1, 0) }
        .map_err(|_| "mmap")?
        .cast();
    // SAFETY: one page of the mapping just made, which nothing uses yet.
    unsafe { munmap(p.wrapping_add(hole * page).cast(), page) }
        .map_err(|_| "munmap of the hole")?;
    Ok(p)
}

/// Unmaps a region the test mapped.
pub fn unmap(p: *mut u8, len: usize) {
    // SAFETY: the caller mapped `[p, p + len)` and uses it no more.
    unsafe { munmap(p.cast(), len) }.expect("munmap");
}

/// The bytes `[p, p + len)` of a live mapping.
///
/// # Safety
///
/// The range is mapped readable and nothing writes it while the slice lives.
pub unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(p, len) }
}

/// An address at which nothing is mapped and nothing will be: the second
/// page of the address space, below the kernel's `mmap_min_addr` (64 KiB by
/// default; QEMU keeps guest mappings far above it too).
pub fn never_mapped() -> *mut c_void {
    page_size() as *mut c_void
}

/// The errno of the last failed libc call.
pub fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

/// What the kernel's `read(2)` of one byte from `/dev/zero` into `p` says:
/// `Ok` if the kernel could write `p` (it wrote a 0 there), `EFAULT` if the
/// page's protection forbids it. No signal is involved, and QEMU's user mode
/// checks the guest's page protection the same way.
pub fn kernel_can_write(p: *mut u8) -> Result<(), i32> {
    // SAFETY: a NUL-terminated path.
    let zero = unsafe { libc::open(c"/dev/zero".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    assert!(
        zero >= 0,
        "open /dev/zero: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `read` writes at most one byte at `p`; the kernel reports
    // EFAULT instead of faulting if it is not writable.
    let r = match unsafe { libc::read(zero, p.cast(), 1) } {
        1 => Ok(()),
        _ => Err(last_errno()),
    };
    super::fork::close(zero);
    r
}

/// What the kernel's `write(2)` of one byte from `p` into a pipe says: `Ok`
/// if the kernel could read `p`, `EFAULT` if not.
pub fn kernel_can_read(p: *const u8) -> Result<(), i32> {
    let (rd, wr) = super::fork::pipe();
    // SAFETY: `write` reads at most one byte at `p`; the kernel reports
    // EFAULT instead of faulting if it is not readable.
    let r = match unsafe { libc::write(wr, p.cast(), 1) } {
        1 => Ok(()),
        _ => Err(last_errno()),
    };
    super::fork::close(rd);
    super::fork::close(wr);
    r
}

/// Whether the kernel can write the byte at `p` ([`kernel_can_write`]),
/// asserting that a refusal is `EFAULT`.
#[track_caller]
pub fn writable(p: *mut u8) -> bool {
    match kernel_can_write(p) {
        Ok(()) => true,
        Err(e) => {
            assert_eq!(e, libc::EFAULT, "read into {p:p}");
            false
        }
    }
}

/// Whether the kernel can read the byte at `p` ([`kernel_can_read`]),
/// asserting that a refusal is `EFAULT`.
#[track_caller]
pub fn readable(p: *const u8) -> bool {
    match kernel_can_read(p) {
        Ok(()) => true,
        Err(e) => {
            assert_eq!(e, libc::EFAULT, "write from {p:p}");
            false
        }
    }
}

/// `mincore` on `[p, p + len)` into a vector with room for one byte per
/// *host* page (QEMU with larger pages writes that many) and a sentinel
/// after it; returns the vector and how many bytes were written.
pub fn mincore_vec(p: *mut u8, len: usize) -> Result<(Vec<u8>, usize), Errno> {
    const SENTINEL: u8 = 0xee;
    let room = len.div_ceil(host_page_size().min(page_size()));
    let mut vec = vec![SENTINEL; room + 8];
    // SAFETY: `vec` has room for one byte per page of the range, at the
    // smaller of the two page sizes.
    unsafe { mincore(p.cast(), len, vec.as_mut_ptr()) }?;
    let written = vec
        .iter()
        .rposition(|&b| b != SENTINEL)
        .map_or(0, |i| i + 1);
    Ok((vec, written))
}

/// [`mincore_vec`] at the address `addr` (page-aligned): `Ok` with the
/// vector if all of the range is mapped, `Err(ENOMEM)` if some of it is not.
pub fn mincore_at(addr: usize, len: usize) -> Result<Vec<u8>, Errno> {
    mincore_vec(addr as *mut u8, len).map(|(vec, _)| vec)
}

/// `mincore` without allocating (for a forked child): whether the whole
/// range is mapped (`Ok`) or the kernel's errno (`ENOMEM` for a hole).
pub fn mapped(p: *mut u8, len: usize) -> Result<(), Errno> {
    let mut vec = [0u8; 1024];
    if len.div_ceil(host_page_size().min(page_size())) > vec.len() {
        return Err(Errno::E2BIG);
    }
    // SAFETY: `vec` has room for one byte per page of the range, at the
    // smaller of the two page sizes.
    unsafe { mincore(p.cast(), len, vec.as_mut_ptr()) }
}

/// The kernel's range behind a user's view at `ptr`, `len` bytes long:
/// (page-aligned start, length in whole pages).
pub fn kernel_range(ptr: *const u8, len: usize) -> (usize, usize) {
    let page = page_size();
    let base = ptr as usize & !(page - 1);
    let end = (ptr as usize + len).next_multiple_of(page);
    (base, end - base)
}

/// Anonymous `mmap` through libc's `syscall`, an oracle independent of
/// rawmap: the kernel's (or QEMU's) answer without rawmap's
/// `FIXED_NOREPLACE` check.
///
/// # Safety
///
/// As for `rawmap::mmap`.
pub unsafe fn libc_mmap(
    addr: *mut c_void,
    len: usize,
    prot: Prot,
    flags: MapFlags,
) -> Result<*mut c_void, i32> {
    // 32-bit targets map with `mmap2` (i686's `SYS_mmap` takes a pointer
    // to a struct); the offset, 0, is the same in its units.
    #[cfg(target_pointer_width = "64")]
    let sys_mmap = libc::SYS_mmap;
    #[cfg(target_pointer_width = "32")]
    let sys_mmap = libc::SYS_mmap2;
    // SAFETY: the caller upholds mmap's contract.
    let ret = unsafe {
        libc::syscall(
            sys_mmap,
            addr,
            len,
            prot.bits() as libc::c_long,
            flags.bits() as libc::c_long,
            -1 as libc::c_long,
            0 as libc::c_long,
        )
    };
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret as *mut c_void)
    }
}
