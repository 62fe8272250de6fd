// SPDX-License-Identifier: BSD-3-Clause
// Hostile peers.
//
// A real child process holds the raw SOCK_SEQPACKET socket under one end of a channel and writes
// whatever it likes on it: garbage, truncated frames, frames whose handle and fd counts lie, 253
// fds and more, datagrams as large as the kernel accepts, unknown kinds, sequence numbers out of
// order, malformed handle descriptors, floods, and it dies between frames. The test process is
// the victim. For every scenario it must
//   - read the well-formed messages the peer sent before the bad part, in order, then get
//     MX_ERR_PEER_CLOSED (a frame it cannot trust breaks the channel: the peer sees it hang up;
//     so does a handle descriptor without its type's shape) — or, for a handle whose fds or
//     state turn out to be bad when it is installed, skip that one message and go on;
//   - close every fd the peer sent: the peer attaches duplicates of a pipe's write end (the
//     "tracer") wherever it can, and once the victim has closed the channel and the peer has
//     exited, the victim's read end of that pipe must see end-of-file; the victim's own count of
//     open fds must be what it was before the scenario;
//   - never crash, and keep its other channel (to a well-behaved echo child) working before,
//     during and after the attack.
//
// How the hostile child gets the raw socket: through a named rendezvous, the deliberate way for an
// untrusted process to reach a server. The child speaks the rendezvous protocol by hand
// (docs/rendezvous.md: connect, send a Hello carrying one end of its own socket pair) and keeps
// the other end: the victim's mx_service_accept builds its endpoint around the end the child
// sent, so the child holds the raw peer socket of a real libmx endpoint.
//
// The wire format is written out below from docs/design.md rather than taken from src/: a hostile
// peer has no access to libmx's headers either, and a format change that breaks these tests
// should be a visible decision.
//
// Every scenario prints one line "[hostile] <name>: ..." with its figures (frames and fds sent,
// what the victim read, what it returned); docs/RELIABILITY.md quotes them.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/ring_layout.h"
#include "support/wire_layout.h"

namespace {

using namespace mx_test::wire;
using mx_test::Message;

// What the hostile child tells the victim after a scenario (over a well-behaved channel).
struct Report {
  uint32_t frames_sent;       // datagrams the kernel accepted on the channel's socket
  uint32_t fds_sent;          // fds attached to them and to overflow chunks
  uint32_t hung_up;           // 1: the victim shut the channel down while we still held it
  int32_t refused_errno;      // the errno of a send the kernel refused, if the scenario tried one
  uint64_t largest_datagram;  // the largest datagram the kernel accepted (bytes)
};

// ---- The hostile side ---------------------------------------------------------------------------

// One hostile connection plus the child's bookkeeping.
class Hostile {
 public:
  Hostile(mx_handle_t ctl, int tracer, std::string service)
      : ctl_(ctl), tracer_(tracer), service_(std::move(service)) {}

  ~Hostile() {
    if (sock_ >= 0) close(sock_);
    if (tracer_ >= 0) close(tracer_);
  }

  mx_handle_t ctl() const { return ctl_; }
  const std::string& service() const { return service_; }
  int sock() const { return sock_; }
  Report& report() { return report_; }
  uint64_t next_seq() const { return seq_; }
  void set_next_seq(uint64_t seq) { seq_ = seq; }

  // A new duplicate of the tracer (the caller closes it, usually right after sending it).
  int Tracer() {
    int fd = fcntl(tracer_, F_DUPFD_CLOEXEC, 0);
    CHILD_CHECK(fd >= 0);
    return fd;
  }
  std::vector<int> Tracers(size_t n) {
    std::vector<int> fds;
    for (size_t i = 0; i < n; ++i) fds.push_back(Tracer());
    return fds;
  }
  static void CloseFds(const std::vector<int>& fds) {
    for (int fd : fds) close(fd);
  }

  // Connects to the victim's rendezvous: after this, sock() is the raw peer of the victim's
  // endpoint. In two steps if the scenario wants to queue frames before the victim has the
  // endpoint: OpenPair() makes sock(), SendHello() hands the other end to the victim.
  void Connect() {
    OpenPair();
    SendHello();
  }
  void OpenPair() {
    int pair[2];
    CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    sock_ = pair[0];
    theirs_ = pair[1];
  }
  void SendHello() {
    CHILD_CHECK_EQ(SendHello(&theirs_, 1, kHelloMagic), 0);
    close(theirs_);
    theirs_ = -1;
  }

  // Connects to the rendezvous and sends a Hello with |fds| (no channel comes of it unless it is
  // well-formed). Returns the errno of the send, or 0.
  int SendHello(const int* fds, size_t num_fds, uint32_t magic) {
    int conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHILD_CHECK(conn >= 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    CHILD_CHECK(service_.size() >= 2 && service_[0] == '@' &&
                service_.size() < sizeof(addr.sun_path));
    memcpy(addr.sun_path + 1, service_.data() + 1, service_.size() - 1);
    socklen_t len =
        static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + service_.size());
    CHILD_CHECK(connect(conn, reinterpret_cast<struct sockaddr*>(&addr), len) == 0);
    Hello hello = {magic, 1, 0x7e57000000000010ull + counter_, 0x7e57000000000020ull + counter_};
    ++counter_;
    int err = SendOn(conn, &hello, sizeof(hello), fds, num_fds);
    close(conn);
    return err;
  }

  // Sends raw bytes with |fds| on the channel socket, counting what the kernel accepted.
  int Send(const std::vector<uint8_t>& bytes, const std::vector<int>& fds = {}) {
    int err = SendOn(sock_, bytes.data(), bytes.size(), fds.data(), fds.size());
    if (err == 0) {
      ++report_.frames_sent;
      report_.fds_sent += static_cast<uint32_t>(fds.size());
      if (bytes.size() > report_.largest_datagram) report_.largest_datagram = bytes.size();
    }
    return err;
  }
  int Send(const FrameSpec& frame, const std::vector<int>& fds = {}) {
    return Send(frame.Encode(), fds);
  }
  // Sends |frame| with |n| fresh tracer duplicates attached, then closes our copies.
  int SendWithTracers(const FrameSpec& frame, size_t n) {
    std::vector<int> fds = Tracers(n);
    int err = Send(frame, fds);
    CloseFds(fds);
    return err;
  }

  // A well-formed message: |text| and |n| fd handles (tracer duplicates), the next sequence
  // number. Every scenario sends at least one, so a victim that took nothing would fail.
  void SendValid(const std::string& text, uint32_t n = 1) {
    std::vector<uint8_t> desc;
    for (uint32_t i = 0; i < n; ++i) AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
    CHILD_CHECK_EQ(SendWithTracers(FrameSpec(kFrameData, seq_++, text, desc, n, n), n), 0);
  }

  // A well-formed frame with one handle described by (type, extra, fds): the descriptor is
  // the scenario's business. Closes |fds|.
  void SendOneHandle(const std::string& text, uint32_t type, const void* extra,
                     uint32_t extra_bytes, const std::vector<int>& fds) {
    std::vector<uint8_t> desc;
    AppendHandle(&desc, type, static_cast<uint32_t>(fds.size()), extra, extra_bytes);
    const uint32_t n = static_cast<uint32_t>(fds.size());
    CHILD_CHECK_EQ(Send(FrameSpec(kFrameData, seq_++, text, desc, 1, n), fds), 0);
    CloseFds(fds);
  }

  // Waits (30 s at most) until the victim shuts the channel down; records it.
  void ExpectHangup() {
    struct pollfd p = {sock_, POLLRDHUP, 0};
    int r;
    do {
      r = poll(&p, 1, 30000);
    } while (r < 0 && errno == EINTR);
    if (r > 0 && (p.revents & (POLLHUP | POLLRDHUP)) != 0) report_.hung_up = 1;
  }

  void CloseSocket() {
    if (sock_ >= 0) close(sock_);
    sock_ = -1;
  }
  void CloseTracer() {
    if (tracer_ >= 0) close(tracer_);
    tracer_ = -1;
  }

 private:
  mx_handle_t ctl_;
  int tracer_;
  std::string service_;
  int sock_ = -1;
  int theirs_ = -1;
  uint64_t seq_ = 0;
  uint32_t counter_ = 0;
  Report report_ = {};
};

// A sealed-or-not memfd of |size| bytes filled with |fill| (sparse when |fill| is 0).
int MakeMemfd(size_t size, uint8_t fill) {
  int fd = memfd_create("hostile", MFD_CLOEXEC);
  CHILD_CHECK(fd >= 0);
  CHILD_CHECK(ftruncate(fd, static_cast<off_t>(size)) == 0);
  if (fill != 0) {
    std::vector<uint8_t> bytes(size, fill);
    CHILD_CHECK(pwrite(fd, bytes.data(), size, 0) == static_cast<ssize_t>(size));
  }
  return fd;
}

// One end of a fresh socket pair of |type|; the other end is closed.
int LoneSocket(int type) {
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) == 0);
  close(pair[1]);
  return pair[0];
}

