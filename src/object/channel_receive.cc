// The channel endpoint's receive side: the pump that takes socket frames and ring records in
// sequence order into the local queue, applies control frames, and bounds every pass.
#include <algorithm>
#include <new>

#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "os/clock.h"
#include "os/fd_budget.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

// Scratch buffer for one incoming datagram, per thread.
std::vector<uint8_t>& ReceiveBuffer() {
  thread_local std::vector<uint8_t> buffer(kMaxFrameBytes + 1);
  return buffer;
}

// True if the |size| bytes at |data| start with a data frame's header (a message).
bool IsDataFrame(const void* data, size_t size) {
  FrameHeader h;
  if (size < sizeof(h)) return false;
  std::memcpy(&h, data, sizeof(h));
  return h.magic == kFrameMagic && h.kind == kFrameData;
}

}  // namespace

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
        if (w->waker != ThreadWaker::CurrentIfCreated()) w->waker->Kick();
        return;
      }
    }
  }
  queue_bytes_ += MessageBytes(message);
  queue_.push_back(std::move(message));
  NotifySignalsSet(MX_CHANNEL_READABLE);
}

// Delivers the stashed socket frame once every earlier message was delivered (from the ring),
// joining it with its payload if that went to the ring. Returns false when it must wait.
bool ChannelEndpoint::ResolveStashLocked() {
  while (stash_) {
    uint64_t seq;
    uint32_t flags = 0;
    bool have = recv_ring_.valid() && recv_ring_.Peek(&seq, &flags);
    if (recv_ring_.broken()) {
      BreakLocked("spill ring corrupted");
      return false;
    }
    if (stash_->header.seq == recv_seq_) {
      if (stash_->header.flags & kFlagPayloadInRing) {
        if (!have) {
          // The writer sends the handles first and publishes the payload right after; wait,
          // unless it died in between.
          if (eof_ || PeerHungUp(sock_.get()))
            BreakLocked("writer died between handles and payload");
          return false;
        }
        if (seq != recv_seq_ || !(flags & SpillRing::kRecordHasHandles)) {
          BreakLocked("ring record does not match its frame");
          return false;
        }
        recv_ring_.Pop(&stash_->message.bytes);
        WakeWriterLocked();
      }
      Frame f = std::move(*stash_);
      stash_.reset();
      ++recv_seq_;
      DeliverLocked(std::move(f.message));
      return true;
    }
    // Ring records with lower sequence numbers come first.
    if (!have || seq != recv_seq_ || (flags & SpillRing::kRecordHasHandles)) {
      BreakLocked("sequence gap");
      return false;
    }
    Message m;
    recv_ring_.Pop(&m.bytes);
    WakeWriterLocked();
    ++recv_seq_;
    DeliverLocked(std::move(m));
  }
  return true;
}

