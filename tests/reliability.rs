//! Reliability under faults and load, with numbers:
//!
//! - nothing flushed is lost when the writer is killed with `SIGKILL` (100
//!   kills on this machine's kernel, 20 under emulation: QEMU's user mode or
//!   the real-kernel runner);
//! - 4 processes × 4 threads share one file mapping and count 100 000
//!   increments exactly;
//! - touching a page past the end of a truncated file kills only the process
//!   that touched it, with `SIGBUS` (the reason the file constructors are
//!   `unsafe`);
//! - map/drop cycles (100 000 on this machine's kernel, 50 000 under QEMU's
//!   user mode, 20 000 under the real-kernel runner) leak no mapping, no
//!   address space and no descriptor.
//!
//! Children are made with `fork` (the test binary may run under QEMU, where
//! it cannot simply be spawned again). The harness is multi-threaded, so a
//! child does only async-signal-safe work: raw system calls and rawmap, no
//! allocation, no locks, then `_exit`. Figures go straight to stderr, so
//! they show without `--nocapture`.

mod common;

use std::ffi::CStr;
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use rawmap::{Advice, MmapOptions, page_size};

/// Every test here holds this while it runs. Under QEMU's user mode a
/// `fork` taken while other guest threads are busy can leave the child
/// unable to start threads of its own (QEMU 7.2 dies with exit code 127),
/// and the leak count wants a quiet process; one test at a time also keeps
/// the timing figures honest.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Forks; the child runs `child` (async-signal-safe work only) and leaves
/// with `_exit` and the code it returns. Returns the child's pid.
fn fork_child(child: impl FnOnce() -> i32) -> libc::pid_t {
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

/// Waits for `pid` and returns its wait status.
fn wait(pid: libc::pid_t) -> i32 {
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

fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status:#x}")
    }
}

/// A pipe, both ends close-on-exec: (read, write).
fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

fn close(fd: i32) {
    // SAFETY: closes a descriptor this test opened and owns.
    unsafe { libc::close(fd) };
}

/// A small deterministic generator (xorshift64*), seeded from the clock;
/// the seed is printed so that a run can be repeated with RAWMAP_SEED.
struct Rng(u64);

