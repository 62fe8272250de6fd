// SPDX-License-Identifier: BSD-3-Clause
// Shared by the files of mx_soak (tests/stress/soak.cc describes the program): its options, small
// helpers, the counters, and the layout of the messages on links and on the control channels.
#ifndef MX_TESTS_STRESS_SOAK_H_
#define MX_TESTS_STRESS_SOAK_H_

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/processargs.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/fd_count.h"

namespace mx_soak {

// ---- Options ------------------------------------------------------------------------------------

struct Options {
  double seconds = 10;
  uint64_t seed = 0;
  bool seed_given = false;
  int workers = 4;
  int threads = 3;
  int degree = 2;      // static links each new worker opens to other workers
  int roaming = 2;     // roaming links each new worker gets
  int call_links = 1;  // call links each new worker gets as the caller
  int callers = 2;     // threads per worker making mx_channel_call on its call links
  double call_timeout = 30;
  double kill_every = 2;  // mean seconds between SIGKILLs; 0: no kills
  uint32_t max_bytes = 65536;
  uint32_t buffer_bytes = 262144;  // MX_CHANNEL_BUFFER_BYTES for workers (0: libmx default)
  double drain = 60;               // how long the stop phase may take
  bool verbose = false;
  // Internal (worker mode).
  int worker_index = -1;
  long parent_pid = 0;
  std::string service;  // the coordinator's rendezvous name
};

void Usage(FILE* out);
// Fills |o| from the command line; false on a usage error (after printing it).
bool ParseOptions(int argc, char** argv, Options* o);

// ---- Small helpers ------------------------------------------------------------------------------

inline uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Rng {
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t Next() { return SplitMix(&state); }
  uint32_t Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }
  bool Chance(uint32_t percent_x10) { return Below(1000) < percent_x10; }  // per mille
  double Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }
  uint64_t state;
};

inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ull);
  return SplitMix(&s);
}

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
inline uint64_t Fnv1a(const void* data, size_t size, uint64_t hash = kFnvOffset) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

using mx_test::CountOpenFds;
// "fd -> target" for every open fd, for failure messages.
std::string DescribeFds();
double Now();  // CLOCK_MONOTONIC, in seconds
mx_time_t DeadlineAfterSeconds(double s);
const char* StatusName(mx_status_t s);
// MX_INFO_HANDLE_BASIC of |h|; all zero if |h| is not a handle.
mx_info_handle_basic_t BasicInfo(mx_handle_t h);
void CloseHandles(const mx_handle_t* h, size_t n);
// Creates what libmx creates lazily and keeps for the life of the process, before an fd baseline.
void WarmUp();

// ---- Counters -----------------------------------------------------------------------------------

enum Counter : uint32_t {
  kMsgsSent,
  kMsgsVerified,
  kBytesSent,
  kBytesVerified,
  kHandlesSent,      // every handle written into a channel (nested cargo handles included)
  kHandlesVerified,  // every handle received and checked
  kEventsSent,
  kFdsSent,
  kCargoSent,
  kHops,             // roaming endpoints sent to another process inside a message
  kHandoffs,         // endpoints handed to another thread of the same process
  kShouldWait,       // writes refused by backpressure
  kCallsOk,          // mx_channel_call round trips with a verified reply
  kCallsPeerClosed,  // calls that failed with PEER_CLOSED (the server was killed)
  kLinksCut,         // links that ended with PEER_CLOSED before FIN (the peer was killed)
  kLinksClean,       // links closed after FIN both ways
  kOrderErrors,      // wrong sequence number, link or side
  kChecksumErrors,   // payload or running hash mismatch
  kHandleErrors,     // an attached handle was not what the sender sent
  kOtherErrors,      // unexpected statuses, drain timeouts, fd leaks, protocol errors
  kNumCounters
};

struct Stats {
  uint64_t v[kNumCounters];
};

inline uint64_t ErrorCount(const Stats& s) {
  return s.v[kOrderErrors] + s.v[kChecksumErrors] + s.v[kHandleErrors] + s.v[kOtherErrors];
}

// ---- Link messages ------------------------------------------------------------------------------

constexpr uint32_t kMsgMagic = 0x4b414f53u;  // "SOAK"

enum MsgKind : uint32_t { kData = 1, kMigrate = 2, kFin = 3, kCallRequest = 4, kCallReply = 5 };
enum LinkType : uint32_t { kStatic = 0, kRoaming = 1, kCall = 2 };
enum AttachKind : uint32_t {
  kAttachEvent = 1,
  kAttachFd = 2,
  kAttachCargo = 3,
  kAttachEndpoint = 4
};

constexpr uint32_t kMaxAttach = 3;

