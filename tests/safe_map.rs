//! The safe layer's mappings and what they show, against the real kernel:
//! file mappings (shared, private, at any offset: every file size x offset
//! that matters against `std::fs::read`) written and flushed, anonymous
//! memory, empty mappings, length arithmetic that never wraps, clear errors
//! for bad descriptors and huge pages, the extra mapping flags, and
//! `SIGBUS` past the end of a truncated file.
//!
//! Tests that look at process-wide state (`/proc/self/smaps`, `mincore`
//! residency, `fork`) take [`exclusive`]; all others take [`shared`], so no
//! other test maps or unmaps meanwhile.

mod common;

use std::io::Write as _;
use std::os::fd::AsRawFd;

use common::fork::{in_child, no_core_dumps};
use common::mem::{SUB_PAGE, mincore_at, qemu_with_larger_pages};
use common::proc::{meminfo, smaps_vmflags};
use common::{exclusive, file_contents, file_with, pattern, pattern_bytes, seeded_pattern, shared};
use rawmap::{Advice, Errno, Mmap, MmapError, MmapMut, MmapOptions, page_size};

#[test]
fn map_mut_write_flush_reaches_the_file() {
    let _g = shared();
    let page = page_size();
    let len = 2 * page + 3;
    let mut file = file_with(&seeded_pattern(len, 1));
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().map_mut(&file) }.unwrap();
    assert_eq!(map.len(), len);
    map[0] = 0xAB;
    map[page + 1] = 0xCD;
    map[len - 1] = 0xEF;
    map.flush().unwrap();
    let mut want = seeded_pattern(len, 1);
    want[0] = 0xAB;
    want[page + 1] = 0xCD;
    want[len - 1] = 0xEF;
    assert_eq!(file_contents(&mut file), want);

    map[2 * page] = 1;
    map.flush_async().unwrap();
    map.flush().unwrap();
    want[2 * page] = 1;
    assert_eq!(file_contents(&mut file), want);
}

#[test]
fn flush_range_unaligned_works_and_stays_inside() {
    let _g = shared();
    let page = page_size();
    let len = 3 * page + 17;
    let mut file = file_with(&vec![0; len]);
    // An unaligned file offset, too: the view starts 5 bytes into a page.
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().offset(5).map_mut(&file) }.unwrap();
    assert_eq!(map.len(), len - 5);
    assert_eq!(map.as_ptr() as usize % page, 5);
    map[page - 1..page + 2].copy_from_slice(b"xyz");
    map.flush_range(page - 1, 3).unwrap();
    map.flush_async_range(1, page).unwrap();
    let on_disk = file_contents(&mut file);
    assert_eq!(&on_disk[page + 4..page + 7], b"xyz");
    assert_eq!(on_disk.len(), len);

    // The whole view, the empty range at its end, and ranges past it.
    let n = map.len();
    assert_eq!(map.flush_range(0, n), Ok(()));
    assert_eq!(map.flush_range(n, 0), Ok(()));
    assert_eq!(map.flush_range(n, 1), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(n - 1, 2), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(n + 1, 0), Err(Errno::EINVAL));
    assert_eq!(map.flush_range(1, usize::MAX), Err(Errno::EINVAL));
    assert_eq!(map.flush_async_range(usize::MAX, 2), Err(Errno::EINVAL));
}

#[test]
fn map_copy_writes_leave_the_file_unchanged() {
    let _g = shared();
    let page = page_size();
    let len = page + 9;
    let original = seeded_pattern(len, 2);
    let mut file = file_with(&original);
    // SAFETY: the temporary file is private to this test.
    let mut map = unsafe { MmapOptions::new().offset(1).map_copy(&file) }.unwrap();
    assert_eq!(&map[..], &original[1..]);
    map.fill(0x77);
    map.flush().unwrap();
    assert!(map.iter().all(|&b| b == 0x77));
    assert_eq!(file_contents(&mut file), original);
    // A second mapping of the file still shows the file.
    // SAFETY: as above.
    let again = unsafe { MmapOptions::new().map(&file) }.unwrap();
    assert_eq!(&again[..], &original[..]);
}

