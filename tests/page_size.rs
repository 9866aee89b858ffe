//! `page_size()` against independent sources: libc's `sysconf`, the C
//! library's copy of the aux vector, `QEMU_PAGESIZE` under QEMU, and the
//! kernel the real-kernel runner booted (`RAWMAP_KERNEL`).
//! (`set_page_size` changes a process-wide value, so it is tested in its own
//! binary, `tests/set_page_size.rs`.)

mod common;

use common::proc::host_page_size;
use common::sysconf_page_size;
use rawmap::page_size;

#[test]
fn page_size_is_the_kernels() {
    let page = page_size();
    // musl's and glibc's sysconf read AT_PAGESZ, which the kernel (or QEMU)
    // sets: an oracle independent of rawmap's lookup chain.
    assert_eq!(page, sysconf_page_size());
    if let Some(size) = common::qemu_pagesize() {
        assert_eq!(page, size, "QEMU_PAGESIZE");
    }
    // The runner names the kernel it booted; its page size is known.
    match std::env::var("RAWMAP_KERNEL").as_deref() {
        // The flavours of each kernel release share the page size:
        // aarch64-16k and aarch64-16k-7.3, and so on.
        Ok("aarch64-16k" | "aarch64-16k-7.3") => assert_eq!(page, 16 * 1024),
        Ok("aarch64-4k" | "aarch64-4k-7.3" | "x86_64" | "x86_64-7.3") => assert_eq!(page, 4096),
        Ok(other) => panic!("unknown RAWMAP_KERNEL {other:?}"),
        Err(_) => assert!(
            !common::under_real_kernel_runner(),
            "the runner sets RAWMAP_KERNEL"
        ),
    }
    eprintln!("environment: {}, page size {page}", common::environment());
}

#[test]
fn equals_getauxval() {
    // SAFETY: getauxval has no preconditions.
    let aux = unsafe { libc::getauxval(libc::AT_PAGESZ) };
    assert_eq!(page_size(), usize::try_from(aux).unwrap());
}

#[test]
fn equals_qemu_pagesize_under_qemu_and_the_kernels_elsewhere() {
    match common::qemu_pagesize() {
        // QEMU puts the page size it was told into AT_PAGESZ.
        Some(qemu) => assert_eq!(page_size(), qemu, "{}", common::environment()),
        // No QEMU_PAGESIZE: QEMU emulates the host's page size (4 KiB for
        // aarch64 on an x86_64 host); on a kernel, it is the kernel's. Both
        // are the KernelPageSize the host kernel shows in smaps.
        None => assert_eq!(page_size(), host_page_size(), "{}", common::environment()),
    }
}

#[test]
fn is_a_power_of_two_and_stable() {
    let first = page_size();
    assert!(first.is_power_of_two(), "{first}");
    // Linux pages are 4 KiB at least, on every architecture rawmap supports.
    assert!(first >= 1 << 12, "{first}");
    let others: Vec<usize> = (0..8)
        .map(|_| std::thread::spawn(page_size))
        .map(|t| t.join().unwrap())
        .collect();
    assert!(others.iter().all(|&p| p == first), "{others:?}");
}

#[test]
fn kernel_agrees_on_alignment() {
    // Mapping a file at an offset of one page works and shows the bytes
    // from there; half a page is refused by a kernel. QEMU's user mode with
    // QEMU_PAGESIZE above the host's page size checks file offsets against
    // the host's page only (DESIGN.md: it "still accepts 4K-aligned
    // requests"), so there half a page is accepted.
    let page = page_size();
    let bytes: Vec<u8> = (0..2 * page).map(|i| (i / 512) as u8).collect();
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let map = |offset: usize| {
        // SAFETY: a new private read-only mapping replaces nothing.
        unsafe {
            rawmap::mmap(
                std::ptr::null_mut(),
                page,
                rawmap::Prot::READ,
                rawmap::MapFlags::PRIVATE,
                fd,
                offset as u64,
            )
        }
    };
    let p = map(page).unwrap();
    assert_eq!(p as usize % page, 0);
    // SAFETY: one page is mapped readable; nobody writes the file.
    let seen = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), page) };
    assert_eq!(seen, &bytes[page..]);
    // SAFETY: the mapping made above, no longer used.
    unsafe { rawmap::munmap(p, page) }.unwrap();

    let half = map(page / 2);
    let host = host_page_size();
    if common::under_qemu_user() && (page / 2).is_multiple_of(host) {
        let q = half.expect("QEMU accepts a host-aligned offset");
        // SAFETY: the mapping just made, no longer used.
        unsafe { rawmap::munmap(q, page) }.unwrap();
    } else {
        assert_eq!(
            half,
            Err(rawmap::Errno::EINVAL),
            "{}",
            common::environment()
        );
    }
    if !common::under_qemu_user() {
        assert_eq!(host, page);
    }
}
