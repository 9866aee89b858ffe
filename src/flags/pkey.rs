//! `PKEY_DISABLE_*`: the access rights of a memory protection key.

use super::flag_set;

flag_set! {
    /// The access rights of a memory protection key: the `access_rights`
    /// argument of [`pkey_alloc`](crate::pkey_alloc) (`PKEY_DISABLE_*`, since
    /// Linux 4.9).
    ///
    /// The rights restrict every page given the key with
    /// [`pkey_mprotect`](crate::pkey_mprotect), on top of its protection.
    /// `DISABLE_EXECUTE` and `DISABLE_READ` exist for aarch64's POE only
    /// (since Linux 6.12). See
    /// [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html).
    ///
    /// ```
    /// use rawmap::PkeyAccess;
    /// let r = PkeyAccess::DISABLE_WRITE;
    /// assert_eq!(format!("{r:?}"), "PkeyAccess(DISABLE_WRITE)");
    /// assert_eq!(format!("{:?}", PkeyAccess::empty()), "PkeyAccess(empty)");
    /// ```
    pub struct PkeyAccess;

    /// `PKEY_DISABLE_ACCESS`: no data access to the pages.
    const DISABLE_ACCESS = 0x1;
    /// `PKEY_DISABLE_WRITE`: no writes to the pages.
    const DISABLE_WRITE = 0x2;
    /// `PKEY_DISABLE_EXECUTE` (aarch64 only, since Linux 6.12): no
    /// instruction fetch from the pages.
    #[cfg(target_arch = "aarch64")]
    const DISABLE_EXECUTE = 0x4;
    /// `PKEY_DISABLE_READ` (aarch64 only, since Linux 6.12): no reads from
    /// the pages.
    #[cfg(target_arch = "aarch64")]
    const DISABLE_READ = 0x8;
}

static_assertions::assert_eq_size!(PkeyAccess, u32);