#[test]
fn map_anon_is_zeroed_and_writable() {
    let _g = shared();
    let page = page_size();
    for len in [1, 2, page - 1, page, page + 1, 3 * page + 17, (1 << 20) + 5] {
        let mut map = MmapOptions::new().len(len).map_anon().unwrap();
        assert_eq!(map.len(), len);
        assert_eq!(map.as_ptr() as usize % page, 0);
        assert!(map.iter().all(|&b| b == 0), "len {len} not zeroed");
        let want = seeded_pattern(len, 3);
        map.copy_from_slice(&want);
        assert_eq!(&map[..], &want[..]);
        let shared = MmapOptions::new().len(len).map_anon_shared().unwrap();
        assert!(shared.iter().all(|&b| b == 0));
    }
    // The offset is ignored for anonymous memory.
    let map = MmapOptions::new().offset(3).len(10).map_anon().unwrap();
    assert_eq!(map.as_ptr() as usize % page, 0);
    // No length: an empty mapping.
    assert!(MmapOptions::new().map_anon().unwrap().is_empty());
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
    let _g = shared();
    let mut checked = 0;
    for size in sizes() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(&seeded_pattern(size, 0)).unwrap();
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

#[test]
fn safe_layer_maps_any_offset_with_the_real_page_size() {
    let _g = shared();
    // The safe layer maps from the page-aligned offset below and hands out a
    // pointer into it; a kernel with 16K pages refuses anything computed
    // with 4K pages, so this passing there shows the arithmetic is right.
    let page = page_size();
    let file = file_with(&pattern_bytes(3 * page));
    for offset in [1, SUB_PAGE, page - 1, page, page + SUB_PAGE + 7, 2 * page] {
        let len = 3 * page - offset;
        // SAFETY: the temporary file is private to this test.
        let map = unsafe { MmapOptions::new().offset(offset as u64).map(&file) }
            .unwrap_or_else(|e| panic!("map at offset {offset}: {e}"));
        assert_eq!(map.len(), len);
        assert!(
            map.iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(offset + i)),
            "offset {offset}"
        );
        map.unmap()
            .unwrap_or_else(|e| panic!("unmap at offset {offset}: {}", e.errno()));
    }
}

#[test]
fn empty_mappings_make_no_mmap_call() {
    let _g = shared();
    // `len(0)` never looks at the descriptor: even an invalid one works.
    // SAFETY: nothing is mapped.
    let map = unsafe { MmapOptions::new().len(0).map(-1) }.unwrap();
    assert!(map.is_empty());
    assert_eq!(&map[..], b"");
    // An empty file with flags mmap would refuse (HUGETLB on a file that is
    // not on hugetlbfs is EINVAL): no mmap call, so no error.
    let file = tempfile::tempfile().unwrap();
    // SAFETY: the temporary file is private to this test.
    let hugetlb = unsafe { MmapOptions::new().huge(Some(21)).map(&file) };
    assert!(hugetlb.unwrap().is_empty());
    // With a length, the same mapping reaches mmap and fails.
    // SAFETY: as above.
    let err = unsafe { MmapOptions::new().huge(Some(21)).len(1).map(&file) }.unwrap_err();
    assert_eq!(err, Errno::EINVAL);

    // Everything works on an empty mapping and does nothing.
    let mut map = MmapOptions::new().len(0).map_anon().unwrap();
    map.flush().unwrap();
    map.flush_async().unwrap();
    map.flush_range(0, 0).unwrap();
    assert_eq!(map.flush_range(0, 1), Err(Errno::EINVAL));
    map.advise(Advice::Random).unwrap();
    map.lock().unwrap();
    map.unlock().unwrap();
    assert_eq!(map.as_mut().len(), 0);
    // SAFETY: an anonymous mapping has no file to outgrow.
    assert_eq!(unsafe { map.remap(10, true) }, Err(Errno::EINVAL));
    let map = map.make_read_only().unwrap().make_exec().unwrap();
    let map = map.make_mut().unwrap();
    map.unmap().unwrap();
}

