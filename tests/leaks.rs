//! Map/drop cycles of the safe layer leak nothing: 100 000 cycles on this
//! machine's kernel (50 000 under QEMU's user mode, 20 000 under the
//! real-kernel runner) of anonymous and file mappings of various lengths
//! and offsets, with conversions, flushes, advice and remaps in between,
//! leave the number of mappings, the bytes they span, the address space
//! (`VmSize`) and the open descriptors as they were.
//!
//! The cycles run in a child made with `fork`: it has one thread, so nothing
//! else maps or opens anything while it counts, and it reads `/proc` without
//! allocating. The figures go straight to stderr, so they show without
//! `--nocapture`.

mod common;

use std::os::fd::AsRawFd;
use std::time::Instant;

use common::fork::{describe, fork_child, wait};
use common::proc::{fd_count, mappings, vm_size_kb};
use common::{report, serial};
use rawmap::{Advice, MmapOptions, page_size};

/// The three figures, each read until two readings agree (QEMU's
/// `/proc/self/maps` can briefly miss a mapping while another thread maps,
/// see DESIGN.md; in the single-threaded child this is a belt and braces).
fn snapshot() -> [u64; 4] {
    let read = || {
        let [count, bytes] = mappings();
        [count, bytes, vm_size_kb(), fd_count()]
    };
    let mut last = read();
    for _ in 0..5 {
        let now = read();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// One map/drop cycle of the safe layer, chosen by `i`: anonymous and file
/// mappings of various lengths and offsets, with conversions, flushes,
/// advice and remaps in between. Async-signal-safe: rawmap allocates
/// nothing. Returns an error code, or 0.
fn one_cycle(i: u64, ro: i32, rw: i32, p: usize) -> i32 {
    let lens = [1, p - 1, p, p + 1, 3 * p + 5, 16 * p];
    let offsets = [0u64, 1, p as u64 - 1, p as u64, 2 * p as u64 + 3];
    let len = lens[(i % lens.len() as u64) as usize];
    let off = offsets[(i / 7 % offsets.len() as u64) as usize];
    let opts = {
        let mut o = MmapOptions::new();
        o.len(len).offset(off);
        o
    };
    let touch = |s: &[u8]| {
        // SAFETY: both bytes are inside the slice.
        unsafe { std::ptr::read_volatile(&s[0]) ^ std::ptr::read_volatile(&s[s.len() - 1]) }
    };
    let check = |r: Result<(), rawmap::Errno>| r.map_or_else(|e| 100 + e.into_raw(), |()| 0);
    // SAFETY (for the file mappings below): the file is private to this
    // test and keeps its length while the child runs.
    match i % 9 {
        0 => match opts.map_anon() {
            Ok(mut m) => {
                m[len - 1] = 1;
                touch(&m);
                0
            }
            Err(e) => 100 + e.into_raw(),
        },
        1 => match opts.map_anon_shared() {
            Ok(m) => {
                touch(&m);
                check(m.flush_async())
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        2 => match unsafe { opts.map(ro) } {
            Ok(m) => {
                touch(&m);
                check(m.advise_range(Advice::Sequential, 0, len))
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        3 => match unsafe { opts.map_mut(rw) } {
            Ok(m) => {
                touch(&m);
                check(m.flush_async_range(len / 2, len - len / 2))
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        4 => match unsafe { opts.map_copy(rw) } {
            Ok(mut m) => {
                m[0] ^= 1;
                match m.make_read_only() {
                    Ok(m) => {
                        touch(&m);
                        0
                    }
                    Err(e) => 100 + e.errno().into_raw(),
                }
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        5 => match unsafe { opts.map_copy_read_only(ro) } {
            Ok(m) => match m.make_mut() {
                Ok(mut m) => {
                    m[len - 1] = 2;
                    0
                }
                Err(e) => 100 + e.errno().into_raw(),
            },
            Err(e) => 100 + e.into_raw(),
        },
        6 => match opts.map_anon() {
            Ok(mut m) => {
                // SAFETY: anonymous memory has no file to outgrow.
                match unsafe { m.remap(len * 2 + p, true) } {
                    Ok(()) => {
                        touch(&m);
                        check(m.unmap().map_err(|e| e.errno()))
                    }
                    Err(e) => 100 + e.into_raw(),
                }
            }
            Err(e) => 100 + e.into_raw(),
        },
        7 => match MmapOptions::new().len(len).populate().map_anon() {
            Ok(m) => {
                let (ptr, l) = m.into_raw();
                // SAFETY: straight from `into_raw` of a normal-page mapping.
                let m = unsafe { rawmap::MmapMut::from_raw(ptr, l) };
                touch(&m);
                0
            }
            Err(e) => 100 + e.into_raw(),
        },
        // Now and then huge pages: reads /proc/meminfo for the size (a
        // descriptor opened and closed) and usually fails for want of
        // reserved huge pages.
        _ if i % 100 == 8 => {
            if let Ok(m) = MmapOptions::new().len(len).huge(None).map_anon() {
                touch(&m);
            }
            0
        }
        _ => match MmapOptions::new().len(len).stack().no_reserve().map_anon() {
            Ok(m) => {
                touch(&m);
                check(m.lock_range(0, 1).and_then(|()| m.unlock()))
            }
            Err(e) => 100 + e.into_raw(),
        },
    }
}

#[test]
fn map_drop_cycles_leak_nothing() {
    let _serial = serial();
    let qemu = common::under_qemu_user();
    // Fewer under emulation: QEMU's user mode, and fewer still under the
    // real-kernel runner's full-system emulation.
    let cycles: u64 = if common::under_real_kernel_runner() {
        20_000 // full-system emulation without KVM: the slowest of all
    } else if qemu {
        50_000
    } else {
        100_000
    };
    let warmup = 1_000;
    let p = page_size();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), vec![7u8; 24 * p]).unwrap();
    let rw = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    let ro = std::fs::File::open(file.path()).unwrap();
    // The child reports here: [status, failed cycle, before x4, after x4].
    let mut out = MmapOptions::new().len(10 * 8).map_anon_shared().unwrap();
    let out_ptr = out.as_mut_ptr().cast::<u64>();
    let (ro_fd, rw_fd) = (ro.as_raw_fd(), rw.as_raw_fd());
    let started = Instant::now();

    // The cycles run in a forked child: it has one thread, so nothing else
    // maps or opens anything while it counts.
    let pid = fork_child(|| {
        // SAFETY: `out_ptr` points to 8 u64 in a shared mapping.
        let out = unsafe { std::slice::from_raw_parts_mut(out_ptr, 10) };
        for i in 0..warmup {
            let code = one_cycle(i, ro_fd, rw_fd, p);
            if code != 0 {
                out[0] = code as u64;
                out[1] = i;
                return 1;
            }
        }
        let before = snapshot();
        for i in 0..cycles {
            let code = one_cycle(i, ro_fd, rw_fd, p);
            if code != 0 {
                out[0] = code as u64;
                out[1] = i;
                return 1;
            }
        }
        let after = snapshot();
        out[2..6].copy_from_slice(&before);
        out[6..10].copy_from_slice(&after);
        0
    });
    let status = wait(pid);
    let r: Vec<u64> = out
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the cycling child ended with {} (code {}, cycle {})",
        describe(status),
        r[0],
        r[1]
    );
    let (before, after) = (&r[2..6], &r[6..10]);
    report(&format!(
        "no leaks [{}, page size {p}]: {cycles} map/drop cycles (after {warmup} warm-up cycles): \
         mappings {} -> {} spanning {} kB -> {} kB, VmSize {} kB -> {} kB{}, open fds {} -> {} \
         ({:.1} s)",
        common::environment(),
        before[0],
        after[0],
        before[1] / 1024,
        after[1] / 1024,
        before[2],
        after[2],
        if qemu { " (QEMU's own process)" } else { "" },
        before[3],
        after[3],
        started.elapsed().as_secs_f64()
    ));
    assert!(
        before.iter().all(|&v| v != u64::MAX),
        "reading /proc failed"
    );
    assert_eq!(before[0], after[0], "mapping count");
    assert_eq!(before[1], after[1], "bytes mapped");
    if !qemu {
        assert_eq!(before[2], after[2], "VmSize");
    } else {
        // Under QEMU, /proc/self/status is QEMU's host process, whose size
        // includes QEMU's own caches; the guest's address space is what
        // /proc/self/maps shows (asserted above).
    }
    assert_eq!(before[3], after[3], "open descriptors");
}
