//! The seed's records program with no libc at all.
//!
//! The kernel starts this program at `_start` with nothing but the initial
//! stack: `argc`, the `argv` pointers, the `envp` pointers and the aux
//! vector. From there it finds its output path (`argv[1]`, default
//! `records.dat`) and the page size (`AT_PAGESZ`, handed to
//! [`rawmap::set_page_size`]), then:
//!
//! 1. creates the file and writes 100 records `{ i, "RECORD-i" }`;
//! 2. reads record 43 back (`pread64`), prints it, changes it to
//!    `{ 143, "RECORD-143" }` and writes it back (`pwrite64`);
//! 3. opens the file again, maps the 100 records shared and writable through
//!    rawmap's safe layer, prints record 43 from the mapping, changes it to
//!    `{ 243, "RECORD-243" }` in place, `msync(MS_ASYNC)`, `munmap`;
//! 4. reads record 43 from the file and prints it.
//!
//! The file is a [`rawmap::File`] (opened with `openat`, closed on drop)
//! and everything about mapping is rawmap's; writing to standard output and
//! error and exiting are the program's own raw system calls through the
//! `syscalls` crate. Any failing call ends the program
//! with status 1 after one line on standard error, `nolibc: errno N`.
//!
//! There is no panic path in the program: the panic handler calls a
//! function that is declared but defined nowhere, so the link fails if the
//! optimiser leaves any panic (index, overflow, `unwrap`) in the code of
//! this program, rawmap or `syscalls`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use core::ffi::{CStr, c_char};

use rawmap::{File, MmapOptions, RawFd};
use syscalls::{Errno, Sysno, syscall1, syscall3};

/// The seed's `RECORD`: `{ int integer; char string[24]; }`.
const RECORD_SIZE: usize = 28;
const STRING_SIZE: usize = 24;
/// The seed's `NRECORDS`.
const NRECORDS: usize = 100;
/// The record the program reads and changes.
const CHOSEN: usize = 43;

/// `AT_PAGESZ`, `AT_NULL`: aux vector keys.
const AT_PAGESZ: usize = 6;
const AT_NULL: usize = 0;

/// The byte offset of the chosen record in the file.
const CHOSEN_AT: u64 = (CHOSEN * RECORD_SIZE) as u64;

const STDOUT: RawFd = 1;
const STDERR: RawFd = 2;

/// The entry point: hands the initial stack pointer to [`start`].
///
/// The kernel enters with the stack pointer at `argc` and no return
/// address; the frame pointer and link register are cleared so that
/// nothing walks past this frame.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    // `rsp` is 16-byte aligned at entry; `call` pushes 8 bytes, as the ABI
    // expects at a function's first instruction.
    core::arch::naked_asm!(
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call {start}",
        "ud2",
        start = sym start,
    )
}

/// The entry point: hands the initial stack pointer to [`start`].
///
/// The kernel enters with the stack pointer at `argc` (16-byte aligned) and
/// no return address; the frame pointer and link register are cleared so
/// that nothing walks past this frame.
#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mov x29, xzr",
        "mov x30, xzr",
        "mov x0, sp",
        "bl {start}",
        "udf #0",
        start = sym start,
    )
}

/// The C string at `p`, up to its NUL. (`CStr::from_ptr` would call
/// `strlen`, which only a libc provides.)
///
/// # Safety
///
/// `p` points to a NUL-terminated string that lives as long as the
/// program (an `argv` entry).
unsafe fn c_str(p: *const c_char) -> &'static CStr {
    let mut len = 0;
    // SAFETY: every byte up to and including the NUL is readable, and the
    // slice ends at the NUL, which is its only zero byte.
    unsafe {
        while *p.add(len) != 0 {
            len += 1;
        }
        CStr::from_bytes_with_nul_unchecked(core::slice::from_raw_parts(p.cast(), len + 1))
    }
}

