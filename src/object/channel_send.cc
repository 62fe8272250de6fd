// SPDX-License-Identifier: BSD-3-Clause
// The channel endpoint's send side: frames on the socket, records in the shared-memory ring,
// the ring's creation, and the kicks that wake the peer.
#include <cstring>

#include "object/channel_endpoint.h"
#include "os/socket.h"
#include "transport/endpoint_state.h"
#include "transport/frame_io.h"

namespace mx::internal {

mx_status_t ChannelEndpoint::SendBytesLocked(const std::vector<uint8_t>& bytes,
                                             const std::vector<int>& fds, WhenFull when_full) {
  return SendRawLocked(bytes.data(), bytes.size(), fds.data(), fds.size(), when_full);
}

mx_status_t ChannelEndpoint::SendRawLocked(const void* bytes, size_t len, const int* fds,
                                           size_t num_fds, WhenFull when_full) {
  struct iovec iov = {const_cast<void*>(bytes), len};
  mx_status_t st = SendDatagram(sock_.get(), &iov, 1, fds, num_fds);
  if (st == MX_ERR_SHOULD_WAIT && when_full == WhenFull::kGrowBuffer) {
    // Small frames that must not wait for the reader (control frames, kicks, the handles of a
    // message whose payload went to the ring): grow the send buffer for this one frame, up to what
    // the kernel allows an unprivileged process, then shrink it back.
    int saved = GetSendBuffer(sock_.get());
    SetSendBuffer(sock_.get(), 64 << 20);
    st = SendDatagram(sock_.get(), &iov, 1, fds, num_fds);
    SetSendBuffer(sock_.get(), saved / 2);
  }
  if (st == MX_OK) send_ring_.CountSocketFrame();
  if (st == MX_ERR_PEER_CLOSED) MarkPeerClosedLocked();
  return st;
}

mx_status_t ChannelEndpoint::SendFrameLocked(const FrameHeader& header, const uint8_t* payload,
                                             size_t num_payload,
                                             const std::vector<RawHandle>& handles,
                                             WhenFull when_full) {
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  mx_status_t st = EncodeFrame(header, payload, num_payload, handles, &bytes, &fds, &overflow);
  if (st != MX_OK) return st;
  return SendBytesLocked(bytes, fds, when_full);
}

mx_status_t ChannelEndpoint::SendControlLocked(uint8_t kind, const void* payload, uint32_t len,
                                               int fd) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kind;
  h.num_bytes = len;
  h.num_fds = fd >= 0 ? 1 : 0;
  std::vector<uint8_t> bytes(sizeof(FrameHeader) + len);
  std::memcpy(bytes.data(), &h, sizeof(h));
  if (len > 0) std::memcpy(bytes.data() + sizeof(h), payload, len);
  std::vector<int> fds;
  if (fd >= 0) fds.push_back(fd);
  return SendBytesLocked(bytes, fds, WhenFull::kGrowBuffer);
}

bool ChannelEndpoint::SendKickLocked() {
  // Wakes the peer, blocked in poll() on its socket. Like a control frame, a kick does not wait
  // for room: the flag that made us send it (kick_pending, writer_waiting) promises the peer a
  // frame, and a full socket is no reason to break that promise.
  FrameHeader kick = {};
  kick.magic = kFrameMagic;
  kick.kind = kFrameKick;
  return SendRawLocked(&kick, sizeof(kick), nullptr, 0, WhenFull::kGrowBuffer) == MX_OK;
}

mx_status_t ChannelEndpoint::CreateSendRingLocked() {
  size_t limit = BufferLimit();
  MessageRing ring;
  mx_status_t st =
      MessageRing::Create(2 * limit + 2 * (MX_CHANNEL_MAX_MSG_BYTES + 64), limit, &ring);
  if (st != MX_OK) return MX_ERR_SHOULD_WAIT;
  uint32_t info[2] = {0, 0};
  // The reader keeps the memfd (it gives pages back through it); we keep the mapping only.
  UniqueFd fd = ring.TakeFd();
  st = SendControlLocked(kFrameRing, info, sizeof(info), fd.get());
  if (st != MX_OK) return st == MX_ERR_PEER_CLOSED ? st : MX_ERR_SHOULD_WAIT;
  send_ring_ = std::move(ring);
  has_ring_.store(true, std::memory_order_relaxed);
  return MX_OK;
}

void ChannelEndpoint::PublishedLocked() {
  ++send_seq_;
  // The reader may be blocked in poll(): wake it (once until it reads the kick).
  // A kick that could not be sent is not pending: the next record tries again. (Left set, the
  // flag would stop every later kick while the reader slept, and a reader could block for good
  // after a message split while the socket was full: docs/design.md#waking-a-blocked-reader.)
  if (send_ring_.TakeKick() && !SendKickLocked()) send_ring_.ClearKickPending();
}

