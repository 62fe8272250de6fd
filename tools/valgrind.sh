#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# valgrind memcheck over the debug-built tests labelled `valgrind` (tests/valgrind_labels.cmake
# sets the label, and says which tests are left out and why). CI (tools/test.sh) runs it after the
# debug preset and counts it as one test.
#
#   tools/valgrind.sh [build-dir]   default build/debug (configured here if it is not yet)
#
# Builds mx_api_tests and mx_unit_tests if needed, asks ctest which of their tests carry the label
# (`ctest -N -L valgrind`, per binary by its own label: unit, api), then runs each binary once
# under
#   valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no
# with a --gtest_filter naming exactly those tests. One valgrind process per binary rather than one
# per test (`ctest -T memcheck`): hundreds of valgrind start-ups would multiply the step's time.
# A binary fails on any memcheck error, a definite leak, a failing test, or a test count that is
# not the labelled count. Prints "PASS|FAIL <group>: ..." per binary and ends with
# "valgrind: N passed, M failed"; exits non-zero if one failed.
# Logs: build/logs/valgrind-<group>.log.
# No suppressions are needed today; add them to tools/valgrind.supp (passed when it exists), each
# with a comment saying why.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/debug}
command -v valgrind >/dev/null || { source tools/deps.sh; mx_install_deps; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset debug -B "$build" >/dev/null
fi
cmake --build "$build" -j2 --target mx_api_tests mx_unit_tests

# group (the binary's own ctest label) | binary
groups=("unit|mx_unit_tests" "api|mx_api_tests")

# The labelled tests of one binary, as a gtest filter ("A.x:B.y"); ctest ANDs repeated -L. A
# parameterised test's ctest name ends with "  # GetParam() = ...", which gtest's name lacks.
labelled_filter() {
  ctest --test-dir "$build" -N -L '^valgrind$' -L "^$1\$" |
    sed -nE 's/^ *Test +#[0-9]+: ([^ ]+)( +# GetParam\(\) = .*)?$/\1/p' | paste -sd: -
}

vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no)
[ -f tools/valgrind.supp ] && vg+=(--suppressions=tools/valgrind.supp)

mkdir -p build/logs
passed=0
failed=0
for g in "${groups[@]}"; do
  IFS='|' read -r name bin <<<"$g"
  log="build/logs/valgrind-$name.log"
  filter=$(labelled_filter "$name")
  want=$(tr ':' '\n' <<<"$filter" | grep -c . || true)
  echo "== valgrind: $name ($bin, $want tests labelled valgrind)"
  start=$(date +%s)
  rc=0
  "${vg[@]}" "$build/tests/$bin" --gtest_filter="$filter" >"$log" 2>&1 || rc=$?
  took=$(($(date +%s) - start))
  tests=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' "$log" | tail -n 1)
  errors=$(sed -nE 's/^==[0-9]+== ERROR SUMMARY: ([0-9]+) errors.*/\1/p' "$log" | tail -n 1)
  line="$name: ${tests:-?} tests in ${took} s, ${errors:-?} memcheck errors"
  if [ "$rc" -eq 0 ] && [ "$want" -gt 0 ] && [ "${tests:-0}" -eq "$want" ]; then
    passed=$((passed + 1))
    echo "PASS $line"
  else
    failed=$((failed + 1))
    echo "FAIL $line (exit $rc, $want labelled; log $log)"
    grep -E "^\[  FAILED  \]|^==[0-9]+== [A-Z]|definitely lost" "$log" | grep -v "== Command:" |
      head -n 20 | sed 's/^/   /' || true
  fi
done

echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
