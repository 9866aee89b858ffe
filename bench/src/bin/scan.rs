//! File scan: where a memory mapping wins over `pread` and where it loses.
//!
//! `scan [MIB] [ROUNDS] [FILL]` makes a file of `MIB` MiB (default 1024) in
//! the page cache and reads it, in every round, by every method below, in a
//! rotating order, so that the methods share the machine's noise. It prints
//! one TSV line per method, the medians over `ROUNDS` (default 9) rounds:
//!
//! `method`, `GB/s`, `CPU GB/s`, `faults`, separated by tabs.
//!
//! GB/s is bytes read per second of wall time (10^9 bytes), CPU GB/s bytes
//! per second of CPU time of the whole process (user + system, every
//! thread: a method with a helper thread spends more than its wall time),
//! faults the minor page faults of one run. The rows whose names start with
//! `random` read `RANDOM_READS` blocks of 4 KiB at fixed, seeded random
//! page-aligned offsets: their GB/s counts 4096 bytes per read (divide by
//! 4096 for reads per second). A first line `#fill` names the fill and
//! `#folio` gives, for a fresh plain mapping scanned once, the pages mapped
//! per fault and the MiB mapped by PMD (whole 2 MiB folios).
//!
//! Every method sums the same bytes with the same function ([`sum`]), a
//! memory-bound sum of `u64` words, and every sum is checked against one
//! computed from the file's generator, not read back from the file.
//!
//! `FILL` decides the size of the page cache's folios, which decides what a
//! fresh mapping costs (the kernel maps a whole large folio per fault, a PMD
//! for a 2 MiB one, and 16 pages of small folios per fault):
//!
//! - `write4k` (default): written with 4 KiB `write`s: 4 KiB folios;
//! - `write4m`: written with 4 MiB `write`s: 2 MiB folios (on kernels and
//!   file systems with large folios, e.g. ext4 since Linux 6.16);
//! - `readback`: written, synced, dropped from the cache
//!   (`POSIX_FADV_DONTNEED`) and read back with `pread`: the folios that
//!   readahead makes (their size follows the device's `read_ahead_kb`).

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rawmap::{Advice, Mmap, MmapOptions};

/// The `pread` buffer of the sequential scan.
const BUF: usize = 128 << 10;
/// The size of one random read.
const BLOCK: usize = 4096;
/// How many random reads a random method makes.
const RANDOM_READS: usize = 65536;

/// The sum every method computes, over whole `u64` words: the same code for
/// all of them. Wrapping, so that the sum of chunk sums is the sum.
#[inline(never)]
fn sum(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
        .fold(0, u64::wrapping_add)
}

/// The file's word at word index `k`: every word differs, so a method that
/// reads the wrong page gets the wrong sum.
fn word(k: u64) -> u64 {
    let x = k.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// The sum of the file's words at byte offsets `start..start + len`.
fn expected(start: usize, len: usize) -> u64 {
    (start / 8..(start + len) / 8).fold(0, |a, k| a.wrapping_add(word(k as u64)))
}

struct Ctx {
    file: File,
    len: usize,
    /// A mapping of the whole file, faulted in before the rounds.
    faulted: Mmap,
    /// The random reads' offsets, page-aligned.
    offsets: Vec<usize>,
}

/// A fresh read-only shared mapping of the whole file.
fn map(cx: &Ctx) -> Mmap {
    // SAFETY: the file is private to this process (unlinked) and nobody
    // writes to or truncates it while it is mapped.
    unsafe { MmapOptions::new().map(&cx.file) }.expect("map")
}

fn pread_scan(cx: &Ctx) -> u64 {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    let mut off = 0;
    while off < cx.len {
        let n = cx.file.read_at(&mut buf, off as u64).expect("pread");
        assert!(n > 0, "short file");
        total = total.wrapping_add(sum(&buf[..n]));
        off += n;
    }
    total
}

/// Populates chunks of `chunk` bytes with `MADV_POPULATE_READ` just before
/// the reader sums them, on the reader's thread.
fn populate_inline(map: &Mmap, chunk: usize) -> u64 {
    let mut total = 0u64;
    let mut off = 0;
    while off < map.len() {
        let n = chunk.min(map.len() - off);
        map.advise_range(Advice::PopulateRead, off, n)
            .expect("populate");
        total = total.wrapping_add(sum(&map[off..off + n]));
        off += n;
    }
    total
}

/// A helper thread populates chunks of `chunk` bytes with
/// `MADV_POPULATE_READ` ahead of the reader, starting one chunk ahead of it
/// and skipping forward if the reader overtakes it (the reader never waits:
/// a page not yet populated is simply faulted in by the reader).
fn populate_ahead(map: &Mmap, chunk: usize) -> u64 {
    let pos = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut next = chunk;
            while next < map.len() {
                next = next.max(pos.load(Ordering::Relaxed) + chunk);
                if next >= map.len() {
                    break;
                }
                let n = chunk.min(map.len() - next);
                map.advise_range(Advice::PopulateRead, next, n)
                    .expect("populate");
                next += n;
            }
        });
        let mut total = 0u64;
        let mut off = 0;
        while off < map.len() {
            let n = chunk.min(map.len() - off);
            total = total.wrapping_add(sum(&map[off..off + n]));
            off += n;
            pos.store(off, Ordering::Relaxed);
        }
        total
    })
}

