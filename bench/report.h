// SPDX-License-Identifier: BSD-3-Clause
// bench/report.h: result tables of mx_bench_ipc and their Markdown / TSV / plot-data renderings.
//
// A Table is one scenario at one parameter (say "call round trip, 64 B"). Each Row is one
// mechanism: the median over repetitions of the per-repetition statistic, the p99 over all pooled
// samples (latency tables), the spread over repetitions (throughput tables), and the iteration
// counts. Ratios are always *time* ratios (time per operation of this row / time per operation of
// the reference row, measured in the same run): above 1 means slower than the reference.
#pragma once

#include <stdio.h>

#include <cmath>
#include <string>
#include <vector>

#include "harness.h"

namespace mxb {

struct Row {
  std::string key;    // stable id for TSV / plot file names
  std::string label;  // Markdown
  bool ok = true;
  std::string error;
  std::string na;        // set (with ok false): the mechanism cannot do this at all, and why
  bool skipped = false;  // with ok false: left out by --mechs, not a failure

  void Skip() {
    ok = false;
    skipped = true;
  }
  // How a row that has no value reads in a table.
  std::string Why() const {
    if (skipped) return "skipped (--mechs)";
    return na.empty() ? "failed: " + error : "n/a (" + na + ")";
  }
  std::vector<double> rep_values;  // per repetition: median latency (ns) or rate (1/s)
  std::vector<uint32_t> pooled;    // latency samples (ns), all repetitions, sorted at the end
  std::vector<double> rep_iters;   // per repetition: operations measured
  std::string note;

  double Value() const { return Median(rep_values); }
  double Lo() const {
    return rep_values.empty() ? 0 : *std::min_element(rep_values.begin(), rep_values.end());
  }
  double Hi() const {
    return rep_values.empty() ? 0 : *std::max_element(rep_values.begin(), rep_values.end());
  }
};

struct Table {
  std::string id;         // "rtt_64"
  std::string title;      // "Call round trip, 64 B"
  std::string note;       // printed under the title
  std::string placement;  // where the processes ran (the CPU layout), printed under the title
  bool latency = true;    // else throughput (rate)
  std::string rate_unit;  // "msgs/s", "MiB/s", "req/s", "ops/s"
  double rate_scale = 1;  // displayed rate = rate * rate_scale (bytes → MiB etc.)
  std::string base_key;   // reference row for the first ratio ("seqpacket")
  std::string floor_key;  // reference row for the second ratio ("shm_spin"); "" = none
  std::vector<Row> rows;

