#include "os/datagram_peek.h"

#include <errno.h>
#include <sys/socket.h>

namespace mx::internal {

mx_status_t PeekDatagram(int sock, void* buffer, size_t capacity, size_t* full_size) {
  bool reset_seen = false;
  for (;;) {
    // No control buffer: attached fds stay with the datagram, none is installed here.
    ssize_t n = ::recv(sock, buffer, capacity, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
    if (n > 0) {
      *full_size = static_cast<size_t>(n);
      return MX_OK;
    }
    if (n == 0) return MX_ERR_PEER_CLOSED;  // an empty datagram is no frame either
    if (errno == EINTR) continue;
    // The peer closed with datagrams of ours unread: reported once, before what is queued here.
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = true;
      continue;
    }
    if (errno == EAGAIN) return MX_ERR_SHOULD_WAIT;
    return errno == ENOTSOCK || errno == EBADF ? MX_ERR_IO : MX_ERR_PEER_CLOSED;
  }
}

}  // namespace mx::internal
