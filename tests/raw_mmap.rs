//! The raw layer's `mmap` against the running kernel (or QEMU's user mode):
//! anonymous and file mappings with their contents observed, file offsets
//! (page-aligned, and a 4K offset that a 16K or 64K kernel refuses), the
//! argument errors with their exact errno, and a shared file mapping seen by
//! two processes. (`FIXED`, `FIXED_NOREPLACE` and `SHARED_VALIDATE`:
//! tests/raw_mmap_flags.rs.)
//!
//! Where QEMU's user mode differs from a kernel (DESIGN.md lists the known
//! cases; a few more are noted here), a test asserts QEMU's behaviour under
//! QEMU and the kernel's elsewhere, and says so. Where "page" appears it is
//! `rawmap::page_size()`; [`SUB_PAGE`] is the smallest page of any Linux
//! architecture, which a 16K or 64K kernel refuses as unaligned where QEMU's
//! user mode (which keeps 4K target pages whatever `QEMU_PAGESIZE` says)
//! lets it through.
//!
//! Several tests need an address range to stay unmapped between two calls
//! (after `munmap`, or a hole next to a mapping). Any other thread could map
//! into such a hole: another test, the test harness starting a thread, the
//! allocator. So every test here holds [`serial`] while it runs, and the
//! checks that need a hole run in a child process made with `fork`, which
//! has a single thread ([`check_in_child`]).

mod common;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::fork::{check_in_child, ensure, fork_child, monotonic_secs, wait};
use common::mem::{
    ANON, RW, SUB_PAGE, anon, bytes, mapped, qemu_with_larger_pages, sub_page_accepted, unmap,
};
use common::proc::host_page_size;
use common::{pattern, pattern_file, serial};
use rawmap::{Errno, MapFlags, MsyncFlags, Prot, mmap, msync, munmap, page_size};

#[test]
fn mmap_anonymous_private_is_zeroed_and_writable() {
    let _g = serial();
    let len = 3 * page_size();
    let p = anon(len);
    assert_eq!(p as usize % page_size(), 0);
    // SAFETY: the mapping is `len` bytes, readable and writable, and only
    // this test uses it.
    unsafe {
        assert!(bytes(p, len).iter().all(|&b| b == 0));
        for i in 0..len {
            p.add(i).write(pattern(i));
        }
        assert!(
            bytes(p, len)
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i))
        );
    }
    unmap(p, len);
}

#[test]
fn mmap_length_is_rounded_up_to_pages() {
    let _g = serial();
    let page = page_size();
    let host = host_page_size();
    let larger = qemu_with_larger_pages();
    check_in_child(|| {
        // SAFETY: a new anonymous mapping replaces nothing.
        let Ok(p) = (unsafe { mmap(ptr::null_mut(), 17, RW, ANON, -1, 0) }) else {
            return Err("mmap");
        };
        let p: *mut u8 = p.cast();
        // SAFETY: the first 17 bytes are mapped read-write.
        unsafe {
            p.add(16).write(9);
            ensure!(p.add(16).read() == 9, "write and read back");
            ensure!(p.add(17).read() == 0, "zero after the length");
        }
        if larger {
            // QEMU with pages larger than the host's backs only the host
            // pages that hold the requested bytes: the rest of the emulated
            // page has nothing behind it on the host, so the host's mincore
            // refuses it.
            ensure!(mapped(p, host).is_ok(), "the host page is mapped");
            ensure!(
                mapped(p, page) == Err(Errno::ENOMEM),
                "QEMU: rest of page unbacked"
            );
        } else {
            // The kernel maps whole pages: the bytes after `len` up to the
            // page end are part of the mapping, zero and writable.
            ensure!(mapped(p, page).is_ok(), "the whole page is mapped");
            // SAFETY: the whole page is mapped read-write.
            unsafe {
                let tail = bytes(p.add(17), page - 17);
                ensure!(tail.iter().all(|&b| b == 0), "page tail is zero");
                p.add(page - 1).write(9);
            }
        }
        // SAFETY: the mapping made above, no longer used.
        ensure!(unsafe { munmap(p.cast(), 17) }.is_ok(), "munmap");
        ensure!(
            mapped(p, page) == Err(Errno::ENOMEM),
            "the whole page is unmapped"
        );
        Ok(())
    });
}

