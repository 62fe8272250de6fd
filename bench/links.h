// SPDX-License-Identifier: BSD-3-Clause
// bench/links.h: one "link" per mechanism, the same interface on both sides of a two-process
// scenario, so every scenario drives libmx and every baseline through identical code.
//
// A link sends and receives whole messages. Every message starts with a Hdr (txid, op, value);
// scenarios never send fewer than sizeof(Hdr) bytes. Every blocking step honours the link's
// deadline (libmx and spin loops directly; sockets through SO_RCVTIMEO/SO_SNDTIMEO and the
// harness watchdog; ZeroMQ/nng through their own timeouts), and throws BenchError past it.
//
// Mechanisms (Mech): libmx with mx_channel_call, libmx with write/wait/read, a pipe pair, an
// AF_UNIX SOCK_SEQPACKET socketpair blocking or busy-polling (MSG_DONTWAIT spin), a shared-memory
// ring pair with spinning on both sides, ZeroMQ PAIR over ipc://, nng pair0 over ipc://, sd-bus
// peer-to-peer on a socketpair (peer_sdbus.h), iceoryx publish/subscribe (peer_iceoryx.h).
#pragma once

#include <immintrin.h>
#include <magenta/fd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <memory>

#include "harness.h"
#include "peer_iceoryx.h"
#include "peer_sdbus.h"
#include "peers.h"

namespace mxb {

enum class Mech { kMxCall, kMxRw, kPipe, kSeq, kSeqSpin, kShm, kZmq, kNng, kSdBus, kIceoryx };

struct MechInfo {
  Mech mech;
  const char* name;   // command line / file names
  const char* label;  // table
};

inline constexpr MechInfo kMechs[] = {
    {Mech::kMxCall, "mx_call", "libmx `mx_channel_call`"},
    {Mech::kMxRw, "mx_rw", "libmx write/wait/read"},
    {Mech::kPipe, "pipe", "pipe pair, blocking"},
    {Mech::kSeq, "seqpacket", "SEQPACKET socketpair, blocking"},
    {Mech::kSeqSpin, "seqpacket_spin", "SEQPACKET socketpair, busy-poll"},
    {Mech::kShm, "shm_spin", "shared-memory ring, spinning (floor)"},
    {Mech::kZmq, "zmq", "ZeroMQ PAIR, ipc://"},
    {Mech::kNng, "nng", "nng pair0 (buffers 1000 msgs), ipc://"},
    {Mech::kSdBus, "sdbus", "sd-bus peer-to-peer, socketpair"},
    {Mech::kIceoryx, "iceoryx", "iceoryx publish/subscribe, RouDi"},
};

inline const MechInfo& Info(Mech m) {
  for (auto& i : kMechs) {
    if (i.mech == m) return i;
  }
  return kMechs[0];
}

inline Mech MechByName(const std::string& n) {
  for (auto& i : kMechs) {
    if (n == i.name) return i.mech;
  }
  Fail("unknown mechanism %s", n.c_str());
}

// What a message may carry besides bytes (handle-transfer scenario).
enum class HandleKind { kNone = 0, kFd = 1, kChannel = 2 };

enum Op : uint32_t { kOpData = 0, kOpEnd = 1, kOpQuit = 2, kOpAck = 3 };

struct Hdr {
  uint32_t txid;
  uint32_t op;
  uint64_t value;
};

// How long a spinner spins before it starts yielding its vCPU (sched_yield) on every turn. On an
// idle machine the peer answers long before this; when both spinners share one vCPU (this VM has
// two, shared with other work) pure spinning would make every hand-off wait for a time slice.
constexpr uint64_t kSpinBeforeYield = 50000;  // ns

// One wait of a spin loop. Turn() once per unsuccessful poll: pause (or yield, past
// kSpinBeforeYield), and every |check_every| turns look at the clock; past the deadline it throws.
class Spinner {
 public:
  Spinner(uint64_t deadline, const char* what, unsigned check_every)
      : deadline_(deadline), what_(what), check_every_(check_every) {}
  void Turn() {
    if (++turns_ % check_every_ == 0) {
      uint64_t now = NowNs();
      if (start_ == 0) start_ = now;
      if (now >= deadline_) Fail("%s: deadline passed", what_);
      yield_ = now - start_ >= kSpinBeforeYield;
    }
    if (yield_) {
      sched_yield();
    } else {
      _mm_pause();
    }
  }

