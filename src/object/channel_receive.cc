// SPDX-License-Identifier: BSD-3-Clause
// The channel endpoint's receive side: the pump that takes socket frames and ring records in
// sequence order (transport/inbound_sequencer.h) into the local queue, applies control frames,
// and bounds every pass. Taking a frame off the socket with its fds is in
// channel_socket_receive.cc.
#include <cstring>
#include <new>

#include "base/check.h"
#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "os/clock.h"
#include "os/socket.h"
#include "transport/frame_io.h"

namespace mx::internal {
namespace {

// Scratch buffer for one incoming datagram, per thread.
std::vector<uint8_t>& ReceiveBuffer() {
  thread_local std::vector<uint8_t> buffer(kMaxFrameBytes + 1);
  return buffer;
}

}  // namespace

using RingHead = InboundSequencer::RingHead;

void ChannelEndpoint::DeliverLocked(Message message) {
  if (!callers_.empty()) {
    uint32_t txid = message.txid();
    for (auto it = callers_.begin(); it != callers_.end(); ++it) {
      if ((*it)->txid == txid) {
        CallWaiter* w = *it;
        callers_.erase(it);
        w->reply = std::move(message);
        w->status = MX_OK;
        w->done = true;
        if (w->waker != ThreadWaker::CurrentIfCreated()) w->waker->Wake();
        return;
      }
    }
  }
  MX_DCHECK(!queue_.empty() || queue_bytes_ == 0);
  queue_bytes_ += MessageBytes(message);
  queue_.push_back(std::move(message));
  NotifySignalsSet(MX_CHANNEL_READABLE);
}

void ChannelEndpoint::DeliverNextLocked(Message message) {
  sequencer_.Advance();
  DeliverLocked(std::move(message));
}

void ChannelEndpoint::TookRingRecordLocked() {
  WakeWriterLocked();
  sequencer_.Advance();
}

size_t ChannelEndpoint::DeliverRingRecordLocked(Message message) {
  MX_DCHECK(recv_ring_.valid());
  recv_ring_.Pop(&message.bytes);
  TookRingRecordLocked();
  const size_t charge = MessageBytes(message);
  DeliverLocked(std::move(message));
  return charge;
}

std::optional<RingHead> ChannelEndpoint::RingHeadLocked() {
  uint64_t seq;
  uint32_t flags = 0;
  if (!recv_ring_.valid() || !recv_ring_.Peek(&seq, &flags)) return std::nullopt;
  return RingHead{seq, (flags & MessageRing::kRecordHasHandles) != 0};
}

bool ChannelEndpoint::ResolveStashLocked() {
  while (sequencer_.has_stash()) {
    const std::optional<RingHead> head = RingHeadLocked();
    if (recv_ring_.broken()) {
      BreakLocked("message ring corrupted");
      return false;
    }
    switch (sequencer_.OnStash(head)) {
      case InboundSequencer::StashAction::kDeliverRecord:
        DeliverRingRecordLocked(Message());
        break;
      case InboundSequencer::StashAction::kDeliverStash:
        DeliverNextLocked(sequencer_.TakeStash().message);
        return true;
      case InboundSequencer::StashAction::kJoinRecord:
        DeliverRingRecordLocked(sequencer_.TakeStash().message);
        return true;
      case InboundSequencer::StashAction::kWaitForPayload:
        // The writer sends the handles first and publishes the payload right after; wait,
        // unless it died in between.
        if (EndOfStreamSeenLocked() || PeerHungUp(sock_.get())) {
          BreakLocked("writer died between handles and payload");
        }
        return false;
      case InboundSequencer::StashAction::kBreak:
        BreakLocked(sequencer_.reason());
        return false;
    }
  }
  return true;
}

ChannelEndpoint::RingStep ChannelEndpoint::PumpRingLocked(PumpBudget* budget) {
  if (recv_ring_.valid() && sequencer_.WritesEnded()) RetirePeerRingLocked();
  if (!recv_ring_.valid()) return RingStep::kNothing;
  const std::optional<RingHead> head = RingHeadLocked();
  if (!head) {
    if (recv_ring_.broken()) {
      BreakLocked("message ring corrupted");
      return RingStep::kStop;
    }
    // The writer closed or moved away and we read all it wrote: the ring's fd and mapping go
    // (a moved writer's next holder announces a new ring); the socket is watched alone.
    if (recv_ring_.Finished()) recv_ring_ = MessageRing();
    return RingStep::kNothing;
  }
  switch (sequencer_.OnRingHead(*head)) {
    case InboundSequencer::RingAction::kDeliverRecord:
      Charge(DeliverRingRecordLocked(Message()), &budget->cost);
      return RingStep::kDelivered;
    case InboundSequencer::RingAction::kReadSocket:
      // A record whose handles are on the socket, or a later one.
      return RingStep::kSocketFirst;
    case InboundSequencer::RingAction::kBreak:
      break;
  }
  BreakLocked(sequencer_.reason());
  return RingStep::kStop;
}

bool ChannelEndpoint::SocketMayHaveFramesLocked(bool ring_needs_socket, bool poll_follows) {
  // Once the writer announced its ring it counts the frames it puts on the socket; while we
  // have received them all, nothing is there for us, unless the writer closed (orderly) or a
  // caller wants the kernel's word (force_socket_: a wait about to block or just woken, a
  // signal query, a read that found nothing). Without a ring only the kernel can tell: a pass
  // that a poll follows leaves the question to that poll unless a poll woke it.
  if (!recv_ring_.valid()) return force_socket_ || !poll_follows;
  return force_socket_ || ring_needs_socket || recv_ring_.SocketFrames() != sock_seen_ ||
         recv_ring_.WriterDone();
}

// Reads what is available next, in sequence order. Returns false when nothing more can be
// read right now (socket empty, end of stream, waiting for the writer, or broken).
bool ChannelEndpoint::PumpOneFrameLocked(PumpBudget* budget) {
  if (!LiveLocked()) return false;
  if (sequencer_.has_stash()) {
    Charge(kFrameCharge, &budget->cost);
    return ResolveStashLocked();
  }
  const RingStep ring = PumpRingLocked(budget);
  if (ring == RingStep::kDelivered) return true;
  if (ring == RingStep::kStop) return false;
  if (EndOfStreamSeenLocked()) return false;
  if (!SocketMayHaveFramesLocked(ring == RingStep::kSocketFirst, budget->poll_follows)) {
    return false;
  }
  std::vector<uint8_t>& buffer = ReceiveBuffer();
  ReceivedDatagram got;
  mx_status_t st = MX_OK;
  const bool go_on = budget->install_fds ? ReceiveForReaderLocked(buffer, &got, &st)
                                         : ReceiveForRefreshLocked(buffer, &got, &st);
  if (!go_on) return false;
  return TakeFrameLocked(st, buffer, std::move(got), budget);
}

bool ChannelEndpoint::TakeFrameLocked(mx_status_t st, std::vector<uint8_t>& buffer,
                                      ReceivedDatagram got, PumpBudget* budget) {
  drained_ = st == MX_ERR_SHOULD_WAIT;
  if (drained_) {
    force_socket_ = false;
    held_.present = false;
    return false;
  }
  held_.present = false;
  held_.starved = false;
  if (st == MX_OK && recv_ring_.valid()) ++sock_seen_;
  // Usually the kick that woke the poll (or, without a ring, the message): the read that would
  // find the socket empty is left to the poll that follows (a hostile counter can only bring
  // back that read, or leave frames for the next look; each look still takes a frame).
  if (st == MX_OK && budget->poll_follows &&
      (!recv_ring_.valid() || recv_ring_.SocketFrames() == sock_seen_)) {
    force_socket_ = false;
  }
  if (st != MX_OK) {
    EndOfStreamLocked();
    // Records the peer put in the ring before it went away are still to be read.
    return recv_ring_.valid();
  }
  Charge(FrameCharge(got.size, got.fds.size()), &budget->cost);
  if (got.truncated || got.bad_control) {
    BreakLocked("truncated datagram or foreign control data");
    return false;
  }
  Frame frame;
  if (DecodeFrame(buffer.data(), got.size, std::move(got.fds), &frame) != MX_OK) {
    BreakLocked("malformed frame");
    return false;
  }
  return ApplyFrameLocked(std::move(frame));
}

bool ChannelEndpoint::ApplyFrameLocked(Frame frame) {
  switch (frame.header.kind) {
    case kFrameData:
      return ApplyDataFrameLocked(std::move(frame));
    case kFrameSignal:
      return ApplySignalFrameLocked(frame);
    case kFrameRing:
      return ApplyRingFrameLocked(std::move(frame));
    case kFrameNoWrite:
      sequencer_.LimitWrites(frame.header.seq);
      if (sequencer_.WritesEnded()) RetirePeerRingLocked();
      return true;
    case kFrameKick:
      // Before the ring is looked at again (the caller's next step): a record published after
      // this makes the writer kick once more.
      recv_ring_.ClearKickPending();
      return true;
    default:
      BreakLocked("unknown frame kind");
      return false;
  }
}

bool ChannelEndpoint::ApplyDataFrameLocked(Frame frame) {
  switch (sequencer_.OnDataFrame(frame.header, recv_ring_.valid())) {
    case InboundSequencer::FrameAction::kDeliver:
      DeliverNextLocked(std::move(frame.message));
      return true;
    case InboundSequencer::FrameAction::kStash:
      sequencer_.Stash(std::move(frame));
      return ResolveStashLocked();
    case InboundSequencer::FrameAction::kBreak:
      break;
  }
  BreakLocked(sequencer_.reason());
  return false;
}

bool ChannelEndpoint::ApplySignalFrameLocked(const Frame& frame) {
  uint32_t masks[2];
  std::memcpy(masks, frame.message.bytes.data(), sizeof(masks));
  if (((masks[0] | masks[1]) & ~MX_USER_SIGNAL_ALL) != 0) {
    BreakLocked("signal frame touches non-user bits");
    return false;
  }
  mx_signals_t before = user_signals_;
  user_signals_ = (user_signals_ & ~masks[0]) | masks[1];
  if (user_signals_ != before) NotifySignalsSet(user_signals_ & ~before);
  return true;
}

bool ChannelEndpoint::ApplyRingFrameLocked(Frame frame) {
  // A writer announces a ring only after kRingAfterMessages socket frames since its endpoint
  // arrived, and those come after every record of the ring it replaces: by now that ring is read
  // empty and marked done. Anything else is a second ring at once, which we never keep.
  if (recv_ring_.valid() && !recv_ring_.Finished()) {
    BreakLocked("ring announced while the current ring is in use");
    return false;
  }
  recv_ring_ = MessageRing();
  if (sequencer_.has_write_limit()) {
    BreakLocked("ring announced by an end that left without WRITE");
    return false;
  }
  UniqueFd fd = std::move(frame.message.handles[0].fds[0]);
  if (MessageRing::Attach(std::move(fd), &recv_ring_) != MX_OK) {
    BreakLocked("invalid ring");
    return false;
  }
  sock_seen_ = 0;
  recv_ring_.MarkAttached();
  has_ring_.store(true, std::memory_order_relaxed);
  // Threads already blocked (or about to) need the writer's kicks from now on; the pump
  // looks at the ring next (see MessageRing::SetReaderWaiting).
  if (waiters_ > 0) recv_ring_.SetReaderWaiting(true);
  return true;
}

// The peer's end left without WRITE and every record it published before is read: its ring has
// nothing more for us (its new owner did not get it), and its frame counter no longer counts the
// peer's control frames, so the socket alone is watched from now on.
void ChannelEndpoint::RetirePeerRingLocked() { recv_ring_ = MessageRing(); }

bool ChannelEndpoint::PeerGoneLocked() { return sock_ && PeerHungUp(sock_.get()); }

bool ChannelEndpoint::PumpOneFrameCaughtLocked(PumpBudget* budget) {
  // Out of memory while a frame is received or queued: the frame's fds are closed as the stack
  // unwinds (UniqueFd), and only this channel breaks; the process goes on.
  try {
    return PumpOneFrameLocked(budget);
  } catch (const std::bad_alloc&) {
    BreakLocked("out of memory while receiving");
    return false;
  }
}

bool ChannelEndpoint::PumpLocked(PumpScope scope, size_t queue_limit, PumpBudget* budget) {
  size_t start = queue_.size();
  while (queue_bytes_ < queue_limit) {
    if (budget->cost == 0) return true;
    if (budget->deadline != MX_TIME_INFINITE && MonotonicNow() >= budget->deadline) return true;
    if (!PumpOneFrameCaughtLocked(budget)) break;
    if (scope == PumpScope::kUntilOneMessage && queue_.size() > start) break;
  }
  return false;
}

void ChannelEndpoint::WakeWriterLocked() {
  // Not sent: the writer still waits; the flag stays for the next read to try again.
  if (recv_ring_.TakeWriterWake() && !SendKickLocked()) recv_ring_.SetWriterWaiting();
}

}  // namespace mx::internal
