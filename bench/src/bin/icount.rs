//! Instruction-count driver: `icount CASE N` runs one case N times inside
//! `rawmap_bench_measure`, the only function callgrind counts
//! (`valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect=rawmap_bench_measure`). `bench/run.sh` runs every case
//! with N and with 0 iterations and subtracts the `empty` case, which leaves
//! the user-space instructions of one call of the case itself.
//!
//! `icount list` prints the case names.

use std::hint::black_box;

use rawmap_bench as b;

/// One case: its name and the function that runs it once.
type Case = (&'static str, fn(&mut Ctx));

/// What the cases need, set up before counting starts.
pub struct Ctx {
    page: usize,
    shared: b::SharedFile,
    modern: b::Modern,
}

/// The cases, named `group/peer`.
const CASES: &[Case] = &[
    ("empty/none", |c| b::empty(c.page, c.page)),
    ("mmap_touch_munmap/libc", |c| b::libc_map(c.page, c.page)),
    ("mmap_touch_munmap/rustix", |c| {
        b::rustix_map(c.page, c.page)
    }),
    ("mmap_touch_munmap/syscalls", |c| {
        b::syscalls_map(c.page, c.page)
    }),
    ("mmap_touch_munmap/rawmap", |c| {
        b::rawmap_map(c.page, c.page)
    }),
    ("safe_map_anon_drop/rawmap", |c| {
        b::rawmap_safe_map(c.page, c.page)
    }),
    ("safe_map_anon_drop/memmap2", |c| {
        b::memmap2_map(c.page, c.page)
    }),
    // `shared.raw` is a writable shared mapping of `shared.len` bytes that
    // only the four raw msync cases use.
    // SAFETY: as said above.
    ("msync_async/libc", |c| unsafe {
        b::libc_msync(c.shared.raw, c.shared.len)
    }),
    // SAFETY: as for msync_async/libc.
    ("msync_async/rustix", |c| unsafe {
        b::rustix_msync(c.shared.raw, c.shared.len)
    }),
    // SAFETY: as for msync_async/libc.
    ("msync_async/syscalls", |c| unsafe {
        b::syscalls_msync(c.shared.raw, c.shared.len)
    }),
    // SAFETY: as for msync_async/libc.
    ("msync_async/rawmap", |c| unsafe {
        b::rawmap_msync(c.shared.raw, c.shared.len)
    }),
    ("safe_flush_async/rawmap", |c| {
        b::rawmap_flush_async(&mut c.shared.rawmap)
    }),
    ("safe_flush_async/memmap2", |c| {
        b::memmap2_flush_async(&mut c.shared.memmap2)
    }),
    ("page_size/libc", |_| {
        black_box(b::libc_page_size());
    }),
    ("page_size/rustix", |_| {
        black_box(b::rustix_page_size());
    }),
    ("page_size/rawmap", |_| {
        black_box(b::rawmap_page_size());
    }),
    // The raw calls since Linux 4.4, on `modern`'s page (libc only where
    // the libc crate has a wrapper).
    ("mlock2_onfault/libc", |c| b::libc_mlock2(&c.modern)),
    ("mlock2_onfault/syscalls", |c| b::syscalls_mlock2(&c.modern)),
    ("mlock2_onfault/rawmap", |c| b::rawmap_mlock2(&c.modern)),
    ("mlockall_munlockall/libc", |c| b::libc_mlockall(&c.modern)),
    ("mlockall_munlockall/syscalls", |c| {
        b::syscalls_mlockall(&c.modern)
    }),
    ("mlockall_munlockall/rawmap", |c| {
        b::rawmap_mlockall(&c.modern)
    }),
    ("mseal_empty/syscalls", |c| b::syscalls_mseal(&c.modern)),
    ("mseal_empty/rawmap", |c| b::rawmap_mseal(&c.modern)),
    ("process_madvise_cold/syscalls", |c| {
        b::syscalls_process_madvise(&c.modern)
    }),
    ("process_madvise_cold/rawmap", |c| {
        b::rawmap_process_madvise(&c.modern)
    }),
    ("pkey_alloc_free/syscalls", |c| {
        b::syscalls_pkey_alloc_free(&c.modern)
    }),
    ("pkey_alloc_free/rawmap", |c| {
        b::rawmap_pkey_alloc_free(&c.modern)
    }),
    ("pkey_mprotect/syscalls", |c| {
        b::syscalls_pkey_mprotect(&c.modern)
    }),
    ("pkey_mprotect/rawmap", |c| {
        b::rawmap_pkey_mprotect(&c.modern)
    }),
];

/// The counted loop. Its name is what callgrind's `--toggle-collect` names.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "Rust" fn rawmap_bench_measure(ctx: &mut Ctx, f: fn(&mut Ctx), n: u64) {
    let mut i = 0;
    while i < n {
        black_box(f)(ctx);
        i += 1;
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    if name == "list" {
        for (name, _) in CASES {
            println!("{name}");
        }
        return;
    }
    let Some(&(_, f)) = CASES.iter().find(|(n, _)| *n == name) else {
        eprintln!("usage: icount CASE N | icount list");
        std::process::exit(2);
    };
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let mut ctx = Ctx {
        page: rawmap::page_size(),
        shared: b::SharedFile::new().expect("temporary file"),
        modern: b::Modern::new().expect("a page and a pidfd"),
    };
    // Warm every lazily-initialised path (page size caches, first faults).
    f(&mut ctx);
    b::libc_page_size();
    b::rustix_page_size();
    rawmap_bench_measure(&mut ctx, f, n);
}