 private:
  uint64_t deadline_;
  const char* what_;
  unsigned check_every_;
  unsigned turns_ = 0;
  uint64_t start_ = 0;
  bool yield_ = false;
};

class Link {
 public:
  virtual ~Link() = default;
  void SetDeadline(uint64_t deadline) { deadline_ = deadline; }
  void SetHandleKind(HandleKind k) { handle_kind_ = k; }

  // Sends |n| bytes; with |with_handle|, the message also carries one new handle of the link's
  // HandleKind (the link makes it: a fresh channel / socketpair end, or a dup of an fd).
  virtual void Send(const void* buf, size_t n, bool with_handle = false) = 0;
  // Receives one message (at most |cap| bytes), closes the handles it carried, returns its size.
  // Throws PeerGone when the peer closed.
  virtual size_t Recv(void* buf, size_t cap) = 0;
  // One request/reply round trip.
  virtual size_t Call(const void* req, size_t n, void* rep, size_t cap) {
    Send(req, n);
    return Recv(rep, cap);
  }

 protected:
  uint64_t deadline_ = UINT64_MAX;
  HandleKind handle_kind_ = HandleKind::kNone;
};

// An fd whose dups travel in the fd-transfer scenario.
inline int DevNull() {
  static int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

// ---- libmx ------------------------------------------------------------------------------------

class MxLink : public Link {
 public:
  MxLink(mx_handle_t h, bool use_call) : h_(h), use_call_(use_call) {}
  ~MxLink() override { mx_handle_close(h_); }

  void Send(const void* buf, size_t n, bool with_handle) override {
    mx_handle_t extra = MX_HANDLE_INVALID, other = MX_HANDLE_INVALID;
    if (with_handle) {
      if (handle_kind_ == HandleKind::kChannel) {
        CheckMx(mx_channel_create(0, &extra, &other), "mx_channel_create");
      } else {
        int fd = dup(DevNull());
        if (fd < 0) FailErrno("dup");
        CheckMx(mx_fd_wrap(fd, &extra), "mx_fd_wrap");
      }
    }
    for (;;) {
      mx_status_t st = mx_channel_write(h_, 0, buf, static_cast<uint32_t>(n), &extra,
                                        extra != MX_HANDLE_INVALID ? 1 : 0);
      if (st == MX_OK) break;
      if (st == MX_ERR_SHOULD_WAIT) {
        mx_signals_t seen = 0;
        st = mx_object_wait_one(h_, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED, deadline_, &seen);
        if (st == MX_OK && !(seen & MX_CHANNEL_PEER_CLOSED)) continue;
      }
      mx_handle_close(extra);
      mx_handle_close(other);
      if (st == MX_ERR_PEER_CLOSED) throw PeerGone("mx_channel_write: peer closed");
      Fail("mx_channel_write: status %d", st);
    }
    mx_handle_close(other);  // the sent end now has a closed peer, as a discarded reply would
  }

  size_t Recv(void* buf, size_t cap) override {
    for (;;) {
      uint32_t nb = 0, nh = 0;
      mx_status_t st = mx_channel_read(h_, 0, buf, handles_, static_cast<uint32_t>(cap),
                                       MX_CHANNEL_MAX_MSG_HANDLES, &nb, &nh);
      if (st == MX_OK) {
        for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles_[i]);
        return nb;
      }
      if (st == MX_ERR_PEER_CLOSED) throw PeerGone("mx_channel_read: peer closed");
      if (st != MX_ERR_SHOULD_WAIT) Fail("mx_channel_read: status %d", st);
      WaitReadable();
    }
  }

  size_t Call(const void* req, size_t n, void* rep, size_t cap) override {
    if (!use_call_) {
      // write, wait, read: what a program without mx_channel_call would do.
      Send(req, n, false);
      WaitReadable();
      return Recv(rep, cap);
    }
    mx_channel_call_args_t args = {req,
                                   nullptr,
                                   rep,
                                   handles_,
                                   static_cast<uint32_t>(n),
                                   0,
                                   static_cast<uint32_t>(cap),
                                   MX_CHANNEL_MAX_MSG_HANDLES};
    uint32_t nb = 0, nh = 0;
    mx_status_t rs = MX_OK;
    mx_status_t st = mx_channel_call(h_, 0, deadline_, &args, &nb, &nh, &rs);
    if (st == MX_ERR_CALL_FAILED) Fail("mx_channel_call: CALL_FAILED, read_status %d", rs);
    CheckMx(st, "mx_channel_call");
    for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles_[i]);
    return nb;
  }

