//! Runs `examples/shared.rs` in both modes and checks what it prints, its
//! exit status, and (file mode) the file it leaves.
//!
//! The example binary is the one cargo built next to this test
//! (`target/[<triple>/]debug/examples/shared`): `cargo test` builds the
//! examples before it runs the tests. Under QEMU's user mode it is an
//! aarch64 binary, started here through `qemu-aarch64`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Records the example writes, and its layout (see examples/shared.rs).
const RECORDS: u64 = 10_000;
const HEADER_WORDS: usize = 8;
const RECORD_WORDS: usize = 2;
const LEN: usize = (HEADER_WORDS + RECORD_WORDS * RECORDS as usize) * 8;

/// The example's check word for record number `n`.
fn check_word(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ 0x5EED_5EED
}

fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // .../debug/deps/shared_example-HASH -> .../debug/examples/shared
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join("shared");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test` (which builds the examples) or \
         `cargo build --examples` for this target first",
        path.display()
    );
    path
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = if common::under_qemu_user() {
        let mut cmd = Command::new(format!("qemu-{}", std::env::consts::ARCH));
        cmd.arg(example());
        cmd
    } else {
        Command::new(example())
    };
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
    let out = run(&["file", path.to_str().unwrap()], &[]);
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
    let out = run(&["anon"], &[]);
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
        let out = run(&args, &[("SHARED_EXAMPLE_TEAR", "4321")]);
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
