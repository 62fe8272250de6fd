// SPDX-License-Identifier: BSD-3-Clause
// A channel endpoint leaving this process (written into a channel, or spawned) and arriving:
// its state, socket, receive ring and queue packed into a RawHandle, and rebuilt from one. The
// send ring does not travel (docs/design.md, "Endpoint state").
#include <cstring>

#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "os/clock.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/socket.h"
#include "transport/endpoint_state.h"

namespace mx::internal {
mx_status_t ChannelEndpoint::FromRaw(RawHandle raw, std::shared_ptr<ChannelEndpoint>* out) {
  // The frame decoder checked the shape already; a RawHandle may come from elsewhere (a test,
  // the startup frame), so the state is checked again here, with no resources spent on it.
  EndpointState state;
  uint32_t num_fds = 0;
  if (raw.type != MX_OBJ_TYPE_CHANNEL ||
      ParseEndpointState(raw.extra.data(), raw.extra.size(), DefaultQueueLimits(), &state,
                         &num_fds) != StateCheck::kOk ||
      raw.fds.size() != num_fds) {
    return MX_ERR_IO;
  }
  size_t next = 0;
  if (!IsChannelSocket(raw.fds[0].get())) return MX_ERR_IO;
  auto ep =
      std::make_shared<ChannelEndpoint>(raw.koid, raw.related_koid, std::move(raw.fds[next++]));
  // Nobody else sees |ep| yet: the lock is never contended, it is taken so that every field is
  // written under it as everywhere else.
  MutexLock lock(&ep->mu_);
  ep->send_seq_ = state.send_seq;
  ep->sequencer_.Restore(state.recv_seq, (state.flags & kEndpointPeerNoWrite)
                                             ? state.peer_write_limit
                                             : InboundSequencer::kNoLimit);
  ep->user_signals_ = state.user_signals;
  ep->sock_seen_ = state.socket_frames_seen;
  // Our writes start on the socket; a ring of our own follows as for a new channel.
  ep->ring_after_seq_ = state.send_seq + kRingAfterMessages;
  if (state.flags & kEndpointHasRecvRing) {
    mx_status_t st = MessageRing::Attach(std::move(raw.fds[next++]), &ep->recv_ring_);
    if (st != MX_OK) return st;
    ep->has_ring_.store(true, std::memory_order_relaxed);
  }
  if (state.flags & kEndpointHasQueue) {
    UniqueFd blob = std::move(raw.fds[next++]);
    std::vector<UniqueFd> nested;
    nested.reserve(raw.fds.size() - next);
    for (size_t i = next; i < raw.fds.size(); ++i) nested.push_back(std::move(raw.fds[i]));
    std::vector<Message> messages;
    mx_status_t st = LoadEndpointQueue(blob.get(), state, std::move(nested), &messages);
    if (st != MX_OK) return st;
    for (Message& m : messages) {
      ep->queue_bytes_ += MessageBytes(m);
      ep->queue_.push_back(std::move(m));
    }
  }
  *out = std::move(ep);
  return MX_OK;
}

// The steps of PrepareTransfer, with mu_ held: (1) settle the stash, (2) announce a loss of
// WRITE, (3) pack the state and the fds. Only once (3) succeeded is the endpoint frozen (until
// CommitTransferOut or AbortTransfer); a failure before leaves it live, its loss of WRITE
// announced for good.
mx_status_t ChannelEndpoint::PrepareTransfer(const Handle& handle, RawHandle* out) {
  UniqueLock lock(&mu_);
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  if (!SettleStash()) return LiveLocked() ? MX_ERR_SHOULD_WAIT : MX_ERR_BAD_HANDLE;
  const bool writes = handle.HasRights(MX_RIGHT_WRITE);
  if (!writes) {
    mx_status_t st = AnnounceNoWriteLocked();
    if (st != MX_OK) return st;
  }
  out->type = MX_OBJ_TYPE_CHANNEL;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  mx_status_t st = PackLocked(out);
  if (st != MX_OK) return st;
  RetireSendRingLocked();
  life_ = Life::kFrozen;
  // The next owner sets the flag for its own waiters; ours must not linger (it would only
  // cost kicks, but clearing it after the endpoint left could erase the new owner's).
  recv_ring_.SetReaderWaiting(false);
  return MX_OK;
}

bool ChannelEndpoint::SettleStash() {
  // (1) A frame waiting for its payload in the ring cannot travel as it is. The writer
  // publishes the payload right after sending the frame, so wait for it briefly
  // (ResolveStashLocked breaks the channel if the writer died in between), yielding without
  // the lock so that other threads are not held up meanwhile.
  for (int spins = 0; sequencer_.has_stash() && spins < 100000; ++spins) {
    if (ResolveStashLocked() || !sequencer_.has_stash() || EndOfStreamSeenLocked()) break;
    mu_.unlock();
    YieldCpu();
    mu_.lock();
    if (!LiveLocked()) return false;
  }
  return !sequencer_.has_stash();
}

mx_status_t ChannelEndpoint::AnnounceNoWriteLocked() {
  // (2) Leaving without WRITE: the peer learns, in order on this socket, that nothing this end
  // sends from now on is data, so that whoever holds the fd next cannot write through a raw
  // frame or the ring (see docs/channels.md, "Rights across processes"). Once is enough:
  // without WRITE this end never sends data again, so the number cannot change.
  if (no_write_announced_ || PeerClosedLocked()) return MX_OK;
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameNoWrite;
  h.seq = send_seq_;
  mx_status_t st = SendRawLocked(&h, sizeof(h), nullptr, 0, WhenFull::kGrowBuffer);
  if (st != MX_OK && st != MX_ERR_PEER_CLOSED) return MX_ERR_NO_RESOURCES;
  no_write_announced_ = true;
  return MX_OK;
}

void ChannelEndpoint::RetireSendRingLocked() {
  // Before the endpoint is sent, so the peer sees the mark before anything the next holder
  // sends; the ring's records are all published (we hold mu_). If the transfer is aborted, we
  // are the next holder.
  if (!send_ring_.valid()) return;
  send_ring_.MarkWriterDone();
  send_ring_ = MessageRing();
  ring_after_seq_ = send_seq_ + kRingAfterMessages;
}

mx_status_t ChannelEndpoint::PackLocked(RawHandle* out) {
  // (3) The descriptor travels in |out->extra|; the fds in the order ParseEndpointState
  // expects: socket, receive ring, queue blob, the queue's nested fds. The send ring stays
  // (RetireSendRingLocked): its memory would cost the next holder an fd and a mapping, and a
  // holder without WRITE must not get a way to publish records in it.
  EndpointState state = {};
  state.send_seq = send_seq_;
  state.recv_seq = sequencer_.next();
  state.user_signals = user_signals_;
  state.socket_frames_seen = sock_seen_;
  if (sequencer_.has_write_limit()) {
    state.flags |= kEndpointPeerNoWrite;
    state.peer_write_limit = sequencer_.write_limit();
  }
  UniqueFd sock = DupFd(sock_.get());
  if (!sock) return MX_ERR_NO_RESOURCES;
  out->fds.push_back(std::move(sock));
  if (recv_ring_.valid()) {
    UniqueFd fd = DupFd(recv_ring_.fd());
    if (!fd) return MX_ERR_NO_RESOURCES;
    out->fds.push_back(std::move(fd));
    state.flags |= kEndpointHasRecvRing;
  }
  if (!queue_.empty()) {
    mx_status_t st = PackQueueLocked(&state, out);
    if (st != MX_OK) return st;
  }
  out->extra.resize(sizeof(state));
  std::memcpy(out->extra.data(), &state, sizeof(state));
  return MX_OK;
}

mx_status_t ChannelEndpoint::PackQueueLocked(EndpointState* state, RawHandle* out) {
  std::vector<const Message*> messages;
  for (const Message& m : queue_) messages.push_back(&m);
  std::vector<uint8_t> blob;
  std::vector<int> nested;
  EncodeQueue(messages, &blob, &nested);
  UniqueFd memfd;
  mx_status_t st = CreateQueueBlob(blob, &memfd);
  if (st != MX_OK) return st;
  out->fds.push_back(std::move(memfd));
  for (int fd : nested) {
    UniqueFd d = DupFd(fd);
    if (!d) return MX_ERR_NO_RESOURCES;
    out->fds.push_back(std::move(d));
  }
  state->flags |= kEndpointHasQueue;
  state->queue_count = static_cast<uint32_t>(messages.size());
  state->queue_fds = static_cast<uint32_t>(nested.size());
  state->queue_bytes = blob.size();
  return MX_OK;
}

void ChannelEndpoint::AbortTransfer(const Handle&, RawHandle*) {
  MutexLock lock(&mu_);
  if (life_ == Life::kFrozen) life_ = Life::kLive;
  if (waiters_ > 0) recv_ring_.SetReaderWaiting(true);
}

void ChannelEndpoint::CommitTransferOut(const Handle&) {
  MutexLock lock(&mu_);
  // The endpoint now lives in the message (or the child): drop our copies without telling the
  // peer anything — its socket is still open, in flight.
  life_ = Life::kGone;
  CancelCallersLocked(MX_ERR_CANCELED);
  queue_.clear();
  queue_bytes_ = 0;
  sequencer_.DropStash();
  sock_.reset();
  send_ring_ = MessageRing();
  recv_ring_ = MessageRing();
}

}  // namespace mx::internal
