//! `MLOCK_*` and `MCL_*`: how `mlock2` and `mlockall` lock memory.

use super::flag_set;

flag_set! {
    /// How [`mlock2`](crate::mlock2) locks a range: its `flags` argument
    /// (`MLOCK_*`, since Linux 4.4). See
    /// [mlock2(2)](https://man7.org/linux/man-pages/man2/mlock2.2.html).
    ///
    /// ```
    /// use rawmap::MlockFlags;
    /// assert_eq!(format!("{:?}", MlockFlags::ONFAULT), "MlockFlags(ONFAULT)");
    /// assert_eq!(format!("{:?}", MlockFlags::empty()), "MlockFlags(empty)");
    /// ```
    pub struct MlockFlags;

    /// `MLOCK_ONFAULT` (since Linux 4.4): lock the pages as they are faulted
    /// in, instead of faulting the whole range in now.
    const ONFAULT = 0x01;
}

flag_set! {
    /// What [`mlockall`](crate::mlockall) locks: its `flags` argument
    /// (`MCL_*`). See
    /// [mlockall(2)](https://man7.org/linux/man-pages/man2/mlockall.2.html).
    ///
    /// ```
    /// use rawmap::MlockAllFlags;
    /// let f = MlockAllFlags::CURRENT | MlockAllFlags::ONFAULT;
    /// assert_eq!(format!("{f:?}"), "MlockAllFlags(CURRENT | ONFAULT)");
    /// ```
    pub struct MlockAllFlags;

    /// `MCL_CURRENT`: lock every page mapped now.
    const CURRENT = 0x01;
    /// `MCL_FUTURE`: lock every page mapped from now on.
    const FUTURE = 0x02;
    /// `MCL_ONFAULT` (since Linux 4.4): with `CURRENT` or `FUTURE`, lock
    /// pages as they are faulted in rather than all at once.
    const ONFAULT = 0x04;
}

static_assertions::assert_eq_size!(MlockFlags, u32);
static_assertions::assert_eq_size!(MlockAllFlags, u32);
