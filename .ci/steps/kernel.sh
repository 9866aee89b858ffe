#!/usr/bin/env bash
# The library and integration tests (--lib --tests) under six real kernels
# in QEMU's full-system emulation, through tests/kernel/run.sh as the cargo
# runner: aarch64 with 4K pages, aarch64 with 16K pages and x86_64, each on
# Linux 6.1/6.12 (Debian's release kernels) and on Linux 7.3 (Debian's
# backports). Installs qemu-system and cpio with apt when missing.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"

# --- Tools -----------------------------------------------------------------
t=$SECONDS
need_rust_targets
need_qemu_system
qemu-system-aarch64 --version | head -n 1
echo "::: kernel: tools ready in $((SECONDS - t)) s"

# --- Kernels, /init and the test binaries -----------------------------------
flavours=(aarch64-4k aarch64-16k x86_64 aarch64-4k-7.3 aarch64-16k-7.3 x86_64-7.3)
triple() { case $1 in aarch64-*) echo aarch64-unknown-linux-musl ;; x86_64*) echo x86_64-unknown-linux-musl ;; esac; }
t=$SECONDS
for f in "${flavours[@]}"; do
  tests/kernel/run.sh "$f" --prepare
done
echo "::: kernel: kernels cached and /init built in $((SECONDS - t)) s"
t=$SECONDS
# The example programs too: the runner puts them beside the test binary in
# the guest, for the tests that run them (`--lib --tests` alone does not
# build them).
for target in aarch64-unknown-linux-musl x86_64-unknown-linux-musl; do
  cargo test --target "$target" --lib --tests --no-run
  cargo build --target "$target" --examples
done
echo "::: kernel: test binaries and examples built in $((SECONDS - t)) s"

# --- The runs -----------------------------------------------------------------
logs=$(mktemp -d)
summary=()
failed=0
for f in "${flavours[@]}"; do
  target=$(triple "$f")
  var=CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_RUNNER
  echo "::: kernel: cargo test --target $target --lib --tests under $f"
  t=$SECONDS
  status=0
  env "$var=$PWD/tests/kernel/run.sh $f" \
    cargo test --target "$target" --lib --tests --no-fail-fast 2>&1 | tee "$logs/$f.log" || status=$?
  secs=$((SECONDS - t))
  # One boot per test binary; libtest's summary lines give the counts.
  read -r boots passed failed_n ignored < <(awk '
    /^run\.sh: .* on .*: .* after [0-9]+ s$/ { boots++ }
    /^test result: / { p += $4; f += $6; i += $8 }
    END { print boots + 0, p + 0, f + 0, i + 0 }' "$logs/$f.log")
  summary+=("$(printf '%-16s %3d boots %5d passed %3d failed %3d ignored %5d s' \
    "$f" "$boots" "$passed" "$failed_n" "$ignored" "$secs")")
  [ "$status" = 0 ] || failed=1
done

echo
echo "::: kernel: tests per kernel (boot + run, one boot per test binary)"
printf '%s\n' "${summary[@]}"
rm -rf "$logs"
exit "$failed"
