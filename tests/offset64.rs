//! File offsets beyond 4 GiB, on every target.
//!
//! 32-bit Linux has no `mmap` with a byte offset: rawmap uses `mmap2`, whose
//! offset is in 4096-byte units, so offsets up to 16 TiB fit its 32-bit
//! register. These tests put known bytes at offsets above 4 GiB in sparse
//! files and read them back through mappings: an offset truncated to 32 bits
//! (or to a wrong unit) would show a hole (zeros) or other bytes instead.
//! Offsets that `mmap2` cannot express must fail, never map something else.

mod common;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use rawmap::{Errno, MapFlags, MmapOptions, Prot, mmap, munmap, page_size};

const GIB: u64 = 1 << 30;
/// The unit of `mmap2`'s offset on arm and x86 (not a page size).
const MMAP2_UNIT: u64 = 4096;
/// The first offset `mmap2` cannot express: 4096 × 2^32 (16 TiB).
const MMAP2_LIMIT: u64 = MMAP2_UNIT << 32;

fn page() -> u64 {
    page_size() as u64
}

/// The bytes written at byte offset `at` of the test files: they depend on
/// the offset (the low 32 bits and the high ones), so bytes found at any
/// other offset do not match.
fn pattern(at: u64, len: usize) -> Vec<u8> {
    (at..at + len as u64).map(pattern_byte).collect()
}

fn pattern_byte(o: u64) -> u8 {
    (o as u8) ^ ((o >> 7) as u8) ^ ((o >> 32) as u8).wrapping_mul(29) ^ 0x5a
}

/// A sparse test file and what it holds: `pattern` in each of its ranges,
/// zeros elsewhere.
struct Sparse {
    file: File,
    ranges: Vec<(u64, usize)>,
}

impl Sparse {
    /// A sparse file of `size` bytes holding `pattern` at each of `ranges`
    /// (offset, length), checked through `pread`.
    fn new(size: u64, ranges: &[(u64, usize)]) -> Sparse {
        let file = tempfile::tempfile().expect("temporary file");
        file.set_len(size).expect("set_len of a sparse file");
        for &(at, len) in ranges {
            file.write_all_at(&pattern(at, len), at)
                .expect("write into a sparse file");
            let mut back = vec![0; len];
            file.read_exact_at(&mut back, at).expect("pread");
            assert!(back == pattern(at, len), "pread at {at:#x}");
        }
        Sparse {
            file,
            ranges: ranges.to_vec(),
        }
    }

    /// What the file holds in `[at, at + len)`.
    fn model(&self, at: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        for (i, byte) in out.iter_mut().enumerate() {
            let o = at + i as u64;
            if self
                .ranges
                .iter()
                .any(|&(start, n)| (start..start + n as u64).contains(&o))
            {
                *byte = pattern_byte(o);
            }
        }
        out
    }

    /// What a mapping of `len` bytes made with file offset `offset` shows
    /// where the tests run. A kernel maps the bytes at `offset`. QEMU 7.2's
    /// user mode (Debian's) computes `mmap2`'s byte offset for a 32-bit
    /// guest in a 32-bit integer, so it maps the bytes at `offset` modulo
    /// 4 GiB (QEMU 8.1 fixed this); the ranges written below 4 GiB show
    /// there.
    fn shown(&self, offset: u64, len: usize) -> Vec<u8> {
        if cfg!(target_pointer_width = "32") && common::under_qemu_user() {
            self.model(offset % (1 << 32), len)
        } else {
            self.model(offset, len)
        }
    }
}

/// Compares without printing pages of bytes: the first difference.
#[track_caller]
fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!(
            "{what}: byte {i} is {:#04x}, expected {:#04x} ({})",
            got[i],
            want[i],
            common::environment()
        );
    }
}

/// Maps `len` bytes of `file` at byte `offset` through the raw layer and
/// returns a copy of them.
fn raw_read(file: &File, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
    // SAFETY: a new shared read-only mapping replaces nothing; the file is
    // private to this test and not truncated while mapped; the mapping is
    // read within its length and unmapped before returning.
    unsafe {
        let p = mmap(
            core::ptr::null_mut(),
            len,
            Prot::READ,
            MapFlags::SHARED,
            file.as_raw_fd(),
            offset,
        )?;
        let copy = core::slice::from_raw_parts(p.cast::<u8>(), len).to_vec();
        munmap(p, len).expect("munmap");
        Ok(copy)
    }
}

