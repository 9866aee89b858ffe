//! The kernel's constants that rawmap uses and that are not flag sets of its
//! public API (those are in `src/flags/`), from the Linux UAPI headers. Where
//! the `libc` crate has them, the tests below compare the values with it.
//!
//! All of these are the same on every architecture rawmap supports (they
//! differ on alpha, mips, parisc and sparc, which it does not).

use core::ffi::c_int;

use super::RawFd;

/// `AT_FDCWD`: a path relative to the current directory.
pub(crate) const AT_FDCWD: RawFd = -100;
/// `AT_EMPTY_PATH` (Linux 2.6.39): an empty path means `dirfd` itself.
pub(crate) const AT_EMPTY_PATH: c_int = 0x1000;

/// `O_RDONLY`: open for reading only.
pub(crate) const O_RDONLY: c_int = 0;
/// `O_NONBLOCK`: opening a FIFO does not wait for a writer (for the `std`
/// feature's opening by path).
#[cfg(any(feature = "std", test))]
pub(crate) const O_NONBLOCK: c_int = 0o4000;
/// `O_CLOEXEC`: the descriptor is closed on `execve`.
pub(crate) const O_CLOEXEC: c_int = 0o2_000_000;

/// `STATX_TYPE`: ask `statx` for the file type (`stx_mode & S_IFMT`).
pub(crate) const STATX_TYPE: u32 = 0x1;
/// `STATX_SIZE`: ask `statx` for `stx_size`.
pub(crate) const STATX_SIZE: u32 = 0x200;

/// `S_IFMT`: the file type bits of a mode.
pub(crate) const S_IFMT: u16 = 0o170000;
/// `S_IFDIR`: a directory.
pub(crate) const S_IFDIR: u16 = 0o040000;
/// `S_IFIFO`: a FIFO.
pub(crate) const S_IFIFO: u16 = 0o010000;
/// `S_IFSOCK`: a socket.
pub(crate) const S_IFSOCK: u16 = 0o140000;

/// `PR_GET_AUXV` (Linux 6.4, `include/uapi/linux/prctl.h`): copy the aux
/// vector into a buffer. The `libc` crate has it for Android only.
pub(crate) const PR_GET_AUXV: c_int = 0x4155_5856;

/// `AT_NULL`: the aux vector key that ends the vector.
pub(crate) const AT_NULL: usize = 0;
/// `AT_PAGESZ`: the aux vector key of the page size.
pub(crate) const AT_PAGESZ: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fd::Statx;

    #[test]
    fn values_match_libc() {
        assert_eq!(AT_FDCWD, libc::AT_FDCWD);
        assert_eq!(AT_EMPTY_PATH, libc::AT_EMPTY_PATH);
        assert_eq!(O_RDONLY, libc::O_RDONLY);
        assert_eq!(O_NONBLOCK, libc::O_NONBLOCK);
        assert_eq!(O_CLOEXEC, libc::O_CLOEXEC);
        assert_eq!(STATX_TYPE, libc::STATX_TYPE);
        assert_eq!(STATX_SIZE, libc::STATX_SIZE);
        assert_eq!(u32::from(S_IFMT), libc::S_IFMT);
        assert_eq!(u32::from(S_IFDIR), libc::S_IFDIR);
        assert_eq!(u32::from(S_IFIFO), libc::S_IFIFO);
        assert_eq!(u32::from(S_IFSOCK), libc::S_IFSOCK);
        assert_eq!(Ok(AT_NULL), usize::try_from(libc::AT_NULL));
        assert_eq!(Ok(AT_PAGESZ), usize::try_from(libc::AT_PAGESZ));
    }

    #[test]
    fn statx_layout_matches_libc() {
        assert_eq!(
            Statx::MODE_OFFSET,
            core::mem::offset_of!(libc::statx, stx_mode)
        );
        assert_eq!(
            Statx::SIZE_OFFSET,
            core::mem::offset_of!(libc::statx, stx_size)
        );
        assert_eq!(
            core::mem::size_of::<Statx>(),
            core::mem::size_of::<libc::statx>()
        );
    }
}

// ---------------------------------------------------------------------------
// Owned descriptors and memory files.

/// `F_ADD_SEALS` (Linux 3.17): `fcntl` command that adds seals to a memfd.
pub(crate) const F_ADD_SEALS: c_int = 1033;
/// `F_GET_SEALS` (Linux 3.17): `fcntl` command that reads a memfd's seals.
pub(crate) const F_GET_SEALS: c_int = 1034;
/// `O_RDWR`: open for reading and writing.
pub(crate) const O_RDWR: c_int = 0o2;
/// `O_CREAT`: create the file if it does not exist.
pub(crate) const O_CREAT: c_int = 0o100;
/// `O_TRUNC`: truncate an existing regular file to length 0.
pub(crate) const O_TRUNC: c_int = 0o1000;
/// `S_IFREG`: a regular file.
pub(crate) const S_IFREG: u16 = 0o100000;
/// `STATX_ATTR_VERITY` (Linux 5.5): the file has fs-verity enabled, so its
/// contents cannot change.
pub(crate) const STATX_ATTR_VERITY: u64 = 0x0010_0000;

#[cfg(test)]
mod fd_tests {
    use super::*;
    use crate::sys::fd::Statx;

    #[test]
    fn fd_values_match_libc() {
        assert_eq!(F_ADD_SEALS, libc::F_ADD_SEALS);
        assert_eq!(F_GET_SEALS, libc::F_GET_SEALS);
        assert_eq!(O_RDWR, libc::O_RDWR);
        assert_eq!(O_CREAT, libc::O_CREAT);
        assert_eq!(O_TRUNC, libc::O_TRUNC);
        assert_eq!(u32::from(S_IFREG), libc::S_IFREG);
        assert_eq!(STATX_ATTR_VERITY, libc::STATX_ATTR_VERITY as u64);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(crate::arch::O_LARGEFILE, libc::O_LARGEFILE);
        assert_eq!(
            Statx::ATTRIBUTES_OFFSET,
            core::mem::offset_of!(libc::statx, stx_attributes)
        );
    }
}
