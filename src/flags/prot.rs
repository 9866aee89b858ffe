//! `PROT_*`: the protection of a mapping.

use super::flag_set;
#[cfg(target_arch = "aarch64")]
use crate::arch;

flag_set! {
    /// Memory protection of a mapping: the `prot` argument of `mmap` and
    /// `mprotect` (`PROT_*`).
    ///
    /// ```
    /// use rawmap::Prot;
    /// let rw = Prot::READ | Prot::WRITE;
    /// assert!(rw.contains(Prot::READ));
    /// assert_eq!(format!("{rw:?}"), "Prot(READ | WRITE)");
    /// ```
    pub struct Prot;

    /// `PROT_NONE`: the pages cannot be accessed at all.
    const NONE = 0;
    /// `PROT_READ`: the pages may be read.
    const READ = 0x1;
    /// `PROT_WRITE`: the pages may be written.
    const WRITE = 0x2;
    /// `PROT_EXEC`: the pages may be executed.
    const EXEC = 0x4;
    /// `PROT_GROWSDOWN` (`mprotect` only): extend the change down to the
    /// start of a mapping that grows down (a stack).
    const GROWSDOWN = 0x0100_0000;
    /// `PROT_GROWSUP` (`mprotect` only): extend the change up to the end of a
    /// mapping that grows up (only on architectures with upward stacks; the
    /// kernel answers `EINVAL` elsewhere).
    const GROWSUP = 0x0200_0000;
    /// `PROT_BTI` (aarch64 only, since Linux 5.8): the executable pages are
    /// guarded by Branch Target Identification. The kernel answers `EINVAL`
    /// on a CPU without BTI.
    #[cfg(target_arch = "aarch64")]
    const BTI = arch::PROT_BTI;
    /// `PROT_MTE` (aarch64 only, since Linux 5.10): the pages carry Memory
    /// Tagging Extension tags (anonymous and RAM-based file mappings). The
    /// kernel answers `EINVAL` on a CPU without MTE.
    #[cfg(target_arch = "aarch64")]
    const MTE = arch::PROT_MTE;
}

static_assertions::assert_eq_size!(Prot, u32);