// The txid of the victim's call (see the test body).
constexpr uint32_t kCallTxid = 0x5eed;

// Waits (30 s at most) until the victim's call has sent its request — the first thing the victim
// sends: its ring's announcement, or a data frame — discards what came, and returns the txid to
// answer. (The request itself may sit in the victim's ring; the txid is known in advance.)
uint32_t AwaitRequest(Hostile& h) {
  struct pollfd p = {h.sock(), POLLIN, 0};
  CHILD_CHECK(poll(&p, 1, 30000) == 1);
  std::vector<uint8_t> buf(1 << 17);
  struct iovec iov = {buf.data(), buf.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(h.sock(), &msg, MSG_CMSG_CLOEXEC);
  CHILD_CHECK(n >= static_cast<ssize_t>(sizeof(FrameHeader)));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
        close(fd);
      }
    }
  }
  FrameHeader header;
  memcpy(&header, buf.data(), sizeof(header));
  CHILD_CHECK_EQ(header.magic, kFrameMagic);
  return kCallTxid;
}

std::string TxidPayload(uint32_t txid, const std::string& text) {
  std::string s(sizeof(txid), '\0');
  memcpy(s.data(), &txid, sizeof(txid));
  return s + text;
}

// A garbage or lying frame whose only effect must be a broken channel.
void SendExpectingBreak(Hostile& h, const FrameSpec& frame, size_t tracers) {
  CHILD_CHECK_EQ(h.SendWithTracers(frame, tracers), 0);
}

// ---- Scenarios ----------------------------------------------------------------------------------

// Who connects the hostile child to the victim: the child before running the scenario, or the
// scenario itself (to misbehave on the rendezvous, or to queue frames before the victim has its
// endpoint).
enum class Connect { kFirst, kItself };

// What the victim must see.
enum class Outcome {
  kBreaks,     // the channel breaks: the peer sees it hang up; PEER_CLOSED after |messages|
  kContinues,  // a bad message is skipped; the peer closes after sending; PEER_CLOSED
  kDies,       // the peer kills itself (SIGKILL) after sending
  kKilled,     // the victim kills the peer in the middle of a burst (see BurstUntilKilled)
};

struct Scenario {
  const char* name;
  const char* what;  // one line for the figures
  Outcome outcome;
  std::vector<std::string> messages;  // payloads the victim reads, in order, before PEER_CLOSED
  void (*hostile)(Hostile& h);
  // The victim first makes an mx_channel_call; the peer answers it (or not) in |hostile|.
  bool victim_calls = false;
  mx_status_t call_status = MX_OK;
  mx_status_t call_read_status = MX_OK;
  Connect connect = Connect::kFirst;
};

// gtest prints a parameter in test listings (and so in CTest's names): the scenario's name.
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

const std::vector<Scenario>& Scenarios();

// -- Frames that must break the channel.

void Garbage(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> junk(1024);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 151 + 7);
  std::vector<int> fds = h.Tracers(3);
  CHILD_CHECK_EQ(h.Send(junk, fds), 0);
  Hostile::CloseFds(fds);
}

void ShortDatagram(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> bytes(16, 0x4d);
  std::vector<int> fds = h.Tracers(1);
  CHILD_CHECK_EQ(h.Send(bytes, fds), 0);
  Hostile::CloseFds(fds);
}

void BadMagic(Hostile& h) {
  h.SendValid("before");
  FrameSpec f(kFrameData, h.next_seq(), "magic");
  f.header.magic = 0x3246584du;  // "MXF2"
  SendExpectingBreak(h, f, 0);
}

void ReservedBits(Hostile& h) {
  h.SendValid("before");
  FrameSpec f(kFrameData, h.next_seq(), "reserved");
  f.header.reserved = 1;
  SendExpectingBreak(h, f, 0);
}

void UnknownFlags(Hostile& h) {
  h.SendValid("before");
  FrameSpec f(kFrameData, h.next_seq(), "flags");
  f.header.flags = 0x80;
  SendExpectingBreak(h, f, 0);
}

void TruncatedFrame(Hostile& h) {
  h.SendValid("before");
  // The header claims 100 payload bytes; 50 follow.
  FrameSpec f(kFrameData, h.next_seq(), std::string(50, 't'));
  f.header.num_bytes = 100;
  SendExpectingBreak(h, f, 0);
}

void TruncatedHandleSection(Hostile& h) {
  h.SendValid("before");
  // One fd handle announced, its descriptor cut in half (and its fd attached).
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  desc.resize(20);
  FrameSpec f(kFrameData, h.next_seq(), "cut", desc, 1, 1);
  SendExpectingBreak(h, f, 1);
}

void OversizedPayloadClaim(Hostile& h) {
  h.SendValid("before");
  FrameSpec f(kFrameData, h.next_seq(), "big");
  f.header.num_bytes = MX_CHANNEL_MAX_MSG_BYTES + 1;
  SendExpectingBreak(h, f, 0);
}

void MoreFdsThanDeclared(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "more", desc, 1, 1), 5);
}

void FewerFdsThanDeclared(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 3);
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "fewer", desc, 1, 3), 1);
}

void HandleClaimsMoreFdsThanFrame(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 2);  // the handle wants 2, the frame carries 1
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "claims", desc, 1, 1), 1);
}

void MoreHandlesThanDescribed(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "count", desc, 2, 1), 1);
}

void FdsWithoutHandles(Hostile& h) {
  h.SendValid("before");
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "nohandles", {}, 0, 0), 4);
}

void TooManyHandles(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  for (uint32_t i = 0; i < MX_CHANNEL_MAX_MSG_HANDLES + 1; ++i) {
    AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  }
  SendExpectingBreak(h,
                     FrameSpec(kFrameData, h.next_seq(), "65", desc, MX_CHANNEL_MAX_MSG_HANDLES + 1,
                               MX_CHANNEL_MAX_MSG_HANDLES + 1),
                     MX_CHANNEL_MAX_MSG_HANDLES + 1);
}

void HandleExtraTooLarge(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> extra(5000, 0x11);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_CHANNEL, 1, extra.data(), static_cast<uint32_t>(extra.size()));
  std::vector<int> fds = {LoneSocket(SOCK_SEQPACKET)};
  CHILD_CHECK_EQ(h.Send(FrameSpec(kFrameData, h.next_seq(), "extra", desc, 1, 1), fds), 0);
  Hostile::CloseFds(fds);
}

void HandleReservedField(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1, nullptr, 0, /*reserved=*/7);
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq(), "resv", desc, 1, 1), 1);
}

// 253 fds (the kernel's SCM_MAX_FD) on a frame that declares none; 254 is refused by the kernel.
void MaxFdsPerDatagram(Hostile& h) {
  h.SendValid("before");
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram + 1);
  FrameSpec f(kFrameData, h.next_seq(), "253");
  const std::vector<uint8_t> bytes = f.Encode();
  h.report().refused_errno = SendOn(h.sock(), bytes.data(), bytes.size(), fds.data(), fds.size());
  CHILD_CHECK(h.report().refused_errno != 0);
  fds.pop_back();
  CHILD_CHECK_EQ(h.Send(bytes, fds), 0);
  Hostile::CloseFds(fds);
}

