// Reading a channel endpoint: the ring fast path and the front of the local queue.
#include "object/channel_costs.h"
#include "object/channel_endpoint.h"

namespace mx::internal {

mx_status_t ChannelEndpoint::ReadBytes(void* bytes, uint32_t num_bytes, bool may_discard,
                                       uint32_t* actual_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || frozen_ || !queue_.empty() || !callers_.empty() || stash_ || !recv_ring_.valid()) {
    return MX_ERR_NEXT;
  }
  uint64_t seq;
  uint32_t flags, len;
  if (!recv_ring_.Peek(&seq, &flags, &len) || seq != recv_seq_ || seq >= peer_write_limit_ ||
      (flags & SpillRing::kRecordHasHandles)) {
    return MX_ERR_NEXT;
  }
  *actual_bytes = len;
  if (len > num_bytes || (len > 0 && bytes == nullptr)) {
    if (!may_discard) return MX_ERR_BUFFER_TOO_SMALL;
    recv_ring_.PopInto(nullptr, 0);
  } else {
    recv_ring_.PopInto(bytes, len);
  }
  ++recv_seq_;
  WakeWriterLocked();
  return len > num_bytes || (len > 0 && bytes == nullptr) ? MX_ERR_BUFFER_TOO_SMALL : MX_OK;
}

mx_status_t ChannelEndpoint::FrontLocked(Message** front) {
  if (gone_ || frozen_) return MX_ERR_BAD_HANDLE;
  // The reader asked for the next message: this pass installs its fds (with headroom).
  PumpBudget budget = {kPassBudget, /*install_fds=*/true};
  bool more = false;
  if (queue_.empty()) more = PumpLocked(false, SIZE_MAX, &budget);
  if (queue_.empty() && !more && !eof_) {
    // Nothing in shared memory: ask the kernel too (a frame we were not told of, a dead peer).
    force_socket_ = true;
    more = PumpLocked(false, SIZE_MAX, &budget);
  }
  // PEER_CLOSED can be asserted while frames are still queued in the kernel (the peer's
  // departure is seen with poll). A peer that is gone sent a finite stream: read on, one
  // bounded pass at a time, to its next message or its end, so that PEER_CLOSED is returned
  // only once everything it sent was read.
  while (queue_.empty() && more && peer_closed_ && !eof_ && PeerGoneLocked()) {
    budget.cost = kPassBudget;
    more = PumpLocked(false, SIZE_MAX, &budget);
  }
  if (queue_.empty()) {
    // The next frame carries more fds than the process can take now: it stays in the kernel,
    // whole, until fds are freed.
    if (fds_ahead_ && fd_starved_) return MX_ERR_NO_RESOURCES;
    // Frames left by a spent budget (a peer still there floods control frames): come back.
    return peer_closed_ && !more ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  *front = &queue_.front();
  return MX_OK;
}

Message ChannelEndpoint::PopFrontLocked() {
  Message m = std::move(queue_.front());
  queue_.pop_front();
  queue_bytes_ -= MessageBytes(m);
  // Waiting threads re-evaluate what to watch (the head of the stream changed).
  NotifySignalsChanged(0, queue_.empty() && !HeldMessageLocked() ? MX_CHANNEL_READABLE : 0);
  return m;
}

}  // namespace mx::internal
