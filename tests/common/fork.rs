//! Children made with `fork`.
//!
//! The test harness is multi-threaded, so a child does only
//! async-signal-safe work: raw system calls and rawmap (which allocates
//! nothing), no allocation, no locks another thread may have held at the
//! fork, and it leaves with `_exit`, never returning into the harness.

/// Forks; the child runs `child` (async-signal-safe work only) and leaves
/// with `_exit` and the code it returns. Returns the child's pid.
pub fn fork_child(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `child`, which keeps to async-signal-safe
    // work, and never returns from this function.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = child();
        // SAFETY: leaves the child without running anything of the parent's.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for the child `pid` and returns its wait status.
pub fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR),
            "waitpid"
        );
    }
}

/// A wait status as an exit code, or 128 + the signal that ended the child
/// (as a shell shows it).
pub fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

/// A wait status in words, for messages.
pub fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status:#x}")
    }
}

/// Runs `f` in a child and returns its exit code, or 128 + the signal that
/// killed it.
pub fn in_child(f: impl FnOnce() -> i32) -> i32 {
    exit_code(wait(fork_child(f)))
}

/// Fails the check running in a [`check_in_child`] process with a message
/// that names the line.
#[allow(unused_macros)]
macro_rules! ensure {
    ($cond:expr, $what:literal) => {
        if !$cond {
            return Err(concat!(file!(), ":", line!(), ": ", $what));
        }
    };
}
#[allow(unused_imports)]
pub(crate) use ensure;

/// Runs `check` in a child, and fails the test if it fails.
///
/// The child has a single thread, so nothing else maps memory while it
/// runs: a check that an unmapped range stays unmapped cannot be spoiled by
/// another test's thread (or the allocator) mapping into it. `check` must
/// not allocate (it makes raw system calls and uses the stack); it reports
/// a failure by returning a message (see [`ensure`]), which the child
/// writes to standard error.
#[track_caller]
pub fn check_in_child(check: impl FnOnce() -> Result<(), &'static str>) {
    // Looked up before the fork: the child must not allocate.
    let _ = (rawmap::page_size(), super::proc::host_page_size());
    let status = wait(fork_child(|| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            Ok(Ok(())) => 0,
            Ok(Err(msg)) => {
                // SAFETY: writes the message's bytes to standard error.
                unsafe {
                    libc::write(2, msg.as_ptr().cast(), msg.len());
                    libc::write(2, b"\n".as_ptr().cast(), 1);
                }
                1
            }
            Err(_) => 2,
        }
    }));
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the check in the child failed (status {status:#x}; its message is above)"
    );
}

/// In a single-threaded child: `release` drops or unmaps an owner (and
/// answers `false` if its unmap failed), then the `len` bytes at `base` must
/// be unmapped (see [`check_in_child`]). The parent drops `release` and the
/// owner it holds, which unmaps the parent's copy.
#[track_caller]
pub fn unmaps_in_child(base: usize, len: usize, release: impl FnOnce() -> bool) {
    check_in_child(move || {
        ensure!(release(), "the owner's unmap failed");
        ensure!(
            super::mem::mapped(base as *mut u8, len) == Err(rawmap::Errno::ENOMEM),
            "the owner's range is still mapped"
        );
        Ok(())
    });
}

/// In a child that is meant to die of a signal: no core file.
pub fn no_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: sets a limit of this process only.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
}

/// In a child whose death is the answer: its standard error (where QEMU's
/// user mode reports the guest's death) goes to `/dev/null`.
pub fn silence_stderr() {
    // SAFETY: open and dup2 are async-signal-safe; the path is static.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        libc::dup2(null, 2);
    }
}

/// A pipe, both ends close-on-exec: (read, write).
pub fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

/// Closes a descriptor the caller opened and owns.
pub fn close(fd: i32) {
    // SAFETY: as the caller promises.
    unsafe { libc::close(fd) };
}

/// Seconds of `CLOCK_MONOTONIC`, read without allocating or locking (for a
/// forked child).
pub fn monotonic_secs() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } == 0;
    ok.then(|| u64::try_from(ts.tv_sec).ok()).flatten()
}
