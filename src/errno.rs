//! Errors in the words people know: [`strerror`] and [`ErrnoDisplay`].
//!
//! [`Errno`]'s own `Display` (from the `syscalls` crate) prints
//! `-13 EACCES (Permission denied)`: a negated number and, for some errnos,
//! the kernel headers' old comments (`Bad file number` for `EBADF`). This
//! module has the wording of the GNU C library's `strerror`, which is what
//! `std::io::Error`, `perror` and most man pages show, so an error reads the
//! same whichever way it reaches the user.

use core::fmt;

use syscalls::Errno;

/// The description of `errno` in the GNU C library's words (what
/// `strerror(3)` and `std::io::Error`'s `Display` print on glibc systems):
/// `"Permission denied"` for `EACCES`, `"Bad file descriptor"` for `EBADF`.
/// `None` for a number that is no Linux errno (0, negative numbers, 41, 58,
/// anything above 133).
///
/// Available without `std` and without an allocator. The table covers every
/// errno of the kernel's `<asm-generic/errno-base.h>` and
/// `<asm-generic/errno.h>`, which all of rawmap's targets use. (musl's
/// `strerror`, which `std::io::Error` uses on `*-linux-musl` targets, words
/// a few of them differently, e.g. `ENOMEM` as "Out of memory".)
///
/// See [strerror(3)](https://man7.org/linux/man-pages/man3/strerror.3.html)
/// and [errno(3)](https://man7.org/linux/man-pages/man3/errno.3.html).
///
/// ```
/// use rawmap::{strerror, Errno};
/// assert_eq!(strerror(Errno::EACCES), Some("Permission denied"));
/// assert_eq!(strerror(Errno::EBADF), Some("Bad file descriptor"));
/// assert_eq!(strerror(Errno::new(4000)), None);
/// ```
#[doc(alias = "strerror_r")]
#[inline]
pub fn strerror(errno: Errno) -> Option<&'static str> {
    // A negative number wraps to a huge index, which `get` refuses.
    match TEXT.get(errno.into_raw() as usize) {
        Some(&text) if !text.is_empty() => Some(text),
        _ => None,
    }
}

