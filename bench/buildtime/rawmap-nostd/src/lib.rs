#![no_std]

/// The page size, through rawmap without std.
pub fn page() -> usize {
    rawmap::page_size()
}
