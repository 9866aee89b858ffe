//! `MFD_*` (how `memfd_create` makes a memory file) and `F_SEAL_*` (what a
//! memory file's seals forbid), from `include/uapi/linux/memfd.h` and
//! `include/uapi/linux/fcntl.h`; the same on every architecture.

use super::flag_set;

flag_set! {
    /// How [`memfd_create`](crate::memfd_create) makes a memory file: its
    /// `flags` argument (`MFD_*`).
    ///
    /// ```
    /// use rawmap::MemfdFlags;
    /// let f = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    /// assert_eq!(format!("{f:?}"), "MemfdFlags(CLOEXEC | ALLOW_SEALING)");
    /// ```
    pub struct MemfdFlags;

    /// `MFD_CLOEXEC` (since Linux 3.17): the descriptor is closed on
    /// `execve`.
    const CLOEXEC = 0x0001;
    /// `MFD_ALLOW_SEALING` (since Linux 3.17): seals may be added
    /// ([`Seals`]); without it the file starts sealed with
    /// [`Seals::SEAL`] and can take no other seal.
    const ALLOW_SEALING = 0x0002;
    /// `MFD_HUGETLB` (since Linux 4.14): the file lives on `hugetlbfs`, in
    /// huge pages (sealing it needs Linux 4.16).
    const HUGETLB = 0x0004;
    /// `MFD_NOEXEC_SEAL` (since Linux 6.3): the file is not executable and
    /// is sealed with [`Seals::EXEC`] (which implies `ALLOW_SEALING`).
    const NOEXEC_SEAL = 0x0008;
    /// `MFD_EXEC` (since Linux 6.3): the file is executable (when
    /// `vm.memfd_noexec` allows it).
    const EXEC = 0x0010;
}

flag_set! {
    /// What a memory file's seals forbid (`F_SEAL_*`), as
    /// [`Memfd::add_seals`](crate::Memfd::add_seals) adds them and
    /// [`Memfd::seals`](crate::Memfd::seals) reports them. A seal, once
    /// added, stays for the life of the file.
    ///
    /// ```
    /// use rawmap::Seals;
    /// let s = Seals::SHRINK | Seals::WRITE;
    /// assert_eq!(format!("{s:?}"), "Seals(SHRINK | WRITE)");
    /// ```
    pub struct Seals;

    /// `F_SEAL_SEAL` (since Linux 3.17): no further seal may be added.
    const SEAL = 0x0001;
    /// `F_SEAL_SHRINK` (since Linux 3.17): the file may not shrink.
    const SHRINK = 0x0002;
    /// `F_SEAL_GROW` (since Linux 3.17): the file may not grow.
    const GROW = 0x0004;
    /// `F_SEAL_WRITE` (since Linux 3.17): the contents may not change, by
    /// `write` or through any mapping. Adding it fails with `EBUSY` while a
    /// writable shared mapping of the file exists.
    const WRITE = 0x0008;
    /// `F_SEAL_FUTURE_WRITE` (since Linux 5.1): no new writes and no new
    /// writable shared mappings, but writable shared mappings made before
    /// the seal can still change the contents.
    const FUTURE_WRITE = 0x0010;
    /// `F_SEAL_EXEC` (since Linux 6.3): the file's execute permission bits
    /// may not change.
    const EXEC = 0x0020;
}

static_assertions::assert_eq_size!(Seals, u32);
