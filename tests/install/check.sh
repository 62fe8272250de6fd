#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Consumer check: every way a project can take libmx, each configured with GoogleTest and Google
# Benchmark hidden from CMake (proof that none of them needs test tooling):
#   1. the README's plain build: `cmake -S . -B build`, `cmake --build`, `cmake --install --prefix P`
#      in build/install-check with no other option; then, against P,
#      find_package(mx) from a C project and a C++17 project (mx::mx and mx::mx_static) and
#      examples/hello configured as C++14 (mx::mx must raise it to C++17, or <mx/*.h> fail)
#   2. pkg-config against P: a C11 and a C++17 program
#   3. add_subdirectory and FetchContent of this source tree inside a C++17 project (configuring
#      tests/install/embedded asserts that libmx leaves the parent's options alone); the
#      FetchContent one is built, its programs run, and its install holds nothing of libmx
#   4. the Debian package: `cpack -G DEB` from the build of step 1, `dpkg -i`, the consumers of
#      steps 1 and 2 against /usr, `dpkg --purge libmx` (needs root; skipped with a message otherwise)
# Every program built is also run. Exits non-zero on the first failure. Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build/install-check"
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-install-check.XXXXXX")
prefix="$work/prefix"
deb_installed=0
cleanup() {
  if [ "$deb_installed" -eq 1 ]; then
    echo "-- install check: removing the libmx package after a failure" >&2
    dpkg --purge libmx >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

no_tooling=(-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON)
step() { echo "-- install check: $*"; }
fail() { echo "install check: $*" >&2; exit 1; }

version=$(sed -nE 's/^#define MX_VERSION_STRING "([^"]+)"$/\1/p' "$root/include/magenta/version.h")
[ -n "$version" ] || fail "no MX_VERSION_STRING in include/magenta/version.h"

# configure_and_build <source> <build dir> <cmake args>...
configure_and_build() {
  local src=$1 dir=$2
  shift 2
  mkdir -p "$(dirname "$dir")"
  cmake -S "$src" -B "$dir" "${no_tooling[@]}" "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; fail "configure of $src failed"; }
  cmake --build "$dir" -j2
}

# find_package consumers: C (C11, shared and static), C++17 (shared and static), examples/hello.
# consumers <label> <cmake args>...
consumers() {
  local label=$1 lang
  shift
  for lang in C CXX; do
    step "$label: find_package(mx) from a $lang project"
    configure_and_build "$here" "$work/$label-$lang" -DCONSUMER_LANGUAGE="$lang" "$@"
    "$work/$label-$lang/consumer"
    "$work/$label-$lang/consumer_static"
  done
  step "$label: examples/hello, its project asking for C++14 (mx::mx raises it to C++17)"
  [ -f "$root/examples/hello/CMakeLists.txt" ] || fail "examples/hello/CMakeLists.txt is missing"
  configure_and_build "$root/examples/hello" "$work/$label-hello" -DCMAKE_CXX_STANDARD=14 "$@"
  local programs
  mapfile -t programs < <(find "$work/$label-hello" -maxdepth 1 -type f -perm -u+x)
  [ ${#programs[@]} -eq 1 ] || fail "examples/hello should build one program, found: ${programs[*]}"
  "${programs[0]}"
}

# pkg-config consumers, C11 and C++17, both linked with the shared library.
pkg_config_consumers() {
  local label=$1
  step "$label: pkg-config --cflags --libs mx ($(pkg-config --modversion mx)), C11 and C++17"
  [ "$(pkg-config --modversion mx)" = "$version" ] || fail "mx.pc says version $(pkg-config --modversion mx)"
  # shellcheck disable=SC2046  # pkg-config output is meant to be split
  "${CC:-cc}" -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/consumer.c" -o "$work/$label-pc-c" \
    $(pkg-config --cflags --libs mx)
  # shellcheck disable=SC2046
  "${CXX:-c++}" -std=c++17 -Wall -Wextra -Wpedantic -Werror "$here/consumer_cpp.cc" \
    -o "$work/$label-pc-cpp" $(pkg-config --cflags --libs mx)
  "$work/$label-pc-c"
  "$work/$label-pc-cpp"
}

# ---- 0. The README quotes the first program as it is ------------------------------------------------

step "0. the README's first program is examples/hello as it is"
readme_block() {  # the first fenced block of language $1 after the heading "## A first program"
  awk -v lang="$1" '/^## A first program/ {on = 1} on && $0 == "```" lang {inside = 1; next}
    inside && $0 == "```" {exit} inside {print}' "$root/README.md"
}
diff <(readme_block cpp) "$root/examples/hello/hello.cc" >&2 ||
  fail "README.md's first program differs from examples/hello/hello.cc"
diff <(readme_block cmake) <(grep -v '^#' "$root/examples/hello/CMakeLists.txt" | grep -v '^$') >&2 ||
  fail "README.md's CMakeLists.txt differs from examples/hello/CMakeLists.txt (comments aside)"

# ---- 1. The plain build and install -------------------------------------------------------------

step "1. plain build of libmx $version in $build (only the GTest/benchmark-hiding options)"
rm -rf "$build"
configure_and_build "$root" "$build"
if grep -rqsE 'gtest|gmock|libbenchmark' --include=link.txt --include=flags.make --include=build.ninja \
    "$build"; then
  fail "the plain build compiles or links against GoogleTest or Google Benchmark"
fi
step "install to $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

libdir="$prefix/lib"
# While the major version is 0 the soname names major.minor (a minor release may break the ABI).
soversion=${version%.*}
installed_files=(lib/libmx.a lib/libmx.so "lib/libmx.so.$soversion" "lib/libmx.so.$version"
  lib/cmake/mx/mxConfig.cmake lib/cmake/mx/mxConfigVersion.cmake lib/cmake/mx/mxTargets.cmake
  lib/pkgconfig/mx.pc include/magenta/syscalls.h include/magenta/version.h include/mx/channel.h
  share/doc/libmx/LICENSE)
for f in "${installed_files[@]}"; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
soname=$(readelf -d "$prefix/lib/libmx.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libmx.so.$soversion" ] || fail "the soname is $soname, not libmx.so.$soversion"
unexpected=$(cd "$prefix" && find . -type f ! -path './include/*' ! -path './lib/*' ! -path './share/doc/libmx/*')
[ -z "$unexpected" ] || fail "installed beyond the library, headers, package files and license: $unexpected"

step "libmx.so exports only mx_* (cmake/mx.map)"
extra=$(nm -D --defined-only "$libdir/libmx.so" | awk '{print $3}' | grep -v '^mx_' || true)
[ -z "$extra" ] || fail "libmx.so exports symbols outside mx_*: $(echo "$extra" | head -n 20 | tr '\n' ' ')"

consumers prefix -DCMAKE_PREFIX_PATH="$prefix"

# ---- 2. pkg-config ------------------------------------------------------------------------------

PKG_CONFIG_PATH="$libdir/pkgconfig" LD_LIBRARY_PATH="$libdir" pkg_config_consumers prefix

# ---- 3. Inside another project ------------------------------------------------------------------

# FetchContent_MakeAvailable ends in add_subdirectory, so one build of the two is enough; both
# configure, which is where libmx decides what to add to the parent (asserted in embedded/).
step "3. add_subdirectory: libmx inside a C++17 project (no build type set, BUILD_TESTING on)"
mkdir -p "$work/add_subdirectory"
cmake -S "$here/embedded" -B "$work/add_subdirectory" "${no_tooling[@]}" -DMX_SOURCE_DIR="$root" \
  -DMX_EMBED=add_subdirectory >"$work/add_subdirectory.configure.log" 2>&1 ||
  { cat "$work/add_subdirectory.configure.log" >&2; fail "add_subdirectory: configure failed"; }
step "3. FetchContent: the same, then build and run its consumers"
configure_and_build "$here/embedded" "$work/fetchcontent" -DMX_SOURCE_DIR="$root" -DMX_EMBED=FetchContent
"$work/fetchcontent/consumer_cpp"
"$work/fetchcontent/consumer_cpp_static"
step "3. the parent's install holds nothing of libmx (it is part of the parent's program)"
cmake --install "$work/fetchcontent" --prefix "$work/fetchcontent-prefix" >/dev/null
[ -x "$work/fetchcontent-prefix/bin/consumer_cpp" ] || fail "the parent's own install did not run"
leaked=$(find "$work/fetchcontent-prefix" -type f ! -path '*/bin/consumer_cpp' | head -n 5)
[ -z "$leaked" ] || fail "installing the parent installed libmx's files: $leaked"

# ---- 4. The Debian package ----------------------------------------------------------------------

deb="$build/libmx_${version}_$(dpkg --print-architecture).deb"
step "4. cpack -G DEB -> ${deb#"$root"/}"
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
[ -f "$deb" ] || fail "cpack did not write $deb: $(ls "$build"/*.deb 2>/dev/null)"
[ "$(dpkg-deb -f "$deb" Package)" = libmx ] || fail "package name is not libmx"
contents=$(dpkg-deb -c "$deb")
for f in "${installed_files[@]}"; do
  grep -q " \./usr/$f\( \|$\)" <<<"$contents" || fail "/usr/$f is not in the package"
done
step "Depends: $(dpkg-deb -f "$deb" Depends)"

if [ "$(id -u)" -ne 0 ]; then
  step "not root: dpkg -i and the consumers against /usr are SKIPPED (CI runs them as root)"
else
  if dpkg-query -W -f='${Status}' libmx 2>/dev/null | grep -q "install ok installed"; then
    fail "a libmx package is already installed (the README's .deb route?); remove it first: dpkg -r libmx"
  fi
  if compgen -G "/usr/local/lib/cmake/mx/*" >/dev/null || [ -e /usr/local/lib/pkgconfig/mx.pc ]; then
    fail "libmx is installed under /usr/local (the README's cmake route?), which find_package and" \
      "pkg-config search before /usr; remove it first: xargs rm < build/install_manifest.txt"
  fi
  step "dpkg -i"
  deb_installed=1
  dpkg -i "$deb" >/dev/null
  # Against /usr alone: nothing points at the build or the prefix of step 1.
  (
    unset PKG_CONFIG_PATH LD_LIBRARY_PATH CMAKE_PREFIX_PATH
    consumers deb
    mx_dir=$(sed -n 's/^mx_DIR:PATH=//p' "$work/deb-CXX/CMakeCache.txt")
    [ "$mx_dir" = /usr/lib/cmake/mx ] || fail "the package consumer found libmx in $mx_dir, not /usr"
    pkg_config_consumers deb
  )
  step "dpkg --purge libmx"
  dpkg --purge libmx >/dev/null
  deb_installed=0
  [ ! -e "/usr/lib/libmx.so.$soversion" ] || fail "dpkg --purge left /usr/lib/libmx.so.$soversion behind"
fi

step "ok"
