// SPDX-License-Identifier: BSD-3-Clause
// A worker process of mx_soak: its threads, the links they own, and the call links its caller
// threads share. The traffic loop is LinkThread (link_thread.cc reads, checks.cc verifies what
// arrives, link_writer.cc writes); caller.cc makes the calls; worker.cc is the process's main.
#ifndef MX_TESTS_STRESS_WORKER_H_
#define MX_TESTS_STRESS_WORKER_H_

#include "soak.h"

namespace mx_soak {

// A reply the server side of a call link could not write yet (backpressure).
struct PendingReply {
  std::vector<uint8_t> bytes;
  mx_handle_t handles[1] = {MX_HANDLE_INVALID};
  uint32_t num_handles = 0;
};

struct Link {
  LinkState st;
  mx_handle_t h = MX_HANDLE_INVALID;
  bool fin_sent = false;
  bool fin_received = false;
  bool write_blocked = false;  // last write got SHOULD_WAIT; wait for WRITABLE
  bool write_peer_closed = false;
  std::vector<PendingReply> pending;  // call links (server side) only
};

// The caller side of a call link: shared by the worker's caller threads, which call on it at once.
struct CallLink {
  LinkState st;
  mx_handle_t h = MX_HANDLE_INVALID;
  std::atomic<bool> dead{false};  // the server is gone (PEER_CLOSED)
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> replies{0};
};

struct CallPool {
  std::mutex mu;
  std::vector<std::unique_ptr<CallLink>> links;
  std::atomic<uint32_t> next_txid{1};
  std::vector<std::thread> threads;
};

struct Worker;

struct ThreadCtx {
  int index = 0;
  mx_handle_t doorbell = MX_HANDLE_INVALID;  // an event: SIGNALED when the inbox has links
  std::mutex mu;
  std::vector<Link> inbox;
  bool closed = false;  // the thread has exited; pushes fail
  std::thread thread;
  uint64_t seed = 0;
};

struct Worker {
  Options opt;
  int index = 0;
  std::atomic<uint64_t> counters[kNumCounters] = {};
  std::atomic<bool> stopping{false};
  std::atomic<mx_time_t> drain_deadline{0};
  std::vector<std::unique_ptr<ThreadCtx>> threads;
  std::mutex outcomes_mu;
  std::vector<Outcome> outcomes;
  std::atomic<int> printed_errors{0};
  CallPool calls;

  void Add(Counter c, uint64_t n = 1) { counters[c].fetch_add(n, std::memory_order_relaxed); }

  Stats Snapshot() const {
    Stats s;
    for (uint32_t i = 0; i < kNumCounters; ++i)
      s.v[i] = counters[i].load(std::memory_order_relaxed);
    return s;
  }

  void Error(Counter c, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    Add(c);
    if (printed_errors.fetch_add(1) >= 25) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "mx_soak[worker %d pid %d]: ERROR: %s\n", index, static_cast<int>(getpid()),
            buf);
  }

  void Record(const LinkState& st, OutcomeKind kind, uint64_t sent, uint64_t received) {
    if (kind == kOutcomeClean) Add(kLinksClean);
    if (kind == kOutcomeCut) Add(kLinksCut);
    std::lock_guard<std::mutex> lock(outcomes_mu);
    outcomes.push_back(Outcome{st.link, st.side, kind, sent, received});
  }

  // Gives |link| to thread |t|; false if that thread has already exited.
  bool Push(ThreadCtx& t, Link link) {
    {
      std::lock_guard<std::mutex> lock(t.mu);
      if (t.closed) return false;
      t.inbox.push_back(link);
    }
    mx_object_signal(t.doorbell, 0, MX_EVENT_SIGNALED);
    return true;
  }
};

// One thread's traffic loop.
class LinkThread {
 public:
  LinkThread(Worker& w, ThreadCtx& t) : w_(w), t_(t), rng_(t.seed) {
    buf_.resize(MX_CHANNEL_MAX_MSG_BYTES);
  }

  void Run();

 private:
  // Reading.
  bool ReadSome(Link& l);  // true if it read anything
  void ServeCall(Link& l, const MsgHeader& hdr, const uint8_t* payload, uint32_t len,
                 mx_handle_t* handles, uint32_t nh);
  void FlushReplies(Link& l);
  bool TryHandoff(Link& l);
  void HandleMessage(Link& l, uint32_t nb, mx_handle_t* handles, uint32_t nh);
  bool VerifyAttachment(const Link& l, const MsgHeader& hdr, const AttachDesc& d, mx_handle_t h);
  bool VerifyCargo(const Link& l, const AttachDesc& d, mx_handle_t q);
  void PeerGone(Link& l);
  // Writing.
  void WriteSome(size_t i);
  bool WriteData(Link& l);
  bool WriteFin(Link& l);
  void Migrate(size_t carrier, size_t roamer);
  // What a message's attachments carry inside them (cargo messages and their events), counted
  // as sent only if the message itself is.
  struct Nested {
    uint64_t msgs = 0, bytes = 0, handles = 0, events = 0, fds = 0, cargo = 0;
  };
  mx_status_t Send(Link& l, MsgHeader* hdr, const void* payload, uint32_t len, mx_handle_t* handles,
                   uint32_t nh, const Nested* nested = nullptr);
  mx_status_t MakeAttachment(AttachDesc* d, mx_handle_t* h, Nested* nested);
  void Finish(Link& l, OutcomeKind kind);

  Worker& w_;
  ThreadCtx& t_;
  Rng rng_;
  std::vector<Link> links_;
  std::vector<Link> incoming_;  // adopted during a pass (migrations in)
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> out_;
  std::vector<uint8_t> payload_;
};

// A caller thread: mx_channel_call on the worker's call links until STOP.
void CallerMain(Worker& w, uint64_t seed);
// After STOP and once the caller threads are done: FIN on each call link, then the outcome.
void FinishCallLinks(Worker& w);
// The worker process (--worker-index given): returns its exit code.
int WorkerMain(const Options& opt);

}  // namespace mx_soak

#endif  // MX_TESTS_STRESS_WORKER_H_
