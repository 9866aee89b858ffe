#!/usr/bin/env bash
# The declared rust-version (Cargo.toml) builds the library, with std and
# without, on the host: the oldest toolchain a dependent may use.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"

msrv=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)
[ -n "$msrv" ] || { echo "Cargo.toml declares no rust-version" >&2; exit 1; }
run rustup toolchain install "$msrv" --profile minimal
# Its own target directory: the pinned toolchain's artefacts stay valid.
export CARGO_TARGET_DIR=target/msrv
run cargo "+$msrv" build --lib --locked
run cargo "+$msrv" build --lib --locked --no-default-features
