// SPDX-License-Identifier: BSD-3-Clause
// The interpreter and model for sequence programs (see sequence_program.h for the encoding and the
// properties checked).
//
// The model. Every object the program has made is an Object: a channel endpoint (with its peer and
// its *inbox*, the messages sent to it and not yet read, oldest first), an event (its signals) or
// one end of a pipe wrapped as an fd handle (the pipe's inode). The pool holds the program's
// handles (value, object, rights); a message in an inbox holds references to objects. An endpoint
// is *reachable* when a handle to it is in the pool or a message in the inbox of a reachable
// endpoint carries it: only then can the program still read what is sent to it. Unreachable inboxes
// are dropped and the objects in them marked *lost*: libmx or the kernel closes them, but when
// (the socket garbage collector, for an endpoint sent into its own channel) is not ours to know, so
// a lost endpoint's peer may or may not see PEER_CLOSED, and a lost event's LAST_HANDLE is unknown.
// An object whose last handle the program closed is *closed*: its peer must see PEER_CLOSED.
#include "fuzz/sequence_program.h"

#include <dirent.h>
#include <fcntl.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "support/fd_count.h"

namespace mx_fuzz {
namespace {

using mx_test::CountOpenFds;

constexpr size_t kMaxCreates = 24;  // create operations per program (fds stay bounded)
constexpr size_t kMaxPool = 64;     // duplicates stop here
// Payload written per program: enough to fill the socket (about 200 KiB) and the message ring at
// the fuzzer's 256 KiB limit, so both backpressure paths are reached.
constexpr size_t kMaxProgramBytes = 512u * 1024;
// Below both, a channel direction has room: a write must not return SHOULD_WAIT, WRITABLE must be
// set. Well under the socket's default send buffer (about 200 KiB, counting per-datagram overhead).
constexpr size_t kQuietBytes = 32 * 1024;
constexpr size_t kQuietMessages = 32;
// Below this many bytes queued for an endpoint, a wait on it pulls everything (libmx pulls up to
// 128 KiB per refresh), so user signals sent in-band by its peer are applied.
constexpr size_t kRefreshBytes = 64 * 1024;

constexpr mx_signals_t kWaitAll = MX_CHANNEL_READABLE | MX_CHANNEL_WRITABLE |
                                  MX_CHANNEL_PEER_CLOSED | MX_EVENT_SIGNALED |
                                  MX_SIGNAL_LAST_HANDLE | MX_USER_SIGNAL_ALL;

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

const char* StatusName(mx_status_t st) {
  switch (st) {
    case MX_OK:
      return "OK";
    case MX_ERR_INVALID_ARGS:
      return "INVALID_ARGS";
    case MX_ERR_BAD_HANDLE:
      return "BAD_HANDLE";
    case MX_ERR_WRONG_TYPE:
      return "WRONG_TYPE";
    case MX_ERR_ACCESS_DENIED:
      return "ACCESS_DENIED";
    case MX_ERR_NOT_SUPPORTED:
      return "NOT_SUPPORTED";
    case MX_ERR_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case MX_ERR_BUFFER_TOO_SMALL:
      return "BUFFER_TOO_SMALL";
    case MX_ERR_SHOULD_WAIT:
      return "SHOULD_WAIT";
    case MX_ERR_PEER_CLOSED:
      return "PEER_CLOSED";
    case MX_ERR_TIMED_OUT:
      return "TIMED_OUT";
    case MX_ERR_CALL_FAILED:
      return "CALL_FAILED";
    case MX_ERR_CANCELED:
      return "CANCELED";
    case MX_ERR_NO_RESOURCES:
      return "NO_RESOURCES";
    case MX_ERR_NO_MEMORY:
      return "NO_MEMORY";
    case MX_ERR_IO:
      return "IO";
    default:
      return "other";
  }
}

const char* OpName(uint8_t op) {
  static const char* const kNames[kOpCount] = {
      "create_channel", "create_event", "create_pipe", "write",    "read",
      "call_reply",     "call_timeout", "close",       "wait",     "signal",
      "signal_peer",    "duplicate",    "replace",     "check_fd", "stale"};
  return op < kOpCount ? kNames[op] : "?";
}

// MX_SEQ_STRICT=1: no tolerance for known bugs (see SettleSend).
bool StrictMode() {
  static const bool on = [] {
    const char* v = getenv("MX_SEQ_STRICT");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return on;
}

bool Tracing() {
  static const bool on = [] {
    const char* v = getenv("MX_SEQ_TRACE");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return on;
}

bool BasicInfo(mx_handle_t h, mx_info_handle_basic_t* info) {
  return mx_object_get_info(h, MX_INFO_HANDLE_BASIC, info, sizeof(*info), nullptr, nullptr) ==
         MX_OK;
}

// ---- The responder: answers one mx_channel_call at a time from its own thread ----------------

// The main thread hands it a job (the peer endpoint, the request it must find there, how to
// reply), then calls. The responder waits for the request or for the cancel event (the call failed
// before sending), reads it, checks it and replies with the same txid. One instance per process,
// never destroyed (its thread lives as long as the process).
class Responder {
 public:
  struct Job {
    mx_handle_t endpoint = MX_HANDLE_INVALID;
    std::vector<uint8_t> request;
    uint32_t request_handles = 0;
    uint32_t reply_bytes = 4;
    bool echo = false;  // send the request's handles back, else close them
  };

  static Responder& Get() {
    static Responder* responder = new Responder();
    return *responder;
  }

  void Start(Job job) {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = std::move(job);
    pending_ = true;
    done_ = false;
    cv_.notify_all();
  }

  // The call failed before its request left: stop waiting for it.
  void Cancel() { mx_object_signal(cancel_, 0, MX_EVENT_SIGNALED); }

  // Waits until the job is finished; returns "" or what went wrong on the responder's side.
  std::string Finish() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return error_;
  }

  static std::vector<uint8_t> ReplyBytes(uint32_t txid, uint32_t size) {
    std::vector<uint8_t> reply(size, 0x5A);
    memcpy(reply.data(), &txid, sizeof(txid));
    return reply;
  }

 private:
  Responder() {
    if (mx_event_create(0, &cancel_) != MX_OK) abort();
    std::thread([this] { Loop(); }).detach();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return ready_; });
  }

  void Loop() {
    // Per-thread libmx state (the thread's waker) is created by the first wait; make it exist
    // before any program counts its fds.
    mx_object_wait_one(cancel_, MX_EVENT_SIGNALED, 0, nullptr);
    std::unique_lock<std::mutex> lock(mu_);
    ready_ = true;
    cv_.notify_all();
    for (;;) {
      cv_.wait(lock, [this] { return pending_; });
      pending_ = false;
      Job job = std::move(job_);
      lock.unlock();
      std::string error = Serve(job);
      lock.lock();
      error_ = std::move(error);
      done_ = true;
      cv_.notify_all();
    }
  }

