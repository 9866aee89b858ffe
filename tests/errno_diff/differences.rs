//! Where the C library (or QEMU's user mode) does not simply pass the
//! arguments to the kernel: the expected differences, each with its reason,
//! and the kernel answers QEMU's user mode gets wrong.

use rawmap::MapFlags;

use crate::arena::Arena;
use crate::calls::{Call, Res};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Libc {
    Glibc,
    Musl,
}

pub const LIBC: Libc = if cfg!(target_env = "musl") {
    Libc::Musl
} else {
    Libc::Glibc
};

/// The unit glibc and musl check an mmap offset against (their `mmap2`
/// unit on 32-bit targets), whatever the page size.
pub const LIBC_OFFSET_UNIT: u64 = 4096;

/// The page size of the x86_64 host QEMU's user mode runs on; guest pages
/// above it bring out QEMU's large-page quirks (DESIGN.md).
pub const QEMU_HOST_PAGE: usize = 4096;

/// An expected difference: where the C library (or QEMU's user mode) does
/// not simply pass the arguments to the kernel. `applies` picks the
/// combinations; `libc_expect` says what the C library answers there, given
/// the arena (to re-run the kernel with the arguments the wrapper really
/// passes).
pub struct Difference {
    pub id: &'static str,
    /// Where it holds: `Some(libc)` for a C library's own check, or QEMU.
    pub libc: Option<Libc>,
    pub qemu_only: bool,
    pub reason: &'static str,
    pub applies: fn(&Call, &Arena) -> bool,
}

/// The table of expected differences. Each entry is asserted on every
/// combination it applies to (see `expected_libc`); none is skipped.
pub const DIFFERENCES: &[Difference] = &[
    Difference {
        id: "mmap-offset-check",
        libc: None,
        qemu_only: false,
        reason: "glibc and musl refuse an offset that is not a multiple of 4096 with \
                 EINVAL before the syscall (a kernel checks the same thing first, so there \
                 the answers coincide; QEMU checks the length first)",
        applies: |c, _| matches!(*c, Call::Mmap { off, .. } if off % LIBC_OFFSET_UNIT != 0),
    },
    Difference {
        id: "musl-mmap-len",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mmap answers ENOMEM for len >= PTRDIFF_MAX before the syscall, \
                 where the kernel may first find EBADF, EINVAL, ...",
        applies: |c, _| matches!(*c, Call::Mmap { len, off, .. } if off % LIBC_OFFSET_UNIT == 0 && len >= isize::MAX as usize),
    },
    Difference {
        id: "musl-mremap-len",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mremap answers ENOMEM for new_len >= PTRDIFF_MAX before the \
                 syscall, where the kernel answers EINVAL (a length that rounds to 0), \
                 EFAULT, ...",
        applies: |c, _| matches!(*c, Call::Mremap { new_len, .. } if new_len >= isize::MAX as usize),
    },
    Difference {
        id: "musl-mremap-new-addr",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mremap reads new_addr only with MREMAP_FIXED and passes 0 otherwise; \
                 the kernel reads it as a hint with MREMAP_DONTUNMAP (and checks it for \
                 overlap): the answer is the kernel's with new_addr = 0",
        applies: |c, _| matches!(*c, Call::Mremap { flags, .. } if flags & 2 == 0),
    },
    Difference {
        id: "musl-mprotect-rounding",
        libc: Some(Libc::Musl),
        qemu_only: false,
        reason: "musl's mprotect rounds addr down and addr + len up to pages (wrapping) and \
                 passes that range, so an unaligned address is not EINVAL and a length \
                 that wraps shrinks; the answer is the kernel's for the rounded range",
        applies: |c, a| match *c {
            Call::Mprotect { addr, len, .. } => {
                addr % a.p != 0
                    || addr
                        .checked_add(len)
                        .and_then(|e| e.checked_add(a.p - 1))
                        .is_none()
            }
            _ => false,
        },
    },
    Difference {
        id: "qemu-shared-validate",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode answers EINVAL to every MAP_SHARED_VALIDATE, where a \
                 kernel maps or answers EOPNOTSUPP for an unknown flag: rawmap and the C \
                 library both give EINVAL",
        // (with pages above 4K, QEMU looks at the descriptor, at the offset
        // against the file's size and at an address hint first; qemu-riscv64
        // refuses a length beyond its guest address space with ENOMEM first)
        applies: |c, a| {
            matches!(*c, Call::Mmap { addr, len, flags, fd, off, .. }
                if flags & 3 == 3
                    && !(cfg!(target_arch = "riscv64") && len > isize::MAX as usize)
                    && (a.p == QEMU_HOST_PAGE || addr == 0)
                    && (flags & MapFlags::ANONYMOUS.bits() != 0
                        || (fd >= 0 && fd != a.closed_fd && off == 0)))
        },
    },
    Difference {
        id: "qemu-noreplace-hint",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode treats MAP_FIXED_NOREPLACE as a hint and maps elsewhere; \
                 rawmap verifies the address and answers EEXIST, the C library and the raw \
                 syscall return the other address",
        applies: |c, a| {
            matches!(*c, Call::Mmap { addr, len, flags, .. }
                if flags & MapFlags::FIXED_NOREPLACE.bits() != 0
                    && !(addr == a.hole() && len <= a.p))
        },
    },
    Difference {
        id: "qemu-large-page-hint",
        libc: None,
        qemu_only: true,
        reason: "QEMU's user mode with pages above 4K fails mmap with an address hint \
                 erratically (ENOMEM); the answers that are not ENOMEM agree",
        applies: |c, a| {
            a.p > QEMU_HOST_PAGE
                && matches!(*c, Call::Mmap { addr, flags, .. }
                    if addr != 0 && flags & (MapFlags::FIXED | MapFlags::FIXED_NOREPLACE).bits() == 0)
        },
    },
    Difference {
        id: "libc-mlock2-as-mlock",
        libc: None,
        qemu_only: true,
        reason: "the C library's mlock2 with flags 0 is mlock (musl calls mlock, glibc falls \
                 back to it on ENOSYS): where the kernel lacks mlock2 (QEMU 7.2 answers \
                 ENOSYS) the answer is mlock's, rawmap's the kernel's ENOSYS",
        applies: |c, _| matches!(*c, Call::Mlock2 { flags: 0, .. }),
    },
];

