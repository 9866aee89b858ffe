#!/usr/bin/env bash
# The library and integration tests (--lib --tests) under three real
# kernels in QEMU's full-system emulation, through tests/kernel/run.sh as
# the cargo runner: aarch64 with 4K pages, aarch64 with 16K pages, x86_64.
# Installs qemu-system and cpio with apt when missing (as root, no stdin).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never DEBIAN_FRONTEND=noninteractive

# --- Tools -----------------------------------------------------------------
# qemu-utils from a backports release (e.g. 10.x from bookworm-backports)
# declares Breaks: qemu-system-common (<< 8.0), so the release's own
# qemu-system cannot be installed beside it: take the qemu-system family
# from the same backports suite (only those packages; qemu-user stays as
# it is). The suite is added for these apt calls only, through a private
# sources list, if the machine does not list it.
install_tools() {
  local pkgs=() apt=(apt-get -o DPkg::Lock::Timeout=900 -y -qq)
  command -v qemu-system-aarch64 >/dev/null || pkgs+=(qemu-system-arm)
  command -v qemu-system-x86_64 >/dev/null || pkgs+=(qemu-system-x86)
  command -v cpio >/dev/null || pkgs+=(cpio)
  [ ${#pkgs[@]} -gt 0 ] || return 0
  echo "+ installing ${pkgs[*]}"
  local utils suite
  utils=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
  if [[ $utils == *~bpo* ]] && [[ ${pkgs[*]} == *qemu-system* ]]; then
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")-backports
    if ! apt-cache policy | grep -q " $suite/"; then
      local list
      list=$(mktemp -d)/sources.list
      { cat /etc/apt/sources.list 2>/dev/null || true
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
      } > "$list"
      apt+=(-o "Dir::Etc::sourcelist=$list")
    fi
    "${apt[@]}" update
    local from=()
    for p in "${pkgs[@]}"; do
      case $p in
        qemu-system-*) from+=("$p/$suite") ;;
        *) from+=("$p") ;;
      esac
    done
    # Their common parts, and the x86 firmware the new version asks for.
    from+=("qemu-system-common/$suite" "qemu-system-data/$suite")
    [[ ${pkgs[*]} != *qemu-system-x86* ]] || from+=("seabios/$suite")
    "${apt[@]}" install --no-install-recommends "${from[@]}" >/dev/null
  else
    "${apt[@]}" update
    "${apt[@]}" install --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
}
t=$SECONDS
install_tools
qemu-system-aarch64 --version | head -n 1
echo "::: kernel: tools ready in $((SECONDS - t)) s"

# --- Kernels, /init and the test binaries -----------------------------------
flavours=(aarch64-4k aarch64-16k x86_64)
triple() { case $1 in aarch64-*) echo aarch64-unknown-linux-musl ;; x86_64) echo x86_64-unknown-linux-musl ;; esac; }
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
  summary+=("$(printf '%-12s %3d boots %5d passed %3d failed %3d ignored %5d s' \
    "$f" "$boots" "$passed" "$failed_n" "$ignored" "$secs")")
  [ "$status" = 0 ] || failed=1
done

echo
echo "::: kernel: tests per kernel (boot + run, one boot per test binary)"
printf '%s\n' "${summary[@]}"
rm -rf "$logs"
exit "$failed"