#[test]
fn mmap_file_shared_shows_the_files_bytes() {
    let _g = serial();
    let len = 2 * page_size() + 100;
    let (file, expected) = pattern_file(len);
    // SAFETY: a new shared read-only mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            Prot::READ,
            MapFlags::SHARED,
            file.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    // SAFETY: `len` bytes are mapped readable; nobody writes the file.
    unsafe {
        assert_eq!(bytes(p, len), &expected[..]);
        // The rest of the page that holds the end of file reads as zeros.
        let tail = 3 * page_size() - len;
        assert!(bytes(p.add(len), tail).iter().all(|&b| b == 0));
    }
    unmap(p, len);
}

#[test]
fn file_offset_must_be_page_aligned() {
    let _g = serial();
    let page = page_size();
    let (file, _) = pattern_file(3 * page);
    let fd = file.as_raw_fd();
    // A page-aligned offset maps the file from there, everywhere.
    // SAFETY: a new shared read-only mapping of a private temporary file.
    let p = unsafe {
        mmap(
            ptr::null_mut(),
            page,
            Prot::READ,
            MapFlags::SHARED,
            fd,
            page as u64,
        )
    }
    .expect("mmap at offset page");
    // SAFETY: `p` is `page` readable bytes mapped just above.
    let got = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), page) };
    assert!(got.iter().enumerate().all(|(i, &b)| b == pattern(page + i)));
    // SAFETY: unmaps the mapping made above; `got` is not used again.
    unsafe { munmap(p, page) }.unwrap();

    // An offset of SUB_PAGE: aligned on a 4K kernel, not on a 16K or 64K
    // one, which refuses it; QEMU's user mode lets it through.
    // SAFETY: as above.
    let r = unsafe {
        mmap(
            ptr::null_mut(),
            page,
            Prot::READ,
            MapFlags::SHARED,
            fd,
            SUB_PAGE as u64,
        )
    };
    if sub_page_accepted() {
        let p = r.expect("mmap at offset SUB_PAGE");
        // SAFETY: QEMU or a 4K kernel mapped at least SUB_PAGE bytes of the
        // file, from offset SUB_PAGE.
        let got = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), SUB_PAGE) };
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(SUB_PAGE + i))
        );
        // SAFETY: unmaps the mapping made above; `got` is not used again.
        unsafe { munmap(p, page) }.unwrap();
    } else {
        assert_eq!(
            r,
            Err(Errno::EINVAL),
            "offset {SUB_PAGE} with {page}-byte pages"
        );
    }
    // Any offset short of a page, on any kernel.
    // SAFETY: as above.
    let r = unsafe { mmap(ptr::null_mut(), page, Prot::READ, MapFlags::SHARED, fd, 1) };
    assert_eq!(r, Err(Errno::EINVAL));
}

#[test]
fn mmap_shared_write_and_msync_reach_the_file() {
    let _g = serial();
    let len = 2 * page_size() + 10;
    let (file, mut expected) = pattern_file(len);
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    // SAFETY: a new shared mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            RW,
            MapFlags::SHARED,
            rw.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    for (i, at) in [0, 1, page_size() - 1, page_size(), len - 1]
        .into_iter()
        .enumerate()
    {
        let v = 0xa0 + i as u8;
        // SAFETY: `at < len`, inside the writable mapping.
        unsafe { p.add(at).write(v) };
        expected[at] = v;
    }
    // SAFETY: the range is this test's mapping.
    unsafe { msync(p.cast(), len, MsyncFlags::SYNC) }.unwrap();
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
    unmap(p, len);
    // Still there after the unmap.
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
}

