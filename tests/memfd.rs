//! Memory files and safe mappings of files that cannot change: the raw
//! `memfd_create` and `memfd_secret`, `Memfd` (size, positioned I/O,
//! seals), `MmapOptions::map_if_safe` and `MmapOptions::map_secret`.
//!
//! The seal cases follow the kernel's own memfd selftest
//! (tools/testing/selftests/memfd/memfd_test.c: `test_seal_write`,
//! `test_seal_future_write`, `test_seal_shrink`, `test_seal_grow`,
//! `test_share_fork`) and its secret memory test
//! (tools/testing/selftests/mm/memfd_secret.c: `test_remote_access`,
//! `test_file_apis`), written anew against rawmap's API.
//!
//! QEMU 7.2's user mode answers `ENOSYS` to `memfd_secret`; where it departs
//! from a kernel otherwise, the test says so and asserts QEMU's answer.

// Every test takes `common::serial()`: a fork by one test copies the
// writable mappings of the others into the child, and while it lives
// F_SEAL_WRITE answers EBUSY.

mod common;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use common::fork::{check_in_child, ensure};
use rawmap::{Errno, MapIfSafeError, Memfd, MemfdFlags, MmapOptions, Seals};

const SEALABLE: MemfdFlags = MemfdFlags::CLOEXEC.union(MemfdFlags::ALLOW_SEALING);

/// A sealable memory file holding `bytes`.
fn memfd_with(bytes: &[u8]) -> Memfd {
    let memfd = Memfd::create(c"rawmap-test", SEALABLE).unwrap();
    memfd.write_all_at(bytes, 0).unwrap();
    memfd
}

/// A memory file holding `bytes`, sealed against shrinking and writes.
fn sealed_with(bytes: &[u8]) -> Memfd {
    let memfd = memfd_with(bytes);
    memfd.add_seals(Seals::SHRINK | Seals::WRITE).unwrap();
    memfd
}

#[test]
fn flags_and_seals_match_libc() {
    let _serial = common::serial();
    assert_eq!(MemfdFlags::CLOEXEC.bits(), libc::MFD_CLOEXEC);
    assert_eq!(MemfdFlags::ALLOW_SEALING.bits(), libc::MFD_ALLOW_SEALING);
    assert_eq!(MemfdFlags::HUGETLB.bits(), libc::MFD_HUGETLB);
    assert_eq!(MemfdFlags::NOEXEC_SEAL.bits(), libc::MFD_NOEXEC_SEAL);
    assert_eq!(MemfdFlags::EXEC.bits(), libc::MFD_EXEC);
    let seals = [
        (Seals::SEAL, libc::F_SEAL_SEAL),
        (Seals::SHRINK, libc::F_SEAL_SHRINK),
        (Seals::GROW, libc::F_SEAL_GROW),
        (Seals::WRITE, libc::F_SEAL_WRITE),
        (Seals::FUTURE_WRITE, libc::F_SEAL_FUTURE_WRITE),
        (Seals::EXEC, libc::F_SEAL_EXEC),
    ];
    for (ours, theirs) in seals {
        assert_eq!(Ok(ours.bits()), u32::try_from(theirs), "{ours:?}");
    }
    assert_eq!(
        format!("{:?}", Seals::from_bits_retain(0x3f)),
        "Seals(SEAL | SHRINK | GROW | WRITE | FUTURE_WRITE | EXEC)"
    );
    assert_eq!(
        format!("{:?}", MemfdFlags::from_bits_retain(0x1f)),
        "MemfdFlags(CLOEXEC | ALLOW_SEALING | HUGETLB | NOEXEC_SEAL | EXEC)"
    );
}

