//! The system's page size, found once without libc, and alignment helpers.
//!
//! The lookup chain, first answer wins:
//!
//! 1. a value given with [`set_page_size`] (a runtime that read `AT_PAGESZ`
//!    from the aux vector on its own initial stack);
//! 2. `prctl(PR_GET_AUXV)` (Linux 6.4 and later; QEMU 7.2 answers `EINVAL`);
//! 3. `/proc/self/auxv`, read with raw `openat`/`read`/`close`;
//! 4. a probe that needs neither: `msync(addr, 0, 0)` checks only that `addr`
//!    is page-aligned, so the smallest power of two from 4096 up for which it
//!    succeeds is the page size.
//!
//! The answer is cached in an atomic. Reads after the first are one relaxed
//! load.

use core::sync::atomic::{AtomicUsize, Ordering};

use syscalls::Errno;

use crate::flags::MsyncFlags;
use crate::procfs;
use crate::sys::consts::{AT_NULL, AT_PAGESZ};
use crate::sys::{mm, prctl};

/// 0 until the page size is known.
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The smallest page any Linux architecture uses: where the probe starts.
const SMALLEST_PAGE: usize = 4096;
/// Words of aux vector read at most. `AT_PAGESZ` comes early in every
/// kernel's vector (it is the 4th to 6th entry), so this is ample.
const AUXV_WORDS: usize = 96;

/// The size of a memory page in bytes: a power of two, never 0.
///
/// Found once (from [`set_page_size`], else `prctl(PR_GET_AUXV)`, else
/// `/proc/self/auxv`, else a probe with `msync`) and then cached; never panics, allocates or assumes 4096. On
/// aarch64 kernels it is 4096, 16384 or 65536; under QEMU's user mode it is
/// the value of `QEMU_PAGESIZE` if that is set.
///
/// ```
/// let page = rawmap::page_size();
/// assert!(page.is_power_of_two() && page >= 4096);
/// ```
#[inline]
pub fn page_size() -> usize {
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => find_page_size(),
        size => size,
    }
}

/// The page size if it is known already, else 0: one relaxed load, never a
/// system call. For the mapping paths, which look the size up (with
/// [`page_size`]) only when they have something to map.
#[inline]
pub(crate) fn cached_page_size() -> usize {
    PAGE_SIZE.load(Ordering::Relaxed)
}

/// Tells rawmap the page size, for runtimes that read `AT_PAGESZ` from the
/// aux vector on their own initial stack: [`page_size`] then returns it
/// without asking the kernel.
///
/// A value that is not a power of two (0 included) is ignored, so a missing
/// aux vector entry cannot make [`page_size`] return 0.
///
/// ```
/// // A runtime passes on what the kernel put in the aux vector; here the
/// // value comes from page_size() itself, so nothing changes.
/// rawmap::set_page_size(rawmap::page_size());
/// rawmap::set_page_size(0); // ignored
/// assert_ne!(rawmap::page_size(), 0);
/// ```
#[inline]
pub fn set_page_size(size: usize) {
    if size.is_power_of_two() {
        PAGE_SIZE.store(size, Ordering::Relaxed);
    }
}

#[cold]
#[inline(never)]
fn find_page_size() -> usize {
    // Links 2 and 3 fill one buffer and share one scan of it. Plain loops
    // and `match`es rather than `Option::or_else`: core's adapters bring
    // unwinding metadata (a personality function, then `.eh_frame` for the
    // whole program) into `panic = "abort"` builds without a libc.
    let mut words = [0usize; AUXV_WORDS];
    let mut link = 2;
    let size = loop {
        let read = match link {
            2 => prctl_auxv(&mut words),
            3 => procfs::auxv(&mut words),
            _ => break from_probe(),
        };
        if let Some(words) = read
            && let Some(size) = auxv_page_size(words)
        {
            break size;
        }
        link += 1;
    };
    PAGE_SIZE.store(size, Ordering::Relaxed);
    size
}

/// `AT_PAGESZ` from a buffer of aux vector words, if it is there and a power
/// of two.
#[inline]
fn auxv_page_size(words: &[usize]) -> Option<usize> {
    // A plain loop, for the same reason as in `find_page_size`.
    let mut rest = words;
    while let [key, value, tail @ ..] = rest {
        match *key {
            AT_NULL => break,
            AT_PAGESZ if value.is_power_of_two() => return Some(*value),
            AT_PAGESZ => return None,
            _ => rest = tail,
        }
    }
    None
}

/// Link 2: `prctl(PR_GET_AUXV, buf, size)` (Linux 6.4+): the words of the
/// vector it copied into `words`.
#[inline]
fn prctl_auxv(words: &mut [usize; AUXV_WORDS]) -> Option<&[usize]> {
    let full = prctl::get_auxv(words).ok()?;
    // The kernel answers the full size of its vector, which may be more
    // than it copied. An `if` rather than `Ord::min`, and `get` rather than
    // indexing: no unwinding metadata, no panic path.
    let full_words = full / core::mem::size_of::<usize>();
    let copied = if full_words < AUXV_WORDS {
        full_words
    } else {
        AUXV_WORDS
    };
    words.get(..copied)
}

