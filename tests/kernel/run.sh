#!/usr/bin/env bash
# Runs a static test binary under a real Linux kernel in QEMU's full-system
# emulation and exits with the binary's exit status.
#
#   tests/kernel/run.sh FLAVOUR BINARY [ARGS...]
#   tests/kernel/run.sh FLAVOUR --prepare    (fetch the kernel, build /init)
#
# FLAVOUR is one of
#   aarch64-4k        Debian 12's linux-image-cloud-arm64 (6.1, 4 KiB pages)
#   aarch64-16k       Debian 12's linux-image-6.12-arm64-16k (16 KiB pages)
#   x86_64            Debian 12's linux-image-cloud-amd64 (6.1)
#   aarch64-4k-7.3    Linux 7.3 from trixie-backports, cloud-arm64
#   aarch64-16k-7.3   Linux 7.3 from trixie-backports, arm64-16k
#   x86_64-7.3        Linux 7.3 from trixie-backports, cloud-amd64
#
# As a cargo runner (cargo appends the binary and its arguments):
#   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER="$PWD/tests/kernel/run.sh aarch64-16k" \
#     cargo test --target aarch64-unknown-linux-musl --lib --tests
#
# The guest is a kernel and an initramfs holding /init (tests/kernel/init,
# built here for the guest's architecture), the binary and its arguments;
# /init mounts proc, sysfs, devtmpfs and a tmpfs on /tmp, runs the binary
# with TMPDIR=/tmp, RAWMAP_REAL_KERNEL=1 and RAWMAP_KERNEL=FLAVOUR and
# prints its exit status on the console. There is no shell, no dynamic
# loader and no other program: the binary must be static. Environment
# variables named RUST_*, PROPTEST_* and RAWMAP_* (except RAWMAP_QEMU_USER)
# are passed on to it. The guest has 2 CPUs, 1 GiB of memory and no network
# card; the kernel command line enables secret memory
# (secretmem.enable=1); the binary's working directory is /tmp.
#
# Kernels are fetched on first use with `apt-get download` through a
# private apt configuration (its own sources list and lists, for amd64 and
# arm64, under the cache directory: the machine's apt setup and dpkg's
# architectures stay as they are) and cached in $RAWMAP_KERNEL_CACHE
# (default ${XDG_CACHE_HOME:-~/.cache}/rawmap-kernels). Needs
# qemu-system-aarch64 / qemu-system-x86_64 and cpio (.ci/steps/kernel.sh
# installs them).
#
# RAWMAP_KERNEL_TIMEOUT (seconds, default 900) bounds one boot.
# RAWMAP_KERNEL_APPEND adds to the kernel command line (e.g. hugepages=2,
# so that tests of MAP_HUGETLB find huge pages reserved).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
[ $# -ge 2 ] || usage
flavour=$1
binary=$2
shift 2
t0=$SECONDS

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${RAWMAP_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rawmap-kernels}

# Where a flavour's kernel comes from: a Debian suite set (see apt_private)
# and either a meta package to resolve (`meta`) or a package name pattern
# whose newest match is taken (`pattern`, for backports, whose ABI
# numbers move).
meta= pattern=
case $flavour in
  aarch64-4k | aarch64-4k-7.3 | aarch64-16k | aarch64-16k-7.3)
    # The CPU must implement the 16K granule (cortex-a53/a57 do not: the
    # kernel then hangs silently); pauth-impdef keeps pointer
    # authentication cheap to emulate.
    arch=arm64 triple=aarch64-unknown-linux-musl
    qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on)
    console=ttyAMA0 ;;
  x86_64 | x86_64-7.3)
    arch=amd64 triple=x86_64-unknown-linux-musl
    qemu=(qemu-system-x86_64 -M q35 -cpu max -vga none -bios /usr/share/qemu/qboot.rom)
    console=ttyS0 ;;
  *)
    echo "run.sh: unknown kernel flavour '$flavour'" >&2
    usage ;;
