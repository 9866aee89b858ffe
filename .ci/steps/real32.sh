#!/usr/bin/env bash
# The 32-bit targets on real kernels, every test included (.ci/steps/cross.sh
# runs them under QEMU's user mode, which truncates mmap2 offsets to 4 GiB
# and has no holes in a 32-bit guest's address space):
#
# - i686 musl on the host's x86_64 kernel, which runs i386 programs through
#   its compat layer (lib, integration and doc tests); on a host kernel
#   without that, under tests/kernel/run.sh's x86_64 kernel instead;
# - armv7 on the aarch64 kernel with 4K pages of tests/kernel/run.sh, whose
#   compat layer runs AArch32 programs (QEMU's `-cpu max` has AArch32 EL0).
#
# .ci/run runs it after .ci/steps/kernel.sh, which has cached the kernels
# (alone, it fetches them itself).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"
need_rust_targets
need_qemu_system
need_pkgs gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
runner="$PWD/tests/kernel/run.sh"

t=$SECONDS
run cargo build --target i686-unknown-linux-musl --examples
bin=$(cargo test --target i686-unknown-linux-musl --lib --no-run 2>&1 |
  sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))$/\1/p')
if [ -n "$bin" ] && "$bin" --list >/dev/null 2>&1; then
  echo "i686 on the host kernel ($(uname -r)); cargo's runner is env:"
  CARGO_TARGET_I686_UNKNOWN_LINUX_MUSL_RUNNER=env \
    run cargo test --target i686-unknown-linux-musl
else
  echo "i686: the host kernel does not run i386 programs; the x86_64 kernel of tests/kernel/run.sh does:"
  CARGO_TARGET_I686_UNKNOWN_LINUX_MUSL_RUNNER="$runner x86_64" \
    run cargo test --target i686-unknown-linux-musl --lib --tests --no-fail-fast
fi
echo "::: real32: i686 took $((SECONDS - t)) s"

t=$SECONDS
run cargo build --target armv7-unknown-linux-gnueabihf --examples
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="$runner aarch64-4k" \
  run cargo test --target armv7-unknown-linux-gnueabihf --lib --tests --no-fail-fast
echo "::: real32: armv7 on aarch64-4k took $((SECONDS - t)) s"