// Datagrams of 253 fds each, queued in the victim's socket before the victim has its endpoint,
// until the kernel's queue limit (net.unix.max_dgram_qlen) refuses more: the first breaks the
// channel, the rest stay in the victim's socket until it closes the endpoint.
void FdFlood(Hostile& h) {
  h.OpenPair();
  h.SendValid("before");
  FrameSpec f(kFrameData, h.next_seq(), "flood");
  for (int i = 0; i < 40; ++i) {
    std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram);
    const std::vector<uint8_t> bytes = f.Encode();
    struct iovec iov = {const_cast<uint8_t*>(bytes.data()), bytes.size()};
    std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    const bool sent = sendmsg(h.sock(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
    const int err = errno;
    Hostile::CloseFds(fds);
    if (!sent) {
      h.report().refused_errno = err;  // EAGAIN: the victim's queue is full
      break;
    }
    h.report().frames_sent += 1;
    h.report().fds_sent += kMaxFdsPerDatagram;
  }
  h.SendHello();
}

// The fd-overflow path (more than 253 fds) with a peer that lies: the frame claims 1000 fds, the
// overflow socket delivers 506 and then nothing.
void OverflowShortOfFds(Hostile& h) {
  h.SendValid("before");
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  for (int chunk = 0; chunk < 2; ++chunk) {
    std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram);
    OverflowChunk c = {kOverflowMagic, static_cast<uint32_t>(fds.size())};
    CHILD_CHECK_EQ(SendOn(pair[0], &c, sizeof(c), fds.data(), fds.size()), 0);
    h.report().fds_sent += static_cast<uint32_t>(fds.size());
    Hostile::CloseFds(fds);
  }
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1000);
  FrameSpec f(kFrameData, h.next_seq(), "overflow", desc, 1, 1000);
  f.header.flags = kFlagFdOverflow;
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram - 1);
  fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  Hostile::CloseFds(fds);
  close(pair[0]);  // the victim reads the two chunks, then end of stream
}

void OverflowBadChunk(Hostile& h) {
  h.SendValid("before");
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  std::vector<int> chunk_fds = h.Tracers(10);
  OverflowChunk c = {0xdeadbeefu, 10};
  CHILD_CHECK_EQ(SendOn(pair[0], &c, sizeof(c), chunk_fds.data(), chunk_fds.size()), 0);
  h.report().fds_sent += 10;
  Hostile::CloseFds(chunk_fds);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 262);
  FrameSpec f(kFrameData, h.next_seq(), "chunk", desc, 1, 262);
  f.header.flags = kFlagFdOverflow;
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram - 1);
  fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  Hostile::CloseFds(fds);
  // pair[0] stays open until we exit: the victim must not wait for more chunks.
}

void OverflowFlagWithFewFds(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 5);
  FrameSpec f(kFrameData, h.next_seq(), "few", desc, 1, 5);
  f.header.flags = kFlagFdOverflow;
  SendExpectingBreak(h, f, 5);
}

// An overflow frame whose header claims more fds than any frame may carry (kMaxFrameFds): the
// victim must break the channel, not hold the frame for fds it could never need.
void OverflowClaimsTooManyFds(Hostile& h) {
  h.SendValid("before");
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 100000);
  FrameSpec f(kFrameData, h.next_seq(), "too many", desc, 1, 100000);
  f.header.flags = kFlagFdOverflow;
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram - 1);
  fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  Hostile::CloseFds(fds);
  close(pair[0]);
}

// A frame of a kind that carries no fds (the startup frame) with 253 fds, claiming 4,096 through
// an overflow socket: a wait must not install them (nor drain the overflow socket); it breaks.
void StartupFrameWithOverflowFds(Hostile& h) {
  h.SendValid("before");
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 4096);
  FrameSpec f(kFrameStartup, 0, "", desc, 1, 4096);  // kMaxFrameFds
  f.header.flags = kFlagFdOverflow;
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram - 1);
  fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  Hostile::CloseFds(fds);
  close(pair[0]);
}

// Datagrams as large as the kernel accepts, from 64 MiB down (the send buffer raised as far as
// this process may: SO_SNDBUFFORCE as root, else SO_SNDBUF up to wmem_max).
void HugeDatagram(Hostile& h) {
  h.SendValid("before");
  int big = 256 << 20;
  if (setsockopt(h.sock(), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) != 0) {
    setsockopt(h.sock(), SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  }
  std::vector<uint8_t> bytes(size_t{64} << 20, 0x5a);
  FrameHeader header = {kFrameMagic, kFrameData, 0, 0, h.next_seq(), 0, 0, 0, 0};
  header.num_bytes = static_cast<uint32_t>(bytes.size() - sizeof(header));
  for (size_t size = bytes.size(); size >= 64 * 1024; size /= 2) {
    header.num_bytes = static_cast<uint32_t>(size - sizeof(header));
    memcpy(bytes.data(), &header, sizeof(header));
    std::vector<int> fds = h.Tracers(2);
    int err = SendOn(h.sock(), bytes.data(), size, fds.data(), fds.size());
    Hostile::CloseFds(fds);
    if (err == 0) {
      h.report().frames_sent += 1;
      h.report().fds_sent += 2;
      h.report().largest_datagram = size;
      break;
    }
    if (h.report().refused_errno == 0) h.report().refused_errno = err;  // for 64 MiB
  }
  CHILD_CHECK(h.report().largest_datagram > 0);
}

void UnknownKind(Hostile& h) {
  h.SendValid("before");
  SendExpectingBreak(h, FrameSpec(9, h.next_seq(), "kind9"), 0);
}

void ZeroKind(Hostile& h) {
  h.SendValid("before");
  SendExpectingBreak(h, FrameSpec(0, h.next_seq(), "kind0"), 0);
}

// A startup frame (a kind the transport knows) where only data and control frames belong.
void StartupFrameOnChannel(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  SendExpectingBreak(h, FrameSpec(kFrameStartup, 0, "", desc, 1, 1), 1);
}

void KickWithPayload(Hostile& h) {
  h.SendValid("before");
  SendExpectingBreak(h, FrameSpec(kFrameKick, 0, "kick"), 0);
}

void SignalNonUserBits(Hostile& h) {
  h.SendValid("before");
  uint32_t masks[2] = {0, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED};
  const std::string payload(reinterpret_cast<char*>(masks), sizeof(masks));
  SendExpectingBreak(h, FrameSpec(kFrameSignal, 0, payload), 0);
}

void RingNotAMemfd(Hostile& h) {
  h.SendValid("before");
  uint32_t info[2] = {0, 0};
  FrameSpec f(kFrameRing, 0, std::string(reinterpret_cast<char*>(info), 8), {}, 0, 1);
  SendExpectingBreak(h, f, 1);  // a pipe's write end as the ring
}

void RingUnsealed(Hostile& h) {
  h.SendValid("before");
  uint32_t info[2] = {0, 0};
  FrameSpec f(kFrameRing, 0, std::string(reinterpret_cast<char*>(info), 8), {}, 0, 1);
  std::vector<int> fds = {MakeMemfd(1 << 20, 0)};
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  Hostile::CloseFds(fds);
}

// A valid message ring, written by hand as a writer would (docs/design.md, "Channel data path"):
// a sealed memfd with the header and records of ring layout mx_test::kRingVersion.
class HandRing {
 public:
  HandRing() {
    const size_t total = mx_test::kRingHeaderBytes + kCapacity;
    fd_ = memfd_create("hostile-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHILD_CHECK(fd_ >= 0);
    CHILD_CHECK(ftruncate(fd_, static_cast<off_t>(total)) == 0);
    CHILD_CHECK(fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
    void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    CHILD_CHECK(base != MAP_FAILED);
    header_ = static_cast<mx_test::RingHeader*>(base);
    header_->magic = 0x474e524du;  // "MRNG"
    header_->version = mx_test::kRingVersion;
    header_->capacity = kCapacity;
    header_->payload_limit = kCapacity;
  }
  ~HandRing() { close(fd_); }  // the mapping goes with the process

  // Sends the ring's announcement on the channel's socket.
  void Announce(Hostile& h) {
    uint32_t info[2] = {0, 0};
    FrameSpec f(kFrameRing, 0, std::string(reinterpret_cast<char*>(info), 8), {}, 0, 1);
    CHILD_CHECK_EQ(h.Send(f, {fd_}), 0);
  }
  // Counts a frame we are about to send after the announcement, as a writer does (the victim
  // asks the kernel only while the count differs from what it received).
  void Sent() { header_->socket_frames.fetch_add(1); }
  // Publishes a handle-free record |seq| holding |text|, then kicks the victim awake.
  void Write(Hostile& h, uint64_t seq, const std::string& text) {
    const uint64_t head = header_->head.load();
    uint8_t* at = reinterpret_cast<uint8_t*>(header_) + mx_test::kRingHeaderBytes + head;
    const uint32_t record[4] = {static_cast<uint32_t>(seq), static_cast<uint32_t>(seq >> 32),
                                static_cast<uint32_t>(text.size()), 0};
    memcpy(at, record, sizeof(record));
    memcpy(at + sizeof(record), text.data(), text.size());
    header_->payload_in.fetch_add(text.size());
    header_->head.store(head + sizeof(record) + ((text.size() + 7) & ~size_t{7}));
    Sent();
    CHILD_CHECK_EQ(h.Send(FrameSpec(kFrameKick, 0)), 0);
  }
  // No record follows: what a writer whose endpoint moved away says.
  void MarkDone() { header_->writer_done.store(1); }

 private:
  static constexpr uint64_t kCapacity = 256 * 1024;
  int fd_ = -1;
  mx_test::RingHeader* header_ = nullptr;
};

// A second ring while the first is in use (its writer never said it was done).
void RingAnnouncedTwice(Hostile& h) {
  h.SendValid("before");
  HandRing first, second;
  first.Announce(h);
  first.Write(h, h.next_seq(), "in ring");
  h.set_next_seq(h.next_seq() + 1);
  first.Sent();
  second.Announce(h);
}

// The first ring is marked done but still holds a record the victim cannot read yet (it waits
// for the socket frame numbered before it) when the next ring is announced.
void RingReplacedBeforeItWasRead(Hostile& h) {
  h.SendValid("before");
  HandRing first, second;
  first.Announce(h);
  first.Write(h, h.next_seq() + 1, "unread");
  first.MarkDone();
  second.Announce(h);
}

// What an endpoint that moved does, in order: its old ring read empty and done, socket frames,
// then a new ring. The victim reads everything and keeps one ring.
void RingReplacedInOrder(Hostile& h) {
  h.SendValid("before");
  HandRing first, second;
  first.Announce(h);
  first.Write(h, h.next_seq(), "first ring");
  h.set_next_seq(h.next_seq() + 1);
  first.MarkDone();
  h.SendValid("socket");
  second.Announce(h);
  second.Write(h, h.next_seq(), "second ring");
  h.set_next_seq(h.next_seq() + 1);
  second.Sent();
  h.SendValid("after");
}

void SequenceGap(Hostile& h) {
  h.SendValid("before");
  SendExpectingBreak(h, FrameSpec(kFrameData, h.next_seq() + 5, "gap"), 0);
}

void SequenceReplay(Hostile& h) {
  h.SendValid("before");
  h.SendValid("second");
  SendExpectingBreak(h, FrameSpec(kFrameData, 0, "replay"), 0);
}

void PayloadInRingWithoutRing(Hostile& h) {
  h.SendValid("before");
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  FrameSpec f(kFrameData, h.next_seq(), "", desc, 1, 1);
  f.header.flags = kFlagPayloadInRing;
  SendExpectingBreak(h, f, 1);
}

void GarbageReplyToCall(Hostile& h) {
  const uint32_t txid = AwaitRequest(h);
  std::string bytes = TxidPayload(txid, "garbage reply");
  std::vector<uint8_t> junk(bytes.begin(), bytes.end());
  std::vector<int> fds = h.Tracers(2);
  CHILD_CHECK_EQ(h.Send(junk, fds), 0);
  Hostile::CloseFds(fds);
}

// -- A malformed handle inside a well-formed frame: that message is skipped.

// Sends "before", a message "bad" with one handle described by (type, extra, fds), and "after".
void BadHandle(Hostile& h, uint32_t type, const void* extra, uint32_t extra_bytes,
               std::vector<int> fds) {
  h.SendValid("before");
  h.SendOneHandle("bad", type, extra, extra_bytes, fds);
  h.SendValid("after");
}

EndpointState PlainEndpoint() { return EndpointState{}; }

// -- A handle descriptor that does not have its type's shape (fd count, extra size, a state no
// libmx writes): frame decoding rejects the frame, so the channel breaks.

// Sends "before", then a message with one handle described by (type, extra, fds).
void BadShape(Hostile& h, uint32_t type, const void* extra, uint32_t extra_bytes,
              std::vector<int> fds) {
  h.SendValid("before");
  h.SendOneHandle("bad", type, extra, extra_bytes, fds);
}

void EndpointExtraShort(Hostile& h) {
  EndpointState s = PlainEndpoint();
  BadShape(h, MX_OBJ_TYPE_CHANNEL, &s, 7, {LoneSocket(SOCK_SEQPACKET)});
}

void EndpointNotASocket(Hostile& h) {
  EndpointState s = PlainEndpoint();
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {h.Tracer()});
}

void EndpointStreamSocket(Hostile& h) {
  EndpointState s = PlainEndpoint();
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {LoneSocket(SOCK_STREAM)});
}

void EndpointUnknownFlags(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = 0x80;
  BadShape(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {LoneSocket(SOCK_SEQPACKET)});
}

void EndpointNonUserSignals(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.user_signals = 0xffffffffu;
  BadShape(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {LoneSocket(SOCK_SEQPACKET)});
}

void EndpointFdCountLies(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = kHasQueue;
  s.queue_count = 1;
  s.queue_fds = 5;  // 2 + 5 fds announced, 4 sent
  s.queue_bytes = 4096;
  BadShape(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s),
           {LoneSocket(SOCK_SEQPACKET), MakeMemfd(4096, 0), h.Tracer(), h.Tracer()});
}

