//! Two processes share one memory region, and each sees the other's writes.
//!
//! ```text
//! cargo run --example shared            # a file mapped MAP_SHARED by two processes
//! cargo run --example shared -- file PATH
//! cargo run --example shared -- anon    # MAP_SHARED | MAP_ANONYMOUS, shared with a fork()ed child
//! ```
//!
//! **file** (the default): the parent creates a file and maps it with
//! [`MmapMut::create`], then starts a copy of this program as its child
//! (under QEMU's user mode, through the same `qemu-<arch>`), which maps the
//! same file with [`MmapMut::open`]. The child writes 10 000 numbered
//! records and, after each one, publishes the count of records written with
//! a `Release` store; the parent follows that counter with `Acquire` loads
//! and checks every record as it appears, until it has seen all of them.
//! Both then `flush()` (`msync(MS_SYNC)`) and check the file on disk.
//!
//! **anon**: the same exchange through anonymous shared memory
//! ([`MmapOptions::map_anon_shared`]) with a child made by `fork`.
//!
//! A record is two words: its number `n` (from 1; 0 means "not written")
//! and a check word computed from `n`. A record whose number is wrong is
//! *lost*, one whose check word is wrong is *torn*. The program prints what
//! each process saw and exits with status 1 if anything was lost or torn.
//! (Setting `SHARED_EXAMPLE_TEAR=<n>` makes the child write a wrong check
//! word into record `n`: a self-test of the checker, which must then fail.)
//!
//! Every access to the shared words is atomic, so the two processes never
//! race in the sense of Rust's memory model.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rawmap::{MmapMut, MmapOptions};

