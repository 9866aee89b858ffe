//! The `std` layer: `Mmap::open`, `MmapMut::open`, `MmapMut::create`, and
//! each way they fail, as `std::io::Error`s with their kind and errno.
//!
//! The tests run one at a time ([`serial`]): some of them `fork` a child
//! that drops root's privileges, which must not happen while other threads
//! of this process hold locks.

mod common;

use std::io::{self, ErrorKind};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use common::fork::{fork_child, wait};
use common::mem::qemu_with_larger_pages;
use common::{pattern_bytes, serial};
use rawmap::{Errno, Mmap, MmapMut, MmapOptions, page_size};

#[track_caller]
fn assert_io_err(err: io::Error, kind: ErrorKind, errno: i32) {
    assert_eq!(
        (err.kind(), err.raw_os_error()),
        (kind, Some(errno)),
        "{err}"
    );
}

/// A directory everyone may enter and read, for the tests that drop root.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn open_maps_the_whole_file() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("data");
    let bytes = pattern_bytes(3 * page_size() + 17);
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: the file is private to this test.
    let map = unsafe { Mmap::open(&path) }.unwrap();
    assert_eq!(&map[..], &bytes[..]);
    // A read-only file is enough for Mmap::open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    // SAFETY: as above.
    let again = unsafe { Mmap::open(&path) }.unwrap();
    assert_eq!(&again[..], &bytes[..]);
    // An empty file: an empty mapping.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    // SAFETY: as above.
    assert!(unsafe { Mmap::open(&empty) }.unwrap().is_empty());
}

#[test]
fn open_for_writing_reaches_the_file() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("data");
    std::fs::write(&path, b"hello, file").unwrap();
    // SAFETY: the file is private to this test.
    let mut map = unsafe { MmapMut::open(&path) }.unwrap();
    map[..5].copy_from_slice(b"HELLO");
    map.flush().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"HELLO, file");
    map[7..].copy_from_slice(b"FILE");
    map.flush_async().unwrap();
    drop(map);
    assert_eq!(std::fs::read(&path).unwrap(), b"HELLO, FILE");
}

#[test]
fn create_sets_the_length_and_truncates() {
    let _g = serial();
    let dir = open_dir();
    let page = page_size();
    let path = dir.path().join("new");
    let len = 2 * page + 5;
    // SAFETY: the file is private to this test.
    let mut map = unsafe { MmapMut::create(&path, len as u64) }.unwrap();
    assert_eq!(map.len(), len);
    assert!(map.iter().all(|&b| b == 0));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len as u64);
    map[len - 1] = 7;
    map.flush().unwrap();
    drop(map);
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!((on_disk.len(), on_disk[len - 1]), (len, 7));

    // An existing, longer file is truncated and zero-filled to the length.
    // SAFETY: as above.
    let map = unsafe { MmapMut::create(&path, 3) }.unwrap();
    assert_eq!(&map[..], &[0, 0, 0]);
    assert_eq!(std::fs::read(&path).unwrap(), [0, 0, 0]);
    drop(map);
    // Length 0: an empty file and an empty mapping.
    // SAFETY: as above.
    let map = unsafe { MmapMut::create(&path, 0) }.unwrap();
    assert!(map.is_empty());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn missing_files_are_not_found() {
    let _g = serial();
    let dir = open_dir();
    let missing = dir.path().join("missing");
    // SAFETY: nothing gets mapped.
    unsafe {
        assert_io_err(
            Mmap::open(&missing).unwrap_err(),
            ErrorKind::NotFound,
            libc::ENOENT,
        );
        assert_io_err(
            MmapMut::open(&missing).unwrap_err(),
            ErrorKind::NotFound,
            libc::ENOENT,
        );
        let in_missing_dir = missing.join("file");
        let err = MmapMut::create(&in_missing_dir, 1).unwrap_err();
        assert_io_err(err, ErrorKind::NotFound, libc::ENOENT);
    }
    assert!(!missing.exists());
}

#[test]
fn directories_are_refused() {
    let _g = serial();
    let dir = open_dir();
    // SAFETY: nothing gets mapped.
    unsafe {
        let err = Mmap::open(dir.path()).unwrap_err();
        assert_io_err(err, ErrorKind::IsADirectory, libc::EISDIR);
        let err = MmapMut::open(dir.path()).unwrap_err();
        assert_io_err(err, ErrorKind::IsADirectory, libc::EISDIR);
        let err = MmapMut::create(dir.path(), 1).unwrap_err();
        assert_io_err(err, ErrorKind::IsADirectory, libc::EISDIR);
    }
}

