//! `prctl`, for the options rawmap uses.

use syscalls::{Errno, Sysno, syscall5};

use super::consts::PR_GET_AUXV;

/// `prctl(PR_GET_AUXV, buf, size_of_val(buf), 0, 0)` (Linux 6.4): copies the
/// start of the aux vector into `buf` and returns the size in bytes of the
/// whole vector, which may be more than it copied.
#[inline]
pub(crate) fn get_auxv(buf: &mut [usize]) -> Result<usize, Errno> {
    // SAFETY: PR_GET_AUXV writes at most `size_of_val(buf)` bytes into
    // `buf`, which lives until the call returns. The option is a positive
    // `int`, so the cast is lossless.
    unsafe {
        syscall5(
            Sysno::prctl,
            PR_GET_AUXV as usize,
            buf.as_mut_ptr() as usize,
            core::mem::size_of_val(buf),
            0,
            0,
        )
    }
}
