//! Property test of the safe layer's mappings: random file sizes, offsets,
//! lengths and option sets through `MmapOptions`: every `Ok` mapping shows
//! exactly the bytes `std::fs::read` gives for that range, every `Err` is
//! the errno a small model of rawmap and the kernel predicts.
//!
//! Cases: 2000 on this machine's kernel, 500 under emulation (QEMU's user
//! mode, or the real-kernel runner's full-system emulation), which is slower
//! by one to two orders of magnitude; `PROPTEST_CASES` overrides both.
//!
//! 64-bit targets only: its strategies include 64-bit lengths and offsets
//! (1 << 62, 1 << 63); the 32-bit targets check offset handling in
//! tests/offset64.rs.
#![cfg(target_pointer_width = "64")]

mod common;

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use common::mem::SUB_PAGE;
use common::{proptest_config, report, serial};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use rawmap::{Errno, MmapOptions, page_size};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Map,
    MapMut,
    MapCopy,
    MapCopyReadOnly,
}

#[derive(Clone, Debug)]
struct MapCase {
    size: usize,
    offset: u64,
    len: Option<usize>,
    kind: Kind,
    read_only_fd: bool,
    populate: bool,
    stack: bool,
    no_reserve: bool,
    huge: bool,
    fill: u8,
}

fn map_case(p: usize) -> impl Strategy<Value = MapCase> {
    let p64 = p as u64;
    let size = prop_oneof![
        3 => 0..=6 * p,
        1 => prop::sample::select(vec![0, 1, p - 1, p, p + 1, 2 * p, 6 * p]),
    ];
    let offset = prop_oneof![
        4 => 0..=7 * p64,
        2 => prop::sample::select(vec![0, 1, p64 - 1, p64, p64 + 1, 2 * p64 + 3]),
        1 => prop::sample::select(vec![
            1 << 62,
            (1 << 63) - p64,
            1 << 63,
            u64::MAX - p64 + 1,
            u64::MAX - 3,
            u64::MAX,
        ]),
    ];
    let len = prop_oneof![
        2 => Just(None),
        1 => Just(Some(0)),
        4 => (1..=7 * p).prop_map(Some),
        1 => prop::sample::select(vec![usize::MAX, usize::MAX - p, 1 << 63, 1 << 62]).prop_map(Some),
    ];
    let kind = prop::sample::select(vec![
        Kind::Map,
        Kind::MapMut,
        Kind::MapCopy,
        Kind::MapCopyReadOnly,
    ]);
    (
        size,
        offset,
        len,
        kind,
        any::<bool>(),
        any::<[bool; 3]>(),
        prop::bool::weighted(0.1),
        any::<u8>(),
    )
        .prop_map(
            |(size, offset, len, kind, read_only_fd, [populate, stack, no_reserve], huge, fill)| {
                MapCase {
                    size,
                    offset,
                    len,
                    kind,
                    read_only_fd,
                    populate,
                    stack,
                    no_reserve,
                    huge,
                    fill,
                }
            },
        )
}

/// What mapping a case gives.
#[derive(Debug, PartialEq)]
enum Want {
    /// A mapping of this length.
    Map(usize),
    /// This errno.
    Err(Errno),
    /// Under QEMU's user mode, where its answer depends on its own length
    /// arithmetic: a refusal with EINVAL, ENOMEM or EOVERFLOW.
    QemuRefuses,
}

/// What mapping `c` gives: rawmap's own checks first (DESIGN.md), then the
/// kernel's, in the kernel's order: `MAP_HUGETLB` on a file that is not on
/// hugetlbfs (`EINVAL`, checked before everything else), the address space
/// (`ENOMEM`), the file offset limit (`EOVERFLOW`), then write access for a
/// shared writable mapping (`EACCES`). Under QEMU's user mode, its known
/// departures (DESIGN.md) instead.
fn model(c: &MapCase, p: usize, qemu: bool) -> Want {
    let len = match c.len {
        Some(len) => len,
        None => match (c.size as u64).checked_sub(c.offset) {
            None => return Want::Err(Errno::EINVAL),
            Some(rest) => rest as usize,
        },
    };
    if len == 0 {
        return Want::Map(0);
    }
    if c.offset.checked_add(len as u64).is_none() {
        return Want::Err(Errno::EOVERFLOW);
    }
    let align = if c.huge { 2 << 20 } else { p };
    let head = (c.offset % align as u64) as usize;
    let Some(map_len) = head
        .checked_add(len)
        .and_then(|n| n.checked_next_multiple_of(align))
    else {
        return Want::Err(Errno::ENOMEM);
    };
    if qemu && c.huge {
        // MAP_HUGETLB fails erratically under QEMU (DESIGN.md), and QEMU
        // looks for address space first.
        return Want::QemuRefuses;
    }
    if qemu && map_len >= 1 << 62 {
        // QEMU's user mode looks for guest address space first.
        return Want::Err(Errno::ENOMEM);
    }
    if c.huge {
        return Want::Err(Errno::EINVAL);
    }
    if map_len >= 1 << 62 {
        return Want::Err(Errno::ENOMEM);
    }
    let aligned = c.offset - head as u64;
    if qemu && p > SUB_PAGE && aligned >= c.size as u64 {
        // QEMU's user mode with guest pages larger than the host's maps a
        // file only up to its end (the rest anonymously), cutting the
        // length to `size - offset`: a mapping that starts at the end or
        // beyond comes out empty or wraps (DESIGN.md: even a 1-byte map of
        // an empty file is refused).
        return Want::QemuRefuses;
    }
    if aligned / p as u64 > (i64::MAX as u64 - map_len as u64) / p as u64 {
        return Want::Err(Errno::EOVERFLOW);
    }
    if matches!(c.kind, Kind::MapMut) && c.read_only_fd {
        return Want::Err(Errno::EACCES);
    }
    Want::Map(len)
}

