//! `MS_*`: what `msync` does.

use super::flag_set;

flag_set! {
    /// What `msync` does (`MS_*`).
    ///
    /// ```
    /// use rawmap::MsyncFlags;
    /// assert_eq!(format!("{:?}", MsyncFlags::SYNC), "MsyncFlags(SYNC)");
    /// ```
    pub struct MsyncFlags;

    /// `MS_ASYNC`: schedule the write-back and return at once (since Linux
    /// 2.6.19 the kernel tracks dirty pages itself, so this only validates).
    const ASYNC = 0x1;
    /// `MS_INVALIDATE`: ask other mappings of the file to see fresh values.
    const INVALIDATE = 0x2;
    /// `MS_SYNC`: write the range back and wait until it is on the device.
    const SYNC = 0x4;
}