  std::string Serve(const Job& job) {
    mx_wait_item_t items[2] = {{job.endpoint, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0},
                               {cancel_, MX_EVENT_SIGNALED, 0}};
    mx_status_t st = mx_object_wait_many(items, 2, MX_TIME_INFINITE);
    if (st != MX_OK) return Format("responder: wait_many returned %s", StatusName(st));
    if (items[1].pending & MX_EVENT_SIGNALED) {
      mx_object_signal(cancel_, MX_EVENT_SIGNALED, 0);
      return "";
    }
    std::vector<uint8_t>& bytes = buffer_;  // reused: no 64 KiB to clear per call
    mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
    uint32_t actual_bytes = 0, actual_handles = 0;
    st = mx_channel_read(job.endpoint, 0, bytes.data(), handles, MX_CHANNEL_MAX_MSG_BYTES,
                         MX_CHANNEL_MAX_MSG_HANDLES, &actual_bytes, &actual_handles);
    std::string error;
    if (st != MX_OK) {
      error = Format("responder: read returned %s", StatusName(st));
      actual_handles = 0;
    } else if (actual_bytes != job.request.size() ||
               memcmp(bytes.data(), job.request.data(), actual_bytes) != 0) {
      error = Format("responder: request of %u bytes differs from the %zu sent", actual_bytes,
                     job.request.size());
    } else if (actual_handles != job.request_handles) {
      error = Format("responder: request carried %u handles, %u sent", actual_handles,
                     job.request_handles);
    }
    // Reply even after a mismatch, so the caller does not wait forever.
    uint32_t txid = 0;
    memcpy(&txid, job.request.data(), sizeof(txid));
    std::vector<uint8_t> reply = ReplyBytes(txid, job.reply_bytes);
    uint32_t send = error.empty() && job.echo ? actual_handles : 0;
    if (send == 0) {
      for (uint32_t i = 0; i < actual_handles; ++i) mx_handle_close(handles[i]);
    }
    st = mx_channel_write(job.endpoint, 0, reply.data(), static_cast<uint32_t>(reply.size()),
                          handles, send);
    if (st != MX_OK) {
      for (uint32_t i = 0; i < send; ++i) mx_handle_close(handles[i]);
      if (error.empty()) error = Format("responder: reply write returned %s", StatusName(st));
    }
    return error;
  }

  mx_handle_t cancel_ = MX_HANDLE_INVALID;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  bool pending_ = false;
  bool done_ = false;
  Job job_;
  std::string error_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(MX_CHANNEL_MAX_MSG_BYTES);
};

// ---- The model ---------------------------------------------------------------------------------

enum class Kind { kChannel, kEvent, kFd };

struct HandleRef {
  int obj;
  mx_rights_t rights;
};

struct ModelMessage {
  std::vector<uint8_t> bytes;
  std::vector<HandleRef> handles;
};

struct Object {
  Kind kind = Kind::kFd;
  mx_koid_t koid = 0;
  bool closed = false;  // the program closed its last handle
  bool lost = false;    // a reference went away inside a discarded message
  // Channel endpoints.
  int peer = -1;
  std::deque<ModelMessage> inbox;
  size_t inbox_bytes = 0;
  bool blocked = false;  // a write towards it returned SHOULD_WAIT; until its inbox empties
  uint32_t user_signals = 0;
  bool signals_exact = true;  // false once a peer signal may be unapplied
  // Events.
  uint32_t event_signals = 0;
  // Pipe ends.
  dev_t dev = 0;
  ino_t ino = 0;
  bool write_end = false;
};

struct Entry {
  mx_handle_t value;
  int obj;
  mx_rights_t rights;
};

enum class Peer { kOpen, kClosed, kUnknown };

// What a send (write, or a call's write phase) must return.
struct SendExpect {
  mx_status_t error = MX_OK;     // when not OK: exactly this, and nothing leaves
  bool may_block = false;        // SHOULD_WAIT allowed (the direction is loaded)
  bool may_peer_closed = false;  // PEER_CLOSED allowed (the peer is lost)
};

mx_rights_t DefaultRights(Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return MX_DEFAULT_CHANNEL_RIGHTS;
    case Kind::kEvent:
      return MX_DEFAULT_EVENT_RIGHTS;
    case Kind::kFd:
      return MX_DEFAULT_FD_RIGHTS;
  }
  return 0;
}

uint32_t TypeOf(Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return MX_OBJ_TYPE_CHANNEL;
    case Kind::kEvent:
      return MX_OBJ_TYPE_EVENT;
    case Kind::kFd:
      return MX_OBJ_TYPE_FD;
  }
  return 0;
}