/// Runs `f` in a child made with `fork` that first gives up root (to the
/// user and group `nobody`, 65534), and returns its exit code.
fn as_nobody(f: impl FnOnce() -> i32) -> i32 {
    // No other thread of this process holds a lock meanwhile (the tests run
    // one at a time).
    let status = wait(fork_child(|| {
        // SAFETY: changes the identity of this child only.
        let dropped = unsafe { libc::setgid(65534) == 0 && libc::setuid(65534) == 0 };
        if dropped { f() } else { 99 }
    }));
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    libc::WEXITSTATUS(status)
}

/// 0 if `r` is the error PermissionDenied / EACCES; otherwise a code that
/// says what it was.
fn denied<T>(r: io::Result<T>) -> i32 {
    match r {
        Ok(_) => 1,
        Err(e)
            if e.kind() == ErrorKind::PermissionDenied
                && e.raw_os_error() == Some(libc::EACCES) =>
        {
            0
        }
        Err(e) => 2 + e.raw_os_error().unwrap_or(0).min(100),
    }
}

#[test]
fn files_without_permission_are_denied() {
    let _g = serial();
    let dir = open_dir();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"secret").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let read_only = dir.path().join("read-only");
    std::fs::write(&read_only, b"read only").unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
    let closed_dir = dir.path().join("closed");
    std::fs::create_dir(&closed_dir).unwrap();
    std::fs::set_permissions(&closed_dir, std::fs::Permissions::from_mode(0o555)).unwrap();

    // Root may open all of these; an ordinary user may not.
    let paths = (secret.clone(), read_only.clone(), closed_dir.join("new"));
    let code = as_nobody(move || {
        // SAFETY: nothing gets mapped.
        unsafe {
            let codes = [
                denied(Mmap::open(&paths.0)),
                denied(MmapMut::open(&paths.0)),
                denied(MmapMut::open(&paths.1)),
                denied(MmapMut::create(&paths.1, 4)),
                denied(MmapMut::create(&paths.2, 4)),
            ];
            // Mmap::open of a readable file works for anyone.
            let readable = Mmap::open(&paths.1).map(|m| m[..] == b"read only"[..]);
            match codes.iter().position(|&c| c != 0) {
                Some(i) => 10 * (i as i32 + 1) + codes[i].min(9),
                None if readable.unwrap_or(false) => 0,
                None => 60,
            }
        }
    });
    assert_eq!(code, 0, "child reported {code}");
    // Nothing was created or changed.
    assert!(!closed_dir.join("new").exists());
    assert_eq!(std::fs::read(&read_only).unwrap(), b"read only");
}

#[test]
fn read_only_descriptor_mapped_writable_is_denied() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("data");
    std::fs::write(&path, b"data").unwrap();
    let ro = std::fs::File::open(&path).unwrap();
    fn map_mut(file: &std::fs::File) -> io::Result<MmapMut> {
        // SAFETY: the file is private to this test.
        Ok(unsafe { MmapOptions::new().map_mut(file) }?)
    }
    // This fails even for root: the kernel checks the descriptor's mode.
    assert_io_err(
        map_mut(&ro).unwrap_err(),
        ErrorKind::PermissionDenied,
        libc::EACCES,
    );
    // A copy-on-write mapping needs no write access.
    // SAFETY: as above.
    let mut copy = unsafe { MmapOptions::new().map_copy(&ro) }.unwrap();
    copy[0] = b'D';
    assert_eq!(&copy[..], b"Data");
    assert_eq!(std::fs::read(&path).unwrap(), b"data");
    // A write-only descriptor cannot be mapped at all.
    let wo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // SAFETY: nothing gets mapped.
    let err = unsafe { MmapOptions::new().map(&wo) }.unwrap_err();
    assert_eq!(err, Errno::EACCES);
}

