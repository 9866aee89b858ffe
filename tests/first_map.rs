//! A mapping made before rawmap knows the page size: the mapping path looks
//! it up itself, only when it has something to map, and the mapping and its
//! `Drop` still cover whole pages. Each check runs in a child forked before
//! this process calls rawmap at all, so the child's page size cache is
//! empty; nothing else in this binary calls rawmap in the parent.

mod common;

use common::fork::{describe, fork_child, wait};
use common::sysconf_page_size;
use rawmap::MmapOptions;

/// `msync(addr, len, MS_ASYNC)` through libc: `Err(errno)` on failure.
fn msync(addr: usize, len: usize) -> Result<(), i32> {
    // SAFETY: msync with MS_ASYNC changes no memory; an unmapped range is
    // answered with ENOMEM.
    match unsafe { libc::msync(addr as *mut libc::c_void, len, libc::MS_ASYNC) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)),
    }
}

/// In a fresh child: an empty mapping, then a mapping of one byte more than
/// a page, as the first things rawmap is asked for. The exit code names the
/// step that failed.
fn first_mappings(page: usize, unmapped: Result<(), i32>) -> i32 {
    // 1. Nothing to map: an empty mapping, whatever the page size.
    match MmapOptions::new().len(0).map_anon() {
        Ok(m) if m.is_empty() => {}
        _ => return 1,
    }
    // 2. The first real mapping looks the page size up and rounds to it:
    //    two pages, page-aligned, the byte past the first page writable.
    let Ok(mut m) = MmapOptions::new().len(page + 1).map_anon() else {
        return 2;
    };
    let base = m.as_ptr() as usize;
    if m.len() != page + 1 || !base.is_multiple_of(page) || m[page] != 0 {
        return 3;
    }
    m[page] = 7;
    if rawmap::page_size() != page {
        return 4;
    }
    // 3. Both pages are mapped; Drop unmaps both (msync of an unmapped
    //    range is ENOMEM, or `unmapped`: see the test).
    if msync(base, 2 * page).is_err() {
        return 5;
    }
    drop(m);
    if msync(base, page) != unmapped || msync(base + page, page) != unmapped {
        return 6;
    }
    0
}

#[test]
fn the_first_mapping_looks_the_page_size_up_and_unmaps_whole_pages() {
    let page = sysconf_page_size();
    // QEMU's user mode reserves a 32-bit guest's whole address space on the
    // host, so msync of a range the guest unmapped succeeds there (see
    // .ci/steps/cross.sh); a kernel, real32.sh's too, answers ENOMEM.
    let unmapped = if common::under_qemu_user() && cfg!(target_pointer_width = "32") {
        Ok(())
    } else {
        Err(libc::ENOMEM)
    };
    let status = wait(fork_child(move || first_mappings(page, unmapped)));
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "first mapping in a fresh process: {} (page size {page})",
        describe(status)
    );
}
