#!/usr/bin/env bash
# Every benchmark of rawmap against its peers, and the Markdown report:
#
#   bash bench/run.sh            # writes bench/RESULTS.md
#
# 1. user-space instructions per call (callgrind; deterministic)
# 2. wall times side by side (criterion), as ratios to libc, and the same
#    cases in interleaved rounds (target/release/paired)
# 3. the 1 GiB file scan, GB/s: pread against fresh and faulted mappings,
#    with the page cache in 4 KiB folios and in 2 MiB folios
# 4. binary sizes of the records program (static musl), and examples/nolibc
# 5. clean build times, median of 5 rounds (wall, and user + system CPU time)
#
# Raw data goes to target/bench-results/; bench/report.py turns it into the
# report. Takes about 9 minutes on a fresh clone on 2 cores, 3 to 4 once
# built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench-results
rm -rf "$out" && mkdir -p "$out"
t_start=$SECONDS
export CARGO_TERM_COLOR=never

log() { echo "::: $*" >&2; }

command -v valgrind >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

# --- the machine ----------------------------------------------------------
{
  echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "nproc	$(nproc)"
  echo "kernel	$(uname -r)"
  echo "rustc	$(rustc --version)"
  echo "valgrind	$(valgrind --version)"
  echo "load	$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit	$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$out/machine.tsv"

# --- 1. instruction counts -------------------------------------------------
log "building the benchmark crate"
cargo build -q --release -p rawmap-bench --bins
cargo bench -q -p rawmap-bench --bench wall --no-run 2>/dev/null
icount=$root/target/release/icount
iters=1000
count() { # case n -> instructions counted inside rawmap_bench_measure
  valgrind --tool=callgrind --collect-atstart=no \
    --toggle-collect=rawmap_bench_measure \
    --callgrind-out-file="$out/cg.out" "$icount" "$1" "$2" 2>/dev/null >/dev/null
  awk '/^totals:/ {print $2}' "$out/cg.out"
}
log "instruction counts (callgrind)"
for case in $("$icount" list); do
  echo "$case	$(count "$case" "$iters")	$(count "$case" 0)	$iters"
done >"$out/icount.tsv"
rm -f "$out/cg.out"

# --- 2. wall times (criterion) ----------------------------------------------
log "wall times (criterion)"
rm -rf "$root/target/criterion"
cargo bench -q -p rawmap-bench --bench wall >"$out/criterion.txt" 2>&1
cp -r "$root/target/criterion" "$out/criterion"

log "wall times (interleaved rounds)"
"$root/target/release/paired" 41 >"$out/paired.tsv"

# --- 3. file scan -------------------------------------------------------------
log "file scan (1 GiB, 4 KiB folios, then 2 MiB folios)"
for fill in write4k write4m; do
  "$root/target/release/scan" 1024 9 "$fill" >"$out/scan-$fill.tsv"
done

# --- 4. binary sizes ----------------------------------------------------------
log "binary sizes"
sizes=$root/target/bench-sizes
: >"$out/sizes.tsv"
for profile in release release-z; do
  for peer in rawmap libc rustix memmap2; do
    CARGO_TARGET_DIR=$sizes cargo build -q --profile "$profile" \
      --target x86_64-unknown-linux-musl \
      --manifest-path "bench/sizes/$peer/Cargo.toml"
    dir=$profile
    bin=$sizes/x86_64-unknown-linux-musl/$dir/records-$peer
    read -r text data _ < <(size "$bin" | tail -1)
    echo "records $peer+std	$profile	x86_64-unknown-linux-musl	$(stat -c %s "$bin")	$text	$data" >>"$out/sizes.tsv"
  done
done
# examples/nolibc: its own crate, if it exists on this commit. It is built
# from its own directory, so that its .cargo/config.toml (no C start files,
# static, no build id) applies.
if [ -f examples/nolibc/Cargo.toml ]; then
  for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    (cd examples/nolibc && CARGO_TARGET_DIR=$sizes/nolibc cargo build -q --release --target "$target")
    bin=$sizes/nolibc/$target/release/nolibc
    read -r text data _ < <(size "$bin" | tail -1)
    echo "examples/nolibc	nolibc	$target	$(stat -c %s "$bin")	$text	$data" >>"$out/sizes.tsv"
  done
fi

# --- 5. build times -----------------------------------------------------------
log "build times (clean, median of 5, the programs in turn)"
bt=$root/target/bench-buildtime
: >"$out/buildtime.tsv"
TIMEFORMAT='%R %U %S'
crates=(rawmap rawmap-nostd syscalls-std syscalls syscalls-default memmap2 rustix)
for crate in "${crates[@]}"; do
  cargo fetch -q --manifest-path "bench/buildtime/$crate/Cargo.toml"
done
# Round by round, each program once per round, so that a slower or faster
# stretch of a shared machine falls on every program alike.
for i in 1 2 3 4 5; do
  for crate in "${crates[@]}"; do
    rm -rf "$bt/$crate"
    # wall, user and system seconds
    t=$( { time CARGO_TARGET_DIR=$bt/$crate cargo build -q --release --offline \
      --manifest-path "bench/buildtime/$crate/Cargo.toml" >/dev/null; } 2>&1 | tail -1)
    echo "$crate	$i	${t// /	}" >>"$out/buildtime.tsv"
  done
done
rm -rf "$bt"

echo "total	$((SECONDS - t_start))" >>"$out/machine.tsv"
python3 bench/report.py "$out" >bench/RESULTS.md
log "wrote bench/RESULTS.md in $((SECONDS - t_start)) s"