/// Reads the initial stack, then runs the program and exits.
///
/// # Safety
///
/// `sp` is the stack pointer the kernel started the process with: `argc`,
/// then `argc` argument pointers and a null, the environment pointers and a
/// null, then the aux vector's key/value pairs up to `AT_NULL`.
unsafe extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout, as described above; every
    // read stays inside the vectors it laid out.
    let (path, page) = unsafe {
        let argc = *sp;
        let argv = sp.add(1);
        let path = if argc > 1 {
            c_str(*argv.add(1) as *const c_char)
        } else {
            c"records.dat"
        };
        let mut p = argv.add(argc + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p = p.add(1);
        let mut page = 0;
        while *p != AT_NULL {
            if *p == AT_PAGESZ {
                page = *p.add(1);
            }
            p = p.add(2);
        }
        (path, page)
    };
    // A missing or bad entry is ignored, and rawmap finds the size itself.
    rawmap::set_page_size(page);
    #[cfg(feature = "panic-canary")]
    {
        // An index the optimiser cannot check away: a panic path survives,
        // and the link must fail.
        let canary = core::hint::black_box([0u8; 2]);
        if canary[core::hint::black_box(page)] != 0 {
            exit(3);
        }
    }
    let status = match run(path) {
        Ok(()) => 0,
        Err(errno) => {
            let mut digits = [0u8; 10];
            let mut line = [0u8; 32];
            let code = decimal(errno.into_raw().unsigned_abs(), &mut digits);
            let len = concat(&mut line, &[b"nolibc: errno ", code, b"\n"]);
            let _ = write_line(STDERR, line.get(..len).unwrap_or_default());
            1
        }
    };
    exit(status)
}

/// The records job. On failure, the errno of the call that failed.
fn run(path: &CStr) -> Result<(), Errno> {
    // 1. Create the file and write the records with plain file I/O.
    let file = File::create(path)?;
    let mut at = 0;
    for i in 0..NRECORDS {
        file.write_all_at(&record(i as u32), at)?;
        at += RECORD_SIZE as u64;
    }

    // 2. Read the chosen record back, print it, change it, write it back.
    let mut rec = [0u8; RECORD_SIZE];
    file.read_exact_at(&mut rec, CHOSEN_AT)?;
    print_record(&rec)?;
    file.write_all_at(&record(CHOSEN as u32 + 100), CHOSEN_AT)?;
    drop(file);

    // 3. Map the file, print and change the record in place, flush, unmap.
    let file = File::open_rw(path)?;
    // SAFETY: this program alone uses the file while it is mapped, and
    // nobody truncates it.
    let mut map = unsafe {
        MmapOptions::new()
            .len(NRECORDS * RECORD_SIZE)
            .map_mut(&file)
    }?;
    let at = CHOSEN * RECORD_SIZE;
    let mapped = map.get_mut(at..at + RECORD_SIZE).ok_or(Errno::EINVAL)?;
    print_record(mapped)?;
    concat(mapped, &[&record(CHOSEN as u32 + 200)]);
    map.flush_async()?;
    map.unmap()?;

    // 4. Read the record from the file once more: the change reached it.
    file.read_exact_at(&mut rec, CHOSEN_AT)?;
    print_record(&rec)
}

/// Record `n`: `{ n, "RECORD-n" }`, the rest of the string zero.
fn record(n: u32) -> [u8; RECORD_SIZE] {
    let mut rec = [0u8; RECORD_SIZE];
    let mut digits = [0u8; 10];
    let parts: [&[u8]; 3] = [&n.to_ne_bytes(), b"RECORD-", decimal(n, &mut digits)];
    // At most 4 + 7 + 10 bytes: the string's NUL and padding stay zero.
    concat(&mut rec, &parts);
    rec
}

