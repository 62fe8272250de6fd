// SPDX-License-Identifier: BSD-3-Clause
#include "os/stream_socket.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {

mx_status_t CreateStreamPair(UniqueFd* a, UniqueFd* b) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
    return SocketAllocationStatus(errno);
  }
  a->reset(sv[0]);
  b->reset(sv[1]);
  return MX_OK;
}

mx_status_t StreamSend(int sock, const void* buffer, size_t size, size_t* sent, bool* peer_gone) {
  const ssize_t n =
      RetryOnEintr([&] { return ::send(sock, buffer, size, MSG_DONTWAIT | MSG_NOSIGNAL); });
  if (n >= 0) {
    *sent = static_cast<size_t>(n);
    return MX_OK;
  }
  // The kernel's send-buffer memory is a kind of memory here, not a descriptor limit.
  if (errno == ENOBUFS) return MX_ERR_NO_MEMORY;
  const mx_status_t st = StatusFromErrno(errno);
  if (st == MX_ERR_PEER_CLOSED) *peer_gone = true;
  return st;
}

mx_status_t StreamReceive(int sock, void* buffer, size_t size, size_t* received, bool* peer_gone) {
  const ssize_t n = RetryOnEintr([&] { return ::recv(sock, buffer, size, MSG_DONTWAIT); });
  if (n > 0) {
    *received = static_cast<size_t>(n);
    return MX_OK;
  }
  // End of stream (every byte the peer wrote has been read and the peer is gone), or a reset.
  if (n == 0 || errno == ECONNRESET || errno == EPIPE) {
    *peer_gone = true;
    return MX_ERR_PEER_CLOSED;
  }
  return StatusFromErrno(errno);
}

size_t StreamBytesQueued(int sock) {
  int n = 0;
  if (::ioctl(sock, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<size_t>(n);
}

}  // namespace mx::internal
