//! Flag sets and advice values for the memory-management system calls.
//!
//! Every value here is rawmap's own constant, written from the Linux UAPI
//! headers (`asm-generic/mman-common.h`, `asm-generic/mman.h` and the
//! architecture's `asm/mman.h`); the values that only one architecture has
//! come from that architecture's file under `src/arch/`. The tests compare
//! every value with the `libc` crate's constant for the target they run on.
//!
//! Each flag set is one [`flag_set!`] list: a constant's name, value and doc
//! are written once, and `Debug` names exactly the constants of that list.

use core::fmt;

mod advice;
mod map;
mod mlock;
mod mremap;
mod msync;
mod pkey;
mod prot;

pub use advice::{Advice, AdviceArg, UncheckedAdvice};
pub use map::MapFlags;
pub use mlock::{MlockAllFlags, MlockFlags};
pub use mremap::MremapFlags;
pub use msync::MsyncFlags;
pub use pkey::PkeyAccess;
pub use prot::Prot;

// memfd: memory files and their seals.
mod memfd;
pub use memfd::{MemfdFlags, Seals};

// Relations between values that the kernel's ABI fixes, checked at compile
// time in one assertion (each assertion is a constant for the compiler to
// evaluate, so one costs every build of rawmap less than six):
// - SHARED_VALIDATE is SHARED | PRIVATE;
// - HUGE_2MB and HUGE_1GB are log2 of the size in bits 26..32, and HUGE_1GB
//   stays inside that field;
// - the three memfd flags are bits 0, 1 and 2;
// - msync's ASYNC and SYNC are distinct bits.
static_assertions::const_assert!(
    MapFlags::SHARED_VALIDATE.bits() == MapFlags::SHARED.bits() | MapFlags::PRIVATE.bits()
        && MapFlags::HUGE_2MB.bits() == 21 << 26
        && MapFlags::HUGE_1GB.bits() == 30 << 26
        && MapFlags::HUGE_1GB.bits() & !MapFlags::HUGE_FIELD == 0
        && MemfdFlags::CLOEXEC.bits()
            | MemfdFlags::ALLOW_SEALING.bits()
            | MemfdFlags::HUGETLB.bits()
            == 0x7
        && MsyncFlags::ASYNC.bits() & MsyncFlags::SYNC.bits() == 0
);

/// One named value of a flag set, for `Debug`: the set matches when
/// `bits & mask == value`. A plain flag has `mask == value`; a multi-bit field
/// (the huge page size in [`MapFlags`]) has the field's mask.
pub(crate) struct Named {
    pub(crate) name: &'static str,
    pub(crate) value: u32,
    pub(crate) mask: u32,
}

/// Writes `Type(A | B | 0x40)`: the type's name around [`write_names`].
#[inline]
pub(crate) fn debug_bits(
    f: &mut fmt::Formatter<'_>,
    ty: &str,
    bits: u32,
    names: &[Named],
) -> fmt::Result {
    f.write_str(ty)?;
    f.write_str("(")?;
    write_names(f, bits, names)?;
    f.write_str(")")
}

/// Writes `A | B | 0x40`: each named value found in `bits`, in list order,
/// then whatever bits no name claimed, in hex. An empty set writes the name
/// of the list's zero value if it has one (`NONE`), else `empty`.
#[inline]
pub(crate) fn write_names(f: &mut fmt::Formatter<'_>, bits: u32, names: &[Named]) -> fmt::Result {
    let mut rest = bits;
    let mut sep = "";
    for n in names {
        let zero = bits == 0 && n.mask == 0 && n.value == 0;
        if zero || (n.mask != 0 && rest & n.mask == n.value && n.value != 0) {
            f.write_str(sep)?;
            f.write_str(n.name)?;
            sep = " | ";
            rest &= !n.mask;
            if zero {
                return Ok(());
            }
        }
    }
    if rest != 0 {
        f.write_str(sep)?;
        write!(f, "{rest:#x}")?;
    } else if bits == 0 {
        f.write_str("empty")?;
    }
    Ok(())
}

