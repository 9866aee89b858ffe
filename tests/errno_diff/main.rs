//! Differential errno suite: every generated argument combination for the
//! nine memory-management calls goes through rawmap's raw layer, through the
//! C library's function of the same name (glibc on the gnu target, musl on
//! the musl targets) and through `libc::syscall` (the kernel itself), with
//! identical arguments, each on a freshly reset arena of memory the test
//! owns. rawmap must answer exactly what the kernel answers; the C library
//! must answer the same, except where it checks arguments itself before the
//! system call: those combinations are listed in [`DIFFERENCES`](differences::DIFFERENCES) with the
//! reason, and the C library's answer there is asserted too.
//!
//! The pieces: [`calls`] (the calls as data, and the three ways of making
//! one), [`arena`] (the memory they work on), [`cases`] (the combinations,
//! one generator per call family) and [`differences`] (where the C library
//! or QEMU's user mode departs from the kernel, and why).
//!
//! This binary holds a single test on purpose: while it runs nothing else in
//! the process maps memory, so the holes of the arena stay holes (some calls
//! with huge lengths walk every mapping up to the first hole).
//!
//! 64-bit targets only: its combinations use 64-bit addresses, lengths and offsets (1 << 63,
//! `isize::MAX + 1`) and the byte-offset `mmap` syscall; the 32-bit targets
//! check the `mmap2` path in tests/offset64.rs.
#![cfg(target_pointer_width = "64")]

#[path = "../common/mod.rs"]
mod common;

mod arena;
mod calls;
mod cases;
mod differences;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fmt::Write as _;
use std::os::fd::AsRawFd;
use std::path::Path;

use common::fork::{fork_child, silence_stderr, wait};
use rawmap::{MapFlags, Prot, c_void, page_size};

use arena::{ARENA_PAGES, Arena, release};
use calls::{Call, Res, VEC_LEN, same, via_libc, via_rawmap, via_syscall};
use cases::{Case, Fds};
use differences::{
    DIFFERENCES, Difference, LIBC, QEMU_HOST_PAGE, musl_mprotect_range, qemu_aborts, qemu_known,
};

/// The vector the `mincore` calls write into.
type MincoreVec = [u8; VEC_LEN];