void EndpointQueueGarbage(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = kHasQueue;
  s.queue_count = 3;
  s.queue_bytes = 4096;
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s),
            {LoneSocket(SOCK_SEQPACKET), MakeMemfd(4096, 0xff)});
}

void EndpointQueueSizeLies(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = kHasQueue;
  s.queue_count = 1;
  s.queue_bytes = 8192;  // the blob has 4096
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s),
            {LoneSocket(SOCK_SEQPACKET), MakeMemfd(4096, 0)});
}

// A 64 MiB queue blob (sparse: it costs the sender nothing), four times what the victim accepts
// from an endpoint: that handle is dropped before anything is read, and "bad" arrives without it.
void EndpointHugeQueueBlob(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = kHasQueue;
  s.queue_count = 1;
  s.queue_bytes = size_t{64} << 20;
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s),
            {LoneSocket(SOCK_SEQPACKET), MakeMemfd(size_t{64} << 20, 0)});
}

void EndpointRingNotAMemfd(Hostile& h) {
  EndpointState s = PlainEndpoint();
  s.flags = kHasRecvRing;
  BadHandle(h, MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {LoneSocket(SOCK_SEQPACKET), h.Tracer()});
}

void EventBogus(Hostile& h) { BadHandle(h, MX_OBJ_TYPE_EVENT, nullptr, 0, h.Tracers(3)); }

void EventUnsealedMemfd(Hostile& h) {
  BadHandle(h, MX_OBJ_TYPE_EVENT, nullptr, 0, {MakeMemfd(4096, 0), MakeMemfd(4096, 0), h.Tracer()});
}

void EventPairBogus(Hostile& h) { BadHandle(h, MX_OBJ_TYPE_EVENT_PAIR, nullptr, 0, h.Tracers(5)); }

void VmoNotAMemfd(Hostile& h) { BadHandle(h, MX_OBJ_TYPE_VMO, nullptr, 0, {h.Tracer()}); }

void SocketWrongType(Hostile& h) {
  BadHandle(h, MX_OBJ_TYPE_SOCKET, nullptr, 0, {LoneSocket(SOCK_SEQPACKET)});
}

void FdHandleWithTwoFds(Hostile& h) { BadShape(h, MX_OBJ_TYPE_FD, nullptr, 0, h.Tracers(2)); }

void UnknownHandleType(Hostile& h) { BadShape(h, 0x7e5701u, nullptr, 0, {h.Tracer()}); }

void ProcessHandle(Hostile& h) { BadShape(h, MX_OBJ_TYPE_PROCESS, nullptr, 0, {h.Tracer()}); }

void MalformedHandleReplyToCall(Hostile& h) {
  const uint32_t txid = AwaitRequest(h);
  EndpointState s = PlainEndpoint();
  h.SendOneHandle(TxidPayload(txid, "bad reply"), MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {h.Tracer()});
  h.SendValid("after");
}

// -- Well-formed, if unusual: accepted.

void MaxHandles(Hostile& h) {
  h.SendValid("before");
  h.SendValid("max", MX_CHANNEL_MAX_MSG_HANDLES);
  h.SendValid("after");
}