fn random_slices(bytes: &[u8], offsets: &[usize]) -> u64 {
    offsets
        .iter()
        .fold(0, |a, &o| a.wrapping_add(sum(&bytes[o..o + BLOCK])))
}

type Run = fn(&Ctx) -> u64;

const MIB: usize = 1 << 20;

/// The sequential scans, each of the whole file.
const SCANS: &[(&str, Run)] = &[
    ("pread 128 KiB buffer", pread_scan),
    ("fresh map", |cx| sum(&map(cx))),
    ("fresh map populate() (MAP_POPULATE)", |cx| {
        // SAFETY: as in `map`.
        sum(&unsafe { MmapOptions::new().populate().map(&cx.file) }.expect("map"))
    }),
    ("fresh map advise(Sequential)", |cx| {
        let m = map(cx);
        m.advise(Advice::Sequential).expect("advise");
        sum(&m)
    }),
    ("fresh map advise(HugePage)", |cx| {
        let m = map(cx);
        m.advise(Advice::HugePage).expect("advise");
        sum(&m)
    }),
    ("fresh map PopulateRead inline 2 MiB", |cx| {
        populate_inline(&map(cx), 2 * MIB)
    }),
    ("fresh map PopulateRead inline 8 MiB", |cx| {
        populate_inline(&map(cx), 8 * MIB)
    }),
    ("fresh map PopulateRead inline 32 MiB", |cx| {
        populate_inline(&map(cx), 32 * MIB)
    }),
    ("fresh map PopulateRead thread 2 MiB", |cx| {
        populate_ahead(&map(cx), 2 * MIB)
    }),
    ("fresh map PopulateRead thread 8 MiB", |cx| {
        populate_ahead(&map(cx), 8 * MIB)
    }),
    ("fresh map PopulateRead thread 32 MiB", |cx| {
        populate_ahead(&map(cx), 32 * MIB)
    }),
    ("re-scan faulted map", |cx| sum(&cx.faulted)),
];

/// The random reads, `RANDOM_READS` blocks of `BLOCK` bytes.
const RANDOMS: &[(&str, Run)] = &[
    ("random 4 KiB pread", |cx| {
        let mut buf = vec![0u8; BLOCK];
        cx.offsets.iter().fold(0, |a, &o| {
            cx.file.read_exact_at(&mut buf, o as u64).expect("pread");
            a.wrapping_add(sum(&buf))
        })
    }),
    ("random 4 KiB faulted map", |cx| {
        random_slices(&cx.faulted, &cx.offsets)
    }),
    ("random 4 KiB fresh map", |cx| {
        random_slices(&map(cx), &cx.offsets)
    }),
    ("random 4 KiB fresh map advise(Random)", |cx| {
        let m = map(cx);
        m.advise(Advice::Random).expect("advise");
        random_slices(&m, &cx.offsets)
    }),
];

/// CPU time of the whole process, seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Minor page faults of the whole process so far.
fn minor_faults() -> i64 {
    // SAFETY: rusage is plain data, all zeros is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage to write.
    let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(r, 0, "getrusage");
    ru.ru_minflt
}

/// The `FilePmdMapped:` kB of the mapping starting at `addr`, from
/// `/proc/self/smaps`.
fn pmd_mapped_kb(addr: usize) -> Option<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, _)) = first.split_once('-')
            && let Ok(start) = usize::from_str_radix(start, 16)
        {
            inside = start == addr;
            continue;
        }
        if inside && let Some(kb) = line.strip_prefix("FilePmdMapped:") {
            return kb.trim().trim_end_matches("kB").trim().parse().ok();
        }
    }
    None
}

