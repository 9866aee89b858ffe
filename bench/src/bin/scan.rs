//! File scan: sum every byte of a 256 MiB file in the page cache, through
//! rawmap's `Mmap` (plain, `populate()`, `advise(Sequential)`), memmap2, and
//! `read()` into a 1 MiB buffer.
//!
//! `scan [MIB] [ROUNDS]` prints one line per method: `method GB/s`, the
//! median over the rounds; every round runs every method once, in a
//! rotating order, so that the methods share the machine's noise.

use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Write};
use std::time::Instant;

/// The sum every method computes: the same code for all of them.
#[inline(never)]
fn sum(bytes: &[u8]) -> u64 {
    // u32 lanes vectorise well; a chunk of 64 KiB cannot overflow them.
    bytes
        .chunks(1 << 16)
        .map(|c| u64::from(c.iter().map(|&b| u32::from(b)).sum::<u32>()))
        .sum()
}

type Method = (&'static str, fn(&File, usize) -> u64);

const METHODS: &[Method] = &[
    ("rawmap Mmap", |f, _| {
        // SAFETY: the file is ours and nobody changes it meanwhile.
        let map = unsafe { rawmap::MmapOptions::new().map(f) }.expect("rawmap map");
        sum(&map)
    }),
    ("rawmap Mmap populate()", |f, _| {
        // SAFETY: as above.
        let map = unsafe { rawmap::MmapOptions::new().populate().map(f) }.expect("rawmap map");
        sum(&map)
    }),
    ("rawmap Mmap advise(Sequential)", |f, _| {
        // SAFETY: as above.
        let map = unsafe { rawmap::MmapOptions::new().map(f) }.expect("rawmap map");
        map.advise(rawmap::Advice::Sequential).expect("advise");
        sum(&map)
    }),
    ("memmap2 Mmap", |f, _| {
        // SAFETY: as above.
        let map = unsafe { memmap2::Mmap::map(f) }.expect("memmap2 map");
        sum(&map)
    }),
    ("read() 1 MiB buffer", |mut f, _| {
        use std::io::Seek;
        f.rewind().expect("rewind");
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break total;
            }
            total += sum(&buf[..n]);
        }
    }),
];

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let len = mib << 20;

    let path = std::env::temp_dir().join(format!("rawmap-scan-{}.bin", std::process::id()));
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    let _ = std::fs::remove_file(&path); // the open descriptor keeps it
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for _ in 0..mib {
        file.write_all(&block)?;
    }
    file.flush()?;
    let expect = sum(&block) * mib as u64;

    // Warm the cache, and every method once.
    for (name, f) in METHODS {
        assert_eq!(f(&file, len), expect, "{name} summed wrong");
    }
    let mut secs = vec![Vec::new(); METHODS.len()];
    for round in 0..rounds {
        for k in 0..METHODS.len() {
            let i = (round + k) % METHODS.len();
            let t = Instant::now();
            let got = black_box(METHODS[i].1(&file, len));
            secs[i].push(t.elapsed().as_secs_f64());
            assert_eq!(got, expect);
        }
    }
    for (i, (name, _)) in METHODS.iter().enumerate() {
        let s = &mut secs[i];
        s.sort_by(f64::total_cmp);
        let median = s[s.len() / 2];
        println!("{name}\t{:.2}", len as f64 / median / 1e9);
    }
    Ok(())
}