 private:
  void WaitReadable() {
    mx_signals_t seen = 0;
    mx_status_t st =
        mx_object_wait_one(h_, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, deadline_, &seen);
    if (st == MX_ERR_TIMED_OUT) Fail("mx_object_wait_one: deadline passed");
    CheckMx(st, "mx_object_wait_one");
  }

  mx_handle_t h_;
  bool use_call_;
  mx_handle_t handles_[MX_CHANNEL_MAX_MSG_HANDLES];
};

// ---- Kernel baselines ---------------------------------------------------------------------------

inline void SetSocketTimeouts(int fd, uint64_t ns) {
  timeval tv = {static_cast<time_t>(ns / kSec), static_cast<suseconds_t>((ns % kSec) / 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

constexpr uint64_t kSocketTimeout = 20 * kSec;

// AF_UNIX SOCK_SEQPACKET, one datagram per message. |spin|: MSG_DONTWAIT and retry on EAGAIN.
// Handles travel as SCM_RIGHTS.
class SeqLink : public Link {
 public:
  SeqLink(int fd, bool spin) : fd_(fd), spin_(spin) { SetSocketTimeouts(fd_, kSocketTimeout); }
  ~SeqLink() override { close(fd_); }

  void Send(const void* buf, size_t n, bool with_handle) override {
    int sv[2] = {-1, -1};
    int pass = -1;
    if (with_handle) {
      if (handle_kind_ == HandleKind::kChannel) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) FailErrno("socketpair");
        pass = sv[0];
      } else {
        pass = DevNull();  // the kernel installs a new fd in the receiver
      }
    }
    iovec iov = {const_cast<void*>(buf), n};
    msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
    if (pass >= 0) {
      mh.msg_control = ctl;
      mh.msg_controllen = sizeof(ctl);
      cmsghdr* c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &pass, sizeof(int));
    }
    int flags = MSG_NOSIGNAL | (spin_ ? MSG_DONTWAIT : 0);
    Spinner spinner(deadline_, "sendmsg spin", 8);
    for (;;) {
      ssize_t r = sendmsg(fd_, &mh, flags);
      if (r == static_cast<ssize_t>(n)) break;
      if (r < 0 && errno == EAGAIN && spin_) {
        spinner.Turn();
        continue;
      }
      if (r < 0 && errno == EINTR) {
        OnEintr("sendmsg");
        continue;
      }
      if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) throw PeerGone("sendmsg: peer closed");
      FailErrno("sendmsg");
    }
    if (sv[0] >= 0) {
      close(sv[0]);
      close(sv[1]);
    }
  }

  size_t Recv(void* buf, size_t cap) override {
    iovec iov = {buf, cap};
    msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char ctl[CMSG_SPACE(4 * sizeof(int))];
    bool handles = handle_kind_ != HandleKind::kNone;
    int flags = MSG_CMSG_CLOEXEC | (spin_ ? MSG_DONTWAIT : 0);
    Spinner spinner(deadline_, "recv spin", 8);
    for (;;) {
      ssize_t r;
      if (handles) {
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof(ctl);
        r = recvmsg(fd_, &mh, flags);
      } else {
        r = recv(fd_, buf, cap, spin_ ? MSG_DONTWAIT : 0);
      }
      if (r > 0) {
        if (handles) CloseReceivedFds(&mh);
        return static_cast<size_t>(r);
      }
      if (r == 0) throw PeerGone("recv: peer closed");
      if (errno == EAGAIN && spin_) {
        spinner.Turn();
        continue;
      }
      if (errno == EINTR) {
        OnEintr("recv");
        continue;
      }
      if (errno == ECONNRESET) throw PeerGone("recv: peer closed");
      FailErrno(errno == EAGAIN ? "recv (SO_RCVTIMEO)" : "recv");
    }
  }

 private:
  static void CloseReceivedFds(msghdr* mh) {
    for (cmsghdr* c = CMSG_FIRSTHDR(mh); c != nullptr; c = CMSG_NXTHDR(mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        close(fd);
      }
    }
  }

  int fd_;
  bool spin_;
};