// 300 fds in one frame, legitimately: a channel endpoint whose queue holds 5 messages of 60 fd
// handles each. The frame needs the overflow socket (252 fds inline, 50 in one chunk).
void OverflowValidNestedQueue(Hostile& h) {
  h.SendValid("before");
  constexpr uint32_t kMessages = 5, kPerMessage = 60;
  std::vector<uint8_t> blob;
  for (uint32_t m = 0; m < kMessages; ++m) {
    std::vector<uint8_t> desc;
    for (uint32_t i = 0; i < kPerMessage; ++i) AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
    QueueRecord r = {4, kPerMessage, static_cast<uint32_t>(desc.size()), kPerMessage};
    AppendBytes(&blob, &r, sizeof(r));
    AppendBytes(&blob, "q", 1);
    char digit = static_cast<char>('0' + m);
    AppendBytes(&blob, &digit, 1);
    AppendBytes(&blob, "..", 2);
    AppendBytes(&blob, desc.data(), desc.size());
  }
  // As libmx writes a queue blob: every byte written, then sealed against any change.
  int memfd = memfd_create("hostile-queue", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  CHILD_CHECK(memfd >= 0);
  CHILD_CHECK(pwrite(memfd, blob.data(), blob.size(), 0) == static_cast<ssize_t>(blob.size()));
  CHILD_CHECK(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ==
              0);
  int nested[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nested) == 0);
  EndpointState s = PlainEndpoint();
  s.flags = kHasQueue;
  s.queue_count = kMessages;
  s.queue_fds = kMessages * kPerMessage;
  s.queue_bytes = blob.size();
  std::vector<int> fds = {nested[1], memfd};
  std::vector<int> tracers = h.Tracers(kMessages * kPerMessage);
  fds.insert(fds.end(), tracers.begin(), tracers.end());
  const uint32_t total = static_cast<uint32_t>(fds.size());  // 302

  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  std::vector<int> rest(fds.begin() + (kMaxFdsPerDatagram - 1), fds.end());
  OverflowChunk c = {kOverflowMagic, static_cast<uint32_t>(rest.size())};
  CHILD_CHECK_EQ(SendOn(pair[0], &c, sizeof(c), rest.data(), rest.size()), 0);
  close(pair[0]);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_CHANNEL, total, &s, sizeof(s));
  FrameSpec f(kFrameData, h.next_seq(), "nested", desc, 1, total);
  h.set_next_seq(h.next_seq() + 1);
  f.header.flags = kFlagFdOverflow;
  std::vector<int> inline_fds(fds.begin(), fds.begin() + (kMaxFdsPerDatagram - 1));
  inline_fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, inline_fds), 0);
  h.report().fds_sent += static_cast<uint32_t>(rest.size());
  Hostile::CloseFds(fds);
  close(pair[1]);
  close(nested[0]);  // the nested endpoint's peer is gone: it reads its queue, then PEER_CLOSED
  h.SendValid("after");
}

// The peer puts its own socket (the victim endpoint's peer) into a message, as a channel
// endpoint: the victim ends up holding both ends of its own channel.
void OwnEndInside(Hostile& h) {
  h.SendValid("before");
  EndpointState s = PlainEndpoint();
  int self = fcntl(h.sock(), F_DUPFD_CLOEXEC, 0);
  CHILD_CHECK(self >= 0);
  h.SendOneHandle("own end", MX_OBJ_TYPE_CHANNEL, &s, sizeof(s), {self});
}

void ControlFlood(Hostile& h) {
  h.SendValid("before");
  for (int i = 0; i < 5000; ++i) CHILD_CHECK_EQ(h.Send(FrameSpec(kFrameKick, 0)), 0);
  for (int i = 0; i < 1000; ++i) {
    uint32_t masks[2] = {MX_USER_SIGNAL_ALL, i % 2 == 0 ? MX_USER_SIGNAL_0 : MX_USER_SIGNAL_1};
    CHILD_CHECK_EQ(
        h.Send(FrameSpec(kFrameSignal, 0, std::string(reinterpret_cast<char*>(masks), 8))), 0);
  }
  h.SendValid("after");
}

void ZeroLengthDatagram(Hostile& h) {
  h.SendValid("before");
  // recvmsg() returns 0 for this as for the end of the stream; libmx must not take it for the
  // end (it would show PEER_CLOSED while writes still reached us): it breaks the channel.
  CHILD_CHECK_EQ(h.Send(std::vector<uint8_t>{}), 0);
}

// -- Hostile rendezvous clients before the real one.

void ConnectAndSendBeforeAfter(Hostile& h) {
  h.Connect();
  h.SendValid("before");
  h.SendValid("after");
}

void HelloGarbage(Hostile& h) {
  std::vector<int> fds = h.Tracers(2);
  CHILD_CHECK_EQ(h.SendHello(fds.data(), fds.size(), 0x12345678u), 0);
  Hostile::CloseFds(fds);
  h.report().fds_sent += 2;
  ConnectAndSendBeforeAfter(h);
}

void HelloMaxFds(Hostile& h) {
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram);
  CHILD_CHECK_EQ(h.SendHello(fds.data(), fds.size(), kHelloMagic), 0);
  Hostile::CloseFds(fds);
  h.report().fds_sent += kMaxFdsPerDatagram;
  ConnectAndSendBeforeAfter(h);
}

void HelloWrongFdKind(Hostile& h) {
  int fd = h.Tracer();
  CHILD_CHECK_EQ(h.SendHello(&fd, 1, kHelloMagic), 0);
  close(fd);
  h.report().fds_sent += 1;
  ConnectAndSendBeforeAfter(h);
}

// -- The peer dies.

void KillAfterFrames(Hostile& h) {
  h.SendValid("before");
  for (int i = 0; i < 10; ++i) h.SendValid(mx_test::Numbered("m", i), 3);
  raise(SIGKILL);
}

void KillMidOverflow(Hostile& h) {
  h.SendValid("before");
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  std::vector<int> chunk = h.Tracers(kMaxFdsPerDatagram);
  OverflowChunk c = {kOverflowMagic, kMaxFdsPerDatagram};
  CHILD_CHECK_EQ(SendOn(pair[0], &c, sizeof(c), chunk.data(), chunk.size()), 0);
  Hostile::CloseFds(chunk);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 600);
  FrameSpec f(kFrameData, h.next_seq(), "half", desc, 1, 600);
  f.header.flags = kFlagFdOverflow;
  std::vector<int> fds = h.Tracers(kMaxFdsPerDatagram - 1);
  fds.push_back(pair[1]);
  CHILD_CHECK_EQ(h.Send(f, fds), 0);
  raise(SIGKILL);  // the second chunk never comes
}

void ReplyThenKill(Hostile& h) {
  const uint32_t txid = AwaitRequest(h);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  const FrameSpec reply(kFrameData, h.next_seq(), TxidPayload(txid, "reply"), desc, 1, 1);
  CHILD_CHECK_EQ(h.SendWithTracers(reply, 1), 0);
  h.set_next_seq(h.next_seq() + 1);
  h.SendValid("after", 2);
  raise(SIGKILL);
}

// Valid messages "b0", "b1", ... as fast as the victim takes them, until the victim kills us.
// After 100 it tells the victim to start reading.
void BurstUntilKilled(Hostile& h) {
  for (uint64_t i = 0;; ++i) {
    if (i == 100) CHILD_CHECK_OK(mx_test::WriteMessage(h.ctl(), "go", 2));
    h.SendValid(mx_test::Numbered("b", i));
  }
}

// The same through libmx itself (a well-behaved writer, connected the ordinary way): 4 KiB
// messages "b<i>\0..." with an fd each. The victim starts reading only after 200 (800 KiB, more
// than the socket holds), so messages split between a handle frame on the socket and their
// payload in the message ring. The victim kills the writer while it is at it; wherever the kill
// lands, the victim must get whole messages in order.
void LibmxBurstUntilKilled(Hostile& h) {
  mx_handle_t ch;
  CHILD_CHECK_OK(mx_service_connect(h.service().c_str(), 0, &ch));
  std::vector<char> bytes(4096, 'p');
  for (uint64_t i = 0;; ++i) {
    if (i == 200) CHILD_CHECK_OK(mx_test::WriteMessage(h.ctl(), "go", 2));
    const std::string text = mx_test::Numbered("b", i);
    memcpy(bytes.data(), text.c_str(), text.size() + 1);
    mx_handle_t fd_handle;
    CHILD_CHECK_OK(mx_fd_wrap(h.Tracer(), &fd_handle));
    for (;;) {
      mx_status_t st =
          mx_channel_write(ch, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), &fd_handle, 1);
      if (st == MX_OK) break;
      CHILD_CHECK_EQ(st, MX_ERR_SHOULD_WAIT);
      CHILD_CHECK_OK(mx_object_wait_one(ch, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                        mx_deadline_after(MX_SEC(30)), nullptr));
    }
  }
}