#[test]
fn memfd_create_raw_answers_as_the_kernel() {
    let _serial = common::serial();
    let fd = rawmap::memfd_create(c"raw", MemfdFlags::CLOEXEC).unwrap();
    // The descriptor is close-on-exec and names a memory file.
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let fd_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert_eq!(fd_flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    assert_eq!(link.to_str().unwrap(), "/memfd:raw (deleted)");
    common::fork::close(fd);

    // Unknown flags, and a name longer than 249 bytes: EINVAL, as libc's
    // wrapper reports it too.
    let bad = MemfdFlags::from_bits_retain(0x0100);
    assert_eq!(rawmap::memfd_create(c"x", bad), Err(Errno::EINVAL));
    // SAFETY: a plain call with a valid name.
    let theirs = unsafe { libc::memfd_create(c"x".as_ptr(), 0x0100) };
    assert_eq!(theirs, -1);
    assert_eq!(common::mem::last_errno(), libc::EINVAL);
    let long = std::ffi::CString::new(vec![b'n'; 250]).unwrap();
    assert_eq!(
        rawmap::memfd_create(&long, MemfdFlags::CLOEXEC),
        Err(Errno::EINVAL)
    );
    let longest = std::ffi::CString::new(vec![b'n'; 249]).unwrap();
    let fd = rawmap::memfd_create(&longest, MemfdFlags::CLOEXEC).unwrap();
    common::fork::close(fd);
}

#[test]
fn memfd_size_and_positioned_io() {
    let _serial = common::serial();
    let memfd = Memfd::create(c"io", MemfdFlags::CLOEXEC).unwrap();
    assert_eq!(memfd.len(), Ok(0));
    memfd.set_len(10_000).unwrap();
    assert_eq!(memfd.len(), Ok(10_000));
    let bytes = common::pattern_bytes(5000);
    memfd.write_all_at(&bytes, 3000).unwrap();
    assert_eq!(memfd.len(), Ok(10_000));
    let mut back = vec![0u8; 5000];
    memfd.read_exact_at(&mut back, 3000).unwrap();
    assert_eq!(back, bytes);
    // Zeros before, and 0 bytes at the end of the file.
    let mut head = [1u8; 16];
    assert_eq!(memfd.read_at(&mut head, 0), Ok(16));
    assert_eq!(head, [0; 16]);
    assert_eq!(memfd.read_at(&mut head, 10_000), Ok(0));
    assert_eq!(memfd.read_exact_at(&mut head, 9_990), Err(Errno::EIO));
    // A write past the end grows the file; shrinking cuts it.
    assert_eq!(memfd.write_at(b"end", 20_000), Ok(3));
    assert_eq!(memfd.len(), Ok(20_003));
    memfd.set_len(4).unwrap();
    assert_eq!(memfd.len(), Ok(4));
    // The kernel's answers to offsets and lengths beyond i64::MAX.
    assert_eq!(memfd.set_len(u64::MAX), Err(Errno::EINVAL));
    assert_eq!(memfd.write_at(b"x", u64::MAX), Err(Errno::EINVAL));
    assert_eq!(memfd.read_at(&mut head, 1 << 63), Err(Errno::EINVAL));
    // The same bytes through std's view of the descriptor.
    let mut through_std = [0u8; 4];
    std::os::unix::fs::FileExt::read_exact_at(
        &std::fs::File::from(memfd.as_fd().try_clone_to_owned().unwrap()),
        &mut through_std,
        0,
    )
    .unwrap();
    assert_eq!(through_std, [0; 4]);
}

#[test]
fn seals_do_what_the_kernel_says() {
    let _serial = common::serial();
    // Without ALLOW_SEALING, the file is sealed with SEAL: no seal can be
    // added.
    let plain = Memfd::create(c"plain", MemfdFlags::CLOEXEC).unwrap();
    assert_eq!(plain.seals(), Ok(Seals::SEAL));
    assert_eq!(plain.add_seals(Seals::WRITE), Err(Errno::EPERM));

    let memfd = memfd_with(&[7; 100]);
    assert_eq!(memfd.seals(), Ok(Seals::empty()));
    assert_eq!(
        memfd.add_seals(Seals::from_bits_retain(0x1000)),
        Err(Errno::EINVAL)
    );

    // SHRINK: may grow, may not shrink.
    memfd.add_seals(Seals::SHRINK).unwrap();
    assert_eq!(memfd.set_len(50), Err(Errno::EPERM));
    memfd.set_len(200).unwrap();
    // GROW: no growth by ftruncate or by writing past the end.
    memfd.add_seals(Seals::GROW).unwrap();
    assert_eq!(memfd.set_len(300), Err(Errno::EPERM));
    assert_eq!(memfd.write_at(b"x", 200), Err(Errno::EPERM));
    memfd.write_all_at(b"in place", 0).unwrap();
    // WRITE: no write at all, no writable shared mapping; private ones are
    // still allowed.
    memfd.add_seals(Seals::WRITE).unwrap();
    assert_eq!(memfd.write_at(b"x", 0), Err(Errno::EPERM));
    // SAFETY: the file is sealed; the mapping is refused or dropped at once.
    let shared = unsafe { MmapOptions::new().map_mut(&memfd) };
    assert_eq!(shared.unwrap_err(), Errno::EPERM);
    // SAFETY: as above; a private mapping never reaches the file.
    let mut private = unsafe { MmapOptions::new().map_copy(&memfd) }.unwrap();
    private[0] = b'I';
    drop(private);
    // SEAL: nothing more.
    memfd.add_seals(Seals::SEAL).unwrap();
    assert_eq!(memfd.add_seals(Seals::FUTURE_WRITE), Err(Errno::EPERM));
    assert_eq!(
        memfd.seals(),
        Ok(Seals::SEAL | Seals::SHRINK | Seals::GROW | Seals::WRITE)
    );
    let mut back = [0u8; 8];
    memfd.read_exact_at(&mut back, 0).unwrap();
    assert_eq!(&back, b"in place");
}

/// F_SEAL_WRITE cannot be added while a writable shared mapping exists
/// (`EBUSY`); once it is gone, it can. F_SEAL_FUTURE_WRITE can be added
/// meanwhile, and the older writable mapping still writes through it, which
/// is why `map_if_safe` does not accept it in place of WRITE.
#[test]
fn write_seal_with_a_writable_mapping() {
    let _serial = common::serial();
    let memfd = memfd_with(&common::pattern_bytes(3000));
    // SAFETY: only this test uses the file.
    let mut writable = unsafe { MmapOptions::new().map_mut(&memfd) }.unwrap();
    assert_eq!(memfd.add_seals(Seals::WRITE), Err(Errno::EBUSY));
    assert_eq!(memfd.seals(), Ok(Seals::empty()));

    let (major, minor) = common::kernel_version();
    if (major, minor) < (5, 1) {
        assert_eq!(memfd.add_seals(Seals::FUTURE_WRITE), Err(Errno::EINVAL));
    } else {
        memfd
            .add_seals(Seals::SHRINK | Seals::FUTURE_WRITE)
            .unwrap();
        // No write(2), no new writable shared mapping ...
        assert_eq!(memfd.write_at(b"x", 0), Err(Errno::EPERM));
        // SAFETY: refused, or dropped at once.
        let again = unsafe { MmapOptions::new().map_mut(&memfd) };
        assert_eq!(again.unwrap_err(), Errno::EPERM);
        // ... but the mapping made before the seal still changes the file.
        writable[10] = b'!';
        let mut byte = [0u8];
        memfd.read_exact_at(&mut byte, 10).unwrap();
        assert_eq!(byte, [b'!']);
        // So FUTURE_WRITE does not make the file safe to map.
        let refused = MmapOptions::new().map_if_safe(&memfd).unwrap_err();
        assert_eq!(refused, MapIfSafeError::MissingSeals(Seals::WRITE));
    }
    drop(writable);
    // With no writable mapping left, WRITE is accepted.
    memfd.add_seals(Seals::WRITE | Seals::SHRINK).unwrap();
    let map = MmapOptions::new().map_if_safe(&memfd).unwrap();
    assert_eq!(
        map[10],
        if (major, minor) < (5, 1) {
            common::pattern(10)
        } else {
            b'!'
        }
    );
    assert_eq!(map.len(), 3000);
}

#[test]
fn map_if_safe_maps_a_sealed_memfd_inside_its_size() {
    let _serial = common::serial();
    let bytes = common::pattern_bytes(3 * rawmap::page_size() + 123);
    let memfd = sealed_with(&bytes);
    let whole = MmapOptions::new().map_if_safe(&memfd).unwrap();
    assert_eq!(&whole[..], &bytes[..]);
    // Any offset, with or without a length, inside the file.
    let part = MmapOptions::new()
        .offset(4097)
        .len(1000)
        .map_if_safe(&memfd)
        .unwrap();
    assert_eq!(&part[..], &bytes[4097..5097]);
    let tail = MmapOptions::new().offset(5000).map_if_safe(&memfd).unwrap();
    assert_eq!(&tail[..], &bytes[5000..]);
    // Up to the end exactly, and empty at the end.
    let size = bytes.len() as u64;
    let last = MmapOptions::new()
        .offset(size - 1)
        .len(1)
        .map_if_safe(&memfd)
        .unwrap();
    assert_eq!(last[..], bytes[bytes.len() - 1..]);
    let empty = MmapOptions::new().offset(size).map_if_safe(&memfd).unwrap();
    assert!(empty.is_empty());
    // Past the end: refused.
    for (offset, len) in [
        (size + 1, None),
        (size, Some(1)),
        (0, Some(bytes.len() + 1)),
    ] {
        let mut opts = MmapOptions::new();
        opts.offset(offset);
        if let Some(len) = len {
            opts.len(len);
        }
        let err = opts.map_if_safe(&memfd).unwrap_err();
        assert_eq!(err, MapIfSafeError::OutOfRange { size }, "{offset} {len:?}");
        assert_eq!(err.errno(), Errno::EINVAL);
    }
    let huge_offset = MmapOptions::new().offset(u64::MAX).map_if_safe(&memfd);
    assert_eq!(
        huge_offset.unwrap_err(),
        MapIfSafeError::OutOfRange { size }
    );
    // It works through every IoSafeFd: &Memfd, &OwnedFd, BorrowedFd.
    let owned: OwnedFd = memfd.as_fd().try_clone_to_owned().unwrap();
    let via_owned = MmapOptions::new().map_if_safe(&owned).unwrap();
    let via_borrowed = MmapOptions::new().map_if_safe(owned.as_fd()).unwrap();
    assert_eq!(&via_owned[..], &bytes[..]);
    assert_eq!(&via_borrowed[..], &bytes[..]);
    // Growing the file (GROW is not sealed) leaves the mapping valid.
    memfd.set_len(size * 2).unwrap();
    assert_eq!(&whole[..], &bytes[..]);
}

/// The mapping is private: `make_mut` gives a copy-on-write view, and the
/// file keeps its bytes.
#[test]
fn map_if_safe_mapping_is_read_only_and_private() {
    let _serial = common::serial();
    let memfd = sealed_with(b"sealed bytes");
    let map = MmapOptions::new().map_if_safe(&memfd).unwrap();
    let mut copy = map.make_mut().unwrap();
    copy[0] = b'S';
    assert_eq!(&copy[..], b"Sealed bytes");
    let mut back = [0u8; 12];
    memfd.read_exact_at(&mut back, 0).unwrap();
    assert_eq!(&back, b"sealed bytes");
    // A shared read-only mapping of the write-sealed memfd (which
    // map_if_safe does not make) is accepted too, and can never become
    // writable: the seal took away the right to write (VM_MAYWRITE).
    // SAFETY: the file is sealed against writes and shrinking.
    let shared = unsafe { MmapOptions::new().map(&memfd) }.unwrap();
    assert_eq!(&shared[..], b"sealed bytes");
    assert_eq!(shared.make_mut().unwrap_err().errno(), Errno::EACCES);
}

/// Why `map_if_safe` refuses an ordinary file: on tmpfs a file has seals
/// (just SEAL, so it lacks SHRINK and WRITE), elsewhere none.
fn plain_file_refusal(file: &std::fs::File) -> MapIfSafeError {
    // SAFETY: an all-zero statfs is a valid value to be overwritten.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `file` is open; `fs` is writable.
    assert_eq!(unsafe { libc::fstatfs(file.as_raw_fd(), &mut fs) }, 0);
    // The two types differ by target (signed or not, 32 or 64 bits); the
    // magic is positive and fits either.
    #[allow(clippy::unnecessary_cast)]
    let on_tmpfs = fs.f_type as i64 == libc::TMPFS_MAGIC as i64;
    if on_tmpfs {
        MapIfSafeError::MissingSeals(Seals::SHRINK | Seals::WRITE)
    } else {
        MapIfSafeError::NotImmutable
    }
}

#[test]
fn map_if_safe_refuses_what_can_change() {
    let _serial = common::serial();
    // An unsealed memfd, and each partial sealing.
    let memfd = memfd_with(&[1; 64]);
    let err = MmapOptions::new().map_if_safe(&memfd).unwrap_err();
    assert_eq!(
        err,
        MapIfSafeError::MissingSeals(Seals::SHRINK | Seals::WRITE)
    );
    assert_eq!(err.errno(), Errno::EPERM);
    assert_eq!(
        err.to_string(),
        "not safe to map: the memory file lacks the seals SHRINK | WRITE"
    );
    memfd.add_seals(Seals::SHRINK | Seals::GROW).unwrap();
    assert_eq!(
        MmapOptions::new().map_if_safe(&memfd).unwrap_err(),
        MapIfSafeError::MissingSeals(Seals::WRITE)
    );
    let write_only = memfd_with(&[1; 64]);
    write_only.add_seals(Seals::WRITE).unwrap();
    assert_eq!(
        MmapOptions::new().map_if_safe(&write_only).unwrap_err(),
        MapIfSafeError::MissingSeals(Seals::SHRINK)
    );
    // A memfd made without ALLOW_SEALING can never be sealed.
    let plain = Memfd::create(c"plain", MemfdFlags::CLOEXEC).unwrap();
    plain.set_len(64).unwrap();
    assert_eq!(
        MmapOptions::new().map_if_safe(&plain).unwrap_err(),
        MapIfSafeError::MissingSeals(Seals::SHRINK | Seals::WRITE)
    );

    // A plain file: on tmpfs it has seals (just SEAL), elsewhere none.
    let file = common::file_with(b"plain file");
    let err = MmapOptions::new().map_if_safe(&file).unwrap_err();
    assert_eq!(err, plain_file_refusal(&file));
    // A regular file that has no seals anywhere: procfs.
    let status = std::fs::File::open("/proc/self/status").unwrap();
    let err = MmapOptions::new().map_if_safe(&status).unwrap_err();
    assert_eq!(err, MapIfSafeError::NotImmutable);
    assert_eq!(err.errno(), Errno::EPERM);
    assert!(
        err.to_string()
            .contains("neither a sealed memory file nor fs-verity")
    );

    // Not regular files: a pipe, a directory, a character device.
    let (r, w) = common::fork::pipe();
    // SAFETY: `r` is open and outlives the borrow.
    let pipe_end = unsafe { BorrowedFd::borrow_raw(r) };
    let err = MmapOptions::new().map_if_safe(pipe_end).unwrap_err();
    assert_eq!(
        err,
        MapIfSafeError::NotRegularFile {
            file_type: libc::S_IFIFO as u16
        }
    );
    assert_eq!(err.errno(), Errno::ENODEV);
    common::fork::close(r);
    common::fork::close(w);
    let dir = std::fs::File::open("/").unwrap();
    assert_eq!(
        MmapOptions::new().map_if_safe(&dir).unwrap_err(),
        MapIfSafeError::NotRegularFile {
            file_type: libc::S_IFDIR as u16
        }
    );
    let null = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(
        MmapOptions::new().map_if_safe(&null).unwrap_err(),
        MapIfSafeError::NotRegularFile {
            file_type: libc::S_IFCHR as u16
        }
    );
    // Into io::Error: the errno's kind, the reason's text.
    let io: std::io::Error = MapIfSafeError::NotImmutable.into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(io.to_string().contains("the file can change"));
}

/// An fs-verity file is safe to map where the file system enables it
/// (`FS_IOC_ENABLE_VERITY`, Linux 5.4); where it cannot, the ioctl's
/// answer is asserted, and the file is refused like any other. (Following
/// the kernel's Documentation/filesystems/fsverity.rst.)
#[test]
fn fs_verity_file_where_the_file_system_has_it() {
    let _serial = common::serial();
    /// `FS_IOC_ENABLE_VERITY`: `_IOW('f', 133, struct fsverity_enable_arg)`.
    const FS_IOC_ENABLE_VERITY: u32 = 0x4080_6685;
    let (named, bytes) = common::pattern_file(10_000);
    let file = std::fs::File::open(named.path()).unwrap();
    // No writable descriptor may stay open (ETXTBSY otherwise).
    let path = named.into_temp_path();
    // struct fsverity_enable_arg (128 bytes): version 1, SHA-256, 4096-byte
    // blocks, no salt, no signature.
    let mut arg = [0u32; 32];
    arg[..3].copy_from_slice(&[1, 1, 4096]);
    // SAFETY: the kernel reads the 128-byte argument it is given.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), FS_IOC_ENABLE_VERITY as _, arg.as_ptr()) };
    let errno = common::mem::last_errno();
    common::report(&format!(
        "FS_IOC_ENABLE_VERITY in {}: {}",
        common::environment(),
        if r == 0 {
            "enabled".to_string()
        } else {
            std::io::Error::from_raw_os_error(errno).to_string()
        }
    ));
    if r == 0 {
        let map = MmapOptions::new().map_if_safe(&file).unwrap();
        assert_eq!(&map[..], &bytes[..]);
        // It can no longer be opened for writing.
        let err = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    } else {
        // tmpfs has no such ioctl (ENOTTY); ext4 without the feature, or a
        // kernel without CONFIG_FS_VERITY, says EOPNOTSUPP; QEMU's user mode
        // does not know the ioctl and answers ENOSYS.
        assert_eq!(r, -1);
        if common::under_qemu_user() {
            assert_eq!(errno, libc::ENOSYS);
        } else {
            assert!([libc::ENOTTY, libc::EOPNOTSUPP].contains(&errno), "{errno}");
        }
        assert_eq!(
            MmapOptions::new().map_if_safe(&file).unwrap_err(),
            plain_file_refusal(&file)
        );
    }
}

/// No refusal leaves a mapping behind: counted in a single-threaded child,
/// where nothing else maps meanwhile.
#[test]
fn map_if_safe_refusals_make_no_mapping() {
    let _serial = common::serial();
    let _lock = common::exclusive();
    let unsealed = memfd_with(&[1; 64]);
    let sealed = sealed_with(&[2; 64]);
    let status = std::fs::File::open("/proc/self/status").unwrap();
    check_in_child(|| {
        let before = common::proc::mappings();
        ensure!(before[0] != u64::MAX, "read /proc/self/maps");
        for _ in 0..3 {
            ensure!(
                MmapOptions::new().map_if_safe(&unsealed).is_err(),
                "unsealed memfd refused"
            );
            ensure!(
                MmapOptions::new().map_if_safe(&status).is_err(),
                "procfs file refused"
            );
            ensure!(
                MmapOptions::new().len(65).map_if_safe(&sealed).is_err(),
                "range past the end refused"
            );
        }
        ensure!(common::proc::mappings() == before, "no mapping left behind");
        Ok(())
    });
}

/// The sealed memfd reaches a child by inheritance across `fork`; the child
/// maps it with `map_if_safe` and sees the parent's bytes, and its attempts
/// to truncate or write the file are `EPERM`, as is a writable shared
/// mapping. Its copy-on-write view never reaches the parent. (The selftest's
/// `test_share_fork`, with the seals checked from the other side.)
#[test]
fn sealed_memfd_mapped_in_a_child() {
    let _serial = common::serial();
    let _lock = common::exclusive();
    let bytes = common::pattern_bytes(2 * rawmap::page_size() + 7);
    let memfd = sealed_with(&bytes);
    let expected = bytes.clone();
    check_in_child(|| {
        let map = MmapOptions::new().map_if_safe(&memfd);
        let Ok(map) = map else {
            return Err("map_if_safe in the child");
        };
        ensure!(map[..] == expected[..], "the child sees the parent's bytes");
        ensure!(memfd.set_len(1) == Err(Errno::EPERM), "truncate is EPERM");
        ensure!(
            memfd.set_len(0) == Err(Errno::EPERM),
            "truncate to 0 is EPERM"
        );
        ensure!(
            memfd.write_at(b"x", 0) == Err(Errno::EPERM),
            "write is EPERM"
        );
        // SAFETY: refused (the file is sealed), or dropped at once.
        let shared = unsafe { MmapOptions::new().map_mut(&memfd) };
        ensure!(
            shared.err() == Some(Errno::EPERM),
            "a writable shared mapping is EPERM"
        );
        let Ok(mut copy) = map.make_mut() else {
            return Err("make_mut of the private mapping");
        };
        copy[0] ^= 0xff;
        ensure!(memfd.len() == Ok(expected.len() as u64), "size unchanged");
        Ok(())
    });
    let mut back = vec![0u8; bytes.len()];
    memfd.read_exact_at(&mut back, 0).unwrap();
    assert_eq!(back, bytes, "the file is as the parent wrote it");
}

#[test]
fn memfd_converts_to_and_from_owned_fd() {
    let _serial = common::serial();
    let memfd = memfd_with(b"owned");
    let raw = memfd.as_raw_fd();
    assert_eq!(memfd.as_fd().as_raw_fd(), raw);
    let owned: OwnedFd = memfd.into();
    assert_eq!(owned.as_raw_fd(), raw);
    let memfd = Memfd::try_from(owned).unwrap();
    assert_eq!(memfd.as_raw_fd(), raw);
    assert_eq!(memfd.len(), Ok(5));
    // Not a file with seals: refused with EINVAL (and closed).
    let status: OwnedFd = std::fs::File::open("/proc/self/status").unwrap().into();
    let err = Memfd::try_from(status).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    // into_raw_fd / from_raw_fd keep the descriptor open.
    let raw = memfd.into_raw_fd();
    // SAFETY: `raw` was just handed over.
    let memfd = unsafe { Memfd::from_raw_fd(raw) };
    assert_eq!(memfd.len(), Ok(5));
}

/// Counted in a single-threaded child, where no other test opens
/// descriptors meanwhile.
#[test]
fn memfd_is_closed_on_drop() {
    let _serial = common::serial();
    check_in_child(|| {
        let before = common::proc::fd_count();
        ensure!(before != u64::MAX, "read /proc/self/fd");
        let memfds: [Result<Memfd, Errno>; 8] =
            core::array::from_fn(|_| Memfd::create(c"count", MemfdFlags::CLOEXEC));
        ensure!(memfds.iter().all(Result::is_ok), "memfd_create");
        ensure!(common::proc::fd_count() == before + 8, "eight more open");
        drop(memfds);
        ensure!(common::proc::fd_count() == before, "all eight closed");
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// Secret memory

/// What this system says of secret memory: `Some(true)` if the kernel has
/// it enabled, `Some(false)` if it is built in but switched off, `None` if
/// the kernel has no `secretmem` at all.
fn secretmem_enabled() -> Option<bool> {
    std::fs::read_to_string("/sys/module/secretmem/parameters/enable")
        .ok()
        .map(|v| v.trim() == "Y")
}

/// Whether `memfd_secret` should work here: a kernel that has it on, not
/// under QEMU's user mode (which answers ENOSYS), not 32-bit ARM.
fn secret_memory_expected() -> bool {
    !common::under_qemu_user() && !cfg!(target_arch = "arm") && secretmem_enabled() == Some(true)
}

#[test]
fn memfd_secret_answers_as_the_kernel() {
    let _serial = common::serial();
    let ours = rawmap::memfd_secret(libc::O_CLOEXEC as u32);
    common::report(&format!(
        "memfd_secret in {} (secretmem enable: {:?}): {ours:?}",
        common::environment(),
        secretmem_enabled()
    ));
    if secret_memory_expected() {
        let fd = ours.unwrap();
        // It is no memory file with seals, and it cannot be read or written
        // with pread(2)/pwrite(2): ESPIPE (the selftest's test_file_apis).
        // SAFETY: `fd` was just created.
        let secret = unsafe { rawmap::File::from_raw_fd(fd) };
        secret.set_len(4096).unwrap();
        assert_eq!(secret.len(), Ok(4096));
        assert_eq!(secret.write_at(b"x", 0), Err(Errno::ESPIPE));
        assert_eq!(secret.read_at(&mut [0; 1], 0), Err(Errno::ESPIPE));
        assert_eq!(
            MmapOptions::new().map_if_safe(&secret).unwrap_err(),
            MapIfSafeError::NotImmutable
        );
        // Unknown flags.
        assert_eq!(rawmap::memfd_secret(0x1), Err(Errno::EINVAL));
    } else {
        assert_eq!(ours, Err(Errno::ENOSYS));
    }
}

#[test]
fn secret_mapping_is_usable_and_not_readable_from_outside() {
    let _serial = common::serial();
    let _lock = common::exclusive();
    let len = 3 * rawmap::page_size();
    let result = MmapOptions::new().len(len).map_secret();
    if !secret_memory_expected() {
        assert_eq!(result.unwrap_err(), Errno::ENOSYS);
        // An empty one needs no kernel support.
        assert!(MmapOptions::new().len(0).map_secret().unwrap().is_empty());
        return;
    }
    let mut secret = result.unwrap();
    assert_eq!(secret.len(), len);
    assert!(secret.iter().all(|&b| b == 0), "zero-filled");
    let key = common::pattern_bytes(len);
    secret.copy_from_slice(&key);
    assert_eq!(&secret[..], &key[..]);
    // No descriptor is left open for it: only the mapping reaches it.
    let addr = secret.as_ptr() as usize;
    let (start, _, perms) = common::proc::maps_entry(addr).expect("in /proc/self/maps");
    assert_eq!((start, &perms[..]), (addr, "rw-s"));
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let line = maps
        .lines()
        .find(|l| l.starts_with(&format!("{addr:x}-")))
        .unwrap();
    assert!(line.ends_with("/secretmem (deleted)"), "{line}");
    // Not dumped, and locked: the VMA flags say so.
    let flags = common::proc::smaps_vmflags(addr);
    assert!(flags.iter().any(|f| f == "dd"), "{flags:?}");
    // /proc/self/mem cannot read it (the selftest's test_remote_access
    // reads another process's; the kernel refuses this one's too).
    let mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut buf = [0u8; 16];
    let read = std::os::unix::fs::FileExt::read_at(&mem, &mut buf, addr as u64);
    assert_eq!(read.unwrap_err().raw_os_error(), Some(libc::EIO));
    // The process's own system calls still reach it through its page
    // tables (copy_from_user needs no direct map): write(2) from it works.
    let (r, w) = common::fork::pipe();
    // SAFETY: the kernel reads `secret`'s first byte.
    let n = unsafe { libc::write(w, secret.as_ptr().cast(), 1) };
    assert_eq!(n, 1);
    let mut got = [0u8];
    // SAFETY: reads one byte into `got`.
    assert_eq!(unsafe { libc::read(r, got.as_mut_ptr().cast(), 1) }, 1);
    assert_eq!(got[0], key[0]);
    common::fork::close(r);
    common::fork::close(w);
    // A forked child shares it.
    let ptr = secret.as_mut_ptr() as usize;
    check_in_child(|| {
        // SAFETY: the mapping is inherited and lives in the child too.
        let first = unsafe { *(ptr as *const u8) };
        ensure!(first == common::pattern(0), "the child reads the secret");
        Ok(())
    });
}