// Two pipes. A byte stream: every message of a scenario has the same size |msg|.
class PipeLink : public Link {
 public:
  PipeLink(int rd, int wr, size_t msg) : rd_(rd), wr_(wr), msg_(msg) {}
  ~PipeLink() override {
    close(rd_);
    close(wr_);
  }

  void Send(const void* buf, size_t n, bool) override {
    if (n != msg_) Fail("pipe link: message of %zu bytes, expected %zu", n, msg_);
    const char* p = static_cast<const char*>(buf);
    while (n > 0) {
      ssize_t r = write(wr_, p, n);
      if (r < 0 && errno == EINTR) {
        OnEintr("write");
        continue;
      }
      if (r < 0 && errno == EPIPE) throw PeerGone("write: peer closed");
      if (r < 0) FailErrno("write");
      p += r;
      n -= static_cast<size_t>(r);
    }
  }

  size_t Recv(void* buf, size_t cap) override {
    if (cap < msg_) Fail("pipe link: buffer too small");
    char* p = static_cast<char*>(buf);
    size_t got = 0;
    while (got < msg_) {
      ssize_t r = read(rd_, p + got, msg_ - got);
      if (r < 0 && errno == EINTR) {
        OnEintr("read");
        continue;
      }
      if (r < 0) FailErrno("read");
      if (r == 0) throw PeerGone("read: peer closed");
      got += static_cast<size_t>(r);
    }
    return got;
  }

 private:
  int rd_, wr_;
  size_t msg_;
};

// ---- Shared-memory rings: the floor -------------------------------------------------------------

// One single-producer single-consumer ring of fixed slots in shared memory; a slot holds a 8-byte
// length and up to |slot - 8| bytes. Both sides spin (pause instruction) and never enter the
// kernel.
struct RingCtl {
  alignas(64) std::atomic<uint64_t> head;  // written by the producer
  alignas(64) std::atomic<uint64_t> tail;  // written by the consumer
};

struct RingGeometry {
  uint32_t slots;
  uint32_t slot_bytes;
  size_t RingBytes() const { return sizeof(RingCtl) + size_t{slots} * slot_bytes; }
  size_t TotalBytes() const { return 2 * RingBytes(); }  // one ring per direction
  static RingGeometry For(size_t max_msg) {
    uint32_t slot = static_cast<uint32_t>((max_msg + 8 + 63) / 64 * 64);
    uint32_t slots = max_msg > 8192 ? 16 : 256;
    return {slots, slot};
  }
};

class ShmLink : public Link {
 public:
  // |first|: which ring this side sends on (the parent sends on ring 0).
  ShmLink(int memfd, RingGeometry g, bool first) : g_(g) {
    base_ = static_cast<uint8_t*>(
        mmap(nullptr, g.TotalBytes(), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0));
    close(memfd);
    if (base_ == MAP_FAILED) FailErrno("mmap");
    uint8_t* r0 = base_;
    uint8_t* r1 = base_ + g.RingBytes();
    tx_ = first ? r0 : r1;
    rx_ = first ? r1 : r0;
  }
  ~ShmLink() override { munmap(base_, g_.TotalBytes()); }

  static int CreateMemfd(RingGeometry g) {
    int fd = memfd_create("mxbench-ring", MFD_CLOEXEC);
    if (fd < 0) FailErrno("memfd_create");
    if (ftruncate(fd, static_cast<off_t>(g.TotalBytes())) != 0) FailErrno("ftruncate");
    return fd;
  }

  void Send(const void* buf, size_t n, bool) override {
    if (n + 8 > g_.slot_bytes) Fail("shm link: message too large");
    RingCtl* c = Ctl(tx_);
    uint64_t h = c->head.load(std::memory_order_relaxed);
    Spinner spinner(deadline_, "shm send spin", 64);
    while (h - tx_tail_cache_ >= g_.slots) {
      tx_tail_cache_ = c->tail.load(std::memory_order_acquire);
      if (h - tx_tail_cache_ < g_.slots) break;
      spinner.Turn();
    }
    uint8_t* slot = Slot(tx_, h);
    uint64_t len = n;
    memcpy(slot, &len, 8);
    memcpy(slot + 8, buf, n);
    c->head.store(h + 1, std::memory_order_release);
  }

