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

// ---------------------------------------------------------------------------
// File types beyond the above, and what a file's size means

/// `S_IFREG`: a regular file.
pub(crate) const S_IFREG: u16 = 0o100000;
/// `S_IFCHR`: a character device.
pub(crate) const S_IFCHR: u16 = 0o020000;
/// `S_IFBLK`: a block device.
pub(crate) const S_IFBLK: u16 = 0o060000;

/// `BLKGETSIZE64` (`include/uapi/linux/fs.h`): `_IOR(0x12, 114, size_t)`,
/// the size of a block device in bytes. The kernel writes a u64, although
/// the number encodes `size_t`'s size. The `libc` crate lacks it.
pub(crate) const BLKGETSIZE64: u32 =
    (2 << 30) | ((core::mem::size_of::<usize>() as u32) << 16) | (0x12 << 8) | 114;

/// The file systems whose regular files report size 0 whatever they hold
/// (`include/uapi/linux/magic.h`): their files are generated when read, so
/// an `st_size` of 0 gives no length to map. `proc`, `sysfs`, `debugfs`,
/// `tracefs`, `securityfs`, `cgroup`, `cgroup2`, `configfs`, `selinuxfs`,
/// `smackfs`, `binfmt_misc`, `fusectl`.
pub(crate) const PSEUDO_FS_MAGICS: [u32; 12] = [
    0x9fa0,      // PROC_SUPER_MAGIC
    0x6265_6572, // SYSFS_MAGIC
    0x6462_6720, // DEBUGFS_MAGIC
    0x7472_6163, // TRACEFS_MAGIC
    0x7363_6673, // SECURITYFS_MAGIC
    0x0027_e0eb, // CGROUP_SUPER_MAGIC
    0x6367_7270, // CGROUP2_SUPER_MAGIC
    0x6265_6570, // CONFIGFS_MAGIC
    0xf97c_ff8c, // SELINUX_MAGIC
    0x4341_5d53, // SMACK_MAGIC
    0x4249_4e4d, // BINFMTFS_MAGIC
    0x6573_5543, // FUSE_CTL_SUPER_MAGIC
];

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
        assert_eq!(u32::from(S_IFREG), libc::S_IFREG);
        assert_eq!(u32::from(S_IFCHR), libc::S_IFCHR);
        assert_eq!(u32::from(S_IFBLK), libc::S_IFBLK);
    }

    /// The magics `libc` has (it lacks CONFIGFS, BINFMTFS and FUSE_CTL,
    /// whose values are those of `include/uapi/linux/magic.h`). Its type is
    /// `c_long` on glibc and `c_uint` elsewhere; the low 32 bits are the
    /// magic either way.
    #[test]
    fn pseudo_fs_magics_match_libc() {
        for magic in [
            libc::PROC_SUPER_MAGIC as u32,
            libc::SYSFS_MAGIC as u32,
            libc::DEBUGFS_MAGIC as u32,
            libc::TRACEFS_MAGIC as u32,
            libc::SECURITYFS_MAGIC as u32,
            libc::CGROUP_SUPER_MAGIC as u32,
            libc::CGROUP2_SUPER_MAGIC as u32,
            libc::SELINUX_MAGIC as u32,
            libc::SMACK_MAGIC as u32,
        ] {
            assert!(PSEUDO_FS_MAGICS.contains(&magic), "{magic:#x}");
        }
    }

    #[test]
    fn blkgetsize64_is_ior_0x12_114_size_t() {
        assert_eq!(
            BLKGETSIZE64 as libc::Ioctl,
            libc::_IOR::<libc::size_t>(0x12, 114)
        );
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
        assert_eq!(STATX_ATTR_VERITY, libc::STATX_ATTR_VERITY as u64);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(crate::arch::O_LARGEFILE, libc::O_LARGEFILE);
        assert_eq!(
            Statx::ATTRIBUTES_OFFSET,
            core::mem::offset_of!(libc::statx, stx_attributes)
        );
    }
}
