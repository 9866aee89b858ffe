//! The argument combinations, one generator per call family, each with
//! the kernel's answer where the man pages and the arena's layout make it
//! certain.

use rawmap::{MapFlags, Prot};

use crate::arena::Arena;
use crate::calls::{Call, Res};

pub struct Case {
    pub call: Call,
    /// The arguments by name (`A+1`, `2^63`, `SHARED|0x200000`, `fd=dir`).
    pub label: String,
    /// What a kernel answers, where it is certain from the man pages and
    /// the arena's layout: checked against rawmap's answer.
    pub known: Option<Res>,
}

/// The descriptors the file cases use.
pub struct Fds {
    pub rw: i32,
    pub ro: i32,
    pub wo: i32,
    pub dir: i32,
    pub closed: i32,
}

/// Every combination of the suite, family by family.
pub fn generate(a: &Arena, fds: &Fds) -> Vec<Case> {
    let mut out = Cases(Vec::new());
    mmap_anonymous(a, &mut out);
    mmap_files(a, fds, &mut out);
    mmap_fixed(a, fds, &mut out);
    munmap(a, &mut out);
    msync(a, &mut out);
    mprotect(a, &mut out);
    madvise(a, &mut out);
    mremap(a, &mut out);
    mlock_munlock_mincore(a, &mut out);
    modern(a, fds, &mut out);
    out.0
}

/// The combinations generated so far.
struct Cases(Vec<Case>);

