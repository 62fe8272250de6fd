#include "object/socket_object.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "os/fd_check.h"
#include "os/koid.h"
#include "os/status.h"

namespace mx::internal {

SocketObject::SocketObject(UniqueFd fd, mx_koid_t koid, mx_koid_t peer_koid)
    : Object(koid), fd_(std::move(fd)), peer_koid_(peer_koid) {}

mx_status_t SocketObject::Create(std::shared_ptr<SocketObject>* end0,
                                 std::shared_ptr<SocketObject>* end1) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
    return errno == ENOMEM || errno == ENOBUFS ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
  }
  UniqueFd a(sv[0]), b(sv[1]);
  mx_koid_t ka = AllocateKoid();
  mx_koid_t kb = AllocateKoid();
  *end0 = std::make_shared<SocketObject>(std::move(a), ka, kb);
  *end1 = std::make_shared<SocketObject>(std::move(b), kb, ka);
  return MX_OK;
}

mx_status_t SocketObject::FromRaw(RawHandle raw, std::shared_ptr<SocketObject>* out) {
  if (raw.type != MX_OBJ_TYPE_SOCKET || raw.fds.size() != 1 || !raw.extra.empty() ||
      raw.koid == MX_KOID_INVALID || raw.related_koid == MX_KOID_INVALID ||
      raw.koid == raw.related_koid) {
    return MX_ERR_IO;
  }
  if (!IsStreamSocket(raw.fds[0].get())) return MX_ERR_IO;
  *out = std::make_shared<SocketObject>(std::move(raw.fds[0]), raw.koid, raw.related_koid);
  return MX_OK;
}

bool SocketObject::PeerGone() {
  if (peer_gone_.load(std::memory_order_acquire)) return true;
  struct pollfd p = {fd_.get(), POLLRDHUP, 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0) {
    peer_gone_.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

size_t SocketObject::BytesQueued() {
  int n = 0;
  if (::ioctl(fd_.get(), FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<size_t>(n);
}

mx_signals_t SocketObject::Signals() {
  // Peer state first: data the peer wrote before closing is then seen with PEER_CLOSED.
  const bool gone = PeerGone();
  mx_signals_t s = 0;
  if (BytesQueued() > 0) s |= MX_SOCKET_READABLE;
  if (gone) {
    s |= MX_SOCKET_PEER_CLOSED;
  } else {
    struct pollfd p = {fd_.get(), POLLOUT, 0};
    int r;
    do {
      r = ::poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r > 0 && (p.revents & POLLOUT) != 0) s |= MX_SOCKET_WRITABLE;
  }
  return s;
}

void SocketObject::AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) {
  // Edge-triggered: every change (bytes arriving, room freed, hang-up) is reported once, so a
  // wait for WRITABLE on a socket with unread bytes, or on a hung-up one, does not spin.
  uint32_t events = EPOLLRDHUP;
  if (waitfor & MX_SOCKET_READABLE) events |= EPOLLIN;
  if (waitfor & MX_SOCKET_WRITABLE) events |= EPOLLOUT;
  out->push_back({fd_.get(), events, true});
}

mx_status_t SocketObject::PrepareTransfer(const Handle& handle, RawHandle* out) {
  UniqueFd dup(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
  out->type = MX_OBJ_TYPE_SOCKET;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  out->fds.push_back(std::move(dup));
  return MX_OK;
}

mx_status_t SocketObject::Write(const void* buffer, size_t size, size_t* actual) {
  if (PeerGone()) return MX_ERR_PEER_CLOSED;
  if (size == 0) {
    *actual = 0;
    return MX_OK;
  }
  ssize_t n;
  do {
    n = ::send(fd_.get(), buffer, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *actual = static_cast<size_t>(n);
    return MX_OK;
  }
  switch (errno) {
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
      peer_gone_.store(true, std::memory_order_release);
      return MX_ERR_PEER_CLOSED;
    case ENOMEM:
    case ENOBUFS:
      return MX_ERR_NO_MEMORY;
    default:
      return StatusFromErrno(errno);
  }
}

mx_status_t SocketObject::Read(void* buffer, size_t size, size_t* actual) {
  if (buffer == nullptr && size == 0) {
    *actual = BytesQueued();
    return MX_OK;
  }
  if (size == 0) {
    // Magenta: an empty read succeeds only when there is something to read.
    if (BytesQueued() > 0) {
      *actual = 0;
      return MX_OK;
    }
    return PeerGone() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  ssize_t n;
  do {
    n = ::recv(fd_.get(), buffer, size, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    *actual = static_cast<size_t>(n);
    return MX_OK;
  }
  if (n == 0) {
    // End of stream: every byte the peer wrote has been read and the peer is gone.
    peer_gone_.store(true, std::memory_order_release);
    return MX_ERR_PEER_CLOSED;
  }
  switch (errno) {
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case ECONNRESET:
    case EPIPE:
      peer_gone_.store(true, std::memory_order_release);
      return MX_ERR_PEER_CLOSED;
    default:
      return StatusFromErrno(errno);
  }
}

}  // namespace mx::internal
