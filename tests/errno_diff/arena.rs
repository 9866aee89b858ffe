//! The arena: memory the test reserved, which every call that changes
//! mappings stays inside (or fails before the kernel touches anything).

use rawmap::{MapFlags, Prot, c_void};

use crate::calls::{Call, Res, mapped_len};

/// The arena: memory the test reserved, laid out in pages of `p` bytes.
///
/// ```text
/// page  0      1..5    5     6..8          8..15    15
///       guard  A (rw)  hole  F (ro file)   guard    hole
/// ```
///
/// `A` is private anonymous read-write memory, `F` a shared read-only
/// mapping of a file opened read-only, the guards `PROT_NONE`. Every call
/// that changes mappings stays inside the arena, or fails before the kernel
/// touches anything.
pub struct Arena {
    pub p: usize,
    pub base: usize,
    pub ro_fd: i32,
    /// A descriptor number that is not open.
    pub closed_fd: i32,
}

pub const ARENA_PAGES: usize = 16;

impl Arena {
    pub fn a(&self) -> usize {
        self.base + self.p
    }
    pub fn hole(&self) -> usize {
        self.base + 5 * self.p
    }
    pub fn f(&self) -> usize {
        self.base + 6 * self.p
    }
    pub fn g(&self) -> usize {
        self.base + 8 * self.p
    }
    pub fn end(&self) -> usize {
        self.base + ARENA_PAGES * self.p
    }
    pub fn contains(&self, addr: usize, len: usize) -> bool {
        addr >= self.base && addr.checked_add(len).is_some_and(|e| e <= self.end())
    }
    pub fn overlaps(&self, addr: usize, len: usize) -> bool {
        addr < self.end() && addr.saturating_add(len.max(1)) > self.base
    }

    /// Puts the layout back: one FIXED mapping over the whole arena (which
    /// replaces whatever a call left there, locks and advice included), then
    /// `A`, `F` and the holes.
    pub fn reset(&self) {
        let p = self.p;
        let rw = Prot::READ | Prot::WRITE;
        let anon_fixed = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
        // SAFETY: the arena is memory this test reserved and nothing else
        // refers to; FIXED replaces only that.
        unsafe {
            let got = rawmap::mmap(
                self.base as *mut c_void,
                ARENA_PAGES * p,
                Prot::NONE,
                anon_fixed,
                -1,
                0,
            );
            assert_eq!(got, Ok(self.base as *mut c_void), "arena reset");
            let got = rawmap::mmap(self.a() as *mut c_void, 4 * p, rw, anon_fixed, -1, 0);
            assert_eq!(got, Ok(self.a() as *mut c_void), "arena reset A");
            rawmap::munmap(self.hole() as *mut c_void, p).expect("arena hole");
            let got = rawmap::mmap(
                self.f() as *mut c_void,
                2 * p,
                Prot::READ,
                MapFlags::SHARED | MapFlags::FIXED,
                self.ro_fd,
                0,
            );
            assert_eq!(got, Ok(self.f() as *mut c_void), "arena reset F");
            rawmap::munmap((self.end() - p) as *mut c_void, p).expect("arena end hole");
        }
    }
}

/// Unmaps what a successful mmap/mremap made outside the arena (inside it,
/// the next reset replaces it: a result that starts inside the arena stays
/// inside, since the holes and guards stop any growth in place; kernels
/// before 6.x answer an mremap to the same length, even a huge one, with
/// the old address at once).
pub fn release(a: &Arena, c: &Call, r: Res) {
    let Ok(addr) = r else { return };
    let len = mapped_len(c, a.p);
    if len == 0 || a.contains(addr, 1) {
        return;
    }
    assert!(
        !a.overlaps(addr, len),
        "{c:?} mapped {addr:#x}+{len:#x} across the arena's edge"
    );
    // SAFETY: the call just made this mapping outside the arena; nothing
    // refers to it.
    unsafe { rawmap::munmap(addr as *mut c_void, len) }.expect("unmapping a result");
}
