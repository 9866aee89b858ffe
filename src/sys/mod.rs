//! Every system call rawmap makes, one small function each, by family:
//! [`mm`] (the memory-management calls), [`fd`] (files: `openat`, `read`,
//! `close`, `statx`) and [`prctl`]; the kernel's constants they need that
//! are not flag sets are in [`consts`].
//!
//! Each function converts its arguments to registers, makes the call through
//! the `syscalls` crate and decodes the result: a return value in
//! `-4095..=-1` is an errno, anything else (an address may have its top bit
//! set) is the result. Nothing else happens here: no checks, no policy. No
//! module above this one issues a system call itself.
//!
//! # Safety
//!
//! The memory-management calls create, change and remove mappings, so they
//! can invalidate any memory in the process. Each `unsafe fn` says what its
//! caller promises.

pub(crate) mod consts;
pub(crate) mod fd;
pub(crate) mod mm;
pub(crate) mod prctl;

/// A file descriptor number, as the kernel's `int`.
pub type RawFd = core::ffi::c_int;