#[test]
fn errno_converts_into_io_error() {
    let _g = serial();
    for (errno, kind) in [
        (Errno::EINVAL, ErrorKind::InvalidInput),
        (Errno::ENOMEM, ErrorKind::OutOfMemory),
        (Errno::EACCES, ErrorKind::PermissionDenied),
        (Errno::ENOENT, ErrorKind::NotFound),
        (Errno::EISDIR, ErrorKind::IsADirectory),
    ] {
        let e = io::Error::from(errno);
        assert_eq!((e.kind(), e.raw_os_error()), (kind, Some(errno.into_raw())));
    }
    // `?` in an io::Result function.
    fn offset_past_end(path: &Path) -> io::Result<Mmap> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the file is private to this test.
        Ok(unsafe { MmapOptions::new().offset(100).map(&file) }?)
    }
    let dir = open_dir();
    let path = dir.path().join("short");
    std::fs::write(&path, b"short").unwrap();
    let err = offset_past_end(&path).unwrap_err();
    assert_io_err(err, ErrorKind::InvalidInput, libc::EINVAL);
}

#[test]
fn std_descriptors_are_mapping_sources() {
    let _g = serial();
    use std::os::fd::{AsFd, AsRawFd};
    let mut file = tempfile::tempfile().unwrap();
    io::Write::write_all(&mut file, b"fd kinds").unwrap();
    let opts = MmapOptions::new();
    // SAFETY: the temporary file is private to this test.
    unsafe {
        assert_eq!(&opts.map(&file).unwrap()[..], b"fd kinds");
        assert_eq!(&opts.map(file.as_fd()).unwrap()[..], b"fd kinds");
        assert_eq!(&opts.map(file.as_raw_fd()).unwrap()[..], b"fd kinds");
        let owned = file.try_clone().unwrap().into();
        let owned: std::os::fd::OwnedFd = owned;
        assert_eq!(&opts.map(&owned).unwrap()[..], b"fd kinds");
        // Unsized AsFd types work through `&T` too.
        let dynamic: &dyn AsFd = &file;
        assert_eq!(&opts.map(dynamic).unwrap()[..], b"fd kinds");
    }
}

#[test]
fn fifos_are_refused_without_waiting() {
    let _g = serial();
    let dir = open_dir();
    let fifo = dir.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    // Opening a FIFO for reading alone would wait for a writer: it must not.
    // SAFETY: nothing gets mapped.
    unsafe {
        let err = Mmap::open(&fifo).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        let err = MmapMut::open(&fifo).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
    }
}

// ---------------------------------------------------------------------------
// MmapMut::create never loses an existing file's bytes to a length that
// fails, and Mmap::open refuses files whose size is no length.

/// The answer of the file system holding `dir` to `ftruncate(len)` of a
/// scratch file there, asked with libc: `None` if it grows the file, else
/// the errno (`EFBIG` beyond its limit). The oracle for what `create` meets.
#[cfg(target_pointer_width = "64")]
fn ftruncate_answer(dir: &Path, len: u64) -> Option<i32> {
    let scratch = std::fs::File::create(dir.join("scratch")).unwrap();
    let Ok(len) = libc::off_t::try_from(len) else {
        return Some(libc::EINVAL);
    };
    use std::os::fd::AsRawFd;
    // SAFETY: a descriptor this function owns.
    let ret = unsafe { libc::ftruncate(scratch.as_raw_fd(), len) };
    let answer = (ret != 0).then(common::mem::last_errno);
    drop(scratch);
    std::fs::remove_file(dir.join("scratch")).unwrap();
    answer
}

#[test]
fn create_with_a_length_that_fails_leaves_the_file_untouched() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("precious");
    std::fs::write(&path, b"precious").unwrap();
    let modes = std::fs::metadata(&path).unwrap().permissions();
    // Beyond isize::MAX no mapping can exist: ENOMEM before the file is
    // opened, wherever it is.
    for len in [u64::MAX, isize::MAX as u64 + 1, 1 << 63] {
        // SAFETY: nothing gets mapped.
        let err = unsafe { MmapMut::create(&path, len) }.unwrap_err();
        assert_io_err(err, ErrorKind::OutOfMemory, libc::ENOMEM);
        assert_eq!(std::fs::read(&path).unwrap(), b"precious", "len {len:#x}");
    }
    // A length a mapping could have but the file system (EFBIG: ext4's limit
    // is 16 TiB) or the address space (ENOMEM: tmpfs takes any length up to
    // i64::MAX, but no process has 2^62 bytes of address space) refuses.
    // (64-bit only: on 32-bit targets 2^62 is beyond isize::MAX, covered
    // above, and isize::MAX bytes can be mapped.)
    #[cfg(target_pointer_width = "64")]
    for len in [1 << 62, isize::MAX as u64, (1 << 62) + 1] {
        let want = match ftruncate_answer(dir.path(), len) {
            Some(errno) => errno,
            None => libc::ENOMEM,
        };
        // SAFETY: the file is private to this test.
        let err = unsafe { MmapMut::create(&path, len) }.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(want), "len {len:#x}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious", "len {len:#x}");
    }
    assert_eq!(std::fs::metadata(&path).unwrap().permissions(), modes);
    // A new file is not created for a length refused before opening.
    let fresh = dir.path().join("fresh");
    // SAFETY: nothing gets mapped.
    let err = unsafe { MmapMut::create(&fresh, u64::MAX) }.unwrap_err();
    assert_io_err(err, ErrorKind::OutOfMemory, libc::ENOMEM);
    assert!(!fresh.exists());
}

