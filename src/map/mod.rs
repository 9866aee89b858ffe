//! The safe layer: [`MmapOptions`] builds [`Mmap`] and [`MmapMut`], which own
//! their mapping and unmap it on drop. No allocation, no libc.
//!
//! The user's view of a mapping is not the kernel's: an offset into a file
//! need not be page-aligned, so the kernel maps from the aligned offset below
//! and the user sees the bytes from the requested one:
//!
//! ```text
//!  file:    |<- aligned offset ->|<- head ->|<-------- len -------->|
//!  kernel:                       [base ...........................................)  map_len
//!  user:                                    [ptr ...................)               len
//!                                page-aligned                        rounded up to a page
//! ```
//!
//! `Inner` (in `inner.rs`) owns `(ptr, len)` plus the alignment it was
//! mapped with, makes every system call on a mapping, and is the only type
//! with `Drop`. It is the only place that turns the user's view back into the
//! kernel's (`kernel_range`) or checks a sub-range (`checked_range`). A
//! length of 0 means nothing is mapped: such a mapping makes no system call
//! at all.
//!
//! The owners are thin wrappers around it, one file each: [`Mmap`]
//! (`mmap.rs`), [`MmapMut`] (`mmap_mut.rs`); [`MmapOptions`] and [`MapFd`]
//! are in `options.rs`, [`MmapError`] in `error.rs`.

mod error;
mod inner;
mod mmap;
mod mmap_mut;
mod options;
mod raw;
mod supported;

pub use error::{MmapError, Operation};
pub use mmap::Mmap;
pub use mmap_mut::MmapMut;
#[cfg(feature = "std")]
pub(crate) use options::{MapFailure, SizeUnknown};
pub use options::{MapFd, MmapOptions};
pub use raw::MmapRaw;

/// The trait impls every owner of a mapping that hands out `&[u8]` has, from
/// its `inner: Inner`: `Deref<Target = [u8]>`, `AsRef<[u8]>`, and a `Debug`
/// that shows the pointer and length (never the contents).
macro_rules! slice_owner_impls {
    ($ty:ident) => {
        impl ::core::ops::Deref for $ty {
            type Target = [u8];
            #[inline]
            fn deref(&self) -> &[u8] {
                self.inner.slice()
            }
        }

        impl AsRef<[u8]> for $ty {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                self.inner.slice()
            }
        }

        impl ::core::fmt::Debug for $ty {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                self.inner.debug(f, stringify!($ty))
            }
        }
    };
}
use slice_owner_impls;

// Every owner, descriptor and error can move to and be shared with other
// threads. One assertion on a tuple, which is `Send`/`Sync` only if each of
// its elements is: each assertion costs every build of rawmap a little.
static_assertions::assert_impl_all!(
    (
        Mmap,
        MmapMut,
        MmapRaw,
        MmapError<MmapMut>,
        crate::Memfd,
        crate::File,
        crate::MapIfSafeError,
    ): Send,
    Sync
);
