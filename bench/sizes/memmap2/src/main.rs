//! The records program on memmap2 + std.

#[path = "../../common/records.rs"]
mod records;

use std::fs::File;
use std::io;

struct Map(memmap2::MmapMut);

impl records::Map for Map {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: the program's own file; nothing truncates it meanwhile.
        Ok(Map(unsafe {
            memmap2::MmapOptions::new().len(len).map_mut(file)?
        }))
    }
    fn bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn sync(&self) -> io::Result<()> {
        self.0.flush_async()
    }
    fn unmap(self) -> io::Result<()> {
        drop(self.0); // memmap2 unmaps on drop and cannot report an error
        Ok(())
    }
}

fn main() -> io::Result<()> {
    records::run::<Map>()
}