// Reads what is available next, in sequence order. Returns false when nothing more can be
// read right now (socket empty, end of stream, waiting for the writer, or broken).
bool ChannelEndpoint::PumpOneFrameLocked(PumpBudget* budget) {
  if (gone_ || frozen_) return false;
  if (stash_) {
    Charge(kFrameCharge, &budget->cost);
    return ResolveStashLocked();
  }
  bool ring_needs_socket = false;
  if (recv_ring_.valid() && recv_seq_ >= peer_write_limit_) RetirePeerRingLocked();
  if (recv_ring_.valid()) {
    uint64_t seq;
    uint32_t flags;
    if (recv_ring_.Peek(&seq, &flags)) {
      if (seq == recv_seq_ && seq < peer_write_limit_ && !(flags & SpillRing::kRecordHasHandles)) {
        Message m;
        recv_ring_.Pop(&m.bytes);
        WakeWriterLocked();
        ++recv_seq_;
        Charge(MessageBytes(m), &budget->cost);
        DeliverLocked(std::move(m));
        return true;
      }
      if (seq < recv_seq_) {
        BreakLocked("ring sequence went backwards");
        return false;
      }
      if (seq >= peer_write_limit_) {
        BreakLocked("ring record from an end that left without WRITE");
        return false;
      }
      // A record whose handles are on the socket, or a later one: read the socket.
      ring_needs_socket = true;
    } else if (recv_ring_.broken()) {
      BreakLocked("spill ring corrupted");
      return false;
    }
  }
  if (eof_) return false;
  // The fast path: once the writer announced its ring it counts the frames it puts on the
  // socket; while we have received them all, nothing is there for us, unless the writer closed
  // (orderly) or a caller wants the kernel's word (force_socket_: a wait about to block or just
  // woken, a signal query, a read that found nothing).
  if (recv_ring_.valid() && !force_socket_ && !ring_needs_socket &&
      recv_ring_.SocketFrames() == sock_seen_ && !recv_ring_.PeerClosed(false)) {
    return false;
  }
  std::vector<uint8_t>& buffer = ReceiveBuffer();
  ReceivedDatagram got;
  mx_status_t st;
  FrameHeader head = {};
  if (budget->install_fds) {
    // A reader or a call asked for what comes next.
    // With room for the largest frame, overflow included, by a count at most 20 ms old, the
    // frame is taken in one recvmsg with its fds (most frames carry none: a kick, a control
    // frame, a message without handles that found the ring full or came before it). Otherwise:
    // 1. Install the frame's fds, as duplicates, while the kernel keeps the frame (and its own
    //    references) queued. The control buffer holds only as many fds as the table can take
    //    with kFdReserve to spare: a frame carrying more (or a table that fills up part-way)
    //    is reported, and stays there, whole.
    const size_t room = InstallableFds(kMaxFdsPerDatagram);  // refreshes a stale count
    const bool single = RecentlyPlentiful(kMaxFrameFds);
    if (single) {
      st = ReceiveDatagram(sock_.get(), buffer.data(), buffer.size(), &got);
      if (st == MX_OK) CountInstalled(got.fds.size());
    } else if (room == 0) {
      PeekedDatagram peek;
      st = PeekDatagram(sock_.get(), buffer.data(), sizeof(head), &peek);
      if (st == MX_OK && peek.has_control) {
        HoldFrameLocked(IsDataFrame(buffer.data(), std::min(peek.size, sizeof(head))),
                        /*starved=*/true);
        return false;
      }
    } else {
      st = PeekDatagramFds(sock_.get(), buffer.data(), buffer.size(), room, &got);
      if (st == MX_ERR_NO_RESOURCES) {
        HoldFrameLocked(IsDataFrame(buffer.data(), got.size), /*starved=*/true);
        return false;
      }
    }
    if (!single && st == MX_OK && !got.fds.empty()) {
      // 2. Keep kFdReserve slots free after the fds an overflow socket (the frame's last fd)
      //    still brings. A header claiming more than any frame may carry is taken as it is and
      //    refused by the decoder (the channel breaks), never held for fds it cannot need.
      if (got.size >= sizeof(head)) std::memcpy(&head, buffer.data(), sizeof(head));
      size_t more = 0;
      if ((head.flags & kFlagFdOverflow) && head.num_fds > got.fds.size() &&
          head.num_fds <= kMaxFrameFds) {
        more = head.num_fds - got.fds.size() + 1;
      }
      int highest = -1;
      for (const UniqueFd& fd : got.fds) highest = std::max(highest, fd.get());
      if (!KeepsFdHeadroom(got.fds.size(), highest, more)) {
        got.fds.clear();  // our duplicates; the frame keeps its own
        HoldFrameLocked(IsDataFrame(buffer.data(), got.size), /*starved=*/true);
        return false;
      }
    }
    if (!single && st == MX_OK) {
      // 3. Take the frame without its control data: the kernel drops its own references.
      ReceivedDatagram taken;
      st = room == 0 ? ReceiveDatagramWithoutFds(sock_.get(), buffer.data(), buffer.size(), &got)
                     : ReceiveDatagramWithoutFds(sock_.get(), nullptr, 0, &taken);
    }
  } else {
    // A wait or a signal query. It installs the fds of the message at the head of the socket
    // when they fit (see docs/channels.md, "fd budget"), so that the frames behind it (wake-ups,
    // user signals) are seen; otherwise the message stays there, READABLE, for the reader.
    // 1. Look at the header without taking the frame or installing anything: it tells whether
    //    fds are attached and how many the frame claims.
    PeekedDatagram peek;
    st = PeekDatagram(sock_.get(), &head, sizeof(head), &peek);
    if (st == MX_OK && peek.has_control) {
      const bool data = IsDataFrame(&head, peek.size);
      const bool ring =
          peek.size >= sizeof(head) && head.magic == kFrameMagic && head.kind == kFrameRing;
      if ((!data && !(ring && head.num_fds == 1)) || head.num_fds == 0 ||
          head.num_fds > kMaxFrameFds) {
        // 2a. Only a message or the ring announcement (one fd, once per channel) carries fds:
        //     anything else is malformed. Take it without installing anything, and break.
        ReceivedDatagram taken;
        st = ReceiveDatagramWithoutFds(sock_.get(), nullptr, 0, &taken);
        if (st == MX_OK) {
          BreakLocked("frame with fds that is neither a message nor the ring");
          return false;
        }
      } else {
        // 2b. Its fds: those attached, plus the overflow socket's for a larger message.
        const size_t attached = std::min<size_t>(head.num_fds, kMaxFdsPerDatagram);
        const size_t more = (head.flags & kFlagFdOverflow) && head.num_fds > kMaxFdsPerDatagram
                                ? head.num_fds - kMaxFdsPerDatagram + 1
                                : 0;
        // A message is queued only if it fits the refresh limit whole, its fds charged as in
        // the queue, so that waits on a channel nobody reads hold at most kRefreshPumpBytes.
        const size_t charge = FrameCharge(peek.size, head.num_fds) + sizeof(Message);
        if (data && queue_bytes_ + charge > kRefreshPumpBytes) {
          HoldFrameLocked(/*data=*/true, /*starved=*/false);
          return false;
        }
        // 3. A fresh count: a recent one may predate fds opened since, and nothing here can
        //    tell (the read path checks the numbers the kernel gave out, after installing).
        if (!HaveFdHeadroom(attached + more)) {
          HoldFrameLocked(data, /*starved=*/true);
          return false;
        }
        // 4. Take it with its fds in one recvmsg. The control buffer holds exactly the fds the
        //    header claims: a frame carrying more arrives cut short (MSG_CTRUNC; the kernel
        //    closes the rest) and breaks the channel, as its lying header would anyway. Only
        //    this process's other threads opening kFdReserve fds between the count and the
        //    recvmsg could make the kernel install fewer; that channel would break, no fd leaks.
        st = ReceiveDatagramUpTo(sock_.get(), buffer.data(), buffer.size(), attached, &got);
      }
    } else if (st == MX_OK) {
      st = ReceiveDatagramWithoutFds(sock_.get(), buffer.data(), buffer.size(), &got);
    }
  }
  drained_ = st == MX_ERR_SHOULD_WAIT;
  if (drained_) {
    force_socket_ = false;
    fds_ahead_ = false;
    return false;
  }
  fds_ahead_ = false;
  fd_starved_ = false;
  if (st == MX_OK && recv_ring_.valid()) ++sock_seen_;
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
  switch (frame.header.kind) {
    case kFrameData:
      if (frame.header.seq >= peer_write_limit_) {
        BreakLocked("data from an end that left without WRITE");
        return false;
      }
      if (frame.header.seq == recv_seq_ && !(frame.header.flags & kFlagPayloadInRing)) {
        ++recv_seq_;
        DeliverLocked(std::move(frame.message));
        return true;
      }
      if (frame.header.seq >= recv_seq_ && recv_ring_.valid()) {
        stash_ = std::move(frame);
        return ResolveStashLocked();
      }
      BreakLocked("data frame out of sequence");
      return false;
    case kFrameSignal: {
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
    case kFrameRing: {
      if (recv_ring_.valid()) {
        BreakLocked("second ring announcement");
        return false;
      }
      if (peer_write_limit_ != UINT64_MAX) {
        BreakLocked("ring announced by an end that left without WRITE");
        return false;
      }
      UniqueFd fd = std::move(frame.message.handles[0].fds[0]);
      if (SpillRing::Attach(std::move(fd), &recv_ring_) != MX_OK) {
        BreakLocked("invalid ring");
        return false;
      }
      sock_seen_ = 0;
      recv_ring_.MarkAttached();
      has_ring_.store(true, std::memory_order_relaxed);
      // Threads already blocked (or about to) need the writer's kicks from now on; the pump
      // looks at the ring next (see SpillRing::SetReaderWaiting).
      if (waiters_ > 0) recv_ring_.SetReaderWaiting(true);
      return true;
    }
    case kFrameNoWrite:
      if (frame.header.seq < peer_write_limit_) peer_write_limit_ = frame.header.seq;
      if (recv_seq_ >= peer_write_limit_) RetirePeerRingLocked();
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

// The peer's end left without WRITE and every record it published before is read: its ring has
// nothing more for us (its new owner did not get it), and its frame counter no longer counts the
// peer's control frames, so the socket alone is watched from now on.
void ChannelEndpoint::RetirePeerRingLocked() { recv_ring_ = SpillRing(); }

bool ChannelEndpoint::PeerGoneLocked() { return sock_ && PeerHungUp(sock_.get()); }

void ChannelEndpoint::HoldFrameLocked(bool data, bool starved) {
  const bool was_held = HeldMessageLocked();
  fds_ahead_ = true;
  fds_ahead_data_ = data;
  fd_starved_ = starved;
  if (!was_held && HeldMessageLocked()) NotifySignalsSet(MX_CHANNEL_READABLE);
}

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

bool ChannelEndpoint::PumpLocked(bool all, size_t queue_limit, PumpBudget* budget) {
  size_t start = queue_.size();
  while (queue_bytes_ < queue_limit) {
    if (budget->cost == 0) return true;
    if (budget->deadline != MX_TIME_INFINITE && MonotonicNow() >= budget->deadline) return true;
    if (!PumpOneFrameCaughtLocked(budget)) break;
    if (!all && queue_.size() > start) break;
  }
  return false;
}

void ChannelEndpoint::WakeWriterLocked() {
  // Not sent: the writer still waits; the flag stays for the next read to try again.
  if (recv_ring_.TakeWriterWake() && !KickLocked()) recv_ring_.SetWriterWaiting();
}

}  // namespace mx::internal
