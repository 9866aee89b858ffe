//! `rawmap::File`, the owned descriptor opened by path without `std`:
//! opening, creating and truncating through `openat`, the size through
//! `ftruncate` and `statx`, positioned I/O, mapping it, closing on drop, and
//! its conversions to and from `std`'s `OwnedFd`. `std::fs` is the oracle.

mod common;

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::fork::{check_in_child, ensure};
use rawmap::{Errno, File, MmapOptions};

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_encoded_bytes()).unwrap()
}

#[test]
fn create_open_and_positioned_io_agree_with_std() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let cpath = c_path(&path);
    let file = File::create(&cpath).unwrap();
    assert_eq!(file.len(), Ok(0));
    let bytes = common::pattern_bytes(100_000);
    file.write_all_at(&bytes, 0).unwrap();
    assert_eq!(file.len(), Ok(100_000));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // A write in the middle, and one past the end leaving a hole.
    assert_eq!(file.write_at(b"MID", 500), Ok(3));
    assert_eq!(file.write_at(b"END", 200_000), Ok(3));
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk.len(), 200_003);
    assert_eq!(&on_disk[500..503], b"MID");
    assert!(on_disk[100_000..200_000].iter().all(|&b| b == 0));
    // Reads, and 0 bytes at the end.
    let mut buf = [0u8; 3];
    file.read_exact_at(&mut buf, 200_000).unwrap();
    assert_eq!(&buf, b"END");
    assert_eq!(file.read_at(&mut buf, 200_003), Ok(0));
    assert_eq!(file.read_exact_at(&mut [0; 4], 200_000), Err(Errno::EIO));
    // set_len cuts and grows, as std sees it.
    file.set_len(10).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 10);
    file.set_len(5000).unwrap();
    assert_eq!(file.len(), Ok(5000));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 5000);
    // Offsets and lengths beyond i64::MAX: the kernel's EINVAL.
    assert_eq!(file.set_len(1 << 63), Err(Errno::EINVAL));
    assert_eq!(file.write_at(b"x", u64::MAX), Err(Errno::EINVAL));
    assert_eq!(file.read_at(&mut buf, 1 << 63), Err(Errno::EINVAL));
    drop(file);

    // open: read-only; open_rw: both; create truncates.
    let ro = File::open(&cpath).unwrap();
    assert_eq!(ro.len(), Ok(5000));
    assert_eq!(ro.write_at(b"x", 0), Err(Errno::EBADF));
    assert_eq!(ro.set_len(1), Err(Errno::EINVAL));
    let rw = File::open_rw(&cpath).unwrap();
    rw.write_all_at(b"rw", 0).unwrap();
    ro.read_exact_at(&mut buf[..2], 0).unwrap();
    assert_eq!(&buf[..2], b"rw");
    let again = File::create(&cpath).unwrap();
    assert_eq!(again.len(), Ok(0));
    assert_eq!(ro.len(), Ok(0));
}

#[test]
fn opening_errors_are_the_kernels() {
    let dir = tempfile::tempdir().unwrap();
    let missing = c_path(&dir.path().join("missing"));
    assert_eq!(File::open(&missing).unwrap_err(), Errno::ENOENT);
    assert_eq!(File::open_rw(&missing).unwrap_err(), Errno::ENOENT);
    let cdir = c_path(dir.path());
    assert_eq!(File::open_rw(&cdir).unwrap_err(), Errno::EISDIR);
    assert_eq!(File::create(&cdir).unwrap_err(), Errno::EISDIR);
    // A directory opens read-only; reading it is EISDIR.
    let d = File::open(&cdir).unwrap();
    assert_eq!(d.read_at(&mut [0; 1], 0), Err(Errno::EISDIR));
    let through_file = c_path(&dir.path().join("missing/x"));
    assert_eq!(File::create(&through_file).unwrap_err(), Errno::ENOENT);
    let file_path = dir.path().join("f");
    std::fs::write(&file_path, b"x").unwrap();
    let under_file = c_path(&file_path.join("x"));
    assert_eq!(File::open(&under_file).unwrap_err(), Errno::ENOTDIR);
}

#[test]
fn created_files_have_the_umasked_mode_and_cloexec() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mode");
    let file = File::create(&c_path(&path)).unwrap();
    // SAFETY: umask only swaps this process's mask; set it back at once.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !mask);
    for fd in [file.as_raw_fd(), File::open(c"/").unwrap().into_raw_fd()] {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        if fd != file.as_raw_fd() {
            common::fork::close(fd);
        }
    }
}

#[test]
fn a_file_is_a_mapping_source() {
    let dir = tempfile::tempdir().unwrap();
    let path = c_path(&dir.path().join("map"));
    let file = File::create(&path).unwrap();
    let bytes = common::pattern_bytes(3 * rawmap::page_size() + 17);
    file.write_all_at(&bytes, 0).unwrap();
    // SAFETY: only this test uses the file.
    let map = unsafe { MmapOptions::new().map(&file) }.unwrap();
    assert_eq!(&map[..], &bytes[..]);
    // SAFETY: as above.
    let mut rw = unsafe { MmapOptions::new().offset(5).len(3).map_mut(&file) }.unwrap();
    rw.copy_from_slice(b"abc");
    rw.flush().unwrap();
    let mut back = [0u8; 3];
    file.read_exact_at(&mut back, 5).unwrap();
    assert_eq!(&back, b"abc");
    // A read-only File maps read-only and refuses a writable shared map.
    let ro = File::open(&path).unwrap();
    // SAFETY: refused.
    let refused = unsafe { MmapOptions::new().map_mut(&ro) };
    assert_eq!(refused.unwrap_err(), Errno::EACCES);
    // An ordinary file is not safe to map without `unsafe`.
    assert!(MmapOptions::new().map_if_safe(&ro).is_err());
}

#[test]
fn converts_to_and_from_owned_fd() {
    let file = File::open(c"/proc/self/status").unwrap();
    let raw = file.as_raw_fd();
    assert_eq!(file.as_fd().as_raw_fd(), raw);
    let owned: OwnedFd = file.into();
    assert_eq!(owned.as_raw_fd(), raw);
    let file = File::from(owned);
    assert_eq!(file.as_raw_fd(), raw);
    let mut head = [0u8; 5];
    file.read_exact_at(&mut head, 0).unwrap();
    assert_eq!(&head, b"Name:");
    let std_file = std::fs::File::from(OwnedFd::from(file));
    assert!(std_file.metadata().unwrap().is_file());
}

/// Counted in a single-threaded child, where no other test opens
/// descriptors meanwhile.
#[test]
fn closed_on_drop_and_not_before() {
    check_in_child(|| {
        let before = common::proc::fd_count();
        ensure!(before != u64::MAX, "read /proc/self/fd");
        let files: [Result<File, Errno>; 8] = core::array::from_fn(|_| File::open(c"/"));
        ensure!(files.iter().all(Result::is_ok), "open");
        ensure!(common::proc::fd_count() == before + 8, "eight more open");
        drop(files);
        ensure!(common::proc::fd_count() == before, "all eight closed");
        let Ok(file) = File::open(c"/") else {
            return Err("open");
        };
        let raw = file.into_raw_fd();
        ensure!(
            common::proc::fd_count() == before + 1,
            "into_raw_fd keeps it"
        );
        // SAFETY: `raw` was just handed over.
        drop(unsafe { File::from_raw_fd(raw) });
        ensure!(common::proc::fd_count() == before, "from_raw_fd closes it");
        Ok(())
    });
}
