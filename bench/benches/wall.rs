//! Wall times, every peer side by side in each group so that `bench/run.sh`
//! can report ratios to libc from one run. `cargo bench -p rawmap-bench`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rawmap_bench as b;

fn map_touch(c: &mut Criterion) {
    let page = rawmap::page_size();
    for pages in [1usize, 16, 256, 4096] {
        let len = pages * page;
        let mut g = c.benchmark_group("map_touch_all");
        if pages >= 256 {
            g.sample_size(10);
        }
        for &(peer, f) in b::MAPPERS {
            g.bench_with_input(BenchmarkId::new(peer, pages), &len, |bn, &len| {
                bn.iter(|| f(black_box(len), black_box(page)))
            });
        }
        g.finish();
    }
    let pages = 4096usize;
    let len = pages * page;
    let mut g = c.benchmark_group("map_touch_first");
    for &(peer, f) in b::MAPPERS {
        g.bench_with_input(BenchmarkId::new(peer, pages), &len, |bn, &len| {
            bn.iter(|| f(black_box(len), black_box(len)))
        });
    }
    g.finish();
}

fn msync(c: &mut Criterion) {
    let mut shared = b::SharedFile::new().expect("temporary file");
    let (raw, len) = (shared.raw, shared.len);
    let mut g = c.benchmark_group("msync_async");
    // `raw` is a writable shared mapping of `len` bytes that nothing else
    // uses while these run.
    for &(peer, f) in b::RAW_MSYNCS {
        // SAFETY: see above: the mapping is writable, shared and ours.
        g.bench_function(peer, |bn| bn.iter(|| unsafe { f(raw, len) }));
    }
    g.bench_function("rawmap_safe", |bn| {
        bn.iter(|| b::rawmap_flush_async(&mut shared.rawmap))
    });
    g.bench_function("memmap2", |bn| {
        bn.iter(|| b::memmap2_flush_async(&mut shared.memmap2))
    });
    g.finish();
}

fn page_size(c: &mut Criterion) {
    // After the first call: every peer has cached its answer.
    for &(_, f) in b::PAGE_SIZES {
        f();
    }
    let mut g = c.benchmark_group("page_size");
    for &(peer, f) in b::PAGE_SIZES {
        g.bench_function(peer, |bn| bn.iter(f));
    }
    g.finish();
}

fn config() -> Criterion {
    // Short runs: the whole of bench/run.sh stays within 15 minutes.
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = map_touch, msync, page_size
}
criterion_main!(benches);