/// Maps through the safe layer and returns a copy of the bytes.
fn safe_read(file: &File, offset: u64, len: Option<usize>) -> Result<Vec<u8>, Errno> {
    let mut opts = MmapOptions::new();
    opts.offset(offset);
    if let Some(len) = len {
        opts.len(len);
    }
    // SAFETY: the file is private to this test and not changed or truncated
    // while mapped.
    let map = unsafe { opts.map(file) }?;
    Ok(map.to_vec())
}

/// An error, or a short description of the bytes mapped, for messages.
fn outcome(r: &Result<Vec<u8>, Errno>) -> String {
    match r {
        Ok(v) => format!("Ok({} bytes)", v.len()),
        Err(e) => format!("Err({e:?})"),
    }
}

/// 5 GiB + one page: above 4 GiB, and 1 GiB + one page modulo 4 GiB.
fn five_gib() -> u64 {
    5 * GIB + page()
}

/// A file with one page of data at 5 GiB + page and one page (a hole) after
/// it, where the file ends; 100 bytes straddling 4 GiB; and, to tell the
/// offsets apart, other data at the same offsets modulo 4 GiB.
fn file_above_4g() -> Sparse {
    let p = page_size();
    Sparse::new(
        five_gib() + 2 * page(),
        &[
            (five_gib(), p),
            (five_gib() - 4 * GIB, p),
            (4 * GIB - 50, 100),
            (0, 50),
        ],
    )
}

#[test]
fn raw_mmap_reads_a_page_above_4_gib() {
    let f = file_above_4g();
    let p = page_size();
    let five = five_gib();
    assert_bytes(
        &raw_read(&f.file, five, p).unwrap(),
        &f.shown(five, p),
        "page at 5 GiB + page",
    );
    // Two pages from the page before: a hole (zeros), then the data.
    let two = raw_read(&f.file, five - page(), 2 * p).unwrap();
    assert_bytes(&two, &f.shown(five - page(), 2 * p), "two pages");
    assert!(two[..p].iter().all(|&b| b == 0) && two[p..].iter().any(|&b| b != 0));
    // Exactly 4 GiB: the 50 bytes written there, then zeros.
    assert_bytes(
        &raw_read(&f.file, 4 * GIB, p).unwrap(),
        &f.shown(4 * GIB, p),
        "page at 4 GiB",
    );
    if !common::under_qemu_user() || cfg!(target_pointer_width = "64") {
        assert_bytes(&f.shown(five, p), &pattern(five, p), "the model");
    }
}

#[test]
fn mmap_options_aligned_offset_above_4_gib() {
    let f = file_above_4g();
    let p = page_size();
    let five = five_gib();
    let map = safe_read(&f.file, five, Some(p)).unwrap();
    assert_bytes(&map, &f.shown(five, p), "one page");
    // Without a length: up to the end of the file (data page + one more).
    let rest = safe_read(&f.file, five, None).unwrap();
    assert_bytes(&rest, &f.shown(five, 2 * p), "to the end of the file");
}

#[test]
fn mmap_options_unaligned_offsets_above_4_gib() {
    let f = file_above_4g();
    let p = page_size();
    let five = five_gib();
    for skip in [1, 100, p / 2 + 3, p - 1] {
        let at = five + skip as u64;
        let len = p - skip;
        // The safe layer maps from the page below `at`, so under QEMU the
        // bytes shown are those of that page's offset modulo 4 GiB.
        let want = &f.shown(five, p)[skip..];
        let what = format!("offset {at:#x}");
        assert_bytes(&safe_read(&f.file, at, Some(len)).unwrap(), want, &what);
        // Without a length: from `at` to the end of the file.
        let rest = safe_read(&f.file, at, None).unwrap();
        assert_bytes(&rest, &f.shown(five, 2 * p)[skip..], &what);
    }
    // Across the page boundary below the data: zeros, then data.
    let map = safe_read(&f.file, five - 10, Some(20)).unwrap();
    assert_bytes(
        &map,
        &f.shown(five - page(), 2 * p)[p - 10..p + 10],
        "across a page",
    );
    // Across 4 GiB itself: mapped from below 4 GiB, so exact everywhere.
    let map = safe_read(&f.file, 4 * GIB - 50, Some(100)).unwrap();
    assert_bytes(&map, &pattern(4 * GIB - 50, 100), "across 4 GiB");
}

