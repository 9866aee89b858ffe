//! The seed's records program, written once; each crate beside this one
//! supplies the mapping calls (`Map`) from its own library.
//!
//! It writes 100 records `{ i, "RECORD-i" }` to `records.dat`, changes
//! record 43 to 143 with ordinary file I/O, then maps the file shared,
//! changes record 43 to 243 through the mapping, `msync(MS_ASYNC)`s and
//! unmaps it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// `{ int integer; char string[24]; }`: 28 bytes.
const RECORD: usize = 28;
const NRECORDS: usize = 100;

/// The mapping calls of one library.
pub trait Map: Sized {
    /// Maps `len` bytes of `file`, shared and writable.
    fn map(file: &File, len: usize) -> io::Result<Self>;
    /// The mapped bytes.
    fn bytes(&mut self) -> &mut [u8];
    /// `msync(MS_ASYNC)`.
    fn sync(&self) -> io::Result<()>;
    /// `munmap`.
    fn unmap(self) -> io::Result<()>;
}

fn encode(integer: i32) -> [u8; RECORD] {
    let mut rec = [0u8; RECORD];
    rec[..4].copy_from_slice(&integer.to_ne_bytes());
    let mut text = io::Cursor::new(&mut rec[4..]);
    let _ = write!(text, "RECORD-{integer}");
    rec
}

fn show(rec: &[u8]) {
    let integer = i32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
    let text = &rec[4..];
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    println!(
        "integer: {integer}, string: {}",
        String::from_utf8_lossy(&text[..end])
    );
}

pub fn run<M: Map>() -> io::Result<()> {
    let path = "records.dat";
    let mut file = File::create(path)?;
    for i in 0..NRECORDS {
        file.write_all(&encode(i as i32))?;
    }
    drop(file);

    let mut file = File::options().read(true).write(true).open(path)?;
    let mut rec = [0u8; RECORD];
    file.seek(SeekFrom::Start((43 * RECORD) as u64))?;
    file.read_exact(&mut rec)?;
    show(&rec);
    file.seek(SeekFrom::Start((43 * RECORD) as u64))?;
    file.write_all(&encode(143))?;
    drop(file);

    let file = File::options().read(true).write(true).open(path)?;
    let mut map = M::map(&file, NRECORDS * RECORD)?;
    let at = 43 * RECORD..44 * RECORD;
    show(&map.bytes()[at.clone()]);
    map.bytes()[at].copy_from_slice(&encode(243));
    map.sync()?;
    map.unmap()
}
