//! Interleaved wall-time ratios to libc: the check on criterion's numbers for
//! a shared, noisy machine. For each case, every round times one batch of
//! every peer back to back (in rotating order) and divides each peer's time
//! by libc's from the same round; the report is the median of those ratios
//! over the rounds, with the quartiles.
//!
//! `paired [ROUNDS]` prints `clock<TAB>group<TAB>param<TAB>peer<TAB>q1<TAB>median<TAB>q3<TAB>libc ns`,
//! `clock` being `wall` or `cpu` (this thread's user + system time, which
//! leaves out the time spent waiting for a CPU on a busy machine).

use std::hint::black_box;
use std::time::Instant;

use rawmap_bench as b;
use rawmap_bench::SharedFile;

/// A peer's run of one batch of `n` calls.
type Batch<'a> = (&'static str, Box<dyn FnMut(u32) + 'a>);

/// This thread's CPU time (user + system) in seconds: unlike the wall clock,
/// it does not run while the thread waits for a CPU that others are using.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the kernel to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The quartiles of `v` (sorted in place).
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (v[n / 4], v[n / 2], v[n * 3 / 4])
}

/// Times every peer's batch in `rounds` rounds and prints the ratios, by
/// the wall clock and by thread CPU time.
fn compare(group: &str, param: &str, rounds: usize, batch: u32, peers: &mut [Batch<'_>]) {
    let mut ratios = [
        vec![Vec::with_capacity(rounds); peers.len()],
        vec![Vec::with_capacity(rounds); peers.len()],
    ];
    let mut libc_ns = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    // One warm-up round, not recorded.
    for (_, f) in peers.iter_mut() {
        f(batch);
    }
    let mut secs = vec![[0.0; 2]; peers.len()];
    for round in 0..rounds {
        for k in 0..peers.len() {
            let i = (round + k) % peers.len();
            let (t, c) = (Instant::now(), thread_cpu());
            (peers[i].1)(batch);
            secs[i] = [t.elapsed().as_secs_f64(), thread_cpu() - c];
        }
        for clock in 0..2 {
            libc_ns[clock].push(secs[0][clock] * 1e9 / f64::from(batch));
            for (i, s) in secs.iter().enumerate() {
                ratios[clock][i].push(s[clock] / secs[0][clock]);
            }
        }
    }
    for (clock, name) in ["wall", "cpu"].into_iter().enumerate() {
        let libc = quartiles(&mut libc_ns[clock]).1;
        for (i, (peer, _)) in peers.iter().enumerate().skip(1) {
            let (q1, med, q3) = quartiles(&mut ratios[clock][i]);
            println!("{name}\t{group}\t{param}\t{peer}\t{q1:.3}\t{med:.3}\t{q3:.3}\t{libc:.1}");
        }
    }
}

fn mappers(len: usize, stride: usize) -> Vec<Batch<'static>> {
    b::MAPPERS
        .iter()
        .map(|&(name, f)| -> Batch<'static> {
            (
                name,
                Box::new(move |n| {
                    for _ in 0..n {
                        f(black_box(len), black_box(stride));
                    }
                }),
            )
        })
        .collect()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(41);
    let page = rawmap::page_size();
    for (pages, batch) in [(1usize, 200u32), (16, 50), (256, 4), (4096, 1)] {
        let mut peers = mappers(pages * page, page);
        compare(
            "map_touch_all",
            &pages.to_string(),
            rounds,
            batch,
            &mut peers,
        );
    }
    let mut peers = mappers(4096 * page, 4096 * page);
    compare("map_touch_first", "4096", rounds, 100, &mut peers);

    let mut shared = b::SharedFile::new().expect("temporary file");
    let (raw, len) = (shared.raw, shared.len);
    let SharedFile {
        rawmap: ref mut rmap,
        memmap2: ref mut mmap2,
        ..
    } = shared;
    let mut peers: Vec<Batch<'_>> = b::RAW_MSYNCS
        .iter()
        .map(|&(name, f)| -> Batch<'_> {
            (
                name,
                Box::new(move |n| {
                    for _ in 0..n {
                        // SAFETY: `raw` is a writable shared mapping of `len`
                        // bytes that nothing else uses meanwhile.
                        unsafe { f(raw, len) };
                    }
                }),
            )
        })
        .collect();
    peers.push((
        "rawmap_safe",
        Box::new(|n| {
            for _ in 0..n {
                b::rawmap_flush_async(rmap);
            }
        }),
    ));
    peers.push((
        "memmap2",
        Box::new(|n| {
            for _ in 0..n {
                b::memmap2_flush_async(mmap2);
            }
        }),
    ));
    compare("msync_async", "", rounds, 2000, &mut peers);
    drop(peers);

    let mut peers: Vec<Batch<'_>> = b::PAGE_SIZES
        .iter()
        .map(|&(name, f)| -> Batch<'_> {
            (
                name,
                Box::new(move |n| {
                    for _ in 0..n {
                        black_box(f());
                    }
                }),
            )
        })
        .collect();
    compare("page_size", "", rounds, 100_000, &mut peers);
}
