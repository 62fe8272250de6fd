// SPDX-License-Identifier: BSD-3-Clause
#include "object/socket_object.h"

#include "os/epoll.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/koid.h"
#include "os/socket.h"
#include "os/stream_socket.h"

namespace mx::internal {

SocketObject::SocketObject(UniqueFd fd, mx_koid_t koid, mx_koid_t peer_koid)
    : Object(koid), fd_(std::move(fd)), peer_koid_(peer_koid) {}

mx_status_t SocketObject::Create(std::shared_ptr<SocketObject>* end0,
                                 std::shared_ptr<SocketObject>* end1) {
  UniqueFd a, b;
  mx_status_t st = CreateStreamPair(&a, &b);
  if (st != MX_OK) return st;
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
  if (!PeerHungUp(fd_.get())) return false;
  peer_gone_.store(true, std::memory_order_release);
  return true;
}

size_t SocketObject::BytesQueued() { return StreamBytesQueued(fd_.get()); }

mx_signals_t SocketObject::Signals() {
  // Peer state first: data the peer wrote before closing is then seen with PEER_CLOSED.
  const bool gone = PeerGone();
  mx_signals_t s = 0;
  if (BytesQueued() > 0) s |= MX_SOCKET_READABLE;
  if (gone) {
    s |= MX_SOCKET_PEER_CLOSED;
  } else if (CanSend(fd_.get())) {
    s |= MX_SOCKET_WRITABLE;
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
  UniqueFd dup;
  mx_status_t st = DupFd(fd_.get(), &dup);
  if (st != MX_OK) return st;
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
  bool gone = false;
  mx_status_t st = StreamSend(fd_.get(), buffer, size, actual, &gone);
  if (gone) peer_gone_.store(true, std::memory_order_release);
  return st;
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
  bool gone = false;
  mx_status_t st = StreamReceive(fd_.get(), buffer, size, actual, &gone);
  if (gone) peer_gone_.store(true, std::memory_order_release);
  return st;
}

}  // namespace mx::internal
