# SPDX-License-Identifier: BSD-3-Clause
# bench/fanin.gp: fan-in requests per second against the number of clients (tools/bench.sh).
#   gnuplot -e "datadir='DIR'; outfile='FILE.png'" bench/fanin.gp
# Reads DIR/fanin.dat: "# clients libmx_port seqpacket zmq nng" then one line per client count.
if (!exists("datadir")) datadir = "."
if (!exists("outfile")) outfile = "fanin.png"
set terminal pngcairo size 900,600 font "DejaVu Sans,11"
set output outfile
# Titles are plain text: no "_" subscripts, no "^" superscripts.
set termoption noenhanced
set title "Fan-in: one server thread, N clients, 64 B request/reply"
set logscale x 2
set xtics (1, 16, 256, 1024)
set xrange [0.7:1450]
set yrange [0:*]
set grid
set xlabel "clients"
set ylabel "requests per second"
set key outside right
plot datadir."/fanin.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#d62728" title "libmx port", \
     "" using 1:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "SEQPACKET + epoll", \
     "" using 1:4 with linespoints lw 2 pt 7 lc rgb "#9467bd" title "ZeroMQ REQ/REP", \
     "" using 1:5 with linespoints lw 2 pt 7 lc rgb "#8c564b" title "nng req0/rep0"
