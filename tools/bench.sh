#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The project's benchmark command: libmx beside pipes, SEQPACKET sockets, a shared-memory spin
# ring, ZeroMQ, nng, sd-bus (peer-to-peer) and iceoryx, all between real processes. mx_bench_ipc
# starts iceoryx's daemon iox-roudi itself for the iceoryx rows and kills it afterwards.
#
#   ./tools/bench.sh            install deps, build (release preset), run everything (~10 min on
#                               2 vCPUs; round trips and streaming in three CPU layouts: not
#                               pinned, pinned to distinct CPUs, pinned to one CPU), print the
#                               tables, write docs/BENCHMARKS.md and docs/bench/{latency,fanin}.png
#   ./tools/bench.sh ARGS...    the same, but ARGS go to mx_bench_ipc (--quick, --reps N,
#                               --scale F, --pin [distinct|same|none],
#                               --only rtt,stream,bw,handle,life,fanin) and the results stay in
#                               build/release/bench/results/ (docs/ untouched)
#
# Raw results of the last run: build/release/bench/results/ (results.tsv, *.cdf, fanin.dat).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source tools/deps.sh
# libsystemd-dev: sd-bus; libiceoryx-binding-c-dev: iceoryx's C API; iceoryx: iox-roudi.
MX_DEPS+=(libzmq3-dev libnng-dev libsystemd-dev libiceoryx-binding-c-dev iceoryx gnuplot-nox)
mx_install_deps

echo "== configure + build (release preset, target mx_bench_ipc)" >&2
cmake --preset release >/dev/null
cmake --build --preset release --target mx_bench_ipc

out=build/release/bench/results
rm -rf "$out"
mkdir -p "$out"

echo "== run" >&2
# mx_bench_ipc bounds every wait itself; this is the last line of defence.
timeout --kill-after=15s 1200s ./build/release/bench/mx_bench_ipc --out "$out" "$@"

plot() {  # plot <script> <png>
  if ! gnuplot -e "datadir='$out'; outfile='$2'" "$1"; then
    echo "!! gnuplot failed for $1" >&2
    return 1
  fi
}

if [ $# -eq 0 ]; then
  mkdir -p docs/bench
  { cat bench/BENCHMARKS.intro.md; echo; cat "$out/BENCHMARKS.generated.md"; } >docs/BENCHMARKS.md
  plot bench/latency.gp docs/bench/latency.png
  plot bench/fanin.gp docs/bench/fanin.png
  cat >>docs/BENCHMARKS.md <<'EOF'
## Plots

![Round-trip latency distributions](bench/latency.png)

![Fan-in requests per second](bench/fanin.png)
EOF
  echo "== wrote docs/BENCHMARKS.md, docs/bench/latency.png, docs/bench/fanin.png" >&2
else
  plot bench/latency.gp "$out/latency.png" || true
  plot bench/fanin.gp "$out/fanin.png" || true
  echo "== results in $out (docs/ untouched because arguments were given)" >&2
fi
