// SPDX-License-Identifier: BSD-3-Clause
// mx_bench_ipc: libmx beside the raw kernel mechanisms and the IPC libraries people use.
//
// Run by ./tools/bench.sh, which builds it (release preset), runs it and draws the plots. Every
// scenario runs between two (or more) real processes: this binary re-executes itself as the child
// (`--child <role> key=value...`), through fork+exec for the baselines and through mx_spawn (with
// startup handles) for libmx. See docs/BENCHMARKS.md for what each scenario measures.
//
//   mx_bench_ipc [--out DIR] [--reps N] [--scale F] [--quick] [--pin [L]] [--only a,b,...]
//     --out DIR   write BENCHMARKS.generated.md, results.tsv and the plot data there (default .)
//     --reps N    repetitions per measurement (default 11, every scenario)
//     --scale F   multiply every time budget (default 1)
//     --quick     --reps 2 --scale 0.25: a smoke run
//     --pin L     run every table in one CPU layout L: `distinct` (the measuring process on CPU 0,
//                 every child on CPU 1; bare --pin means this), `same` (all on CPU 0) or `none`
//                 (no pinning). Without --pin, round trips and streaming run in all three layouts
//                 (interleaved in the same rounds) and the other tables unpinned.
//     --only L    comma list of scenarios: rtt, stream, bw, handle, life, fanin, fifo (the fifo
//                 round trip; rtt includes it)
//     --mechs L   comma list of row keys (results.tsv's second column) to run; others are skipped
//     --fanin-clients L  comma list of fan-in client counts (default 1,16,256,1024)
//
// Method: each repetition starts fresh processes, warms up, then measures; repetitions of the
// mechanisms of one table are interleaved (rep 1 of every mechanism, then rep 2, ...) so slow
// phases of this shared VM hit all of them alike. A row reports the median over repetitions.
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/utsname.h>

#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "harness.h"
#include "headline.h"
#include "links.h"
#include "peers.h"
#include "report.h"

namespace mxb {
namespace {

// ---- Configuration
// -------------------------------------------------------------------------------

// Where the processes of a measurement may run.
enum class Layout { kNone, kDistinct, kSame };

struct Config {
  std::string out = ".";
  int reps = 11;
  double scale = 1.0;
  std::optional<Layout> pin;  // --pin: every table in this layout
  std::set<std::string> only;
  std::set<std::string> mechs;  // row keys to run; empty: all
  std::vector<int> fanin_clients = {1, 16, 256, 1024};

  bool WantsRow(const std::string& key) const { return mechs.empty() || mechs.count(key) != 0; }