#[test]
fn mmap_private_write_leaves_the_file_unchanged() {
    let _g = serial();
    let len = page_size() + 5;
    let (file, expected) = pattern_file(len);
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    // SAFETY: a new private mapping of a file only this test uses.
    let p: *mut u8 = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            RW,
            MapFlags::PRIVATE,
            rw.as_raw_fd(),
            0,
        )
    }
    .unwrap()
    .cast();
    // SAFETY: inside the writable mapping.
    unsafe {
        p.write(!expected[0]);
        p.add(len - 1).write(!expected[len - 1]);
        assert_eq!(p.read(), !expected[0]);
        // msync of a private mapping is allowed and writes nothing back.
        msync(p.cast(), len, MsyncFlags::SYNC).unwrap();
    }
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
    unmap(p, len);
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);
}

#[test]
fn mmap_zero_length_is_einval() {
    let _g = serial();
    let (file, _) = pattern_file(10);
    // SAFETY: the calls fail on the length and map nothing.
    unsafe {
        assert_eq!(
            mmap(ptr::null_mut(), 0, RW, ANON, -1, 0),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mmap(
                ptr::null_mut(),
                0,
                Prot::READ,
                MapFlags::SHARED,
                file.as_raw_fd(),
                0
            ),
            Err(Errno::EINVAL)
        );
    }
}

#[test]
fn mmap_unaligned_offset_is_einval() {
    let _g = serial();
    let (file, _) = pattern_file(3 * page_size());
    for off in [1, 17, page_size() + 1, 2 * page_size() - 1] {
        // SAFETY: the call fails on the offset and maps nothing.
        let r = unsafe {
            mmap(
                ptr::null_mut(),
                page_size(),
                Prot::READ,
                MapFlags::SHARED,
                file.as_raw_fd(),
                off as u64,
            )
        };
        assert_eq!(r, Err(Errno::EINVAL), "offset {off}");
    }
}

#[test]
fn mmap_without_anonymous_and_fd_minus_one_is_ebadf() {
    let _g = serial();
    for flags in [MapFlags::PRIVATE, MapFlags::SHARED] {
        // SAFETY: the call fails on the descriptor and maps nothing.
        let r = unsafe { mmap(ptr::null_mut(), page_size(), Prot::READ, flags, -1, 0) };
        assert_eq!(r, Err(Errno::EBADF), "{flags:?}");
    }
}

#[test]
fn mmap_shared_writable_on_a_read_only_fd_is_eacces() {
    let _g = serial();
    let (file, _) = pattern_file(page_size());
    let ro = File::open(file.path()).unwrap();
    // SAFETY: the call fails on the access mode and maps nothing.
    let r = unsafe {
        mmap(
            ptr::null_mut(),
            page_size(),
            RW,
            MapFlags::SHARED,
            ro.as_raw_fd(),
            0,
        )
    };
    assert_eq!(r, Err(Errno::EACCES));
    // A private writable mapping of the same descriptor is fine: writes
    // never reach the file.
    // SAFETY: a new private mapping of a file only this test uses.
    let p = unsafe {
        mmap(
            ptr::null_mut(),
            page_size(),
            RW,
            MapFlags::PRIVATE,
            ro.as_raw_fd(),
            0,
        )
    }
    .unwrap();
    unmap(p.cast(), page_size());
}

#[test]
fn mmap_without_shared_or_private_is_einval() {
    let _g = serial();
    // SAFETY: the call fails on the flags and maps nothing.
    let r = unsafe { mmap(ptr::null_mut(), page_size(), RW, MapFlags::ANONYMOUS, -1, 0) };
    assert_eq!(r, Err(Errno::EINVAL));
}

/// How long either process waits for the other before giving up.
const PATIENCE: Duration = Duration::from_secs(60);