#[test]
fn highest_offset_mmap2_expresses() {
    // The page below the last one under 16 TiB (`mmap2` unit 0xffff_fffe
    // with 4096-byte pages): the highest one-page mapping a 32-bit kernel
    // makes, and ext4 and tmpfs hold files that long.
    let p = page_size();
    let top = MMAP2_LIMIT - 2 * page();
    let f = Sparse::new(top + page(), &[(top, p), (top % (1 << 32), p)]);
    assert_bytes(&raw_read(&f.file, top, p).unwrap(), &f.shown(top, p), "raw");
    assert_bytes(
        &safe_read(&f.file, top + 7, Some(p - 7)).unwrap(),
        &f.shown(top, p)[7..],
        "MmapOptions",
    );
    if cfg!(target_pointer_width = "32") {
        // The whole file does not fit the address space: the safe layer
        // refuses the length before any system call.
        assert_eq!(safe_read(&f.file, 0, None), Err(Errno::ENOMEM));
    }
}

#[test]
fn unaligned_raw_offsets_are_einval_never_truncated() {
    let f = file_above_4g();
    let p = page_size();
    // Not a multiple of 4096 (so of no page size): the kernel's EINVAL on a
    // 64-bit target, rawmap's before `mmap2` on a 32-bit one. 4 GiB + 512
    // would be 512 if truncated to 32 bits, 5 GiB + page + 512 rounds down
    // to the data page in 4096-byte units.
    for offset in [512, 4 * GIB + 512, five_gib() + 512, five_gib() + 1] {
        assert_eq!(
            raw_read(&f.file, offset, p),
            Err(Errno::EINVAL),
            "{offset:#x}"
        );
    }
    if page_size() > MMAP2_UNIT as usize {
        // A multiple of 4096 that is not one of the page size: EINVAL from a
        // kernel with larger pages. QEMU with QEMU_PAGESIZE above 4096
        // accepts it (its host pages are 4096 bytes) and maps from there.
        let at = five_gib() + MMAP2_UNIT;
        let got = raw_read(&f.file, at, p);
        if common::under_qemu_user() {
            assert_bytes(&got.unwrap(), &f.shown(at, p), "QEMU, 4096-aligned");
        } else {
            assert_eq!(got, Err(Errno::EINVAL), "{}", outcome(&got));
        }
    }
}

#[test]
fn offsets_beyond_every_file_are_eoverflow() {
    let f = file_above_4g();
    let p = page_size();
    // The largest page-aligned u64: EOVERFLOW from the kernel on a 64-bit
    // target (beyond the largest file offset), from rawmap on a 32-bit one.
    let max = !(page() - 1);
    let got = raw_read(&f.file, max, p);
    assert_eq!(got, Err(Errno::EOVERFLOW), "{}", outcome(&got));
    // `offset + len` does not fit a u64: the safe layer's own check.
    assert_eq!(safe_read(&f.file, max, Some(p)), Err(Errno::EOVERFLOW));
    assert_eq!(safe_read(&f.file, max + 1, Some(p)), Err(Errno::EOVERFLOW));
}

#[cfg(target_pointer_width = "32")]
#[test]
fn offsets_beyond_mmap2_units_are_eoverflow() {
    let f = file_above_4g();
    let p = page_size();
    // 2^44 is 2^32 units: one more than the register holds. Truncated, it
    // would be offset 0 (the data written there) and the map would succeed.
    for offset in [MMAP2_LIMIT, MMAP2_LIMIT + five_gib(), 1 << 50] {
        let got = raw_read(&f.file, offset, p);
        assert_eq!(got, Err(Errno::EOVERFLOW), "{offset:#x}: {}", outcome(&got));
        // The safe layer maps from the page below an unaligned offset, so it
        // meets the same limit.
        let got = safe_read(&f.file, offset + 5, Some(10));
        assert_eq!(got, Err(Errno::EOVERFLOW), "{offset:#x}: {}", outcome(&got));
    }
    // Not a multiple of 4096 and too large: EINVAL, as the kernel checks
    // the alignment first.
    assert_eq!(raw_read(&f.file, MMAP2_LIMIT + 1, p), Err(Errno::EINVAL));
}
