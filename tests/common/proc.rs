//! Readers of `/proc` files.
//!
//! The first ones allocate and are for the test's own thread; those under
//! "Without allocating" read with raw calls into the caller's buffers, for
//! forked children.
//!
//! QEMU's user mode emulates `/proc/self/maps` (which can briefly miss a
//! live mapping while other threads map and unmap, DESIGN.md) but passes
//! `/proc/self/status` and `/proc/self/smaps` through from its own host
//! process.

use std::ffi::CStr;
use std::sync::OnceLock;

/// The page size of the machine that really runs the code: the kernel's
/// `KernelPageSize` of the first mapping in `/proc/self/smaps`. QEMU 7.2's
/// user mode does not emulate that file, so under QEMU this is the host's
/// page size, which can be smaller than the page size QEMU emulates.
pub fn host_page_size() -> usize {
    static CACHE: OnceLock<usize> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
        let kb: usize = smaps
            .lines()
            .find_map(|l| l.strip_prefix("KernelPageSize:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|n| n.trim().parse().ok())
            .expect("a KernelPageSize line");
        kb * 1024
    })
}

/// A `kB` figure of `/proc/self/status`, e.g. `status_kb("VmLck")`. Under
/// QEMU this is the QEMU process's (which locks the host pages behind the
/// guest's).
pub fn status_kb(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("a {field} line in /proc/self/status"))
}

/// A figure of `/proc/meminfo` (`kB` for the sizes, a count for the huge
/// page numbers), e.g. `meminfo("HugePages_Total")`.
pub fn meminfo(field: &str) -> usize {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = meminfo
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
        .unwrap_or_else(|| panic!("a {field} line in /proc/meminfo"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The lines of `/proc/self/maps` as (start, end, the four permission
/// letters).
fn maps_lines(maps: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    maps.lines().filter_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let perms = fields.next()?;
        Some((
            usize::from_str_radix(start, 16).ok()?,
            usize::from_str_radix(end, 16).ok()?,
            perms,
        ))
    })
}

/// The `/proc/self/maps` entries that contain each of `addrs`: (start, end,
/// permissions), read up to `tries` times until all are found (QEMU's view
/// can briefly miss a mapping while another thread maps).
pub fn maps_entries<const N: usize>(
    addrs: [usize; N],
    tries: usize,
) -> [Option<(usize, usize, String)>; N] {
    let mut found: [Option<(usize, usize, String)>; N] = [const { None }; N];
    for _ in 0..tries {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            break;
        };
        for (start, end, perms) in maps_lines(&maps) {
            for (addr, slot) in addrs.iter().zip(found.iter_mut()) {
                if (start..end).contains(addr) {
                    *slot = Some((start, end, perms.to_string()));
                }
            }
        }
        if found.iter().all(Option::is_some) {
            break;
        }
        std::thread::yield_now();
    }
    found
}

/// The `/proc/self/maps` entry that contains `addr`: (start, end, perms).
pub fn maps_entry(addr: usize) -> Option<(usize, usize, String)> {
    let [entry] = maps_entries([addr], 50);
    entry
}

/// The permission letters of the mappings that hold `addrs`.
pub fn perms_at<const N: usize>(addrs: [usize; N]) -> [Option<String>; N] {
    maps_entries(addrs, 20).map(|e| e.map(|(_, _, perms)| perms))
}

/// The `VmFlags:` of the `/proc/self/smaps` entry containing `addr`.
pub fn smaps_vmflags(addr: usize) -> Vec<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            inside = (a..b).contains(&addr);
            continue;
        }
        if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return flags.split_whitespace().map(str::to_string).collect();
        }
    }
    panic!("{addr:#x} not in /proc/self/smaps");
}

// ---------------------------------------------------------------------------
// Without allocating

/// Reads the file at `path` with raw calls in chunks, giving each chunk to
/// `f`; `false` if it cannot be opened or read.
pub fn read_chunks(path: &CStr, mut f: impl FnMut(&[u8])) -> bool {
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let mut buf = [0u8; 4096];
    let ok = loop {
        // SAFETY: reads at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            break false;
        }
        if n == 0 {
            break true;
        }
        f(&buf[..n as usize]);
    };
    super::fork::close(fd);
    ok
}