impl Rng {
    fn from_env_or_clock() -> (Rng, u64) {
        let seed = std::env::var("RAWMAP_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        (Rng(seed | 1), seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------
// Nothing flushed is lost.

/// One record: index, its complement, a payload derived from the index, and
/// a checksum over all of it.
const REC: usize = 64;

fn fill_record(rec: &mut [u8], i: u64) {
    rec[0..8].copy_from_slice(&i.to_le_bytes());
    rec[8..16].copy_from_slice(&(!i).to_le_bytes());
    for (j, b) in rec[16..56].iter_mut().enumerate() {
        *b = (i.wrapping_mul(31).wrapping_add(j as u64 * 7)) as u8;
    }
    let sum = checksum(&rec[..56]);
    rec[56..64].copy_from_slice(&sum.to_le_bytes());
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn record_intact(rec: &[u8], i: u64) -> bool {
    let mut want = [0u8; REC];
    fill_record(&mut want, i);
    rec == want
}

/// The child: maps the file shared, writes records in order, `flush()`es
/// after each and then reports its index on the pipe. Runs until killed.
fn record_writer(fd: i32, records: usize, report_fd: i32) -> i32 {
    // SAFETY: the parent does not touch the file while this child lives.
    let mut map = match unsafe { MmapOptions::new().len(records * REC).map_mut(fd) } {
        Ok(map) => map,
        Err(e) => return 100 + e.into_raw(),
    };
    for i in 0..records {
        fill_record(&mut map[i * REC..(i + 1) * REC], i as u64);
        if let Err(e) = map.flush() {
            return 100 + e.into_raw();
        }
        let msg = (i as u64).to_le_bytes();
        // SAFETY: writes 8 bytes from `msg`; a pipe write this small is
        // atomic.
        if unsafe { libc::write(report_fd, msg.as_ptr().cast(), 8) } != 8 {
            return 3;
        }
    }
    // Out of room: wait for the kill.
    loop {
        // SAFETY: pause only waits for a signal.
        unsafe { libc::pause() };
    }
}

#[test]
fn nothing_flushed_is_lost_under_sigkill() {
    let _serial = one_at_a_time();
    // Fewer under emulation: QEMU's user mode, or the real-kernel runner's
    // full-system emulation.
    let qemu = common::under_qemu_user() || common::under_real_kernel_runner();
    let kills = if qemu { 20 } else { 100 };
    let records = 1 << 14;
    let (mut rng, seed) = Rng::from_env_or_clock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let _ = page_size(); // found before any fork

    let (mut checked, mut lost) = (0u64, 0u64);
    let started = Instant::now();
    for kill in 0..kills {
        file.set_len(0).unwrap();
        file.set_len((records * REC) as u64).unwrap();
        let (rd, wr) = pipe();
        let fd = file.as_raw_fd();
        let pid = fork_child(|| {
            close(rd);
            record_writer(fd, records, wr)
        });
        close(wr);
        // Once the writer runs (its first report has come), a random moment
        // within the next 20 ms (40 ms under QEMU).
        let mut reported = vec![0u8; 8];
        // SAFETY: reads at most 8 bytes into `reported`.
        let first = unsafe { libc::read(rd, reported.as_mut_ptr().cast(), 8) };
        assert_eq!(first, 8, "the writer's first report");
        let micros = rng.below(if qemu { 40_000 } else { 20_000 });
        std::thread::sleep(Duration::from_micros(micros));
        // SAFETY: kills our own child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        let status = wait(pid);
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
            "kill {kill}: the writer ended with {} before it was killed",
            describe(status)
        );
        // Every index the child reported, up to its death.
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into `buf`, at most its length.
            let n = unsafe { libc::read(rd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                assert!(
                    n == 0,
                    "reading the pipe: {}",
                    std::io::Error::last_os_error()
                );
                break;
            }
            reported.extend_from_slice(&buf[..n as usize]);
        }
        close(rd);
        assert_eq!(reported.len() % 8, 0, "partial report");
        let last = reported
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .next_back()
            .unwrap();
        // Plain I/O, not the mapping.
        let data = std::fs::read(&path).unwrap();
        for i in 0..=last {
            let at = i as usize * REC;
            checked += 1;
            if !record_intact(&data[at..at + REC], i) {
                lost += 1;
            }
        }
    }
    report(&format!(
        "sigkill [{}]: {kills} kills, {checked} flushed records checked, {lost} lost \
         (seed {seed}; {:.1} s)",
        common::environment(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(lost, 0, "flushed records lost (seed {seed})");
    assert!(checked > 0, "no record was ever flushed (seed {seed})");
}

// ---------------------------------------------------------------------------
// Many writers.

// The worker threads are started with a raw `clone` written for the two
// architectures of the main matrix (musl's `clone()` refuses CLONE_THREAD);
// riscv64 and the 32-bit targets run the other tests of this file.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod many_writers {
    use super::*;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

    const PROCESSES: usize = 4;
    const THREADS: usize = 4;
    const TOTAL_INCREMENTS: u64 = 100_000;
    /// Counters are a cache line apart: slot 0 is the shared counter, slot 1
    /// the start flag, slots 2.. one per worker.
    const SLOT: usize = 64;

    struct Worker {
        shared: *const AtomicU64,
        own: *const AtomicU64,
        go: *const AtomicU32,
        done: *const AtomicU32,
        increments: u64,
    }

    /// A thread made with a raw `clone` in a forked child: it shares the
    /// child's thread-local storage, so it touches none (no panics, no std
    /// calls), only the atomics it is given.
    extern "C" fn worker(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` points to a `Worker` in the child's stack frame, which
        // outlives this thread (the child waits for `done`); the counters point
        // into the shared file mapping, 8-byte aligned.
        unsafe {
            let w = &*(arg as *const Worker);
            while (*w.go).load(Ordering::Acquire) == 0 {
                core::hint::spin_loop();
            }
            for _ in 0..w.increments {
                (*w.own).fetch_add(1, Ordering::Relaxed);
                (*w.shared).fetch_add(1, Ordering::Relaxed);
            }
            (*w.done).fetch_add(1, Ordering::Release);
        }
        0
    }

    /// Starts `f(arg)` as a new thread of this process on the stack that ends
    /// at `stack_top`, with a raw `clone` (no TLS, no thread structure: the C
    /// libraries' `clone` wrappers refuse or cannot serve that after `fork`).
    /// The thread leaves with `exit` when `f` returns. Returns the thread id or
    /// `-errno`.
    ///
    /// # Safety
    ///
    /// `stack_top` is the 16-byte aligned end of memory used by nothing else
    /// while the thread runs; `f` must not touch thread-local storage (it
    /// shares the caller's) and `arg` must stay valid while it runs.
    unsafe fn spawn_raw_thread(
        f: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
        stack_top: *mut u8,
    ) -> isize {
        let flags = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM) as usize;
        let ret: isize;
        // clone(flags, stack, 0, 0, 0): the parent gets the tid (or -errno) back
        // in the return register; the child starts on its own stack with the
        // caller's registers, calls `f(arg)` and exits, never coming back into
        // Rust code here.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as just said; rcx and r11 are the registers syscall clobbers.
        unsafe {
            core::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r13",
                "call r12",
                "mov edi, eax",
                "mov eax, 60", // exit: this thread only
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") libc::SYS_clone as isize => ret,
                in("rdi") flags,
                in("rsi") stack_top,
                in("rdx") 0usize,
                in("r10") 0usize,
                in("r8") 0usize,
                in("r12") f,
                in("r13") arg,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!(
                "svc 0",
                "cbnz x0, 2f",
                "mov x29, xzr",
                "mov x0, x10",
                "blr x9",
                "mov x8, 93", // exit: this thread only
                "svc 0",
                "brk 0",
                "2:",
                inlateout("x0") flags => ret,
                in("x1") stack_top,
                in("x2") 0usize,
                in("x3") 0usize,
                in("x4") 0usize,
                in("x8") libc::SYS_clone,
                in("x9") f,
                in("x10") arg,
                options(nostack),
            );
        }
        ret
    }

    /// The child: `THREADS` raw threads counting in the inherited mapping.
    fn counting_process(base: *mut u8, process: usize, increments: u64) -> i32 {
        const STACK: usize = 256 * 1024;
        let stacks = match MmapOptions::new().len(THREADS * STACK).stack().map_anon() {
            Ok(m) => m,
            Err(e) => return 100 + e.into_raw(),
        };
        let done = AtomicU32::new(0);
        let mut workers: [Option<Worker>; THREADS] = [const { None }; THREADS];
        for (t, slot) in workers.iter_mut().enumerate() {
            let index = process * THREADS + t;
            // SAFETY: all offsets lie inside the mapping, which holds
            // `2 + PROCESSES * THREADS` slots.
            *slot = Some(unsafe {
                Worker {
                    shared: base.cast(),
                    go: base.add(SLOT).cast(),
                    own: base.add((2 + index) * SLOT).cast(),
                    done: &done,
                    increments,
                }
            });
        }
        for (t, w) in workers.iter().enumerate() {
            let w = w.as_ref().unwrap();
            // SAFETY: the top of this thread's own stack, 16-byte aligned.
            let top = unsafe { stacks.as_ptr().add((t + 1) * STACK) } as *mut u8;
            // SAFETY: `worker` touches only the `Worker` it is given, which
            // lives until all threads are done; the stack is its own.
            let tid = unsafe { spawn_raw_thread(worker, w as *const Worker as *mut _, top) };
            if tid <= 0 {
                return 40 + (-tid) as i32;
            }
        }
        while done.load(Ordering::Acquire) < THREADS as u32 {
            // SAFETY: sched_yield has no arguments and cannot fail.
            unsafe { libc::sched_yield() };
        }
        // The threads have returned; exit_group (in `_exit`) ends them before
        // the stacks go away with the process.
        std::mem::forget(stacks);
        0
    }

    #[test]
    fn many_writers_count_exactly() {
        let _serial = one_at_a_time();
        let workers = (PROCESSES * THREADS) as u64;
        assert_eq!(TOTAL_INCREMENTS % workers, 0);
        let per_worker = TOTAL_INCREMENTS / workers;
        let len = (2 + PROCESSES * THREADS) * SLOT;
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(len as u64).unwrap();
        // SAFETY: the temporary file is private to this test.
        let mut map = unsafe { MmapOptions::new().map_mut(file.as_file()) }.unwrap();
        assert_eq!(map.len(), len);
        let base = map.as_mut_ptr();
        let started = Instant::now();

        // The forks happen on a thread made just now. QEMU's user mode (7.2)
        // numbers a forked child's new threads after the forking thread, but
        // remembers every thread of the parent: forking from the newest thread
        // keeps the numbers apart (forking from an older one makes QEMU abort
        // with `qemu_plugin_vcpu_init_hook: assertion failed`). No other thread
        // starts meanwhile: every test here holds ONE_AT_A_TIME, so no other
        // test can finish and make the harness start a new one; the pause lets
        // the harness start the one it may have started for the test that
        // finished just before this one.
        if common::under_qemu_user() {
            std::thread::sleep(Duration::from_millis(200));
        }
        let base_addr = base as usize;
        let statuses = std::thread::spawn(move || {
            let base = base_addr as *mut u8;
            let pids: Vec<_> = (0..PROCESSES)
                .map(|p| fork_child(|| counting_process(base, p, per_worker)))
                .collect();
            // SAFETY: slot 1 of the mapping is the start flag, 8-byte aligned.
            unsafe { &*(base.add(SLOT) as *const AtomicU32) }.store(1, Ordering::Release);
            pids.into_iter().map(wait).collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        for status in statuses {
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "counting process ended with {}",
                describe(status)
            );
        }
        let elapsed = started.elapsed();

        let read = |bytes: &[u8], slot: usize| {
            u64::from_le_bytes(bytes[slot * SLOT..slot * SLOT + 8].try_into().unwrap())
        };
        let mut exact = 0;
        // In memory.
        assert_eq!(read(&map, 0), TOTAL_INCREMENTS, "shared counter in memory");
        for w in 0..PROCESSES * THREADS {
            assert_eq!(read(&map, 2 + w), per_worker, "counter {w} in memory");
            exact += 1;
        }
        // On disk after flush(), through plain I/O.
        map.flush().unwrap();
        let disk = std::fs::read(file.path()).unwrap();
        assert_eq!(read(&disk, 0), TOTAL_INCREMENTS, "shared counter on disk");
        for w in 0..PROCESSES * THREADS {
            assert_eq!(read(&disk, 2 + w), per_worker, "counter {w} on disk");
        }
        report(&format!(
            "many writers [{}]: {PROCESSES} processes x {THREADS} threads, {TOTAL_INCREMENTS} \
         increments: shared counter {TOTAL_INCREMENTS} and {exact}/{exact} own counters of \
         {per_worker} exact in memory and on disk ({:.2} s)",
            common::environment(),
            elapsed.as_secs_f64()
        ));
    }
}

// ---------------------------------------------------------------------------
// Truncation.

/// The test that `MmapOptions::map` and the other file constructors cite as
/// the reason they are `unsafe`: a mapping outlives the end of its file when
/// someone truncates it, and touching a page past the new end raises
/// `SIGBUS`. Only the process that touches it dies.
#[test]
fn truncated_file_raises_sigbus() {
    let _serial = one_at_a_time();
    let p = page_size();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shrinks");
    std::fs::write(&path, vec![0xa5u8; 2 * p]).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    // The parent maps the first page, which stays inside the file.
    // SAFETY: the file is truncated to one page below, never less.
    let mine = unsafe { MmapOptions::new().len(p).map(&file) }.unwrap();

    let (to_parent_r, to_parent_w) = pipe();
    let (to_child_r, to_child_w) = pipe();
    let fd = file.as_raw_fd();
    let pid = fork_child(|| {
        // QEMU's user mode reports the guest's death on stderr; the wait
        // status below is the evidence.
        // SAFETY: open and dup2 are async-signal-safe; the path is static.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            libc::dup2(null, 2);
        }
        // SAFETY: deliberately not upheld: the parent truncates the file
        // while this mapping lives; that is what this child demonstrates.
        let map = match unsafe { MmapOptions::new().len(2 * p).map(fd) } {
            Ok(map) => map,
            Err(e) => return 100 + e.into_raw(),
        };
        let byte = [map[p]]; // the second page, still inside the file
        let mut go = [0u8; 1];
        // SAFETY: plain reads and writes of one byte on our pipes.
        unsafe {
            libc::write(to_parent_w, byte.as_ptr().cast(), 1);
            if libc::read(to_child_r, go.as_mut_ptr().cast(), 1) != 1 {
                return 5;
            }
        }
        // The file now ends at `p`: the second page lies past its end.
        // SAFETY: the pointer is inside the mapping; this read raises SIGBUS.
        let _ = unsafe { std::ptr::read_volatile(map.as_ptr().add(p)) };
        0 // not reached: survived the touch
    });
    close(to_parent_w);
    close(to_child_r);
    let mut seen = [0u8; 1];
    // SAFETY: reads one byte into `seen`.
    assert_eq!(
        unsafe { libc::read(to_parent_r, seen.as_mut_ptr().cast(), 1) },
        1
    );
    assert_eq!(
        seen[0], 0xa5,
        "the child read its mapping before truncation"
    );
    file.set_len(p as u64).unwrap();
    // SAFETY: writes one byte from a constant.
    assert_eq!(
        unsafe { libc::write(to_child_w, b"g".as_ptr().cast(), 1) },
        1
    );
    let status = wait(pid);
    close(to_parent_r);
    close(to_child_w);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGBUS,
        "the child ended with {}, expected SIGBUS",
        describe(status)
    );
    // The parent is unaffected: its mapping inside the file still reads.
    assert!(mine.iter().all(|&b| b == 0xa5));
    drop(mine);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), p as u64);
    report(&format!(
        "truncation [{}]: the child touching a page past the new end died of SIGBUS; \
         the parent and its mapping inside the file are unaffected",
        common::environment()
    ));
}

// ---------------------------------------------------------------------------
// No leaks.

/// Reads the file at `path` with raw calls in chunks, giving each chunk to
/// `f`. Async-signal-safe: no allocation.
fn read_chunks(path: &CStr, mut f: impl FnMut(&[u8])) -> bool {
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
    close(fd);
    ok
}

/// `/proc/self/maps`: the number of mappings and the bytes they span.
fn mappings() -> [u64; 2] {
    let (mut lines, mut bytes) = (0u64, 0u64);
    // A line starts `start-end ` in hex; the parser keeps its state across
    // chunks.
    let (mut field, mut start, mut end) = (0u8, 0u64, 0u64);
    let hex = |c: u8| (c as char).to_digit(16).map(u64::from);
    let ok = read_chunks(c"/proc/self/maps", |b| {
        for &c in b {
            match (field, c) {
                (_, b'\n') => {
                    lines += 1;
                    bytes += end.wrapping_sub(start);
                    (field, start, end) = (0, 0, 0);
                }
                (0, b'-') => field = 1,
                (1, b' ') => field = 2,
                (0, _) => start = start << 4 | hex(c).unwrap_or(0),
                (1, _) => end = end << 4 | hex(c).unwrap_or(0),
                _ => {}
            }
        }
    });
    if ok { [lines, bytes] } else { [u64::MAX; 2] }
}

/// `VmSize:` of `/proc/self/status`, in kB.
fn vm_size_kb() -> u64 {
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
/// read it.
fn fd_count() -> u64 {
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
    close(dir);
    count - 1
}

/// The three figures, each read until two readings agree (QEMU's
/// `/proc/self/maps` can briefly miss a mapping while another thread maps,
/// see DESIGN.md; in the single-threaded child this is a belt and braces).
fn snapshot() -> [u64; 4] {
    let read = || {
        let [count, bytes] = mappings();
        [count, bytes, vm_size_kb(), fd_count()]
    };
    let mut last = read();
    for _ in 0..5 {
        let now = read();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// One map/drop cycle of the safe layer, chosen by `i`: anonymous and file
/// mappings of various lengths and offsets, with conversions, flushes,
/// advice and remaps in between. Async-signal-safe: rawmap allocates
/// nothing. Returns an error code, or 0.
fn one_cycle(i: u64, ro: i32, rw: i32, p: usize) -> i32 {
    let lens = [1, p - 1, p, p + 1, 3 * p + 5, 16 * p];
    let offsets = [0u64, 1, p as u64 - 1, p as u64, 2 * p as u64 + 3];
    let len = lens[(i % lens.len() as u64) as usize];
    let off = offsets[(i / 7 % offsets.len() as u64) as usize];
    let opts = {
        let mut o = MmapOptions::new();
        o.len(len).offset(off);
        o
    };
    let touch = |s: &[u8]| {
        // SAFETY: both bytes are inside the slice.
        unsafe { std::ptr::read_volatile(&s[0]) ^ std::ptr::read_volatile(&s[s.len() - 1]) }
    };
    let check = |r: Result<(), rawmap::Errno>| r.map_or_else(|e| 100 + e.into_raw(), |()| 0);
    // SAFETY (for the file mappings below): the file is private to this
    // test and keeps its length while the child runs.
    match i % 9 {
        0 => match opts.map_anon() {
            Ok(mut m) => {
                m[len - 1] = 1;
                touch(&m);
                0
            }
            Err(e) => 100 + e.into_raw(),
        },
        1 => match opts.map_anon_shared() {
            Ok(m) => {
                touch(&m);
                check(m.flush_async())
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        2 => match unsafe { opts.map(ro) } {
            Ok(m) => {
                touch(&m);
                check(m.advise_range(Advice::Sequential, 0, len))
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        3 => match unsafe { opts.map_mut(rw) } {
            Ok(m) => {
                touch(&m);
                check(m.flush_async_range(len / 2, len - len / 2))
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        4 => match unsafe { opts.map_copy(rw) } {
            Ok(mut m) => {
                m[0] ^= 1;
                match m.make_read_only() {
                    Ok(m) => {
                        touch(&m);
                        0
                    }
                    Err(e) => 100 + e.errno().into_raw(),
                }
            }
            Err(e) => 100 + e.into_raw(),
        },
        // SAFETY: see above.
        5 => match unsafe { opts.map_copy_read_only(ro) } {
            Ok(m) => match m.make_mut() {
                Ok(mut m) => {
                    m[len - 1] = 2;
                    0
                }
                Err(e) => 100 + e.errno().into_raw(),
            },
            Err(e) => 100 + e.into_raw(),
        },
        6 => match opts.map_anon() {
            Ok(mut m) => {
                // SAFETY: anonymous memory has no file to outgrow.
                match unsafe { m.remap(len * 2 + p, true) } {
                    Ok(()) => {
                        touch(&m);
                        check(m.unmap().map_err(|e| e.errno()))
                    }
                    Err(e) => 100 + e.into_raw(),
                }
            }
            Err(e) => 100 + e.into_raw(),
        },
        7 => match MmapOptions::new().len(len).populate().map_anon() {
            Ok(m) => {
                let (ptr, l) = m.into_raw();
                // SAFETY: straight from `into_raw` of a normal-page mapping.
                let m = unsafe { rawmap::MmapMut::from_raw(ptr, l) };
                touch(&m);
                0
            }
            Err(e) => 100 + e.into_raw(),
        },
        // Now and then huge pages: reads /proc/meminfo for the size (a
        // descriptor opened and closed) and usually fails for want of
        // reserved huge pages.
        _ if i % 100 == 8 => {
            if let Ok(m) = MmapOptions::new().len(len).huge(None).map_anon() {
                touch(&m);
            }
            0
        }
        _ => match MmapOptions::new().len(len).stack().no_reserve().map_anon() {
            Ok(m) => {
                touch(&m);
                check(m.lock_range(0, 1).and_then(|()| m.unlock()))
            }
            Err(e) => 100 + e.into_raw(),
        },
    }
}

#[test]
fn map_drop_cycles_leak_nothing() {
    let _serial = one_at_a_time();
    let qemu = common::under_qemu_user();
    // Fewer under emulation: QEMU's user mode, and fewer still under the
    // real-kernel runner's full-system emulation.
    let cycles: u64 = if common::under_real_kernel_runner() {
        20_000 // full-system emulation without KVM: the slowest of all
    } else if qemu {
        50_000
    } else {
        100_000
    };
    let warmup = 1_000;
    let p = page_size();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), vec![7u8; 24 * p]).unwrap();
    let rw = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file.path())
        .unwrap();
    let ro = std::fs::File::open(file.path()).unwrap();
    // The child reports here: [status, failed cycle, before x4, after x4].
    let mut out = MmapOptions::new().len(10 * 8).map_anon_shared().unwrap();
    let out_ptr = out.as_mut_ptr().cast::<u64>();
    let (ro_fd, rw_fd) = (ro.as_raw_fd(), rw.as_raw_fd());
    let started = Instant::now();

    // The cycles run in a forked child: it has one thread, so nothing else
    // maps or opens anything while it counts.
    let pid = fork_child(|| {
        // SAFETY: `out_ptr` points to 8 u64 in a shared mapping.
        let out = unsafe { std::slice::from_raw_parts_mut(out_ptr, 10) };
        for i in 0..warmup {
            let code = one_cycle(i, ro_fd, rw_fd, p);
            if code != 0 {
                out[0] = code as u64;
                out[1] = i;
                return 1;
            }
        }
        let before = snapshot();
        for i in 0..cycles {
            let code = one_cycle(i, ro_fd, rw_fd, p);
            if code != 0 {
                out[0] = code as u64;
                out[1] = i;
                return 1;
            }
        }
        let after = snapshot();
        out[2..6].copy_from_slice(&before);
        out[6..10].copy_from_slice(&after);
        0
    });
    let status = wait(pid);
    let r: Vec<u64> = out
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the cycling child ended with {} (code {}, cycle {})",
        describe(status),
        r[0],
        r[1]
    );
    let (before, after) = (&r[2..6], &r[6..10]);
    report(&format!(
        "no leaks [{}, page size {p}]: {cycles} map/drop cycles (after {warmup} warm-up cycles): \
         mappings {} -> {} spanning {} kB -> {} kB, VmSize {} kB -> {} kB{}, open fds {} -> {} \
         ({:.1} s)",
        common::environment(),
        before[0],
        after[0],
        before[1] / 1024,
        after[1] / 1024,
        before[2],
        after[2],
        if qemu { " (QEMU's own process)" } else { "" },
        before[3],
        after[3],
        started.elapsed().as_secs_f64()
    ));
    assert!(
        before.iter().all(|&v| v != u64::MAX),
        "reading /proc failed"
    );
    assert_eq!(before[0], after[0], "mapping count");
    assert_eq!(before[1], after[1], "bytes mapped");
    if !qemu {
        assert_eq!(before[2], after[2], "VmSize");
    } else {
        // Under QEMU, /proc/self/status is QEMU's host process, whose size
        // includes QEMU's own caches; the guest's address space is what
        // /proc/self/maps shows (asserted above).
    }
    assert_eq!(before[3], after[3], "open descriptors");
}