/// Records the child writes.
const RECORDS: u64 = 10_000;
/// Words before the first record: the counter, then padding to 64 bytes so
/// the counter has a cache line of its own.
const HEADER_WORDS: usize = 8;
/// Words per record: the number and its check word.
const RECORD_WORDS: usize = 2;
/// Bytes in the shared region.
const LEN: usize = (HEADER_WORDS + RECORD_WORDS * RECORDS as usize) * 8;
/// How long the parent waits for the child's records.
const TIMEOUT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        [] | ["file"] => file_parent(None),
        ["file", path] => file_parent(Some(PathBuf::from(path))),
        ["child", path] => file_child(Path::new(path)),
        ["anon"] => anon(),
        _ => Err("usage: shared [file [PATH] | anon]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shared: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The check word of record number `n`: a change to either word of a
/// record shows.
fn check_word(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ 0x5EED_5EED
}

/// The mapping as atomic words. Taking `&mut` ties the words' lifetime to
/// exclusive use of the mapping by this process's Rust code.
fn words(map: &mut MmapMut) -> &[AtomicU64] {
    assert!(map.len() >= LEN, "the shared region is too short");
    // The mapping is page-aligned, so aligned for `AtomicU64`, and `LEN / 8`
    // words fit in it. `AtomicU64` has the layout of `u64`, every bit pattern
    // is valid, and the other process also accesses these words only
    // atomically.
    // SAFETY: by the above; the pointer comes from `&mut`, so it may be used
    // for the atomic writes, and the slice borrows `map` mutably while it lives.
    unsafe { std::slice::from_raw_parts(map.as_mut_ptr().cast::<AtomicU64>(), LEN / 8) }
}

/// The writer: records 1..=RECORDS, each followed by a `Release` store of
/// the count written so far.
fn write_records(words: &[AtomicU64]) -> Duration {
    let tear: Option<u64> = std::env::var("SHARED_EXAMPLE_TEAR")
        .ok()
        .and_then(|v| v.parse().ok());
    let (counter, records) = words.split_at(HEADER_WORDS);
    let start = Instant::now();
    for (i, record) in records.chunks_exact(RECORD_WORDS).enumerate() {
        let n = i as u64 + 1;
        let check = if tear == Some(n) {
            !check_word(n)
        } else {
            check_word(n)
        };
        record[0].store(n, Ordering::Relaxed);
        record[1].store(check, Ordering::Relaxed);
        // Publish last: whoever sees the count with Acquire sees the record.
        counter[0].store(n, Ordering::Release);
    }
    start.elapsed()
}

/// What the reader found.
#[derive(Default)]
struct Seen {
    records: u64,
    lost: u64,
    torn: u64,
    /// How many times the counter was seen to move.
    steps: u64,
}

impl Seen {
    fn check(&mut self, records: &[AtomicU64], from: u64, to: u64) {
        for n in from + 1..=to {
            let i = (n - 1) as usize * RECORD_WORDS;
            let number = records[i].load(Ordering::Relaxed);
            let check = records[i + 1].load(Ordering::Relaxed);
            if number != n {
                self.lost += 1;
            } else if check != check_word(n) {
                self.torn += 1;
            }
            self.records += 1;
        }
    }

    fn ok(&self) -> bool {
        self.records == RECORDS && self.lost == 0 && self.torn == 0
    }

    fn summary(&self) -> String {
        format!(
            "{} of {RECORDS} records, {} lost, {} torn",
            self.records, self.lost, self.torn
        )
    }
}

/// The reader: follows the counter with `Acquire` loads and checks each
/// record as it is published, until all are seen, `alive` says the writer
/// is gone, or the time runs out.
fn follow(words: &[AtomicU64], mut alive: impl FnMut() -> Result<bool>) -> Result<Seen> {
    let (counter, records) = words.split_at(HEADER_WORDS);
    let start = Instant::now();
    let mut seen = Seen::default();
    let mut at = 0;
    let mut idle: u32 = 0;
    while at < RECORDS {
        let now = counter[0].load(Ordering::Acquire);
        if now < at || now > RECORDS {
            return Err(format!("the counter went from {at} to {now}").into());
        }
        if now > at {
            seen.check(records, at, now);
            seen.steps += 1;
            at = now;
            idle = 0;
            continue;
        }
        if !alive()? {
            // The writer is gone: take what it published last, then stop.
            let last = counter[0].load(Ordering::Acquire);
            seen.check(records, at, last.min(RECORDS));
            break;
        }
        if start.elapsed() > TIMEOUT {
            return Err(format!("timed out after {at} records").into());
        }
        // Spin a little before giving the core away: the writer is fast.
        idle += 1;
        if idle.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    Ok(seen)
}

/// Checks every record in `words` (a plain copy of the region, such as the
/// file's bytes).
fn verify_bytes(bytes: &[u8]) -> Seen {
    let mut seen = Seen::default();
    if bytes.len() != LEN {
        seen.lost = RECORDS;
        return seen;
    }
    let word = |i: usize| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
    for n in 1..=RECORDS {
        let i = HEADER_WORDS + (n - 1) as usize * RECORD_WORDS;
        if word(i) != n {
            seen.lost += 1;
        } else if word(i + 1) != check_word(n) {
            seen.torn += 1;
        }
        seen.records += 1;
    }
    if word(0) != RECORDS {
        seen.lost += 1;
    }
    seen
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// How to start a copy of this program: directly, or under QEMU's user mode
/// through the same emulator (an aarch64 binary cannot run on the host
/// without it).
fn self_command() -> Result<Command> {
    let exe = std::env::current_exe()?;
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    let comm = comm.trim_end();
    Ok(if comm.starts_with("qemu-") {
        let mut cmd = Command::new(comm);
        cmd.arg(exe);
        cmd
    } else {
        Command::new(exe)
    })
}

fn file_parent(path: Option<PathBuf>) -> Result<()> {
    let remove = path.is_none();
    let path = path.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rawmap-shared-{}.dat", std::process::id()))
    });
    let outcome = file_parent_at(&path);
    if remove {
        let _ = std::fs::remove_file(&path);
    }
    outcome
}

fn file_parent_at(path: &Path) -> Result<()> {
    // SAFETY: the file is this program's own; only the child, which also
    // accesses the mapped words atomically, changes it, and nobody
    // truncates it while it is mapped.
    let mut map = unsafe { MmapMut::create(path, LEN as u64)? };
    let start = Instant::now();
    let mut child = self_command()?.arg("child").arg(path).spawn()?;
    let seen = follow(words(&mut map), || Ok(child.try_wait()?.is_none()))?;
    let elapsed = start.elapsed();
    let status = child.wait()?;
    println!(
        "parent (pid {}): saw {} in {}, following the counter through {} values",
        std::process::id(),
        seen.summary(),
        ms(elapsed),
        seen.steps
    );
    map.flush()?;
    let on_disk = verify_bytes(&std::fs::read(path)?);
    println!("parent: file on disk: {}", on_disk.summary());
    if !status.success() {
        return Err(format!("the child failed: {status}").into());
    }
    if !seen.ok() || !on_disk.ok() {
        return Err("records were lost or torn".into());
    }
    Ok(())
}

fn file_child(path: &Path) -> Result<()> {
    // SAFETY: as in the parent: the two processes share the file, access
    // the mapped words atomically, and nobody truncates it.
    let mut map = unsafe { MmapMut::open(path)? };
    if map.len() != LEN {
        return Err(format!("the file has {} bytes, not {LEN}", map.len()).into());
    }
    let elapsed = write_records(words(&mut map));
    println!(
        "child (pid {}): wrote {RECORDS} records in {}",
        std::process::id(),
        ms(elapsed)
    );
    map.flush()?;
    let on_disk = verify_bytes(&std::fs::read(path)?);
    println!("child: file on disk: {}", on_disk.summary());
    if !on_disk.ok() {
        return Err("records were lost or torn".into());
    }
    Ok(())
}

fn anon() -> Result<()> {
    let mut map = MmapOptions::new().len(LEN).map_anon_shared()?;
    let start = Instant::now();
    // SAFETY: this program has one thread here, so the child may run any
    // code; it leaves with `_exit`, running no destructor of the parent's.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    if pid == 0 {
        let elapsed = write_records(words(&mut map));
        println!(
            "child (pid {}): wrote {RECORDS} records in {}",
            std::process::id(),
            ms(elapsed)
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: ends the child without unwinding into the parent's code.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    let mut exited = false;
    let seen = follow(words(&mut map), || {
        // SAFETY: `pid` is this process's child; WNOHANG never blocks.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        match r {
            0 => Ok(true),
            r if r == pid => {
                exited = true;
                Ok(false)
            }
            _ => Err(std::io::Error::last_os_error().into()),
        }
    })?;
    let elapsed = start.elapsed();
    // SAFETY: waits for this process's child, unless it was reaped above.
    if !exited && unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    println!(
        "parent (pid {}): saw {} in {}, following the counter through {} values",
        std::process::id(),
        seen.summary(),
        ms(elapsed),
        seen.steps
    );
    let after = verify_bytes(&map);
    println!(
        "parent: shared memory after the child's exit: {}",
        after.summary()
    );
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("the child failed: wait status {status:#x}").into());
    }
    if !seen.ok() || !after.ok() {
        return Err("records were lost or torn".into());
    }
    Ok(())
}
