//! The records program on rustix::mm + std.

#[path = "../../common/records.rs"]
mod records;

use std::fs::File;
use std::io;

use rustix::mm::{MapFlags, MsyncFlags, ProtFlags};

struct Map(*mut core::ffi::c_void, usize);

impl records::Map for Map {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a new shared mapping of the program's own file.
        let p = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                file,
                0,
            )?
        };
        Ok(Map(p, len))
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `len` mapped writable bytes, borrowed through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.0.cast(), self.1) }
    }
    fn sync(&self) -> io::Result<()> {
        // SAFETY: the range is this mapping.
        unsafe { rustix::mm::msync(self.0, self.1, MsyncFlags::ASYNC) }?;
        Ok(())
    }
    fn unmap(self) -> io::Result<()> {
        // SAFETY: the mapping is not used after this.
        unsafe { rustix::mm::munmap(self.0, self.1) }?;
        Ok(())
    }
}

fn main() -> io::Result<()> {
    records::run::<Map>()
}