const std::vector<Scenario>& Scenarios() {
  using O = Outcome;
  static const std::vector<Scenario>* all = new std::vector<Scenario>{
      {"Garbage", "1 KiB of garbage with 3 fds", O::kBreaks, {"before"}, Garbage},
      {"ShortDatagram",
       "16 bytes, shorter than a header, 1 fd",
       O::kBreaks,
       {"before"},
       ShortDatagram},
      {"BadMagic", "wrong magic", O::kBreaks, {"before"}, BadMagic},
      {"ReservedHeaderBits", "reserved header field set", O::kBreaks, {"before"}, ReservedBits},
      {"UnknownFlags", "unknown frame flag", O::kBreaks, {"before"}, UnknownFlags},
      {"TruncatedFrame",
       "header claims 100 bytes, 50 follow",
       O::kBreaks,
       {"before"},
       TruncatedFrame},
      {"TruncatedHandleSection",
       "handle descriptor cut short",
       O::kBreaks,
       {"before"},
       TruncatedHandleSection},
      {"OversizedPayloadClaim",
       "claims 65,537 payload bytes",
       O::kBreaks,
       {"before"},
       OversizedPayloadClaim},
      {"MoreFdsThanDeclared",
       "declares 1 fd, attaches 5",
       O::kBreaks,
       {"before"},
       MoreFdsThanDeclared},
      {"FewerFdsThanDeclared",
       "declares 3 fds, attaches 1",
       O::kBreaks,
       {"before"},
       FewerFdsThanDeclared},
      {"HandleClaimsMoreFdsThanFrame",
       "a handle claims 2 of the frame's 1 fd",
       O::kBreaks,
       {"before"},
       HandleClaimsMoreFdsThanFrame},
      {"MoreHandlesThanDescribed",
       "declares 2 handles, describes 1",
       O::kBreaks,
       {"before"},
       MoreHandlesThanDescribed},
      {"FdsWithoutHandles",
       "4 fds on a frame without handles",
       O::kBreaks,
       {"before"},
       FdsWithoutHandles},
      {"TooManyHandles", "65 handles, 65 fds", O::kBreaks, {"before"}, TooManyHandles},
      {"HandleExtraTooLarge",
       "a 5,000-byte handle descriptor",
       O::kBreaks,
       {"before"},
       HandleExtraTooLarge},
      {"HandleReservedField",
       "handle descriptor reserved field set",
       O::kBreaks,
       {"before"},
       HandleReservedField},
      {"MaxFdsPerDatagram",
       "254 fds (refused by the kernel), then 253 on a frame declaring 0",
       O::kBreaks,
       {"before"},
       MaxFdsPerDatagram},
      {"FdFlood",
       "datagrams of 253 fds queued before the victim accepts, until the kernel "
       "refuses more",
       O::kBreaks,
       {"before"},
       FdFlood,
       false,
       MX_OK,
       MX_OK,
       Connect::kItself},
      {"OverflowShortOfFds",
       "overflow frame claims 1,000 fds, delivers 758",
       O::kBreaks,
       {"before"},
       OverflowShortOfFds},
      {"OverflowBadChunk",
       "overflow chunk with a wrong magic",
       O::kBreaks,
       {"before"},
       OverflowBadChunk},
      {"OverflowFlagWithFewFds",
       "overflow flag on a 5-fd frame",
       O::kBreaks,
       {"before"},
       OverflowFlagWithFewFds},
      {"OverflowClaimsTooManyFds",
       "overflow frame claiming 100,000 fds (over kMaxFrameFds)",
       O::kBreaks,
       {"before"},
       OverflowClaimsTooManyFds},
      {"StartupFrameWithOverflowFds",
       "startup frame with 253 fds claiming 4,096",
       O::kBreaks,
       {"before"},
       StartupFrameWithOverflowFds},
      {"HugeDatagram",
       "64 MiB datagram, halved until the kernel accepts it",
       O::kBreaks,
       {"before"},
       HugeDatagram},
      {"UnknownKind", "frame kind 9", O::kBreaks, {"before"}, UnknownKind},
      {"ZeroKind", "frame kind 0", O::kBreaks, {"before"}, ZeroKind},
      {"StartupFrameOnChannel",
       "a startup frame on a channel",
       O::kBreaks,
       {"before"},
       StartupFrameOnChannel},
      {"KickWithPayload", "wake-up frame with a payload", O::kBreaks, {"before"}, KickWithPayload},
      {"SignalNonUserBits",
       "peer signal frame setting READABLE|PEER_CLOSED",
       O::kBreaks,
       {"before"},
       SignalNonUserBits},
      {"RingNotAMemfd",
       "message ring announced with a pipe",
       O::kBreaks,
       {"before"},
       RingNotAMemfd},
      {"RingUnsealed",
       "message ring announced with an unsealed 1 MiB memfd",
       O::kBreaks,
       {"before"},
       RingUnsealed},
      {"RingAnnouncedTwice",
       "a second message ring while the first is in use",
       O::kBreaks,
       {"before", "in ring"},
       RingAnnouncedTwice},
      {"RingReplacedBeforeItWasRead",
       "a new message ring while the old one, marked done, holds an unread record",
       O::kBreaks,
       {"before"},
       RingReplacedBeforeItWasRead},
      {"RingReplacedInOrder",
       "old ring done and read, socket frames, then a new ring (an endpoint that moved)",
       O::kContinues,
       {"before", "first ring", "socket", "second ring", "after"},
       RingReplacedInOrder},
      {"SequenceGap", "data frame 5 ahead of sequence", O::kBreaks, {"before"}, SequenceGap},
      {"SequenceReplay",
       "data frame with an old sequence number",
       O::kBreaks,
       {"before", "second"},
       SequenceReplay},
      {"PayloadInRingWithoutRing",
       "split message without a ring",
       O::kBreaks,
       {"before"},
       PayloadInRingWithoutRing},
      {"GarbageReplyToCall",
       "garbage as the reply to a pending call",
       O::kBreaks,
       {},
       GarbageReplyToCall,
       true,
       MX_ERR_CALL_FAILED,
       MX_ERR_PEER_CLOSED},

      {"EndpointExtraShort",
       "endpoint descriptor of 7 bytes",
       O::kBreaks,
       {"before"},
       EndpointExtraShort},
      {"EndpointNotASocket",
       "endpoint whose socket is a pipe",
       O::kContinues,
       {"before", "after"},
       EndpointNotASocket},
      {"EndpointStreamSocket",
       "endpoint whose socket is SOCK_STREAM",
       O::kContinues,
       {"before", "after"},
       EndpointStreamSocket},
      {"EndpointUnknownFlags",
       "endpoint with unknown flags",
       O::kBreaks,
       {"before"},
       EndpointUnknownFlags},
      {"EndpointNonUserSignals",
       "endpoint carrying non-user signal bits",
       O::kBreaks,
       {"before"},
       EndpointNonUserSignals},
      {"EndpointFdCountLies",
       "endpoint announcing 7 fds, carrying 4",
       O::kBreaks,
       {"before"},
       EndpointFdCountLies},
      {"EndpointQueueGarbage",
       "endpoint whose queue blob is garbage",
       O::kContinues,
       {"before", "after"},
       EndpointQueueGarbage},
      {"EndpointQueueSizeLies",
       "endpoint whose queue blob is shorter than announced",
       O::kContinues,
       {"before", "after"},
       EndpointQueueSizeLies},
      {"EndpointHugeQueueBlob",
       "endpoint with a 64 MiB (sparse) queue blob",
       O::kContinues,
       {"before", "bad", "after"},
       EndpointHugeQueueBlob},
      {"EndpointRingNotAMemfd",
       "endpoint whose ring is a pipe",
       O::kContinues,
       {"before", "after"},
       EndpointRingNotAMemfd},
      {"EventBogus",
       "event made of three pipe ends",
       O::kContinues,
       {"before", "after"},
       EventBogus},
      {"EventUnsealedMemfd",
       "event with an unsealed memfd",
       O::kContinues,
       {"before", "after"},
       EventUnsealedMemfd},
      {"EventPairBogus",
       "eventpair made of five pipe ends",
       O::kContinues,
       {"before", "after"},
       EventPairBogus},
      {"VmoNotAMemfd", "vmo that is a pipe", O::kContinues, {"before", "after"}, VmoNotAMemfd},
      {"SocketWrongType",
       "socket handle that is SOCK_SEQPACKET",
       O::kContinues,
       {"before", "after"},
       SocketWrongType},
      {"FdHandleWithTwoFds", "fd handle with two fds", O::kBreaks, {"before"}, FdHandleWithTwoFds},
      {"UnknownHandleType", "handle of an unknown type", O::kBreaks, {"before"}, UnknownHandleType},
      {"ProcessHandle",
       "a process handle (not transferable)",
       O::kBreaks,
       {"before"},
       ProcessHandle},
      {"MalformedHandleReplyToCall",
       "call reply carrying a malformed endpoint",
       O::kContinues,
       {"after"},
       MalformedHandleReplyToCall,
       true,
       MX_ERR_CALL_FAILED,
       MX_ERR_PEER_CLOSED},

      {"MaxHandles",
       "64 fd handles in one message (valid)",
       O::kContinues,
       {"before", "max", "after"},
       MaxHandles},
      {"OverflowValidNestedQueue",
       "302 fds in one frame: an endpoint queueing 5 x 60 fds",
       O::kContinues,
       {"before", "nested", "after"},
       OverflowValidNestedQueue},
      {"OwnEndInside",
       "the peer sends its own socket as an endpoint",
       O::kContinues,
       {"before", "own end"},
       OwnEndInside},
      {"ControlFlood",
       "5,000 wake-ups and 1,000 signal frames",
       O::kContinues,
       {"before", "after"},
       ControlFlood},
      {"HelloGarbage",
       "rendezvous Hello with a wrong magic and 2 fds",
       O::kContinues,
       {"before", "after"},
       HelloGarbage,
       false,
       MX_OK,
       MX_OK,
       Connect::kItself},
      {"HelloMaxFds",
       "rendezvous Hello carrying 253 fds",
       O::kContinues,
       {"before", "after"},
       HelloMaxFds,
       false,
       MX_OK,
       MX_OK,
       Connect::kItself},
      {"HelloWrongFdKind",
       "rendezvous Hello carrying a pipe instead of a socket",
       O::kContinues,
       {"before", "after"},
       HelloWrongFdKind,
       false,
       MX_OK,
       MX_OK,
       Connect::kItself},

      {"ZeroLengthDatagram", "an empty datagram", O::kBreaks, {"before"}, ZeroLengthDatagram},

      {"KillAfterFrames",
       "11 messages (31 fds), then SIGKILL",
       O::kDies,
       {"before", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"},
       KillAfterFrames},
      {"KillMidOverflow",
       "SIGKILL between an overflow frame and its second chunk",
       O::kDies,
       {"before"},
       KillMidOverflow},
      {"ReplyThenKill",
       "replies to a call with an fd, sends one more message, SIGKILL",
       O::kDies,
       {"after"},
       ReplyThenKill,
       true,
       MX_OK,
       MX_OK},
      {"KilledMidBurst",
       "killed by the victim in the middle of a burst",
       O::kKilled,
       {},
       BurstUntilKilled},
      {"LibmxWriterKilledMidSpill",
       "a libmx writer of 4 KiB messages with an fd each, killed once the socket is full and "
       "messages go through the message ring",
       O::kKilled,
       {},
       LibmxBurstUntilKilled,
       false,
       MX_OK,
       MX_OK,
       Connect::kItself},
  };
  return *all;
}

const Scenario* FindScenario(const std::string& name) {
  for (const Scenario& s : Scenarios()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// args: scenario name, service name. Startup handles: PA_USER0 the control channel, PA_USER1 the
// tracer (an fd handle: the write end of the victim's pipe).
MX_CHILD(hostile_peer) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const Scenario* scenario = FindScenario(args[0]);
  CHILD_CHECK(scenario != nullptr);
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  int tracer = -1;
  CHILD_CHECK_OK(mx_fd_unwrap(mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0)), &tracer));
  Hostile h(ctl, tracer, args[1]);
  if (scenario->connect == Connect::kFirst) h.Connect();
  scenario->hostile(h);
  h.CloseTracer();
  if (scenario->outcome == Outcome::kBreaks) h.ExpectHangup();
  h.CloseSocket();
  CHILD_CHECK_OK(mx_test::WritePod(ctl, h.report()));
  mx_handle_close(ctl);
  return 0;
}