/// A mapping that fails for want of address space (a child's `RLIMIT_AS`)
/// after the file has grown: the file gets its old length and bytes back.
#[test]
fn create_whose_mapping_fails_gives_the_file_back() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("precious");
    std::fs::write(&path, b"precious").unwrap();
    let vm = common::proc::vm_size_kb();
    assert_ne!(vm, u64::MAX, "VmSize: in /proc/self/status");
    let path_in_child = path.clone();
    let status = wait(fork_child(move || {
        // Room for a little more than this process has now, not for 1 GiB.
        // rlim_t is u64 on most targets and u32 on 32-bit glibc, where the
        // limit saturates at 4 GiB.
        #[allow(clippy::unnecessary_fallible_conversions)]
        let limit = libc::rlim_t::try_from((vm + 64 * 1024) * 1024).unwrap_or(libc::rlim_t::MAX);
        let rlim = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: lowers this child's own limit.
        if unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlim) } != 0 {
            return 99;
        }
        // SAFETY: the file is private to this test.
        match unsafe { MmapMut::create(&path_in_child, 1 << 30) } {
            Ok(_) => 1,
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => 0,
            Err(e) => 2 + e.raw_os_error().unwrap_or(0).min(100),
        }
    }));
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    if common::under_qemu_user() {
        // QEMU's user mode reserves the guest's address space when it
        // starts, so a lower RLIMIT_AS does not stop its mmap: create works
        // and the file is 1 GiB of zeros.
        assert_eq!(libc::WEXITSTATUS(status), 1, "child's answer");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 1 << 30);
        let mut head = [1u8; 8];
        io::Read::read_exact(&mut std::fs::File::open(&path).unwrap(), &mut head).unwrap();
        assert_eq!(head, [0; 8]);
    } else {
        assert_eq!(libc::WEXITSTATUS(status), 0, "child's answer");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    }
}

#[test]
fn create_zero_fills_a_file_it_grows_or_keeps_the_length_of() {
    let _g = serial();
    let dir = open_dir();
    let path = dir.path().join("data");
    for len in [16usize, 8, 2 * page_size() + 1] {
        std::fs::write(&path, b"precious").unwrap();
        // SAFETY: the file is private to this test.
        let map = unsafe { MmapMut::create(&path, len as u64) }.unwrap();
        assert_eq!(map.len(), len);
        assert!(
            map.iter().all(|&b| b == 0),
            "len {len}: the mapping is zeros"
        );
        drop(map);
        assert_eq!(std::fs::read(&path).unwrap(), vec![0; len], "len {len}");
    }
}

#[test]
fn create_refuses_what_is_not_a_regular_file() {
    let _g = serial();
    let dir = open_dir();
    let fifo = dir.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    // SAFETY: nothing gets mapped.
    unsafe {
        let err = MmapMut::create(&fifo, 4).unwrap_err();
        assert_io_err(err, ErrorKind::InvalidInput, libc::EINVAL);
        let err = MmapMut::create("/dev/null", 4).unwrap_err();
        assert_io_err(err, ErrorKind::InvalidInput, libc::EINVAL);
    }
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// What the std layer says of a file whose size is no length.
#[track_caller]
fn assert_length_needed(err: io::Error, path: &str) {
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.raw_os_error(), None, "{err}");
    let text = err.to_string();
    assert!(text.contains("needs a length"), "{text}");
    assert!(text.contains(path), "{text}");
}

