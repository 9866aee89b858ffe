#!/usr/bin/env bash
# The benchmarks still compile and lint clean (they are not run here:
# bash bench/run.sh does that, in about 6 minutes). The size and build-time
# programs that depend on rawmap are type-checked too.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"
need_rust_targets

run cargo clippy -p rawmap-bench --all-targets -- -D warnings
for crate in bench/sizes/rawmap bench/buildtime/rawmap bench/buildtime/rawmap-nostd; do
  CARGO_TARGET_DIR=target/bench-check run cargo check -q --manifest-path "$crate/Cargo.toml"
done
