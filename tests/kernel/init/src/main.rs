//! `/init` of the real-kernel test runner (`tests/kernel/run.sh`).
//!
//! The kernel starts it as process 1 from an initramfs that holds the test
//! binary and two NUL-separated lists written by the runner: `/rawmap/argv`
//! (the binary's path in the guest, then its arguments) and `/rawmap/env`
//! (`KEY=VALUE` entries passed on from the host). It mounts `proc`, `sysfs`,
//! `devtmpfs` and a `tmpfs` on `/tmp`, runs the binary there with
//! `TMPDIR=/tmp` and `RAWMAP_REAL_KERNEL=1`, prints its exit status on the
//! console as a line `@@rawmap-init@@ exit N` (or `signal N`, or `error
//! TEXT`) for the runner to find, and powers the machine off.

use std::ffi::{CString, c_char, c_int, c_ulong, c_void};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

/// What the runner looks for on the console.
const MARKER: &str = "@@rawmap-init@@";
/// `LINUX_REBOOT_CMD_POWER_OFF` from `<linux/reboot.h>`.
const LINUX_REBOOT_CMD_POWER_OFF: c_int = 0x4321_FEDCu32 as c_int;
/// `F_GETFD` from `<fcntl.h>` (the same on every Linux architecture).
const F_GETFD: c_int = 1;

// The C library that Rust's standard library links statically on musl.
unsafe extern "C" {
    fn mount(
        source: *const c_char,
        target: *const c_char,
        fstype: *const c_char,
        flags: c_ulong,
        data: *const c_void,
    ) -> c_int;
    fn reboot(cmd: c_int) -> c_int;
    fn sync();
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
}

fn main() {
    let devtmpfs = mount_fs("devtmpfs", "/dev", "");
    ensure_console();
    if let Err(e) = devtmpfs {
        eprintln!("rawmap-init: /dev: {e}");
    }
    for (fstype, dir, data) in [
        ("proc", "/proc", ""),
        ("sysfs", "/sys", ""),
        ("tmpfs", "/tmp", "mode=1777"),
    ] {
        if let Err(e) = mount_fs(fstype, dir, data) {
            eprintln!("rawmap-init: {dir}: {e}");
        }
    }

    let report = match run() {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => format!("error {status}"),
        },
        Err(e) => format!("error {e}"),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n{MARKER} {report}");
    let _ = out.flush();
    drop(out);

    // SAFETY: sync and reboot take no pointers; powering off is the point of
    // this program once the test binary has finished.
    unsafe {
        sync();
        reboot(LINUX_REBOOT_CMD_POWER_OFF);
    }
    // Power-off failed: returning from init panics the kernel, which
    // `panic=-1` turns into a reboot and QEMU's `-no-reboot` into an exit.
    eprintln!(
        "rawmap-init: power off failed: {}",
        std::io::Error::last_os_error()
    );
}

/// Runs the test binary named in `/rawmap/argv` and waits for it.
fn run() -> std::io::Result<std::process::ExitStatus> {
    let argv = nul_list("/rawmap/argv")?;
    let env = nul_list("/rawmap/env")?;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("/rawmap/argv is empty"))?;
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir("/tmp");
    for entry in &env {
        if let Some((key, value)) = entry.split_once('=') {
            cmd.env(key, value);
        }
    }
    cmd.env("TMPDIR", "/tmp").env("RAWMAP_REAL_KERNEL", "1");
    cmd.status()
}

/// The entries of a NUL-separated list file.
fn nul_list(path: &str) -> std::io::Result<Vec<String>> {
    let text = fs::read_to_string(path)?;
    Ok(text
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// Mounts a file system that needs no device, creating its directory.
fn mount_fs(fstype: &str, dir: &str, data: &str) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let c = |s: &str| CString::new(s).map_err(std::io::Error::other);
    let (fstype, dir, data) = (c(fstype)?, c(dir)?, c(data)?);
    // SAFETY: every pointer is a NUL-terminated string alive for the call.
    let ret = unsafe {
        mount(
            fstype.as_ptr(),
            dir.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Makes sure descriptors 0, 1 and 2 are the console: a kernel that found no
/// `/dev/console` in the initramfs starts init without them.
fn ensure_console() {
    // SAFETY: F_GETFD only queries the descriptor's flags.
    if unsafe { fcntl(1, F_GETFD) } >= 0 {
        return;
    }
    if let Ok(console) = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")
    {
        for fd in 0..3 {
            // SAFETY: duplicating an open descriptor onto 0..=2, which are
            // unused (checked above).
            unsafe { dup2(console.as_raw_fd(), fd) };
        }
    }
}