/// musl's `mprotect(addr, len, prot)`: the range it passes to the kernel.
pub fn musl_mprotect_range(addr: usize, len: usize, p: usize) -> (usize, usize) {
    let start = addr & !(p - 1);
    let end = addr.wrapping_add(len).wrapping_add(p - 1) & !(p - 1);
    (start, end.wrapping_sub(start))
}

/// Known kernel answers that QEMU's user mode gets wrong (DESIGN.md),
/// asserted as QEMU's answer under QEMU.
pub fn qemu_known(c: &Call, known: Res) -> Res {
    match *c {
        // MAP_SHARED_VALIDATE with an unknown flag: QEMU answers EINVAL.
        Call::Mmap { flags, .. } if flags & 3 == 3 && known == Err(libc::EOPNOTSUPP) => {
            Err(libc::EINVAL)
        }
        _ => known,
    }
}

/// Combinations that make QEMU's user mode (7.2) fail one of its own
/// assertions and die, where a kernel answers EINVAL: a range whose end
/// wraps past the top of the address space reaches `page_set_flags` with
/// `start >= end`.
pub fn qemu_aborts(c: &Call, p: usize) -> bool {
    let wraps = |addr: usize, len: usize| {
        len != 0
            && len
                .checked_add(p - 1)
                .is_some_and(|l| addr.checked_add(l & !(p - 1)).is_none_or(|e| e == 0))
    };
    match *c {
        Call::Munmap { addr, len } => addr % p == 0 && wraps(addr, len),
        // (QEMU checks the protection bits first)
        Call::Mprotect { addr, len, prot } => prot & !7 == 0 && addr % p == 0 && wraps(addr, len),
        _ => false,
    }
}