/// `strerror`'s table, indexed by errno; `""` where no errno has the number.
/// One array rather than a `match` of 131 arms: the same answer for less
/// work in every build of rawmap.
const TEXT: [&str; 134] = [
    "",                                                  // 0: no errno
    "Operation not permitted",                           // 1 EPERM
    "No such file or directory",                         // 2 ENOENT
    "No such process",                                   // 3 ESRCH
    "Interrupted system call",                           // 4 EINTR
    "Input/output error",                                // 5 EIO
    "No such device or address",                         // 6 ENXIO
    "Argument list too long",                            // 7 E2BIG
    "Exec format error",                                 // 8 ENOEXEC
    "Bad file descriptor",                               // 9 EBADF
    "No child processes",                                // 10 ECHILD
    "Resource temporarily unavailable",                  // 11 EAGAIN
    "Cannot allocate memory",                            // 12 ENOMEM
    "Permission denied",                                 // 13 EACCES
    "Bad address",                                       // 14 EFAULT
    "Block device required",                             // 15 ENOTBLK
    "Device or resource busy",                           // 16 EBUSY
    "File exists",                                       // 17 EEXIST
    "Invalid cross-device link",                         // 18 EXDEV
    "No such device",                                    // 19 ENODEV
    "Not a directory",                                   // 20 ENOTDIR
    "Is a directory",                                    // 21 EISDIR
    "Invalid argument",                                  // 22 EINVAL
    "Too many open files in system",                     // 23 ENFILE
    "Too many open files",                               // 24 EMFILE
    "Inappropriate ioctl for device",                    // 25 ENOTTY
    "Text file busy",                                    // 26 ETXTBSY
    "File too large",                                    // 27 EFBIG
    "No space left on device",                           // 28 ENOSPC
    "Illegal seek",                                      // 29 ESPIPE
    "Read-only file system",                             // 30 EROFS
    "Too many links",                                    // 31 EMLINK
    "Broken pipe",                                       // 32 EPIPE
    "Numerical argument out of domain",                  // 33 EDOM
    "Numerical result out of range",                     // 34 ERANGE
    "Resource deadlock avoided",                         // 35 EDEADLK
    "File name too long",                                // 36 ENAMETOOLONG
    "No locks available",                                // 37 ENOLCK
    "Function not implemented",                          // 38 ENOSYS
    "Directory not empty",                               // 39 ENOTEMPTY
    "Too many levels of symbolic links",                 // 40 ELOOP
    "",                                                  // 41: no errno
    "No message of desired type",                        // 42 ENOMSG
    "Identifier removed",                                // 43 EIDRM
    "Channel number out of range",                       // 44 ECHRNG
    "Level 2 not synchronized",                          // 45 EL2NSYNC
    "Level 3 halted",                                    // 46 EL3HLT
    "Level 3 reset",                                     // 47 EL3RST
    "Link number out of range",                          // 48 ELNRNG
    "Protocol driver not attached",                      // 49 EUNATCH
    "No CSI structure available",                        // 50 ENOCSI
    "Level 2 halted",                                    // 51 EL2HLT
    "Invalid exchange",                                  // 52 EBADE
    "Invalid request descriptor",                        // 53 EBADR
    "Exchange full",                                     // 54 EXFULL
    "No anode",                                          // 55 ENOANO
    "Invalid request code",                              // 56 EBADRQC
    "Invalid slot",                                      // 57 EBADSLT
    "",                                                  // 58: no errno
    "Bad font file format",                              // 59 EBFONT
    "Device not a stream",                               // 60 ENOSTR
    "No data available",                                 // 61 ENODATA
    "Timer expired",                                     // 62 ETIME
    "Out of streams resources",                          // 63 ENOSR
    "Machine is not on the network",                     // 64 ENONET
    "Package not installed",                             // 65 ENOPKG
    "Object is remote",                                  // 66 EREMOTE
    "Link has been severed",                             // 67 ENOLINK
    "Advertise error",                                   // 68 EADV
    "Srmount error",                                     // 69 ESRMNT
    "Communication error on send",                       // 70 ECOMM
    "Protocol error",                                    // 71 EPROTO
    "Multihop attempted",                                // 72 EMULTIHOP
    "RFS specific error",                                // 73 EDOTDOT
    "Bad message",                                       // 74 EBADMSG
    "Value too large for defined data type",             // 75 EOVERFLOW
    "Name not unique on network",                        // 76 ENOTUNIQ
    "File descriptor in bad state",                      // 77 EBADFD
    "Remote address changed",                            // 78 EREMCHG
    "Can not access a needed shared library",            // 79 ELIBACC
    "Accessing a corrupted shared library",              // 80 ELIBBAD
    ".lib section in a.out corrupted",                   // 81 ELIBSCN
    "Attempting to link in too many shared libraries",   // 82 ELIBMAX
    "Cannot exec a shared library directly",             // 83 ELIBEXEC
    "Invalid or incomplete multibyte or wide character", // 84 EILSEQ
    "Interrupted system call should be restarted",       // 85 ERESTART
    "Streams pipe error",                                // 86 ESTRPIPE
    "Too many users",                                    // 87 EUSERS
    "Socket operation on non-socket",                    // 88 ENOTSOCK
    "Destination address required",                      // 89 EDESTADDRREQ
    "Message too long",                                  // 90 EMSGSIZE
    "Protocol wrong type for socket",                    // 91 EPROTOTYPE
    "Protocol not available",                            // 92 ENOPROTOOPT
    "Protocol not supported",                            // 93 EPROTONOSUPPORT
    "Socket type not supported",                         // 94 ESOCKTNOSUPPORT
    "Operation not supported",                           // 95 EOPNOTSUPP
    "Protocol family not supported",                     // 96 EPFNOSUPPORT
    "Address family not supported by protocol",          // 97 EAFNOSUPPORT
    "Address already in use",                            // 98 EADDRINUSE
    "Cannot assign requested address",                   // 99 EADDRNOTAVAIL
    "Network is down",                                   // 100 ENETDOWN
    "Network is unreachable",                            // 101 ENETUNREACH
    "Network dropped connection on reset",               // 102 ENETRESET
    "Software caused connection abort",                  // 103 ECONNABORTED
    "Connection reset by peer",                          // 104 ECONNRESET
    "No buffer space available",                         // 105 ENOBUFS
    "Transport endpoint is already connected",           // 106 EISCONN
    "Transport endpoint is not connected",               // 107 ENOTCONN
    "Cannot send after transport endpoint shutdown",     // 108 ESHUTDOWN
    "Too many references: cannot splice",                // 109 ETOOMANYREFS
    "Connection timed out",                              // 110 ETIMEDOUT
    "Connection refused",                                // 111 ECONNREFUSED
    "Host is down",                                      // 112 EHOSTDOWN
    "No route to host",                                  // 113 EHOSTUNREACH
    "Operation already in progress",                     // 114 EALREADY
    "Operation now in progress",                         // 115 EINPROGRESS
    "Stale file handle",                                 // 116 ESTALE
    "Structure needs cleaning",                          // 117 EUCLEAN
    "Not a XENIX named type file",                       // 118 ENOTNAM
    "No XENIX semaphores available",                     // 119 ENAVAIL
    "Is a named type file",                              // 120 EISNAM
    "Remote I/O error",                                  // 121 EREMOTEIO
    "Disk quota exceeded",                               // 122 EDQUOT
    "No medium found",                                   // 123 ENOMEDIUM
    "Wrong medium type",                                 // 124 EMEDIUMTYPE
    "Operation canceled",                                // 125 ECANCELED
    "Required key not available",                        // 126 ENOKEY
    "Key has expired",                                   // 127 EKEYEXPIRED
    "Key has been revoked",                              // 128 EKEYREVOKED
    "Key was rejected by service",                       // 129 EKEYREJECTED
    "Owner died",                                        // 130 EOWNERDEAD
    "State not recoverable",                             // 131 ENOTRECOVERABLE
    "Operation not possible due to RF-kill",             // 132 ERFKILL
    "Memory page has hardware error",                    // 133 EHWPOISON
];