/// Reads the file at `path` into `buf`; the number of bytes read, or `None`
/// if the file cannot be read or does not fit.
pub fn read_into(path: &CStr, buf: &mut [u8]) -> Option<usize> {
    let mut filled = 0;
    let mut fits = true;
    let ok = read_chunks(path, |chunk| {
        let n = chunk.len().min(buf.len() - filled);
        buf[filled..filled + n].copy_from_slice(&chunk[..n]);
        filled += n;
        fits &= n == chunk.len();
    });
    (ok && fits && filled < buf.len()).then_some(filled)
}

/// Calls `f(start, end)` for each line of `/proc/self/maps`, read without
/// allocating (for a forked child); `false` if the file cannot be read.
fn each_maps_range(mut f: impl FnMut(usize, usize)) -> bool {
    // A line starts `start-end ` in hex; the parser keeps its state across
    // chunks.
    let (mut field, mut start, mut end) = (0u8, 0usize, 0usize);
    let hex = |c: u8| (c as char).to_digit(16).map_or(0, |d| d as usize);
    read_chunks(c"/proc/self/maps", |b| {
        for &c in b {
            match (field, c) {
                (_, b'\n') => {
                    f(start, end);
                    (field, start, end) = (0, 0, 0);
                }
                (0, b'-') => field = 1,
                (1, b' ') => field = 2,
                (0, _) => start = start << 4 | hex(c),
                (1, _) => end = end << 4 | hex(c),
                _ => {}
            }
        }
    })
}

/// `/proc/self/maps`: the number of mappings and the bytes they span
/// (`u64::MAX` for both if it cannot be read).
pub fn mappings() -> [u64; 2] {
    let (mut lines, mut bytes) = (0u64, 0u64);
    let ok = each_maps_range(|start, end| {
        lines += 1;
        bytes += end.wrapping_sub(start) as u64;
    });
    if ok { [lines, bytes] } else { [u64::MAX; 2] }
}

/// The `/proc/self/maps` entry that holds `addr`, as `(start, end)`, read
/// without allocating (for a forked child); `None` if no entry holds it or
/// the file cannot be read.
pub fn maps_range_of(addr: usize) -> Option<(usize, usize)> {
    let mut found = None;
    let ok = each_maps_range(|start, end| {
        if (start..end).contains(&addr) {
            found = Some((start, end));
        }
    });
    if ok { found } else { None }
}

/// `VmSize:` of `/proc/self/status`, in kB (`u64::MAX` if it is missing).
pub fn vm_size_kb() -> u64 {
    let mut buf = [0u8; 8192];
    let mut len = 0;
    read_chunks(c"/proc/self/status", |b| {
        let n = b.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&b[..n]);
        len += n;
    });
    let text = &buf[..len];
    let key = b"VmSize:";
    let Some(at) = text.windows(key.len()).position(|w| w == key) else {
        return u64::MAX;
    };
    text[at + key.len()..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
}

/// Open descriptors: the entries of `/proc/self/fd`, less the one used to
/// read it (`u64::MAX` if it cannot be read).
pub fn fd_count() -> u64 {
    // SAFETY: a NUL-terminated path.
    let dir = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return u64::MAX;
    }
    let mut buf = [0u64; 1024];
    let mut count = 0;
    loop {
        // SAFETY: getdents64 writes at most the buffer's size into it.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir,
                buf.as_mut_ptr(),
                std::mem::size_of_val(&buf),
            )
        };
        if n <= 0 {
            break;
        }
        // SAFETY: the kernel filled `n` bytes of `buf` with records.
        let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n as usize) };
        let mut at = 0;
        while at + 19 < bytes.len() {
            // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name
            let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            let name = &bytes[at + 19..at + reclen];
            if name[0] != b'.' {
                count += 1;
            }
            at += reclen;
        }
    }
    super::fork::close(dir);
    count - 1
}