  size_t Recv(void* buf, size_t cap) override {
    RingCtl* c = Ctl(rx_);
    uint64_t t = c->tail.load(std::memory_order_relaxed);
    Spinner spinner(deadline_, "shm recv spin", 64);
    while (rx_head_cache_ == t) {
      rx_head_cache_ = c->head.load(std::memory_order_acquire);
      if (rx_head_cache_ != t) break;
      spinner.Turn();
    }
    uint8_t* slot = Slot(rx_, t);
    uint64_t len;
    memcpy(&len, slot, 8);
    if (len > cap || len + 8 > g_.slot_bytes) Fail("shm link: bad length");
    memcpy(buf, slot + 8, len);
    c->tail.store(t + 1, std::memory_order_release);
    return len;
  }

 private:
  static RingCtl* Ctl(uint8_t* ring) { return reinterpret_cast<RingCtl*>(ring); }
  uint8_t* Slot(uint8_t* ring, uint64_t i) const {
    return ring + sizeof(RingCtl) + (i % g_.slots) * g_.slot_bytes;
  }

  RingGeometry g_;
  uint8_t* base_ = nullptr;
  uint8_t* tx_ = nullptr;
  uint8_t* rx_ = nullptr;
  uint64_t tx_tail_cache_ = 0;
  uint64_t rx_head_cache_ = 0;
};

// ---- Peer libraries
// ------------------------------------------------------------------------------

constexpr int kPeerTimeoutMs = 20000;
constexpr int kNngBufferMsgs = 1000;

#if MXB_HAVE_ZMQ
// A ZeroMQ socket (PAIR for one-to-one links, REQ/REP for fan-in) with timeouts and no linger.
class ZmqLink : public Link {
 public:
  // |bind|: the parent binds |endpoint|, the child connects. |ctx| may be shared (fan-in
  // threads); when null the link owns a context.
  ZmqLink(int type, const std::string& endpoint, bool bind, void* ctx = nullptr)
      : z_(GetZmq()), own_ctx_(ctx == nullptr) {
    if (!z_.ok()) Fail("%s", z_.error.c_str());
    ctx_ = own_ctx_ ? z_.ctx_new() : ctx;
    sock_ = z_.socket(ctx_, type);
    if (sock_ == nullptr) Fail("zmq_socket: %s", z_.LastError().c_str());
    int ms = kPeerTimeoutMs, zero = 0;
    z_.setsockopt(sock_, ZMQ_RCVTIMEO, &ms, sizeof(ms));
    z_.setsockopt(sock_, ZMQ_SNDTIMEO, &ms, sizeof(ms));
    z_.setsockopt(sock_, ZMQ_LINGER, &zero, sizeof(zero));
    int rc = bind ? z_.bind(sock_, endpoint.c_str()) : z_.connect(sock_, endpoint.c_str());
    if (rc != 0)
      Fail("zmq %s %s: %s", bind ? "bind" : "connect", endpoint.c_str(), z_.LastError().c_str());
  }
  ~ZmqLink() override {
    z_.close(sock_);
    if (own_ctx_) z_.ctx_term(ctx_);
  }
  void SetRecvTimeoutMs(int ms) { z_.setsockopt(sock_, ZMQ_RCVTIMEO, &ms, sizeof(ms)); }

  void Send(const void* buf, size_t n, bool) override {
    while (z_.send(sock_, buf, n, 0) < 0) {
      if (z_.errno_() == EINTR) {
        OnEintr("zmq_send");
        continue;
      }
      Fail("zmq_send: %s", z_.LastError().c_str());
    }
  }
  size_t Recv(void* buf, size_t cap) override {
    for (;;) {
      int r = z_.recv(sock_, buf, cap, 0);
      if (r >= 0) return std::min(static_cast<size_t>(r), cap);
      if (z_.errno_() == EINTR) {
        OnEintr("zmq_recv");
        continue;
      }
      if (z_.errno_() == EAGAIN) throw PeerGone("zmq_recv: timed out");
      Fail("zmq_recv: %s", z_.LastError().c_str());
    }
  }