  bool Wants(const char* s) const { return only.empty() || only.count(s) != 0; }
  uint64_t Budget(double seconds) const { return static_cast<uint64_t>(seconds * scale * 1e9); }
};

Config g_cfg;

void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// The layout the next repetition runs in (ApplyLayout), and the CPUs the measuring process was
// started with (what `none` gives back).
Layout g_layout = Layout::kNone;
cpu_set_t g_started_on;

// libmx reads a thread's own affinity again at most every 100 ms (docs/design.md#spin-budget):
// after a change, wait that long, so the next measurement runs with the placement it names.
void ApplyLayout(Layout l) {
  static bool applied = false;
  const bool changes = !applied || (l == Layout::kNone) != (g_layout == Layout::kNone);
  g_layout = l;
  if (!changes) return;  // the children's CPU differs, ours does not
  if (l == Layout::kNone) {
    sched_setaffinity(0, sizeof(g_started_on), &g_started_on);
  } else {
    PinTo(0);
  }
  if (applied) usleep(110'000);
  applied = true;
}

ChildSpec WithPin(ChildSpec spec) {
  if (g_layout == Layout::kDistinct) spec.args.push_back("cpu=1");
  if (g_layout == Layout::kSame) spec.args.push_back("cpu=0");
  return spec;
}

const char* LayoutName(Layout l) {
  switch (l) {
    case Layout::kDistinct:
      return "distinct";
    case Layout::kSame:
      return "same";
    case Layout::kNone:
      break;
  }
  return "none";
}

// The Placement line of a table run in layout |l|.
std::string LayoutText(Layout l) {
  switch (l) {
    case Layout::kDistinct:
      return "pinned to distinct CPUs (`--pin distinct`): the measuring process on CPU 0, every "
             "child on CPU 1 (`sched_setaffinity`)";
    case Layout::kSame:
      return "pinned to the same CPU (`--pin same`): the measuring process and every child on "
             "CPU 0 (`sched_setaffinity`)";
    case Layout::kNone:
      break;
  }
  return "not pinned (`--pin none`): no `taskset`, no `sched_setaffinity`; the scheduler places "
         "every process";
}

// ---- A parent-side session: one link, one child -------------------------------------------------

std::vector<uint8_t> Message(size_t size, uint32_t op, uint64_t value = 0, uint32_t txid = 0) {
  std::vector<uint8_t> m(size, 0x5a);
  Hdr h = {txid, op, value};
  memcpy(m.data(), &h, sizeof(h));
  return m;
}

Hdr HdrOf(const std::vector<uint8_t>& m) {
  Hdr h;
  memcpy(&h, m.data(), sizeof(h));
  return h;
}

class Session {
 public:
  Session(Mech m, size_t max_msg, const std::string& role, std::vector<std::string> extra,
          HandleKind hk = HandleKind::kNone)
      : size_(max_msg) {
    lp_ = MakeLinkPair(m, max_msg);
    lp_.child.role = role;
    lp_.child.args.insert(lp_.child.args.end(), extra.begin(), extra.end());
    lp_.child.args.push_back(Fmt("hk=%d", static_cast<int>(hk)));
    lp_.parent->SetHandleKind(hk);
    try {
      child_ = Child::Spawn(WithPin(lp_.child));
    } catch (...) {
      for (int fd : lp_.close_after_spawn) close(fd);
      for (mx_handle_t h : lp_.child.handles) mx_handle_close(h);  // mx_spawn failed: still ours
      if (!lp_.ipc.empty()) UnlinkIpc(lp_.ipc);
      throw;
    }
    for (int fd : lp_.close_after_spawn) close(fd);
  }
  ~Session() {
    child_.Kill();
    lp_.parent.reset();
    if (!lp_.ipc.empty()) UnlinkIpc(lp_.ipc);
  }
  Link& link() { return *lp_.parent; }

  // Tells the child to quit, waits for it (it must exit 0), then closes the parent's end.
  void Close() {
    auto quit = Message(size_, kOpQuit);
    lp_.parent->SetDeadline(NowNs() + 5 * kSec);
    lp_.parent->Send(quit.data(), quit.size());
    int code = child_.Finish(NowNs() + 10 * kSec);
    lp_.parent.reset();
    if (!lp_.ipc.empty()) UnlinkIpc(lp_.ipc);
    if (code != 0) Fail("child exited with %d", code);
  }

 private:
  size_t size_;
  LinkPair lp_;
  Child child_;
};

Watchdog* g_watchdog = nullptr;

// |body(row, row_index, rep)| measures one repetition of one row and fills it; a BenchError marks
// the row failed and skips its later repetitions.
using RepBody = std::function<void(Row&, size_t, int)>;

// One repetition of every row of |t|, in row order.
void RunRep(Table& t, int rep, int reps, const RepBody& body) {
  for (size_t i = 0; i < t.rows.size(); ++i) {
    Row& row = t.rows[i];
    if (!row.ok) continue;
    g_watchdog->Arm(120 * kSec);
    try {
      body(row, i, rep);
    } catch (const BenchError& e) {
      row.ok = false;
      row.error = e.what();
      fprintf(stderr, "  %s / %s: FAILED: %s\n", t.id.c_str(), row.key.c_str(), e.what());
    }
    g_watchdog->Disarm();
  }
  fprintf(stderr, "  %s: repetition %d/%d done\n", t.id.c_str(), rep + 1, reps);
}

// A table set up but not measured yet, and how to measure one repetition of one of its rows.
struct Plan {
  Table table;
  RepBody body;
};

// Repetition r of every plan, then repetition r + 1: each table's repetitions are spread over
// the whole run instead of one stretch of it, so a slow spell of this shared VM (they last tens
// of seconds) falls on a few repetitions of every table rather than on most of one.
void RunInRounds(std::vector<Plan>& plans, int reps) {
  for (int rep = 0; rep < reps; ++rep) {
    for (Plan& p : plans) RunRep(p.table, rep, reps, p.body);
  }
  for (Plan& p : plans) {
    for (Row& r : p.table.rows) std::sort(r.pooled.begin(), r.pooled.end());  // latency samples
  }
}

// |p| run in layout |l|: each repetition applies it first. With |name_it|, the table's id and
// title say the layout (a run that measures the table in several).
Plan InLayout(Plan p, Layout l, bool name_it) {
  p.table.placement = LayoutText(l);
  if (name_it && l != Layout::kNone) {
    p.table.id += std::string("_pin_") + LayoutName(l);
    p.table.title += l == Layout::kDistinct ? ", pinned to distinct CPUs" : ", pinned to one CPU";
  } else if (name_it) {
    p.table.title += ", not pinned";
  }
  RepBody body = std::move(p.body);
  p.body = [l, body](Row& row, size_t i, int rep) {
    ApplyLayout(l);
    body(row, i, rep);
  };
  return p;
}

Row MakeRow(Mech m, const char* label = nullptr) {
  Row r;
  r.key = Info(m).name;
  r.label = label ? label : Info(m).label;
  std::string why = Unavailable(m);
  if (!g_cfg.WantsRow(r.key)) {
    r.Skip();
  } else if (!why.empty()) {
    r.ok = false;
    r.error = "not available: " + why;
  }
  return r;
}

// ---- Scenario: call round trip ------------------------------------------------------------------

const Mech kAllMechs[] = {Mech::kMxCall, Mech::kMxRw, Mech::kPipe, Mech::kSeq,   Mech::kSeqSpin,
                          Mech::kShm,    Mech::kZmq,  Mech::kNng,  Mech::kSdBus, Mech::kIceoryx};

// Warm-up, then |call| (one round trip) for the time budget, each timed: one repetition's
// median and every sample go to |row|.
template <typename Call>
void TimeCalls(const Call& call, Row& row) {
  call();  // the first reply also waits for the child to start
  uint64_t t0 = NowNs(), count = 0;
  while (count < 50 || NowNs() - t0 < g_cfg.Budget(0.04)) {
    call();
    ++count;
  }
  std::vector<uint32_t> samples;
  samples.reserve(1 << 16);
  uint64_t budget = g_cfg.Budget(0.2), begin = NowNs(), b = begin;
  while (b - begin < budget && samples.size() < (1u << 21)) {
    uint64_t a = NowNs();
    call();
    b = NowNs();
    samples.push_back(static_cast<uint32_t>(std::min<uint64_t>(b - a, UINT32_MAX)));
  }
  std::sort(samples.begin(), samples.end());
  row.rep_values.push_back(Quantile(samples, 0.5));
  row.rep_iters.push_back(static_cast<double>(samples.size()));
  row.pooled.insert(row.pooled.end(), samples.begin(), samples.end());
}

// One repetition: fresh child, warm-up, then round trips for the time budget, each timed.
void PingPongRep(Mech m, size_t size, Row& row) {
  Session s(m, size, "echo", {});
  Link& link = s.link();
  link.SetDeadline(NowNs() + 60 * kSec);
  auto req = Message(size, kOpData);
  std::vector<uint8_t> rep(size);
  uint32_t txid = 0;
  auto call = [&] {
    ++txid;
    memcpy(req.data(), &txid, sizeof(txid));
    size_t n = link.Call(req.data(), size, rep.data(), rep.size());
    if (n != size || HdrOf(rep).txid != txid) Fail("round trip: wrong reply");
  };
  TimeCalls(call, row);
  s.Close();
}

Plan RoundTrip(size_t size) {
  Plan plan;
  Table& t = plan.table;
  t.id = Fmt("rtt_%zu", size);
  t.title =
      Fmt("Call round trip, %s (request and reply of %zu bytes)",
          size >= 1024 ? Fmt("%zu KiB", size / 1024).c_str() : Fmt("%zu B", size).c_str(), size);
  t.note =
      "The parent sends a request and waits for the reply; the child echoes it. One sample per "
      "round trip (clock_gettime around it).";
  t.base_key = "seqpacket";
  t.floor_key = "shm_spin";
  for (Mech m : kAllMechs) t.rows.push_back(MakeRow(m));
  plan.body = [size](Row& row, size_t i, int) { PingPongRep(kAllMechs[i], size, row); };
  return plan;
}

// ---- Scenario: fifo round trip ------------------------------------------------------------------

// The element of the fifo round trip: 16 bytes, the size of a shared-memory transport's
// descriptor (offset, length, cookie), and of Hdr, so the shm floor runs the same protocol.
constexpr uint32_t kFifoElemSize = sizeof(Hdr);
constexpr uint32_t kFifoElems = 64;

// One side of a fifo as a Link of one-element messages: write, or wait for WRITABLE; read, or
// wait for READABLE (libmx spins briefly, then blocks).
class FifoLink : public Link {
 public:
  explicit FifoLink(mx_handle_t h) : h_(h) {}
  ~FifoLink() override { mx_handle_close(h_); }

  void Send(const void* buf, size_t n, bool = false) override {
    if (n != kFifoElemSize) Fail("fifo: a message is one %u-byte element", kFifoElemSize);
    for (;;) {
      uint32_t count = 0;
      mx_status_t st = mx_fifo_write(h_, buf, n, &count);
      if (st == MX_OK) return;
      if (st == MX_ERR_SHOULD_WAIT && Wait(MX_FIFO_WRITABLE)) continue;
      if (st == MX_ERR_PEER_CLOSED || st == MX_ERR_SHOULD_WAIT) throw PeerGone("fifo: peer closed");
      Fail("mx_fifo_write: status %d", st);
    }
  }

  size_t Recv(void* buf, size_t cap) override {
    for (;;) {
      uint32_t count = 0;
      mx_status_t st = mx_fifo_read(h_, buf, std::min<size_t>(cap, kFifoElemSize), &count);
      if (st == MX_OK) return kFifoElemSize;
      if (st == MX_ERR_SHOULD_WAIT && Wait(MX_FIFO_READABLE)) continue;
      if (st == MX_ERR_SHOULD_WAIT) throw PeerGone("fifo: peer closed");
      Fail("mx_fifo_read: status %d", st);
    }
  }

 private:
  // False once the peer is gone and |signal| is not asserted.
  bool Wait(mx_signals_t signal) {
    mx_signals_t seen = 0;
    mx_status_t st = mx_object_wait_one(h_, signal | MX_FIFO_PEER_CLOSED, deadline_, &seen);
    if (st != MX_OK) Fail("fifo: wait: status %d", st);
    return (seen & signal) != 0;
  }
  mx_handle_t h_;
};

// One repetition: a fresh child holding the other side echoes each element; one sample per
// round trip, as PingPongRep.
void FifoPingPongRep(Row& row) {
  mx_handle_t a, b;
  CheckMx(mx_fifo_create(kFifoElems, kFifoElemSize, 0, &a, &b), "mx_fifo_create");
  FifoLink link(a);
  link.SetDeadline(NowNs() + 60 * kSec);
  ChildSpec spec;
  spec.role = "fifo_echo";
  spec.handles.push_back(b);
  Child child;
  try {
    child = Child::Spawn(WithPin(spec));
  } catch (...) {
    mx_handle_close(b);  // mx_spawn failed: still ours
    throw;
  }
  Hdr req = {0, kOpData, 0}, rep = {};
  auto call = [&] {
    ++req.txid;
    link.Call(&req, sizeof(req), &rep, sizeof(rep));
    if (rep.txid != req.txid) Fail("fifo round trip: wrong reply");
  };
  TimeCalls(call, row);
  Hdr quit = {0, kOpQuit, 0};
  link.Send(&quit, sizeof(quit));
  if (child.Finish(NowNs() + 10 * kSec) != 0) Fail("fifo child failed");
}

Plan FifoRoundTrip() {
  Plan plan;
  Table& t = plan.table;
  t.id = "fifo_rtt";
  t.title = Fmt("Fifo round trip (request and reply of one %u B element)", kFifoElemSize);
  t.note = Fmt(
      "The parent writes one %u-byte element into a fifo of %u elements (`mx_fifo_write`) and "
      "waits for the reply (`mx_object_wait_one` for READABLE, then `mx_fifo_read`); the child "
      "echoes it. The shared-memory floor runs the same protocol with %u-byte messages, and the "
      "libmx channel row the same with `mx_channel_write` / `_read`. One sample per round trip.",
      kFifoElemSize, kFifoElems, kFifoElemSize);
  t.base_key = "seqpacket";
  t.floor_key = "shm_spin";
  static const Mech kBeside[] = {Mech::kMxRw, Mech::kSeq, Mech::kShm};
  Row fifo;
  fifo.key = "mx_fifo";
  fifo.label = "libmx fifo, write/wait/read";
  if (!g_cfg.WantsRow(fifo.key)) fifo.Skip();
  t.rows.push_back(fifo);
  for (Mech m : kBeside) t.rows.push_back(MakeRow(m));
  plan.body = [](Row& row, size_t i, int) {
    if (i == 0) {
      FifoPingPongRep(row);
    } else {
      PingPongRep(kBeside[i - 1], kFifoElemSize, row);
    }
  };
  return plan;
}

// ---- Scenario: streaming and handle transfer ----------------------------------------------------

// Sends data messages (each with a handle if |with_handle|) until |max_n| are sent or |budget|
// ns have passed, keeping at most |window| unacknowledged (0: no window; the mechanism's own
// backpressure only), then an end marker, and waits for the receiver's final count, which must
// match. Returns the number of data messages.
uint64_t SendStream(Link& link, size_t size, uint64_t max_n, uint64_t budget, uint64_t window,
                    bool with_handle) {
  auto data = Message(size, kOpData);
  auto end = Message(size, kOpEnd);
  std::vector<uint8_t> ack(size);
  uint64_t acked = 0, n = 0, t0 = NowNs();
  for (; n < max_n; ++n) {
    if (n % 16 == 0 && NowNs() - t0 >= budget) break;
    while (window != 0 && n - acked >= window) {
      link.Recv(ack.data(), ack.size());
      acked = HdrOf(ack).value;
    }
    link.Send(data.data(), size, with_handle);
  }
  link.Send(end.data(), size);
  for (;;) {
    link.Recv(ack.data(), ack.size());
    Hdr h = HdrOf(ack);
    if (h.op == kOpAck && h.txid == 1) {
      if (h.value != n)
        Fail("stream: receiver counted %llu of %llu", static_cast<unsigned long long>(h.value),
             static_cast<unsigned long long>(n));
      return n;
    }
  }
}

struct StreamParams {
  size_t size;
  HandleKind hk = HandleKind::kNone;
  uint64_t window = 0;  // 0: none
  double budget_s = 0.2;
};

// One repetition: the parent streams to a fresh child for the time budget; the rate is messages
// per second from the first send to the receiver's final acknowledgement.
void StreamRep(Mech m, const StreamParams& p, Row& row) {
  Session s(m, p.size, "sink", {Fmt("ack=%llu", static_cast<unsigned long long>(p.window / 2))},
            p.hk);
  Link& link = s.link();
  link.SetDeadline(NowNs() + 60 * kSec);
  bool with_handle = p.hk != HandleKind::kNone;
  SendStream(link, p.size, 16, UINT64_MAX, p.window, with_handle);  // waits for the child
  SendStream(link, p.size, UINT64_MAX, g_cfg.Budget(0.04), p.window, with_handle);  // warm-up
  uint64_t a = NowNs();
  uint64_t n =
      SendStream(link, p.size, UINT64_MAX, g_cfg.Budget(p.budget_s), p.window, with_handle);
  uint64_t b = NowNs();
  s.Close();
  row.rep_values.push_back(static_cast<double>(n) * 1e9 / static_cast<double>(b - a));
  row.rep_iters.push_back(static_cast<double>(n));
}

const Mech kStreamMechs[] = {Mech::kMxRw, Mech::kPipe, Mech::kSeq,   Mech::kSeqSpin, Mech::kShm,
                             Mech::kZmq,  Mech::kNng,  Mech::kSdBus, Mech::kIceoryx};

Plan Streaming(size_t size) {
  Plan plan;
  Table& t = plan.table;
  bool bw = size > 4096;
  t.id = bw ? Fmt("bw_%zu", size) : Fmt("stream_%zu", size);
  t.latency = false;
  t.title = bw ? Fmt("Streaming bandwidth, %zu KiB messages", size / 1024)
               : Fmt("Streaming, one-way %zu B messages", size);
  t.rate_unit = bw ? "MiB/s" : "msgs/s";
  t.rate_scale = bw ? static_cast<double>(size) / (1024.0 * 1024.0) : 1;
  t.note =
      "The parent writes as fast as the mechanism accepts (its own backpressure: libmx "
      "`SHOULD_WAIT` then wait for `WRITABLE`, a full socket or pipe blocks, a full ring spins); "
      "the child reads and counts, and acknowledges an end marker. Rate = messages / (first send "
      "→ final acknowledgement).";
  t.base_key = "seqpacket";
  t.floor_key = "shm_spin";
  for (Mech m : kStreamMechs) {
    t.rows.push_back(MakeRow(m, m == Mech::kMxRw ? "libmx `mx_channel_write` / `_read`" : nullptr));
  }
  StreamParams p;
  p.size = size;
  plan.body = [p](Row& row, size_t i, int) { StreamRep(kStreamMechs[i], p, row); };
  return plan;
}

Plan HandleTransfer() {
  Plan plan;
  Table& t = plan.table;
  t.id = "handles";
  t.latency = false;
  t.title = "Handle transfer: one-way 64 B messages each carrying one handle";
  t.rate_unit = "msgs/s";
  t.note =
      "Each message moves one *new* capability and the receiver closes it, so the cost includes "
      "making it: for a channel, `mx_channel_create` + write one end + close the other (baseline: "
      "`socketpair` + SCM_RIGHTS + 2×`close`); for an fd, `dup` + `mx_fd_wrap` + write (baseline: "
      "SCM_RIGHTS of the same fd, the kernel installs a new one in the receiver). At most 128 "
      "messages are unacknowledged (the receiver acknowledges every 64) so in-flight fds stay "
      "bounded. The shm row carries no handle: it is the same protocol at the floor.";
  t.base_key = "seqpacket";
  t.floor_key = "shm_spin";
  struct Variant {
    Mech mech;
    HandleKind hk;
    const char* key;
    const char* label;
    const char* na;  // not measured: the mechanism cannot pass fds
  };
  static const Variant kVariants[] = {
      {Mech::kMxRw, HandleKind::kChannel, "mx_channel", "libmx, a channel endpoint", nullptr},
      {Mech::kMxRw, HandleKind::kFd, "mx_fd", "libmx, an fd (`mx_fd_wrap`)", nullptr},
      {Mech::kSeq, HandleKind::kChannel, "seqpacket_pair",
       "SEQPACKET + SCM_RIGHTS, a new socketpair end, blocking", nullptr},
      {Mech::kSeq, HandleKind::kFd, "seqpacket", "SEQPACKET + SCM_RIGHTS, an fd, blocking",
       nullptr},
      {Mech::kSeqSpin, HandleKind::kFd, "seqpacket_spin",
       "SEQPACKET + SCM_RIGHTS, an fd, busy-poll", nullptr},
      {Mech::kShm, HandleKind::kNone, "shm_spin", "shared-memory ring, spinning, no handle (floor)",
       nullptr},
      {Mech::kSdBus, HandleKind::kFd, "sdbus", "sd-bus peer-to-peer, an fd (`h`)", nullptr},
      {Mech::kZmq, HandleKind::kNone, "zmq", "ZeroMQ", "it cannot pass fds"},
      {Mech::kNng, HandleKind::kNone, "nng", "nng", "it cannot pass fds"},
      {Mech::kIceoryx, HandleKind::kNone, "iceoryx", "iceoryx", "it cannot pass fds"},
  };
  for (auto& v : kVariants) {
    Row r = MakeRow(v.mech, v.label);
    r.key = v.key;
    if (!g_cfg.WantsRow(r.key)) r.Skip();
    if (v.na != nullptr) {
      r.ok = false;
      r.na = v.na;
    }
    t.rows.push_back(r);
  }
  plan.body = [](Row& row, size_t i, int) {
    StreamParams p;
    p.size = 64;
    p.hk = kVariants[i].hk;
    p.window = 128;
    StreamRep(kVariants[i].mech, p, row);
  };
  return plan;
}

// ---- Scenario: lifecycle (create + close, memory and fds per idle channel) ----------------------

enum class LifeKind { kMx, kSeq, kPipe };
const char* const kLifeNames[] = {"mx", "seqpacket", "pipe"};

struct LifeResult {
  Row rate;
  std::vector<double> rss_idle, fds_idle, rss_used, fds_used, rss_busy, cpu_idle, fds_left;
};

Child SpawnLife(int kind, int out_fd) {
  ChildSpec spec;
  spec.role = "life";
  spec.fds = {out_fd};
  spec.args = {Fmt("kind=%d", kind), Fmt("out=%d", out_fd),
               Fmt("budget=%llu", static_cast<unsigned long long>(g_cfg.Budget(0.2)))};
  return Child::Spawn(WithPin(spec));
}

std::string Lifecycle(std::vector<Table>* tables) {
  std::vector<LifeResult> res(3);
  const char* labels[] = {"libmx channel (`mx_channel_create` + 2× `mx_handle_close`)",
                          "SEQPACKET socketpair (`socketpair` + 2× `close`)",
                          "pipe pair, one per direction (2× `pipe2` + 4× `close`)"};
  for (int k = 0; k < 3; ++k) {
    res[k].rate.key = kLifeNames[k];
    res[k].rate.label = labels[k];
    if (!g_cfg.WantsRow(kLifeNames[k])) res[k].rate.Skip();
  }
  int reps = g_cfg.reps;
  for (int rep = 0; rep < reps; ++rep) {
    for (int k = 0; k < 3; ++k) {
      LifeResult& r = res[k];
      if (!r.rate.ok) continue;
      try {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) FailErrno("pipe2");
        Child c = SpawnLife(k, p[1]);
        close(p[1]);
        std::string out;
        try {
          out = ReadAll(p[0], NowNs() + 60 * kSec);
        } catch (...) {
          close(p[0]);
          throw;
        }
        close(p[0]);
        int code = c.Finish(NowNs() + 10 * kSec);
        if (code != 0) Fail("child exited with %d", code);
        double rate, iters, ri, fi, ru, fu, rb, ci, fl;
        if (sscanf(out.c_str(),
                   "rate=%lf iters=%lf rss_idle=%lf fds_idle=%lf rss_used=%lf "
                   "fds_used=%lf rss_busy=%lf cpu_idle=%lf fds_left=%lf",
                   &rate, &iters, &ri, &fi, &ru, &fu, &rb, &ci, &fl) != 9) {
          Fail("bad child output: %s", out.c_str());
        }
        r.rss_busy.push_back(rb);
        r.cpu_idle.push_back(ci);
        r.rate.rep_values.push_back(rate);
        r.rate.rep_iters.push_back(iters);
        r.rss_idle.push_back(ri);
        r.fds_idle.push_back(fi);
        r.rss_used.push_back(ru);
        r.fds_used.push_back(fu);
        r.fds_left.push_back(fl);
      } catch (const BenchError& e) {
        r.rate.ok = false;
        r.rate.error = e.what();
        fprintf(stderr, "  life / %s: FAILED: %s\n", kLifeNames[k], e.what());
      }
    }
    fprintf(stderr, "  life: repetition %d/%d done\n", rep + 1, reps);
  }
  Table t;
  t.id = "life";
  t.placement = LayoutText(g_layout);
  t.latency = false;
  t.title = "Lifecycle: create + close one channel (or its kernel equivalent)";
  t.rate_unit = "pairs/s";
  t.note =
      "Measured inside one spawned child process (creation is local by nature). Iterations are "
      "create+close pairs per repetition, after a warm-up.";
  t.base_key = "seqpacket";
  for (auto& r : res) t.rows.push_back(r.rate);
  tables->push_back(t);

  std::string s = RenderTable(t);
  s += "### Lifecycle: cost of an idle channel\n\n"
       "1000 channels created in a fresh process, nothing sent (idle), then one 64 B message "
       "each way on every channel (used), then 100 messages of 4 KiB each way, each read at once "
       "(busy: 400 KiB through every direction), then all closed. Both ends of every channel are "
       "in the process, so each shared-memory page of a libmx ring counts twice. Per channel, "
       "median over " +
       std::to_string(reps) +
       " processes. RSS counts user-space and shared memory: the kernel's socket buffers and "
       "inodes are not in it. \"CPU while waiting\": CPU time the process used during five "
       "100 ms waits for a message that does not come (libmx: `mx_object_wait_one` on a used "
       "channel, after its spin budget; the others: `poll`).\n\n"
       "| mechanism | RSS per idle channel | fds per idle channel | RSS per used channel | fds "
       "per used channel | RSS per busy channel | CPU while waiting 0.5 s | fds left after "
       "closing all |\n|---|--:|--:|--:|--:|--:|--:|--:|\n";
  for (auto& r : res) {
    if (!r.rate.ok) {
      s += "| " + r.rate.label + " | " + r.rate.Why() + " | | | | | | |\n";
      continue;
    }
    s += Fmt("| %s | %.0f B | %.2f | %.0f B | %.2f | %.0f B | %.2f ms | %.0f |\n",
             r.rate.label.c_str(), Median(r.rss_idle), Median(r.fds_idle), Median(r.rss_used),
             Median(r.fds_used), Median(r.rss_busy), Median(r.cpu_idle), Median(r.fds_left));
  }
  return s + "\n";
}

// ---- Scenario: fan-in
// ----------------------------------------------------------------------------

const Mech kFanMechs[] = {Mech::kMxRw, Mech::kSeq, Mech::kZmq, Mech::kNng};
const char* const kFanLabels[] = {
    "libmx: clients `mx_channel_call`, server one port (REPEATING waits on all endpoints)",
    "SEQPACKET socketpairs, server `epoll_wait` (level-triggered)",
    "ZeroMQ: clients REQ, server one REP socket, ipc://",
    "nng: clients req0, server one rep0 socket, ipc://"};

// One repetition with |n| clients: returns requests served per second inside the window, and
// the number served in |*served_out|.
double FanInRep(Mech m, int n, uint64_t* served_out) {
  int procs = std::min(n, 16);
  int threads = n / procs;
  uint64_t window = g_cfg.Budget(0.5);
  // Setting up takes longer with more clients (1,024 channels, their handles spawned into the
  // children, the server's waits registered): the window starts after it.
  uint64_t t_start = NowNs() + 200 * kMs + static_cast<uint64_t>(procs) * 30 * kMs +
                     static_cast<uint64_t>(n) * 2 * kMs;
  uint64_t t_end = t_start + window;
  uint64_t serve_until = t_end + 300 * kMs;
  std::vector<std::string> common = {std::string("mech=") + Info(m).name,
                                     Fmt("threads=%d", threads),
                                     Fmt("t_end=%llu", static_cast<unsigned long long>(t_end))};

  std::vector<Child> children;
  std::vector<mx_handle_t> mx_ends;
  std::vector<int> fds;
  std::unique_ptr<Link> peer_server;
  std::string url;
  auto cleanup = [&] {
    for (mx_handle_t h : mx_ends) mx_handle_close(h);
    mx_ends.clear();
    for (int fd : fds) close(fd);
    fds.clear();
    peer_server.reset();
    for (auto& c : children) c.Kill();
    if (!url.empty()) UnlinkIpc(url);
  };
  try {
    if (m == Mech::kZmq || m == Mech::kNng) {
      url = IpcPath(m == Mech::kZmq ? "zmqfan" : "nngfan");
#if MXB_HAVE_ZMQ
      if (m == Mech::kZmq) {
        auto z = std::make_unique<ZmqLink>(ZMQ_REP, url, true);
        z->SetRecvTimeoutMs(50);
        peer_server = std::move(z);
      }
#endif
#if MXB_HAVE_NNG
      if (m == Mech::kNng) {
        auto z = std::make_unique<NngLink>(NngProto::kRep0, url, true);
        z->SetRecvTimeoutMs(50);
        peer_server = std::move(z);
      }
#endif
      if (!peer_server) Fail("not available");
    }
    for (int p = 0; p < procs; ++p) {
      ChildSpec spec;
      spec.role = "fanin";
      spec.args = common;
      if (m == Mech::kMxRw) {
        for (int i = 0; i < threads; ++i) {
          mx_handle_t a, b;
          CheckMx(mx_channel_create(0, &a, &b), "mx_channel_create");
          mx_ends.push_back(a);
          spec.handles.push_back(b);
        }
      } else if (m == Mech::kSeq) {
        std::vector<int> theirs;
        for (int i = 0; i < threads; ++i) {
          int sv[2];
          if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            FailErrno("socketpair");
          }
          fds.push_back(sv[0]);
          theirs.push_back(sv[1]);
        }
        spec.fds = theirs;
        spec.args.push_back("fds=" + JoinInts(theirs));
      } else {
        spec.args.push_back("url=" + url);
      }
      try {
        children.push_back(Child::Spawn(WithPin(spec)));
      } catch (...) {
        for (mx_handle_t h : spec.handles) mx_handle_close(h);
        for (int fd : spec.fds) close(fd);
        throw;
      }
      for (int fd : spec.fds) close(fd);
    }

    // The server: one thread (this one). Each client has at most one request outstanding, so a
    // ready endpoint is read once per wake-up.
    uint64_t served = 0;
    char buf[256];
    auto count = [&] {
      uint64_t now = NowNs();
      if (now >= t_start && now < t_end) ++served;
    };
    if (m == Mech::kMxRw) {
      // One port, a REPEATING wait for READABLE|PEER_CLOSED on every endpoint (key = index).
      mx_handle_t port;
      CheckMx(mx_port_create(0, &port), "mx_port_create");
      for (size_t i = 0; i < mx_ends.size(); ++i) {
        CheckMx(
            mx_object_wait_async(mx_ends[i], port, i, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                 MX_WAIT_ASYNC_REPEATING),
            "mx_object_wait_async");
      }
      size_t alive = mx_ends.size();
      std::vector<bool> done(mx_ends.size(), false);
      while (alive > 0 && NowNs() < serve_until) {
        mx_port_packet_t p;
        mx_status_t st = mx_port_wait(port, std::min(serve_until, NowNs() + 100 * kMs), &p, 0);
        if (st == MX_ERR_TIMED_OUT) continue;
        CheckMx(st, "mx_port_wait");
        size_t i = static_cast<size_t>(p.key);
        if (i >= mx_ends.size() || done[i]) continue;
        // Drain: a REPEATING packet comes per change, not per message.
        uint32_t nb = 0;
        while ((st = mx_channel_read(mx_ends[i], 0, buf, nullptr, sizeof(buf), 0, &nb, nullptr)) ==
               MX_OK) {
          CheckMx(mx_channel_write(mx_ends[i], 0, buf, nb, nullptr, 0), "server write");
          count();
        }
        if (st != MX_ERR_SHOULD_WAIT && st != MX_ERR_PEER_CLOSED) {
          Fail("server mx_channel_read: status %d", st);
        }
        if (st == MX_ERR_PEER_CLOSED || (p.signal.observed & MX_CHANNEL_PEER_CLOSED)) {
          done[i] = true;  // a client finished
          --alive;
        }
      }
      mx_handle_close(port);
    } else if (m == Mech::kSeq) {
      int ep = epoll_create1(EPOLL_CLOEXEC);
      if (ep < 0) FailErrno("epoll_create1");
      fds.push_back(ep);
      for (size_t i = 0; i + 1 < fds.size(); ++i) {
        epoll_event ev = {};
        ev.events = EPOLLIN;
        ev.data.fd = fds[i];
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) FailErrno("epoll_ctl");
      }
      size_t open_count = fds.size() - 1;
      std::vector<epoll_event> evs(open_count);
      while (open_count > 0 && NowNs() < serve_until) {
        int r = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
        if (r < 0 && errno == EINTR) {
          OnEintr("epoll_wait");
          continue;
        }
        if (r < 0) FailErrno("epoll_wait");
        for (int i = 0; i < r; ++i) {
          int fd = evs[static_cast<size_t>(i)].data.fd;
          ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
          if (got > 0) {
            if (send(fd, buf, static_cast<size_t>(got), MSG_NOSIGNAL) != got) FailErrno("send");
            count();
          } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);  // client gone
            --open_count;
          }
        }
      }
    } else {
      while (NowNs() < serve_until) {
        size_t got;
        try {
          got = peer_server->Recv(buf, sizeof(buf));
        } catch (const PeerGone&) {
          continue;  // the 50 ms receive timeout: look at the clock again
        }
        peer_server->Send(buf, got);
        count();
      }
    }
    // Hang up (clients blocked in a call see the peer go), then every client must exit 0.
    for (mx_handle_t h : mx_ends) mx_handle_close(h);
    mx_ends.clear();
    for (int fd : fds) close(fd);
    fds.clear();
    for (auto& c : children) {
      int code = c.Finish(NowNs() + 15 * kSec);
      if (code != 0) Fail("client process exited with %d", code);
    }
    cleanup();
    *served_out = served;
    return static_cast<double>(served) * 1e9 / static_cast<double>(window);
  } catch (...) {
    cleanup();
    throw;
  }
}

