//! Differential errno suite: every generated argument combination for the
//! nine memory-management calls goes through rawmap's raw layer, through the
//! C library's function of the same name (glibc on the gnu target, musl on
//! the musl targets) and through `libc::syscall` (the kernel itself), with
//! identical arguments, each on a freshly reset arena of memory the test
//! owns. rawmap must answer exactly what the kernel answers; the C library
//! must answer the same, except where it checks arguments itself before the
//! system call: those combinations are listed in [`DIFFERENCES`] with the
//! reason, and the C library's answer there is asserted too.
//!
//! This binary holds a single test on purpose: while it runs nothing else in
//! the process maps memory, so the holes of the arena stay holes (some calls
//! with huge lengths walk every mapping up to the first hole).
//!
//! 64-bit targets only: its combinations use 64-bit addresses, lengths and offsets (1 << 63,
//! `isize::MAX + 1`) and the byte-offset `mmap` syscall; the 32-bit targets
//! check the `mmap2` path in tests/offset64.rs.
#![cfg(target_pointer_width = "64")]

mod common;

use std::ffi::CString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::AsRawFd;

use rawmap::{MapFlags, MremapFlags, MsyncFlags, Prot, c_void, page_size};

/// What a call returned: the address (or 0) or the errno.
type Res = Result<usize, i32>;

#[derive(Clone, Copy, Debug)]
enum Call {
    Mmap {
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
        fd: i32,
        off: u64,
    },
    Munmap {
        addr: usize,
        len: usize,
    },
    Msync {
        addr: usize,
        len: usize,
        flags: u32,
    },
    Mprotect {
        addr: usize,
        len: usize,
        prot: u32,
    },
    Madvise {
        addr: usize,
        len: usize,
        advice: i32,
    },
    Mremap {
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: u32,
        new_addr: usize,
    },
    Mlock {
        addr: usize,
        len: usize,
    },
    Munlock {
        addr: usize,
        len: usize,
    },
    Mincore {
        addr: usize,
        len: usize,
        null_vec: bool,
    },
}

impl Call {
    fn name(&self) -> &'static str {
        match self {
            Call::Mmap { .. } => "mmap",
            Call::Munmap { .. } => "munmap",
            Call::Msync { .. } => "msync",
            Call::Mprotect { .. } => "mprotect",
            Call::Madvise { .. } => "madvise",
            Call::Mremap { .. } => "mremap",
            Call::Mlock { .. } => "mlock",
            Call::Munlock { .. } => "munlock",
            Call::Mincore { .. } => "mincore",
        }
    }
}

struct Case {
    call: Call,
    /// The arguments by name (`A+1`, `2^63`, `SHARED|0x200000`, `fd=dir`).
    label: String,
    /// What a kernel answers, where it is certain from the man pages and
    /// the arena's layout: checked against rawmap's answer.
    known: Option<Res>,
}

/// The arena: memory the test reserved, laid out in pages of `p` bytes.
///
/// ```text
/// page  0      1..5    5     6..8          8..15    15
///       guard  A (rw)  hole  F (ro file)   guard    hole
/// ```
///
/// `A` is private anonymous read-write memory, `F` a shared read-only
/// mapping of a file opened read-only, the guards `PROT_NONE`. Every call
/// that changes mappings stays inside the arena, or fails before the kernel
/// touches anything.
struct Arena {
    p: usize,
    base: usize,
    ro_fd: i32,
    /// A descriptor number that is not open.
    closed_fd: i32,
}

const ARENA_PAGES: usize = 16;

impl Arena {
    fn a(&self) -> usize {
        self.base + self.p
    }
    fn hole(&self) -> usize {
        self.base + 5 * self.p
    }
    fn f(&self) -> usize {
        self.base + 6 * self.p
    }
    fn g(&self) -> usize {
        self.base + 8 * self.p
    }
    fn end(&self) -> usize {
        self.base + ARENA_PAGES * self.p
    }
    fn contains(&self, addr: usize, len: usize) -> bool {
        addr >= self.base && addr.checked_add(len).is_some_and(|e| e <= self.end())
    }
    fn overlaps(&self, addr: usize, len: usize) -> bool {
        addr < self.end() && addr.saturating_add(len.max(1)) > self.base
    }

    /// Puts the layout back: one FIXED mapping over the whole arena (which
    /// replaces whatever a call left there, locks and advice included), then
    /// `A`, `F` and the holes.
    fn reset(&self) {
        let p = self.p;
        let rw = Prot::READ | Prot::WRITE;
        let anon_fixed = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
        // SAFETY: the arena is memory this test reserved and nothing else
        // refers to; FIXED replaces only that.
        unsafe {
            let got = rawmap::mmap(
                self.base as *mut c_void,
                ARENA_PAGES * p,
                Prot::NONE,
                anon_fixed,
                -1,
                0,
            );
            assert_eq!(got, Ok(self.base as *mut c_void), "arena reset");
            let got = rawmap::mmap(self.a() as *mut c_void, 4 * p, rw, anon_fixed, -1, 0);
            assert_eq!(got, Ok(self.a() as *mut c_void), "arena reset A");
            rawmap::munmap(self.hole() as *mut c_void, p).expect("arena hole");
            let got = rawmap::mmap(
                self.f() as *mut c_void,
                2 * p,
                Prot::READ,
                MapFlags::SHARED | MapFlags::FIXED,
                self.ro_fd,
                0,
            );
            assert_eq!(got, Ok(self.f() as *mut c_void), "arena reset F");
            rawmap::munmap((self.end() - p) as *mut c_void, p).expect("arena end hole");
        }
    }
}

