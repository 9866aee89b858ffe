//! Shared by the integration tests: where they run, the locks that keep
//! their tests apart, test data, and in the submodules the helpers that more
//! than one test binary needs:
//!
//! - [`fork`]: children made with `fork` (the test binaries may run under
//!   QEMU's user mode, where they cannot simply be spawned again);
//! - [`proc`]: readers of `/proc` files, with and without allocating;
//! - [`mem`]: small helpers around the raw layer (anonymous memory, what the
//!   kernel may access, `mincore`), and the sub-page checks for 16K and 64K
//!   kernels.
#![allow(dead_code)]

pub mod fork;
pub mod mem;
pub mod proc;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

// ---------------------------------------------------------------------------
// Where the tests run

/// Whether this process runs under QEMU's user mode (`qemu-aarch64` and
/// friends), whose emulation of some calls differs from a real kernel (see
/// DESIGN.md). QEMU runs the guest inside its own process, whose command
/// name stays `qemu-<arch>`; `RAWMAP_QEMU_USER=1` forces the answer for
/// other setups (e.g. binfmt_misc with a renamed interpreter).
pub fn under_qemu_user() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        if let Ok(v) = std::env::var("RAWMAP_QEMU_USER") {
            return v == "1";
        }
        std::fs::read_to_string("/proc/self/comm")
            .map(|comm| comm.starts_with("qemu-"))
            .unwrap_or(false)
    })
}

/// The page size QEMU's user mode was told to emulate, if it is larger than
/// the host's (4 KiB): the case where QEMU's emulation departs from a
/// kernel's. `QEMU_PAGESIZE=4096` is QEMU's default and gives `None`.
pub fn qemu_pagesize() -> Option<usize> {
    if !under_qemu_user() {
        return None;
    }
    let size: usize = std::env::var("QEMU_PAGESIZE").ok()?.parse().ok()?;
    (size > 4096).then_some(size)
}

/// Whether this process runs on a real kernel booted by the project's
/// real-kernel runner (no shell, no loader, tmpfs only).
pub fn under_real_kernel_runner() -> bool {
    std::env::var_os("RAWMAP_REAL_KERNEL").is_some()
}

/// Whether this process runs under emulation, QEMU's user mode or the
/// real-kernel runner's full-system emulation: slower by one to two orders
/// of magnitude, so the long suites run fewer rounds there.
pub fn under_emulation() -> bool {
    under_qemu_user() || under_real_kernel_runner()
}

/// A short description of where the tests run, for messages.
pub fn environment() -> &'static str {
    if under_qemu_user() {
        "QEMU user mode"
    } else if under_real_kernel_runner() {
        "real kernel (qemu-system)"
    } else {
        "native kernel"
    }
}

/// The QEMU user-mode emulator for this target's architecture, to start
/// another program of the same target under QEMU (`qemu-aarch64`,
/// `qemu-riscv64`, `qemu-arm`, `qemu-i386`, ...).
pub fn qemu_user_program() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "qemu-i386",
        "x86_64" => "qemu-x86_64",
        "aarch64" => "qemu-aarch64",
        "riscv64" => "qemu-riscv64",
        "arm" => "qemu-arm",
        other => panic!("no QEMU user-mode emulator known for {other}"),
    }
}

/// The running kernel's version as (major, minor), from
/// `/proc/sys/kernel/osrelease` (e.g. "6.1.0-28-cloud-arm64" -> (6, 1)).
/// Under QEMU's user mode this is the host kernel's.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .expect("/proc/sys/kernel/osrelease is readable");
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().expect("a version number"));
    (parts.next().unwrap(), parts.next().unwrap())
}

/// Whether the running kernel is a 64-bit one. A 32-bit program can run on
/// one (i686 on x86_64, armv7 on aarch64), and then has the calls that only
/// 64-bit kernels have (`mseal`, `MAP_DROPPABLE`). Read from `uname`'s
/// machine, which such a kernel reports as `x86_64` (`aarch64` or `armv8l`
/// for an AArch32 program); under QEMU's user mode it is the host's.
pub fn kernel_is_64bit() -> bool {
    if cfg!(target_pointer_width = "64") {
        return true;
    }
    // SAFETY: `uname` fills the zeroed struct it is given.
    let machine = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        assert_eq!(libc::uname(&mut u), 0, "uname");
        std::ffi::CStr::from_ptr(u.machine.as_ptr()).to_owned()
    };
    let machine = machine.to_string_lossy();
    [
        "x86_64",
        "aarch64",
        "aarch64_be",
        "armv8l",
        "armv8b",
        "riscv64",
    ]
    .contains(&&*machine)
}