#[test]
fn mappings_show_the_file_or_the_predicted_errno() {
    let _serial = serial();
    let p = page_size();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    std::fs::write(&path, b"").unwrap();
    let rw = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let ro = std::fs::File::open(&path).unwrap();
    let (oks, errs) = (Cell::new(0u32), Cell::new(0u32));
    let zeros = vec![0u8; SUB_PAGE];
    let qemu = common::under_qemu_user();

    let mut runner = TestRunner::new(proptest_config());
    let result = runner.run(&map_case(p), |c| {
        // A pattern with period 251 (prime, so no page-sized shift hides),
        // built by copying, which stays fast under QEMU.
        let block: Vec<u8> = (0..251u8)
            .map(|i| i.wrapping_mul(131).wrapping_add(c.fill))
            .collect();
        let mut content = block.repeat(c.size / 251 + 1);
        content.truncate(c.size);
        // Through the open descriptor: reopening with O_TRUNC makes ext4
        // start write-back on every close, which only costs time here.
        rw.set_len(c.size as u64).unwrap();
        rw.write_all_at(&content, 0).unwrap();
        let file = std::fs::read(&path).unwrap();

        let mut opts = MmapOptions::new();
        opts.offset(c.offset);
        if let Some(len) = c.len {
            opts.len(len);
        }
        if c.populate {
            opts.populate();
        }
        if c.stack {
            opts.stack();
        }
        if c.no_reserve {
            opts.no_reserve();
        }
        if c.huge {
            opts.huge(Some(21));
        }
        let fd = if c.read_only_fd {
            ro.as_raw_fd()
        } else {
            rw.as_raw_fd()
        };
        // SAFETY: nothing changes the file while the mapping lives (the next
        // case rewrites it after this mapping is dropped); bytes past the
        // end of the file are never touched beyond its last page.
        let got: Result<Box<dyn std::ops::Deref<Target = [u8]>>, Errno> = unsafe {
            match c.kind {
                Kind::Map => opts.map(fd).map(|m| Box::new(m) as _),
                Kind::MapMut => opts.map_mut(fd).map(|m| Box::new(m) as _),
                Kind::MapCopy => opts.map_copy(fd).map(|m| Box::new(m) as _),
                Kind::MapCopyReadOnly => opts.map_copy_read_only(fd).map(|m| Box::new(m) as _),
            }
        };
        let want = model(&c, p, qemu);
        match (&got, want) {
            (Ok(map), Want::Map(len)) => {
                prop_assert_eq!(map.len(), len);
                // The bytes inside the file equal what plain I/O reads;
                // those past its end, up to the end of its last page, are
                // zero. Pages wholly past the end are not touched (SIGBUS).
                let start = usize::try_from(c.offset).unwrap_or(usize::MAX);
                let end_of_page = c.size.next_multiple_of(SUB_PAGE);
                let readable = end_of_page.saturating_sub(start).min(len);
                let in_file = file.len().saturating_sub(start).min(readable);
                if map[..in_file] != file[start.min(file.len())..][..in_file] {
                    let i = (0..in_file).find(|&i| map[i] != file[start + i]).unwrap();
                    return Err(TestCaseError::fail(format!(
                        "byte {i} (file offset {}): mapped {:#x}, file {:#x}",
                        start + i,
                        map[i],
                        file[start + i]
                    )));
                }
                prop_assert!(
                    map[in_file..readable] == zeros[..readable - in_file],
                    "bytes past the end of the file are not zero"
                );
                oks.set(oks.get() + 1);
            }
            (Err(e), Want::Err(w)) => {
                prop_assert_eq!(*e, w);
                errs.set(errs.get() + 1);
            }
            (Err(e), Want::QemuRefuses)
                if matches!(*e, Errno::EINVAL | Errno::ENOMEM | Errno::EOVERFLOW) =>
            {
                errs.set(errs.get() + 1);
            }
            (got, want) => {
                return Err(TestCaseError::fail(format!(
                    "got {:?}, model {want:?}",
                    got.as_ref().map(|m| m.len())
                )));
            }
        }
        Ok(())
    });
    report(&format!(
        "proptest mappings [{}, page size {p}]: {} cases, {} mapped and compared with \
         std::fs::read, {} errors as the model predicts",
        common::environment(),
        oks.get() + errs.get(),
        oks.get(),
        errs.get()
    ));
    if let Err(e) = result {
        panic!("{e}");
    }
}