/// The seed's first sentence: a change one program makes to a shared
/// mapping of a file is seen by the others. A child made with `fork` maps the
/// file itself and writes to it step by step; the parent checks each write
/// through its own mapping before letting the child go on.
#[test]
fn two_processes_share_a_file_mapping() {
    let _g = serial();
    let page = page_size();
    let len = 3 * page;
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(len as u64).unwrap();
    let fd = file.as_raw_fd();
    // SAFETY: a new shared mapping of a file only this test uses.
    let mine: *mut u8 = unsafe { mmap(ptr::null_mut(), len, RW, MapFlags::SHARED, fd, 0) }
        .unwrap()
        .cast();
    // Word 0: the child's step counter; word 1: the parent's acknowledgement.
    // SAFETY: the mapping is page-aligned, so words 0 and 1 are aligned
    // u32s, used only through atomics by both processes.
    let (step, ack) = unsafe {
        (
            &*mine.cast::<AtomicU32>(),
            &*mine.cast::<AtomicU32>().add(1),
        )
    };
    const STEPS: u32 = 64;
    // Where step k writes: spread over all three pages.
    let slot = |k: u32| 64 + (k as usize * (len - 128)) / STEPS as usize;

    // The child only makes system calls and touches memory it maps itself:
    // nothing that could deadlock on a lock held by another thread of the
    // parent.
    let child = fork_child(|| child_writes(fd, len, STEPS, slot));
    // Every step is acknowledged whatever the parent saw, so the
    // child always finishes; the assertions come after it is reaped.
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    let mut stuck_at = None;
    'steps: for k in 1..=STEPS {
        while step.load(Ordering::Acquire) != k {
            if Instant::now() > deadline {
                stuck_at = Some(k);
                break 'steps;
            }
            std::hint::spin_loop();
        }
        // SAFETY: the byte lies in this process's own mapping.
        seen.push(unsafe { mine.add(slot(k)).read_volatile() });
        ack.store(k, Ordering::Release);
    }
    if stuck_at.is_some() {
        // SAFETY: `child` is our child process.
        unsafe { libc::kill(child, libc::SIGKILL) };
    }
    let status = wait(child);
    assert_eq!(stuck_at, None, "the child did not make this step in time");
    let expected: Vec<u8> = (1..=STEPS).map(|k| k as u8).collect();
    assert_eq!(seen, expected, "what the parent saw at each step");
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child failed");
    // Every write is in the file too.
    let on_disk = std::fs::read(file.path()).unwrap();
    for k in 1..=STEPS {
        assert_eq!(on_disk[slot(k)], k as u8);
    }
    assert_eq!(u32::from_ne_bytes(on_disk[..4].try_into().unwrap()), STEPS);
    unmap(mine, len);
}

/// The child's side: map the file, make each step, wait for the parent's
/// acknowledgement. Returns the exit code (0 for success).
fn child_writes(fd: i32, len: usize, steps: u32, slot: impl Fn(u32) -> usize) -> i32 {
    // SAFETY: a new shared mapping in the child; the parent's mapping of the
    // same file is a different one.
    let Ok(p) = (unsafe { mmap(ptr::null_mut(), len, RW, MapFlags::SHARED, fd, 0) }) else {
        return 2;
    };
    let p: *mut u8 = p.cast();
    // SAFETY: as in the parent: aligned words used through atomics.
    let (step, ack) = unsafe { (&*p.cast::<AtomicU32>(), &*p.cast::<AtomicU32>().add(1)) };
    for k in 1..=steps {
        // SAFETY: `slot(k) < len`, inside the child's mapping.
        unsafe { p.add(slot(k)).write_volatile(k as u8) };
        step.store(k, Ordering::Release);
        let Some(deadline) = monotonic_secs().map(|now| now + PATIENCE.as_secs()) else {
            return 5;
        };
        while ack.load(Ordering::Acquire) != k {
            if monotonic_secs().is_none_or(|now| now > deadline) {
                return 3;
            }
            std::hint::spin_loop();
        }
    }
    // SAFETY: the child's own mapping, written back and removed.
    unsafe {
        if msync(p.cast(), len, MsyncFlags::SYNC).is_err() || munmap(p.cast(), len).is_err() {
            return 4;
        }
    }
    0
}