esac
case $flavour in
  aarch64-4k)      suites=bookworm meta=linux-image-cloud-arm64 ;;
  aarch64-16k)     suites=bookworm meta=linux-image-6.12-arm64-16k ;;
  x86_64)          suites=bookworm meta=linux-image-cloud-amd64 ;;
  aarch64-4k-7.3)  suites=trixie-backports pattern='linux-binary-7\.3\.[0-9]+\+deb13-cloud-arm64' ;;
  aarch64-16k-7.3) suites=trixie-backports pattern='linux-binary-7\.3\.[0-9]+\+deb13-arm64-16k' ;;
  x86_64-7.3)      suites=trixie-backports pattern='linux-binary-7\.3\.[0-9]+\+deb13-cloud-amd64' ;;
esac

[ "$binary" = --prepare ] || [ -f "$binary" ] ||
  { echo "run.sh: no such binary: $binary" >&2; exit 2; }
for tool in "${qemu[0]}" cpio dpkg-deb; do
  command -v "$tool" >/dev/null || {
    echo "run.sh: $tool is missing (bash .ci/steps/kernel.sh installs what is needed)" >&2
    exit 2
  }
done

# apt-get and apt-cache with a private configuration for the suite set $1:
# sources, lists and downloads under <cache>/apt/<set>, amd64 and arm64.
# Sets the array `apt_opts`; the lists are fetched once a day.
apt_private() {
  local dir=$cache/apt/$1 keys=/usr/share/keyrings/debian-archive-keyring.gpg
  mkdir -p "$dir/lists/partial" "$dir/archives/partial"
  case $1 in
    bookworm)
      printf 'deb [signed-by=%s] http://deb.debian.org/debian %s main\n' \
        "$keys" bookworm "$keys" bookworm-updates
      printf 'deb [signed-by=%s] http://deb.debian.org/debian-security bookworm-security main\n' "$keys" ;;
    trixie-backports)
      printf 'deb [signed-by=%s] http://deb.debian.org/debian trixie-backports main\n' "$keys" ;;
  esac > "$dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir" -o Dir::Cache::pkgcache=
    -o Dir::Cache::srcpkgcache= -o "Dir::Cache::archives=$dir/archives"
    -o APT::Architectures::=amd64 -o APT::Architectures::=arm64)
  # As root, apt would hand downloads to its _apt user, which cannot write
  # to this private directory.
  [ "$(id -u)" != 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
  if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
    echo "run.sh: updating the package lists of $1" >&2
    apt-get "${apt_opts[@]}" -qq update >&2
  fi
}

