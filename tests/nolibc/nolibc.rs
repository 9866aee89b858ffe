//! Builds `examples/nolibc` (a `#![no_std]`, `#![no_main]` program with its
//! own `_start`) for x86_64 and aarch64 musl, runs it natively and under
//! `qemu-aarch64` (4K, 16K and 64K pages), and checks its output, the file
//! it leaves, its ELF headers (static: no `PT_INTERP`, no dynamic section)
//! and its size (at most 2,944 bytes on x86_64, 3,072 on aarch64).
//!
//! A package of its own (tests/nolibc/Cargo.toml), run on an x86_64 host
//! with both musl targets and `qemu-aarch64` installed:
//! `cargo test --manifest-path tests/nolibc/Cargo.toml`. The root package's
//! `cargo test` needs neither.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// What the seed's program prints, and `examples/records.rs` too.
const EXPECTED: &str = "integer: 43, string: RECORD-43\n\
                        integer: 143, string: RECORD-143\n\
                        integer: 243, string: RECORD-243\n";

/// The size each build is held to: what the program weighs without an
/// `.eh_frame` (a stray one, brought in by a core iterator adapter's
/// personality function, adds about 900 bytes).
fn size_limit(target: &str) -> u64 {
    if target.starts_with("aarch64") {
        3072
    } else {
        2944
    }
}

/// The repository's root (this package lives in tests/nolibc).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn crate_dir() -> PathBuf {
    root().join("examples/nolibc")
}

/// `cargo build --release` of examples/nolibc for `target`, in its own
/// target directory. Cargo runs in the crate's directory so that its
/// `.cargo/config.toml` (the link arguments) applies.
fn cargo_build(target: &str, features: &[&str], target_dir: &str) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = root().join(target_dir);
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate_dir())
        .args(["build", "--release", "--manifest-path", "Cargo.toml"])
        .args(["--target", target])
        .arg("--target-dir")
        .arg(&target_dir);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().expect("run cargo")
}

/// Builds the program for `target` and returns the binary's path.
fn build(target: &str) -> PathBuf {
    let out = cargo_build(target, &[], "target/nolibc-test");
    assert!(
        out.status.success(),
        "building examples/nolibc for {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    root()
        .join("target/nolibc-test")
        .join(target)
        .join("release/nolibc")
}

/// Runs `bin` in `dir` (through `qemu-aarch64` for aarch64, with
/// `QEMU_PAGESIZE` if given), with `args`.
fn run(bin: &Path, target: &str, page: Option<&str>, dir: &Path, args: &[&Path]) -> Output {
    let mut cmd = if target.starts_with("aarch64") {
        let mut cmd = Command::new("qemu-aarch64");
        cmd.arg(bin);
        cmd
    } else {
        Command::new(bin)
    };
    cmd.current_dir(dir).args(args).env_remove("QEMU_PAGESIZE");
    if let Some(page) = page {
        cmd.env("QEMU_PAGESIZE", page);
    }
    cmd.output().expect("run the nolibc program")
}

/// The records file the program leaves: 100 records `{ i, "RECORD-i" }`,
/// NUL-padded to 24 bytes, except record 43 = `{ 243, "RECORD-243" }`.
fn check_records_file(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len(), 2800, "{}", path.display());
    for (i, rec) in bytes.chunks_exact(28).enumerate() {
        let n = if i == 43 { 243 } else { i as i32 };
        let mut string = [0u8; 24];
        let text = format!("RECORD-{n}");
        string[..text.len()].copy_from_slice(text.as_bytes());
        assert_eq!(
            i32::from_ne_bytes(rec[..4].try_into().unwrap()),
            n,
            "record {i}"
        );
        assert_eq!(rec[4..], string, "record {i}");
    }
}

/// Checks the ELF file: a static executable (`ET_EXEC`) for the target's
/// machine, with no `PT_INTERP` and no `PT_DYNAMIC` program header and no
/// `SHT_DYNAMIC` section. Parsed here rather than with readelf.
fn check_static_elf(bin: &Path, target: &str) -> Vec<u32> {
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const SHT_DYNAMIC: u32 = 6;
    const ET_EXEC: u16 = 2;
    let elf = std::fs::read(bin).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "ELFCLASS64");
    assert_eq!(elf[5], 1, "little-endian");
    assert_eq!(u16_at(16), ET_EXEC, "{target}: not a non-PIE executable");
    let machine = if target.starts_with("aarch64") {
        183
    } else {
        62
    };
    assert_eq!(u16_at(18), machine, "{target}: e_machine");

    let (phoff, phentsize, phnum) = (u64_at(32), usize::from(u16_at(54)), usize::from(u16_at(56)));
    let types: Vec<u32> = (0..phnum).map(|i| u32_at(phoff + i * phentsize)).collect();
    assert!(
        !types.contains(&PT_INTERP),
        "{target}: PT_INTERP in {types:?}"
    );
    assert!(
        !types.contains(&PT_DYNAMIC),
        "{target}: PT_DYNAMIC in {types:?}"
    );

    let (shoff, shentsize, shnum) = (u64_at(40), usize::from(u16_at(58)), usize::from(u16_at(60)));
    for i in 0..shnum {
        let sh_type = u32_at(shoff + i * shentsize + 4);
        assert_ne!(sh_type, SHT_DYNAMIC, "{target}: section {i} is SHT_DYNAMIC");
    }
    types
}

fn check_target(target: &str) {
    let bin = build(target);
    let size = std::fs::metadata(&bin).unwrap().len();
    let types = check_static_elf(&bin, target);
    eprintln!("{target}: {size} bytes, program header types {types:?}");
    assert!(
        size <= size_limit(target),
        "{target}: {size} bytes, more than {}",
        size_limit(target)
    );

    let pages: &[Option<&str>] = if target.starts_with("aarch64") {
        &[None, Some("16384"), Some("65536")]
    } else {
        &[None]
    };
    for &page in pages {
        // With an explicit path, and with the default `records.dat`.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("explicit.dat");
        for (args, file) in [
            (vec![path.as_path()], path.clone()),
            (vec![], dir.path().join("records.dat")),
        ] {
            let out = run(&bin, target, page, dir.path(), &args);
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(
                out.status.success(),
                "{target} (QEMU_PAGESIZE {page:?}): {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(stdout, EXPECTED, "{target} (QEMU_PAGESIZE {page:?})");
            assert!(out.stderr.is_empty());
            check_records_file(&file);
        }
    }

    // A path it cannot create: a one-line message and status 1.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("missing/dir/records.dat");
    let out = run(&bin, target, None, dir.path(), &[bad.as_path()]);
    assert_eq!(out.status.code(), Some(1), "{target}");
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "nolibc: errno 2\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn nolibc_x86_64() {
    check_target(TARGETS[0]);
}

#[test]
fn nolibc_aarch64_under_qemu() {
    check_target(TARGETS[1]);
}

/// The panic handler's undefined symbol really guards the build: with one
/// panic path left in on purpose, the link fails and names that symbol.
#[test]
fn a_surviving_panic_path_fails_the_link() {
    let out = cargo_build(TARGETS[0], &["panic-canary"], "target/nolibc-test-canary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the canary build linked");
    assert!(
        stderr.contains("rawmap_nolibc_a_panic_path_survived_optimisation"),
        "{stderr}"
    );
}
