#!/usr/bin/env bash
# fmt, clippy, docs, no_std builds and the test matrix: host, x86_64 musl, and
# aarch64 musl under qemu-aarch64 at 4K, 16K and 64K pages.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"
need_rust_targets
need_pkgs qemu-user
use_qemu_runner

run cargo test
run cargo fmt --all -- --check
run cargo clippy --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" run cargo doc --no-deps
for target in x86_64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  run cargo build --no-default-features --target "$target"
done
run cargo test --target x86_64-unknown-linux-musl
run cargo test --target aarch64-unknown-linux-musl
QEMU_PAGESIZE=16384 run cargo test --target aarch64-unknown-linux-musl
QEMU_PAGESIZE=65536 run cargo test --target aarch64-unknown-linux-musl
