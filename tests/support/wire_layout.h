// SPDX-License-Identifier: BSD-3-Clause
// The wire format of libmx channels and rendezvous as a hostile peer writes it, for tests whose
// attacker speaks the raw protocol.
//
// Written out from docs/design.md and docs/rendezvous.md rather than taken from src/: a hostile
// peer has no access to libmx's headers either, and a format change that breaks these tests
// should be a visible decision.
#pragma once

#include <errno.h>
#include <magenta/syscalls.h>
#include <magenta/types.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx_test::wire {

constexpr uint32_t kFrameMagic = 0x3146584du;  // "MXF1"
enum : uint8_t {
  kFrameData = 1,
  kFrameSignal = 2,
  kFrameRing = 3,
  kFrameKick = 4,
  kFrameStartup = 5,
  kFrameNoWrite = 6,  // the sender's end leaves without WRITE: no data from |seq| on
};
constexpr uint8_t kFlagFdOverflow = 1;
constexpr uint8_t kFlagPayloadInRing = 2;

struct FrameHeader {
  uint32_t magic;
  uint8_t kind;
  uint8_t flags;
  uint16_t reserved;
  uint64_t seq;
  uint32_t num_bytes;
  uint32_t num_handles;
  uint32_t desc_bytes;
  uint32_t num_fds;
};
static_assert(sizeof(FrameHeader) == 32);

struct WireHandle {
  uint32_t type;
  uint32_t rights;
  uint64_t koid;
  uint64_t related_koid;
  uint32_t num_fds;
  uint32_t extra_bytes;
  uint32_t info;
  uint32_t reserved;
};
static_assert(sizeof(WireHandle) == 40);

// A channel endpoint's |extra| (docs/design.md, "The local queue and moving endpoints"; the
// count of socket frames seen came with the shared-memory ring as the data path, the peer's
// write limit with endpoints that travel without WRITE).
// Bit 1 once said a send ring came along; a send ring never travels, and the bit is refused.
constexpr uint32_t kHasSendRing = 1;
constexpr uint32_t kHasRecvRing = 2;
constexpr uint32_t kHasQueue = 4;
constexpr uint32_t kPeerNoWrite = 8;
struct EndpointState {
  uint64_t send_seq;
  uint64_t recv_seq;
  uint32_t user_signals;
  uint32_t flags;
  uint32_t queue_count;
  uint32_t queue_fds;
  uint64_t queue_bytes;
  uint64_t socket_frames_seen;
  uint64_t peer_write_limit;
};
static_assert(sizeof(EndpointState) == 56);

struct QueueRecord {
  uint32_t num_bytes;
  uint32_t num_handles;
  uint32_t desc_bytes;
  uint32_t num_fds;
};

constexpr uint32_t kOverflowMagic = 0x4f46584du;  // "MXFO"
struct OverflowChunk {
  uint32_t magic;
  uint32_t count;
};

// The rendezvous Hello (docs/rendezvous.md, "Protocol").
constexpr uint32_t kHelloMagic = 0x4f4c4548u;  // "HELO"
struct Hello {
  uint32_t magic;
  uint32_t version;
  uint64_t server_koid;
  uint64_t client_koid;
};
static_assert(sizeof(Hello) == 24);

constexpr size_t kMaxFdsPerDatagram = 253;  // SCM_MAX_FD

inline void AppendBytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

inline void AppendHandle(std::vector<uint8_t>* desc, uint32_t type, uint32_t num_fds,
                         const void* extra = nullptr, uint32_t extra_bytes = 0,
                         uint32_t reserved = 0) {
  WireHandle w = {};
  w.type = type;
  w.rights = 0xffffffffu;  // the victim masks rights to what the type may carry
  w.koid = 0x7e57000000000001ull;
  w.num_fds = num_fds;
  w.extra_bytes = extra_bytes;
  w.reserved = reserved;
  AppendBytes(desc, &w, sizeof(w));
  if (extra_bytes > 0) AppendBytes(desc, extra, extra_bytes);
}

// A frame whose header agrees with its parts; scenarios that lie edit |header| afterwards.
struct FrameSpec {
  FrameHeader header = {};
  std::string payload;
  std::vector<uint8_t> desc;

  FrameSpec(uint8_t kind, uint64_t seq, std::string bytes = {}, std::vector<uint8_t> handles = {},
            uint32_t num_handles = 0, uint32_t num_fds = 0)
      : payload(std::move(bytes)), desc(std::move(handles)) {
    header.magic = kFrameMagic;
    header.kind = kind;
    header.seq = seq;
    header.num_bytes = static_cast<uint32_t>(payload.size());
    header.num_handles = num_handles;
    header.desc_bytes = static_cast<uint32_t>(desc.size());
    header.num_fds = num_fds;
  }

// GCC 12 at -O3 warns (-Warray-bounds, -Wstringop-overflow/-overread) on copying an empty payload
// into the encoded frame after inlining; the copies are guarded and in bounds.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
  std::vector<uint8_t> Encode() const {
    std::vector<uint8_t> out;
    out.reserve(sizeof(header) + payload.size() + desc.size());
    AppendBytes(&out, &header, sizeof(header));
    AppendBytes(&out, payload.data(), payload.size());
    AppendBytes(&out, desc.data(), desc.size());
    return out;
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
};

// Sends one datagram on |sock| with |fds| attached, waiting for room (30 s at most). 0 or errno.
inline int SendOn(int sock, const void* data, size_t size, const int* fds, size_t num_fds) {
  struct iovec iov = {const_cast<void*>(data), size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (num_fds > 0) {
    control.resize(CMSG_SPACE(sizeof(int) * num_fds));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * num_fds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * num_fds);
  }
  const mx_time_t deadline = mx_deadline_after(MX_SEC(30));
  for (;;) {
    if (sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN || mx_time_get(MX_CLOCK_MONOTONIC) >= deadline) return errno;
    struct pollfd p = {sock, POLLOUT, 0};
    poll(&p, 1, 100);
  }
}

// Connects to the abstract rendezvous |service| ("@name") and sends a Hello of |magic| carrying
// |fds|. Returns 0 or an errno.
inline int SendHelloTo(const std::string& service, const int* fds, size_t num_fds,
                       uint32_t magic = kHelloMagic, uint64_t koid_base = 0x7e57000000000010ull) {
  int conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (conn < 0) return errno;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (service.size() < 2 || service[0] != '@' || service.size() >= sizeof(addr.sun_path)) {
    close(conn);
    return EINVAL;
  }
  memcpy(addr.sun_path + 1, service.data() + 1, service.size() - 1);
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + service.size());
  if (connect(conn, reinterpret_cast<struct sockaddr*>(&addr), len) != 0) {
    int err = errno;
    close(conn);
    return err;
  }
  Hello hello = {magic, 1, koid_base, koid_base + 0x10};
  int err = SendOn(conn, &hello, sizeof(hello), fds, num_fds);
  close(conn);
  return err;
}

// Becomes the raw peer of a libmx endpoint: makes a SEQPACKET pair, hands one end to the
// rendezvous |service| in a Hello (the victim's mx_service_accept builds its endpoint around it)
// and returns the other end in |*sock|. 0 or an errno.
inline int ConnectRawPeer(const std::string& service, int* sock,
                          uint64_t koid_base = 0x7e57000000000010ull) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return errno;
  int err = SendHelloTo(service, &pair[1], 1, kHelloMagic, koid_base);
  close(pair[1]);
  if (err != 0) {
    close(pair[0]);
    return err;
  }
  *sock = pair[0];
  return 0;
}

}  // namespace mx_test::wire
