//! `examples/records.rs` runs and does what the seed's program does: its
//! standard output is the seed's three lines once per half, and the file it
//! leaves holds the 100 records, record 43 changed to `{ 243, "RECORD-243" }`.
//!
//! The example binary is run where it was built (next to this test's
//! binary, in `target/<triple>/debug/examples/`; through `qemu-aarch64`
//! when this test runs under QEMU's user mode). Where it is not there (a
//! runner that ships only test binaries, or `cargo test --test records`
//! alone), the example's code runs in this process instead, included as a
//! module.

mod common;

#[path = "../examples/records.rs"]
#[allow(dead_code)]
mod records;

use std::path::{Path, PathBuf};
use std::process::Command;

use records::{CHANGED, FILE_LEN, NRECORDS, Record};

/// The seed's three lines, once per half.
const EXPECTED_STDOUT: &str = "\
integer: 43, string: RECORD-43
integer: 143, string: RECORD-143
integer: 243, string: RECORD-243
integer: 43, string: RECORD-43
integer: 143, string: RECORD-143
integer: 243, string: RECORD-243
";

/// The example binary built next to this test binary, if there is one.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<triple>/debug/deps/records-<hash> -> target/<triple>/debug
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join("examples").join("records");
    bin.is_file().then_some(bin)
}

/// A command that runs the example binary here: directly, or through
/// `qemu-aarch64` with the same page size when this test runs under QEMU.
fn example_command(bin: &Path) -> Command {
    if common::under_qemu_user() {
        let mut cmd = Command::new("qemu-aarch64");
        if let Some(size) = common::qemu_pagesize() {
            cmd.env("QEMU_PAGESIZE", size.to_string());
        }
        cmd.arg(bin);
        cmd
    } else {
        Command::new(bin)
    }
}

/// Checks the file the example left, byte by byte.
fn check_file(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len(), FILE_LEN);
    assert_eq!(FILE_LEN, 2800);
    for (i, raw) in bytes.chunks_exact(28).enumerate() {
        let n = if i == CHANGED { 243 } else { i as i32 };
        assert_eq!(
            i32::from_ne_bytes(raw[..4].try_into().unwrap()),
            n,
            "record {i}: integer"
        );
        let mut string = [0u8; 24];
        let text = format!("RECORD-{n}");
        string[..text.len()].copy_from_slice(text.as_bytes());
        assert_eq!(&raw[4..], &string, "record {i}: string (zero-padded)");
    }
    assert_eq!(bytes.chunks_exact(28).count(), NRECORDS);
}

/// Runs the example's code in this process on `path`; returns its standard
/// output and error.
fn run_in_process(path: &Path) -> (String, String) {
    let mut out = Vec::new();
    let mut log = Vec::new();
    records::run(path, &mut out, &mut log).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(log).unwrap(),
    )
}

#[test]
fn records_example_output_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.dat");
    let (stdout, stderr) = match example_binary() {
        Some(bin) => {
            let out = example_command(&bin).arg(&path).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(
                out.status.success(),
                "{}: {:?}\n{stderr}",
                bin.display(),
                out.status
            );
            (String::from_utf8(out.stdout).unwrap(), stderr)
        }
        None => {
            eprintln!("no example binary next to the test: running its code in-process");
            run_in_process(&path)
        }
    };
    assert_eq!(stdout, EXPECTED_STDOUT);
    assert!(
        stderr.contains(&format!("records file: {}", path.display())),
        "{stderr}"
    );
    check_file(&path);
}

#[test]
fn records_example_default_path_is_in_the_temp_dir() {
    let Some(bin) = example_binary() else {
        // In-process, the default path is the same function's answer.
        let dir = tempfile::tempdir().unwrap();
        let path = records::default_path();
        assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
        let path = dir.path().join(path.file_name().unwrap());
        let (stdout, _) = run_in_process(&path);
        assert_eq!(stdout, EXPECTED_STDOUT);
        check_file(&path);
        return;
    };
    // A private temporary directory, given to the example as TMPDIR.
    let dir = tempfile::tempdir().unwrap();
    let out = example_command(&bin)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), EXPECTED_STDOUT);
    let path = dir.path().join("rawmap-records.dat");
    assert!(
        stderr.contains(&format!("records file: {}", path.display())),
        "{stderr}"
    );
    check_file(&path);
}

#[test]
fn records_example_fails_cleanly_on_a_bad_path() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be created as a file.
    let path = dir.path().to_path_buf();
    match example_binary() {
        Some(bin) => {
            let out = example_command(&bin).arg(&path).output().unwrap();
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(out.stdout, b"");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(stderr.contains("records: "), "{stderr}");
        }
        None => {
            let mut out = Vec::new();
            assert!(records::run(&path, &mut out, &mut std::io::sink()).is_err());
            assert!(out.is_empty());
        }
    }
}

#[test]
fn records_in_process() {
    // The example's code under this test's own runner: both halves, each
    // half's file checked.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.dat");
    let mut out = Vec::new();
    records::run_raw(&path, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        EXPECTED_STDOUT[..EXPECTED_STDOUT.len() / 2]
    );
    check_file(&path);
    let mut out = Vec::new();
    records::run_safe(&path, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        EXPECTED_STDOUT[..EXPECTED_STDOUT.len() / 2]
    );
    check_file(&path);
    assert_eq!(Record::numbered(7).text(), "RECORD-7");
}