// Echoes every message (handles included) on PA_USER0 until the peer closes.
MX_CHILD(good_echo) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (;;) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(120)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size(), msg.handles));
  }
  mx_handle_close(ch);
  return 0;
}

// ---- The victim ---------------------------------------------------------------------------------

struct Drained {
  std::vector<std::string> payloads;
  size_t handles = 0;          // handles received (nested ones included)
  size_t nested_messages = 0;  // messages read from endpoints that arrived in messages
  mx_status_t end = MX_OK;     // what ended the drain
};

// Reads what an endpoint that arrived in a message already holds, without waiting (its peer may
// be this very process), and closes everything.
void DrainNested(mx_handle_t ch, Drained* d) {
  for (;;) {
    std::vector<uint8_t> bytes(MX_CHANNEL_MAX_MSG_BYTES);
    std::vector<mx_handle_t> handles(MX_CHANNEL_MAX_MSG_HANDLES);
    uint32_t nb = 0, nh = 0;
    if (mx_channel_read(ch, 0, bytes.data(), handles.data(), MX_CHANNEL_MAX_MSG_BYTES,
                        MX_CHANNEL_MAX_MSG_HANDLES, &nb, &nh) != MX_OK) {
      return;
    }
    ++d->nested_messages;
    d->handles += nh;
    for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles[i]);
  }
}

// Reads |ch| until it reports something other than a message, closing every handle.
void Drain(mx_handle_t ch, Drained* d, size_t max_messages = SIZE_MAX) {
  while (d->payloads.size() < max_messages) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(ch, &msg);
    if (status != MX_OK) {
      d->end = status;
      return;
    }
    d->payloads.emplace_back(msg.bytes.begin(), msg.bytes.end());
    d->handles += msg.handles.size();
    for (mx_handle_t h : msg.handles) {
      if (mx_test::BasicInfo(h).type == MX_OBJ_TYPE_CHANNEL) DrainNested(h, d);
    }
    mx_test::CloseAll(&msg.handles);
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// A payload as a printable name (call replies start with a binary txid).
std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

class HostilePeerTest : public mx_test::MultiprocessTest,
                        public ::testing::WithParamInterface<Scenario> {
 protected:
  void SetUp() override {
    mx_test::MultiprocessTest::SetUp();
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &good_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("good_echo", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
              MX_OK);
    good_child_ = mx_test::ScopedProcess(process);
    // A second, in-process channel with a message parked in it across the attack.
    ASSERT_EQ(mx_channel_create(0, &local_a_, &local_b_), MX_OK);
    ASSERT_EQ(mx_test::WriteMessage(local_a_, "parked", 6), MX_OK);
  }

  void TearDown() override {
    Message msg;
    EXPECT_EQ(mx_test::ReadMessage(local_b_, &msg), MX_OK);
    EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "parked");
    mx_handle_close(local_a_);
    mx_handle_close(local_b_);
    mx_handle_close(good_);
    if (good_child_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(good_child_.Join(), 0);
    }
    good_child_ = mx_test::ScopedProcess();
    mx_test::MultiprocessTest::TearDown();
  }

  // One round trip to the well-behaved child, with an event riding along.
  void ExpectGoodChannelWorks(const char* when) {
    SCOPED_TRACE(when);
    mx_handle_t event;
    ASSERT_EQ(mx_event_create(0, &event), MX_OK);
    const mx_koid_t koid = mx_test::KoidOf(event);
    const uint32_t txid = ++txid_;
    struct {
      uint32_t txid;
      char text[12];
    } request = {txid, "still here"}, reply = {};
    mx_handle_t got = MX_HANDLE_INVALID;
    mx_channel_call_args_t args = {&request,        &event, &reply,        &got,
                                   sizeof(request), 1,      sizeof(reply), 1};
    uint32_t nb = 0, nh = 0;
    mx_status_t rs = MX_OK;
    ASSERT_EQ(mx_channel_call(good_, 0, mx_test::DefaultDeadline(), &args, &nb, &nh, &rs), MX_OK)
        << mx_test::StatusName(rs);
    EXPECT_EQ(nb, sizeof(request));
    EXPECT_EQ(reply.txid, txid);
    EXPECT_STREQ(reply.text, "still here");
    ASSERT_EQ(nh, 1u);
    EXPECT_EQ(mx_test::KoidOf(got), koid);
    mx_handle_close(got);
  }

  // Waits for the hostile client and accepts it (hostile Hellos before it are dropped).
  mx_handle_t Accept(mx_handle_t listener) {
    const mx_time_t deadline = mx_test::DefaultDeadline();
    for (;;) {
      mx_status_t st = mx_object_wait_one(listener, MX_SERVICE_READABLE, deadline, nullptr);
      if (st != MX_OK) {
        ADD_FAILURE() << "no client: " << mx_test::StatusName(st);
        return MX_HANDLE_INVALID;
      }
      mx_handle_t ch = MX_HANDLE_INVALID;
      st = mx_service_accept(listener, &ch);
      if (st == MX_OK) return ch;
      if (st != MX_ERR_SHOULD_WAIT) {
        ADD_FAILURE() << "mx_service_accept: " << mx_test::StatusName(st);
        return MX_HANDLE_INVALID;
      }
    }
  }

  mx_handle_t good_ = MX_HANDLE_INVALID;
  mx_handle_t local_a_ = MX_HANDLE_INVALID, local_b_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess good_child_;
  uint32_t txid_ = 0x100;
};

