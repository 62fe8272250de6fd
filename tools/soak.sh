#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The long soak run (docs/RELIABILITY.md): builds mx_soak and runs it for a while.
#
#   ./tools/soak.sh                    600 s, release build
#   ./tools/soak.sh 3600               an hour
#   ./tools/soak.sh 300 --asan         under AddressSanitizer + UBSan (about 5x fewer messages)
#   ./tools/soak.sh 120 -- --seed 42 --workers 6 --threads 4 --kill-every 1
#                                      anything after -- goes to mx_soak (see mx_soak --help)
#
# Builds into build/soak-release (or build/soak-asan) so that it never disturbs the preset build
# directories. MX_SOAK_BUILD_DIR overrides the build directory. The run's log is written to
# <build dir>/soak-<seconds>s.log; the exit status is mx_soak's (0 only if nothing was violated:
# no ordering or checksum error, every handle as sent, PEER_CLOSED seen for every killed peer, no
# fd leaked). CI runs the same program for 12 s per preset (ctest -L stress).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=600
preset=release
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --asan) preset=asan ;;
    --release) preset=release ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    ''|*[!0-9]*) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    *) seconds=$1 ;;
  esac
  shift
done

source tools/deps.sh
mx_install_deps

build=${MX_SOAK_BUILD_DIR:-build/soak-$preset}
echo "== configure + build ($preset preset in $build, target mx_soak)" >&2
# MX_BUILD_BENCH off: only mx_soak is built, so the release preset's bench is not configured.
cmake --preset "$preset" -B "$build" -DMX_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target mx_soak

env_vars=()
if [ "$preset" = asan ]; then
  env_vars=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
fi

log="$build/soak-${seconds}s.log"
echo "== mx_soak --seconds $seconds ${extra[*]} (log: $log)" >&2
# mx_soak ends itself (every wait has a deadline; a watchdog exits after seconds + drain + 60 s);
# timeout is the last line of defence.
set +e
timeout --kill-after=15s $((seconds + 300))s env "${env_vars[@]}" \
  "$build/tests/mx_soak" --seconds "$seconds" "${extra[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
exit "$rc"