void FanIn(std::vector<Table>* tables) {
  const std::vector<int>& ns = g_cfg.fanin_clients;
  for (int n : ns) {
    Table t;
    t.id = Fmt("fanin_%d", n);
    t.placement = LayoutText(g_layout);
    t.latency = false;
    t.title = Fmt("Fan-in: one server thread, %d client%s", n, n == 1 ? "" : "s");
    t.rate_unit = "req/s";
    const int procs = std::min(n, 16);
    t.note = n > procs
                 ? Fmt("%d client processes × %d threads, one connection each.", procs, n / procs)
             : n > 1 ? Fmt("%d client processes, one thread each.", n)
                     : std::string("1 client process.");
    t.note +=
        " Each client thread does 64 B request/reply round trips back to back for the whole "
        "window; requests/s = replies the server sent inside the window. libmx's server waits on "
        "one port with a REPEATING wait per endpoint; the baselines use "
        "epoll or the library's own server socket. No shm floor here. Iterations: requests served "
        "in "
        "the window.";
    t.base_key = "seqpacket";
    for (size_t i = 0; i < std::size(kFanMechs); ++i) {
      t.rows.push_back(MakeRow(kFanMechs[i], kFanLabels[i]));
    }
    tables->push_back(t);
  }
  int reps = g_cfg.reps;
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t ni = 0; ni < ns.size(); ++ni) {
      Table& t = (*tables)[tables->size() - ns.size() + ni];
      for (size_t i = 0; i < t.rows.size(); ++i) {
        Row& row = t.rows[i];
        if (!row.ok) continue;
        g_watchdog->Arm(120 * kSec);
        try {
          uint64_t served = 0;
          row.rep_values.push_back(FanInRep(kFanMechs[i], ns[ni], &served));
          row.rep_iters.push_back(static_cast<double>(served));
        } catch (const BenchError& e) {
          row.ok = false;
          row.error = e.what();
          fprintf(stderr, "  %s / %s: FAILED: %s\n", t.id.c_str(), row.key.c_str(), e.what());
        }
        g_watchdog->Disarm();
      }
    }
    fprintf(stderr, "  fanin: repetition %d/%d done\n", rep + 1, reps);
  }
}

