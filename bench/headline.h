// SPDX-License-Identifier: BSD-3-Clause
// bench/headline.h: the page's headline: for every column of the results (each table, and the
// fd and endpoint halves of the handle-transfer table), whether libmx leads and, where it does not,
// which mechanism does and why.
//
// Who leads comes from the numbers of the run, by the same measure as the tables' ratio columns
// (the median over repetitions of the time ratio within a repetition); the shared-memory floor is
// no competitor: it is there to show what no kernel-based transport can beat. The reasons are fixed
// text keyed by the leading mechanism and the kind of table; they say how that mechanism does it,
// not how fast.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report.h"

namespace mxb {

// "rtt", "stream", "bw", "handles", "fanin", "life" from a table id such as "rtt_64".
inline std::string TableKind(const std::string& id) {
  size_t cut = id.find('_');
  return cut == std::string::npos ? id : id.substr(0, cut);
}

inline bool IsLibmxRow(const Row& r) { return r.key == "mx" || r.key.rfind("mx_", 0) == 0; }

// Why |leader| (a row key) does better than libmx in a table of kind |kind|.
inline std::string LeadReason(const std::string& leader, const std::string& kind) {
  if (leader == "iceoryx") {
    if (kind == "bw") {
      return "shared memory end to end: the 64 KiB go into a shared chunk once and out once, and "
             "only the chunk's offset passes through iceoryx's lock-free queue (a reader working "
             "in place would skip even the copy out)";
    }
    return "shared memory end to end: only a chunk offset passes through a lock-free queue, and "
           "a sleeping reader is woken through a semaphore in shared memory, with no socket on "
           "the path";
  }
  if (leader == "zmq" || leader == "nng") {
    std::string name = leader == "zmq" ? "ZeroMQ" : "nng";
    if (kind == "fanin") {
      return name +
             "'s I/O threads read and write the clients' sockets in batches and hand the "
             "server whole queues of requests";
    }
    return name + " batches: the application only touches in-process queues, and its I/O " +
           "threads move many messages per system call; libmx's writer and reader meet on every "
           "message (ring record, handle-table lookup, endpoint lock, a kick when the reader "
           "sleeps)";
  }
  if (leader == "seqpacket_spin") {
    return "it busy-polls the socket (MSG_DONTWAIT in a loop) and never sleeps, so it never pays "
           "a wake-up, at the price of a whole CPU; libmx spins at most `MX_SPIN_US` and then "
           "blocks";
  }
  if (leader == "seqpacket" || leader == "seqpacket_pair") {
    if (kind == "handles") {
      return leader == "seqpacket"
                 ? "libmx sends the fd over the same kind of socket (SCM_RIGHTS) and in addition "
                   "wraps it in a handle, checks it on arrival and installs it in its handle "
                   "table"
                 : "a socketpair end is one fd; a libmx endpoint travels as its socket plus its "
                   "ring's fds, and is checked and rebuilt on arrival";
    }
    if (kind == "fanin") {
      return "one `epoll_wait` returns every ready socket and each reply is one `send`; libmx's "
             "port queues a packet per endpoint change, and every read and write goes through "
             "the handle table and the endpoint's locks";
    }
    if (kind == "life") {
      return "`socketpair` is one system call for two fds; a libmx channel also makes two "
             "endpoint objects, their handles and koids";
    }
    return "a blocked socket reader is woken by the kernel directly; libmx blocks on the same "
           "socket when its spin is cut short or not allowed, and adds its own bookkeeping";
  }
  if (leader == "pipe") {
    if (kind == "life")
      return "`pipe2` creates kernel objects only; a libmx channel also makes "
             "two endpoint objects, their handles and koids";
    return "a pipe is the kernel's shortest path for bytes (no socket layer, no message "
           "boundaries); libmx blocks on a socket when its spin is cut short or not allowed";
  }
  if (leader == "sdbus") {
    return "sd-bus writes each message with one `sendmsg` on a stream socket and reads many per "
           "`recvmsg`";
  }
  return "no reason is recorded for this mechanism";
}

// A column of the headline: |t|'s rows whose keys are in |keys| (all rows when empty).
struct Column {
  const Table* table;
  std::string name;
  std::vector<std::string> keys;
};

inline std::string FmtValue(const Table& t, const Row& r) {
  if (t.latency) return FmtNs(r.Value());
  return FmtRate(r.Value() * t.rate_scale) + " " + t.rate_unit;
}

// Time of |r| over time of |mx|, as the tables' ratio columns compute it (the median of the
// ratios within a repetition), so that who leads agrees with the ratio printed.
inline double TimeRatio(const Table& t, const Row& r, const Row& mx) {
  double x = t.Ratio(r, mx.key);
  if (std::isnan(x)) x = t.TimeNs(mx) > 0 ? t.TimeNs(r) / t.TimeNs(mx) : NAN;
  return x;
}

inline std::string RenderLeadRow(const Column& c) {
  const Table& t = *c.table;
  std::vector<const Row*> rows;
  for (const Row& r : t.rows) {
    if (!r.ok || r.rep_values.empty() || r.key == t.floor_key) continue;
    if (c.keys.empty() || std::find(c.keys.begin(), c.keys.end(), r.key) != c.keys.end()) {
      rows.push_back(&r);
    }
  }
  const Row* mx = nullptr;  // libmx's best row
  for (const Row* r : rows) {
    if (IsLibmxRow(*r) && (mx == nullptr || t.TimeNs(*r) < t.TimeNs(*mx))) mx = r;
  }
  if (mx == nullptr) return "| " + c.name + " | – | libmx did not run | |\n";
  const Row* rival = nullptr;  // the best of the others
  double rival_ratio = NAN;
  for (const Row* r : rows) {
    if (IsLibmxRow(*r)) continue;
    double x = TimeRatio(t, *r, *mx);
    if (rival == nullptr || x < rival_ratio) {
      rival = r;
      rival_ratio = x;
    }
  }
  if (rival == nullptr || !(rival_ratio < 1)) {
    std::string next = rival == nullptr
                           ? "no other mechanism ran"
                           : Fmt("next: %s, %s (%s libmx's time)", rival->label.c_str(),
                                 FmtValue(t, *rival).c_str(), FmtRatio(rival_ratio).c_str());
    return "| " + c.name + " | **libmx** (" + mx->label + ") | " + FmtValue(t, *mx) + " | " + next +
           " |\n";
  }
  return "| " + c.name + " | " + rival->label + ", " + FmtValue(t, *rival) + " | " +
         FmtValue(t, *mx) + ", " + FmtRatio(TimeRatio(t, *mx, *rival)) + " the leader's time | " +
         LeadReason(rival->key, TableKind(t.id)) + " |\n";
}

inline std::string RenderLeaders(const std::vector<Table>& tables) {
  std::vector<Column> cols;
  for (const Table& t : tables) {
    if (TableKind(t.id) == "handles") {
      cols.push_back({&t,
                      t.title + ": one fd",
                      {"mx_fd", "seqpacket", "seqpacket_spin", "sdbus", "zmq", "nng", "iceoryx"}});
      cols.push_back({&t, t.title + ": one channel endpoint", {"mx_channel", "seqpacket_pair"}});
    } else {
      cols.push_back({&t, t.title, {}});
    }
  }
  std::string s =
      "### Who leads (this run)\n\n"
      "For each table: the fastest mechanism other than the shared-memory floor, and libmx's "
      "time against it (above 1× is slower), both by the median over repetitions of the time "
      "ratio within a repetition, as in the ratio columns. Generated from this run's "
      "numbers.\n\n"
      "| column | leader | libmx | why libmx does not lead (or the next best) |\n"
      "|---|---|---|---|\n";
  for (const Column& c : cols) s += RenderLeadRow(c);
  return s + "\n";
}

}  // namespace mxb
