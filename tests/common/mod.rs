//! Shared by the integration tests: where they run, and small helpers.
#![allow(dead_code)]

use std::sync::OnceLock;

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

/// The page size QEMU's user mode was told to emulate, if any.
pub fn qemu_pagesize() -> Option<usize> {
    if !under_qemu_user() {
        return None;
    }
    std::env::var("QEMU_PAGESIZE").ok()?.parse().ok()
}

/// Whether this process runs on a real kernel booted by the project's
/// real-kernel runner (no shell, no loader, tmpfs only).
pub fn under_real_kernel_runner() -> bool {
    std::env::var_os("RAWMAP_REAL_KERNEL").is_some()
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