#[test]
fn length_arithmetic_never_wraps() {
    let _g = shared();
    let page = page_size();
    let file = file_with(b"0123456789");
    // SAFETY: every call fails before mapping anything.
    unsafe {
        let o = MmapOptions::new;
        assert_eq!(
            o().offset(u64::MAX).len(1).map(&file).unwrap_err(),
            Errno::EOVERFLOW
        );
        // On a 32-bit target 1 + usize::MAX fits a u64: then it is the
        // page-rounded length that does not fit a usize.
        let too_long = if cfg!(target_pointer_width = "64") {
            Errno::EOVERFLOW
        } else {
            Errno::ENOMEM
        };
        assert_eq!(
            o().offset(1).len(usize::MAX).map(&file).unwrap_err(),
            too_long
        );
        // offset + len fits, but the page-rounded length does not.
        let near = usize::MAX - page;
        assert_eq!(
            o().offset(page as u64 - 1)
                .len(near)
                .map(&file)
                .unwrap_err(),
            Errno::ENOMEM
        );
        // Without len: an offset past the end of the file.
        assert_eq!(o().offset(11).map(&file).unwrap_err(), Errno::EINVAL);
        assert_eq!(o().offset(u64::MAX).map(&file).unwrap_err(), Errno::EINVAL);
        // The offset may equal the size: an empty mapping.
        assert!(o().offset(10).map(&file).unwrap().is_empty());
    }
    assert_eq!(
        MmapOptions::new().len(usize::MAX).map_anon().unwrap_err(),
        Errno::ENOMEM
    );
    // Huge page sizes that cannot be: EINVAL before mmap.
    for bits in [0, 1, page.trailing_zeros() as u8, 64, 200] {
        let err = MmapOptions::new()
            .len(1)
            .huge(Some(bits))
            .map_anon()
            .unwrap_err();
        assert_eq!(err, Errno::EINVAL, "huge(Some({bits}))");
    }
}

#[test]
fn bad_descriptors_are_clear_errors() {
    let _g = shared();
    // SAFETY: every call fails before mapping anything.
    unsafe {
        assert_eq!(MmapOptions::new().map(-1).unwrap_err(), Errno::EBADF);
        // AT_FDCWD must not be taken for the current directory.
        assert_eq!(MmapOptions::new().map(-100).unwrap_err(), Errno::EBADF);
        assert_eq!(MmapOptions::new().len(1).map(-1).unwrap_err(), Errno::EBADF);
        let mut fds = [0; 2];
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        assert_eq!(MmapOptions::new().map(fds[0]).unwrap_err(), Errno::ENODEV);
        // QEMU with a page size of its own cuts file mappings at the size
        // fstat gives (0 for a pipe) before the host sees them: EINVAL.
        let want = if common::qemu_pagesize().is_some() {
            Errno::EINVAL
        } else {
            Errno::ENODEV
        };
        assert_eq!(MmapOptions::new().len(1).map(fds[0]).unwrap_err(), want);
        libc::close(fds[0]);
        libc::close(fds[1]);
        let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
        assert_eq!(MmapOptions::new().map(&dir).unwrap_err(), Errno::EISDIR);
        assert_eq!(
            MmapOptions::new().len(1).map(&dir).unwrap_err(),
            Errno::ENODEV
        );
    }
}

#[test]
fn huge_without_huge_pages_is_a_clear_error() {
    let _g = shared();
    let overcommit: usize = std::fs::read_to_string("/proc/sys/vm/nr_overcommit_hugepages")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (total, size) = (meminfo("HugePages_Total"), meminfo("Hugepagesize") * 1024);
    let bits = size.trailing_zeros() as u8;
    let default = MmapOptions::new().len(1).huge(None).map_anon();
    let sized = MmapOptions::new().len(1).huge(Some(bits)).map_anon();
    if common::under_qemu_user() {
        // QEMU's user mode (7.2) refuses MAP_HUGETLB for guest mappings
        // with EINVAL, whatever the host has.
        assert_eq!(default.unwrap_err(), Errno::EINVAL);
        assert_eq!(sized.unwrap_err(), Errno::EINVAL);
    } else if total == 0 && overcommit == 0 {
        assert_eq!(default.unwrap_err(), Errno::ENOMEM);
        assert_eq!(sized.unwrap_err(), Errno::ENOMEM);
    } else {
        for r in [default, sized] {
            let mut map = r.unwrap();
            assert_eq!(map.as_ptr() as usize % size, 0);
            map[0] = 1;
        }
    }
}