/// Shows an [`Errno`] as `EACCES: Permission denied`: its C name and the
/// description [`strerror`] gives. A number that is no Linux errno shows as
/// `Unknown error 4000` (glibc's words for it).
///
/// `Errno`'s own `Display` belongs to the `syscalls` crate and prints
/// `-13 EACCES (Permission denied)`; wrap an `Errno` in this type wherever
/// it is shown to a user. [`MmapError`](crate::MmapError)'s `Display` uses
/// it. Available without `std`.
///
/// ```
/// use rawmap::{Errno, ErrnoDisplay};
/// assert_eq!(ErrnoDisplay(Errno::EACCES).to_string(), "EACCES: Permission denied");
/// assert_eq!(ErrnoDisplay(Errno::EBADF).to_string(), "EBADF: Bad file descriptor");
/// assert_eq!(ErrnoDisplay::from(Errno::new(4000)).to_string(), "Unknown error 4000");
/// // std's words for the same errno:
/// let io = std::io::Error::from(Errno::EACCES);
/// assert_eq!(io.to_string(), "Permission denied (os error 13)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrnoDisplay(pub Errno);

impl From<Errno> for ErrnoDisplay {
    #[inline]
    fn from(errno: Errno) -> Self {
        Self(errno)
    }
}

impl fmt::Display for ErrnoDisplay {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.name(), strerror(self.0)) {
            (Some(name), Some(text)) => write!(f, "{name}: {text}"),
            _ => write!(f, "Unknown error {}", self.0.into_raw()),
        }
    }
}
