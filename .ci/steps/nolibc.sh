#!/usr/bin/env bash
# The programs on both architectures: examples/nolibc (no libc, its own
# _start) built static for x86_64 and aarch64 musl, run natively and under
# qemu-aarch64 at 4K and 64K pages, its size printed and held to 4 KiB, its
# program headers shown; and the std examples (records, shared) run on both.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

run() { echo "+ $*"; "$@"; }

expected=$'integer: 43, string: RECORD-43\ninteger: 143, string: RECORD-143\ninteger: 243, string: RECORD-243'
max=4096
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Compares a program's output with the seed's three lines.
same() {
  local what=$1 got=$2
  if [ "$got" != "$expected" ]; then
    echo "$what printed:"; echo "$got"; echo "expected:"; echo "$expected"
    exit 1
  fi
  echo "$what: output as expected"
}

# The crate is outside the root workspace, so the matrix's fmt and clippy
# do not see it.
(cd examples/nolibc && run cargo fmt -- --check)

sizes=()
for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  # Cargo reads examples/nolibc/.cargo/config.toml (the link arguments)
  # only when it runs from that directory.
  (cd examples/nolibc &&
    run cargo clippy --release --target "$target" --target-dir "$root/target/nolibc" -- -D warnings &&
    run cargo build --release --target "$target" --target-dir "$root/target/nolibc")
  bin=$root/target/nolibc/$target/release/nolibc
  size=$(stat -c %s "$bin")
  sizes+=("$(printf '%-28s %5d bytes' "$target" "$size")")
  echo "::: nolibc $target: $size bytes"
  readelf -lW "$bin" | sed -n '/^Program Headers/,/^$/p'
  if readelf -lW "$bin" | grep -qE '^\s*(INTERP|DYNAMIC)\b'; then
    echo "$target: the program has an INTERP or DYNAMIC program header"; exit 1
  fi
  readelf -d "$bin"
  case $target in
    x86_64*) runs=("")            ;;
    aarch64*) runs=(4096 65536)   ;;
  esac
  for page in "${runs[@]}"; do
    dir=$work/$target-$page; mkdir -p "$dir"
    if [ -z "$page" ]; then
      out=$(cd "$dir" && "$bin" "$dir/records.dat")
    else
      out=$(cd "$dir" && QEMU_PAGESIZE=$page qemu-aarch64 "$bin" "$dir/records.dat")
    fi
    echo "$out"
    same "nolibc $target${page:+ (QEMU_PAGESIZE=$page)}" "$out"
    [ "$(stat -c %s "$dir/records.dat")" = 2800 ] || { echo "records.dat is not 2800 bytes"; exit 1; }
  done
done

# The std examples, natively and under qemu-aarch64.
examples=(shared)
[ -e examples/records.rs ] && examples=(records shared) || echo "examples/records.rs not present: not run"
for target in host aarch64-unknown-linux-musl; do
  args=()
  for e in "${examples[@]}"; do args+=(--example "$e"); done
  prefix=()
  if [ "$target" = host ]; then
    # The host build reuses the matrix's target/debug.
    run cargo build "${args[@]}"
    bin=$root/target/debug/examples
  else
    run cargo build --target "$target" "${args[@]}"
    bin=$root/target/$target/debug/examples
    prefix=(qemu-aarch64)
  fi
  if [ -e examples/records.rs ]; then
    dir=$work/records-$target; mkdir -p "$dir"
    out=$(cd "$dir" && "${prefix[@]}" "$bin/records" "$dir/records.dat")
    echo "$out"
    # One run of the job per layer (raw, then safe), three lines each.
    runs=$(( $(grep -c . <<<"$out") / 3 ))
    [ "$runs" -ge 1 ] || { echo "records printed nothing"; exit 1; }
    want=$expected
    for ((i = 1; i < runs; i++)); do want+=$'\n'$expected; done
    [ "$out" = "$want" ] || { echo "records printed otherwise"; exit 1; }
    echo "records $target: the seed's three lines, $runs time(s)"
  fi
  run "${prefix[@]}" "$bin/shared" file
  run "${prefix[@]}" "$bin/shared" anon
done

echo "::: nolibc sizes (limit $max bytes)"
printf '%s\n' "${sizes[@]}"
for s in "${sizes[@]}"; do
  n=$(awk '{print $2}' <<<"$s")
  if [ "$n" -gt "$max" ]; then
    echo "a nolibc binary is larger than $max bytes"; exit 1
  fi
done
