//! The seed's records program, ported to rawmap: write 100 fixed-size
//! records to a file, change record 43 with ordinary file I/O, then again
//! through a shared mapping of the file, and read the result back.
//!
//! It runs twice over the same file: first on the raw layer (`mmap`,
//! `msync(MS_ASYNC)`, `munmap`, as the seed does), then on the safe layer
//! (`MmapMut::open`, indexing, `flush_async`, drop). Each half starts by
//! writing the 100 records afresh.
//!
//! ```text
//! cargo run --example records [PATH]
//! ```
//!
//! `PATH` is the file to write (default: `rawmap-records.dat` in the system's
//! temporary directory).
//!
//! # Output
//!
//! Standard output holds exactly six lines, the seed's three lines once per
//! half, so it can be compared byte for byte with another program's:
//!
//! ```text
//! integer: 43, string: RECORD-43
//! integer: 143, string: RECORD-143
//! integer: 243, string: RECORD-243
//! integer: 43, string: RECORD-43
//! integer: 143, string: RECORD-143
//! integer: 243, string: RECORD-243
//! ```
//!
//! The first line of each half is read with file I/O, the second through
//! the mapping, the third with file I/O after the mapping is gone. The path
//! of the file and the name of each half go to standard error. Any failed
//! call ends the program with a message and exit status 1.
//!
//! The file left behind holds exactly the 100 records (2,800 bytes): record
//! `i` is `{ i, "RECORD-i" }` with the rest of `string` zero-filled, except
//! record 43, which is `{ 243, "RECORD-243" }`.

use std::error::Error;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use bytemuck::{Pod, Zeroable};
use rawmap::{MapFlags, MmapMut, MsyncFlags, Prot};

/// One record, laid out as the seed's C `struct { int integer; char
/// string[24]; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Record {
    /// The record's number (or its changed value).
    pub integer: i32,
    /// `RECORD-<n>`, NUL-padded to 24 bytes.
    pub string: [u8; 24],
}

static_assertions::assert_eq_size!(Record, [u8; 28]);
static_assertions::const_assert_eq!(core::mem::align_of::<Record>(), 4);

/// How many records the file holds.
pub const NRECORDS: usize = 100;
/// The record the program changes.
pub const CHANGED: usize = 43;
/// The size of the file: 2,800 bytes.
pub const FILE_LEN: usize = NRECORDS * size_of::<Record>();

type Result<T> = std::result::Result<T, Box<dyn Error>>;

impl Record {
    /// `{ n, "RECORD-n" }`, the unused bytes of `string` zero.
    pub fn numbered(n: i32) -> Self {
        let mut string = [0u8; 24];
        let text = format!("RECORD-{n}");
        string[..text.len()].copy_from_slice(text.as_bytes());
        Self { integer: n, string }
    }

    /// `string` up to its first NUL, as the C program's `%s` prints it.
    pub fn text(&self) -> &str {
        let end = self.string.iter().position(|&b| b == 0).unwrap_or(24);
        std::str::from_utf8(&self.string[..end]).unwrap_or("<not UTF-8>")
    }
}

/// The byte offset of record `i` in the file.
fn offset_of(i: usize) -> u64 {
    (i * size_of::<Record>()) as u64
}

fn print(out: &mut impl Write, r: &Record) -> Result<()> {
    writeln!(out, "integer: {}, string: {}", r.integer, r.text())?;
    Ok(())
}

/// Creates (or truncates) the file and writes records `0..100`.
fn write_records(path: &Path) -> Result<()> {
    let records: Vec<Record> = (0..NRECORDS as i32).map(Record::numbered).collect();
    let mut file = File::create(path)?;
    file.write_all(bytemuck::cast_slice(&records))?;
    file.sync_all()?;
    Ok(())
}

