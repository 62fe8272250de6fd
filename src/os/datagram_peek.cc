// SPDX-License-Identifier: BSD-3-Clause
#include "os/datagram_peek.h"

#include <errno.h>
#include <sys/socket.h>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {

mx_status_t PeekDatagram(int sock, void* buffer, size_t capacity, size_t* full_size) {
  // No control buffer: attached fds stay with the datagram, none is installed here.
  auto peek = [&] {
    return RetryOnEintr(
        [&] { return ::recv(sock, buffer, capacity, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC); });
  };
  ssize_t n = peek();
  // The peer closed with datagrams of ours unread: reported once, before what is queued here.
  if (n < 0 && errno == ECONNRESET) n = peek();
  if (n > 0) {
    *full_size = static_cast<size_t>(n);
    return MX_OK;
  }
  if (n == 0) return MX_ERR_PEER_CLOSED;  // an empty datagram is no frame either
  return PeekStatus(errno);
}

}  // namespace mx::internal
