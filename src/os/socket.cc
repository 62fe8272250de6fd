// SPDX-License-Identifier: BSD-3-Clause
#include "os/socket.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "os/eintr.h"
#include "os/fd.h"
#include "os/status.h"

namespace mx::internal {

mx_status_t CreateSeqpacketPair(UniqueFd* a, UniqueFd* b) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
    return StatusFromErrno(errno);
  }
  a->reset(sv[0]);
  b->reset(sv[1]);
  return MX_OK;
}

mx_status_t SendDatagram(int sock, const struct iovec* iov, size_t iov_count, const int* fds,
                         size_t num_fds) {
  struct msghdr msg = {};
  msg.msg_iov = const_cast<struct iovec*>(iov);
  msg.msg_iovlen = iov_count;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram)];
  if (num_fds > 0) {
    if (num_fds > kMaxFdsPerDatagram) return MX_ERR_OUT_OF_RANGE;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * num_fds);
    // CMSG_SPACE pads to 8 bytes: clear the padding too (an odd fd count leaves 4 bytes the
    // kernel is handed but ignores; valgrind reports them as uninitialised).
    std::memset(control, 0, msg.msg_controllen);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * num_fds);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * num_fds);
  }
  if (RetryOnEintr([&] { return ::sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); }) >= 0) {
    return MX_OK;
  }
  return StatusFromErrno(errno);
}

namespace {

// recvmsg, made again after EINTR and after the first ECONNRESET. The peer closed with
// datagrams of ours still unread in its queue: Linux then reports ECONNRESET once, *before* the
// datagrams the peer sent us that are still queued here; the error is cleared by reporting it.
// Those datagrams were sent before the close and must still be read (Magenta: a closed peer's
// messages stay readable), so read on: the queue comes next, then the end of the stream.
ssize_t RecvmsgPastReset(int sock, struct msghdr* msg, int flags) {
  auto receive = [&] { return RetryOnEintr([&] { return ::recvmsg(sock, msg, flags); }); };
  ssize_t n = receive();
  if (n < 0 && errno == ECONNRESET) n = receive();
  return n;
}

// One recvmsg with the end-of-stream rules of ReceiveDatagram. |flags| adds MSG_PEEK. The control
// buffer holds exactly |max_fds| fds (at most kMaxFdsPerDatagram; 0: no buffer, so no fd is
// installed): the kernel installs no more than fit, whatever the datagram carries, and reports
// the rest as MSG_CTRUNC. Its length is CMSG_LEN, not CMSG_SPACE: the kernel fills every int the
// buffer has room for, and CMSG_SPACE's padding is room for one more when |max_fds| is odd.
mx_status_t Receive(int sock, void* buffer, size_t capacity, int flags, size_t max_fds,
                    ReceivedDatagram* out) {
  const bool with_control = max_fds > 0;
  if (max_fds > kMaxFdsPerDatagram) max_fds = kMaxFdsPerDatagram;
  struct iovec iov = {buffer, capacity};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram) + 64];
  if (with_control) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_LEN(sizeof(int) * max_fds);
  }
  const ssize_t n =
      RecvmsgPastReset(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC | flags);
  if (n < 0) return StatusFromErrno(errno);
  out->fds.clear();
  out->bad_control = (msg.msg_flags & MSG_CTRUNC) != 0;
  if (with_control) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          out->fds.emplace_back(fd);
        }
      } else {
        out->bad_control = true;
      }
    }
  }
  if (n == 0 && out->fds.empty() && !out->bad_control && PeerHungUp(sock)) {
    // 0 bytes is the end of the stream, or an empty datagram. libmx never sends one (every
    // frame has a header), but a hostile peer may: only a peer that is gone makes 0 the end.
    // An empty datagram from a live peer is returned as one (size 0), so the caller rejects it
    // as malformed instead of taking the channel for closed while the peer can still read our
    // writes.
    return MX_ERR_PEER_CLOSED;
  }
  out->truncated = (msg.msg_flags & MSG_TRUNC) != 0 || static_cast<size_t>(n) > capacity;
  out->size = out->truncated ? capacity : static_cast<size_t>(n);
  return MX_OK;
}

}  // namespace

mx_status_t ReceiveDatagram(int sock, void* buffer, size_t capacity, ReceivedDatagram* out) {
  return Receive(sock, buffer, capacity, 0, kMaxFdsPerDatagram, out);
}

mx_status_t ReceiveDatagramUpTo(int sock, void* buffer, size_t capacity, size_t max_fds,
                                ReceivedDatagram* out) {
  return Receive(sock, buffer, capacity, 0, max_fds, out);
}

mx_status_t PeekDatagram(int sock, void* buffer, size_t capacity, PeekedDatagram* out) {
  // With MSG_PEEK and no control buffer the kernel duplicates the fds' references and drops the
  // duplicates at once (MSG_CTRUNC): nothing is installed and the datagram keeps its own.
  struct iovec iov = {buffer, capacity};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  const ssize_t n = RecvmsgPastReset(sock, &msg, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC);
  if (n < 0) return StatusFromErrno(errno);
  out->has_control = (msg.msg_flags & MSG_CTRUNC) != 0;
  out->size = static_cast<size_t>(n);
  if (n == 0 && !out->has_control && PeerHungUp(sock)) return MX_ERR_PEER_CLOSED;
  return MX_OK;
}

mx_status_t PeekDatagramFds(int sock, void* buffer, size_t capacity, size_t max_fds,
                            ReceivedDatagram* out) {
  mx_status_t st = Receive(sock, buffer, capacity, MSG_PEEK, max_fds, out);
  if (st == MX_OK && out->bad_control) {
    // We ask for no other control data: a cut-short control part means the datagram carries
    // more than |max_fds| fds, or the table was full (EMFILE) part-way. The kernel kept the
    // datagram, whole.
    out->fds.clear();
    return MX_ERR_NO_RESOURCES;
  }
  return st;
}

mx_status_t ReceiveDatagramWithoutFds(int sock, void* buffer, size_t capacity,
                                      ReceivedDatagram* out) {
  return Receive(sock, buffer, capacity, 0, 0, out);
}

int SocketType(int fd) {
  int type = -1;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -1;
  return type;
}

void ShutdownSocket(int sock) { ::shutdown(sock, SHUT_RDWR); }

bool PeerHungUp(int sock) {
  return (ReadyEvents(sock, POLLRDHUP) & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

bool CanSend(int sock) { return (ReadyEvents(sock, POLLOUT) & POLLOUT) != 0; }

void SetSendBuffer(int sock, int bytes) {
  ::setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

int GetSendBuffer(int sock) {
  int v = 0;
  socklen_t len = sizeof(v);
  ::getsockopt(sock, SOL_SOCKET, SO_SNDBUF, &v, &len);
  return v;
}

}  // namespace mx::internal