/// Link 2 on its own, for the tests of each link.
#[cfg(test)]
fn from_prctl() -> Option<usize> {
    let mut words = [0usize; AUXV_WORDS];
    auxv_page_size(prctl_auxv(&mut words)?)
}

/// Link 3 on its own (`/proc/self/auxv`), for the tests of each link.
#[cfg(test)]
fn from_proc_auxv() -> Option<usize> {
    let mut words = [0usize; AUXV_WORDS];
    auxv_page_size(procfs::auxv(&mut words)?)
}

/// The system's default huge page size: the `Hugepagesize:` line of
/// `/proc/meminfo` (in kB). `ENOSYS` where there is none (no hugetlb
/// support, or no `/proc`).
///
/// Compiled only where huge pages are asked for (`#[inline]`), and written
/// without iterator adapters, whose unwinding metadata would bring an
/// `.eh_frame` section into `panic = "abort"` programs without a libc.
#[cold]
#[inline]
pub(crate) fn default_huge_page_size() -> Result<usize, Errno> {
    let mut buf = [0u8; 8192];
    let meminfo = procfs::meminfo(&mut buf).ok_or(Errno::ENOSYS)?;
    parse_hugepagesize(meminfo).ok_or(Errno::ENOSYS)
}

/// `Hugepagesize:       2048 kB` -> 2 MiB: the value of the line that starts
/// with the key, if it is a power of two in bytes.
///
/// Slice patterns rather than iterator adapters: this runs once, and plain
/// loops cost the optimizer (and every build of rawmap) far less.
#[inline]
fn parse_hugepagesize(meminfo: &[u8]) -> Option<usize> {
    const KEY: &[u8] = b"Hugepagesize:";
    let mut line = meminfo;
    let mut value = loop {
        if let Some(value) = line.strip_prefix(KEY) {
            break value;
        }
        // The next line, if there is one.
        loop {
            match line {
                [b'\n', tail @ ..] => {
                    line = tail;
                    break;
                }
                [_, tail @ ..] => line = tail,
                [] => return None,
            }
        }
    };
    while let [b' ', tail @ ..] = value {
        value = tail;
    }
    // No digits leave 0, which is no power of two.
    let mut kb: usize = 0;
    while let [b @ b'0'..=b'9', tail @ ..] = value {
        kb = kb.checked_mul(10)?.checked_add(usize::from(*b - b'0'))?;
        value = tail;
    }
    let size = kb.checked_mul(1024)?;
    if size.is_power_of_two() {
        Some(size)
    } else {
        None
    }
}

/// Link 4: the smallest power of two `c >= 4096` that `msync(c, 0, 0)`
/// accepts. With a zero length the kernel checks only the alignment of the
/// address and returns 0 without looking at any mapping.
#[inline]
pub(crate) fn from_probe() -> usize {
    let mut size = SMALLEST_PAGE;
    while size != 0 {
        // SAFETY: a zero-length msync touches no memory.
        if unsafe { mm::msync(size as *mut _, 0, MsyncFlags::empty()) }.is_ok() {
            return size;
        }
        size = size.wrapping_shl(1);
    }
    // Unreachable on a Linux kernel (the top bit of the address space is
    // aligned to any page size); the largest page any Linux architecture
    // uses is the safe answer for alignment arithmetic.
    1 << 16
}

