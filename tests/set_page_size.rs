//! `set_page_size` changes the process-wide page size, so it lives alone in
//! this test binary, in a single test: nothing else here calls rawmap, and
//! the order of the steps is fixed.

mod common;

use common::sysconf_page_size;
use rawmap::{page_size, set_page_size};

#[test]
fn set_page_size_semantics() {
    let real = sysconf_page_size();
    let other = real * 4;

    // 1. A value given before the first lookup is the first link of the
    //    chain: page_size() returns it, and not the system's.
    set_page_size(other);
    assert_eq!(page_size(), other);

    // 2. Values that are not powers of two are ignored, 0 included, so a
    //    missing aux vector entry cannot make page_size() return 0.
    for bad in [0, 3, 12345, real + 1, usize::MAX] {
        set_page_size(bad);
        assert_eq!(page_size(), other, "set_page_size({bad}) was not ignored");
    }

    // 3. A later value replaces the earlier one.
    set_page_size(real);
    assert_eq!(page_size(), real);
    set_page_size(1 << 16);
    assert_eq!(page_size(), 1 << 16);

    // 4. Every thread sees the value.
    let seen = std::thread::spawn(page_size).join().unwrap();
    assert_eq!(seen, 1 << 16);

    set_page_size(real);
    assert_eq!(page_size(), real);
}
