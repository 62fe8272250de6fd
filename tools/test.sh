#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The project's test command (CI runs exactly this via .ci/run).
#
#   ./tools/test.sh          presets debug, asan, tsan (configure, build, ctest), the clang preset
#                            (thread-safety analysis; its unit tests), a build of the
#                            release preset (-O3), a short run of each fuzzer (tools/fuzz.sh, for
#                            MX_FUZZ_SECONDS of tests/fuzz/settings.env), valgrind on the debug
#                            tests labelled valgrind (tools/valgrind.sh), then
#                            tests/install/check.sh
#   ./tools/test.sh --quick  debug preset only
#
# Ends with one line "N passed, M failed": N and M are summed over every ctest run (read from its
# JUnit file, `ctest --output-junit`, by tools/junit_count.cmake: a test that ran and passed is
# passed, any other non-disabled test failed); each fuzzer, the release build, the valgrind step,
# the license-line check (tools/spdx.sh), the format check (tools/format.sh) and the install check
# count as one test each, and a step that fails without producing test results (configure, build,
# ctest errors) counts as one failure.
# Exits non-zero when M > 0. Never changes a system setting (tsan: see prepare_tsan). Logs:
# build/logs/ctest-<preset>.log and .xml (JUnit),
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
    -h|--help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# randomizes mmap with more than 28 bits (default on some 6.x kernels). The tests change nothing
# system-wide: ctest then runs with ASLR off for itself and every test process it starts
# (setarch -R, inherited), and the script says what would make that unnecessary.
tsan_wrapper=()
prepare_tsan() {
  local bits
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
  [ "$bits" -le 28 ] && return 0
  echo "== tsan: vm.mmap_rnd_bits=$bits (> 28): running ctest under setarch -R (ASLR off for" \
    "its processes only; \`sysctl -w vm.mmap_rnd_bits=28\` as root would make this unnecessary)"
  tsan_wrapper=(setarch "$(uname -m)" -R)
}

# run_preset PRESET [CTEST ARGS...]: configure, build, then ctest with the given extra arguments.
run_preset() {
  local p=$1 log="build/logs/ctest-$1.log" junit="$PWD/build/logs/ctest-$1.xml" wrapper=()
  shift
  local rc summary
  echo "== $p: configure"
  cmake --preset "$p" || { fail_step "$p: configure"; return; }
  echo "== $p: build"
  cmake --build --preset "$p" -j2 || { fail_step "$p: build"; return; }
  if [ "$p" = tsan ]; then prepare_tsan; wrapper=("${tsan_wrapper[@]}"); fi
  echo "== $p: test"
  mkdir -p build/logs
  rm -f "$junit"
  set +e
  "${wrapper[@]}" ctest --preset "$p" -j2 --output-on-failure --output-junit "$junit" "$@" 2>&1 |
    tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  summary=$(cmake -DJUNIT="$junit" -P tools/junit_count.cmake 2>/dev/null) || summary=""
  if [ -z "$summary" ] || [ "$summary" = "0 0" ]; then
    fail_step "$p: ctest reported no results (exit $rc)"
    return
  fi
  local p_ok=${summary% *} f=${summary#* }
  passed=$((passed + p_ok))
  failed=$((failed + f))
  [ "$f" -eq 0 ] || problems+=("$p: $f of $((p_ok + f)) tests failed")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail_step "$p: ctest exited $rc"; fi
}

# Builds the fuzz preset's fuzzers only (target mx_fuzzers) and runs each for MX_FUZZ_SECONDS
# (tests/fuzz/settings.env) on a scratch copy of its seed corpus; each fuzzer counts as one test
# (tools/fuzz.sh prints the tally).
run_fuzz() {
  local log=build/logs/fuzz.log rc summary
  # shellcheck source=../tests/fuzz/settings.env
  source tests/fuzz/settings.env
  echo "== fuzz: build, then each fuzzer for $MX_FUZZ_SECONDS s"
  mkdir -p build/logs
  set +e
  tools/fuzz.sh "$MX_FUZZ_SECONDS" 2>&1 | tee "$log"
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

echo "== format (tools/format.sh: clang-format-14, .clang-format)"
if tools/format.sh; then passed=$((passed + 1)); else fail_step "format: files clang-format would change"; fi

for p in "${presets[@]}"; do run_preset "$p"; done

if [ "$extra_checks" -eq 1 ]; then
  # Clang's thread-safety analysis (-Wthread-safety -Wthread-safety-beta, warnings are errors)
  # runs while the clang preset builds; its unit tests then run once more as Clang compiled them.
  run_preset clang -L '^unit$'
fi

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
  echo "== valgrind: memcheck on the debug tests labelled valgrind"
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
