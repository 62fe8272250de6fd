#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The project's test command (CI runs exactly this via .ci/run).
#
#   ./tools/test.sh          presets debug, asan, tsan (configure, build, ctest), a build of the
#                            release preset (-O3), a 60 s run of each fuzzer (tools/fuzz.sh),
#                            valgrind on a subset of the debug tests (tools/valgrind.sh), then
#                            tests/install/check.sh
#   ./tools/test.sh --quick  debug preset only
#
# Ends with one line "N passed, M failed": N and M are summed over every ctest run (from ctest's
# "X tests failed out of Y" line); each fuzzer, the release build, the valgrind step, the
# license-line check (tools/spdx.sh) and the install check count as one test each, and a step that
# fails without producing test results (configure, build, ctest errors) counts as one failure.
# Exits non-zero when M > 0. Logs:
# build/logs/ctest-<preset>.log,
# build/logs/fuzz.log (fuzzer output and crash inputs: build/fuzz-work/<name>/),
# build/logs/valgrind-<group>.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

presets=(debug asan tsan)
install_check=1
extra_checks=1  # fuzz smoke run and valgrind
for arg in "$@"; do
  case "$arg" in
    --quick) presets=(debug); install_check=0; extra_checks=0 ;;
    -h|--help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

source tools/deps.sh
if ! mx_install_deps; then
  echo "!! FAILED: installing the build's packages (tools/deps.sh)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
problems=()
fail_step() { failed=$((failed + 1)); problems+=("$1"); echo "!! FAILED: $1" >&2; }

# ThreadSanitizer aborts with "FATAL: ThreadSanitizer: unexpected memory mapping" when the kernel
# randomizes mmap with more than 28 bits (default on some 6.x kernels). Lower it if we may, else
# run ctest with ASLR off (setarch -R, inherited by every test process).
tsan_wrapper=()
prepare_tsan() {
  local bits
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
  [ "$bits" -le 28 ] && return 0
  if { echo 28 >/proc/sys/vm/mmap_rnd_bits; } 2>/dev/null; then
    echo "== tsan: set vm.mmap_rnd_bits=28 (was $bits)"
  else
    echo "== tsan: vm.mmap_rnd_bits=$bits is not writable; running ctest under setarch -R"
    tsan_wrapper=(setarch "$(uname -m)" -R)
  fi
}

run_preset() {
  local p=$1 log="build/logs/ctest-$1.log" wrapper=() rc summary
  echo "== $p: configure"
  cmake --preset "$p" || { fail_step "$p: configure"; return; }
  echo "== $p: build"
  cmake --build --preset "$p" -j2 || { fail_step "$p: build"; return; }
  if [ "$p" = tsan ]; then prepare_tsan; wrapper=("${tsan_wrapper[@]}"); fi
  echo "== $p: test"
  mkdir -p build/logs
  set +e
  "${wrapper[@]}" ctest --preset "$p" -j2 --output-on-failure 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  # "100% tests passed, 0 tests failed out of 42" / "93% tests passed, 3 tests failed out of 42"
  summary=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    fail_step "$p: ctest reported no results (exit $rc)"
    return
  fi
  local f=${summary% *} total=${summary#* }
  passed=$((passed + total - f))
  failed=$((failed + f))
  [ "$f" -eq 0 ] || problems+=("$p: $f of $total tests failed")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail_step "$p: ctest exited $rc"; fi
}

# Builds the fuzz preset's fuzzers only (target mx_fuzzers) and runs each for 60 s on a scratch
# copy of its seed corpus; each fuzzer counts as one test (tools/fuzz.sh prints the tally).
run_fuzz() {
  local log=build/logs/fuzz.log rc summary
  echo "== fuzz: build, then each fuzzer for 60 s"
  mkdir -p build/logs
  set +e
  tools/fuzz.sh 60 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  summary=$(sed -nE 's/^fuzz: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    fail_step "fuzz: no results (exit $rc; see $log)"
    return
  fi
  local p=${summary% *} f=${summary#* }
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -eq 0 ] || problems+=("fuzz: $f of $((p + f)) fuzzers failed (inputs in build/fuzz-work/*/artifacts)")
}

echo "== license lines (tools/spdx.sh)"
if tools/spdx.sh; then passed=$((passed + 1)); else fail_step "spdx: source files without a license line"; fi

for p in "${presets[@]}"; do run_preset "$p"; done

if [ "$extra_checks" -eq 1 ]; then
  # The optimizer sees more (GCC 12 -O3 warns where -O0 doesn't): everything, benchmarks and examples
  # included, must also build under the release preset with warnings as errors. Built, not run.
  echo "== release: build everything (-O3, warnings are errors)"
  if cmake --preset release >/dev/null && cmake --build --preset release -j2; then
    passed=$((passed + 1))
  else
    fail_step "release: build"
  fi
  run_fuzz
  echo "== valgrind: memcheck on a subset of the debug tests"
  if tools/valgrind.sh build/debug; then passed=$((passed + 1)); else fail_step "valgrind"; fi
fi

if [ "$install_check" -eq 1 ]; then
  echo "== install check"
  if tests/install/check.sh; then passed=$((passed + 1)); else fail_step "install check"; fi
fi

echo
for line in "${problems[@]}"; do echo "  - $line"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
