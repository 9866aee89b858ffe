//! The records program on rawmap + std.

#[path = "../../common/records.rs"]
mod records;

use std::fs::File;
use std::io;

struct Map(rawmap::MmapMut);

impl records::Map for Map {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: the program's own file; nothing truncates it meanwhile.
        Ok(Map(unsafe {
            rawmap::MmapOptions::new().len(len).map_mut(file)?
        }))
    }
    fn bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn sync(&self) -> io::Result<()> {
        Ok(self.0.flush_async()?)
    }
    fn unmap(self) -> io::Result<()> {
        self.0.unmap().map_err(|e| e.errno().into())
    }
}

fn main() -> io::Result<()> {
    records::run::<Map>()
}
