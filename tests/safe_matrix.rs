//! `map` of every file size × offset that matters, with and without an
//! explicit length, against `std::fs::read` of the same range.

mod common;

use std::io::Write;

use rawmap::{Errno, MmapOptions, page_size};

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(151) ^ ((i >> 9) as u8))
        .collect()
}

fn sizes() -> Vec<usize> {
    let page = page_size();
    vec![0, 1, page - 1, page, page + 1, 3 * page + 17, (1 << 20) + 5]
}

fn offsets(size: usize) -> Vec<usize> {
    let page = page_size();
    vec![0, 1, page - 1, page, page + 1, size, size + 1]
}

/// Checks one mapping of `want` (the file's bytes from `offset`).
fn check(map: &[u8], ptr: *const u8, offset: usize, want: &[u8], what: &str) {
    assert_eq!(map.len(), want.len(), "{what}: length");
    assert!(map == want, "{what}: contents differ");
    if !map.is_empty() {
        // The view starts as far into its page as the offset into its page.
        assert_eq!(
            ptr as usize % page_size(),
            offset % page_size(),
            "{what}: alignment"
        );
    }
}

#[test]
fn map_matches_fs_read_for_every_size_and_offset() {
    let mut checked = 0;
    for size in sizes() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(&pattern(size)).unwrap();
        tmp.flush().unwrap();
        let file = tmp.as_file();
        let bytes = std::fs::read(tmp.path()).unwrap();
        assert_eq!(bytes.len(), size);
        for offset in offsets(size) {
            let what = format!("size {size}, offset {offset}");
            let opts = || {
                let mut o = MmapOptions::new();
                o.offset(offset as u64);
                o
            };
            // Without a length: the rest of the file, or EINVAL past its end.
            // SAFETY: the temporary file is private to this test.
            let got = unsafe { opts().map(file) };
            if offset <= size {
                let map = got.unwrap_or_else(|e| panic!("{what}: {e}"));
                check(&map, map.as_ptr(), offset, &bytes[offset..], &what);
            } else {
                assert_eq!(got.unwrap_err(), Errno::EINVAL, "{what}");
            }
            // Private copies see the same bytes.
            // SAFETY: as above.
            if let Ok(map) = unsafe { opts().map_copy_read_only(file) } {
                check(&map, map.as_ptr(), offset, &bytes[offset..], &what);
            } else {
                assert!(offset > size, "{what}: map_copy_read_only");
            }

            // With an explicit length: all of the rest, part of it, nothing.
            if offset <= size {
                let rest = size - offset;
                for len in [rest, rest / 2, rest.min(1), 0] {
                    let what = format!("{what}, len {len}");
                    // SAFETY: as above; the range lies inside the file.
                    let map = unsafe { opts().len(len).map(file) }
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    check(
                        &map,
                        map.as_ptr(),
                        offset,
                        &bytes[offset..offset + len],
                        &what,
                    );
                    // SAFETY: as above.
                    let mut copy = unsafe { opts().len(len).map_copy(file) }.unwrap();
                    check(
                        &copy,
                        copy.as_ptr(),
                        offset,
                        &bytes[offset..offset + len],
                        &what,
                    );
                    if let Some(b) = copy.first_mut() {
                        *b ^= 1;
                    }
                    checked += 1;
                }
            } else {
                // Past the end, `len(0)` maps nothing and is fine.
                // SAFETY: nothing is mapped.
                let map = unsafe { opts().len(0).map(file) }.unwrap();
                assert!(map.is_empty(), "{what}");
                // A length past the end of the file: the kernel maps it
                // (touching it would raise SIGBUS: it is not touched here).
                // QEMU with a page size of its own (above its host's)
                // truncates file mappings at the end of the file, and
                // refuses one whose page-aligned start is at or past it, with
                // EINVAL or ENOMEM depending on how far past the end.
                // SAFETY: the mapping is dropped without being read.
                let past = unsafe { opts().len(1).map(file) };
                let aligned = offset & !(page_size() - 1);
                if common::qemu_pagesize().is_some() && aligned >= size {
                    let e = past.unwrap_err();
                    assert!([Errno::EINVAL, Errno::ENOMEM].contains(&e), "{what}: {e}");
                } else {
                    assert_eq!(past.unwrap().len(), 1, "{what}");
                }
            }
            checked += 1;
        }
        // The file is unchanged by all of this.
        assert_eq!(std::fs::read(tmp.path()).unwrap(), bytes);
    }
    // 7 sizes × 7 offsets, and 4 lengths for each offset inside the file.
    assert!(checked > 49, "{checked}");
}