/// The page size the C library's `sysconf` gives (from `AT_PAGESZ`, which
/// the kernel or QEMU sets): an oracle independent of rawmap's lookup chain.
pub fn sysconf_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).expect("sysconf(_SC_PAGESIZE) succeeds")
}

/// Writes a line straight to standard error, so that a suite's figures show
/// without `--nocapture`.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

// ---------------------------------------------------------------------------
// Locks

/// One test of this binary at a time: for tests that need an address range
/// to stay free between two calls, that `fork`, or that count process-wide
/// figures. Poisoning is ignored (a failed test must not fail the others).
///
/// It also looks up the page sizes before the test starts: reading
/// `/proc/self/smaps` takes a large buffer, which the allocator may place
/// with `mmap` into a hole a test has just made, and a forked child must not
/// allocate to find them.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = (rawmap::page_size(), proc::host_page_size());
    guard
}

static STATE: RwLock<()> = RwLock::new(());

/// For tests that only use mappings of their own: many at a time, but none
/// while an [`exclusive`] test runs.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    STATE.read().unwrap_or_else(|e| e.into_inner())
}

/// For tests that look at process-wide state (`/proc/self/maps`, `VmLck`,
/// whether an address is still mapped, `fork`): no other test meanwhile.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    STATE.write().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// Test data

/// A recognisable byte for position `i`: a pattern that repeats every 251
/// bytes (a prime, so no page-sized shift hides), so a mapping from the
/// wrong offset shows.
pub fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ 0x5a
}

/// `len` bytes of [`pattern`].
pub fn pattern_bytes(len: usize) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

/// `len` bytes that differ from their neighbours, from page to page (up to
/// 16 MiB) and from one `seed` to another.
pub fn seeded_pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u8).wrapping_mul(31)
                ^ ((i >> 8) as u8)
                ^ ((i >> 16) as u8).wrapping_mul(151)
                ^ seed
        })
        .collect()
}

/// An unnamed temporary file (in `TMPDIR`: a tmpfs under the real-kernel
/// runner) holding `bytes`.
pub fn file_with(bytes: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().expect("temporary file");
    file.write_all(bytes).expect("write temporary file");
    file
}

/// A named temporary file holding `len` bytes of [`pattern`], and those
/// bytes.
pub fn pattern_file(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
    let bytes = pattern_bytes(len);
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(&bytes).expect("write temporary file");
    file.flush().unwrap();
    (file, bytes)
}

/// The whole contents of `file`, read through its descriptor from the start.
pub fn file_contents(file: &mut std::fs::File) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut v = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut v).unwrap();
    v
}

// ---------------------------------------------------------------------------
// The example programs

/// The example program `name` that cargo built next to this test binary
/// (`target/[<triple>/]<profile>/examples/<name>`; `cargo test` builds the
/// examples before it runs the tests), if it is there.
pub fn example_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // .../<profile>/deps/<test>-<hash> -> .../<profile>/examples/<name>
    let bin = exe.parent()?.parent()?.join("examples").join(name);
    bin.is_file().then_some(bin)
}

/// A command that runs the program `bin` of this target: directly, or
/// through QEMU's user mode with the same page size when this test runs
/// under it.
pub fn target_command(bin: &Path) -> Command {
    if under_qemu_user() {
        let mut cmd = Command::new(qemu_user_program());
        if let Some(size) = qemu_pagesize() {
            cmd.env("QEMU_PAGESIZE", size.to_string());
        }
        cmd.arg(bin);
        cmd
    } else {
        Command::new(bin)
    }
}

// ---------------------------------------------------------------------------
// Property tests

/// The property tests' configuration: 2000 cases on this machine's kernel,
/// 500 under emulation (QEMU's user mode, or the real-kernel runner's
/// full-system emulation), which is slower by one to two orders of
/// magnitude; `PROPTEST_CASES` overrides both. No failure persistence
/// files.
pub fn proptest_config() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if under_emulation() { 500 } else { 2000 });
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// Every safe advice value rawmap has.
pub const ADVICE: [rawmap::Advice; 19] = {
    use rawmap::Advice::*;
    [
        Normal,
        Random,
        Sequential,
        WillNeed,
        DontFork,
        DoFork,
        Mergeable,
        Unmergeable,
        HugePage,
        NoHugePage,
        DontDump,
        DoDump,
        WipeOnFork,
        KeepOnFork,
        Cold,
        PageOut,
        PopulateRead,
        PopulateWrite,
        Collapse,
    ]
};

/// Every unchecked advice value rawmap has.
pub const UNCHECKED_ADVICE: [rawmap::UncheckedAdvice; 8] = {
    use rawmap::UncheckedAdvice::*;
    [
        DontNeed,
        DontNeedLocked,
        Free,
        Remove,
        HwPoison,
        SoftOffline,
        GuardInstall,
        GuardRemove,
    ]
};