#define SEQ_CHECK(cond, ...)                      \
  do {                                            \
    if (!(cond)) {                                \
      Fail(__LINE__, #cond, Format(__VA_ARGS__)); \
      return;                                     \
    }                                             \
  } while (0)

#define SEQ_STATUS(got, want, what)                                                     \
  SEQ_CHECK((got) == (want), "%s returned %s (%d), expected %s", what, StatusName(got), \
            static_cast<int>(got), StatusName(want))

class Runner {
 public:
  Runner(const uint8_t* data, size_t size, SequenceStats* stats)
      : data_(data), size_(size), stats_(stats) {}

  std::string Run(bool check_fds) {
    const int fds_before = CountOpenFds();
    if (stats_ != nullptr) stats_->programs++;
    size_t ops = 0;
    while (ops < kMaxOps && pos_ < size_) {
      op_ = data_[pos_++] % kOpCount;
      op_index_ = ops++;
      Dispatch();
      if (failed()) return error_;
      Normalize();
    }
    if (stats_ != nullptr) stats_->ops += ops;
    op_ = kOpCount;  // the epilogue
    DrainAll();
    if (failed()) return error_;
    while (!pool_.empty()) {
      CloseAt(pool_.size() - 1);
      if (failed()) return error_;
    }
    const int fds_after = CountOpenFds();
    if (check_fds && fds_after != fds_before) {
      Fail(__LINE__, "fds_after == fds_before",
           Format("fd leak: %d open before the program, %d after", fds_before, fds_after));
    }
    return error_;
  }

 private:
  // ---- Decoding --------------------------------------------------------------------------------

  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }

  // Reads "n h1..hn"; |*count| is the number of handles the call will claim (65 for n == 255).
  std::vector<uint8_t> NextList(uint32_t* count) {
    uint8_t n = Next();
    if (n == 255) {
      *count = MX_CHANNEL_MAX_MSG_HANDLES + 1;
      return {};
    }
    std::vector<uint8_t> sels(n % 6);
    for (uint8_t& s : sels) s = Next();
    *count = static_cast<uint32_t>(sels.size());
    return sels;
  }

  static size_t SizeOf(uint8_t s) {
    if (s < 192) return s;
    if (s < 254) return (s - 191u) * 1024u;
    return s == 254 ? MX_CHANNEL_MAX_MSG_BYTES : MX_CHANNEL_MAX_MSG_BYTES + 1;
  }

  // A payload of the size byte |s|: txid, then the message's serial number, repeated every 1 KiB
  // over a fill byte derived from it (so bytes of two messages can't be mistaken for one). Built
  // with memset/memcpy: a per-byte loop is instrumented, and slow, in the fuzzer.
  std::vector<uint8_t> Payload(uint8_t s, uint32_t txid, size_t min_size) {
    size_t n = std::max(SizeOf(s), min_size);
    if (n <= MX_CHANNEL_MAX_MSG_BYTES && written_ + n > kMaxProgramBytes) {
      n = std::max<size_t>(s % 64, min_size);
    }
    const uint32_t serial = ++serial_;
    std::vector<uint8_t> p(n, static_cast<uint8_t>(serial * 31u + 7u));
    for (size_t at = 4; at + 4 <= n; at += 1024) memcpy(p.data() + at, &serial, 4);
    if (n > 0) memcpy(p.data(), &txid, std::min<size_t>(n, 4));
    return p;
  }

  // ---- Failure and tracing ---------------------------------------------------------------------

  bool failed() const { return !error_.empty(); }

  void Fail(int line, const char* cond, const std::string& detail) {
    if (failed()) return;
    error_ = Format("op #%zu (%s): %s [check `%s`, sequence_program.cc:%d]", op_index_,
                    op_ < kOpCount ? OpName(op_) : "epilogue", detail.c_str(), cond, line);
  }

  void Trace(const std::string& what) {
    if (Tracing()) fprintf(stderr, "seq #%zu %s: %s\n", op_index_, OpName(op_), what.c_str());
  }

  // ---- Model queries ---------------------------------------------------------------------------

  std::vector<bool> Reachable() const {
    std::vector<bool> reach(objs_.size(), false);
    std::vector<int> todo;
    for (const Entry& e : pool_) {
      if (!reach[e.obj]) {
        reach[e.obj] = true;
        todo.push_back(e.obj);
      }
    }
    while (!todo.empty()) {
      int o = todo.back();
      todo.pop_back();
      for (const ModelMessage& m : objs_[o].inbox) {
        for (const HandleRef& r : m.handles) {
          if (!reach[r.obj]) {
            reach[r.obj] = true;
            todo.push_back(r.obj);
          }
        }
      }
    }
    return reach;
  }

  // Handles to |obj| in the pool plus references in inboxes.
  size_t RefCount(int obj) const {
    size_t n = 0;
    for (const Entry& e : pool_) n += e.obj == obj;
    for (const Object& o : objs_) {
      for (const ModelMessage& m : o.inbox) {
        for (const HandleRef& r : m.handles) n += r.obj == obj;
      }
    }
    return n;
  }

  Peer PeerOf(int obj) const {
    const int p = objs_[obj].peer;
    if (Reachable()[p]) return Peer::kOpen;
    if (objs_[p].closed && !objs_[p].lost) return Peer::kClosed;
    return Peer::kUnknown;
  }

  bool Pressured(int obj) const {
    const Object& o = objs_[obj];
    return o.blocked || o.inbox_bytes >= kQuietBytes || o.inbox.size() >= kQuietMessages;
  }

  int PoolIndexOf(int obj) const {
    for (size_t i = 0; i < pool_.size(); ++i) {
      if (pool_[i].obj == obj) return static_cast<int>(i);
    }
    return -1;
  }

  bool InPool(mx_handle_t value) const {
    for (const Entry& e : pool_) {
      if (e.value == value) return true;
    }
    return false;
  }

  // ---- Model updates ---------------------------------------------------------------------------

  int NewObject(Kind kind, mx_koid_t koid) {
    objs_.push_back(Object{});
    objs_.back().kind = kind;
    objs_.back().koid = koid;
    return static_cast<int>(objs_.size() - 1);
  }

  void PopFront(int obj) {
    Object& o = objs_[obj];
    o.inbox_bytes -= o.inbox.front().bytes.size();
    o.inbox.pop_front();
    if (o.inbox.empty()) o.blocked = false;
  }

  // The inbox's messages are discarded: everything they carry is lost.
  void DropInbox(int obj) {
    std::deque<ModelMessage> dropped;
    dropped.swap(objs_[obj].inbox);
    objs_[obj].inbox_bytes = 0;
    objs_[obj].blocked = false;
    for (const ModelMessage& m : dropped) {
      for (const HandleRef& r : m.handles) LoseRef(r.obj);
    }
  }

  // A reference to |obj| was discarded by libmx (with a message).
  void LoseRef(int obj) {
    objs_[obj].lost = true;
    if (objs_[obj].kind == Kind::kChannel && RefCount(obj) == 0) DropInbox(obj);
  }

  // The program closed a handle to |obj| (or had the responder close one).
  void CloseRef(int obj) {
    if (RefCount(obj) != 0) return;
    objs_[obj].closed = true;
    if (objs_[obj].kind == Kind::kChannel) DropInbox(obj);
  }

  // Drops the inboxes nobody can read any more (see the top of the file).
  void Normalize() {
    for (bool changed = true; changed;) {
      changed = false;
      std::vector<bool> reach = Reachable();
      for (size_t i = 0; i < objs_.size(); ++i) {
        if (!reach[i] && !objs_[i].inbox.empty()) {
          if (!objs_[i].closed) objs_[i].lost = true;
          DropInbox(static_cast<int>(i));
          changed = true;
        }
      }
    }
  }

  // ---- Checks shared by operations -------------------------------------------------------------

  // |e| is live with its koid and rights.
  void CheckLive(const Entry& e) {
    mx_info_handle_basic_t info;
    SEQ_CHECK(BasicInfo(e.value, &info), "handle %d is not live", e.value);
    SEQ_CHECK(info.koid == objs_[e.obj].koid, "handle %d names koid %llu, expected %llu", e.value,
              static_cast<unsigned long long>(info.koid),
              static_cast<unsigned long long>(objs_[e.obj].koid));
    SEQ_CHECK(info.rights == e.rights, "handle %d has rights %#x, expected %#x", e.value,
              info.rights, e.rights);
  }

  void CheckGone(mx_handle_t value) {
    mx_info_handle_basic_t info;
    SEQ_CHECK(!BasicInfo(value, &info), "handle %d is still live after it was moved or closed",
              value);
  }

  // A handle that arrived (read, call reply): live, the right object, type and rights, a value
  // no other pool handle has. Appends it to the pool.
  void Adopt(const HandleRef& ref, mx_handle_t value) {
    const Object& o = objs_[ref.obj];
    SEQ_CHECK(value != MX_HANDLE_INVALID, "received MX_HANDLE_INVALID");
    SEQ_CHECK(!InPool(value), "received value %d, which a live handle already has", value);
    mx_info_handle_basic_t info;
    SEQ_CHECK(BasicInfo(value, &info), "received handle %d is not live", value);
    SEQ_CHECK(info.type == TypeOf(o.kind), "received handle has type %u, expected %u", info.type,
              TypeOf(o.kind));
    SEQ_CHECK(info.koid == o.koid, "received koid %llu, expected %llu",
              static_cast<unsigned long long>(info.koid), static_cast<unsigned long long>(o.koid));
    const mx_rights_t rights = ref.rights & DefaultRights(o.kind);
    SEQ_CHECK(info.rights == rights, "received rights %#x, expected %#x", info.rights, rights);
    if (o.kind == Kind::kChannel) {
      SEQ_CHECK(info.related_koid == objs_[o.peer].koid, "received endpoint's peer koid is wrong");
    }
    pool_.push_back({value, ref.obj, rights});
  }

  SendExpect ExpectSend(const Entry& w, mx_rights_t need, size_t num_bytes, uint32_t num_handles,
                        const std::vector<size_t>& idx) const {
    SendExpect ex;
    if ((w.rights & need) != need) {
      ex.error = MX_ERR_ACCESS_DENIED;
    } else if (objs_[w.obj].kind != Kind::kChannel) {
      ex.error = MX_ERR_WRONG_TYPE;
    } else if (num_bytes > MX_CHANNEL_MAX_MSG_BYTES || num_handles > MX_CHANNEL_MAX_MSG_HANDLES) {
      ex.error = MX_ERR_OUT_OF_RANGE;
    }
    if (ex.error != MX_OK) return ex;
    for (size_t i : idx) {
      if (pool_[i].value == w.value) {
        ex.error = MX_ERR_NOT_SUPPORTED;
      } else if (!(pool_[i].rights & MX_RIGHT_TRANSFER)) {
        ex.error = MX_ERR_ACCESS_DENIED;
      }
      if (ex.error != MX_OK) return ex;
    }
    for (size_t a = 0; a < idx.size(); ++a) {
      for (size_t b = a + 1; b < idx.size(); ++b) {
        if (idx[a] == idx[b]) ex.error = MX_ERR_INVALID_ARGS;
      }
    }
    if (ex.error != MX_OK) return ex;
    switch (PeerOf(w.obj)) {
      case Peer::kClosed:
        ex.error = MX_ERR_PEER_CLOSED;
        break;
      case Peer::kUnknown:
        ex.may_peer_closed = true;
        break;
      case Peer::kOpen:
        break;
    }
    // A lost peer (unreachable, e.g. sent into its own channel) still takes messages until the
    // kernel's garbage collector closes it, and they pile up unread: the model drops them (no
    // one can read them), so it cannot tell how full the channel is. Found by the fuzzer: the
    // ninth 62 KiB write after the peer went into its own channel returned SHOULD_WAIT.
    ex.may_block = Pressured(objs_[w.obj].peer) || objs_[objs_[w.obj].peer].lost;
    return ex;
  }

  // After a send that must not have happened: every handle is still there, unchanged.
  void CheckKept(const Entry& w, const std::vector<size_t>& idx) {
    CheckLive(w);
    for (size_t i : idx) {
      if (failed()) return;
      CheckLive(pool_[i]);
    }
  }

  // The send succeeded: the handles left the pool and the message joined the peer's inbox.
  void Sent(const Entry& w, const std::vector<size_t>& idx, std::vector<uint8_t> bytes) {
    ModelMessage m;
    m.bytes = std::move(bytes);
    std::vector<mx_handle_t> moved;
    for (size_t i : idx) {
      m.handles.push_back({pool_[i].obj, pool_[i].rights});
      moved.push_back(pool_[i].value);
    }
    pool_.erase(std::remove_if(pool_.begin(), pool_.end(),
                               [&](const Entry& e) {
                                 return std::find(moved.begin(), moved.end(), e.value) !=
                                        moved.end();
                               }),
                pool_.end());
    for (mx_handle_t v : moved) {
      dead_.push_back(v);
      CheckGone(v);
    }
    written_ += m.bytes.size();
    if (stats_ != nullptr) {
      stats_->messages_written++;
      stats_->handles_moved += moved.size();
    }
    Object& p = objs_[objs_[w.obj].peer];
    p.inbox_bytes += m.bytes.size();
    p.inbox.push_back(std::move(m));
  }

  // Checks a send's status against |ex| and updates the model. |sent_status| is the status that
  // means the message left (OK for a write, TIMED_OUT for a call with a past deadline).
  void SettleSend(const Entry& w, const std::vector<size_t>& idx, std::vector<uint8_t> bytes,
                  const SendExpect& ex, mx_status_t st, mx_status_t sent_status,
                  mx_status_t read_status, const char* what) {
    Trace(Format("%s on %d: %zu bytes, %zu handles -> %s", what, w.value, bytes.size(), idx.size(),
                 StatusName(st)));
    if (ex.error == MX_ERR_PEER_CLOSED && idx.empty() && !StrictMode() &&
        (st == sent_status || (st == MX_ERR_CALL_FAILED && read_status == MX_ERR_PEER_CLOSED))) {
      // KNOWN LIMIT (docs/design.md, "Peer death"): a handle-free message goes into the
      // shared-memory ring; a reader that closed in order says so in the ring, and until it has
      // mapped the ring every write asks the kernel, but a reader that went away otherwise
      // (its process died, or its endpoint was destroyed inside an unread message) is noticed
      // by the writer's look at the socket on every 64th write. Until then a write returns
      // MX_OK and the message is dropped unseen. MX_SEQ_STRICT=1 makes it a violation.
      Trace("tolerated: a write to a closed peer succeeded (known bug)");
      if (stats_ != nullptr) stats_->known_bug_writes++;
      return;
    }
    if (ex.error != MX_OK) {
      SEQ_STATUS(st, ex.error, what);
      if (stats_ != nullptr) stats_->expected_errors++;
      CheckKept(w, idx);
      return;
    }
    if (st == MX_ERR_SHOULD_WAIT) {
      SEQ_CHECK(ex.may_block, "%s returned SHOULD_WAIT with %zu bytes in %zu messages queued", what,
                objs_[objs_[w.obj].peer].inbox_bytes, objs_[objs_[w.obj].peer].inbox.size());
      objs_[objs_[w.obj].peer].blocked = true;
      if (stats_ != nullptr) stats_->should_wait++;
      CheckKept(w, idx);
      return;
    }
    if (st == MX_ERR_PEER_CLOSED) {
      SEQ_CHECK(ex.may_peer_closed, "%s returned PEER_CLOSED with the peer open", what);
      CheckKept(w, idx);
      return;
    }
    if (st == MX_ERR_CALL_FAILED && ex.may_peer_closed && read_status == MX_ERR_PEER_CLOSED) {
      Sent(w, idx, std::move(bytes));  // the request left, then the peer was found gone
      return;
    }
    SEQ_STATUS(st, sent_status, what);
    Sent(w, idx, std::move(bytes));
  }

  // Reads the oldest message at pool_[index] and compares it with the model. |mode| as for kOpRead.
  void ReadAt(size_t index, uint8_t mode) {
    const Entry r = pool_[index];
    Object& o = objs_[r.obj];
    const ModelMessage* front = nullptr;
    if (o.kind == Kind::kChannel && !o.inbox.empty()) front = &o.inbox.front();
    uint32_t cap_bytes = MX_CHANNEL_MAX_MSG_BYTES, cap_handles = MX_CHANNEL_MAX_MSG_HANDLES;
    bool too_small = false;
    if (front != nullptr) {
      cap_bytes = static_cast<uint32_t>(front->bytes.size());
      cap_handles = static_cast<uint32_t>(front->handles.size());
      if ((mode & 1) && cap_bytes > 0) {
        --cap_bytes;
        too_small = true;
      }
      if ((mode & 2) && cap_handles > 0) {
        --cap_handles;
        too_small = true;
      }
    }
    const uint32_t options = (mode & 4) ? MX_CHANNEL_READ_MAY_DISCARD : 0;
    std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max<uint32_t>(cap_bytes, 1)]);
    std::vector<mx_handle_t> hs(std::max<uint32_t>(cap_handles, 1), MX_HANDLE_INVALID);
    uint32_t actual_bytes = 0xFFFFFFFF, actual_handles = 0xFFFFFFFF;
    mx_status_t st = mx_channel_read(r.value, options, buf.get(), hs.data(), cap_bytes, cap_handles,
                                     &actual_bytes, &actual_handles);
    Trace(Format("read on %d (mode %#x) -> %s, %u bytes, %u handles", r.value, mode, StatusName(st),
                 actual_bytes, actual_handles));
    if (o.kind != Kind::kChannel) {
      SEQ_STATUS(st, MX_ERR_WRONG_TYPE, "read");
      return;
    }
    if (front == nullptr) {
      switch (PeerOf(r.obj)) {
        case Peer::kOpen:
          SEQ_STATUS(st, MX_ERR_SHOULD_WAIT, "read of an empty endpoint");
          break;
        case Peer::kClosed:
          SEQ_STATUS(st, MX_ERR_PEER_CLOSED, "read, peer closed");
          break;
        case Peer::kUnknown:
          SEQ_CHECK(st == MX_ERR_SHOULD_WAIT || st == MX_ERR_PEER_CLOSED,
                    "read of an empty endpoint returned %s", StatusName(st));
          break;
      }
      return;
    }
    SEQ_CHECK(st == (too_small ? MX_ERR_BUFFER_TOO_SMALL : MX_OK),
              "read returned %s with %zu messages queued (the oldest: %zu bytes, %zu handles)",
              StatusName(st), o.inbox.size(), front->bytes.size(), front->handles.size());
    SEQ_CHECK(actual_bytes == front->bytes.size() && actual_handles == front->handles.size(),
              "read reports %u bytes %u handles, expected the oldest message: %zu bytes %zu "
              "handles",
              actual_bytes, actual_handles, front->bytes.size(), front->handles.size());
    if (too_small) {
      if (options & MX_CHANNEL_READ_MAY_DISCARD) {
        ModelMessage m = std::move(o.inbox.front());
        PopFront(r.obj);
        for (const HandleRef& ref : m.handles) LoseRef(ref.obj);
      }
      return;
    }
    SEQ_CHECK(
        front->bytes.empty() || memcmp(buf.get(), front->bytes.data(), front->bytes.size()) == 0,
        "read returned different bytes than the oldest message (%zu bytes, serial %u)",
        front->bytes.size(), front->bytes.size() >= 8 ? front->bytes[4] : 0u);
    ModelMessage m = std::move(o.inbox.front());
    PopFront(r.obj);
    if (stats_ != nullptr) stats_->messages_read++;
    for (size_t i = 0; i < m.handles.size(); ++i) {
      Adopt(m.handles[i], hs[i]);
      if (failed()) return;
    }
  }

  // Waits with deadline 0 on |e| and compares the signals with the model.
  void CheckWait(const Entry& e) {
    mx_signals_t observed = 0;
    mx_status_t st = mx_object_wait_one(e.value, kWaitAll, 0, &observed);
    Trace(Format("wait on %d -> %s, observed %#x", e.value, StatusName(st), observed));
    const Object& o = objs_[e.obj];
    if (o.kind == Kind::kFd) {
      SEQ_STATUS(st, MX_ERR_NOT_SUPPORTED, "wait on an fd handle");
      return;
    }
    SEQ_STATUS(st, (observed & kWaitAll) ? MX_OK : MX_ERR_TIMED_OUT, "wait");
    if (o.kind == Kind::kEvent) {
      SEQ_CHECK((observed & MX_EVENT_SIGNAL_MASK) == o.event_signals,
                "event signals %#x, expected %#x", observed & MX_EVENT_SIGNAL_MASK,
                o.event_signals);
      if (!o.lost) {
        const bool last = RefCount(e.obj) == 1;
        SEQ_CHECK(((observed & MX_SIGNAL_LAST_HANDLE) != 0) == last,
                  "event LAST_HANDLE is %d with %zu handles",
                  (observed & MX_SIGNAL_LAST_HANDLE) != 0, RefCount(e.obj));
      }
      return;
    }
    const bool readable = (observed & MX_CHANNEL_READABLE) != 0;
    SEQ_CHECK(readable == !o.inbox.empty(), "READABLE is %d with %zu messages queued", readable,
              o.inbox.size());
    SEQ_CHECK(observed & MX_SIGNAL_LAST_HANDLE, "an endpoint without LAST_HANDLE");
    const bool peer_closed = (observed & MX_CHANNEL_PEER_CLOSED) != 0;
    const bool writable = (observed & MX_CHANNEL_WRITABLE) != 0;
    switch (PeerOf(e.obj)) {
      case Peer::kOpen:
        SEQ_CHECK(!peer_closed, "PEER_CLOSED with the peer open");
        SEQ_CHECK(writable || Pressured(o.peer), "not WRITABLE with %zu bytes queued at the peer",
                  objs_[o.peer].inbox_bytes);
        break;
      case Peer::kClosed:
        SEQ_CHECK(peer_closed, "no PEER_CLOSED after the peer was closed");
        SEQ_CHECK(!writable, "WRITABLE after the peer was closed");
        break;
      case Peer::kUnknown:
        break;
    }
    if (o.signals_exact) {
      SEQ_CHECK((observed & MX_USER_SIGNAL_ALL) == o.user_signals, "user signals %#x, expected %#x",
                observed & MX_USER_SIGNAL_ALL, o.user_signals);
    }
  }

  void CloseAt(size_t index) {
    const Entry e = pool_[index];
    mx_status_t st = mx_handle_close(e.value);
    Trace(Format("close %d -> %s", e.value, StatusName(st)));
    SEQ_STATUS(st, MX_OK, "close");
    SEQ_STATUS(mx_handle_close(e.value), MX_ERR_BAD_HANDLE, "closing a closed value");
    pool_.erase(pool_.begin() + static_cast<ptrdiff_t>(index));
    dead_.push_back(e.value);
    CloseRef(e.obj);
  }

  // Reads every message the model holds for endpoints in the pool (and those they bring).
  void DrainAll() {
    for (bool progress = true; progress && !failed();) {
      progress = false;
      for (size_t i = 0; i < pool_.size() && !failed(); ++i) {
        if (objs_[pool_[i].obj].kind == Kind::kChannel && !objs_[pool_[i].obj].inbox.empty()) {
          ReadAt(i, 0);
          progress = true;
        }
      }
    }
  }

  // ---- Operations ------------------------------------------------------------------------------

  void Dispatch() {
    switch (op_) {
      case kOpCreateChannel:
        return OpCreateChannel();
      case kOpCreateEvent:
        return OpCreateEvent();
      case kOpCreatePipe:
        return OpCreatePipe();
      case kOpWrite:
        return OpWrite();
      case kOpRead:
        return OpRead();
      case kOpCallReply:
        return OpCall(/*reply=*/true);
      case kOpCallTimeout:
        return OpCall(/*reply=*/false);
      case kOpClose:
        return OpClose();
      case kOpWait:
        return OpWait();
      case kOpSignal:
        return OpSignal();
      case kOpSignalPeer:
        return OpSignalPeer();
      case kOpDuplicate:
        return OpDuplicate();
      case kOpReplace:
        return OpReplace();
      case kOpCheckFd:
        return OpCheckFd();
      case kOpStale:
        return OpStale();
    }
  }

  void OpCreateChannel() {
    if (creates_ >= kMaxCreates) return;
    ++creates_;
    mx_handle_t a, b;
    mx_status_t st = mx_channel_create(0, &a, &b);
    SEQ_STATUS(st, MX_OK, "channel_create");
    mx_info_handle_basic_t ia, ib;
    SEQ_CHECK(BasicInfo(a, &ia) && BasicInfo(b, &ib), "new endpoints are not live");
    SEQ_CHECK(ia.related_koid == ib.koid && ib.related_koid == ia.koid,
              "new endpoints do not name each other");
    SEQ_CHECK(!InPool(a) && !InPool(b) && a != b, "channel_create returned a live value");
    int oa = NewObject(Kind::kChannel, ia.koid), ob = NewObject(Kind::kChannel, ib.koid);
    objs_[oa].peer = ob;
    objs_[ob].peer = oa;
    pool_.push_back({a, oa, MX_DEFAULT_CHANNEL_RIGHTS});
    pool_.push_back({b, ob, MX_DEFAULT_CHANNEL_RIGHTS});
    Trace(Format("-> %d, %d", a, b));
  }

  void OpCreateEvent() {
    if (creates_ >= kMaxCreates) return;
    ++creates_;
    mx_handle_t ev;
    SEQ_STATUS(mx_event_create(0, &ev), MX_OK, "event_create");
    mx_info_handle_basic_t info;
    SEQ_CHECK(BasicInfo(ev, &info), "new event is not live");
    SEQ_CHECK(!InPool(ev), "event_create returned a live value");
    pool_.push_back({ev, NewObject(Kind::kEvent, info.koid), MX_DEFAULT_EVENT_RIGHTS});
    Trace(Format("-> %d", ev));
  }

  // Wraps |fd| (one end of the pipe |st|) and appends the handle.
  void WrapFd(int fd, const struct stat& st, bool write_end, int* pool_slot) {
    mx_handle_t h;
    mx_status_t status = mx_fd_wrap(fd, &h);
    if (status != MX_OK) close(fd);
    SEQ_STATUS(status, MX_OK, "fd_wrap");
    mx_info_handle_basic_t info;
    SEQ_CHECK(BasicInfo(h, &info), "wrapped fd is not live");
    SEQ_CHECK(!InPool(h), "fd_wrap returned a live value");
    int obj = NewObject(Kind::kFd, info.koid);
    objs_[obj].dev = st.st_dev;
    objs_[obj].ino = st.st_ino;
    objs_[obj].write_end = write_end;
    Entry e = {h, obj, MX_DEFAULT_FD_RIGHTS};
    if (pool_slot != nullptr) {
      pool_[*pool_slot] = e;
    } else {
      pool_.push_back(e);
    }
  }

  void OpCreatePipe() {
    if (creates_ >= kMaxCreates) return;
    ++creates_;
    int p[2];
    SEQ_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2 failed");
    struct stat st;
    SEQ_CHECK(fstat(p[0], &st) == 0, "fstat failed");
    WrapFd(p[0], st, false, nullptr);
    if (failed()) {
      close(p[1]);
      return;
    }
    WrapFd(p[1], st, true, nullptr);
  }

  std::vector<size_t> Resolve(const std::vector<uint8_t>& sels) const {
    std::vector<size_t> idx;
    for (uint8_t s : sels) idx.push_back(s % pool_.size());
    return idx;
  }

  std::vector<mx_handle_t> Values(const std::vector<size_t>& idx, uint32_t count) const {
    std::vector<mx_handle_t> values(std::max<size_t>(count, 1), MX_HANDLE_INVALID);
    for (size_t i = 0; i < idx.size(); ++i) values[i] = pool_[idx[i]].value;
    return values;
  }

  void OpWrite() {
    const uint8_t h = Next(), size = Next(), tag = Next();
    uint32_t count;
    std::vector<uint8_t> sels = NextList(&count);
    if (pool_.empty()) return;
    const Entry w = pool_[h % pool_.size()];
    const std::vector<size_t> idx = Resolve(sels);
    std::vector<uint8_t> bytes = Payload(size, tag % 4, 0);
    const SendExpect ex = ExpectSend(w, MX_RIGHT_WRITE, bytes.size(), count, idx);
    std::vector<mx_handle_t> values = Values(idx, count);
    mx_status_t st = mx_channel_write(w.value, 0, bytes.data(), static_cast<uint32_t>(bytes.size()),
                                      values.data(), count);
    SettleSend(w, idx, std::move(bytes), ex, st, MX_OK, MX_OK, "write");
  }

  void OpRead() {
    const uint8_t h = Next(), mode = Next();
    if (pool_.empty()) return;
    ReadAt(h % pool_.size(), mode);
  }

  void OpCall(bool reply) {
    const uint8_t h = Next(), size = Next();
    uint32_t count;
    std::vector<uint8_t> sels = NextList(&count);
    const uint8_t mode = reply ? Next() : 0;
    if (pool_.empty()) return;
    const Entry c = pool_[h % pool_.size()];
    const std::vector<size_t> idx = Resolve(sels);
    // The responder can answer only if it can reach the peer and the request does not carry it.
    int peer_index = -1;
    if (reply && objs_[c.obj].kind == Kind::kChannel) {
      peer_index = PoolIndexOf(objs_[c.obj].peer);
      for (size_t i : idx) {
        if (pool_[i].obj == objs_[c.obj].peer) peer_index = -1;
      }
    }
    if (peer_index >= 0) {
      // The request must be the first message the responder finds: read what came before.
      const int peer = pool_[peer_index].obj;
      while (!objs_[peer].inbox.empty() && !failed()) ReadAt(static_cast<size_t>(peer_index), 0);
      if (failed()) return;
    }
    const uint32_t txid = (serial_ + 1) % 4;
    std::vector<uint8_t> bytes = Payload(size, txid, sizeof(txid));
    const SendExpect ex = ExpectSend(c, MX_RIGHT_READ | MX_RIGHT_WRITE, bytes.size(), count, idx);
    std::vector<mx_handle_t> values = Values(idx, count);
    const bool answer = peer_index >= 0 && ex.error == MX_OK && !ex.may_block &&
                        !ex.may_peer_closed && !Pressured(c.obj);
    const uint32_t reply_size = 4 + 64u * (mode >> 4);
    std::vector<uint8_t> rbuf(reply_size);
    std::vector<mx_handle_t> rhs(std::max<size_t>(idx.size(), 1), MX_HANDLE_INVALID);
    const bool echo = (mode & 4) != 0;
    mx_channel_call_args_t args = {};
    args.wr_bytes = bytes.data();
    args.wr_handles = values.data();
    args.wr_num_bytes = static_cast<uint32_t>(bytes.size());
    args.wr_num_handles = count;
    args.rd_bytes = rbuf.data();
    args.rd_handles = rhs.data();
    args.rd_num_bytes = reply_size - ((mode & 1) ? 1 : 0);
    args.rd_num_handles =
        static_cast<uint32_t>(idx.size()) - ((mode & 2) && idx.size() > 0 ? 1 : 0);
    const bool too_small = (mode & 1) || (echo && (mode & 2) && !idx.empty());
    uint32_t actual_bytes = 0, actual_handles = 0;
    mx_status_t read_status = MX_OK;
    if (!answer) {
      // Nobody answers: with a deadline already past, the call sends and times out.
      mx_status_t st =
          mx_channel_call(c.value, 0, 0, &args, &actual_bytes, &actual_handles, &read_status);
      if (st == MX_ERR_TIMED_OUT && stats_ != nullptr) stats_->calls_timed_out++;
      SettleSend(c, idx, std::move(bytes), ex, st, MX_ERR_TIMED_OUT, read_status, "call");
      return;
    }
    Responder::Job job;
    job.endpoint = pool_[peer_index].value;
    job.request = bytes;
    job.request_handles = count;
    job.reply_bytes = reply_size;
    job.echo = echo;
    Responder& responder = Responder::Get();
    responder.Start(std::move(job));
    mx_status_t st = mx_channel_call(c.value, 0, MX_TIME_INFINITE, &args, &actual_bytes,
                                     &actual_handles, &read_status);
    if (st != MX_OK && st != MX_ERR_CALL_FAILED) responder.Cancel();
    const std::string responder_error = responder.Finish();
    Trace(Format("call on %d with reply: %zu bytes, %zu handles -> %s (read_status %s)", c.value,
                 bytes.size(), idx.size(), StatusName(st), StatusName(read_status)));
    SEQ_CHECK(responder_error.empty(), "%s", responder_error.c_str());
    if (too_small) {
      SEQ_STATUS(st, MX_ERR_CALL_FAILED, "call with a short reply buffer");
      SEQ_STATUS(read_status, MX_ERR_BUFFER_TOO_SMALL, "call's read_status");
    } else {
      SEQ_STATUS(st, MX_OK, "call");
      SEQ_CHECK(actual_bytes == reply_size, "reply of %u bytes, expected %u", actual_bytes,
                reply_size);
      SEQ_CHECK(actual_handles == (echo ? idx.size() : 0), "reply with %u handles, expected %zu",
                actual_handles, echo ? idx.size() : 0);
      const std::vector<uint8_t> want = Responder::ReplyBytes(txid, reply_size);
      SEQ_CHECK(memcmp(rbuf.data(), want.data(), reply_size) == 0, "the reply's bytes differ");
      if (stats_ != nullptr) {
        stats_->calls_answered++;
        stats_->messages_read++;
      }
    }
    // The request left with its handles; they came back (echo), or were closed by the responder,
    // or were discarded with a reply too large for the buffers.
    std::vector<HandleRef> refs;
    for (size_t i : idx) refs.push_back({pool_[i].obj, pool_[i].rights});
    Sent(c, idx, std::move(bytes));
    Object& peer = objs_[objs_[c.obj].peer];
    peer.inbox_bytes -= peer.inbox.back().bytes.size();
    peer.inbox.pop_back();  // the responder took it
    if (stats_ != nullptr) stats_->messages_read++;
    for (size_t i = 0; i < refs.size() && !failed(); ++i) {
      if (!echo) {
        CloseRef(refs[i].obj);
      } else if (too_small) {
        LoseRef(refs[i].obj);
      } else {
        Adopt(refs[i], rhs[i]);
      }
    }
    if (echo && !too_small && stats_ != nullptr) stats_->handles_moved += refs.size();
  }

  void OpClose() {
    const uint8_t h = Next();
    if (pool_.empty()) return;
    CloseAt(h % pool_.size());
  }

  void OpWait() {
    const uint8_t h = Next();
    if (pool_.empty()) return;
    CheckWait(pool_[h % pool_.size()]);
  }

  void OpSignal() {
    const uint8_t h = Next(), c = Next(), s = Next(), extra = Next();
    if (pool_.empty()) return;
    const Entry e = pool_[h % pool_.size()];
    Object& o = objs_[e.obj];
    uint32_t clear = static_cast<uint32_t>(c) << 24, set = static_cast<uint32_t>(s) << 24;
    if (extra & 1) set |= MX_EVENT_SIGNALED;
    if (extra & 2) clear |= MX_EVENT_SIGNALED;
    if (extra & 4) set |= MX_SIGNAL_LAST_HANDLE;
    mx_status_t st = mx_object_signal(e.value, clear, set);
    Trace(Format("signal %d clear %#x set %#x -> %s", e.value, clear, set, StatusName(st)));
    const uint32_t allowed = o.kind == Kind::kEvent ? MX_EVENT_SIGNAL_MASK : MX_USER_SIGNAL_ALL;
    if (o.kind == Kind::kFd) {
      SEQ_STATUS(st, MX_ERR_ACCESS_DENIED, "signal on an fd handle");
    } else if (((clear | set) & ~allowed) != 0) {
      SEQ_STATUS(st, MX_ERR_INVALID_ARGS, "signal with bits outside the object's mask");
    } else {
      SEQ_STATUS(st, MX_OK, "signal");
      uint32_t& bits = o.kind == Kind::kEvent ? o.event_signals : o.user_signals;
      bits = (bits & ~clear) | set;
    }
  }

  void OpSignalPeer() {
    const uint8_t h = Next(), c = Next(), s = Next();
    if (pool_.empty()) return;
    const Entry e = pool_[h % pool_.size()];
    const uint32_t clear = static_cast<uint32_t>(c) << 24, set = static_cast<uint32_t>(s) << 24;
    mx_status_t st = mx_object_signal_peer(e.value, clear, set);
    Trace(Format("signal_peer %d clear %#x set %#x -> %s", e.value, clear, set, StatusName(st)));
    if (objs_[e.obj].kind != Kind::kChannel) {
      SEQ_STATUS(st, MX_ERR_ACCESS_DENIED, "signal_peer on a handle without SIGNAL_PEER");
      return;
    }
    const int peer = objs_[e.obj].peer;
    switch (PeerOf(e.obj)) {
      case Peer::kClosed:
        SEQ_STATUS(st, MX_ERR_PEER_CLOSED, "signal_peer, peer closed");
        return;
      case Peer::kUnknown:
        SEQ_CHECK(st == MX_OK || st == MX_ERR_PEER_CLOSED || st == MX_ERR_SHOULD_WAIT,
                  "signal_peer returned %s", StatusName(st));
        return;
      case Peer::kOpen:
        SEQ_CHECK(st == MX_OK || (st == MX_ERR_SHOULD_WAIT && Pressured(peer)),
                  "signal_peer returned %s", StatusName(st));
        break;
    }
    if (st != MX_OK) return;
    // The change travels in-band. A wait on the peer pulls it in if little is queued before it
    // and nothing queued before it carries handles (a wait may leave a message with fds in the
    // kernel, and the frames behind it with it, until it is read or fds allow); otherwise (or
    // when the peer is in flight) when it applies is not modelled.
    const int peer_index = PoolIndexOf(peer);
    Object& p = objs_[peer];
    const bool handles_ahead = std::any_of(
        p.inbox.begin(), p.inbox.end(), [](const ModelMessage& m) { return !m.handles.empty(); });
    if (peer_index < 0 || p.inbox_bytes >= kRefreshBytes || handles_ahead) {
      p.signals_exact = false;
      return;
    }
    p.user_signals = (p.user_signals & ~clear) | set;
    CheckWait(pool_[peer_index]);
  }

  void OpDuplicate() {
    const uint8_t h = Next();
    if (pool_.empty() || pool_.size() >= kMaxPool) return;
    const Entry e = pool_[h % pool_.size()];
    mx_handle_t dup = MX_HANDLE_INVALID;
    mx_status_t st = mx_handle_duplicate(e.value, MX_RIGHT_SAME_RIGHTS, &dup);
    Trace(Format("duplicate %d -> %s %d", e.value, StatusName(st), dup));
    if (!(e.rights & MX_RIGHT_DUPLICATE)) {
      SEQ_STATUS(st, MX_ERR_ACCESS_DENIED, "duplicate without DUPLICATE");
      return;
    }
    SEQ_STATUS(st, MX_OK, "duplicate");
    SEQ_CHECK(!InPool(dup), "duplicate returned a live value");
    pool_.push_back({dup, e.obj, e.rights});
    CheckLive(pool_.back());
  }

  void OpReplace() {
    const uint8_t h = Next(), mode = Next();
    if (pool_.empty()) return;
    const size_t index = h % pool_.size();
    const Entry e = pool_[index];
    const mx_rights_t rights = (mode & 1) ? (e.rights & ~MX_RIGHT_TRANSFER) : MX_RIGHT_SAME_RIGHTS;
    mx_handle_t fresh = MX_HANDLE_INVALID;
    mx_status_t st = mx_handle_replace(e.value, rights, &fresh);
    Trace(Format("replace %d rights %#x -> %s %d", e.value, rights, StatusName(st), fresh));
    SEQ_STATUS(st, MX_OK, "replace");
    SEQ_CHECK(fresh != e.value && !InPool(fresh), "replace returned a live value");
    CheckGone(e.value);
    dead_.push_back(e.value);
    pool_[index].value = fresh;
    if (mode & 1) pool_[index].rights = rights;
    CheckLive(pool_[index]);
  }

  // Unwraps pool_[index] (an fd handle), checks the file, returns the fd (-1 after a failure).
  int Unwrap(size_t index) {
    const Entry e = pool_[index];
    const Object& o = objs_[e.obj];
    int fd = -1;
    mx_status_t st = mx_fd_unwrap(e.value, &fd);
    Trace(Format("unwrap %d -> %s fd %d", e.value, StatusName(st), fd));
    if (st != MX_OK || fd < 0) {
      Fail(__LINE__, "st == MX_OK", Format("fd_unwrap returned %s", StatusName(st)));
      return -1;
    }
    struct stat sb;
    const int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    if (fstat(fd, &sb) != 0 || sb.st_dev != o.dev || sb.st_ino != o.ino || fl < 0 ||
        (fl & O_ACCMODE) != (o.write_end ? O_WRONLY : O_RDONLY) || fdfl < 0 ||
        !(fdfl & FD_CLOEXEC)) {
      close(fd);
      Fail(__LINE__, "same file", Format("unwrapped fd %d is not the pipe end wrapped", fd));
      return -1;
    }
    dead_.push_back(e.value);
    CheckGone(e.value);
    return fd;
  }

  void OpCheckFd() {
    const uint8_t h = Next();
    if (pool_.empty()) return;
    const size_t index = h % pool_.size();
    const Entry e = pool_[index];
    if (objs_[e.obj].kind != Kind::kFd) {
      int fd = -1;
      SEQ_STATUS(mx_fd_unwrap(e.value, &fd), MX_ERR_WRONG_TYPE, "fd_unwrap of another type");
      CheckLive(e);
      return;
    }
    // The other end of the same pipe, if the program holds it.
    int other = -1;
    for (size_t i = 0; i < pool_.size(); ++i) {
      const Object& o = objs_[pool_[i].obj];
      if (o.kind == Kind::kFd && o.ino == objs_[e.obj].ino && o.dev == objs_[e.obj].dev &&
          o.write_end != objs_[e.obj].write_end) {
        other = static_cast<int>(i);
        break;
      }
    }
    const Object first = objs_[e.obj];
    const int fd = Unwrap(index);
    if (failed()) return;
    int fd2 = -1;
    Object second;
    if (other >= 0) {
      second = objs_[pool_[other].obj];
      fd2 = Unwrap(static_cast<size_t>(other));
      if (failed()) {
        close(fd);
        return;
      }
      const int wfd = first.write_end ? fd : fd2, rfd = first.write_end ? fd2 : fd;
      const uint8_t out = static_cast<uint8_t>(serial_++);
      uint8_t in = static_cast<uint8_t>(~out);
      const bool moved = write(wfd, &out, 1) == 1 && read(rfd, &in, 1) == 1 && in == out;
      if (!moved) {
        close(fd);
        close(fd2);
      }
      SEQ_CHECK(moved, "a byte written into the pipe did not come out of its read end");
    }
    // Wrap again in place: new objects (fresh koids) for the same files.
    const int old_obj = e.obj;
    struct stat sb = {};
    sb.st_dev = first.dev;
    sb.st_ino = first.ino;
    int slot = static_cast<int>(index);
    WrapFd(fd, sb, first.write_end, &slot);
    if (failed()) {
      if (fd2 >= 0) close(fd2);
      return;
    }
    CloseRef(old_obj);
    if (other >= 0) {
      const int old_other = pool_[other].obj;
      WrapFd(fd2, sb, second.write_end, &other);
      if (failed()) return;
      CloseRef(old_other);
    }
  }

  void OpStale() {
    const uint8_t i = Next(), which = Next();
    if (dead_.empty()) return;
    const mx_handle_t v = dead_[i % dead_.size()];
    if (InPool(v)) return;  // only after 4,096 reuses of one slot
    mx_status_t st = MX_OK;
    const char* what = "";
    switch (which % 4) {
      case 0:
        st = mx_handle_close(v);
        what = "close of a stale value";
        break;
      case 1:
        st = mx_object_wait_one(v, kWaitAll, 0, nullptr);
        what = "wait on a stale value";
        break;
      case 2:
        st = mx_channel_write(v, 0, "x", 1, nullptr, 0);
        what = "write on a stale value";
        break;
      case 3: {
        int ch = -1;
        for (size_t k = 0; k < pool_.size() && ch < 0; ++k) {
          if (objs_[pool_[k].obj].kind == Kind::kChannel) ch = static_cast<int>(k);
        }
        if (ch < 0) return;
        st = mx_channel_write(pool_[ch].value, 0, "x", 1, &v, 1);
        what = "sending a stale value";
        break;
      }
    }
    Trace(Format("%s %d -> %s", what, v, StatusName(st)));
    SEQ_STATUS(st, MX_ERR_BAD_HANDLE, what);
    if (stats_ != nullptr) stats_->expected_errors++;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  SequenceStats* stats_;
  uint8_t op_ = 0;
  size_t op_index_ = 0;
  std::vector<Object> objs_;
  std::vector<Entry> pool_;
  std::vector<mx_handle_t> dead_;  // values this program closed, sent or replaced
  uint32_t serial_ = 0;
  size_t written_ = 0;
  size_t creates_ = 0;
  std::string error_;
};

// Makes every piece of lazily created per-process and per-thread libmx state (thread wakers, the
// responder) exist before a program counts fds, by running one program that touches it all.
void WarmUp() {
  static const bool done = [] {
    Responder::Get();
    SequenceWriter w;
    w.CreateChannel().CreateEvent().CreatePipe();       // pool: ch0 ch1 ev r w
    w.Write(0, 16, 1, {2, 3}).Read(1).Wait(0).Wait(1);  // ev and r travel: ch0 ch1 w ev r
    w.CallReply(0, 8, {2}, 4).CallTimeout(0, 8, {}).Read(1);
    w.Wait(2).CheckFd(3).Signal(2, 0, 1, 1).SignalPeer(0, 0, 1);
    std::string error = Runner(w.bytes().data(), w.bytes().size(), nullptr).Run(false);
    if (!error.empty()) {
      fprintf(stderr, "sequence warm-up failed: %s\n", error.c_str());
      abort();
    }
    return true;
  }();
  (void)done;
}

}  // namespace

std::string RunSequence(const uint8_t* data, size_t size, SequenceStats* stats) {
  WarmUp();
  return Runner(data, size, stats).Run(true);
}

}  // namespace mx_fuzz