/// Defines a `#[repr(transparent)]` flag set over `u32`: the struct, its
/// named constants, its bit operations and its `Debug`.
///
/// Each constant is written once, as `const NAME = value;` (`value` a `u32`)
/// under its doc comment, optionally after a `#[cfg(..)]`; a multi-bit field
/// value is `const NAME = value, in mask;`. `Debug` tries the names in the
/// order they are written here, so a name whose bits include another's
/// comes first.
macro_rules! flag_set {
    (@mask $value:expr) => { $value };
    (@mask $value:expr, $mask:expr) => { $mask };
    (
        $(#[$doc:meta])*
        pub struct $name:ident;
        $(
            $(#[doc = $flag_doc:literal])*
            $(#[cfg($cfg:meta)])*
            const $flag:ident = $value:expr $(, in $mask:expr)?;
        )*
    ) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            $(
                $(#[doc = $flag_doc])*
                $(#[cfg($cfg)])*
                pub const $flag: Self = Self($value);
            )*

            /// The names `Debug` shows, in the order above.
            pub(crate) const NAMES: &'static [$crate::flags::Named] = &[
                $(
                    $(#[cfg($cfg)])*
                    $crate::flags::Named {
                        name: stringify!($flag),
                        value: $value,
                        mask: flag_set!(@mask $value $(, $mask)?),
                    },
                )*
            ];

            /// The set with no flags.
            #[inline]
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The raw value passed to the kernel.
            #[inline]
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// A set holding exactly `bits`, including bits rawmap has no name
            /// for (the kernel decides what they mean).
            #[inline]
            pub const fn from_bits_retain(bits: u32) -> Self {
                Self(bits)
            }

            /// Whether every flag of `other` is also in `self`.
            #[inline]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether the set holds no flag.
            #[inline]
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The flags of both sets; the `const` form of `|`.
            #[inline]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// `self` without the flags of `other`.
            #[inline]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }
        }

        impl ::core::ops::BitOr for $name {
            type Output = Self;
            #[inline]
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl ::core::ops::BitOrAssign for $name {
            #[inline]
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl ::core::ops::BitAnd for $name {
            type Output = Self;
            #[inline]
            fn bitand(self, rhs: Self) -> Self {
                Self(self.0 & rhs.0)
            }
        }

        impl ::core::ops::BitAndAssign for $name {
            #[inline]
            fn bitand_assign(&mut self, rhs: Self) {
                self.0 &= rhs.0;
            }
        }

        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::flags::debug_bits(f, stringify!($name), self.0, Self::NAMES)
            }
        }
    };
}
use flag_set;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::ffi::c_int;
    use std::format;

    #[test]
    fn debug_names_flags_and_unknown_bits() {
        assert_eq!(format!("{:?}", Prot::NONE), "Prot(NONE)");
        assert_eq!(
            format!("{:?}", Prot::READ | Prot::EXEC),
            "Prot(READ | EXEC)"
        );
        assert_eq!(
            format!("{:?}", Prot::from_bits_retain(0x1 | 0x40)),
            "Prot(READ | 0x40)"
        );
        assert_eq!(format!("{:?}", MapFlags::empty()), "MapFlags(empty)");
        assert_eq!(
            format!("{:?}", MapFlags::SHARED_VALIDATE | MapFlags::SYNC),
            "MapFlags(SHARED_VALIDATE | SYNC)"
        );
        assert_eq!(
            format!(
                "{:?}",
                MapFlags::HUGETLB | MapFlags::huge_page_size_log2(16)
            ),
            format!("MapFlags(HUGETLB | {:#x})", 16u32 << 26)
        );
        assert_eq!(
            format!("{:?}", MsyncFlags::ASYNC | MsyncFlags::INVALIDATE),
            "MsyncFlags(ASYNC | INVALIDATE)"
        );
        assert_eq!(format!("{:?}", MremapFlags::empty()), "MremapFlags(empty)");
    }

    #[test]
    fn debug_names_every_constant() {
        for n in MapFlags::NAMES {
            let expected = format!("MapFlags({})", n.name);
            assert_eq!(
                format!("{:?}", MapFlags::from_bits_retain(n.value)),
                expected
            );
        }
        for n in Prot::NAMES {
            assert_eq!(
                format!("{:?}", Prot::from_bits_retain(n.value)),
                format!("Prot({})", n.name)
            );
        }
        for n in MlockAllFlags::NAMES {
            assert_eq!(
                format!("{:?}", MlockAllFlags::from_bits_retain(n.value)),
                format!("MlockAllFlags({})", n.name)
            );
        }
        for n in PkeyAccess::NAMES {
            assert_eq!(
                format!("{:?}", PkeyAccess::from_bits_retain(n.value)),
                format!("PkeyAccess({})", n.name)
            );
        }
        // (MapFlags: 16 + DROPPABLE; Prot: 6 + BTI, MTE on aarch64)
        assert_eq!(
            MapFlags::NAMES.len(),
            17 + cfg!(target_arch = "x86_64") as usize
        );
        assert_eq!(
            Prot::NAMES.len(),
            6 + 2 * cfg!(target_arch = "aarch64") as usize
        );
        assert_eq!(MlockFlags::NAMES.len(), 1);
        assert_eq!(MlockAllFlags::NAMES.len(), 3);
        assert_eq!(
            PkeyAccess::NAMES.len(),
            2 + 2 * cfg!(target_arch = "aarch64") as usize
        );
        assert_eq!(MsyncFlags::NAMES.len(), 3);
        assert_eq!(MremapFlags::NAMES.len(), 3);
    }

    #[test]
    fn set_operations() {
        let mut p = Prot::READ;
        p |= Prot::WRITE;
        assert_eq!(p.bits(), 3);
        assert!(p.contains(Prot::WRITE));
        assert!(!p.contains(Prot::EXEC));
        assert_eq!(p & Prot::WRITE, Prot::WRITE);
        assert_eq!(p.difference(Prot::READ), Prot::WRITE);
        assert_eq!(Prot::default(), Prot::empty());
        assert!(Prot::NONE.is_empty());
        assert_eq!(MapFlags::from_bits_retain(0x22).bits(), 0x22);
        assert_eq!(AdviceArg::to_raw(7 as c_int), 7);
        assert_eq!(Advice::Collapse.to_raw(), 25);
        assert_eq!(UncheckedAdvice::SoftOffline.to_raw(), 101);
    }
}
