#!/usr/bin/env bash
# External-consumer check: builds libmx (Release, no tests) in build/install-check, installs it into
# a temporary prefix, then builds and runs tests/install/consumer*.c* against the installed tree
#   1. with CMake:       find_package(mx) -> mx::mx (shared) and mx::mx_static
#   2. with pkg-config:  cc consumer.c $(pkg-config --cflags --libs mx)
# The C++ consumer is built only when the installed tree has <mx/channel.h>.
# Exits non-zero on the first failure. Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build/install-check"
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

step() { echo "-- install check: $*"; }

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f "$build/CMakeCache.txt" ] && generator=()   # keep whatever generator the cache has

step "build libmx (Release) in $build"
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DMX_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target mx_shared mx_static
step "install to $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

pcfile=$(find "$prefix" -name mx.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pcfile" ] || { echo "mx.pc was not installed" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir mx)
for f in "$libdir/libmx.a" "$libdir/libmx.so" "$libdir/libmx.so.0" "$libdir/cmake/mx/mxConfig.cmake" \
         "$libdir/cmake/mx/mxConfigVersion.cmake" "$prefix/include/magenta/syscalls.h"; do
  [ -e "$f" ] || { echo "not installed: ${f#"$prefix"/}" >&2; exit 1; }
done
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "libmx.so exports only mx_* (cmake/mx.map)"
extra=$(nm -D --defined-only "$libdir/libmx.so" | awk '{print $3}' | grep -v '^mx_' || true)
if [ -n "$extra" ]; then
  echo "libmx.so exports symbols outside mx_*:" >&2
  echo "$extra" | head -n 20 | sed 's/^/  /' >&2
  exit 1
fi

step "CMake consumer (find_package(mx))"
cmake -S "$here" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" -j2
"$work/consumer/consumer"
"$work/consumer/consumer_static"
if [ -f "$prefix/include/mx/channel.h" ]; then
  "$work/consumer/consumer_cpp"
fi

step "pkg-config consumer"
# shellcheck disable=SC2046  # pkg-config output is meant to be split
"${CC:-cc}" -std=c11 -Wall -Wextra -pedantic -Werror "$here/consumer.c" -o "$work/pc_consumer" \
  $(pkg-config --cflags --libs mx)
"$work/pc_consumer"
if [ -f "$prefix/include/mx/channel.h" ]; then
  # shellcheck disable=SC2046
  "${CXX:-c++}" -std=c++20 -Wall -Wextra -Werror "$here/consumer_cpp.cc" -o "$work/pc_consumer_cpp" \
    $(pkg-config --cflags --libs mx)
  "$work/pc_consumer_cpp"
else
  step "no <mx/channel.h> installed: C++ consumer skipped"
fi

step "ok"
