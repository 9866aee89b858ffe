//! The nine calls as data, and the three ways of making one: through
//! rawmap, through the C library's function of the same name, and through
//! `libc::syscall` (the kernel itself, no wrapper logic).

use rawmap::{MapFlags, MremapFlags, MsyncFlags, Prot, c_void};

use crate::arena::ARENA_PAGES;

/// What a call returned: the address (or 0) or the errno.
pub type Res = Result<usize, i32>;

#[derive(Clone, Copy, Debug)]
pub enum Call {
    Mmap {
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
        fd: i32,
        off: u64,
    },
    Munmap {
        addr: usize,
        len: usize,
    },
    Msync {
        addr: usize,
        len: usize,
        flags: u32,
    },
    Mprotect {
        addr: usize,
        len: usize,
        prot: u32,
    },
    Madvise {
        addr: usize,
        len: usize,
        advice: i32,
    },
    Mremap {
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: u32,
        new_addr: usize,
    },
    Mlock {
        addr: usize,
        len: usize,
    },
    Munlock {
        addr: usize,
        len: usize,
    },
    Mincore {
        addr: usize,
        len: usize,
        null_vec: bool,
    },
    // The calls since Linux 4.4.
    Mlock2 {
        addr: usize,
        len: usize,
        flags: u32,
    },
    Mlockall {
        flags: u32,
    },
    Munlockall,
    Mseal {
        addr: usize,
        len: usize,
    },
    /// `iov[..vlen]` are the ranges (base, len).
    ProcessMadvise {
        pidfd: i32,
        iov: [(usize, usize); 2],
        vlen: usize,
        advice: i32,
        flags: u32,
    },
    /// A key a call allocates is freed at once (by the same way of calling),
    /// so each way finds the same keys free.
    PkeyAlloc {
        flags: u32,
        rights: u32,
    },
    PkeyFree {
        pkey: i32,
    },
    PkeyMprotect {
        addr: usize,
        len: usize,
        prot: u32,
        pkey: i32,
    },
}

impl Call {
    pub fn name(&self) -> &'static str {
        match self {
            Call::Mmap { .. } => "mmap",
            Call::Munmap { .. } => "munmap",
            Call::Msync { .. } => "msync",
            Call::Mprotect { .. } => "mprotect",
            Call::Madvise { .. } => "madvise",
            Call::Mremap { .. } => "mremap",
            Call::Mlock { .. } => "mlock",
            Call::Munlock { .. } => "munlock",
            Call::Mincore { .. } => "mincore",
            Call::Mlock2 { .. } => "mlock2",
            Call::Mlockall { .. } => "mlockall",
            Call::Munlockall => "munlockall",
            Call::Mseal { .. } => "mseal",
            Call::ProcessMadvise { .. } => "process_madvise",
            Call::PkeyAlloc { .. } => "pkey_alloc",
            Call::PkeyFree { .. } => "pkey_free",
            Call::PkeyMprotect { .. } => "pkey_mprotect",
        }
    }
}

/// Room for `mincore` over the whole arena, one byte per 4 KiB (QEMU with
/// larger pages writes one byte per host page, see DESIGN.md).
pub const VEC_LEN: usize = ARENA_PAGES * 16 + 64;

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