# The kernel image: <cache>/<flavour>/vmlinuz, fetched once. Debian 12's
# packages keep it in /boot, Debian 13's in /usr/lib/modules/<version>/.
fetch_kernel() {
  local dir=$1 pkg
  apt_private "$suites"
  if [ -n "$meta" ]; then
    pkg=$(apt-cache "${apt_opts[@]}" depends "$meta:$arch" 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  else
    pkg=$(apt-cache "${apt_opts[@]}" pkgnames 2>/dev/null | grep -xE "$pattern" | sort -V | tail -n 1)
  fi
  pkg=${pkg%%:*}
  [ -n "$pkg" ] || { echo "run.sh: no kernel package for $flavour in $suites" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get "${apt_opts[@]}" download -qq "$pkg:$arch" >&2 &&
    dpkg-deb --fsys-tarfile ./*.deb | tar -x --wildcards '*/vmlinuz*')
  local image
  image=$(find "$tmp" -name 'vmlinuz*' -type f | head -n 1)
  [ -n "$image" ] || { echo "run.sh: $pkg holds no vmlinuz" >&2; rm -rf "$tmp"; return 1; }
  mkdir -p "$dir"
  cp "$image" "$dir/vmlinuz.new"
  basename "$tmp"/*.deb > "$dir/package"
  mv "$dir/vmlinuz.new" "$dir/vmlinuz"
  rm -rf "$tmp"
  echo "run.sh: cached $(cat "$dir/package") in $dir" >&2
}
kdir=$cache/$flavour
if [ ! -s "$kdir/vmlinuz" ]; then
  mkdir -p "$cache"
  # One fetch at a time, however many runners start together.
  exec 9>"$cache/.lock"
  flock 9
  [ -s "$kdir/vmlinuz" ] || fetch_kernel "$kdir"
  exec 9>&-
fi

# /init for the guest's architecture (a no-op once built).
init_dir=$root/target/kernel-init
(cd "$root" && cargo build -q --release --manifest-path tests/kernel/init/Cargo.toml \
  --target "$triple" --target-dir "$init_dir")
init=$init_dir/$triple/release/init
[ "$binary" != --prepare ] || exit 0

# The initramfs: /init, the binary, /rawmap/argv and /rawmap/env. A test
# binary cargo built in target/<triple>/<profile>/deps keeps that layout
# (/target/deps/<binary>) beside the profile's example programs
# (/target/examples/<name>), so tests that run an example find it where
# cargo put it; any other binary goes to /bin.
work=$(mktemp -d "${TMPDIR:-/tmp}/rawmap-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/rawmap" "$work/root/proc" "$work/root/sys" "$work/root/dev" \
  "$work/root/tmp"
cp "$init" "$work/root/init"
name=$(basename "$binary")
bin_dir=$(cd "$(dirname "$binary")" && pwd)
if [ "$(basename "$bin_dir")" = deps ]; then
  guest_path=/target/deps/$name
  mkdir -p "$work/root/target/deps" "$work/root/target/examples"
  for example in "$bin_dir"/../examples/*; do
    # The plain names only: not the hashed copies or dependency files.
    case ${example##*/} in *.* | *-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) continue ;; esac
    if [ -f "$example" ] && [ -x "$example" ]; then cp "$example" "$work/root/target/examples/"; fi
  done
else
  guest_path=/bin/$name
  mkdir -p "$work/root/bin"
fi
cp "$binary" "$work/root$guest_path"
printf '%s\0' "$guest_path" "$@" > "$work/root/rawmap/argv"
{
  env -0 | grep -zE '^(RUST_|PROPTEST_|RAWMAP_)' | grep -zvE '^RAWMAP_(QEMU_USER|KERNEL)=' || true
  printf 'RAWMAP_KERNEL=%s\0' "$flavour"
} > "$work/root/rawmap/env"
(cd "$work/root" && find . -mindepth 1 | LC_ALL=C sort |
  cpio -o -H newc -R 0:0 --quiet) > "$work/init.cpio"

# Boot. The console is streamed with the serial line's \r removed and kept
# for the status line /init prints last.
log=$work/console.log
set +e
timeout --foreground -k 10 "${RAWMAP_KERNEL_TIMEOUT:-900}" \
  "${qemu[@]}" -smp 2 -m 1024 -nic none -display none -monitor none -serial stdio -no-reboot \
  -kernel "$kdir/vmlinuz" -initrd "$work/init.cpio" \
  -append "console=$console panic=-1 quiet secretmem.enable=1${RAWMAP_KERNEL_APPEND:+ $RAWMAP_KERNEL_APPEND}" </dev/null 2>&1 |
  sed -u -e 's/\r$//' -e '/^\[ *[0-9.]*\] reboot: Power down$/d' | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e

status=$({ grep -a '^@@rawmap-init@@ ' "$log" || true; } | tail -n 1 | cut -d' ' -f2-)
echo "run.sh: $name on $flavour: ${status:-no status} after $((SECONDS - t0)) s" >&2
case $status in
  "exit "*) exit "${status#exit }" ;;
  "signal "*)
    echo "run.sh: $name was killed by signal ${status#signal }" >&2
    exit $((128 + ${status#signal })) ;;
  "error "*)
    echo "run.sh: /init could not run $name: ${status#error }" >&2
    exit 125 ;;
  *)
    if [ "$qemu_status" = 124 ]; then
      echo "run.sh: no result from the guest within ${RAWMAP_KERNEL_TIMEOUT:-900} s" >&2
    else
      echo "run.sh: the guest stopped without reporting a status (QEMU exited with $qemu_status)" >&2
    fi
    exit 125 ;;
esac
