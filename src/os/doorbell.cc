// SPDX-License-Identifier: BSD-3-Clause
#include "os/doorbell.h"

#include <errno.h>
#include <linux/filter.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "os/status.h"

namespace mx::internal {

mx_status_t CreateDoorbell(UniqueFd* out) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return AllocationStatus(errno);
  // Binding with only the family autobinds an abstract name; connecting to it makes the socket
  // accept datagrams only from itself.
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(sa_family_t)) != 0) {
    return MX_ERR_NO_RESOURCES;
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), &len) != 0 ||
      ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), len) != 0) {
    return MX_ERR_NO_RESOURCES;
  }
  struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog program = {1, drop_all};
  const int one = 1;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) != 0 ||
      ::setsockopt(sock.get(), SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) != 0) {
    return AllocationStatus(errno);
  }
  *out = std::move(sock);
  return MX_OK;
}

void RingDoorbell(int doorbell) {
  // An empty datagram: the filter drops it whatever its size, and zero bytes cost the least.
  // MSG_DONTWAIT never sleeps, so there is no EINTR to retry; any failure means a holder broke
  // the doorbell, and its waiters stay unwoken by this ring.
  (void)::send(doorbell, nullptr, 0, MSG_DONTWAIT | MSG_NOSIGNAL);
}

uint32_t DoorbellWaitEvents() { return EPOLLOUT; }

}  // namespace mx::internal