mx_status_t ChannelEndpoint::RingWriteLocked(const void* bytes, uint32_t num_bytes) {
  if (!send_ring_.valid()) {
    if (ring_failed_ || send_seq_ < ring_after_seq_) return MX_ERR_SHOULD_WAIT;
    mx_status_t st = CreateSendRingLocked();
    if (st == MX_ERR_PEER_CLOSED) return st;
    if (st != MX_OK) {
      // Out of fds or memory: this channel keeps to its socket (the spill path retries).
      ring_failed_ = true;
      return MX_ERR_SHOULD_WAIT;
    }
  }
  if (send_ring_.broken()) return MX_ERR_PEER_CLOSED;
  if (send_ring_.ReaderClosed()) {
    MarkPeerClosedLocked();
    return MX_ERR_PEER_CLOSED;
  }
  // A reader that closed before it mapped the ring, or whose process died, says nothing in the
  // ring: ask the kernel on every write until the reader has mapped it, then on every 64th.
  if ((!send_ring_.ReaderAttached() || (send_seq_ & 63) == 0) && PeerHungUp(sock_.get())) {
    MarkPeerClosedLocked();
    return MX_ERR_PEER_CLOSED;
  }
  if (!send_ring_.TryWrite(send_seq_, bytes, num_bytes)) {
    return send_ring_.broken() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  PublishedLocked();
  return MX_OK;
}

mx_status_t ChannelEndpoint::WriteBytes(const void* bytes, uint32_t num_bytes) {
  MutexLock lock(&mu_);
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  if (PeerClosedLocked()) return MX_ERR_PEER_CLOSED;
  // Blocked (hysteresis) or no ring yet: the full path decides.
  if (WriteBlockedLocked() || !send_ring_.valid()) return MX_ERR_NEXT;
  mx_status_t st = RingWriteLocked(bytes, num_bytes);
  return st == MX_ERR_SHOULD_WAIT ? MX_ERR_NEXT : st;
}

mx_status_t ChannelEndpoint::SpillLocked(const Message& message) {
  if (!send_ring_.valid()) {
    mx_status_t st = CreateSendRingLocked();
    if (st != MX_OK) return st;
  }
  if (send_ring_.broken()) return MX_ERR_PEER_CLOSED;
  const uint32_t len = static_cast<uint32_t>(message.bytes.size());
  uint32_t flags = 0;
  if (!message.handles.empty()) {
    // The payload goes to the ring, the handles (their fds must) on the socket in a small
    // frame with the same sequence number; the reader joins them. Once the frame is sent the
    // payload must follow: the ring's try-lock is held from the room check to the record, so
    // the reader cannot take it in between (it never waits for it, nor do we).
    if (!send_ring_.LockForWriter()) return MX_ERR_SHOULD_WAIT;
    if (!send_ring_.HasRoomUnderTryLock(len)) {
      send_ring_.UnlockForWriter();
      return send_ring_.broken() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
    }
    FrameHeader h = {};
    h.kind = kFrameData;
    h.flags = kFlagPayloadInRing;
    h.seq = send_seq_;
    mx_status_t st = SendFrameLocked(h, nullptr, 0, message.handles, WhenFull::kGrowBuffer);
    if (st == MX_OK) {
      // Room was checked under the lock, and the reader only ever makes more.
      send_ring_.WriteUnderTryLock(send_seq_, message.bytes.data(), len,
                                   MessageRing::kRecordHasHandles);
    }
    send_ring_.UnlockForWriter();
    if (st != MX_OK) return st;
    PublishedLocked();
    return MX_OK;
  }
  if (!send_ring_.TryWrite(send_seq_, message.bytes.data(), len, flags)) {
    return send_ring_.broken() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  PublishedLocked();
  return MX_OK;
}

mx_status_t ChannelEndpoint::Write(const Message& message) {
  MutexLock lock(&mu_);
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  // Once full, the channel stays unwritable until the reader drained it (hysteresis).
  if (WriteBlockedLocked() && !WritableLocked()) {
    return PeerClosedLocked() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  if (PeerClosedLocked()) return MX_ERR_PEER_CLOSED;
  // Handle-free messages go to the shared-memory ring (no system call); messages with handles
  // (their fds must travel through the kernel) and those that find the ring full take the socket.
  if (message.handles.empty()) {
    mx_status_t st =
        RingWriteLocked(message.bytes.data(), static_cast<uint32_t>(message.bytes.size()));
    if (st != MX_ERR_SHOULD_WAIT) return st;
  }
  FrameHeader h = {};
  h.kind = kFrameData;
  h.seq = send_seq_;
  mx_status_t st = SendFrameLocked(h, message.bytes.data(), message.bytes.size(), message.handles,
                                   WhenFull::kShouldWait);
  if (st == MX_OK) {
    ++send_seq_;
    return MX_OK;
  }
  if (st == MX_ERR_SHOULD_WAIT) {
    st = SpillLocked(message);
    if (st == MX_ERR_SHOULD_WAIT) {
      const bool on_ring =
          send_ring_.valid() && !send_ring_.HasRoom(static_cast<uint32_t>(message.bytes.size()));
      write_ = on_ring ? WriteState::kBlockedOnRing : WriteState::kBlockedOnSocket;
      // The reader kicks us (a frame on our socket) once it has emptied half the ring.
      if (on_ring) send_ring_.SetWriterWaiting();
    }
  }
  return st;
}

}  // namespace mx::internal