#[test]
fn files_that_report_size_zero_need_a_length() {
    let _g = serial();
    // SAFETY: these files are not written meanwhile; failures map nothing.
    unsafe {
        // A file of /proc that QEMU's user mode does not fake.
        assert_length_needed(
            Mmap::open("/proc/self/status").unwrap_err(),
            "/proc/self/status",
        );
        // sysfs attributes report the kernel's page size, not 0: the size
        // is taken, and the kernel refuses to map them.
        let attr = "/sys/kernel/uevent_seqnum";
        let kernel_page = common::proc::host_page_size() as u64;
        assert_eq!(std::fs::metadata(attr).unwrap().len(), kernel_page);
        let err = Mmap::open(attr).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        // Character devices.
        assert_length_needed(Mmap::open("/dev/zero").unwrap_err(), "/dev/zero");
        assert_length_needed(MmapMut::open("/dev/zero").unwrap_err(), "/dev/zero");
        assert_length_needed(Mmap::open("/dev/null").unwrap_err(), "/dev/null");
        // With a length, /dev/zero maps (zeros); /dev/null has nothing to map.
        let zero = std::fs::File::open("/dev/zero").unwrap();
        let map = MmapOptions::new().len(3 * page_size()).map(&zero);
        if qemu_with_larger_pages() {
            // QEMU's user mode with pages larger than the host's cuts a file
            // mapping at the file's size (its work-around for the partial
            // page past the end): a device of size 0 leaves it nothing to map.
            assert_eq!(map.unwrap_err(), Errno::EINVAL);
        } else {
            assert!(map.unwrap().iter().all(|&b| b == 0));
        }
        let null = std::fs::File::open("/dev/null").unwrap();
        let err = MmapOptions::new().len(page_size()).map(&null).unwrap_err();
        let want = if qemu_with_larger_pages() {
            Errno::EINVAL // cut at size 0, as above
        } else {
            Errno::ENODEV
        };
        assert_eq!(err, want);
    }
    // An empty regular file is empty, not unknown.
    let dir = open_dir();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    // SAFETY: the file is private to this test.
    unsafe {
        assert!(Mmap::open(&empty).unwrap().is_empty());
        assert!(MmapMut::open(&empty).unwrap().is_empty());
    }
}

/// `/proc/self/maps`: a file of procfs on a kernel; under QEMU's user mode
/// a regular file that QEMU writes (its emulation of the guest's maps) on
/// the host's temporary storage, which then maps like any file.
#[test]
fn proc_self_maps_needs_a_length_except_as_faked_by_qemu() {
    let _g = serial();
    // SAFETY: a failure maps nothing; QEMU's copy is private to it.
    let r = unsafe { Mmap::open("/proc/self/maps") };
    if common::under_qemu_user() {
        let map = r.unwrap();
        assert!(!map.is_empty());
        assert!(map.contains(&b'\n'), "lines of mappings");
    } else {
        assert_length_needed(r.unwrap_err(), "/proc/self/maps");
    }
}

/// `<linux/loop.h>`'s requests (the `libc` crate lacks them).
const LOOP_SET_FD: libc::Ioctl = 0x4C00;
const LOOP_CLR_FD: libc::Ioctl = 0x4C01;
const LOOP_CTL_GET_FREE: libc::Ioctl = 0x4C82;

/// A loop device attached to `backing` for as long as it lives.
struct Loop {
    dev: std::fs::File,
    path: std::path::PathBuf,
}

impl Loop {
    /// Attaches `backing` to a free loop device, through `/dev/loop-control`.
    fn attach(backing: &std::fs::File) -> io::Result<Loop> {
        use std::os::fd::AsRawFd;
        let ctl = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/loop-control")?;
        // Another process may take the free device first: try again.
        for _ in 0..10 {
            // SAFETY: LOOP_CTL_GET_FREE takes no argument.
            let n = unsafe { libc::ioctl(ctl.as_raw_fd(), LOOP_CTL_GET_FREE) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let path = std::path::PathBuf::from(format!("/dev/loop{n}"));
            let dev = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)?;
            // SAFETY: LOOP_SET_FD takes the backing file's descriptor.
            let ret = unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_SET_FD, backing.as_raw_fd()) };
            if ret == 0 {
                return Ok(Loop { dev, path });
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EBUSY) {
                return Err(err);
            }
        }
        Err(io::Error::from_raw_os_error(libc::EBUSY))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: LOOP_CLR_FD takes no argument.
        unsafe { libc::ioctl(self.dev.as_raw_fd(), LOOP_CLR_FD, 0) };
    }
}

