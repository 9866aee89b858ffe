//! Reading files of `/proc` into a buffer the caller provides, through the
//! raw `openat`/`read`/`close` of `src/sys/fd.rs`: no `std`, no allocation.
//!
//! A missing file (no `/proc` mounted, as in some containers and minimal
//! runtimes) is `None`; callers then fall back to something else.

use core::ffi::CStr;

use syscalls::Errno;

use crate::sys::consts::{AT_FDCWD, O_CLOEXEC, O_RDONLY};
use crate::sys::fd;

/// Reads the start of the file at `path` into `buf`; returns the number of
/// bytes read (less than `buf.len()` only at the end of the file or on a
/// read error after the open).
#[inline]
pub(crate) fn read_file(path: &CStr, buf: &mut [u8]) -> Option<usize> {
    let fd = fd::openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC).ok()?;
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        match fd::read(fd, rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    // SAFETY: `fd` is the descriptor opened above and used by nothing else.
    let _ = unsafe { fd::close(fd) };
    Some(filled)
}

/// `/proc/self/auxv` into `words`: the aux vector's words that were read.
#[inline]
pub(crate) fn auxv(words: &mut [usize]) -> Option<&[usize]> {
    // SAFETY: the byte view covers exactly `words`, and any bytes written
    // into it form valid `usize` values.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(
            words.as_mut_ptr().cast::<u8>(),
            core::mem::size_of_val(words),
        )
    };
    let filled = read_file(c"/proc/self/auxv", bytes)?;
    // `get` rather than indexing: no panic path, whatever `read` returned.
    words.get(..filled / core::mem::size_of::<usize>())
}

/// `/proc/meminfo` into `buf`: the bytes that were read.
#[inline]
pub(crate) fn meminfo(buf: &mut [u8]) -> Option<&[u8]> {
    let n = read_file(c"/proc/meminfo", buf)?;
    buf.get(..n)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    #[test]
    fn read_file_reads_and_reports_missing_files() {
        let dir = std::env::temp_dir();
        let path = dir.join(std::format!("rawmap-read-file-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(read_file(&c_path, &mut buf), Some(10));
        assert_eq!(&buf[..10], b"0123456789");
        // A buffer smaller than the file gets filled, no more.
        let mut small = [0u8; 4];
        assert_eq!(read_file(&c_path, &mut small), Some(4));
        assert_eq!(&small, b"0123");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read_file(&c_path, &mut buf), None);
    }

    #[test]
    fn meminfo_and_auxv_read_whole_words() {
        if std::fs::metadata("/proc/self/auxv").is_err() {
            return;
        }
        let mut words = [0usize; 96];
        let got = auxv(&mut words).unwrap();
        assert!(!got.is_empty());
        let mut buf = [0u8; 64];
        assert_eq!(meminfo(&mut buf).map(<[u8]>::len), Some(64));
    }
}