 private:
  const Zmq& z_;
  bool own_ctx_;
  void* ctx_ = nullptr;
  void* sock_ = nullptr;
};
#endif

#if MXB_HAVE_NNG
enum class NngProto { kPair0, kReq0, kRep0 };

class NngLink : public Link {
 public:
  NngLink(NngProto proto, const std::string& url, bool listen) : n_(GetNng()) {
    if (!n_.ok()) Fail("%s", n_.error.c_str());
    int rv = proto == NngProto::kPair0  ? n_.pair0_open(&sock_)
             : proto == NngProto::kReq0 ? n_.req0_open(&sock_)
                                        : n_.rep0_open(&sock_);
    if (rv != 0) Fail("nng open: %s", n_.strerror(rv));
    opened_ = true;
    n_.set_ms(sock_, NNG_OPT_RECVTIMEO, kPeerTimeoutMs);
    n_.set_ms(sock_, NNG_OPT_SENDTIMEO, kPeerTimeoutMs);
    if (proto == NngProto::kPair0) {
      // pair0 buffers nothing by default, so every send waits for the peer's receive; give it
      // ZeroMQ's default high-water mark (1000 messages) each way so streaming is comparable.
      n_.set_int(sock_, NNG_OPT_SENDBUF, kNngBufferMsgs);
      n_.set_int(sock_, NNG_OPT_RECVBUF, kNngBufferMsgs);
    }
    rv = listen ? n_.listen(sock_, url.c_str(), nullptr, 0)
                : n_.dial(sock_, url.c_str(), nullptr, 0);
    if (rv != 0) Fail("nng %s %s: %s", listen ? "listen" : "dial", url.c_str(), n_.strerror(rv));
  }
  ~NngLink() override {
    if (opened_) n_.close(sock_);
  }
  void SetRecvTimeoutMs(int ms) { n_.set_ms(sock_, NNG_OPT_RECVTIMEO, ms); }

  void Send(const void* buf, size_t n, bool) override {
    int rv = n_.send(sock_, const_cast<void*>(buf), n, 0);
    if (rv != 0) Fail("nng_send: %s", n_.strerror(rv));
  }
  size_t Recv(void* buf, size_t cap) override {
    size_t sz = cap;
    int rv = n_.recv(sock_, buf, &sz, 0);
    if (rv == NNG_ETIMEDOUT) throw PeerGone("nng_recv: timed out");
    if (rv != 0) Fail("nng_recv: %s", n_.strerror(rv));
    return sz;
  }

 private:
  const Nng& n_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  bool opened_ = false;
};
#endif

// ---- Making both ends ------------------------------------------------------------------------

inline std::string IpcPath(const char* tag) {
  static int seq = 0;
  return Fmt("ipc:///tmp/mxbench-%d-%s-%d.sock", getpid(), tag, ++seq);
}

inline void UnlinkIpc(const std::string& url) {
  if (url.rfind("ipc://", 0) == 0) unlink(url.c_str() + 6);
}

// The parent's end of a fresh link and how to start the child that holds the other end.
struct LinkPair {
  std::unique_ptr<Link> parent;
  ChildSpec child;  // role and args are filled in by the scenario; the link's own args are here
  std::string ipc;  // to unlink afterwards
  std::vector<int> close_after_spawn;
};

// "" when |m| can run here, else why not.
inline std::string Unavailable(Mech m) {
  if (m == Mech::kZmq) return ZmqUnavailable();
  if (m == Mech::kNng) return NngUnavailable();
  if (m == Mech::kSdBus) return SdBusUnavailable();
  if (m == Mech::kIceoryx) return IceoryxUnavailable();
  return "";
}