/// Reads record 43 with file I/O, prints it, and rewrites it as
/// `{ 143, "RECORD-143" }`.
fn change_with_file_io(path: &Path, out: &mut impl Write) -> Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let mut record = Record::zeroed();
    file.seek(SeekFrom::Start(offset_of(CHANGED)))?;
    file.read_exact(bytemuck::bytes_of_mut(&mut record))?;
    print(out, &record)?;
    record = Record::numbered(143);
    file.seek(SeekFrom::Start(offset_of(CHANGED)))?;
    file.write_all(bytemuck::bytes_of(&record))?;
    file.sync_all()?;
    Ok(())
}

/// Reads record 43 back with file I/O and prints it; checks the file's size.
fn read_back(path: &Path, out: &mut impl Write) -> Result<()> {
    let bytes = std::fs::read(path)?;
    if bytes.len() != FILE_LEN {
        return Err(format!(
            "{} holds {} bytes, not {FILE_LEN}",
            path.display(),
            bytes.len()
        )
        .into());
    }
    // A Vec<u8> is not guaranteed to be aligned for `Record`: copy it out.
    let at = CHANGED * size_of::<Record>();
    let record: Record = bytemuck::pod_read_unaligned(&bytes[at..at + size_of::<Record>()]);
    print(out, &record)
}

/// The seed's program on the raw layer.
pub fn run_raw(path: &Path, out: &mut impl Write) -> Result<()> {
    write_records(path)?;
    change_with_file_io(path, out)?;

    let file = OpenOptions::new().read(true).write(true).open(path)?;
    // SAFETY: a new shared mapping of the whole file, which only this
    // program uses; it is unmapped below before the file is read again.
    let addr = unsafe {
        rawmap::mmap(
            core::ptr::null_mut(),
            FILE_LEN,
            Prot::READ | Prot::WRITE,
            MapFlags::SHARED,
            file.as_raw_fd(),
            0,
        )
    }?;
    {
        // SAFETY: `addr` starts FILE_LEN bytes mapped readable and writable,
        // backed by a file of that size that nobody truncates; this slice
        // is the only reference into them and ends before the munmap.
        let bytes = unsafe { std::slice::from_raw_parts_mut(addr.cast::<u8>(), FILE_LEN) };
        let records: &mut [Record] =
            bytemuck::try_cast_slice_mut(bytes).map_err(|e| format!("{e:?}"))?;
        print(out, &records[CHANGED])?;
        records[CHANGED] = Record::numbered(243);
    }
    // SAFETY: the range is the mapping made above; no reference into it
    // lives any more.
    unsafe {
        rawmap::msync(addr, FILE_LEN, MsyncFlags::ASYNC)?;
        rawmap::munmap(addr, FILE_LEN)?;
    }
    drop(file);

    read_back(path, out)
}

/// The same job on the safe layer.
pub fn run_safe(path: &Path, out: &mut impl Write) -> Result<()> {
    write_records(path)?;
    change_with_file_io(path, out)?;

    // SAFETY: only this program uses the file while the mapping lives.
    let mut map = unsafe { MmapMut::open(path)? };
    let records: &mut [Record] =
        bytemuck::try_cast_slice_mut(&mut map[..]).map_err(|e| format!("{e:?}"))?;
    print(out, &records[CHANGED])?;
    records[CHANGED] = Record::numbered(243);
    map.flush_async()?;
    drop(map);

    read_back(path, out)
}

/// Both halves, one after the other, on the file at `path`.
pub fn run(path: &Path, out: &mut impl Write, log: &mut impl Write) -> Result<()> {
    writeln!(log, "records file: {}", path.display())?;
    writeln!(log, "raw layer: mmap, msync(MS_ASYNC), munmap")?;
    run_raw(path, out)?;
    writeln!(log, "safe layer: MmapMut::open, flush_async, drop")?;
    run_safe(path, out)?;
    out.flush()?;
    Ok(())
}

/// The file used without an argument.
pub fn default_path() -> PathBuf {
    std::env::temp_dir().join("rawmap-records.dat")
}

#[allow(dead_code)] // unused where this file is included as a module
fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(default_path, PathBuf::from);
    if let Err(e) = run(&path, &mut std::io::stdout().lock(), &mut std::io::stderr()) {
        eprintln!("records: {}: {e}", path.display());
        std::process::exit(1);
    }
}
