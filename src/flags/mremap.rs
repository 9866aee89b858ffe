//! `MREMAP_*`: how `mremap` may move or keep a mapping.

use super::flag_set;

flag_set! {
    /// How `mremap` may move or keep a mapping (`MREMAP_*`).
    ///
    /// ```
    /// use rawmap::MremapFlags;
    /// assert!(MremapFlags::empty().is_empty());
    /// assert_eq!(format!("{:?}", MremapFlags::MAYMOVE), "MremapFlags(MAYMOVE)");
    /// ```
    pub struct MremapFlags;

    /// `MREMAP_MAYMOVE`: the kernel may move the mapping to grow it.
    const MAYMOVE = 0x1;
    /// `MREMAP_FIXED`: move the mapping to `new_addr` (needs `MAYMOVE`).
    const FIXED = 0x2;
    /// `MREMAP_DONTUNMAP` (since Linux 5.7): move the pages but leave the old
    /// range mapped (needs `MAYMOVE`).
    const DONTUNMAP = 0x4;
}
