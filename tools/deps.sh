# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Sourced by the tools/*.sh scripts: installs the Debian 12 packages that tools/test.sh (CI) needs.
# Nothing happens when every package is present; otherwise one `apt-get update`, one install.
# A script that needs less replaces MX_DEPS after sourcing (tools/demo.sh: a compiler, cmake, make).
# The library itself needs only cmake, g++ and make (or ninja).

# make: the README's plain build and tests/install/check.sh use CMake's default generator.
# ninja-build: the presets' generator. libgtest-dev libgmock-dev: the tests.
# clang, libclang-rt-14-dev: libFuzzer for the fuzz preset (the latter only a Recommends of clang).
# clang-format: the format check (tools/format.sh; Debian 12's is clang-format-14).
# valgrind: memcheck over a subset of the tests (tools/valgrind.sh).
# pkg-config: the mx.pc consumers of tests/install/check.sh.
# dpkg-dev, file: dpkg-shlibdeps, with which `cpack -G DEB` computes the package's Depends.
MX_DEPS=(cmake g++ make ninja-build libgtest-dev libgmock-dev clang libclang-rt-14-dev clang-format
         valgrind pkg-config dpkg-dev file)

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
