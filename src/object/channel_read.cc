// SPDX-License-Identifier: BSD-3-Clause
// Reading a channel endpoint: the ring fast path for handle-free messages, and the read
// transaction over the front of the local queue.
#include "base/check.h"
#include "object/channel_costs.h"
#include "object/channel_endpoint.h"

namespace mx::internal {

mx_status_t ChannelEndpoint::ReadBytes(void* bytes, uint32_t num_bytes, bool may_discard,
                                       uint32_t* actual_bytes) {
  MutexLock lock(&mu_);
  if (!LiveLocked() || !queue_.empty() || !callers_.empty() || sequencer_.has_stash() ||
      !recv_ring_.valid()) {
    return MX_ERR_NEXT;
  }
  uint64_t seq;
  uint32_t flags, len;
  if (!recv_ring_.Peek(&seq, &flags, &len) ||
      sequencer_.OnRingHead({seq, (flags & MessageRing::kRecordHasHandles) != 0}) !=
          InboundSequencer::RingAction::kDeliverRecord) {
    return MX_ERR_NEXT;
  }
  *actual_bytes = len;
  const bool too_small = len > num_bytes || (len > 0 && bytes == nullptr);
  if (too_small && !may_discard) return MX_ERR_BUFFER_TOO_SMALL;
  recv_ring_.PopInto(too_small ? nullptr : bytes, too_small ? 0 : len);
  TookRingRecordLocked();
  return too_small ? MX_ERR_BUFFER_TOO_SMALL : MX_OK;
}

ChannelEndpoint::ReadTransaction ChannelEndpoint::BeginRead() { return ReadTransaction(this); }

// The transaction's lock_ holds ep_->mu_ beyond the functions that take it, where the analysis
// cannot follow it: each function that relies on it says so with AssertHeld.
ChannelEndpoint::ReadTransaction::ReadTransaction(ChannelEndpoint* ep) : ep_(ep), lock_(ep->mu_) {
  ep_->mu_.AssertHeld();
  status_ = ep_->FrontLocked(&front_);
  if (status_ != MX_OK) lock_.unlock();
}

Message ChannelEndpoint::ReadTransaction::Commit() {
  MX_DCHECK(lock_.owns_lock() && front_ != nullptr);
  ep_->mu_.AssertHeld();
  Message m = ep_->PopFrontLocked();
  front_ = nullptr;
  lock_.unlock();
  return m;
}

void ChannelEndpoint::ReadTransaction::Discard() {
  // |dropped| closes its handles' fds as it goes, after the unlock.
  Message dropped = Commit();
}

mx_status_t ChannelEndpoint::FrontLocked(Message** front) {
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  // The reader asked for the next message: this pass installs its fds (with headroom).
  PumpBudget budget = {kPassBudget, /*install_fds=*/true};
  bool more = false;
  drained_ = false;
  if (queue_.empty()) more = PumpLocked(PumpScope::kUntilOneMessage, SIZE_MAX, &budget);
  if (queue_.empty() && !more && !EndOfStreamSeenLocked() && !drained_) {
    // Nothing in shared memory: ask the kernel too (a frame we were not told of, a dead peer),
    // unless this pass just did and heard EAGAIN (from a peer that had gone it would be the end).
    force_socket_ = true;
    more = PumpLocked(PumpScope::kUntilOneMessage, SIZE_MAX, &budget);
  }
  // PEER_CLOSED can be asserted while frames are still queued in the kernel (the peer's
  // departure is seen with poll). A peer that is gone sent a finite stream: read on, one
  // bounded pass at a time, to its next message or its end, so that PEER_CLOSED is returned
  // only once everything it sent was read.
  while (queue_.empty() && more && PeerClosedLocked() && !EndOfStreamSeenLocked() &&
         PeerGoneLocked()) {
    budget.cost = kPassBudget;
    more = PumpLocked(PumpScope::kUntilOneMessage, SIZE_MAX, &budget);
  }
  if (queue_.empty()) {
    // The next frame carries more fds than the process can take now: it stays in the kernel,
    // whole, until fds are freed.
    if (held_.present && held_.starved) return MX_ERR_NO_RESOURCES;
    // Frames left by a spent budget (a peer still there floods control frames): come back.
    return PeerClosedLocked() && !more ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  }
  *front = &queue_.front();
  return MX_OK;
}

Message ChannelEndpoint::PopFrontLocked() {
  MX_DCHECK(!queue_.empty());
  Message m = std::move(queue_.front());
  queue_.pop_front();
  // queue_bytes_ is the sum of MessageBytes over queue_.
  MX_DCHECK(queue_bytes_ >= MessageBytes(m));
  queue_bytes_ -= MessageBytes(m);
  MX_DCHECK(!queue_.empty() || queue_bytes_ == 0);
  // Waiting threads re-evaluate what to watch (the head of the stream changed).
  NotifySignalsChanged(0, queue_.empty() && !HeldMessageLocked() ? MX_CHANNEL_READABLE : 0);
  return m;
}

}  // namespace mx::internal
