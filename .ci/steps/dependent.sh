#!/usr/bin/env bash
# A crate of a user's own, made in a scratch directory, that depends on
# rawmap by path and carries the `.cargo/config.toml` snippet of the
# README's "Cross-building a crate that uses rawmap" (taken from the README
# itself, so the README stays true): built and run on the host, on x86_64
# musl, and on aarch64 musl under qemu-aarch64 at 4K and 64K pages.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"
need_rust_targets
need_pkgs qemu-user
root=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/.cargo"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "uses-rawmap"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
rawmap = { path = "$root" }

[workspace]
TOML
cat > "$work/src/main.rs" <<'RUST'
fn main() -> std::io::Result<()> {
    let path = std::env::temp_dir().join(format!("uses-rawmap-{}.bin", std::process::id()));
    // SAFETY: the file is this program's own; nobody else changes it.
    let mut map = unsafe { rawmap::MmapMut::create(&path, 4096)? };
    map[..5].copy_from_slice(b"hello");
    map.flush()?;
    drop(map);
    let back = std::fs::read(&path)?;
    std::fs::remove_file(&path)?;
    assert_eq!((&back[..5], back.len()), (&b"hello"[..], 4096));
    println!("mapped, flushed and read back; page size {}", rawmap::page_size());
    Ok(())
}
RUST
# The README's snippet: the toml block of that section.
awk '/^## Cross-building a crate that uses rawmap/ { s = 1 }
     s && /^```toml/ { b = 1; next }
     b && /^```/ { exit }
     b { print }' README.md > "$work/.cargo/config.toml"
grep -q 'aarch64-unknown-linux-musl' "$work/.cargo/config.toml" ||
  { echo "the README's cross-building snippet was not found"; exit 1; }
echo "+ the README's .cargo/config.toml:"; cat "$work/.cargo/config.toml"

# Outside this repository, so that its own .cargo/config.toml does not
# apply; with the pinned toolchain, whose targets need_rust_targets added.
cd "$work"
export RUSTUP_TOOLCHAIN
RUSTUP_TOOLCHAIN=$(cd "$root" && pinned_channel)
export CARGO_TARGET_DIR=$work/target
run cargo run -q
run cargo run -q --target x86_64-unknown-linux-musl
run cargo run -q --target aarch64-unknown-linux-musl
QEMU_PAGESIZE=65536 run cargo run -q --target aarch64-unknown-linux-musl