  const Row* Find(const std::string& key) const {
    for (auto& r : rows) {
      if (r.key == key && r.ok && !r.rep_values.empty()) return &r;
    }
    return nullptr;
  }
  // Time per operation, ns.
  double TimeNs(const Row& r) const {
    double v = r.Value();
    return latency ? v : (v > 0 ? 1e9 / v : 0);
  }
  double TimeNs(double v) const { return latency ? v : (v > 0 ? 1e9 / v : 0); }
  // Time ratio of |r| against the row |key|; NaN when unknown. Repetition k of every row ran in
  // round k, close in time, so the ratio is the median over rounds of the ratio within a round
  // (a load spike from elsewhere hits both rows of a round); with unequal repetition counts it
  // falls back to the ratio of the medians.
  double Ratio(const Row& r, const std::string& key) const {
    const Row* ref = Find(key);
    if (ref == nullptr || !r.ok || r.rep_values.empty()) return NAN;
    if (ref->rep_values.size() == r.rep_values.size()) {
      std::vector<double> ratios;
      for (size_t k = 0; k < r.rep_values.size(); ++k) {
        double t = TimeNs(ref->rep_values[k]);
        if (t > 0) ratios.push_back(TimeNs(r.rep_values[k]) / t);
      }
      return ratios.empty() ? NAN : Median(ratios);
    }
    double t = TimeNs(*ref);
    return t > 0 ? TimeNs(r) / t : NAN;
  }
};

inline std::string FmtNs(double ns) {
  if (ns < 1000) return Fmt("%.0f ns", ns);
  if (ns < 1e6) return Fmt("%.1f µs", ns / 1e3);
  return Fmt("%.2f ms", ns / 1e6);
}

inline std::string FmtRate(double v) {
  if (v >= 1e6) return Fmt("%.2f M", v / 1e6);
  if (v >= 1e3) return Fmt("%.1f k", v / 1e3);
  return Fmt("%.1f", v);
}

inline std::string FmtRatio(double r) {
  if (std::isnan(r)) return "–";
  if (r >= 100) return Fmt("%.0f×", r);
  if (r >= 10) return Fmt("%.1f×", r);
  return Fmt("%.2f×", r);
}

inline std::string RenderTable(const Table& t) {
  std::string s = "### " + t.title + "\n\n";
  if (!t.placement.empty()) s += "**Placement:** " + t.placement + ".\n\n";
  if (!t.note.empty()) s += t.note + "\n\n";
  bool floor = !t.floor_key.empty();
  if (t.latency) {
    s += "| mechanism | median | p99 | iterations | × SEQPACKET blocking |";
    s += floor ? " × shm floor |\n|---|--:|--:|--:|--:|--:|\n" : "\n|---|--:|--:|--:|--:|\n";
  } else {
    s += "| mechanism | median " + t.rate_unit +
         " | min–max of reps | iterations | × SEQPACKET blocking |";
    s += floor ? " × shm floor |\n|---|--:|--:|--:|--:|--:|\n" : "\n|---|--:|--:|--:|--:|\n";
  }
  for (const Row& r : t.rows) {
    if (!r.ok) {
      s += "| " + r.label + " | " + r.Why() + " | | | |" + (floor ? " |\n" : "\n");
      continue;
    }
    std::string iters = Fmt("%zu × %.0f", r.rep_values.size(), Median(r.rep_iters));
    std::string label = r.label + (r.note.empty() ? "" : " (" + r.note + ")");
    if (t.latency) {
      double p99 = Quantile(r.pooled, 0.99);
      s += "| " + label + " | " + FmtNs(r.Value()) + " | " + FmtNs(p99) + " | " + iters + " | ";
    } else {
      s += "| " + label + " | " + FmtRate(r.Value() * t.rate_scale) + " | " +
           FmtRate(r.Lo() * t.rate_scale) + "–" + FmtRate(r.Hi() * t.rate_scale) + " | " + iters +
           " | ";
    }
    s += FmtRatio(t.Ratio(r, t.base_key)) + " |";
    if (floor) s += " " + FmtRatio(t.Ratio(r, t.floor_key)) + " |";
    s += "\n";
  }
  return s + "\n";
}

// One line per row: table id, row key, median, p99 (latency) or min, max (rate), both ratios.
inline std::string RenderTsv(const std::vector<Table>& tables) {
  std::string s = "table\tmechanism\tmedian\tp99_or_min\tmax\tx_seqpacket\tx_floor\n";
  for (const Table& t : tables) {
    for (const Row& r : t.rows) {
      if (!r.ok || r.rep_values.empty()) {
        const char* what = r.skipped ? "\tskipped" : r.na.empty() ? "\tfailed" : "\tn/a";
        s += t.id + "\t" + r.key + what + "\t\t\t\t\n";
        continue;
      }
      double a = t.latency ? Quantile(r.pooled, 0.99) : r.Lo();
      double b = t.latency ? Quantile(r.pooled, 0.999) : r.Hi();
      s += Fmt("%s\t%s\t%.6g\t%.6g\t%.6g\t%.4f\t%.4f\n", t.id.c_str(), r.key.c_str(), r.Value(), a,
               b, t.Ratio(r, t.base_key), t.floor_key.empty() ? NAN : t.Ratio(r, t.floor_key));
    }
  }
  return s;
}

// The latency distribution of a row as "percentile latency_us" lines (0.1 % steps plus the tail),
// for gnuplot.
inline std::string RenderCdf(const Row& r) {
  std::string s;
  if (r.pooled.empty()) return s;
  for (int i = 0; i < 1000; ++i) {
    double q = i / 1000.0;
    s += Fmt("%.2f %.4f\n", q * 100, Quantile(r.pooled, q) / 1e3);
  }
  for (double q : {0.9995, 0.9999, 1.0}) {
    s += Fmt("%.2f %.4f\n", q * 100, Quantile(r.pooled, q) / 1e3);
  }
  return s;
}

inline bool WriteFile(const std::string& path, const std::string& data) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = fwrite(data.data(), 1, data.size(), f) == data.size();
  return fclose(f) == 0 && ok;
}

}  // namespace mxb