impl Cases {
    fn add(&mut self, call: Call, label: String, known: Option<Res>) {
        self.0.push(Case { call, label, known });
    }
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

/// 2^63: an address beyond every user address space, and a length that
/// wraps.
const H63: usize = 1 << 63;

/// The last page of the address space. It is left to the calls that do not
/// unmap or reprotect: munmap/mprotect there abort QEMU with pages above 4K
/// (DESIGN.md); 2^63 is the huge address for those.
fn top(p: usize) -> usize {
    usize::MAX & !(p - 1)
}

/// The addresses most families try.
fn addrs(a: &Arena) -> [V; 6] {
    [
        V("null", 0),
        V("A", a.a()),
        V("A+1", a.a() + 1),
        V("hole", a.hole()),
        V("F", a.f()),
        V("2^63", H63),
    ]
}

/// The lengths most families try.
fn lens(p: usize) -> [usize; 7] {
    [0, 1, p, 4 * p, 5 * p, H63, usize::MAX]
}

/// Anonymous `mmap`: addresses (hints, and `top`) × lengths × mapping
/// types × protections.
fn mmap_anonymous(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let top = top(p);
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
        V("2^63", H63),
        V("top", top),
    ] {
        for len in [0, 1, p, H63, usize::MAX] {
            for (fname, flags) in anon_flags {
                for (pname, prot) in anon_prots {
                    let known = (len == 0).then_some(Err(libc::EINVAL));
                    out.add(
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
}

/// `mmap` of files and bad descriptors: descriptor × mapping type ×
/// protection × offset, then huge lengths.
fn mmap_files(a: &Arena, fds: &Fds, out: &mut Cases) {
    let p = a.p;
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
                    out.add(
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
        for len in [0, H63, usize::MAX] {
            for (on, off) in [("0", 0u64), ("1", 1)] {
                out.add(
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
}

/// `mmap` with `FIXED` and `FIXED_NOREPLACE`: only inside the arena.
fn mmap_fixed(a: &Arena, fds: &Fds, out: &mut Cases) {
    let p = a.p;
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
                out.add(
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
}

/// `munmap`: everything it can unmap lies inside the arena, at page 0 or
/// beyond the address space. An aarch64 kernel ignores the top byte of a
/// user address (TBI: 2^63 is address 0 with a tag); QEMU's user mode
/// does not.
fn munmap(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let addrs = addrs(a);
    let lens = lens(p);
    let tbi = cfg!(target_arch = "aarch64") && !crate::common::under_qemu_user();
    for addr in addrs {
        for len in lens {
            let untagged = if tbi {
                addr.1 & ((1 << 56) - 1)
            } else {
                addr.1
            };
            let known = if untagged % p != 0 || len == 0 || len > 1 << 62 || untagged >= H63 {
                Some(Err(libc::EINVAL))
            } else {
                Some(Ok(0))
            };
            out.add(
                Call::Munmap { addr: addr.1, len },
                format!("munmap({}, {})", addr.0, fmt_len(len, p)),
                known,
            );
        }
    }
}

/// `msync`: addresses (and `top`) × lengths × flags.
fn msync(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let top = top(p);
    let addrs = addrs(a);
    let lens = lens(p);
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
                out.add(
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
}

/// `mprotect`: a huge length from A stops at the hole after A; from F it
/// stops at the arena's end hole.
fn mprotect(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let addrs = addrs(a);
    let lens = lens(p);
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
                out.add(
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
}

/// `madvise`: advice that drops contents only within the arena; a huge
/// length (which walks every mapping above the address) only with
/// harmless or unknown advice.
fn madvise(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let top = top(p);
    let addrs = addrs(a);
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
                out.add(
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
    for addr in [V("A", a.a()), V("2^63", H63), V("top", top)] {
        for (an, advice) in [("NORMAL", 0), ("999", 999)] {
            out.add(
                Call::Madvise {
                    addr: addr.1,
                    len: H63,
                    advice,
                },
                format!("madvise({}, isize::MAX+1, {an})", addr.0),
                (advice == 999).then_some(Err(libc::EINVAL)),
            );
        }
    }
}

/// `mremap`: moves land outside the arena (unmapped afterwards) or, with
/// FIXED, at G inside it.
fn mremap(a: &Arena, out: &mut Cases) {
    let p = a.p;
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
        for old_len in [0, p, 4 * p, H63] {
            for new_len in [0, p, 4 * p, 8 * p, H63, usize::MAX] {
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
                    out.add(
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
}

/// `mlock`, `munlock`, and `mincore` with a vector and with a null one.
fn mlock_munlock_mincore(a: &Arena, out: &mut Cases) {
    let p = a.p;
    let top = top(p);
    let addrs = addrs(a);
    let lens = lens(p);
    for addr in addrs.iter().copied().chain([V("top", top)]) {
        for len in lens {
            out.add(
                Call::Mlock { addr: addr.1, len },
                format!("mlock({}, {})", addr.0, fmt_len(len, p)),
                (addr.1 == a.hole() && len > 0 && len < H63).then_some(Err(libc::ENOMEM)),
            );
            out.add(
                Call::Munlock { addr: addr.1, len },
                format!("munlock({}, {})", addr.0, fmt_len(len, p)),
                (addr.1 == a.hole() && len > 0 && len < H63).then_some(Err(libc::ENOMEM)),
            );
            for null_vec in [false, true] {
                let known = if addr.1 % p != 0 {
                    Some(Err(libc::EINVAL))
                } else if addr.1 == a.hole() && len > 0 && len < H63 && !null_vec {
                    Some(Err(libc::ENOMEM))
                } else {
                    None
                };
                out.add(
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
}

/// The calls since Linux 4.4. None of these cases may seal the arena (its
/// reset maps over it) or keep a protection key: `mseal` gets only ranges
/// it refuses (or an empty one), `mlockall` only flags it refuses, and a
/// key `pkey_alloc` hands out is freed at once.
fn modern(a: &Arena, fds: &Fds, out: &mut Cases) {
    let p = a.p;
    let addrs = addrs(a);
    for addr in addrs {
        for len in [0, p, 4 * p] {
            for (fln, flags) in [("0", 0u32), ("ONFAULT", 1), ("0x2", 2)] {
                let known = (flags == 2).then_some(Err(libc::EINVAL));
                out.add(
                    Call::Mlock2 {
                        addr: addr.1,
                        len,
                        flags,
                    },
                    format!("mlock2({}, {}, {fln})", addr.0, fmt_len(len, p)),
                    known,
                );
            }
        }
    }
    for (fln, flags) in [
        ("0", 0u32),
        ("ONFAULT", 4),
        ("0x10", 0x10),
        ("CURRENT|0x10", 0x11),
    ] {
        out.add(
            Call::Mlockall { flags },
            format!("mlockall({fln})"),
            Some(Err(libc::EINVAL)),
        );
    }
    out.add(Call::Munlockall, "munlockall()".into(), Some(Ok(0)));
    // Ranges mseal refuses: unaligned, with a hole, past the address
    // space, wrapping; and empty ones (a successful no-op).
    for (an, addr, len) in [
        ("null", 0, 0),
        ("A", a.a(), 0),
        ("A+1", a.a() + 1, 0),
        ("A+1", a.a() + 1, p),
        ("hole", a.hole(), p),
        ("A", a.a(), 6 * p),
        ("2^63", H63, p),
        ("A", a.a(), usize::MAX),
        ("A", a.a(), H63),
    ] {
        out.add(
            Call::Mseal { addr, len },
            format!("mseal({an}, {})", fmt_len(len, p)),
            None,
        );
    }
    // process_madvise on this process's own pidfd, a file's fd and a
    // closed one.
    // SAFETY: pidfd_open of our own pid; the fd lives as long as the test.
    let own = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) } as i32;
    assert!(own >= 0, "pidfd_open");
    let iovs = [
        ("[A:4P]", [(a.a(), 4 * p), (0, 0)], 1),
        ("[A:P, A+2P:P]", [(a.a(), p), (a.a() + 2 * p, p)], 2),
        ("[A+1:P]", [(a.a() + 1, p), (0, 0)], 1),
        ("[hole:P]", [(a.hole(), p), (0, 0)], 1),
        ("[A:isize::MAX+1]", [(a.a(), H63), (0, 0)], 1),
        ("[]", [(0, 0), (0, 0)], 0),
    ];
    for (fdn, pidfd) in [("self", own), ("file", fds.rw), ("closed", fds.closed)] {
        for (vn, iov, vlen) in iovs {
            for (an, advice) in [
                ("COLD", 20),
                ("PAGEOUT", 21),
                ("WILLNEED", 3),
                ("DONTNEED", 4),
                ("999", 999),
            ] {
                for flags in [0u32, 1] {
                    // The kernel checks the flags, then imports the ranges
                    // (a negative total length is EINVAL), then the fd.
                    let known = if flags != 0 || iov[0].1 == H63 {
                        Some(Err(libc::EINVAL))
                    } else if pidfd == fds.closed || pidfd == fds.rw {
                        Some(Err(libc::EBADF))
                    } else {
                        None
                    };
                    out.add(
                        Call::ProcessMadvise {
                            pidfd,
                            iov,
                            vlen,
                            advice,
                            flags,
                        },
                        format!("process_madvise({fdn}, {vn}, {an}, {flags})"),
                        known,
                    );
                }
            }
        }
    }
    for (flags, rights) in [
        (0u32, 0u32),
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 0x10),
        (1, 0),
        (u32::MAX, 0),
    ] {
        out.add(
            Call::PkeyAlloc { flags, rights },
            format!("pkey_alloc({flags:#x}, {rights:#x})"),
            // (EINVAL for flags, but ENOSYS where the kernel is built without
            // protection keys, as Debian's arm64 6.1 is)
            None,
        );
    }
    for pkey in [-1, 15, 16, 1000, i32::MAX] {
        out.add(Call::PkeyFree { pkey }, format!("pkey_free({pkey})"), None);
    }
    for addr in addrs {
        for len in [0, p, 4 * p] {
            for (pn, prot) in [("R", 1u32), ("RW", 3), ("R|0x40", 0x41)] {
                for pkey in [-1, 15, -2] {
                    out.add(
                        Call::PkeyMprotect {
                            addr: addr.1,
                            len,
                            prot,
                            pkey,
                        },
                        format!(
                            "pkey_mprotect({}, {}, {pn}, {pkey})",
                            addr.0,
                            fmt_len(len, p)
                        ),
                        None,
                    );
                }
            }
        }
    }
}
