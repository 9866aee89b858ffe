//! The example programs run and do what they say, started where cargo built
//! them (next to this test's binary, in `target/<triple>/debug/examples/`;
//! through QEMU's user mode when this test runs under it):
//!
//! - `examples/records.rs` does what the seed's program does: its standard
//!   output is the seed's three lines once per half, and the file it leaves
//!   holds the 100 records, record 43 changed to `{ 243, "RECORD-243" }`.
//!   Where the binary is not there (a runner that ships only test binaries,
//!   or `cargo test --test examples` alone), the example's code runs in this
//!   process instead, included as a module.
//! - `examples/shared.rs`, in both modes: what it prints, its exit status,
//!   and (file mode) the file it leaves. It must be there: `cargo test`
//!   builds the examples before it runs the tests.

mod common;

#[path = "../examples/records.rs"]
#[allow(dead_code)]
mod records;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{example_binary, target_command};
use records::{CHANGED, FILE_LEN, NRECORDS, Record};

// ---------------------------------------------------------------------------
// examples/records.rs

/// The seed's three lines, once per half.
const EXPECTED_STDOUT: &str = "\
integer: 43, string: RECORD-43
integer: 143, string: RECORD-143
integer: 243, string: RECORD-243
integer: 43, string: RECORD-43
integer: 143, string: RECORD-143
integer: 243, string: RECORD-243
";

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
    let (stdout, stderr) = match example_binary("records") {
        Some(bin) => {
            let out = target_command(&bin).arg(&path).output().unwrap();
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
    let Some(bin) = example_binary("records") else {
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
    let out = target_command(&bin)
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
    match example_binary("records") {
        Some(bin) => {
            let out = target_command(&bin).arg(&path).output().unwrap();
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

// ---------------------------------------------------------------------------
// examples/shared.rs

/// Records the example writes, and its layout (see examples/shared.rs).
const RECORDS: u64 = 10_000;
const HEADER_WORDS: usize = 8;
const RECORD_WORDS: usize = 2;
const LEN: usize = (HEADER_WORDS + RECORD_WORDS * RECORDS as usize) * 8;

/// The example's check word for record number `n`.
fn check_word(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ 0x5EED_5EED
}

/// The shared example, which must be there.
fn shared_example() -> PathBuf {
    example_binary("shared").unwrap_or_else(|| {
        panic!(
            "examples/shared is missing: run `cargo test` (which builds the examples) or \
             `cargo build --examples` for this target first"
        )
    })
}

fn run_shared(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = target_command(&shared_example());
    cmd.args(args).envs(env.iter().copied());
    let out = cmd.output().expect("start the shared example");
    eprintln!(
        "shared {args:?} ({}): {}\nstdout:\n{}stderr:\n{}",
        common::environment(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The pid printed on the line that starts with `who (pid `.
fn pid(stdout: &str, who: &str) -> u32 {
    let prefix = format!("{who} (pid ");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line of the {who}"));
    line[prefix.len()..]
        .split(')')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pid")
}

fn has_line(stdout: &str, start: &str, contains: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.starts_with(start) && l.contains(contains))
}

const ALL_INTACT: &str = "10000 of 10000 records, 0 lost, 0 torn";

#[test]
fn file_mode_two_processes_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.dat");
    let out = run_shared(&["file", path.to_str().unwrap()], &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "exit status {}", out.status);
    assert_ne!(pid(&stdout, "child"), pid(&stdout, "parent"));
    assert!(has_line(&stdout, "child (pid ", "wrote 10000 records in "));
    assert!(has_line(&stdout, "child: file on disk: ", ALL_INTACT));
    assert!(has_line(
        &stdout,
        "parent (pid ",
        &format!("saw {ALL_INTACT} in ")
    ));
    assert!(has_line(&stdout, "parent: file on disk: ", ALL_INTACT));

    // The file the two processes left, read independently here.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), LEN);
    let word = |i: usize| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!(word(0), RECORDS, "the published counter");
    for n in 1..=RECORDS {
        let i = HEADER_WORDS + (n as usize - 1) * RECORD_WORDS;
        assert_eq!((word(i), word(i + 1)), (n, check_word(n)), "record {n}");
    }
}

#[test]
fn anon_mode_shares_memory_with_a_forked_child() {
    let out = run_shared(&["anon"], &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "exit status {}", out.status);
    assert_ne!(pid(&stdout, "child"), pid(&stdout, "parent"));
    assert!(has_line(&stdout, "child (pid ", "wrote 10000 records in "));
    assert!(has_line(
        &stdout,
        "parent (pid ",
        &format!("saw {ALL_INTACT} in ")
    ));
    assert!(has_line(
        &stdout,
        "parent: shared memory after the child's exit: ",
        ALL_INTACT
    ));
}

/// The checker is not a rubber stamp: one wrong check word makes both
/// modes report a torn record and exit with status 1.
#[test]
fn a_torn_record_fails_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.dat");
    let torn = "10000 of 10000 records, 0 lost, 1 torn";
    for args in [vec!["file", path.to_str().unwrap()], vec!["anon"]] {
        let out = run_shared(&args, &[("SHARED_EXAMPLE_TEAR", "4321")]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            has_line(&stdout, "parent (pid ", &format!("saw {torn} in ")),
            "{args:?}"
        );
        assert!(stderr.contains("lost or torn") || stderr.contains("the child failed"));
    }
}