// ---- Children
// ------------------------------------------------------------------------------------

// "echo": return every data message until told to quit.
int ChildEcho(const Args& a) {
  auto link = OpenChildLink(a);
  link->SetDeadline(NowNs() + 80 * kSec);
  std::vector<uint8_t> buf(a.U64("max"));
  for (;;) {
    size_t n = link->Recv(buf.data(), buf.size());
    if (HdrOf(buf).op == kOpQuit) return 0;
    link->Send(buf.data(), n);
  }
}

// "fifo_echo": return every element of the fifo in startup handle 0 until told to quit.
int ChildFifoEcho() {
  mx_handle_t h = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  if (h == MX_HANDLE_INVALID) Fail("child: no startup handle");
  FifoLink link(h);
  link.SetDeadline(NowNs() + 80 * kSec);
  Hdr e;
  for (;;) {
    link.Recv(&e, sizeof(e));
    if (e.op == kOpQuit) return 0;
    link.Send(&e, sizeof(e));
  }
}

// "sink": count data messages (closing the handles they carry), acknowledge every |ack| of them
// (0: never) and each end marker (txid 1, the count since the last marker).
int ChildSink(const Args& a) {
  auto link = OpenChildLink(a);
  link->SetDeadline(NowNs() + 80 * kSec);
  link->SetHandleKind(static_cast<HandleKind>(a.Int("hk")));
  size_t size = a.U64("max");
  uint64_t ack_every = a.U64("ack");
  std::vector<uint8_t> buf(size);
  auto ack = Message(size, kOpAck);
  uint64_t count = 0;
  for (;;) {
    link->Recv(buf.data(), buf.size());
    Hdr h = HdrOf(buf);
    if (h.op == kOpQuit) return 0;
    if (h.op == kOpData) {
      ++count;
      if (ack_every != 0 && count % ack_every == 0) {
        Hdr ah = {0, kOpAck, count};
        memcpy(ack.data(), &ah, sizeof(ah));
        link->Send(ack.data(), size);
      }
    } else if (h.op == kOpEnd) {
      Hdr ah = {1, kOpAck, count};
      memcpy(ack.data(), &ah, sizeof(ah));
      link->Send(ack.data(), size);
      count = 0;
    }
  }
}