struct AttachDesc {
  uint32_t kind;
  uint32_t aux;    // event: the signals set; cargo: message count
  uint64_t token;  // fd: the token in the pipe; cargo: the cargo token
};

struct MsgHeader {
  uint32_t txid;  // where mx_channel_call looks: 0, except in call requests and replies
  uint32_t magic;
  uint32_t kind;
  uint32_t side;  // the sender's side of the link (0 or 1)
  uint64_t link;
  uint64_t seq;          // per link and direction, from 0 (call links: the txid)
  uint32_t payload_len;  // bytes after the header
  uint32_t num_attach;
  uint64_t payload_hash;  // FNV-1a of those bytes
  AttachDesc attach[kMaxAttach];
};

// The state of one end of a link; travels with a roaming endpoint (kMigrate payload).
struct LinkState {
  uint64_t link;
  uint32_t side;
  uint32_t type;       // a LinkType
  uint64_t send_seq;   // messages sent from this side so far
  uint64_t recv_seq;   // messages received on this side so far
  uint64_t send_hash;  // running hash of the messages sent
  uint64_t recv_hash;  // running hash of the messages received
  uint64_t koid;       // this endpoint's koid (checked on arrival)
  uint64_t peer_koid;  // the other end's koid
};

struct FinPayload {
  uint64_t sent;       // messages sent before this FIN
  uint64_t send_hash;  // running hash over them
};

struct CargoMsg {
  uint64_t token;
  uint32_t index;
  uint32_t count;
};

constexpr uint32_t kCargoEventSignal = MX_USER_SIGNAL_7;

inline uint64_t StreamHash(uint64_t hash, uint64_t seq, uint32_t kind, uint32_t len,
                           uint64_t payload_hash) {
  struct {
    uint64_t seq;
    uint32_t kind;
    uint32_t len;
    uint64_t payload_hash;
  } rec = {seq, kind, len, payload_hash};
  return Fnv1a(&rec, sizeof(rec), hash);
}

// memcmp for |n| bytes that may be 0 (an empty vector's data() may be null, which memcmp must
// not be given even for 0 bytes: UBSan reports it).
inline bool SameBytes(const void* a, const void* b, size_t n) {
  return n == 0 || memcmp(a, b, n) == 0;
}

inline void FillPattern(uint8_t* p, size_t n, uint64_t link, uint32_t side, uint64_t seq) {
  uint64_t state = Mix(Mix(link, side + 1), seq);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = SplitMix(&state);
    memcpy(p + i, &x, 8);
  }
  if (i < n) {
    uint64_t x = SplitMix(&state);
    memcpy(p + i, &x, n - i);
  }
}

// ---- Control messages (coordinator <-> worker) --------------------------------------------------

constexpr uint32_t kCtrlMagic = 0x4c525443u;  // "CTRL"

enum CtrlKind : uint32_t {
  kCtrlHello = 1,  // worker -> coordinator: ready; fd_baseline set, num_outcomes = its index
  kCtrlAddLink,    // coordinator -> worker: a link endpoint (1 handle), its LinkState
  kCtrlStop,       // coordinator -> worker: stop traffic, FIN every link, report
  kCtrlStats,      // worker -> coordinator: counters so far (every 500 ms)
  kCtrlOutcomes,   // worker -> coordinator: a batch of Outcome records
  kCtrlReport,     // worker -> coordinator: final counters and fd counts; last message
};

enum OutcomeKind : uint32_t { kOutcomeClean = 1, kOutcomeCut = 2, kOutcomeError = 3 };

struct Outcome {
  uint64_t link;
  uint32_t side;
  uint32_t kind;
  uint64_t sent;
  uint64_t received;
};

struct CtrlMsg {
  uint32_t magic;
  uint32_t kind;
  int32_t fd_baseline;
  int32_t fd_final;
  uint32_t num_outcomes;  // kCtrlOutcomes: Outcome records following this struct
  uint32_t reserved;
  LinkState link;  // kCtrlAddLink
  Stats stats;     // kCtrlStats, kCtrlReport
};

constexpr uint32_t kOutcomesPerMsg = (MX_CHANNEL_MAX_MSG_BYTES - sizeof(CtrlMsg)) / sizeof(Outcome);

// Writes a control message (|m|, then |extra_len| bytes of |extra|) with |nh| |handles|, waiting
// out backpressure for a while.
mx_status_t WriteCtrl(mx_handle_t ctrl, const CtrlMsg& m, const void* extra = nullptr,
                      size_t extra_len = 0, mx_handle_t* handles = nullptr, uint32_t nh = 0);

}  // namespace mx_soak

#endif  // MX_TESTS_STRESS_SOAK_H_