// Waits (30 s at most) until every writer of the pipe |read_fd| is gone: read() returns 0.
bool WaitForEof(int read_fd) {
  const mx_time_t deadline = mx_test::DefaultDeadline();
  for (;;) {
    struct pollfd p = {read_fd, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r > 0) {
      char c;
      ssize_t n = read(read_fd, &c, 1);
      if (n == 0) return true;
    }
    if (mx_time_get(MX_CLOCK_MONOTONIC) >= deadline) return false;
  }
}

std::atomic<uint32_t> g_service_counter{0};

TEST_P(HostilePeerTest, VictimSurvivesClosesEveryFdAndKeepsOtherChannels) {
  const Scenario& scenario = GetParam();
  ASSERT_NO_FATAL_FAILURE(ExpectGoodChannelWorks("before the attack"));
  const int fds_before = mx_test::CountOpenFds();

  // The tracer: the peer attaches duplicates of this pipe's write end wherever it sends fds.
  int tracer[2];
  ASSERT_EQ(pipe2(tracer, O_CLOEXEC), 0);
  mx_handle_t tracer_handle;
  ASSERT_EQ(mx_fd_wrap(tracer[1], &tracer_handle), MX_OK);

  const std::string service =
      "@libmx-hostile-" + std::to_string(getpid()) + "-" + std::to_string(g_service_counter++);
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(service.c_str(), 0, &listener), MX_OK);
  mx_handle_t ctl, ctl_remote, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("hostile_peer",
                          {{PA_HND(PA_USER0, 0), ctl_remote}, {PA_HND(PA_USER1, 0), tracer_handle}},
                          {scenario.name, service}, &process),
      MX_OK);
  mx_test::ScopedProcess hostile(process);
  mx_handle_t victim = Accept(listener);
  mx_handle_close(listener);
  ASSERT_NE(victim, MX_HANDLE_INVALID);

  // A call first, if the scenario answers one.
  std::string call_result;
  if (scenario.victim_calls) {
    struct {
      uint32_t txid;
      char text[8];
    } request = {kCallTxid, "call"};
    std::vector<uint8_t> reply(256);
    mx_handle_t got = MX_HANDLE_INVALID;
    mx_channel_call_args_t args = {&request,
                                   nullptr,
                                   reply.data(),
                                   &got,
                                   sizeof(request),
                                   0,
                                   static_cast<uint32_t>(reply.size()),
                                   1};
    uint32_t nb = 0, nh = 0;
    mx_status_t rs = MX_OK;
    mx_status_t st = mx_channel_call(victim, 0, mx_test::DefaultDeadline(), &args, &nb, &nh, &rs);
    EXPECT_EQ(st, scenario.call_status) << mx_test::StatusName(st);
    if (st == MX_ERR_CALL_FAILED) {
      EXPECT_EQ(rs, scenario.call_read_status) << mx_test::StatusName(rs);
    }
    if (st == MX_OK) {
      EXPECT_EQ(nh, 1u);
      if (nh == 1) {
        EXPECT_EQ(mx_test::BasicInfo(got).type, MX_OBJ_TYPE_FD);
        mx_handle_close(got);
      }
    }
    call_result = std::string("call ") + mx_test::StatusName(st) +
                  (st == MX_ERR_CALL_FAILED ? std::string("/") + mx_test::StatusName(rs) : "") +
                  "; ";
  }

  // Read everything the peer sent; the other channels must work in the middle of it.
  Drained drained;
  if (scenario.outcome == Outcome::kKilled) {
    Message go;  // the writer is well into its burst
    ASSERT_EQ(mx_test::ReadMessage(ctl, &go), MX_OK);
    Drain(victim, &drained, 300);
    EXPECT_EQ(hostile.KillAndJoin(), -SIGKILL);
  } else {
    Drain(victim, &drained, 1);
  }
  ASSERT_NO_FATAL_FAILURE(ExpectGoodChannelWorks("during the attack"));
  if (drained.end == MX_OK) Drain(victim, &drained);
  EXPECT_EQ(drained.end, MX_ERR_PEER_CLOSED) << mx_test::StatusName(drained.end);

  if (scenario.outcome == Outcome::kKilled) {
    // Whatever arrived is whole and in order: b0, b1, ..., with nothing after the last one.
    ASSERT_GE(drained.payloads.size(), 300u);
    for (size_t i = 0; i < drained.payloads.size(); ++i) {
      const std::string& p = drained.payloads[i];
      EXPECT_EQ(std::string(p.c_str()), mx_test::Numbered("b", i));  // up to the NUL
      const size_t nul = p.find('\0');  // LibmxWriterKilledMidSpill pads with 'p'
      if (nul != std::string::npos) {
        EXPECT_EQ(p.find_first_not_of('p', nul + 1), std::string::npos);
      }
    }
    EXPECT_EQ(drained.handles, drained.payloads.size());
  } else {
    std::vector<std::string> printable;
    for (const std::string& p : drained.payloads) printable.push_back(Printable(p));
    EXPECT_EQ(printable, scenario.messages);
  }

  // The endpoint reads as closed and refuses writes.
  EXPECT_TRUE(mx_test::PendingSignals(victim) & MX_CHANNEL_PEER_CLOSED);
  EXPECT_EQ(mx_channel_write(victim, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);

  Report report = {};
  bool have_report = false;
  if (scenario.outcome != Outcome::kDies && scenario.outcome != Outcome::kKilled) {
    ASSERT_EQ(mx_test::ReadPod(ctl, &report), MX_OK);
    have_report = true;
    if (scenario.outcome == Outcome::kBreaks) {
      EXPECT_EQ(report.hung_up, 1u) << "the peer never saw the victim hang up";
    }
  }
  ASSERT_EQ(mx_handle_close(victim), MX_OK);
  mx_handle_close(ctl);
  if (scenario.outcome == Outcome::kDies) {
    EXPECT_EQ(hostile.Join(), -SIGKILL);
  } else if (scenario.outcome != Outcome::kKilled) {
    EXPECT_EQ(hostile.Join(), 0);
  }
  hostile = mx_test::ScopedProcess();  // closes the process handle

  // Every fd the peer sent is closed: the tracer's write ends are all gone ...
  const bool tracer_closed = WaitForEof(tracer[0]);
  EXPECT_TRUE(tracer_closed) << "an fd the hostile peer sent is still open somewhere";
  close(tracer[0]);
  // ... and this process has exactly the fds it had.
  const int fds_after = mx_test::CountOpenFds();
  EXPECT_EQ(fds_after, fds_before);

  ASSERT_NO_FATAL_FAILURE(ExpectGoodChannelWorks("after the attack"));

  std::string figures = "[hostile] " + std::string(scenario.name) + ": " + scenario.what + ". ";
  if (have_report) {
    figures += "peer sent " + std::to_string(report.frames_sent) + " datagrams with " +
               std::to_string(report.fds_sent) + " fds";
    if (report.largest_datagram > 0) {
      figures += ", largest " + std::to_string(report.largest_datagram) + " bytes";
    }
    if (report.refused_errno != 0) {
      figures += std::string(", kernel refused one send: ") + strerrorname_np(report.refused_errno);
    }
    figures += report.hung_up ? ", saw the victim hang up" : "";
    figures += ". ";
  }
  figures += "Victim: " + call_result + "read " + std::to_string(drained.payloads.size()) +
             " messages [" +
             (drained.payloads.size() > 12 ? std::string("...") : Join(scenario.messages)) +
             "] with " + std::to_string(drained.handles) + " handles";
  if (drained.nested_messages > 0) {
    figures += " (" + std::to_string(drained.nested_messages) + " nested messages)";
  }
  figures += ", then " + std::string(mx_test::StatusName(drained.end)) + "; open fds " +
             std::to_string(fds_before) + " -> " + std::to_string(fds_after) +
             (tracer_closed ? ", every fd sent was closed" : ", AN FD LEAKED");
  printf("%s\n", figures.c_str());
}

std::string ScenarioName(const ::testing::TestParamInfo<Scenario>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Scenarios, HostilePeerTest, ::testing::ValuesIn(Scenarios()),
                         ScenarioName);

}  // namespace