long ResidentBytes() {
  FILE* f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f != nullptr) {
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

long OpenFds() {
  long n = 0;
  for (int fd = 0; fd < 65536; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) ++n;
  }
  return n;
}

// "life": create+close rate, then RSS and fds per idle / used channel. Prints one line to |out|.
int ChildLife(const Args& a) {
  LifeKind kind = static_cast<LifeKind>(a.Int("kind"));
  int out = a.Int("out");
  uint64_t budget = a.U64("budget");
  struct Pair {
    int fd[4] = {-1, -1, -1, -1};
    mx_handle_t h[2] = {0, 0};
  };
  auto create = [&](Pair& p) {
    switch (kind) {
      case LifeKind::kMx:
        CheckMx(mx_channel_create(0, &p.h[0], &p.h[1]), "mx_channel_create");
        break;
      case LifeKind::kSeq:
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p.fd) != 0) {
          FailErrno("socketpair");
        }
        break;
      case LifeKind::kPipe:
        if (pipe2(p.fd, O_CLOEXEC) != 0 || pipe2(p.fd + 2, O_CLOEXEC) != 0) FailErrno("pipe2");
        break;
    }
  };
  auto destroy = [&](Pair& p) {
    for (int& fd : p.fd) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    for (mx_handle_t& h : p.h) {
      if (h != 0) mx_handle_close(h);
      h = 0;
    }
  };
  // One message each way (|size| bytes): a "used" channel.
  auto use = [&](Pair& p, size_t size = 64) {
    char msg[4096] = {1}, in[4096];
    if (kind == LifeKind::kMx) {
      for (int d = 0; d < 2; ++d) {
        CheckMx(mx_channel_write(p.h[d], 0, msg, static_cast<uint32_t>(size), nullptr, 0), "write");
        uint32_t nb;
        CheckMx(mx_channel_read(p.h[1 - d], 0, in, nullptr, sizeof(in), 0, &nb, nullptr), "read");
      }
    } else if (kind == LifeKind::kSeq) {
      for (int d = 0; d < 2; ++d) {
        if (write(p.fd[d], msg, size) != static_cast<ssize_t>(size) ||
            read(p.fd[1 - d], in, sizeof(in)) != static_cast<ssize_t>(size)) {
          FailErrno("socket write/read");
        }
      }
    } else {
      for (int d = 0; d < 2; ++d) {
        if (write(p.fd[2 * d + 1], msg, size) != static_cast<ssize_t>(size) ||
            read(p.fd[2 * d], in, sizeof(in)) != static_cast<ssize_t>(size)) {
          FailErrno("pipe write/read");
        }
      }
    }
  };

  Pair p;
  for (int i = 0; i < 500; ++i) {
    create(p);
    destroy(p);
  }
  uint64_t iters = 0, t0 = NowNs();
  while (NowNs() - t0 < budget) {
    for (int i = 0; i < 64; ++i) {
      create(p);
      destroy(p);
    }
    iters += 64;
  }
  double rate = static_cast<double>(iters) * 1e9 / static_cast<double>(NowNs() - t0);

  constexpr int kCount = 1000;
  std::vector<Pair> pairs(kCount);
  if (kind == LifeKind::kMx) {
    // The thread's waker (an eventfd libmx creates at a thread's first wait) is not a
    // per-channel cost: make it before counting.
    create(p);
    mx_object_wait_one(p.h[0], MX_CHANNEL_READABLE, 0, nullptr);
    destroy(p);
  }
  long rss0 = ResidentBytes(), fds0 = OpenFds();
  for (auto& q : pairs) create(q);
  long rss1 = ResidentBytes(), fds1 = OpenFds();
  for (auto& q : pairs) use(q);
  long rss2 = ResidentBytes(), fds2 = OpenFds();
  for (auto& q : pairs) {
    for (int i = 0; i < 100; ++i) use(q, 4096);
  }
  long rss3 = ResidentBytes();
  // CPU while blocked: five 100 ms waits on the first channel, where nothing arrives.
  struct timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  for (int i = 0; i < 5; ++i) {
    if (kind == LifeKind::kMx) {
      mx_status_t st = mx_object_wait_one(pairs[0].h[0], MX_CHANNEL_READABLE,
                                          mx_deadline_after(MX_MSEC(100)), nullptr);
      if (st != MX_ERR_TIMED_OUT) CheckMx(st, "idle wait");
    } else {
      struct pollfd pfd = {pairs[0].fd[0], POLLIN, 0};
      poll(&pfd, 1, 100);
    }
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  double cpu_ms = static_cast<double>(c1.tv_sec - c0.tv_sec) * 1e3 +
                  static_cast<double>(c1.tv_nsec - c0.tv_nsec) / 1e6;
  for (auto& q : pairs) destroy(q);
  long fds3 = OpenFds();
  std::string line =
      Fmt("rate=%.1f iters=%llu rss_idle=%.1f fds_idle=%.3f rss_used=%.1f "
          "fds_used=%.3f rss_busy=%.1f cpu_idle=%.3f fds_left=%ld\n",
          rate, static_cast<unsigned long long>(iters), static_cast<double>(rss1 - rss0) / kCount,
          static_cast<double>(fds1 - fds0) / kCount, static_cast<double>(rss2 - rss0) / kCount,
          static_cast<double>(fds2 - fds0) / kCount, static_cast<double>(rss3 - rss0) / kCount,
          cpu_ms, fds3 - fds0);
  if (write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
  return 0;
}

// "fanin": |threads| client threads, each with its own connection, calling until t_end.
int ChildFanIn(const Args& a) {
  Mech m = MechByName(a.Str("mech"));
  int threads = a.Int("threads");
  uint64_t t_end = a.U64("t_end");
  std::vector<std::unique_ptr<Link>> links;
#if MXB_HAVE_ZMQ
  void* zctx = m == Mech::kZmq ? GetZmq().ctx_new() : nullptr;
#endif
  std::vector<int> fds = m == Mech::kSeq ? a.Ints("fds") : std::vector<int>{};
  for (int i = 0; i < threads; ++i) {
    switch (m) {
      case Mech::kMxRw: {
        mx_handle_t h = mx_get_startup_handle(PA_HND(PA_USER0, static_cast<uint32_t>(i)));
        if (h == MX_HANDLE_INVALID) Fail("no startup handle %d", i);
        links.push_back(std::make_unique<MxLink>(h, true));
        break;
      }
      case Mech::kSeq:
        links.push_back(std::make_unique<SeqLink>(fds.at(static_cast<size_t>(i)), false));
        break;
#if MXB_HAVE_ZMQ
      case Mech::kZmq:
        links.push_back(std::make_unique<ZmqLink>(ZMQ_REQ, a.Str("url"), false, zctx));
        break;
#endif
#if MXB_HAVE_NNG
      case Mech::kNng:
        links.push_back(std::make_unique<NngLink>(NngProto::kReq0, a.Str("url"), false));
        break;
#endif
      default:
        Fail("fan-in: mechanism not supported");
    }
    links.back()->SetDeadline(t_end + 10 * kSec);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&, i] {
      Link& link = *links[static_cast<size_t>(i)];
      auto req = Message(64, kOpData);
      char rep[256];
      uint32_t txid = 0;
      try {
        while (NowNs() < t_end) {
          ++txid;
          memcpy(req.data(), &txid, sizeof(txid));
          link.Call(req.data(), req.size(), rep, sizeof(rep));
        }
      } catch (const BenchError& e) {
        // The server hangs up some time after t_end; a failure before that is an error.
        if (NowNs() < t_end) {
          fprintf(stderr, "fan-in client: %s\n", e.what());
          ++failures;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  links.clear();
#if MXB_HAVE_ZMQ
  if (zctx != nullptr) GetZmq().ctx_term(zctx);
#endif
  return failures.load() == 0 ? 0 : 1;
}

int ChildMain(int argc, char** argv) {
  std::string role = argv[2];
  Args a = Args::Parse(argc, argv, 3);
  ChildSafety(a);
  signal(SIGPIPE, SIG_IGN);
  if (a.Has("cpu")) PinTo(a.Int("cpu"));
  try {
    if (role == "echo") return ChildEcho(a);
    if (role == "sink") return ChildSink(a);
    if (role == "life") return ChildLife(a);
    if (role == "fanin") return ChildFanIn(a);
    if (role == "fifo_echo") return ChildFifoEcho();
    fprintf(stderr, "unknown child role %s\n", role.c_str());
  } catch (const PeerGone& e) {
    fprintf(stderr, "mx_bench_ipc child %s: peer gone: %s\n", role.c_str(), e.what());
  } catch (const BenchError& e) {
    fprintf(stderr, "mx_bench_ipc child %s: %s\n", role.c_str(), e.what());
  }
  return 2;
}

// ---- Environment
// ---------------------------------------------------------------------------------

std::string FirstLine(const char* path, const char* prefix) {
  FILE* f = fopen(path, "r");
  if (f == nullptr) return "";
  char line[512];
  std::string out;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, prefix, strlen(prefix)) == 0) {
      out = line;
      break;
    }
  }
  fclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string LoadAvg() {
  std::string s = FirstLine("/proc/loadavg", "");
  size_t cut = 0;
  for (int spaces = 0; cut < s.size() && spaces < 3; ++cut) {
    if (s[cut] == ' ') ++spaces;
  }
  return s.substr(0, cut ? cut - 1 : s.size());
}

// Median cost of one NowNs() call, ns.
double ClockCost() {
  std::vector<double> v;
  for (int r = 0; r < 5; ++r) {
    uint64_t a = NowNs();
    for (int i = 0; i < 100000; ++i) NowNs();
    v.push_back(static_cast<double>(NowNs() - a) / 100000);
  }
  return Median(v);
}

// How much CPU this process can get right now: two threads spin for |ns| and report their CPU
// time over the wall time. 2.0 on an idle 2-vCPU machine; well below it, spinning rows measure the
// scheduler rather than the mechanism.
double CpuAvailable(uint64_t ns) {
  std::atomic<double> total{0};
  auto spin = [&] {
    timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    uint64_t w0 = NowNs();
    while (NowNs() - w0 < ns) {
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = static_cast<double>(c1.tv_sec - c0.tv_sec) * 1e9 +
                 static_cast<double>(c1.tv_nsec - c0.tv_nsec);
    double prev = total.load();
    while (!total.compare_exchange_weak(prev, prev + cpu / static_cast<double>(NowNs() - w0))) {
    }
  };
  std::thread a(spin), b(spin);
  a.join();
  b.join();
  return total.load();
}

std::string Environment(const std::string& load_before, double cpu_before, uint64_t started) {
  utsname u;
  uname(&u);
  time_t now = time(nullptr);
  char date[64];
  strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
  std::string cpu = FirstLine("/proc/cpuinfo", "model name");
  size_t colon = cpu.find(':');
  if (colon != std::string::npos) cpu = cpu.substr(colon + 2);
  std::string peers;
#if MXB_HAVE_ZMQ
  peers += GetZmq().ok() ? "libzmq " + GetZmq().Version() : "libzmq n/a";
#else
  peers += "libzmq n/a";
#endif
#if MXB_HAVE_NNG
  peers += GetNng().ok() ? std::string(", nng ") + GetNng().version() : ", nng n/a";
#else
  peers += ", nng n/a";
#endif
  std::string s;
  s += "| | |\n|---|---|\n";
  s += Fmt("| date | %s |\n", date);
  s += Fmt("| kernel (`uname -r`) | %s |\n", u.release);
  s += Fmt("| CPU | %s × %ld online |\n", cpu.c_str(), sysconf(_SC_NPROCESSORS_ONLN));
  s += Fmt("| load average (1/5/15 min) | %s before, %s after |\n", load_before.c_str(),
           LoadAvg().c_str());
  double cpu_after = CpuAvailable(300 * kMs);
  s +=
      Fmt("| CPU the bench could get | %.2f vCPUs before, %.2f after (two threads spinning "
          "0.3 s)%s |\n",
          cpu_before, cpu_after,
          std::min(cpu_before, cpu_after) < 1.6
              ? ": **the VM was busy with other work; spinning rows and the × shm floor column "
                "mostly measure the scheduler in this run**"
              : "");
  s += "| placement | " +
       (g_cfg.pin ? "every table " + LayoutText(*g_cfg.pin)
                  : std::string("round trips and streaming in three layouts (not pinned, pinned "
                                "to distinct CPUs, pinned to one CPU; interleaved in the same "
                                "rounds), every other table not pinned; each table says its own")) +
       " |\n";
  s +=
      Fmt("| repetitions | %d per measurement, interleaved across mechanisms; time budget scale "
          "%.2f |\n",
          g_cfg.reps, g_cfg.scale);
  s += Fmt("| build | %s, %s |\n", __VERSION__,
#ifdef NDEBUG
           "NDEBUG (release)"
#else
           "assertions on (not a release build!)"
#endif
  );
  peers += SdBusVersion().empty() ? ", sd-bus not built in" : ", " + SdBusVersion();
  peers += IceoryxVersion().empty() ? ", iceoryx not built in" : ", " + IceoryxVersion();
  s += Fmt("| peers | %s (ZeroMQ and nng loaded with dlopen; sd-bus and iceoryx linked) |\n",
           peers.c_str());
  s +=
      Fmt("| timer | `clock_gettime(CLOCK_MONOTONIC)`, %.0f ns per call (included in every "
          "latency sample) |\n",
          ClockCost());
  s += Fmt("| total run time | %.0f s |\n", static_cast<double>(NowNs() - started) / 1e9);
  return s;
}

int ParentMain(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto list = [](const std::string& l, std::set<std::string>* out) {
      size_t pos = 0;
      while (pos <= l.size()) {
        size_t comma = l.find(',', pos);
        if (comma == std::string::npos) comma = l.size();
        out->insert(l.substr(pos, comma - pos));
        pos = comma + 1;
      }
    };
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", arg.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (arg == "--out") {
      g_cfg.out = value();
    } else if (arg == "--reps") {
      g_cfg.reps = std::max(1, atoi(value().c_str()));
    } else if (arg == "--scale") {
      g_cfg.scale = std::max(0.01, atof(value().c_str()));
    } else if (arg == "--quick") {
      g_cfg.reps = 2;
      g_cfg.scale = 0.25;
    } else if (arg == "--pin") {
      g_cfg.pin = Layout::kDistinct;
      if (i + 1 < argc) {
        const std::string l = argv[i + 1];
        if (l == "distinct" || l == "same" || l == "none") {
          g_cfg.pin = l == "same" ? Layout::kSame : l == "none" ? Layout::kNone : Layout::kDistinct;
          ++i;
        }
      }
    } else if (arg == "--only") {
      list(value(), &g_cfg.only);
    } else if (arg == "--mechs") {
      list(value(), &g_cfg.mechs);
    } else if (arg == "--fanin-clients") {
      std::set<std::string> ns;
      list(value(), &ns);
      g_cfg.fanin_clients.clear();
      for (const std::string& n : ns) g_cfg.fanin_clients.push_back(std::max(1, atoi(n.c_str())));
      std::sort(g_cfg.fanin_clients.begin(), g_cfg.fanin_clients.end());
    } else {
      fprintf(
          stderr,
          "usage: %s [--out DIR] [--reps N] [--scale F] [--quick] [--pin [distinct|same|none]] "
          "[--only rtt,stream,bw,handle,life,fanin] [--mechs KEY,...] [--fanin-clients N,...]\n",
          argv[0]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  sched_getaffinity(0, sizeof(g_started_on), &g_started_on);
  const Layout base = g_cfg.pin.value_or(Layout::kNone);
  ApplyLayout(base);
  Watchdog watchdog;
  g_watchdog = &watchdog;
  uint64_t started = NowNs();
  std::string load_before = LoadAvg();
  double cpu_before = CpuAvailable(300 * kMs);

  std::vector<Table> tables;
  std::string body;
  auto section = [&](const char* name) {
    fprintf(stderr, "== %s (%.0f s so far)\n", name, static_cast<double>(NowNs() - started) / 1e9);
  };
  // Round trips, streaming, bandwidth and handle transfer run in rounds (RunInRounds).
  // Without --pin, round trips and streaming run in every layout (the same rounds, so their
  // ratios compare); everything else runs in |base|.
  std::vector<Plan> plans;
  // The iceoryx rows need RouDi; it runs from before the rows are made (they say why it did not
  // start) until the run ends: this process's iceoryx runtime keeps sending RouDi keep-alive
  // messages until it exits, and complains on stderr about every one once RouDi is gone.
  std::unique_ptr<RoudiGuard> roudi;
  if ((g_cfg.Wants("rtt") || g_cfg.Wants("stream") || g_cfg.Wants("bw")) &&
      g_cfg.WantsRow("iceoryx") && IceoryxVersion() != "") {
    roudi = std::make_unique<RoudiGuard>(g_cfg.out + "/iox-roudi.log");
  }
  const bool all_layouts = !g_cfg.pin.has_value();
  std::vector<Layout> layouts = {base};
  if (all_layouts) layouts = {Layout::kNone, Layout::kDistinct, Layout::kSame};
  for (Layout l : layouts) {
    if (g_cfg.Wants("rtt")) {
      for (size_t size : {size_t{64}, size_t{4096}}) {
        plans.push_back(InLayout(RoundTrip(size), l, all_layouts));
      }
    }
    if (g_cfg.Wants("rtt") || g_cfg.Wants("fifo")) {
      plans.push_back(InLayout(FifoRoundTrip(), l, all_layouts));
    }
    if (g_cfg.Wants("stream")) plans.push_back(InLayout(Streaming(64), l, all_layouts));
  }
  if (g_cfg.Wants("bw")) plans.push_back(InLayout(Streaming(65536), base, false));
  if (g_cfg.Wants("handle")) plans.push_back(InLayout(HandleTransfer(), base, false));
  if (!plans.empty()) {
    section("round trips, streaming, bandwidth, handle transfer (in rounds)");
    RunInRounds(plans, g_cfg.reps);
    ApplyLayout(base);
    for (Plan& p : plans) {
      tables.push_back(std::move(p.table));
      body += RenderTable(tables.back());
    }
  }
  if (g_cfg.Wants("life")) {
    section("lifecycle");
    body += Lifecycle(&tables);
  }
  if (g_cfg.Wants("fanin")) {
    section("fan-in");
    FanIn(&tables);
    for (auto& t : tables) {
      if (t.id.rfind("fanin_", 0) == 0) body += RenderTable(t);
    }
  }
  section("done");

  // Headline: the libmx rows' ratios in one place.
  std::string head =
      "### Headline ratios (time per operation, this run)\n\n"
      "| scenario | libmx | × SEQPACKET blocking | × shm floor |\n|---|---|--:|--:|\n";
  for (const Table& t : tables) {
    for (const Row& r : t.rows) {
      if (r.key.rfind("mx", 0) != 0 || !r.ok || r.rep_values.empty()) continue;
      head += "| " + t.title + " | " + r.label + " | " + FmtRatio(t.Ratio(r, t.base_key)) + " | " +
              (t.floor_key.empty() ? "–" : FmtRatio(t.Ratio(r, t.floor_key))) + " |\n";
    }
  }
  std::string md = "## Environment\n\n" + Environment(load_before, cpu_before, started) + "\n" +
                   RenderLeaders(tables) + head + "\n## Results\n\n" + body;
  printf("%s", md.c_str());
  fflush(stdout);

  bool ok = WriteFile(g_cfg.out + "/BENCHMARKS.generated.md", md) &&
            WriteFile(g_cfg.out + "/results.tsv", RenderTsv(tables));
  for (const Table& t : tables) {
    if (!t.latency) continue;
    for (const Row& r : t.rows) {
      if (r.pooled.empty()) continue;
      ok = ok && WriteFile(g_cfg.out + "/" + t.id + "_" + r.key + ".cdf", RenderCdf(r));
    }
  }
  std::string fan = "# clients";
  for (Mech m : kFanMechs)
    fan += std::string(" ") + (m == Mech::kMxRw ? "libmx_port" : Info(m).name);
  fan += "\n";
  for (const Table& t : tables) {
    if (t.id.rfind("fanin_", 0) != 0) continue;
    fan += t.id.substr(6);
    for (const Row& r : t.rows) fan += r.ok ? Fmt(" %.1f", r.Value()) : " NaN";
    fan += "\n";
  }
  ok = ok && WriteFile(g_cfg.out + "/fanin.dat", fan);
  if (!ok) {
    fprintf(stderr, "could not write results to %s\n", g_cfg.out.c_str());
    return 1;
  }
  int failed = 0;
  for (const Table& t : tables) {
    for (const Row& r : t.rows) {
      if (!r.ok && r.na.empty() && !r.skipped) ++failed;
    }
  }
  fprintf(stderr, "== %d row(s) failed or unavailable\n", failed);
  return 0;
}

}  // namespace
}  // namespace mxb

int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "--child") == 0) return mxb::ChildMain(argc, argv);
  return mxb::ParentMain(argc, argv);
}
