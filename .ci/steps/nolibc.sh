#!/usr/bin/env bash
# The programs on both architectures:
# - examples/nolibc (no libc, its own _start), through its checks in
#   tests/nolibc: built static for x86_64 and aarch64 musl, run natively and
#   under qemu-aarch64 at 4K, 16K and 64K pages, output, file, ELF headers
#   and size (at most 4 KiB) asserted; its program headers and size shown;
# - the std examples (records, shared), run natively and under qemu-aarch64.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"
need_rust_targets
need_pkgs qemu-user binutils
root=$PWD

expected=$'integer: 43, string: RECORD-43\ninteger: 143, string: RECORD-143\ninteger: 243, string: RECORD-243'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Both crates are outside the root workspace, so the matrix's fmt and
# clippy do not see them. Cargo reads examples/nolibc/.cargo/config.toml
# (the link arguments) only when it runs from that directory.
for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  (cd examples/nolibc &&
    run cargo clippy --release --target "$target" --target-dir "$root/target/nolibc" -- -D warnings)
done
(cd examples/nolibc && run cargo fmt -- --check)
(cd tests/nolibc && run cargo fmt -- --check &&
  run cargo clippy --all-targets --target-dir "$root/target/nolibc-check" -- -D warnings)
CARGO_TARGET_DIR=$root/target/nolibc-check \
  run cargo test --manifest-path tests/nolibc/Cargo.toml

sizes=()
for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  bin=$root/target/nolibc-test/$target/release/nolibc
  sizes+=("$(printf '%-28s %5d bytes' "$target" "$(stat -c %s "$bin")")")
  readelf -lW "$bin" | sed -n '/^Program Headers/,/^$/p'
  readelf -d "$bin"
done

# The std examples, natively and under qemu-aarch64.
for target in host aarch64-unknown-linux-musl; do
  prefix=()
  if [ "$target" = host ]; then
    run cargo build --example records --example shared
    bin=$root/target/debug/examples
  else
    run cargo build --target "$target" --example records --example shared
    bin=$root/target/$target/debug/examples
    prefix=(qemu-aarch64)
  fi
  dir=$work/records-$target; mkdir -p "$dir"
  out=$(cd "$dir" && "${prefix[@]}" "$bin/records" "$dir/records.dat")
  echo "$out"
  # One run of the job per layer (raw, then safe), three lines each.
  [ "$out" = "$expected"$'\n'"$expected" ] || { echo "records printed otherwise"; exit 1; }
  echo "records $target: the seed's three lines, once per layer"
  run "${prefix[@]}" "$bin/shared" file
  run "${prefix[@]}" "$bin/shared" anon
done

echo "::: nolibc sizes (tests/nolibc holds them to 2944 bytes on x86_64, 3072 on aarch64)"
printf '%s\n' "${sizes[@]}"