/// `n` rounded up to a multiple of `align` (a power of two), or `None` if
/// that does not fit a `usize`.
#[inline]
pub(crate) const fn round_up(n: usize, align: usize) -> Option<usize> {
    match n.checked_add(align - 1) {
        Some(m) => Some(m & !(align - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::String;

    /// The page size libc reports (from the aux vector its startup code
    /// saw): the independent answer every link must match where it works.
    fn sysconf_page_size() -> usize {
        // SAFETY: sysconf has no preconditions.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap()
    }

    /// Whether QEMU's user mode runs this test (its process keeps the
    /// command name `qemu-<arch>`), as in `tests/common`.
    fn under_qemu_user() -> bool {
        if let Ok(v) = std::env::var("RAWMAP_QEMU_USER") {
            return v == "1";
        }
        std::fs::read_to_string("/proc/self/comm").is_ok_and(|c| c.starts_with("qemu-"))
    }

    /// `(major, minor)` of the running kernel, from `uname`. Under QEMU's
    /// user mode this is the host's kernel.
    fn kernel_version() -> (u32, u32) {
        // SAFETY: an all-zero utsname is valid; uname fills it in.
        let mut uts: libc::utsname = unsafe { core::mem::zeroed() };
        // SAFETY: `uts` is a valid utsname to write.
        assert_eq!(unsafe { libc::uname(&mut uts) }, 0);
        // SAFETY: uname NUL-terminates `release` within the array.
        let release = unsafe { core::ffi::CStr::from_ptr(uts.release.as_ptr()) };
        let release: String = release.to_string_lossy().into_owned();
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let major = parts.next().and_then(|n| n.parse().ok()).unwrap();
        let minor = parts.next().and_then(|n| n.parse().ok()).unwrap();
        (major, minor)
    }

    /// `KernelPageSize` in `/proc/self/smaps`: the page size of the kernel
    /// that really runs the code (QEMU 7.2 does not emulate this file, so
    /// under QEMU it is the host's).
    fn host_page_size() -> Option<usize> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let kb: usize = smaps
            .lines()
            .find_map(|l| l.strip_prefix("KernelPageSize:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|n| n.trim().parse().ok())?;
        Some(kb * 1024)
    }

    #[test]
    fn link_prctl() {
        let got = from_prctl();
        if under_qemu_user() {
            // QEMU 7.2 does not know PR_GET_AUXV and answers EINVAL, whatever
            // the host's kernel: the chain must go on to /proc.
            assert_eq!(got, None);
            let mut buf = [0usize; 4];
            assert_eq!(prctl::get_auxv(&mut buf), Err(Errno::EINVAL));
        } else if kernel_version() >= (6, 4) {
            assert_eq!(
                got,
                Some(sysconf_page_size()),
                "kernel {:?}",
                kernel_version()
            );
        } else {
            // Before Linux 6.4 the option does not exist.
            assert_eq!(got, None, "kernel {:?}", kernel_version());
        }
    }

    #[test]
    fn link_proc_auxv() {
        let got = from_proc_auxv();
        if std::fs::metadata("/proc/self/auxv").is_ok() {
            // QEMU emulates this file with the guest's aux vector, so this
            // is QEMU_PAGESIZE under QEMU, like sysconf.
            assert_eq!(got, Some(sysconf_page_size()));
            // SAFETY: getauxval has no preconditions.
            let aux = unsafe { libc::getauxval(libc::AT_PAGESZ) };
            assert_eq!(got, Some(usize::try_from(aux).unwrap()));
        } else {
            assert_eq!(got, None, "no /proc mounted");
        }
    }

    #[test]
    fn link_probe() {
        let got = from_probe();
        assert!(got.is_power_of_two());
        if under_qemu_user() {
            // QEMU passes msync to the host, which checks the alignment
            // against its own page. With QEMU_PAGESIZE above the host's page
            // size the probe therefore finds the host's page (4 KiB on
            // x86_64), smaller than the page QEMU emulates: this is why the
            // probe is the last link, after the aux vector.
            assert_eq!(Some(got), host_page_size());
            assert!(got <= sysconf_page_size());
        } else {
            assert_eq!(got, sysconf_page_size());
            if let Some(host) = host_page_size() {
                assert_eq!(got, host);
            }
        }
    }

    #[test]
    fn chain_answers_with_its_first_link_that_knows() {
        let expected = from_prctl()
            .or_else(from_proc_auxv)
            .unwrap_or_else(from_probe);
        assert_eq!(page_size(), expected);
        assert_eq!(page_size(), sysconf_page_size());
    }

    #[test]
    fn auxv_parsing() {
        assert_eq!(
            auxv_page_size(&[3, 9, AT_PAGESZ, 16384, AT_NULL, 0]),
            Some(16384)
        );
        // stops at AT_NULL
        assert_eq!(auxv_page_size(&[AT_NULL, 0, AT_PAGESZ, 4096]), None);
        // not a power of two, or missing
        assert_eq!(auxv_page_size(&[AT_PAGESZ, 0, AT_NULL, 0]), None);
        assert_eq!(auxv_page_size(&[AT_PAGESZ, 5000]), None);
        assert_eq!(auxv_page_size(&[]), None);
        assert_eq!(auxv_page_size(&[AT_PAGESZ]), None);
    }

    #[test]
    fn hugepagesize_parsing() {
        let text = b"MemTotal: 1 kB\nHugepagesize:       2048 kB\nHugetlb: 0 kB\n";
        assert_eq!(parse_hugepagesize(text), Some(2 << 20));
        assert_eq!(parse_hugepagesize(b"Hugepagesize:    kB\n"), None);
        assert_eq!(parse_hugepagesize(b"Hugepagesize: 3 kB\n"), None);
        assert_eq!(parse_hugepagesize(b"MemTotal: 1 kB\n"), None);
        assert_eq!(
            parse_hugepagesize(b"Hugepagesize: 99999999999999999999999 kB"),
            None
        );
    }

    #[test]
    fn round_up_never_wraps() {
        assert_eq!(round_up(0, 4096), Some(0));
        assert_eq!(round_up(1, 4096), Some(4096));
        assert_eq!(round_up(4096, 4096), Some(4096));
        assert_eq!(round_up(usize::MAX - 4094, 4096), None);
        assert_eq!(round_up(usize::MAX & !4095, 4096), Some(usize::MAX & !4095));
    }
}