/// A block device reports size 0; the mapping takes its size from
/// `BLKGETSIZE64`. A loop device over a temporary file is the block device
/// (root is needed, and the tests run as root on the host and the
/// real-kernel runner's guest).
#[test]
fn block_devices_are_mapped_to_their_size() {
    let _g = serial();
    let len = 3 * page_size() + 1024; // a whole number of 512-byte sectors
    let (backing, bytes) = common::pattern_file(len);
    let lo = match Loop::attach(backing.as_file()) {
        Ok(lo) => lo,
        // The kernels the real-kernel runner boots have loop as a module,
        // which its guest (a kernel and an initramfs) cannot load: it has no
        // /dev/loop-control, and no block device at all.
        Err(e) if common::under_real_kernel_runner() => {
            common::report(&format!("no loop device in the guest: {e}"));
            assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}");
            let devices = std::fs::read_dir("/sys/class/block").unwrap().count();
            assert_eq!(devices, 0, "block devices in the guest");
            return;
        }
        Err(e) => panic!("attaching a loop device: {e}"),
    };
    assert_eq!(
        std::fs::metadata(&lo.path).unwrap().len(),
        0,
        "st_size of a block device"
    );
    // SAFETY: the device and its backing file are private to this test.
    unsafe {
        if qemu_with_larger_pages() {
            // QEMU's user mode with pages larger than the host's cuts a file
            // mapping at the size fstat gives, 0 for a device: nothing is
            // left to map (as for /dev/zero with a length).
            let err = Mmap::open(&lo.path).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
            return;
        }
        let map = Mmap::open(&lo.path).unwrap();
        assert_eq!(map.len(), len);
        assert!(map[..] == bytes[..], "the device shows the backing file");
        let offset = page_size() + 100;
        let map = MmapOptions::new()
            .offset(offset as u64)
            .map(&lo.dev)
            .unwrap();
        assert!(map[..] == bytes[offset..]);
        let err = MmapOptions::new()
            .offset(len as u64 + 1)
            .map(&lo.dev)
            .unwrap_err();
        assert_eq!(err, Errno::EINVAL, "an offset past the device's end");
    }
}

/// A file that may grow but not shrink (a memfd sealed with
/// `F_SEAL_SHRINK`, reached by its `/proc/self/fd` path): emptying it is
/// refused, so create fails, after the mapping was made, with the bytes
/// still there.
#[test]
fn create_of_a_file_that_cannot_shrink_keeps_its_bytes() {
    let _g = serial();
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: a NUL-terminated name; the new descriptor is owned below.
    let fd = unsafe { libc::memfd_create(c"precious".as_ptr(), libc::MFD_ALLOW_SEALING) };
    assert!(fd >= 0, "memfd_create: {}", io::Error::last_os_error());
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let memfd = unsafe { std::fs::File::from_raw_fd(fd) };
    io::Write::write_all(&mut &memfd, b"precious").unwrap();
    // SAFETY: F_ADD_SEALS takes the seals as an int.
    let ret = unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) };
    assert_eq!(ret, 0, "F_ADD_SEALS: {}", io::Error::last_os_error());
    let path = format!("/proc/self/fd/{}", memfd.as_raw_fd());
    for len in [8, 4, 0] {
        // SAFETY: the memfd is private to this test.
        let err = unsafe { MmapMut::create(&path, len) }.unwrap_err();
        assert_io_err(err, ErrorKind::PermissionDenied, libc::EPERM);
        assert_eq!(std::fs::read(&path).unwrap(), b"precious", "len {len}");
    }
    // A length that makes the file grow: it grows (the seal allows that),
    // cannot be emptied, and cannot be given its old length back either.
    // The bytes stay; the file keeps the new length, zeros after them.
    let len = 3 * page_size();
    // SAFETY: as above.
    let err = unsafe { MmapMut::create(&path, len as u64) }.unwrap_err();
    assert_io_err(err, ErrorKind::PermissionDenied, libc::EPERM);
    let mut want = b"precious".to_vec();
    want.resize(len, 0);
    assert!(std::fs::read(&path).unwrap() == want, "grown, bytes kept");
}
