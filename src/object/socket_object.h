// SPDX-License-Identifier: BSD-3-Clause
// SocketObject: one end of an mx socket, a byte stream between two endpoints.
//
// Backing: one end of a socketpair(AF_UNIX, SOCK_STREAM), non-blocking and close-on-exec. The
// kernel does the buffering, the short writes and the peer-death detection: the peer end hangs
// up when its last fd is closed, in any process, in flight included (an fd inside an SCM_RIGHTS
// message holds the socket open). Duplicated handles in one process share one SocketObject (one
// fd); a transfer sends a dup of the fd.
//
// Signals, read from the kernel each time: READABLE = bytes queued (FIONREAD > 0); WRITABLE =
// POLLOUT and the peer still there; PEER_CLOSED = the peer end hung up (POLLHUP / POLLRDHUP).
// MX_SIGNAL_LAST_HANDLE counts handles of this process only (see docs/sockets.md).
//
// In flight: RawHandle of type MX_OBJ_TYPE_SOCKET, koid / related_koid of the two ends (chosen
// at creation), no extra bytes, one fd (the socket).
//
// Thread-safety: all methods are thread-safe; the fd is set at construction and closed by the
// destructor only.
#pragma once

#include <atomic>

#include "object/object.h"

namespace mx::internal {

class SocketObject final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_SOCKET;

  SocketObject(UniqueFd fd, mx_koid_t koid, mx_koid_t peer_koid);
  // Creates both ends.
  static mx_status_t Create(std::shared_ptr<SocketObject>* end0,
                            std::shared_ptr<SocketObject>* end1);
  // Rebuilds an end from a RawHandle (no new fds). MX_ERR_IO if |raw| is malformed.
  static mx_status_t FromRaw(RawHandle raw, std::shared_ptr<SocketObject>* out);

  uint32_t type() const override { return kType; }
  mx_koid_t related_koid() const override { return peer_koid_; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;

  // mx_socket_write with options 0, after argument and rights checks: MX_OK with |*actual| bytes
  // written (possibly fewer than |size|), SHOULD_WAIT (full), PEER_CLOSED, NO_MEMORY.
  mx_status_t Write(const void* buffer, size_t size, size_t* actual);
  // mx_socket_read with options 0: buffer == NULL && size == 0 → MX_OK with the bytes queued;
  // else MX_OK with up to |size| bytes, SHOULD_WAIT (empty, peer there), PEER_CLOSED (empty,
  // peer gone).
  mx_status_t Read(void* buffer, size_t size, size_t* actual);

 private:
  bool PeerGone();
  size_t BytesQueued();

  const UniqueFd fd_;
  const mx_koid_t peer_koid_;
  std::atomic<bool> peer_gone_{false};  // sticky
};

}  // namespace mx::internal
