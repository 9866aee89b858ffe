#!/usr/bin/env bash
# riscv64 and the 32-bit targets under QEMU's user mode: riscv64gc glibc
# (qemu-riscv64), armv7 glibc (qemu-arm) and i686 musl (qemu-i386).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(ci_root)"

# Debian's cross linkers and C libraries for the two glibc targets (the
# i686 musl target links with rust-lld and needs nothing), and QEMU.
need_rust_targets
need_pkgs qemu-user gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
use_qemu_runner

targets=(riscv64gc-unknown-linux-gnu armv7-unknown-linux-gnueabihf i686-unknown-linux-musl)
for t in "${targets[@]}"; do
  run cargo build --no-default-features --target "$t"
  # Code under cfg(target_pointer_width = "32") or one of these
  # architectures is linted only here.
  run cargo clippy --target "$t" --all-targets -- -D warnings
done

# riscv64: everything, doc tests included.
run cargo test --target riscv64gc-unknown-linux-gnu

# QEMU's user mode reserves a 32-bit guest's whole 4 GiB address space on
# the host (PROT_NONE), and passes msync, mprotect, mlock, munlock and
# mremap to the host kernel: there, a range the guest never mapped is
# reserved memory, not a hole. The checks below expect the kernel's answer
# for holes (ENOMEM, or growing in place into a hole), so they cannot hold
# under qemu-arm and qemu-i386; .ci/steps/real32.sh runs them against real
# kernels. QEMU 7.2 also re-reserves the wrong range when
# mremap shrinks a mapping in place for such a guest (the pages after the
# old end instead of after the new one), which clobbers whatever is mapped
# next to it: the safe layer's grow-and-shrink test then dies with SIGSEGV.
qemu32_skip=(
  --exact
  --skip remap_grows_and_shrinks_keeping_contents
  --skip mlock_and_munlock_of_an_unmapped_range_are_enomem
  --skip mprotect_errors
  --skip mremap_errors
  --skip mremap_grow_without_maymove_into_a_free_page_stays_in_place
  --skip mremap_expand_merges_with_the_next_mapping
  --skip mremap_expand_of_an_inner_page_merges
  # MREMAP_DONTUNMAP goes to the host kernel as it is, which places the
  # moved pages outside the guest's 4 GiB: the guest gets an address it
  # cannot use, and dies with SIGSEGV on the first touch.
  --skip mremap_dontunmap_moves_the_pages_and_keeps_the_range
  --skip msync_unmapped_range_is_enomem
  # A Reservation's PROT_NONE range: for a 32-bit guest, QEMU's emulated
  # /proc/self/maps does not show it as a kernel's does.
  --skip new_reserves_a_prot_none_range_and_commits_nothing
  --skip decommit_gives_the_memory_back
)
qemu32_doc_skip=(--skip raw::munlock)

# Tests that start an example need it built (plain `cargo test` does that).
run cargo build --target armv7-unknown-linux-gnueabihf --examples
run cargo test --target armv7-unknown-linux-gnueabihf --lib --tests -- "${qemu32_skip[@]}"
run cargo test --target armv7-unknown-linux-gnueabihf --doc -- "${qemu32_doc_skip[@]}"

run cargo build --target i686-unknown-linux-musl --examples
run cargo test --target i686-unknown-linux-musl --lib --tests -- "${qemu32_skip[@]}"
run cargo test --target i686-unknown-linux-musl --doc -- "${qemu32_doc_skip[@]}"

# The same 32-bit tests on real kernels, skipping nothing: .ci/steps/real32.sh.