/// Writes the file in `write` byte `write`s.
fn fill(file: &mut File, len: usize, write: usize) -> std::io::Result<()> {
    let mut buf = vec![0u8; write];
    let mut off = 0;
    while off < len {
        let n = write.min(len - off);
        for (i, w) in buf[..n].chunks_exact_mut(8).enumerate() {
            w.copy_from_slice(&word((off / 8 + i) as u64).to_ne_bytes());
        }
        file.write_all(&buf[..n])?;
        off += n;
    }
    file.flush()
}

struct Sample {
    wall: f64,
    cpu: f64,
    faults: i64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(9);
    let fill_mode = args.next().unwrap_or_else(|| "write4k".into());
    let len = mib * MIB;
    assert!(len >= 32 * MIB, "the file must be at least 32 MiB");

    let path = std::env::temp_dir().join(format!("rawmap-scan-{}.bin", std::process::id()));
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    let _ = std::fs::remove_file(&path); // the open descriptor keeps it
    match fill_mode.as_str() {
        "write4k" => fill(&mut file, len, 4 << 10)?,
        "write4m" => fill(&mut file, len, 4 << 20)?,
        "readback" => {
            fill(&mut file, len, 4 << 20)?;
            file.sync_all()?;
            // SAFETY: a plain system call on our own descriptor.
            let r =
                unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
            assert_eq!(r, 0, "posix_fadvise");
        }
        other => panic!("FILL is write4k, write4m or readback, not {other}"),
    }

    // Random offsets: xorshift64* from a fixed seed, whole pages.
    let pages = len / BLOCK;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let offsets: Vec<usize> = (0..RANDOM_READS)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % pages as u64) as usize * BLOCK
        })
        .collect();
    let expect_scan = expected(0, len);
    let expect_random = offsets
        .iter()
        .fold(0u64, |a, &o| a.wrapping_add(expected(o, BLOCK)));

    // SAFETY: as in `map`.
    let faulted = unsafe { MmapOptions::new().map(&file) }.expect("map");
    let cx = Ctx {
        file,
        len,
        faulted,
        offsets,
    };

    // Warm the cache (and, with `readback`, read the file back in), then
    // fault in the long-lived mapping.
    assert_eq!(pread_scan(&cx), expect_scan, "pread summed wrong");
    assert_eq!(sum(&cx.faulted), expect_scan, "faulted map summed wrong");

    // How the kernel maps this file's folios into a fresh mapping.
    let f0 = minor_faults();
    let m = map(&cx);
    assert_eq!(sum(&m), expect_scan);
    let faults = minor_faults() - f0;
    let pmd = pmd_mapped_kb(m.as_ptr() as usize);
    drop(m);
    println!("#fill\t{fill_mode}");
    println!(
        "#folio\t{:.1}\t{}",
        pages as f64 / faults.max(1) as f64,
        pmd.map_or("?".into(), |kb| (kb / 1024).to_string())
    );
    // SAFETY: as in `map`; MAP_HUGETLB is for hugetlbfs files only.
    let hugetlb = unsafe { MmapOptions::new().huge(None).map(&cx.file) };
    eprintln!("huge(None) on this file: {:?}", hugetlb.as_ref().err());

    let methods: Vec<(&str, Run, u64, usize)> = SCANS
        .iter()
        .map(|&(n, r)| (n, r, expect_scan, len))
        .chain(
            RANDOMS
                .iter()
                .map(|&(n, r)| (n, r, expect_random, RANDOM_READS * BLOCK)),
        )
        .collect();
    for &(name, run, expect, _) in &methods {
        assert_eq!(run(&cx), expect, "{name} summed wrong");
    }
    let mut samples: Vec<Vec<Sample>> = methods.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for k in 0..methods.len() {
            let i = (round + k) % methods.len();
            let (name, run, expect, _) = methods[i];
            let (f0, c0, t) = (minor_faults(), cpu_seconds(), Instant::now());
            let got = black_box(run(&cx));
            let wall = t.elapsed().as_secs_f64();
            let (cpu, faults) = (cpu_seconds() - c0, minor_faults() - f0);
            assert_eq!(got, expect, "{name} summed wrong");
            samples[i].push(Sample { wall, cpu, faults });
        }
    }
    println!("method\tGB/s\tCPU GB/s\tfaults");
    for (&(name, _, _, bytes), s) in methods.iter().zip(samples) {
        let gb = bytes as f64 / 1e9;
        let wall = median(s.iter().map(|s| s.wall).collect());
        let cpu = median(s.iter().map(|s| s.cpu).collect());
        let faults = median(s.iter().map(|s| s.faults as f64).collect());
        println!("{name}\t{:.2}\t{:.2}\t{faults:.0}", gb / wall, gb / cpu);
    }
    Ok(())
}