#[test]
fn populate_no_reserve_and_stack_pass_their_flags() {
    let _g = exclusive();
    let page = page_size();
    let len = 8 * page;
    let pages = len / page;
    let lazy = MmapOptions::new().len(len).map_anon().unwrap();
    let eager = MmapOptions::new().len(len).populate().map_anon().unwrap();
    let lazy_in = mincore_at(lazy.as_ptr() as usize, len).unwrap();
    let eager_in = mincore_at(eager.as_ptr() as usize, len).unwrap();
    assert!(lazy_in[..pages].iter().all(|&b| b & 1 == 0), "{lazy_in:?}");
    if common::under_qemu_user() {
        // QEMU's user mode (7.2) does not pass MAP_POPULATE on to the host:
        // the pages stay absent until touched.
        assert!(
            eager_in[..pages].iter().all(|&b| b & 1 == 0),
            "{eager_in:?}"
        );
    } else {
        assert!(
            eager_in[..pages].iter().all(|&b| b & 1 == 1),
            "{eager_in:?}"
        );
    }

    // A file: populate reads it in.
    let file = file_with(&seeded_pattern(len, 11));
    // SAFETY: the temporary file is private to this test.
    let fmap = unsafe { MmapOptions::new().populate().map(&file) }.unwrap();
    assert_eq!(&fmap[..], &seeded_pattern(len, 11)[..]);

    let nr = MmapOptions::new().len(len).no_reserve().map_anon().unwrap();
    let stack = MmapOptions::new().len(len).stack().map_anon().unwrap();
    assert_eq!((nr.len(), stack.len()), (len, len));
    if common::under_qemu_user() {
        // QEMU's emulated smaps has no VmFlags for these; the mappings work.
        assert!(nr.iter().chain(stack.iter()).all(|&b| b == 0));
    } else {
        // VM_NORESERVE shows as "nr"; MAP_STACK turns transparent huge pages
        // off for the mapping (VM_NOHUGEPAGE, "nh") since Linux 6.7.
        assert!(smaps_vmflags(nr.as_ptr() as usize).contains(&"nr".to_string()));
        assert!(!smaps_vmflags(lazy.as_ptr() as usize).contains(&"nr".to_string()));
        // Before 6.7 the kernel ignores MAP_STACK.
        let stack_is_nohugepage = common::kernel_version() >= (6, 7);
        assert_eq!(
            smaps_vmflags(stack.as_ptr() as usize).contains(&"nh".to_string()),
            stack_is_nohugepage,
            "kernel {:?}",
            common::kernel_version()
        );
        assert!(!smaps_vmflags(lazy.as_ptr() as usize).contains(&"nh".to_string()));
    }
}

#[test]
fn deref_as_ref_as_mut_and_debug() {
    let _g = shared();
    let mut map = MmapOptions::new().len(4).map_anon().unwrap();
    map.as_mut().copy_from_slice(b"abcd");
    assert_eq!(map.as_ref(), b"abcd");
    // SAFETY: the mapping is 4 writable bytes.
    unsafe { map.as_mut_ptr().add(3).write(b'!') };
    assert_eq!(&*map, b"abc!");
    let dbg = format!("{map:?}");
    assert!(
        dbg.starts_with("MmapMut { ptr: ") && dbg.ends_with("len: 4 }"),
        "{dbg}"
    );
    let ro = map.make_read_only().unwrap();
    assert_eq!(ro.as_ref(), b"abc!");
    assert!(format!("{ro:?}").starts_with("Mmap { ptr: "));
}