pub fn via_rawmap(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    // SAFETY: every call made by this suite stays inside the arena or fails
    // before the kernel changes anything (see `Arena`); `vec` has room for
    // every page a mincore call can report.
    unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => rawmap::mmap(
                addr as *mut c_void,
                len,
                Prot::from_bits_retain(prot),
                MapFlags::from_bits_retain(flags),
                fd,
                off,
            )
            .map(|p| p as usize),
            Call::Munmap { addr, len } => rawmap::munmap(addr as *mut c_void, len).map(|_| 0),
            Call::Msync { addr, len, flags } => rawmap::msync(
                addr as *mut c_void,
                len,
                MsyncFlags::from_bits_retain(flags),
            )
            .map(|_| 0),
            Call::Mprotect { addr, len, prot } => {
                rawmap::mprotect(addr as *mut c_void, len, Prot::from_bits_retain(prot)).map(|_| 0)
            }
            Call::Madvise { addr, len, advice } => {
                rawmap::madvise(addr as *mut c_void, len, advice).map(|_| 0)
            }
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => rawmap::mremap(
                addr as *mut c_void,
                old_len,
                new_len,
                MremapFlags::from_bits_retain(flags),
                new_addr as *mut c_void,
            )
            .map(|p| p as usize),
            Call::Mlock { addr, len } => rawmap::mlock(addr as *const c_void, len).map(|_| 0),
            Call::Munlock { addr, len } => rawmap::munlock(addr as *const c_void, len).map(|_| 0),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec {
                    std::ptr::null_mut()
                } else {
                    vec.as_mut_ptr()
                };
                rawmap::mincore(addr as *mut c_void, len, v).map(|_| 0)
            }
            Call::Mlock2 { addr, len, flags } => rawmap::mlock2(
                addr as *const c_void,
                len,
                rawmap::MlockFlags::from_bits_retain(flags),
            )
            .map(|_| 0),
            Call::Mlockall { flags } => {
                rawmap::mlockall(rawmap::MlockAllFlags::from_bits_retain(flags)).map(|_| 0)
            }
            Call::Munlockall => rawmap::munlockall().map(|_| 0),
            Call::Mseal { addr, len } => rawmap::mseal(addr as *mut c_void, len).map(|_| 0),
            Call::ProcessMadvise {
                pidfd,
                iov,
                vlen,
                advice,
                flags,
            } => {
                let v = iov.map(|(b, l)| rawmap::IoVec::new(b as *mut c_void, l));
                rawmap::process_madvise(pidfd, &v[..vlen], advice, flags)
            }
            Call::PkeyAlloc { flags, rights } => {
                rawmap::pkey_alloc(flags, rawmap::PkeyAccess::from_bits_retain(rights)).map(|k| {
                    rawmap::pkey_free(k).expect("freeing the key just allocated");
                    k as usize
                })
            }
            Call::PkeyFree { pkey } => rawmap::pkey_free(pkey).map(|_| 0),
            Call::PkeyMprotect {
                addr,
                len,
                prot,
                pkey,
            } => {
                rawmap::pkey_mprotect(addr as *mut c_void, len, Prot::from_bits_retain(prot), pkey)
                    .map(|_| 0)
            }
        }
        .map_err(|e| e.into_raw())
    }
}

pub fn via_libc(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    let unit = |r: libc::c_int| if r == 0 { Ok(0) } else { Err(errno()) };
    let ptr = |r: *mut libc::c_void| {
        if r == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(r as usize)
        }
    };
    // SAFETY: as in `via_rawmap`: the same arguments.
    unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => ptr(libc::mmap(
                addr as *mut _,
                len,
                prot as i32,
                flags as i32,
                fd,
                off as libc::off_t,
            )),
            Call::Munmap { addr, len } => unit(libc::munmap(addr as *mut _, len)),
            Call::Msync { addr, len, flags } => {
                unit(libc::msync(addr as *mut _, len, flags as i32))
            }
            Call::Mprotect { addr, len, prot } => {
                unit(libc::mprotect(addr as *mut _, len, prot as i32))
            }
            Call::Madvise { addr, len, advice } => unit(libc::madvise(addr as *mut _, len, advice)),
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => ptr(libc::mremap(
                addr as *mut _,
                old_len,
                new_len,
                flags as i32,
                new_addr as *mut libc::c_void,
            )),
            Call::Mlock { addr, len } => unit(libc::mlock(addr as *const _, len)),
            Call::Munlock { addr, len } => unit(libc::munlock(addr as *const _, len)),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec {
                    std::ptr::null_mut()
                } else {
                    vec.as_mut_ptr()
                };
                unit(libc::mincore(addr as *mut _, len, v))
            }
            Call::Mlock2 { addr, len, flags } => unit(libc::mlock2(addr as *const _, len, flags)),
            Call::Mlockall { flags } => unit(libc::mlockall(flags as i32)),
            Call::Munlockall => unit(libc::munlockall()),
            // The libc crate has no wrapper for these: the system call.
            Call::Mseal { .. }
            | Call::ProcessMadvise { .. }
            | Call::PkeyAlloc { .. }
            | Call::PkeyFree { .. }
            | Call::PkeyMprotect { .. } => via_syscall(c, vec),
        }
    }
}

