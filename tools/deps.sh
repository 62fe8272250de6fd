# shellcheck shell=bash
# Sourced by tools/test.sh and tools/demo.sh: installs the Debian 12 packages the build needs.
# Nothing happens when every package is present; otherwise one `apt-get update`, one install.

# libclang-rt-14-dev: libFuzzer for the fuzz preset (only a Recommends of clang).
# valgrind: memcheck over a subset of the tests (tools/valgrind.sh).
MX_DEPS=(cmake g++ clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev ninja-build
         pkg-config valgrind)

mx_install_deps() {
  local missing=() pkg
  for pkg in "${MX_DEPS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  echo "== installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
