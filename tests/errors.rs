//! How errors read: [`strerror`] and [`ErrnoDisplay`] against the C
//! library's `strerror`, and the same error through `Errno`, `MmapError`
//! and `std::io::Error`, made by the kernel.

mod common;

use std::ffi::CStr;
use std::io::{self, ErrorKind};

use rawmap::{Errno, ErrnoDisplay, MmapOptions, Operation, strerror};

/// The C library's `strerror(n)`.
fn libc_strerror(n: i32) -> String {
    // SAFETY: strerror returns a NUL-terminated string that stays valid
    // until the next call; it is copied at once (the tests of this binary
    // that call it hold no other thread's copy).
    unsafe { CStr::from_ptr(libc::strerror(n)) }
        .to_string_lossy()
        .into_owned()
}

/// The errnos whose description musl's `strerror` (musl 1.2's
/// `src/errno/__strerror.h`) words differently from glibc's, which rawmap's
/// table follows: `EIO` is "I/O error", `ENOMEM` "Out of memory", ...
#[cfg(target_env = "musl")]
const MUSL_WORDS_DIFFER: &[i32] = &[
    5, 10, 12, 16, 18, 24, 25, 29, 33, 34, 35, 36, 40, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54,
    55, 56, 57, 59, 62, 64, 65, 66, 68, 69, 70, 73, 75, 76, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87,
    88, 90, 95, 98, 99, 101, 102, 103, 106, 107, 108, 109, 110, 113, 115, 117, 118, 119, 120, 122,
    130, 132, 133,
];

#[test]
fn strerror_has_the_c_librarys_words_for_every_errno() {
    let _g = common::serial();
    let mut described = 0;
    let mut differ: Vec<i32> = Vec::new();
    for n in -1..=200 {
        let ours = strerror(Errno::new(n));
        let theirs = libc_strerror(n);
        // glibc calls 0 "Success": no error, so no errno of rawmap's.
        let known = n != 0 && !theirs.starts_with("Unknown error");
        #[cfg(target_env = "gnu")]
        {
            // glibc: the same words for every errno it knows, and no words
            // where it knows none.
            assert_eq!(ours, known.then_some(theirs.as_str()), "errno {n}");
        }
        // musl: the same words except for the listed errnos.
        if ours.is_some_and(|ours| ours != theirs) {
            differ.push(n);
        }
        if let Some(text) = ours {
            described += 1;
            // Every described errno has a C name, so ErrnoDisplay shows both.
            let name = Errno::new(n).name().expect("a name");
            assert_eq!(
                ErrnoDisplay(Errno::new(n)).to_string(),
                format!("{name}: {text}")
            );
        } else {
            assert_eq!(
                ErrnoDisplay(Errno::new(n)).to_string(),
                format!("Unknown error {n}")
            );
        }
        let _ = known;
    }
    #[cfg(target_env = "musl")]
    assert_eq!(differ, MUSL_WORDS_DIFFER, "errnos musl words differently");
    #[cfg(not(target_env = "musl"))]
    assert!(differ.is_empty());
    // 1..=133 without 41 and 58, which Linux leaves unused.
    assert_eq!(described, 131);
}

/// The three views of one errno: ErrnoDisplay's words are std's words.
#[track_caller]
fn assert_same_words(errno: Errno, io: &io::Error) {
    let words = strerror(errno).unwrap();
    assert_eq!(io.raw_os_error(), Some(errno.into_raw()));
    assert_eq!(
        io.to_string(),
        format!("{words} (os error {})", errno.into_raw())
    );
    assert_eq!(
        ErrnoDisplay(errno).to_string(),
        format!("{}: {words}", errno.name().unwrap())
    );
}

#[test]
fn eacces_and_ebadf_read_the_same_every_way() {
    let _g = common::serial();
    // EACCES from the kernel: a shared read-only mapping made writable.
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(16).unwrap();
    let ro = std::fs::File::open(file.path()).unwrap();
    // SAFETY: the temporary file is private to this test.
    let map = unsafe { MmapOptions::new().map(&ro) }.unwrap();
    let err = map.make_mut().unwrap_err();
    assert_eq!(
        (err.errno(), err.operation()),
        (Errno::EACCES, Operation::MakeMut)
    );
    assert_eq!(
        err.to_string(),
        "make_mut (mprotect) failed: EACCES: Permission denied"
    );
    let io: io::Error = err.into();
    assert_eq!(io.kind(), ErrorKind::PermissionDenied);
    assert_same_words(Errno::EACCES, &io);

    // EBADF from the kernel: a descriptor that is not open.
    // SAFETY: nothing gets mapped.
    let errno = unsafe { MmapOptions::new().len(1).map(1 << 20) }.unwrap_err();
    assert_eq!(errno, Errno::EBADF);
    assert_eq!(
        ErrnoDisplay(errno).to_string(),
        "EBADF: Bad file descriptor"
    );
    let io = io::Error::from(errno);
    // std has no kind of its own for EBADF.
    assert_eq!(format!("{:?}", io.kind()), "Uncategorized");
    assert_same_words(errno, &io);
}

#[test]
fn mmap_errors_name_the_operation() {
    let _g = common::serial();
    for (op, text) in [
        (Operation::MakeMut, "make_mut (mprotect)"),
        (Operation::MakeReadOnly, "make_read_only (mprotect)"),
        (Operation::MakeExec, "make_exec (mprotect)"),
        (Operation::Unmap, "unmap (munmap)"),
        (Operation::Remap, "remap (mremap)"),
        (Operation::Seal, "seal (mseal)"),
    ] {
        assert_eq!(op.to_string(), text);
        assert_eq!(text, format!("{} ({})", op.method(), op.syscall()));
    }
}