static_assertions::assert_impl_all!(Mmap: Send, Sync, AsRef<[u8]>, std::ops::Deref<Target = [u8]>);
static_assertions::assert_impl_all!(MmapMut: Send, Sync, AsMut<[u8]>, std::ops::DerefMut);
static_assertions::assert_impl_all!(MmapError<MmapMut>: std::error::Error, Into<Errno>, Into<std::io::Error>);

#[test]
fn touching_past_the_end_of_the_file_raises_sigbus() {
    let _g = exclusive();
    let page = page_size();
    // What the `# Safety` sections promise happens when their rules are
    // broken, shown in children made with `fork`.
    let file = file_with(&seeded_pattern(2 * page, 12));
    let fd = file.as_raw_fd();
    // SAFETY: the file is changed only in the child, which dies of it.
    let map = unsafe { MmapOptions::new().map(&file) }.unwrap();
    let addr = map.as_ptr() as usize;
    let truncated = in_child(|| {
        no_core_dumps();
        // SAFETY: truncates in this child only (the file is shared, but the
        // parent does not read past the first page after).
        unsafe {
            libc::ftruncate(fd, 1);
            core::ptr::read_volatile((addr + page) as *const u8);
        }
        0
    });
    assert_eq!(truncated, 128 + libc::SIGBUS);
    drop(map);

    // An explicit length past the end of a 1-byte file.
    let short = file_with(b"x");
    // SAFETY: the page past the end is touched only in the child.
    let map = unsafe { MmapOptions::new().len(2 * page).map(&short) }.unwrap();
    assert_eq!(map[0], b'x');
    assert_eq!(map[page - 1], 0, "the rest of the last page reads as zeros");
    let addr = map.as_ptr() as usize;
    let past = in_child(|| {
        no_core_dumps();
        // SAFETY: the child reads a page past the end of the file.
        unsafe { core::ptr::read_volatile((addr + page) as *const u8) };
        0
    });
    if common::qemu_pagesize().is_some() {
        // QEMU with a page size of its own maps the file only up to its end
        // rounded to host pages: past that, nothing is mapped at all.
        assert_eq!(past, 128 + libc::SIGSEGV);
    } else {
        assert_eq!(past, 128 + libc::SIGBUS);
    }
}

/// Without a length, a file whose size is no length is `EINVAL` (the `std`
/// layer words it): a character device of size 0 and a regular file of size
/// 0 on procfs. A regular empty file elsewhere is an empty mapping.
#[test]
fn sizes_that_are_no_length_are_einval_without_len() {
    let _g = shared();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let status = std::fs::File::open("/proc/self/status").unwrap();
    let opts = MmapOptions::new();
    // SAFETY: these files are not written under the mappings; failures map
    // nothing.
    unsafe {
        assert_eq!(opts.map(&zero).unwrap_err(), Errno::EINVAL);
        assert_eq!(opts.map_copy(&zero).unwrap_err(), Errno::EINVAL);
        assert_eq!(opts.map(&status).unwrap_err(), Errno::EINVAL);
        // len(0) does not look at the file at all.
        assert!(MmapOptions::new().len(0).map(&status).unwrap().is_empty());
        let copy = MmapOptions::new().len(100).map_copy(&zero);
        let err = MmapOptions::new().len(1).map(&status).unwrap_err();
        if qemu_with_larger_pages() {
            // QEMU's user mode with pages larger than the host's cuts a file
            // mapping at the file's size (for the partial page past its
            // end): with size 0 nothing is left, and its host mmap of 0
            // bytes is EINVAL.
            assert_eq!(copy.unwrap_err(), Errno::EINVAL);
            assert_eq!(err, Errno::EINVAL);
        } else {
            // With a length, /dev/zero maps: zeros, privately writable.
            let mut copy = copy.unwrap();
            assert!(copy.iter().all(|&b| b == 0));
            copy[99] = 1;
            // With a length, the kernel answers for procfs: no mmap.
            assert_eq!(err, Errno::ENODEV);
        }
    }
    let empty = file_with(b"");
    // SAFETY: the temporary file is private to this test.
    assert!(unsafe { opts.map(&empty) }.unwrap().is_empty());
}
