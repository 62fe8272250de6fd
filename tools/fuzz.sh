#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds the libFuzzer targets (the `fuzz` preset, target mx_fuzzers only) and runs each one for a
# while on a scratch copy of its committed seed corpus. CI (tools/test.sh) runs it for
# MX_FUZZ_SECONDS; that and the per-input -timeout come from tests/fuzz/settings.env.
#
#   tools/fuzz.sh [seconds] [name...]   default 600 s per fuzzer; names: wire, endpoint_state, sequence,
#                                       hello, startup (default all)
#
# Per fuzzer mx_<name>_fuzzer, seeds tests/fuzz/corpus/<name>/, under $MX_FUZZ_WORK/<name>/:
#   corpus/      a fresh copy of the seeds, plus every input libFuzzer found interesting
#   artifacts/   crash-*, timeout-*, oom-* inputs (reproduce: mx_<name>_fuzzer artifacts/crash-...)
#   fuzz.log     libFuzzer's output, ending with its final stats and the target's own counters
# Prints "PASS|FAIL <name>: <runs> runs in <s> s (<n> exec/s), corpus <a> -> <b> files" per fuzzer and
# ends with "fuzz: N passed, M failed". Exits non-zero if a fuzzer failed or nothing could be built.
#
# Environment: MX_FUZZ_BUILD_DIR (default build/fuzz, the preset's dir), MX_FUZZ_WORK (default
# build/fuzz-work), MX_FUZZ_FLAGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-600}
shift || true
case "$seconds" in
  -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *[!0-9]*|'') echo "usage: tools/fuzz.sh [seconds] [name...]" >&2; exit 2 ;;
esac
# shellcheck source=../tests/fuzz/settings.env
source tests/fuzz/settings.env
build=${MX_FUZZ_BUILD_DIR:-build/fuzz}
work=${MX_FUZZ_WORK:-build/fuzz-work}

source tools/deps.sh
mx_install_deps

echo "== fuzz: configure and build ($build, target mx_fuzzers)"
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j2 --target mx_fuzzers

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for bin in "$build"/fuzz/mx_*_fuzzer; do
    [ -x "$bin" ] || continue
    name=${bin##*/mx_}
    names+=("${name%_fuzzer}")
  done
fi
[ ${#names[@]} -gt 0 ] || { echo "no fuzzers built in $build/fuzz" >&2; exit 1; }

# As the asan preset; libFuzzer turns the abort into a crash report and an artifact.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
for name in "${names[@]}"; do
  bin="$build/fuzz/mx_${name}_fuzzer"
  dir="$work/$name"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ -d "tests/fuzz/corpus/$name" ]; then cp tests/fuzz/corpus/"$name"/* "$dir/corpus/"; fi
  seeds=$(find "$dir/corpus" -type f | wc -l)
  echo "== fuzz: $name for ${seconds}s ($seeds seeds) -> $dir/fuzz.log"
  rc=0
  # shellcheck disable=SC2086  # MX_FUZZ_FLAGS is a list of flags
  "$bin" -max_total_time="$seconds" -timeout="$MX_FUZZ_TIMEOUT" -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" ${MX_FUZZ_FLAGS:-} "$dir/corpus" >"$dir/fuzz.log" 2>&1 || rc=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$dir/fuzz.log" | tail -n 1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$dir/fuzz.log" | tail -n 1)
  took=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$dir/fuzz.log" | tail -n 1)
  files=$(find "$dir/corpus" -type f | wc -l)
  artifacts=$(find "$dir/artifacts" -type f | wc -l)
  line="$name: ${runs:-?} runs in ${took:-?} s (${rate:-?} exec/s), corpus $seeds -> $files files"
  grep -E "^[a-z_]+_fuzzer: [0-9]" "$dir/fuzz.log" | tail -n 1 | sed 's/^/   /' || true
  if [ "$rc" -eq 0 ] && [ "$artifacts" -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS $line"
  else
    failed=$((failed + 1))
    echo "FAIL $line: exit $rc, $artifacts artifact(s) in $dir/artifacts"
    # The report: the violated check or the sanitizer's summary, with the stack.
    grep -E -A25 "check failed|fuzzer: op #|fd leak|ERROR: |==ERROR|deadly signal|timeout" \
      "$dir/fuzz.log" | head -n 60 | sed 's/^/   /' || true
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
