//! The records program on libc + std.

#[path = "../../common/records.rs"]
mod records;

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

struct Map(*mut libc::c_void, usize);

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl records::Map for Map {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a new shared mapping of the program's own file.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Map(p, len))
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `len` mapped writable bytes, borrowed through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.0.cast(), self.1) }
    }
    fn sync(&self) -> io::Result<()> {
        // SAFETY: the range is this mapping.
        check(unsafe { libc::msync(self.0, self.1, libc::MS_ASYNC) })
    }
    fn unmap(self) -> io::Result<()> {
        // SAFETY: the mapping is not used after this.
        check(unsafe { libc::munmap(self.0, self.1) })
    }
}

fn main() -> io::Result<()> {
    records::run::<Map>()
}
