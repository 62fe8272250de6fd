#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds Magenta's own unit tests, unchanged, against libmx and counts what passes.
#
#   tools/magenta-utest.sh [--build DIR | --installed] [--work DIR] [--timeout S]
#                          [--cflags "FLAGS"] SRC_DIR
#
# SRC_DIR holds Magenta test files you fetched yourself (docs/magenta-tests.md says which and
# from where); they are never part of this repository. Every *.c, *.cc and *.cpp file under
# SRC_DIR is one test program. A file of the Magenta -> Zircon rename commit (it includes <zircon/...>) is
# renamed back (zx_ -> mx_, ZX_ -> MX_, zx:: -> mx::, <zircon/ -> <magenta/) into the work
# directory first; nothing else in a file is touched.
#
# Each file is compiled (gcc -std=gnu11 or g++ -std=gnu++17: GNU C and C++, as Magenta built them)
# with the stand-ins of tests/magenta_utest/include (<unittest/unittest.h> and the few Magenta
# build-tree headers the tests include) and linked with libmx:
#   --build DIR   the libmx.so of a build directory and the include/ of the tree it was built
#                 from (default: build/debug, or build/release when that is the only one)
#   --installed   the installed libmx, through `pkg-config mx`
# Then it runs with every test in a child process of its own under a deadline (--timeout S per
# test, default 60), and the whole program under `timeout` as well. --cflags adds compiler flags
# (for instance -DPAGE_SIZE=16384 on a machine whose pages are not 4 KiB).
#
# Prints, per file: whether it built (and if not, the first missing names or headers the compiler
# reported), tests passed / failed / total, and the failing tests with the reason; then the total.
# For a file that does not build, "total" counts its RUN_TEST lines. Logs and binaries stay in the
# work directory (default: a new directory under /tmp). Exits 0 when every test of every file
# passed, 1 otherwise, 2 on a usage error.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
standin="$repo/tests/magenta_utest"

build_dir=""
installed=0
work=""
timeout_s=60
extra_cflags=""
src=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build_dir=$2; shift 2 ;;
    --installed) installed=1; shift ;;
    --work) work=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --cflags) extra_cflags=$2; shift 2 ;;
    -h|--help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"; exit 0 ;;
    -*) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
    *) [ -z "$src" ] || { echo "one SRC_DIR only" >&2; exit 2; }; src=$1; shift ;;
  esac
done
if [ -z "$src" ] || [ ! -d "$src" ]; then
  echo "usage: $0 [options] SRC_DIR (try --help)" >&2
  exit 2
fi
src=$(cd "$src" && pwd)

# ---- libmx: compile and link flags ----------------------------------------------------------
if [ "$installed" -eq 1 ]; then
  mx_cflags=$(pkg-config --cflags mx)
  mx_libs="$(pkg-config --libs mx) -Wl,-rpath,$(pkg-config --variable=libdir mx)"
else
  if [ -z "$build_dir" ]; then
    for b in "$repo/build/debug" "$repo/build/release"; do
      [ -e "$b/libmx.so" ] && { build_dir=$b; break; }
    done
  fi
  if [ -z "$build_dir" ] || [ ! -e "$build_dir/libmx.so" ]; then
    echo "no libmx.so: build libmx first (cmake --preset debug && cmake --build --preset debug)," \
      "or give --build DIR or --installed" >&2
    exit 2
  fi
  build_dir=$(cd "$build_dir" && pwd)
  # The headers of the tree that build directory was configured from, else this tree's.
  source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
  if [ -z "$source_dir" ] || [ ! -d "$source_dir/include/magenta" ]; then source_dir=$repo; fi
  mx_cflags="-I$source_dir/include"
  mx_libs="-L$build_dir -lmx -Wl,-rpath,$build_dir"
fi

[ -n "$work" ] || work=$(mktemp -d /tmp/magenta-utest.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)

common=(-g -O1 -pthread -include "$standin/include/magenta_libc_compat.h" -I"$standin/include")
# shellcheck disable=SC2206  # pkg-config output is a list of words
common+=($mx_cflags $extra_cflags)
# shellcheck disable=SC2206
link=($mx_libs)