/// Room for `mincore` over the whole arena, one byte per 4 KiB (QEMU with
/// larger pages writes one byte per host page, see DESIGN.md).
const VEC_LEN: usize = ARENA_PAGES * 16 + 64;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn via_rawmap(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    // SAFETY: every call made by this suite stays inside the arena or fails
    // before the kernel changes anything (see `Arena`); `vec` has room for
    // every page a mincore call can report.
    unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => rawmap::mmap(
                addr as *mut c_void,
                len,
                Prot::from_bits_retain(prot),
                MapFlags::from_bits_retain(flags),
                fd,
                off,
            )
            .map(|p| p as usize),
            Call::Munmap { addr, len } => rawmap::munmap(addr as *mut c_void, len).map(|_| 0),
            Call::Msync { addr, len, flags } => rawmap::msync(
                addr as *mut c_void,
                len,
                MsyncFlags::from_bits_retain(flags),
            )
            .map(|_| 0),
            Call::Mprotect { addr, len, prot } => {
                rawmap::mprotect(addr as *mut c_void, len, Prot::from_bits_retain(prot)).map(|_| 0)
            }
            Call::Madvise { addr, len, advice } => {
                rawmap::madvise(addr as *mut c_void, len, advice).map(|_| 0)
            }
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => rawmap::mremap(
                addr as *mut c_void,
                old_len,
                new_len,
                MremapFlags::from_bits_retain(flags),
                new_addr as *mut c_void,
            )
            .map(|p| p as usize),
            Call::Mlock { addr, len } => rawmap::mlock(addr as *const c_void, len).map(|_| 0),
            Call::Munlock { addr, len } => rawmap::munlock(addr as *const c_void, len).map(|_| 0),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec {
                    std::ptr::null_mut()
                } else {
                    vec.as_mut_ptr()
                };
                rawmap::mincore(addr as *mut c_void, len, v).map(|_| 0)
            }
        }
        .map_err(|e| e.into_raw())
    }
}

fn via_libc(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    let unit = |r: libc::c_int| if r == 0 { Ok(0) } else { Err(errno()) };
    let ptr = |r: *mut libc::c_void| {
        if r == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(r as usize)
        }
    };
    // SAFETY: as in `via_rawmap`: the same arguments.
    unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => ptr(libc::mmap(
                addr as *mut _,
                len,
                prot as i32,
                flags as i32,
                fd,
                off as libc::off_t,
            )),
            Call::Munmap { addr, len } => unit(libc::munmap(addr as *mut _, len)),
            Call::Msync { addr, len, flags } => {
                unit(libc::msync(addr as *mut _, len, flags as i32))
            }
            Call::Mprotect { addr, len, prot } => {
                unit(libc::mprotect(addr as *mut _, len, prot as i32))
            }
            Call::Madvise { addr, len, advice } => unit(libc::madvise(addr as *mut _, len, advice)),
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => ptr(libc::mremap(
                addr as *mut _,
                old_len,
                new_len,
                flags as i32,
                new_addr as *mut libc::c_void,
            )),
            Call::Mlock { addr, len } => unit(libc::mlock(addr as *const _, len)),
            Call::Munlock { addr, len } => unit(libc::munlock(addr as *const _, len)),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec {
                    std::ptr::null_mut()
                } else {
                    vec.as_mut_ptr()
                };
                unit(libc::mincore(addr as *mut _, len, v))
            }
        }
    }
}

/// The kernel's own answer, through `libc::syscall` (no wrapper logic).
fn via_syscall(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    type L = libc::c_long;
    // SAFETY: as in `via_rawmap`: the same arguments.
    let r = unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => libc::syscall(
                libc::SYS_mmap,
                addr as L,
                len as L,
                prot as L,
                flags as L,
                fd as L,
                off as L,
            ),
            Call::Munmap { addr, len } => libc::syscall(libc::SYS_munmap, addr as L, len as L),
            Call::Msync { addr, len, flags } => {
                libc::syscall(libc::SYS_msync, addr as L, len as L, flags as L)
            }
            Call::Mprotect { addr, len, prot } => {
                libc::syscall(libc::SYS_mprotect, addr as L, len as L, prot as L)
            }
            Call::Madvise { addr, len, advice } => {
                libc::syscall(libc::SYS_madvise, addr as L, len as L, advice as L)
            }
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => libc::syscall(
                libc::SYS_mremap,
                addr as L,
                old_len as L,
                new_len as L,
                flags as L,
                new_addr as L,
            ),
            Call::Mlock { addr, len } => libc::syscall(libc::SYS_mlock, addr as L, len as L),
            Call::Munlock { addr, len } => libc::syscall(libc::SYS_munlock, addr as L, len as L),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec { 0 } else { vec.as_mut_ptr() as L };
                libc::syscall(libc::SYS_mincore, addr as L, len as L, v)
            }
        }
    };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

/// Which C library the `libc` oracle is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Libc {
    Glibc,
    Musl,
}

const LIBC: Libc = if cfg!(target_env = "musl") {
    Libc::Musl
} else {
    Libc::Glibc
};

/// The unit glibc and musl check an mmap offset against (their `mmap2`
/// unit on 32-bit targets), whatever the page size.
const LIBC_OFFSET_UNIT: u64 = 4096;

/// The page size of the x86_64 host QEMU's user mode runs on; guest pages
/// above it bring out QEMU's large-page quirks (DESIGN.md).
const QEMU_HOST_PAGE: usize = 4096;

