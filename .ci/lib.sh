# Shell helpers of .ci/run and .ci/steps/*.sh (sourced, never run).
#
# Every step installs what it uses through these, so that each one also runs
# alone on a fresh machine (`bash .ci/steps/cross.sh`): nothing is assumed
# of what rustup or apt left behind. Installing needs root, as in CI.

export CARGO_TERM_COLOR=never DEBIAN_FRONTEND=noninteractive

# Prints a command, then runs it.
run() { echo "+ $*"; "$@"; }

# Test binaries under QEMU's user mode run through .ci/qemu-user-runner (a
# time limit, and one more run after a hang of QEMU's): the runners of
# .cargo/config.toml, wrapped.
use_qemu_runner() {
  local runner
  runner="$(ci_root)/.ci/qemu-user-runner"
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER="$runner qemu-aarch64"
  export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUNNER="$runner qemu-riscv64"
  export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="$runner qemu-arm"
  export CARGO_TARGET_I686_UNKNOWN_LINUX_MUSL_RUNNER="$runner qemu-i386"
}

# The repository's root, whichever step sourced this file.
ci_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# apt-get as CI calls it: quiet, no questions, waiting for another apt
# that holds the lock (the kernel runner may be fetching a kernel).
ci_apt=(apt-get -o DPkg::Lock::Timeout=900 -y -qq)
apt_updated=

# Whether a Debian package is installed (whatever put it there).
have_pkg() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# Installs the Debian packages given that are not installed yet, without
# recommends, and says which.
need_pkgs() {
  local missing=() p
  for p in "$@"; do have_pkg "${p%%/*}" || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "+ apt-get install ${missing[*]}"
  [ -n "$apt_updated" ] || { "${ci_apt[@]}" update; apt_updated=1; }
  "${ci_apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
}

# The pinned toolchain of rust-toolchain.toml with its components and every
# target it lists. With RUSTUP_AUTO_INSTALL=0 rustup adds none of these by
# itself; both calls are no-ops once done.
# The channel rust-toolchain.toml pins.
pinned_channel() {
  sed -n 's/^channel *= *"\(.*\)"/\1/p' "$(ci_root)/rust-toolchain.toml"
}

need_rust_targets() {
  local file channel targets
  file=$(ci_root)/rust-toolchain.toml
  channel=$(pinned_channel)
  mapfile -t targets < <(sed -n '/^targets/,/]/s/^ *"\([^"]*\)".*/\1/p' "$file")
  [ -n "$channel" ] && [ ${#targets[@]} -gt 0 ] || {
    echo "cannot read the channel and targets of $file" >&2
    return 1
  }
  run rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy
  run rustup target add --toolchain "$channel" "${targets[@]}"
}

# qemu-system for aarch64 and x86_64, and cpio, for tests/kernel/run.sh.
#
# A machine may carry qemu-utils from a backports suite (e.g. 10.x from
# bookworm-backports), which declares Breaks: qemu-system-common (<< 8.0):
# the release's own qemu-system cannot be installed beside it, so the
# qemu-system family then comes from the same backports suite, added for
# these apt calls only (a private sources list) if the machine does not
# list it. Elsewhere the release's own QEMU is taken. No NIC ROM is needed
# (the runner boots with -nic none), so recommends stay out.
need_qemu_system() {
  local pkgs=()
  have_pkg qemu-system-arm || pkgs+=(qemu-system-arm)
  have_pkg qemu-system-x86 || pkgs+=(qemu-system-x86)
  need_pkgs cpio
  [ ${#pkgs[@]} -gt 0 ] || return 0
  local utils suite apt=("${ci_apt[@]}")
  utils=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
  if [[ $utils != *~bpo* ]]; then
    need_pkgs "${pkgs[@]}"
    return
  fi
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")-backports
  if ! apt-cache policy | grep -q " $suite/"; then
    local list
    list=$(mktemp -d)/sources.list
    { cat /etc/apt/sources.list 2>/dev/null || true
      echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
    } > "$list"
    apt+=(-o "Dir::Etc::sourcelist=$list")
  fi
  echo "+ apt-get install ${pkgs[*]} from $suite (qemu-utils is $utils)"
  "${apt[@]}" update
  local from=() p
  for p in "${pkgs[@]}"; do from+=("$p/$suite"); done
  # Their common parts, and the x86 firmware the new version asks for.
  from+=("qemu-system-common/$suite" "qemu-system-data/$suite")
  [[ ${pkgs[*]} != *qemu-system-x86* ]] || from+=("seabios/$suite")
  "${apt[@]}" install --no-install-recommends "${from[@]}" >/dev/null
}