/// The kernel's own answer, through `libc::syscall` (no wrapper logic).
pub fn via_syscall(c: &Call, vec: &mut [u8; VEC_LEN]) -> Res {
    type L = libc::c_long;
    // SAFETY: as in `via_rawmap`: the same arguments.
    let r = unsafe {
        match *c {
            Call::Mmap {
                addr,
                len,
                prot,
                flags,
                fd,
                off,
            } => libc::syscall(
                libc::SYS_mmap,
                addr as L,
                len as L,
                prot as L,
                flags as L,
                fd as L,
                off as L,
            ),
            Call::Munmap { addr, len } => libc::syscall(libc::SYS_munmap, addr as L, len as L),
            Call::Msync { addr, len, flags } => {
                libc::syscall(libc::SYS_msync, addr as L, len as L, flags as L)
            }
            Call::Mprotect { addr, len, prot } => {
                libc::syscall(libc::SYS_mprotect, addr as L, len as L, prot as L)
            }
            Call::Madvise { addr, len, advice } => {
                libc::syscall(libc::SYS_madvise, addr as L, len as L, advice as L)
            }
            Call::Mremap {
                addr,
                old_len,
                new_len,
                flags,
                new_addr,
            } => libc::syscall(
                libc::SYS_mremap,
                addr as L,
                old_len as L,
                new_len as L,
                flags as L,
                new_addr as L,
            ),
            Call::Mlock { addr, len } => libc::syscall(libc::SYS_mlock, addr as L, len as L),
            Call::Munlock { addr, len } => libc::syscall(libc::SYS_munlock, addr as L, len as L),
            Call::Mincore {
                addr,
                len,
                null_vec,
            } => {
                let v = if null_vec { 0 } else { vec.as_mut_ptr() as L };
                libc::syscall(libc::SYS_mincore, addr as L, len as L, v)
            }
            Call::Mlock2 { addr, len, flags } => {
                libc::syscall(libc::SYS_mlock2, addr as L, len as L, flags as L)
            }
            Call::Mlockall { flags } => libc::syscall(libc::SYS_mlockall, flags as L),
            Call::Munlockall => libc::syscall(libc::SYS_munlockall),
            Call::Mseal { addr, len } => libc::syscall(
                syscalls::Sysno::mseal as libc::c_long,
                addr as L,
                len as L,
                0 as L,
            ),
            Call::ProcessMadvise {
                pidfd,
                iov,
                vlen,
                advice,
                flags,
            } => {
                let v = iov.map(|(b, l)| libc::iovec {
                    iov_base: b as *mut libc::c_void,
                    iov_len: l,
                });
                libc::syscall(
                    libc::SYS_process_madvise,
                    pidfd as L,
                    v.as_ptr() as L,
                    vlen as L,
                    advice as L,
                    flags as L,
                )
            }
            Call::PkeyAlloc { flags, rights } => {
                let k = libc::syscall(libc::SYS_pkey_alloc, flags as L, rights as L);
                if k >= 0 {
                    assert_eq!(libc::syscall(libc::SYS_pkey_free, k), 0);
                }
                k
            }
            Call::PkeyFree { pkey } => libc::syscall(libc::SYS_pkey_free, pkey as L),
            Call::PkeyMprotect {
                addr,
                len,
                prot,
                pkey,
            } => libc::syscall(
                libc::SYS_pkey_mprotect,
                addr as L,
                len as L,
                prot as L,
                pkey as L,
            ),
        }
    };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

/// The length a successful call mapped at its result.
pub fn mapped_len(c: &Call, p: usize) -> usize {
    let len = match *c {
        Call::Mmap { len, .. } => len,
        Call::Mremap { new_len, .. } => new_len,
        _ => 0,
    };
    len.div_ceil(p) * p
}

/// Compares two results: for calls that return an address, success is
/// compared (placement may differ between two calls), except for FIXED
/// mappings whose address is part of the answer.
pub fn same(c: &Call, x: Res, y: Res) -> bool {
    match (x, y) {
        (Ok(a), Ok(b)) => match *c {
            Call::Mmap { flags, .. }
                if flags & (MapFlags::FIXED | MapFlags::FIXED_NOREPLACE).bits() != 0 =>
            {
                a == b
            }
            _ => true,
        },
        _ => x == y,
    }
}