/// An expected difference: where the C library (or QEMU's user mode) does
/// not simply pass the arguments to the kernel. `applies` picks the
/// combinations; `libc_expect` says what the C library answers there, given
/// the arena (to re-run the kernel with the arguments the wrapper really
/// passes).
struct Difference {
    id: &'static str,
    /// Where it holds: `Some(libc)` for a C library's own check, or QEMU.
    libc: Option<Libc>,
    qemu_only: bool,
    reason: &'static str,
    applies: fn(&Call, &Arena) -> bool,
}

/// The table of expected differences. Each entry is asserted on every
/// combination it applies to (see `expected_libc`); none is skipped.
const DIFFERENCES: &[Difference] = &[
    Difference {
        id: "mmap-offset-check",
        libc: None,
        qemu_only: false,
        reason: "glibc and musl refuse an offset that is not a multiple of 4096 with \
                 EINVAL before the syscall (a kernel checks the same thing first, so there \
                 the answers coincide; QEMU checks the length first)",
        applies: |c, _| matches!(*c, Call::Mmap { off, .. } if off % LIBC_OFFSET_UNIT != 0),
    },
    Difference {
        id: "musl-mmap-len",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mmap answers ENOMEM for len >= PTRDIFF_MAX before the syscall, \
                 where the kernel may first find EBADF, EINVAL, ...",
        applies: |c, _| matches!(*c, Call::Mmap { len, off, .. } if off % LIBC_OFFSET_UNIT == 0 && len >= isize::MAX as usize),
    },
    Difference {
        id: "musl-mremap-len",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mremap answers ENOMEM for new_len >= PTRDIFF_MAX before the \
                 syscall, where the kernel answers EINVAL (a length that rounds to 0), \
                 EFAULT, ...",
        applies: |c, _| matches!(*c, Call::Mremap { new_len, .. } if new_len >= isize::MAX as usize),
    },
    Difference {
        id: "musl-mremap-new-addr",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mremap reads new_addr only with MREMAP_FIXED and passes 0 otherwise; \
                 the kernel reads it as a hint with MREMAP_DONTUNMAP (and checks it for \
                 overlap): the answer is the kernel's with new_addr = 0",
        applies: |c, _| matches!(*c, Call::Mremap { flags, .. } if flags & 2 == 0),
    },
    Difference {
        id: "musl-mprotect-rounding",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mprotect rounds addr down and addr + len up to pages (wrapping) and \
                 passes that range, so an unaligned address is not EINVAL and a length \
                 that wraps shrinks; the answer is the kernel's for the rounded range",
        applies: |c, a| match *c {
            Call::Mprotect { addr, len, .. } => {
                addr % a.p != 0
                    || addr
                        .checked_add(len)
                        .and_then(|e| e.checked_add(a.p - 1))
                        .is_none()
            }
            _ => false,
        },
    },
    Difference {
        id: "qemu-shared-validate",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode answers EINVAL to every MAP_SHARED_VALIDATE, where a \
                 kernel maps or answers EOPNOTSUPP for an unknown flag: rawmap and the C \
                 library both give EINVAL",
        // (with pages above 4K, QEMU looks at the descriptor, at the offset
        // against the file's size and at an address hint first; qemu-riscv64
        // refuses a length beyond its guest address space with ENOMEM first)
        applies: |c, a| {
            matches!(*c, Call::Mmap { addr, len, flags, fd, off, .. }
                if flags & 3 == 3
                    && !(cfg!(target_arch = "riscv64") && len > isize::MAX as usize)
                    && (a.p == QEMU_HOST_PAGE || addr == 0)
                    && (flags & MapFlags::ANONYMOUS.bits() != 0
                        || (fd >= 0 && fd != a.closed_fd && off == 0)))
        },
    },
    Difference {
        id: "qemu-noreplace-hint",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode treats MAP_FIXED_NOREPLACE as a hint and maps elsewhere; \
                 rawmap verifies the address and answers EEXIST, the C library and the raw \
                 syscall return the other address",
        applies: |c, a| {
            matches!(*c, Call::Mmap { addr, len, flags, .. }
                if flags & MapFlags::FIXED_NOREPLACE.bits() != 0
                    && !(addr == a.hole() && len <= a.p))
        },
    },
    Difference {
        id: "qemu-large-page-hint",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode with pages above 4K fails mmap with an address hint \
                 erratically (ENOMEM); the answers that are not ENOMEM agree",
        applies: |c, a| {
            a.p > QEMU_HOST_PAGE
                && matches!(*c, Call::Mmap { addr, flags, .. }
                    if addr != 0 && flags & (MapFlags::FIXED | MapFlags::FIXED_NOREPLACE).bits() == 0)
        },
    },
];

/// musl's `mprotect(addr, len, prot)`: the range it passes to the kernel.
fn musl_mprotect_range(addr: usize, len: usize, p: usize) -> (usize, usize) {
    let start = addr & !(p - 1);
    let end = addr.wrapping_add(len).wrapping_add(p - 1) & !(p - 1);
    (start, end.wrapping_sub(start))
}

/// Known kernel answers that QEMU's user mode gets wrong (DESIGN.md),
/// asserted as QEMU's answer under QEMU.
fn qemu_known(c: &Call, known: Res) -> Res {
    match *c {
        // MAP_SHARED_VALIDATE with an unknown flag: QEMU answers EINVAL.
        Call::Mmap { flags, .. } if flags & 3 == 3 && known == Err(libc::EOPNOTSUPP) => {
            Err(libc::EINVAL)
        }
        _ => known,
    }
}