#[test]
fn rawmap_and_libc_agree_on_every_errno() {
    let p = page_size();
    let qemu = common::under_qemu_user();
    let dir = tempfile::tempdir().unwrap();
    let fds = open_descriptors(dir.path(), p);
    let arena = reserve_arena(p, &fds);
    let cases = cases::generate(&arena, &fds);
    // An x86 kernel on a CPU without PKU answers a process's first
    // pkey_alloc with EINVAL (it takes key 0 and cannot give it back) and
    // every later one with ENOSPC: one call first, so that all three ways
    // of calling meet the same, settled state.
    // SAFETY: pkey_alloc takes two integers; a key it hands out is freed.
    unsafe {
        let k = libc::syscall(libc::SYS_pkey_alloc, 0, 0);
        if k >= 0 {
            libc::syscall(libc::SYS_pkey_free, k);
        }
    }

    let mut vec = Box::new([0u8; VEC_LEN]);
    let mut tally = Tally {
        hits: vec![(0, 0); DIFFERENCES.len()],
        ..Tally::default()
    };
    // RAWMAP_TRACE=1 names each combination before it runs (to find the
    // one that takes an emulator down).
    let trace = std::env::var_os("RAWMAP_TRACE").is_some();
    for case in &cases {
        if trace {
            common::report(&case.label);
        }
        *tally.per_call.entry(case.call.name()).or_default() += 1;
        if qemu && qemu_aborts(&case.call, p) {
            check_where_qemu_aborts(case, &arena, &mut vec, &mut tally);
        } else {
            check_case(case, &arena, qemu, trace, &mut vec, &mut tally);
        }
    }
    arena.reset();
    // SAFETY: the arena is this test's, and no longer used.
    unsafe { rawmap::munmap(arena.base as *mut c_void, ARENA_PAGES * p) }.unwrap();
    for fd in [fds.rw, fds.ro, fds.wo, fds.dir] {
        // SAFETY: descriptors opened above, owned by nothing else.
        unsafe { libc::close(fd) };
    }

    report(&tally, cases.len(), p, qemu);
    let Tally { failures, hits, .. } = tally;
    assert!(failures.is_empty(), "mismatches:\n{failures}");
    assert!(cases.len() >= 300);
    // Every difference that applies here was met, and each one that must
    // differ did.
    for (d, (n, differ)) in DIFFERENCES.iter().zip(&hits) {
        if active(d, qemu, p) {
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

/// What the suite has seen so far.
#[derive(Default)]
struct Tally {
    /// One line per mismatch.
    failures: String,
    per_call: BTreeMap<&'static str, usize>,
    /// Per entry of [`DIFFERENCES`]: the combinations it applied to, and of
    /// those the ones where rawmap and the C library differed.
    hits: Vec<(usize, usize)>,
    known_checked: usize,
    qemu_abort_count: usize,
    qemu_deviations: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn fail(&mut self, case: &Case, what: String) {
        let _ = writeln!(self.failures, "{}: {what}", case.label);
    }
}

/// The test file (two pages) and the descriptors the cases use: read-write,
/// read-only and write-only on the file, one on its directory, and a number
/// that is not open.
fn open_descriptors(dir: &Path, p: usize) -> Fds {
    let path = dir.join("data");
    std::fs::write(&path, vec![0x5a; 2 * p]).unwrap();
    let open = |flags: i32, path: &Path| {
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
    Fds {
        rw: open(libc::O_RDWR, &path),
        ro: open(libc::O_RDONLY, &path),
        wo: open(libc::O_WRONLY, &path),
        dir: open(libc::O_RDONLY | libc::O_DIRECTORY, dir),
        closed,
    }
}

/// Reserves the arena's address space (its layout comes with each
/// [`Arena::reset`]).
fn reserve_arena(p: usize, fds: &Fds) -> Arena {
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
    Arena {
        p,
        base,
        ro_fd: fds.ro,
        closed_fd: fds.closed,
    }
}

/// A combination QEMU cannot survive: each way of calling it runs in a child
/// of its own, whose death is the asserted answer.
fn check_where_qemu_aborts(case: &Case, arena: &Arena, vec: &mut MincoreVec, tally: &mut Tally) {
    for (way, f) in [
        ("rawmap", via_rawmap as fn(&Call, &mut MincoreVec) -> Res),
        ("syscall", via_syscall),
        ("libc", via_libc),
    ] {
        let status = wait(fork_child(|| {
            // QEMU's dying words go nowhere.
            silence_stderr();
            arena.reset();
            let _ = f(&case.call, vec);
            0
        }));
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            tally.fail(case, format!("{way} survived under QEMU"));
        }
    }
    tally.qemu_abort_count += 1;
}

/// Makes the call `c` through `f` on a freshly reset arena, and releases
/// what it mapped outside the arena.
fn call_once(
    arena: &Arena,
    c: &Call,
    vec: &mut MincoreVec,
    f: fn(&Call, &mut MincoreVec) -> Res,
) -> Res {
    arena.reset();
    vec.fill(0);
    let r = f(c, vec);
    release(arena, c, r);
    r
}

/// One combination, three ways: rawmap against the kernel, against the
/// kernel's known answer, and the C library against rawmap (or against
/// what the expected difference says it answers).
fn check_case(
    case: &Case,
    arena: &Arena,
    qemu: bool,
    trace: bool,
    vec: &mut MincoreVec,
    tally: &mut Tally,
) {
    let c = &case.call;
    let raw = call_once(arena, c, vec, via_rawmap);
    let sys = call_once(arena, c, vec, via_syscall);
    let lib = call_once(arena, c, vec, via_libc);

    // The expected difference that applies, if any (first match wins).
    let diff = DIFFERENCES.iter().position(|d| {
        (d.libc.is_none() || d.libc == Some(LIBC))
            && (!d.qemu_only || qemu)
            && (d.applies)(c, arena)
    });
    check_rawmap_against_the_kernel(
        case,
        diff.map(|i| DIFFERENCES[i].id),
        [raw, sys, lib],
        tally,
    );
    if let Some(known) = case.known {
        check_known_answer(case, known, raw, qemu, trace, tally);
    }
    match diff {
        None => {
            if !same(c, raw, lib) {
                tally.fail(case, format!("rawmap {raw:?} but libc {lib:?}"));
            }
        }
        Some(i) => {
            let d = &DIFFERENCES[i];
            let want = libc_answer(d, case, arena, vec, raw, lib, tally);
            if !same(c, lib, want) {
                tally.fail(case, format!("[{}] libc {lib:?}, expected {want:?}", d.id));
            }
            tally.hits[i].0 += 1;
            if !same(c, raw, lib) {
                tally.hits[i].1 += 1;
            }
        }
    }
}

/// rawmap is the kernel, except for its verified FIXED_NOREPLACE and where
/// QEMU's user mode is erratic.
fn check_rawmap_against_the_kernel(
    case: &Case,
    diff_id: Option<&str>,
    [raw, sys, lib]: [Res; 3],
    tally: &mut Tally,
) {
    let c = &case.call;
    if diff_id == Some("qemu-large-page-hint") {
        let answers = [raw, sys, lib];
        let mut rest = answers.iter().filter(|r| **r != Err(libc::ENOMEM));
        if let Some(first) = rest.next()
            && !rest.all(|r| same(c, *r, *first))
        {
            tally.fail(
                case,
                format!("QEMU hint: rawmap {raw:?}, syscall {sys:?}, libc {lib:?}"),
            );
        }
    } else if diff_id == Some("qemu-noreplace-hint") {
        // rawmap gives the kernel's answer (checked as `known`); QEMU
        // itself mapped elsewhere.
        let Call::Mmap { addr, .. } = *c else {
            unreachable!()
        };
        // (with pages above 4K the hint may also fail with ENOMEM)
        for (way, r) in [("syscall", sys), ("libc", lib)] {
            if !(matches!(r, Ok(x) if x != addr) || r == Err(libc::ENOMEM)) {
                tally.fail(
                    case,
                    format!("QEMU NOREPLACE: {way} {r:?}, expected another address"),
                );
            }
        }
    } else if !same(c, raw, sys) {
        tally.fail(case, format!("rawmap {raw:?} but the kernel {sys:?}"));
    }
}

/// rawmap against what a kernel answers, where the case knows it; under
/// QEMU, against QEMU's documented answer where it has one.
fn check_known_answer(
    case: &Case,
    known: Res,
    raw: Res,
    qemu: bool,
    trace: bool,
    tally: &mut Tally,
) {
    let c = &case.call;
    tally.known_checked += 1;
    let documented = qemu_known(c, known);
    if !qemu || documented != known {
        // A kernel's answer, or QEMU's documented one.
        let want = if qemu { documented } else { known };
        if !same(c, raw, want) {
            tally.fail(case, format!("rawmap {raw:?}, expected {want:?}"));
        }
    } else if !same(c, raw, known) {
        // QEMU answers otherwise than a kernel here (rawmap still gives
        // QEMU's answer, checked against the syscall).
        *tally.qemu_deviations.entry(c.name()).or_default() += 1;
        if trace {
            common::report(&format!("  QEMU: {raw:?}, a kernel: {known:?}"));
        }
    }
}

/// What the C library answers where the expected difference `d` applies.
fn libc_answer(
    d: &Difference,
    case: &Case,
    arena: &Arena,
    vec: &mut MincoreVec,
    raw: Res,
    lib: Res,
    tally: &mut Tally,
) -> Res {
    let c = &case.call;
    match d.id {
        "mmap-offset-check" => Err(libc::EINVAL),
        "musl-mmap-len" | "musl-mremap-len" => Err(libc::ENOMEM),
        // The kernel's answer with new_addr = 0.
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
            let r = via_rawmap(&zero, vec);
            release(arena, &zero, r);
            r
        }
        // The kernel's answer for the range musl passes.
        "musl-mprotect-rounding" => {
            let Call::Mprotect { addr, len, prot } = *c else {
                unreachable!()
            };
            let (s, l) = musl_mprotect_range(addr, len, arena.p);
            arena.reset();
            via_rawmap(
                &Call::Mprotect {
                    addr: s,
                    len: l,
                    prot,
                },
                vec,
            )
        }
        // The C library passes the hint on: success elsewhere (`same`
        // compares success only for non-FIXED calls).
        "qemu-shared-validate" => {
            if raw != Err(libc::EINVAL) {
                tally.fail(case, format!("[qemu-shared-validate] rawmap {raw:?}"));
            }
            Err(libc::EINVAL)
        }
        // The kernel's answer to mlock with the same range; or, from a C
        // library that does not fall back (the static glibc of Debian's
        // riscv64 cross toolchain), the kernel's ENOSYS passed through, which
        // is rawmap's answer too.
        "libc-mlock2-as-mlock" => {
            let Call::Mlock2 { addr, len, .. } = *c else {
                unreachable!()
            };
            if lib == Err(libc::ENOSYS) && raw == lib {
                return lib;
            }
            arena.reset();
            via_rawmap(&Call::Mlock { addr, len }, vec)
        }
        // Checked in `check_rawmap_against_the_kernel`.
        "qemu-noreplace-hint" | "qemu-large-page-hint" => lib,
        other => unreachable!("{other}"),
    }
}

/// Whether the expected difference `d` applies where the suite runs.
fn active(d: &Difference, qemu: bool, p: usize) -> bool {
    (d.libc.is_none() || d.libc == Some(LIBC))
        && (!d.qemu_only || qemu)
        && (d.id != "qemu-large-page-hint" || p > QEMU_HOST_PAGE)
}

/// The suite's figures, on standard error.
fn report(tally: &Tally, cases: usize, p: usize, qemu: bool) {
    let mut out = format!(
        "errno_diff [{}, {:?}, page size {p}]: {cases} combinations checked ({} against known kernel answers)\n",
        common::environment(),
        LIBC,
        tally.known_checked
    );
    if qemu {
        let _ = writeln!(
            out,
            "  of which {} take QEMU down (asserted in forked children): \
             a munmap or mprotect range that wraps past the top of the address space",
            tally.qemu_abort_count
        );
        let _ = writeln!(
            out,
            "  QEMU answers otherwise than a kernel on {} of the known answers \
             (rawmap and libc both give QEMU's answer; RAWMAP_TRACE=1 lists them): {:?}",
            tally.qemu_deviations.values().sum::<usize>(),
            tally.qemu_deviations
        );
    }
    for (name, n) in &tally.per_call {
        let _ = writeln!(out, "  {name:9} {n}");
    }
    let _ = writeln!(
        out,
        "  expected differences (combinations / of which differ):"
    );
    for (d, (n, differ)) in DIFFERENCES.iter().zip(&tally.hits) {
        if active(d, qemu, p) {
            let _ = writeln!(out, "    {:24} {n:4} / {differ:4}  {}", d.id, d.reason);
        }
    }
    common::report(out.trim_end());
}
