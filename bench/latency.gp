# SPDX-License-Identifier: BSD-3-Clause
# bench/latency.gp: latency distributions of the call round trip (tools/bench.sh runs this).
#   gnuplot -e "datadir='DIR'; outfile='FILE.png'" bench/latency.gp
# Reads DIR/rtt_<size>_<mechanism>.cdf ("percentile latency_us" lines, written by mx_bench_ipc).
# Top row: the distribution (percentile vs latency); bottom row: the tail (share of round trips
# slower than x, log scale). Log x axis throughout.
if (!exists("datadir")) datadir = "."
if (!exists("outfile")) outfile = "latency.png"
set terminal pngcairo size 1600,1100 font "DejaVu Sans,11"
set output outfile

mechs  = "mx_call mx_rw pipe seqpacket seqpacket_spin shm_spin zmq nng sdbus iceoryx"
titles = "libmx-call libmx-write/wait/read pipe SEQPACKET SEQPACKET-busy-poll shm-spin-(floor) ZeroMQ nng sd-bus iceoryx"
colors = "#d62728 #ff7f0e #7f7f7f #1f77b4 #17becf #2ca02c #9467bd #8c564b #e377c2 #bcbd22"
file(size, m) = sprintf("%s/rtt_%s_%s.cdf", datadir, size, m)

set logscale x
set grid xtics ytics mxtics
set xlabel "round-trip time (µs)"
set key bottom right font ",10"
set multiplot layout 2,2 title "Call round trip between two processes (same run, all repetitions pooled)"

do for [size in "64 4096"] {
  set title sprintf("%s — distribution", size eq "64" ? "64 B" : "4 KiB")
  unset logscale y
  set yrange [0:100]
  set ylabel "percentile"
  set key bottom right
  plot for [i=1:words(mechs)] file(size, word(mechs, i)) using 2:1 with lines lw 2 \
       lc rgb word(colors, i) title word(titles, i)
}
do for [size in "64 4096"] {
  set title sprintf("%s — tail", size eq "64" ? "64 B" : "4 KiB")
  set logscale y
  set yrange [0.01:100]
  set ylabel "% of round trips slower than x"
  set key top right
  plot for [i=1:words(mechs)] file(size, word(mechs, i)) using 2:(100 - $1 > 0 ? 100 - $1 : NaN) \
       with lines lw 2 lc rgb word(colors, i) \
       title word(titles, i)
}
unset multiplot
