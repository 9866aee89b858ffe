//! Reliability under faults and load, with numbers:
//!
//! - nothing flushed is lost when the writer is killed with `SIGKILL` (100
//!   kills on this machine's kernel, 20 under emulation: QEMU's user mode or
//!   the real-kernel runner);
//! - 4 processes × 4 threads share one file mapping and count 100 000
//!   increments exactly;
//! - touching a page past the end of a truncated file kills only the process
//!   that touched it, with `SIGBUS` (the reason the file constructors are
//!   `unsafe`).
//!
//! (That map/drop cycles leak nothing: tests/leaks.rs.)
//!
//! Children are made with `fork` (the test binary may run under QEMU, where
//! it cannot simply be spawned again). The harness is multi-threaded, so a
//! child does only async-signal-safe work: raw system calls and rawmap, no
//! allocation, no locks, then `_exit`. Figures go straight to stderr, so
//! they show without `--nocapture`.
//!
//! Every test here holds [`serial`] while it runs. Under QEMU's user mode a
//! `fork` taken while other guest threads are busy can leave the child
//! unable to start threads of its own (QEMU 7.2 dies with exit code 127);
//! one test at a time also keeps the timing figures honest.

mod common;

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::fork::{close, describe, fork_child, pipe, silence_stderr, wait};
use common::{report, serial};
use rawmap::{MmapOptions, page_size};

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
    let _serial = serial();
    // Fewer under emulation: QEMU's user mode, or the real-kernel runner's
    // full-system emulation.
    let qemu = common::under_emulation();
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
        let _serial = serial();
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
        // starts meanwhile: every test here holds `serial()`, so no other
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
    let _serial = serial();
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
        silence_stderr();
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