/// Combinations that make QEMU's user mode (7.2) fail one of its own
/// assertions and die, where a kernel answers EINVAL: a range whose end
/// wraps past the top of the address space reaches `page_set_flags` with
/// `start >= end`.
fn qemu_aborts(c: &Call, p: usize) -> bool {
    let wraps = |addr: usize, len: usize| {
        len != 0
            && len
                .checked_add(p - 1)
                .is_some_and(|l| addr.checked_add(l & !(p - 1)).is_none_or(|e| e == 0))
    };
    match *c {
        Call::Munmap { addr, len } => addr % p == 0 && wraps(addr, len),
        // (QEMU checks the protection bits first)
        Call::Mprotect { addr, len, prot } => prot & !7 == 0 && addr % p == 0 && wraps(addr, len),
        _ => false,
    }
}

/// Runs `f` in a forked child and returns its wait status; the child does
/// only what `f` does (raw calls, no allocation) and then `_exit(0)`.
fn in_child(f: impl FnOnce()) -> i32 {
    // SAFETY: the child runs `f`, which makes system calls only, then
    // leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // QEMU's dying words go nowhere.
        // SAFETY: open and dup2 are async-signal-safe; the path is static.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            libc::dup2(null, 2);
        }
        f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the child made above.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    status
}

/// Argument values with names, for labels.
#[derive(Clone, Copy)]
struct V(&'static str, usize);

fn fmt_len(len: usize, p: usize) -> String {
    match len {
        0 => "0".into(),
        usize::MAX => "usize::MAX".into(),
        l if l == 1 << 63 => "isize::MAX+1".into(),
        l if l % p == 0 => format!("{}P", l / p),
        l => format!("{l}"),
    }
}

struct Fds {
    rw: i32,
    ro: i32,
    wo: i32,
    dir: i32,
    closed: i32,
}

fn generate(a: &Arena, fds: &Fds) -> Vec<Case> {
    let p = a.p;
    let h63 = 1usize << 63;
    let top = usize::MAX & !(p - 1);
    let mut cases = Vec::new();
    let mut add =
        |call: Call, label: String, known: Option<Res>| cases.push(Case { call, label, known });

    // Addresses. `top` (the last page of the address space) is left to the
    // calls that do not unmap or reprotect: munmap/mprotect there abort
    // QEMU with pages above 4K (DESIGN.md); 2^63 is the huge address for
    // those.
    let addrs = [
        V("null", 0),
        V("A", a.a()),
        V("A+1", a.a() + 1),
        V("hole", a.hole()),
        V("F", a.f()),
        V("2^63", h63),
    ];
    let lens = [0, 1, p, 4 * p, 5 * p, h63, usize::MAX];

    // mmap, anonymous.
    let anon_flags = [
        (
            "PRIVATE|ANON",
            (MapFlags::PRIVATE | MapFlags::ANONYMOUS).bits(),
        ),
        (
            "SHARED|ANON",
            (MapFlags::SHARED | MapFlags::ANONYMOUS).bits(),
        ),
        ("ANON (no type)", MapFlags::ANONYMOUS.bits()),
        (
            "SHARED_VALIDATE|ANON|0x200000",
            (MapFlags::SHARED_VALIDATE | MapFlags::ANONYMOUS).bits() | 0x20_0000,
        ),
    ];
    let anon_prots = [("RW", 3u32), ("R|0x40", 0x41)];
    for addr in [
        V("null", 0),
        V("A", a.a()),
        V("A+1", a.a() + 1),
        V("hole", a.hole()),
        V("2^63", h63),
        V("top", top),
    ] {
        for len in [0, 1, p, h63, usize::MAX] {
            for (fname, flags) in anon_flags {
                for (pname, prot) in anon_prots {
                    let known = (len == 0).then_some(Err(libc::EINVAL));
                    add(
                        Call::Mmap {
                            addr: addr.1,
                            len,
                            prot,
                            flags,
                            fd: -1,
                            off: 0,
                        },
                        format!(
                            "mmap(addr={}, len={}, prot={pname}, {fname}, fd=-1, off=0)",
                            addr.0,
                            fmt_len(len, p)
                        ),
                        known,
                    );
                }
            }
        }
    }

    // mmap, files and bad descriptors.
    let fd_set = [
        ("fd=-1", -1),
        ("fd=closed", fds.closed),
        ("fd=dir", fds.dir),
        ("fd=wronly", fds.wo),
        ("fd=rdonly", fds.ro),
        ("fd=rdwr", fds.rw),
    ];
    let file_flags = [
        ("SHARED", MapFlags::SHARED.bits()),
        ("PRIVATE", MapFlags::PRIVATE.bits()),
        ("no type", 0),
        (
            "SHARED_VALIDATE|0x200000",
            MapFlags::SHARED_VALIDATE.bits() | 0x20_0000,
        ),
    ];
    let offsets = [
        ("0", 0u64),
        ("1", 1),
        ("P", p as u64),
        ("2^62", 1 << 62),
        ("2^63", 1 << 63),
        ("u64::MAX-P+1", !(p as u64 - 1)),
    ];
    for (fdn, fd) in fd_set {
        for (fln, flags) in file_flags {
            for (pn, prot) in [("R", 1u32), ("RW", 3)] {
                for (on, off) in offsets {
                    // What a kernel answers, for the simple cases.
                    let known = if off & (p as u64 - 1) != 0 {
                        Some(Err(libc::EINVAL))
                    } else if fd == -1 || fd == fds.closed {
                        Some(Err(libc::EBADF))
                    } else if off == 0 && flags == 0 {
                        Some(Err(libc::EINVAL))
                    } else if off == 0 && flags & 3 == 3 {
                        // SHARED_VALIDATE with an unknown flag is refused first
                        Some(Err(libc::EOPNOTSUPP))
                    } else if off == 0 && fd == fds.wo {
                        Some(Err(libc::EACCES))
                    } else if off == 0 && (fd == fds.ro || fd == fds.dir) && prot == 3 && flags == 1
                    {
                        // PROT_WRITE | SHARED needs a descriptor open for writing
                        Some(Err(libc::EACCES))
                    } else if off == 0 && fd == fds.dir {
                        Some(Err(libc::ENODEV))
                    } else {
                        None
                    };
                    add(
                        Call::Mmap {
                            addr: 0,
                            len: p,
                            prot,
                            flags,
                            fd,
                            off,
                        },
                        format!("mmap(null, len=P, prot={pn}, {fln}, {fdn}, off={on})"),
                        known,
                    );
                }
            }
        }
    }
    for (fdn, fd) in [("fd=-1", -1), ("fd=rdwr", fds.rw), ("fd=dir", fds.dir)] {
        for len in [0, h63, usize::MAX] {
            for (on, off) in [("0", 0u64), ("1", 1)] {
                add(
                    Call::Mmap {
                        addr: 0,
                        len,
                        prot: 1,
                        flags: MapFlags::SHARED.bits(),
                        fd,
                        off,
                    },
                    format!(
                        "mmap(null, len={}, R, SHARED, {fdn}, off={on})",
                        fmt_len(len, p)
                    ),
                    None,
                );
            }
        }
    }

    // mmap, FIXED and FIXED_NOREPLACE: only inside the arena.
    let fixed_flags = [
        (
            "FIXED|PRIVATE|ANON",
            (MapFlags::FIXED | MapFlags::PRIVATE | MapFlags::ANONYMOUS).bits(),
            -1,
        ),
        (
            "FIXED_NOREPLACE|PRIVATE|ANON",
            (MapFlags::FIXED_NOREPLACE | MapFlags::PRIVATE | MapFlags::ANONYMOUS).bits(),
            -1,
        ),
        (
            "FIXED|SHARED fd=rdwr",
            (MapFlags::FIXED | MapFlags::SHARED).bits(),
            fds.rw,
        ),
    ];
    for addr in [
        V("A", a.a()),
        V("A+1", a.a() + 1),
        V("hole", a.hole()),
        V("F", a.f()),
        V("G", a.g()),
    ] {
        for len in [p, 2 * p] {
            for (fln, flags, fd) in fixed_flags {
                let noreplace = flags & MapFlags::FIXED_NOREPLACE.bits() != 0;
                let known = if addr.1 % p != 0 {
                    Some(Err(libc::EINVAL))
                } else if noreplace && !(addr.1 == a.hole() && len == p) {
                    Some(Err(libc::EEXIST))
                } else {
                    Some(Ok(addr.1))
                };
                add(
                    Call::Mmap {
                        addr: addr.1,
                        len,
                        prot: 3,
                        flags,
                        fd,
                        off: 0,
                    },
                    format!(
                        "mmap(addr={}, len={}, RW, {fln}, off=0)",
                        addr.0,
                        fmt_len(len, p)
                    ),
                    known,
                );
            }
        }
    }

    // munmap: everything it can unmap lies inside the arena, at page 0 or
    // beyond the address space. An aarch64 kernel ignores the top byte of a
    // user address (TBI: 2^63 is address 0 with a tag); QEMU's user mode
    // does not.
    let tbi = cfg!(target_arch = "aarch64") && !common::under_qemu_user();
    for addr in addrs {
        for len in lens {
            let untagged = if tbi {
                addr.1 & ((1 << 56) - 1)
            } else {
                addr.1
            };
            let known = if untagged % p != 0 || len == 0 || len > 1 << 62 || untagged >= h63 {
                Some(Err(libc::EINVAL))
            } else {
                Some(Ok(0))
            };
            add(
                Call::Munmap { addr: addr.1, len },
                format!("munmap({}, {})", addr.0, fmt_len(len, p)),
                known,
            );
        }
    }

    // msync.
    let msync_flags = [
        ("0", 0u32),
        ("ASYNC", 1),
        ("SYNC", 4),
        ("INVALIDATE", 2),
        ("ASYNC|SYNC", 5),
        ("0x8", 8),
    ];
    for addr in addrs.iter().copied().chain([V("top", top)]) {
        for len in lens {
            for (fln, flags) in msync_flags {
                let known = if addr.1 % p != 0 || flags == 5 || flags == 8 {
                    Some(Err(libc::EINVAL))
                } else if len == 0 || len == usize::MAX {
                    // usize::MAX rounds up to 0 pages
                    Some(Ok(0))
                } else if addr.1 == a.hole() || (addr.1 == 0 && len <= 5 * p) {
                    Some(Err(libc::ENOMEM))
                } else {
                    None
                };
                add(
                    Call::Msync {
                        addr: addr.1,
                        len,
                        flags,
                    },
                    format!("msync({}, {}, {fln})", addr.0, fmt_len(len, p)),
                    known,
                );
            }
        }
    }

    // mprotect: a huge length from A stops at the hole after A; from F it
    // stops at the arena's end hole.
    let prots = [
        ("NONE", 0u32),
        ("R", 1),
        ("RW", 3),
        ("RWX", 7),
        ("R|0x40", 0x41),
        ("R|GROWSDOWN", 1 | Prot::GROWSDOWN.bits()),
    ];
    for addr in addrs {
        for len in lens {
            for (pn, prot) in prots {
                let known = if addr.1 % p != 0 {
                    Some(Err(libc::EINVAL))
                } else if len == 0 || (addr.1 == a.a() && len <= 4 * p && prot <= 7) {
                    Some(Ok(0))
                } else if addr.1 == a.f() && len <= 2 * p && prot & 2 != 0 && prot <= 7 {
                    // shared mapping of a read-only descriptor
                    Some(Err(libc::EACCES))
                } else {
                    None
                };
                add(
                    Call::Mprotect {
                        addr: addr.1,
                        len,
                        prot,
                    },
                    format!("mprotect({}, {}, {pn})", addr.0, fmt_len(len, p)),
                    known,
                );
            }
        }
    }

    // madvise: advice that drops contents only within the arena; a huge
    // length (which walks every mapping above the address) only with
    // harmless or unknown advice.
    let advices = [
        ("NORMAL", 0),
        ("WILLNEED", 3),
        ("DONTNEED", 4),
        ("FREE", 8),
        ("REMOVE", 9),
        ("DONTFORK", 10),
        ("999", 999),
        ("-1", -1),
    ];
    for addr in addrs {
        for len in [0, 1, p, 4 * p, 5 * p, usize::MAX] {
            for (an, advice) in advices {
                let known = if addr.1 % p != 0 || advice == 999 || advice == -1 {
                    Some(Err(libc::EINVAL))
                } else {
                    None
                };
                add(
                    Call::Madvise {
                        addr: addr.1,
                        len,
                        advice,
                    },
                    format!("madvise({}, {}, {an})", addr.0, fmt_len(len, p)),
                    known,
                );
            }
        }
    }
    for addr in [V("A", a.a()), V("2^63", h63), V("top", top)] {
        for (an, advice) in [("NORMAL", 0), ("999", 999)] {
            add(
                Call::Madvise {
                    addr: addr.1,
                    len: h63,
                    advice,
                },
                format!("madvise({}, isize::MAX+1, {an})", addr.0),
                (advice == 999).then_some(Err(libc::EINVAL)),
            );
        }
    }

    // mremap: moves land outside the arena (unmapped afterwards) or, with
    // FIXED, at G inside it.
    let mremap_flags = [
        ("0", 0u32),
        ("MAYMOVE", 1),
        ("FIXED", 2),
        ("MAYMOVE|FIXED", 3),
        ("MAYMOVE|DONTUNMAP", 5),
        ("0x10", 0x10),
    ];
    for addr in [
        V("A", a.a()),
        V("A+1", a.a() + 1),
        V("hole", a.hole()),
        V("F", a.f()),
        V("null", 0),
    ] {
        for old_len in [0, p, 4 * p, h63] {
            for new_len in [0, p, 4 * p, 8 * p, h63, usize::MAX] {
                for (fln, flags) in mremap_flags {
                    let known = if flags == 0x10 || flags == 2 || addr.1 % p != 0 {
                        Some(Err(libc::EINVAL))
                    } else if addr.1 == a.a() && old_len == 4 * p && new_len == 8 * p && flags == 0
                    {
                        // growing in place into taken space without MAYMOVE
                        Some(Err(libc::ENOMEM))
                    } else {
                        None
                    };
                    add(
                        Call::Mremap {
                            addr: addr.1,
                            old_len,
                            new_len,
                            flags,
                            new_addr: a.g(),
                        },
                        format!(
                            "mremap({}, {}, {}, {fln}, G)",
                            addr.0,
                            fmt_len(old_len, p),
                            fmt_len(new_len, p)
                        ),
                        known,
                    );
                }
            }
        }
    }

    // mlock, munlock, mincore.
    for addr in addrs.iter().copied().chain([V("top", top)]) {
        for len in lens {
            add(
                Call::Mlock { addr: addr.1, len },
                format!("mlock({}, {})", addr.0, fmt_len(len, p)),
                (addr.1 == a.hole() && len > 0 && len < h63).then_some(Err(libc::ENOMEM)),
            );
            add(
                Call::Munlock { addr: addr.1, len },
                format!("munlock({}, {})", addr.0, fmt_len(len, p)),
                (addr.1 == a.hole() && len > 0 && len < h63).then_some(Err(libc::ENOMEM)),
            );
            for null_vec in [false, true] {
                let known = if addr.1 % p != 0 {
                    Some(Err(libc::EINVAL))
                } else if addr.1 == a.hole() && len > 0 && len < h63 && !null_vec {
                    Some(Err(libc::ENOMEM))
                } else {
                    None
                };
                add(
                    Call::Mincore {
                        addr: addr.1,
                        len,
                        null_vec,
                    },
                    format!(
                        "mincore({}, {}, vec={})",
                        addr.0,
                        fmt_len(len, p),
                        if null_vec { "null" } else { "ok" }
                    ),
                    known,
                );
            }
        }
    }
    cases
}

/// The length a successful call mapped at its result.
fn mapped_len(c: &Call, p: usize) -> usize {
    let len = match *c {
        Call::Mmap { len, .. } => len,
        Call::Mremap { new_len, .. } => new_len,
        _ => 0,
    };
    len.div_ceil(p) * p
}

/// Unmaps what a successful mmap/mremap made outside the arena (inside it,
/// the next reset replaces it: a result that starts inside the arena stays
/// inside, since the holes and guards stop any growth in place; kernels
/// before 6.x answer an mremap to the same length, even a huge one, with
/// the old address at once).
fn release(a: &Arena, c: &Call, r: Res) {
    let Ok(addr) = r else { return };
    let len = mapped_len(c, a.p);
    if len == 0 || a.contains(addr, 1) {
        return;
    }
    assert!(
        !a.overlaps(addr, len),
        "{c:?} mapped {addr:#x}+{len:#x} across the arena's edge"
    );
    // SAFETY: the call just made this mapping outside the arena; nothing
    // refers to it.
    unsafe { rawmap::munmap(addr as *mut c_void, len) }.expect("unmapping a result");
}

/// Compares two results: for calls that return an address, success is
/// compared (placement may differ between two calls), except for FIXED
/// mappings whose address is part of the answer.
fn same(c: &Call, x: Res, y: Res) -> bool {
    match (x, y) {
        (Ok(a), Ok(b)) => match *c {
            Call::Mmap { flags, .. }
                if flags & (MapFlags::FIXED | MapFlags::FIXED_NOREPLACE).bits() != 0 =>
            {
                a == b
            }
            _ => true,
        },
        _ => x == y,
    }
}

#[test]
fn rawmap_and_libc_agree_on_every_errno() {
    let p = page_size();
    let qemu = common::under_qemu_user();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    std::fs::write(&path, vec![0x5a; 2 * p]).unwrap();
    let open = |flags: i32, path: &std::path::Path| {
        let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
        assert!(
            fd >= 0,
            "open {path:?}: {}",
            std::io::Error::last_os_error()
        );
        fd
    };
    let closed = {
        let f = std::fs::File::open(&path).unwrap();
        // SAFETY: F_DUPFD on an open descriptor; the copy is closed at once,
        // and descriptors are allocated lowest first, so 700 stays free.
        let fd = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 700) };
        assert!(fd >= 700);
        // SAFETY: `fd` is the copy made above, owned by nothing else.
        assert_eq!(unsafe { libc::close(fd) }, 0);
        fd
    };
    let fds = Fds {
        rw: open(libc::O_RDWR, &path),
        ro: open(libc::O_RDONLY, &path),
        wo: open(libc::O_WRONLY, &path),
        dir: open(libc::O_RDONLY | libc::O_DIRECTORY, dir.path()),
        closed,
    };

    // SAFETY: a new mapping that replaces nothing.
    let base = unsafe {
        rawmap::mmap(
            std::ptr::null_mut(),
            ARENA_PAGES * p,
            Prot::NONE,
            MapFlags::PRIVATE | MapFlags::ANONYMOUS,
            -1,
            0,
        )
    }
    .expect("reserving the arena") as usize;
    let arena = Arena {
        p,
        base,
        ro_fd: fds.ro,
        closed_fd: fds.closed,
    };
    let cases = generate(&arena, &fds);

    let mut vec = Box::new([0u8; VEC_LEN]);
    let mut failures = String::new();
    let mut per_call: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut hits = vec![(0usize, 0usize); DIFFERENCES.len()];
    let mut known_checked = 0;
    let mut qemu_abort_count = 0;
    let mut qemu_deviations: std::collections::BTreeMap<&str, usize> = Default::default();
    // RAWMAP_TRACE=1 names each combination before it runs (to find the
    // one that takes an emulator down).
    let trace = std::env::var_os("RAWMAP_TRACE").is_some();
    for case in &cases {
        let c = &case.call;
        if trace {
            let _ = writeln!(std::io::stderr(), "{}", case.label);
        }
        *per_call.entry(c.name()).or_default() += 1;

        if qemu && qemu_aborts(c, p) {
            // QEMU cannot survive this one: each way of calling it runs in
            // a child of its own, whose death is the asserted answer.
            for (way, f) in [
                ("rawmap", via_rawmap as fn(&Call, &mut [u8; VEC_LEN]) -> Res),
                ("syscall", via_syscall),
                ("libc", via_libc),
            ] {
                let status = in_child(|| {
                    arena.reset();
                    let _ = f(c, &mut vec);
                });
                if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                    let _ = writeln!(failures, "{}: {way} survived under QEMU", case.label);
                }
            }
            qemu_abort_count += 1;
            continue;
        }
        arena.reset();
        vec.fill(0);
        let raw = via_rawmap(c, &mut vec);
        release(&arena, c, raw);
        arena.reset();
        vec.fill(0);
        let sys = via_syscall(c, &mut vec);
        release(&arena, c, sys);
        arena.reset();
        vec.fill(0);
        let lib = via_libc(c, &mut vec);
        release(&arena, c, lib);

        // The expected difference that applies, if any (first match wins).
        let diff = DIFFERENCES.iter().position(|d| {
            (d.libc.is_none() || d.libc == Some(LIBC))
                && (!d.qemu_only || qemu)
                && (d.applies)(c, &arena)
        });
        let mut fail = |what: String| {
            let _ = writeln!(failures, "{}: {what}", case.label);
        };

        // rawmap is the kernel, except for its verified FIXED_NOREPLACE.
        let diff_id = diff.map(|i| DIFFERENCES[i].id);
        if diff_id == Some("qemu-large-page-hint") {
            let answers = [raw, sys, lib];
            let mut rest = answers.iter().filter(|r| **r != Err(libc::ENOMEM));
            if let Some(first) = rest.next()
                && !rest.all(|r| same(c, *r, *first))
            {
                fail(format!(
                    "QEMU hint: rawmap {raw:?}, syscall {sys:?}, libc {lib:?}"
                ));
            }
        } else if diff_id == Some("qemu-noreplace-hint") {
            // rawmap gives the kernel's answer (checked as `known` below);
            // QEMU itself mapped elsewhere.
            let Call::Mmap { addr, .. } = *c else {
                unreachable!()
            };
            // (with pages above 4K the hint may also fail with ENOMEM)
            for (way, r) in [("syscall", sys), ("libc", lib)] {
                if !(matches!(r, Ok(x) if x != addr) || r == Err(libc::ENOMEM)) {
                    fail(format!(
                        "QEMU NOREPLACE: {way} {r:?}, expected another address"
                    ));
                }
            }
        } else if !same(c, raw, sys) {
            fail(format!("rawmap {raw:?} but the kernel {sys:?}"));
        }

        if let Some(known) = case.known {
            known_checked += 1;
            let documented = qemu_known(c, known);
            if !qemu || documented != known {
                // A kernel's answer, or QEMU's documented one.
                let want = if qemu { documented } else { known };
                if !same(c, raw, want) {
                    fail(format!("rawmap {raw:?}, expected {want:?}"));
                }
            } else if !same(c, raw, known) {
                // QEMU answers otherwise than a kernel here (rawmap still
                // gives QEMU's answer, checked above against the syscall).
                *qemu_deviations.entry(c.name()).or_default() += 1;
                if trace {
                    let _ = writeln!(std::io::stderr(), "  QEMU: {raw:?}, a kernel: {known:?}");
                }
            }
        }

        match diff {
            None => {
                if !same(c, raw, lib) {
                    fail(format!("rawmap {raw:?} but libc {lib:?}"));
                }
            }
            Some(i) => {
                let d = &DIFFERENCES[i];
                let want = match d.id {
                    "mmap-offset-check" => Err(libc::EINVAL),
                    "musl-mmap-len" | "musl-mremap-len" => Err(libc::ENOMEM),
                    "musl-mremap-new-addr" => {
                        let Call::Mremap {
                            addr,
                            old_len,
                            new_len,
                            flags,
                            ..
                        } = *c
                        else {
                            unreachable!()
                        };
                        let zero = Call::Mremap {
                            addr,
                            old_len,
                            new_len,
                            flags,
                            new_addr: 0,
                        };
                        arena.reset();
                        let r = via_rawmap(&zero, &mut vec);
                        release(&arena, &zero, r);
                        r
                    }
                    "musl-mprotect-rounding" => {
                        let Call::Mprotect { addr, len, prot } = *c else {
                            unreachable!()
                        };
                        let (s, l) = musl_mprotect_range(addr, len, p);
                        arena.reset();
                        via_rawmap(
                            &Call::Mprotect {
                                addr: s,
                                len: l,
                                prot,
                            },
                            &mut vec,
                        )
                    }
                    // The C library passes the hint on: success elsewhere
                    // (`same` compares success only for non-FIXED calls).
                    "qemu-shared-validate" => {
                        if raw != Err(libc::EINVAL) {
                            fail(format!("[qemu-shared-validate] rawmap {raw:?}"));
                        }
                        Err(libc::EINVAL)
                    }
                    // Checked above.
                    "qemu-noreplace-hint" | "qemu-large-page-hint" => lib,
                    other => unreachable!("{other}"),
                };
                if !same(c, lib, want) {
                    fail(format!("[{}] libc {lib:?}, expected {want:?}", d.id));
                }
                hits[i].0 += 1;
                if !same(c, raw, lib) {
                    hits[i].1 += 1;
                }
            }
        }
    }
    arena.reset();
    // SAFETY: the arena is this test's, and no longer used.
    unsafe { rawmap::munmap(base as *mut c_void, ARENA_PAGES * p) }.unwrap();
    for fd in [fds.rw, fds.ro, fds.wo, fds.dir] {
        // SAFETY: descriptors opened above, owned by nothing else.
        unsafe { libc::close(fd) };
    }

    let mut out = format!(
        "errno_diff [{}, {:?}, page size {p}]: {} combinations checked ({} against known kernel answers)\n",
        common::environment(),
        LIBC,
        cases.len(),
        known_checked
    );
    if qemu {
        let _ = writeln!(
            out,
            "  of which {qemu_abort_count} take QEMU down (asserted in forked children): \
             a munmap or mprotect range that wraps past the top of the address space"
        );
    }
    if qemu {
        let _ = writeln!(
            out,
            "  QEMU answers otherwise than a kernel on {} of the known answers \
             (rawmap and libc both give QEMU's answer; RAWMAP_TRACE=1 lists them): {:?}",
            qemu_deviations.values().sum::<usize>(),
            qemu_deviations
        );
    }
    for (name, n) in &per_call {
        let _ = writeln!(out, "  {name:9} {n}");
    }
    let _ = writeln!(
        out,
        "  expected differences (combinations / of which differ):"
    );
    for (d, (n, differ)) in DIFFERENCES.iter().zip(&hits) {
        let active = (d.libc.is_none() || d.libc == Some(LIBC))
            && (!d.qemu_only || qemu)
            && (d.id != "qemu-large-page-hint" || p > QEMU_HOST_PAGE);
        if active {
            let _ = writeln!(out, "    {:24} {n:4} / {differ:4}  {}", d.id, d.reason);
        }
    }
    let _ = std::io::stderr().write_all(out.as_bytes());

    assert!(failures.is_empty(), "mismatches:\n{failures}");
    assert!(cases.len() >= 300);
    // Every difference that applies here was met, and each one that must
    // differ did.
    for (d, (n, differ)) in DIFFERENCES.iter().zip(&hits) {
        let active = (d.libc.is_none() || d.libc == Some(LIBC))
            && (!d.qemu_only || qemu)
            && (d.id != "qemu-large-page-hint" || p > QEMU_HOST_PAGE);
        if active {
            assert!(*n > 0, "difference {} never exercised", d.id);
            // (under QEMU, the kernel's use of the hint that shows musl's
            // new_addr difference does not happen; QEMU's defects are
            // erratic)
            let may_not_show = qemu && (d.id == "musl-mremap-new-addr" || d.qemu_only);
            if d.id != "mmap-offset-check" && !may_not_show {
                assert!(*differ > 0, "difference {} never showed", d.id);
            }
        }
    }
}