runner="$work/unittest.o"
gcc -std=gnu11 "${common[@]}" -c "$standin/unittest.c" -o "$runner"

# The first few distinct things the compiler could not find, from its log.
missing_names() {
  grep -oE "‘[A-Za-z_:][A-Za-z0-9_:]*’ (was not declared|undeclared|is not a member of|has no member)|[A-Za-z0-9_/.-]+\.h: No such file|no member named ‘[A-Za-z0-9_]+’|‘[A-Za-z0-9_]+’ is not a member of ‘[A-Za-z0-9_:]+’|‘[A-Za-z0-9_:]+’ has not been declared|unknown type name ‘[A-Za-z0-9_]+’|undefined reference to \`[A-Za-z0-9_]+'" "$1" |
    sed -E "s/[‘’\`']//g; s/ was not declared| undeclared| has not been declared//; s/: No such file/ (header)/; s/^undefined reference to /undefined: /; s/^unknown type name /type /" |
    awk '!seen[$0]++' | head -n 8 | paste -sd, - | sed 's/,/, /g' || true
}

total_pass=0
total_tests=0
files=0
built=0
status=0
printf '%-34s %-6s %6s %6s %6s  %s\n' file built passed failed total "failing tests / why not built"
while IFS= read -r f; do
  rel=${f#"$src"/}
  name=$(echo "$rel" | tr '/.' '__')
  files=$((files + 1))
  in="$f"
  note=""
  if grep -q '<zircon/' "$f"; then
    in="$work/$name.mx.${f##*.}"
    sed -E 's/<zircon\//<magenta\//g; s/zx_/mx_/g; s/ZX_/MX_/g; s/zx::/mx::/g; s/<zx\//<mx\//g' \
      "$f" >"$in"
    note=" (renamed back from zircon)"
  fi
  case "$f" in
    *.c) cc=(gcc -std=gnu11) ;;
    *) cc=(g++ -std=gnu++17) ;;
  esac
  exe="$work/$name"
  exists=$(grep -cE '^[[:space:]]*RUN_TEST\(' "$f" || true)
  if ! "${cc[@]}" "${common[@]}" -I"$(dirname "$f")" "$in" "$runner" "${link[@]}" -o "$exe" \
      </dev/null >"$work/$name.build.log" 2>&1; then
    status=1
    total_tests=$((total_tests + exists))
    printf '%-34s %-6s %6s %6s %6s  %s\n' "$rel" no - - "$exists" \
      "missing: $(missing_names "$work/$name.build.log")$note"
    continue
  fi
  built=$((built + 1))
  ( ulimit -n 8192 2>/dev/null || true
    MXUT_TEST_TIMEOUT=$timeout_s timeout --kill-after=10 $((timeout_s * (exists + 1))) "$exe" \
      </dev/null >"$work/$name.run.log" 2>&1 ) || true
  summary=$(grep -E '^mxut: [0-9]+ passed, [0-9]+ failed, [0-9]+ total$' "$work/$name.run.log" |
    tail -n 1 || true)
  if [ -z "$summary" ]; then
    status=1
    total_tests=$((total_tests + exists))
    printf '%-34s %-6s %6s %6s %6s  %s\n' "$rel" yes 0 - "$exists" \
      "the program ended without a summary: see $work/$name.run.log$note"
    continue
  fi
  read -r pass fail total < <(echo "$summary" | sed -E 's/mxut: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) total/\1 \2 \3/')
  total_pass=$((total_pass + pass))
  total_tests=$((total_tests + total))
  [ "$fail" -eq 0 ] || status=1
  failing=$(grep -E '^\[  FAILED  \]' "$work/$name.run.log" | sed -E 's/^\[  FAILED  \] [^.]*\.//' |
    paste -sd';' - | sed 's/;/; /g' || true)
  printf '%-34s %-6s %6s %6s %6s  %s\n' "$rel" yes "$pass" "$fail" "$total" "$failing$note"
done < <(find "$src" -type f \( -name '*.c' -o -name '*.cc' -o -name '*.cpp' \) | sort)

echo "total: $total_pass of $total_tests tests pass; $built of $files files build (logs: $work)"
exit "$status"