inline LinkPair MakeLinkPair(Mech m, size_t max_msg) {
  LinkPair lp;
  auto& args = lp.child.args;
  args.push_back(std::string("mech=") + Info(m).name);
  args.push_back("max=" + std::to_string(max_msg));
  switch (m) {
    case Mech::kMxCall:
    case Mech::kMxRw: {
      mx_handle_t a, b;
      CheckMx(mx_channel_create(0, &a, &b), "mx_channel_create");
      lp.parent = std::make_unique<MxLink>(a, m == Mech::kMxCall);
      lp.child.handles.push_back(b);
      break;
    }
    case Mech::kPipe: {
      int p2c[2], c2p[2];
      if (pipe2(p2c, O_CLOEXEC) != 0 || pipe2(c2p, O_CLOEXEC) != 0) FailErrno("pipe2");
      lp.parent = std::make_unique<PipeLink>(c2p[0], p2c[1], max_msg);
      lp.child.fds = {p2c[0], c2p[1]};
      args.push_back(Fmt("rfd=%d", p2c[0]));
      args.push_back(Fmt("wfd=%d", c2p[1]));
      lp.close_after_spawn = lp.child.fds;
      break;
    }
    case Mech::kSeq:
    case Mech::kSeqSpin: {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) FailErrno("socketpair");
      lp.parent = std::make_unique<SeqLink>(sv[0], m == Mech::kSeqSpin);
      lp.child.fds = {sv[1]};
      args.push_back(Fmt("fd=%d", sv[1]));
      lp.close_after_spawn = lp.child.fds;
      break;
    }
    case Mech::kShm: {
      RingGeometry g = RingGeometry::For(max_msg);
      int fd = ShmLink::CreateMemfd(g);
      int child_fd = dup(fd);  // dup() does not copy close-on-exec; make it so until the fork
      if (child_fd < 0) FailErrno("dup");
      fcntl(child_fd, F_SETFD, FD_CLOEXEC);
      lp.parent = std::make_unique<ShmLink>(fd, g, true);
      lp.child.fds = {child_fd};
      args.push_back(Fmt("fd=%d", child_fd));
      lp.close_after_spawn = lp.child.fds;
      break;
    }
    case Mech::kZmq: {
#if MXB_HAVE_ZMQ
      lp.ipc = IpcPath("zmq");
      lp.parent = std::make_unique<ZmqLink>(ZMQ_PAIR, lp.ipc, true);
      args.push_back("url=" + lp.ipc);
#endif
      break;
    }
    case Mech::kNng: {
#if MXB_HAVE_NNG
      lp.ipc = IpcPath("nng");
      lp.parent = std::make_unique<NngLink>(NngProto::kPair0, lp.ipc, true);
      args.push_back("url=" + lp.ipc);
#endif
      break;
    }
    case Mech::kSdBus: {
      int child_fd = -1;
      lp.parent = MakeSdBusParent(&child_fd);
      lp.child.fds = {child_fd};
      args.push_back(Fmt("fd=%d", child_fd));
      lp.close_after_spawn = lp.child.fds;
      break;
    }
    case Mech::kIceoryx:
      lp.parent = MakeIceoryxParent(max_msg, &args);
      break;
  }
  if (!lp.parent) Fail("%s: not available", Info(m).name);
  return lp;
}

// The child's end, from the arguments MakeLinkPair wrote.
inline std::unique_ptr<Link> OpenChildLink(const Args& a) {
  Mech m = MechByName(a.Str("mech"));
  size_t max_msg = a.U64("max");
  switch (m) {
    case Mech::kMxCall:
    case Mech::kMxRw: {
      mx_handle_t h = mx_get_startup_handle(PA_HND(PA_USER0, 0));
      if (h == MX_HANDLE_INVALID) Fail("child: no startup handle");
      return std::make_unique<MxLink>(h, false);
    }
    case Mech::kPipe:
      return std::make_unique<PipeLink>(a.Int("rfd"), a.Int("wfd"), max_msg);
    case Mech::kSeq:
    case Mech::kSeqSpin:
      return std::make_unique<SeqLink>(a.Int("fd"), m == Mech::kSeqSpin);
    case Mech::kShm:
      return std::make_unique<ShmLink>(a.Int("fd"), RingGeometry::For(max_msg), false);
    case Mech::kZmq:
#if MXB_HAVE_ZMQ
      return std::make_unique<ZmqLink>(ZMQ_PAIR, a.Str("url"), false);
#else
      break;
#endif
    case Mech::kNng:
#if MXB_HAVE_NNG
      return std::make_unique<NngLink>(NngProto::kPair0, a.Str("url"), false);
#else
      break;
#endif
    case Mech::kSdBus:
      return OpenSdBusChild(a.Int("fd"));
    case Mech::kIceoryx:
      return OpenIceoryxChild(a.Str("iox"), max_msg);
  }
  Fail("child: mechanism not available");
}

}  // namespace mxb