/// Copies `parts` one after the other into `out`, as far as they fit;
/// returns the number of bytes copied.
fn concat(out: &mut [u8], parts: &[&[u8]]) -> usize {
    // Plain loops: core's iterator adapters (`zip`, `flat_map`, `position`)
    // carry unwinding metadata that would put an `.eh_frame` section into
    // this `panic = "abort"` program.
    let mut len = 0;
    for part in parts {
        for &byte in *part {
            let Some(slot) = out.get_mut(len) else {
                return len;
            };
            *slot = byte;
            len += 1;
        }
    }
    len
}

/// Prints `integer: N, string: S` for a record's 28 bytes.
fn print_record(rec: &[u8]) -> Result<(), Errno> {
    let (Some(int), Some(string)) = (rec.first_chunk::<4>(), rec.get(4..4 + STRING_SIZE)) else {
        return Err(Errno::EINVAL);
    };
    let n = i32::from_ne_bytes(*int);
    let mut end = 0;
    for &byte in string {
        if byte == 0 {
            break;
        }
        end += 1;
    }
    let string = string.get(..end).unwrap_or_default();
    let mut line = [0u8; 64];
    let mut digits = [0u8; 10];
    let sign: &[u8] = if n < 0 { b"-" } else { b"" };
    let parts: [&[u8]; 6] = [
        b"integer: ",
        sign,
        decimal(n.unsigned_abs(), &mut digits),
        b", string: ",
        string,
        b"\n",
    ];
    // 9 + 1 + 10 + 10 + 24 + 1 bytes at most: the line always fits.
    let len = concat(&mut line, &parts);
    write_line(STDOUT, line.get(..len).unwrap_or_default())
}

/// `n` in decimal, in the tail of `buf`.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    // u32::MAX has 10 digits, so the loop ends before the buffer does.
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// A descriptor as a system call argument: sign-extended, as the kernel's
/// `int` reading expects.
fn reg(fd: RawFd) -> usize {
    fd as isize as usize
}

/// Writes `line` (at most 64 bytes) to `fd` with one `write`. The program
/// installs no signal handler, so the call is not interrupted, and a pipe
/// takes up to `PIPE_BUF` (4096) bytes whole; anything short of the whole
/// line is `EIO`.
fn write_line(fd: RawFd, line: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel reads at most `line.len()` bytes from `line`.
    let n = unsafe { syscall3(Sysno::write, reg(fd), line.as_ptr() as usize, line.len()) }?;
    if n == line.len() {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

fn exit(status: usize) -> ! {
    // SAFETY: exit_group ends every thread of the process and never returns.
    unsafe {
        let _ = syscall1(Sysno::exit_group, status);
        core::hint::unreachable_unchecked()
    }
}

/// `memset`, which LLVM calls to zero larger buffers on aarch64 (rawmap's
/// 768-byte aux vector buffer): without a libc, the program supplies it.
/// Written in assembly so that the compiler cannot turn its loop back into
/// a call to itself.
///
/// # Safety
///
/// `dst` is valid for writes of `n` bytes.
#[cfg(target_arch = "aarch64")]
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, c: core::ffi::c_int, n: usize) -> *mut u8 {
    // SAFETY: the loop writes exactly the `n` bytes from `dst` on, which the
    // caller vouches for.
    unsafe {
        core::arch::asm!(
            "cbz {n}, 2f",
            "1:",
            "strb {c:w}, [{p}], #1",
            "subs {n}, {n}, #1",
            "b.ne 1b",
            "2:",
            p = inout(reg) dst => _,
            n = inout(reg) n => _,
            c = in(reg) c,
            options(nostack),
        );
    }
    dst
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        /// Defined nowhere: a reference to it that survives optimisation
        /// fails the link, which is how this program proves that no panic
        /// path is left in it.
        fn rawmap_nolibc_a_panic_path_survived_optimisation() -> !;
    }
    // SAFETY: never executed: the link fails if this call is reachable.
    unsafe { rawmap_nolibc_a_panic_path_survived_optimisation() }
}
