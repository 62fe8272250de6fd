#include "object/channel_endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "object/wait.h"
#include "os/clock.h"
#include "os/fd_check.h"
#include "os/fd_budget.h"
#include "os/koid.h"
#include "os/log.h"
#include "os/socket.h"
#include "os/spin.h"
#include "os/status.h"
#include "transport/endpoint_state.h"

namespace mx::internal {
namespace {

// How many bytes of messages (as MessageBytes charges them) a refresh (a wait, a signal query)
// pulls into the local queue.
constexpr size_t kRefreshPumpBytes = 128 * 1024;

// What one pass of pumping (a signal query, a read, one round of a waiting call) may spend, as
// charged by FrameCharge: about 220 control frames, a few milliseconds of system calls.
constexpr size_t kPassBudget = 64 * 1024;
// Every socket frame costs at least this much (its system calls, the kernel's buffer), whatever
// its size; a frame's fds cost kFdCharge each (a table slot, an open file, the kernel's memory).
constexpr size_t kFrameCharge = 256;
constexpr size_t kFdCharge = 4096;
// How often a waiting call looks again at a frame it could not take for lack of fds.
constexpr mx_time_t kFdRetryInterval = 10'000'000;  // 10 ms

// How often a wait looks at a socket it cannot watch (its head frame is held, or the local queue
// is at the refresh limit) when what it waits for may be behind that frame.
constexpr mx_time_t kUnwatchedRecheckInterval = 10'000'000;  // 10 ms

// A direction gets its shared-memory ring once this many messages went the socket way: setting
// a ring up costs about ten system calls and two fds, which a channel used for one request and
// its reply would never win back.
constexpr uint64_t kRingAfterMessages = 8;

// Scratch buffer for one incoming datagram, per thread.
std::vector<uint8_t>& ReceiveBuffer() {
  thread_local std::vector<uint8_t> buffer(kMaxFrameBytes + 1);
  return buffer;
}

UniqueFd Dup(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

// What a queued message costs in memory: its payload, each handle's descriptor and extra bytes,
// each fd (see kFdCharge), and the Message, its vectors and its deque slot. Computed from sizes
// only, so that the same message is charged the same when it is queued and when it leaves.
constexpr size_t kAllocationOverhead = 32;  // malloc's header and rounding, per allocation

size_t MessageBytes(const Message& m) {
  size_t n = sizeof(Message) + 2 * kAllocationOverhead + m.bytes.size();
  for (const RawHandle& h : m.handles) {
    n += sizeof(RawHandle) + 2 * kAllocationOverhead + h.extra.size() +
         h.fds.size() * (sizeof(UniqueFd) + kFdCharge);
  }
  return n;
}

// True if the |size| bytes at |data| start with a data frame's header (a message).
bool IsDataFrame(const void* data, size_t size) {
  FrameHeader h;
  if (size < sizeof(h)) return false;
  std::memcpy(&h, data, sizeof(h));
  return h.magic == kFrameMagic && h.kind == kFrameData;
}

// The charge of one socket frame of |bytes| bytes with |fds| fds.
size_t FrameCharge(size_t bytes, size_t fds) { return kFrameCharge + bytes + fds * kFdCharge; }

void Charge(size_t cost, size_t* budget) { *budget = cost >= *budget ? 0 : *budget - cost; }

}  // namespace

size_t ChannelEndpoint::CallPumpLimit() { return 2 * BufferLimit(); }

size_t ChannelEndpoint::BufferLimit() { return ChannelBufferLimit(); }

ChannelEndpoint::ChannelEndpoint(mx_koid_t koid, mx_koid_t peer_koid, UniqueFd sock)
    : Object(koid), peer_koid_(peer_koid), sock_(std::move(sock)) {}

ChannelEndpoint::~ChannelEndpoint() = default;

mx_status_t ChannelEndpoint::CreatePair(std::shared_ptr<ChannelEndpoint>* a,
                                        std::shared_ptr<ChannelEndpoint>* b) {
  UniqueFd s0, s1;
  mx_status_t st = CreateSeqpacketPair(&s0, &s1);
  if (st != MX_OK) return st == MX_ERR_NO_MEMORY ? st : MX_ERR_NO_RESOURCES;
  mx_koid_t k0 = AllocateKoid();
  mx_koid_t k1 = AllocateKoid();
  *a = std::make_shared<ChannelEndpoint>(k0, k1, std::move(s0));
  *b = std::make_shared<ChannelEndpoint>(k1, k0, std::move(s1));
  return MX_OK;
}

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
  auto ep = std::make_shared<ChannelEndpoint>(raw.koid, raw.related_koid, std::move(raw.fds[next++]));
  ep->send_seq_ = state.send_seq;
  ep->recv_seq_ = state.recv_seq;
  ep->user_signals_ = state.user_signals;
  ep->sock_seen_ = state.socket_frames_seen;
  if (state.flags & kEndpointPeerNoWrite) ep->peer_write_limit_ = state.peer_write_limit;
  if (state.flags & kEndpointHasSendRing) {
    mx_status_t st = SpillRing::Attach(std::move(raw.fds[next++]), &ep->send_ring_);
    if (st != MX_OK) return st;
    ep->has_ring_.store(true, std::memory_order_relaxed);
  }
  if (state.flags & kEndpointHasRecvRing) {
    mx_status_t st = SpillRing::Attach(std::move(raw.fds[next++]), &ep->recv_ring_);
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

// ---- Pumping ------------------------------------------------------------------------------

void ChannelEndpoint::BreakLocked(const char* why) {
  DebugLog("channel %llu: peer broke the protocol (%s); treating it as closed",
           static_cast<unsigned long long>(koid()), why);
  // A malformed frame: the peer is not speaking our protocol. Stop listening to it, let it
  // see us go away, and report PEER_CLOSED. Already-queued messages stay readable.
  if (sock_) ::shutdown(sock_.get(), SHUT_RDWR);
  stash_.reset();
  EndOfStreamLocked();
}

void ChannelEndpoint::MarkPeerClosedLocked() {
  if (peer_closed_) return;
  peer_closed_ = true;
  NotifySignalsSet(MX_CHANNEL_PEER_CLOSED);
}

void ChannelEndpoint::EndOfStreamLocked() {
  // Nothing more will arrive: calls still waiting for a reply fail. A frame left at the head of
  // the socket is not read any more either.
  eof_ = true;
  fds_ahead_ = false;
  fd_starved_ = false;
  MarkPeerClosedLocked();
  CancelCallersLocked(MX_ERR_PEER_CLOSED);
}

void ChannelEndpoint::CancelCallersLocked(mx_status_t status) {
  for (CallWaiter* w : callers_) {
    w->done = true;
    w->status = status;
    w->waker->Kick();
  }
  callers_.clear();
}

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
          if (eof_ || PeerHungUp(sock_.get())) BreakLocked("writer died between handles and payload");
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
      const bool ring = peek.size >= sizeof(head) && head.magic == kFrameMagic &&
                        head.kind == kFrameRing;
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

// ---- Signals and waiting -----------------------------------------------------------------

// Once a write returned SHOULD_WAIT, WRITABLE stays clear until the reader made room: half
// of the ring when the ring was full, else until the socket accepts frames again (it reports
// POLLOUT when at most a quarter full).
bool ChannelEndpoint::WritableLocked() {
  if (peer_closed_ || gone_) return false;
  if (write_blocked_) {
    bool room = blocked_on_ring_ ? send_ring_.BufferedPayload() <= BufferLimit() / 2
                                 : (sock_ && CanSend(sock_.get()));
    if (room) write_blocked_ = false;
  }
  return !write_blocked_;
}

void ChannelEndpoint::WakeWriterLocked() {
  // Not sent: the writer still waits; the flag stays for the next read to try again.
  if (recv_ring_.TakeWriterWake() && !KickLocked()) recv_ring_.SetWriterWaiting();
}

// Brings the signals up to date. Frames are pumped into the local queue so that control
// frames (user signals from the peer) queued behind messages take effect, but only up to
// kRefreshPumpBytes of messages: a reader that merely waits or polls must not drain the
// writer's buffers, or backpressure would never reach the writer. With |ask_kernel| the socket
// is read even when the ring's counters say nothing is there, and the peer's departure is seen
// with poll(POLLHUP) even while its messages are still queued; without, only shared memory is
// looked at unless the counters point at the socket (the cheap look of a wait that may spin).
void ChannelEndpoint::RefreshLocked(bool ask_kernel) {
  drained_ = false;
  if (ask_kernel) force_socket_ = true;
  if (!gone_ && !frozen_) {
    PumpBudget budget = {kPassBudget, /*install_fds=*/false};
    // Frames left behind by a spent budget bring no new edge on the socket: tell the observers
    // (a port re-queues the registration behind the others) so they come back for the rest.
    bool more = PumpLocked(/*all=*/true, kRefreshPumpBytes, &budget);
    // A peer that is gone sent a finite stream: read on past its control frames (bounded
    // passes), so that PEER_CLOSED never shows without READABLE while a message is unread.
    while (more && ask_kernel && !eof_ && PeerGoneLocked()) {
      budget.cost = kPassBudget;
      more = PumpLocked(/*all=*/true, kRefreshPumpBytes, &budget);
    }
    if (more) NotifySignalsSet(0);
  }
  // An empty socket whose peer is gone reads as end of stream (the pump saw it); only when
  // frames were left unread can the peer be gone without the pump knowing.
  if (ask_kernel && !peer_closed_ && !gone_ && !drained_ && sock_ && PeerHungUp(sock_.get())) {
    MarkPeerClosedLocked();
  }
}

mx_signals_t ChannelEndpoint::SignalsLocked() {
  mx_signals_t s = user_signals_;
  if (!queue_.empty() || HeldMessageLocked()) s |= MX_CHANNEL_READABLE;
  if (peer_closed_) s |= MX_CHANNEL_PEER_CLOSED;
  if (WritableLocked()) s |= MX_CHANNEL_WRITABLE;
  return s;
}

mx_signals_t ChannelEndpoint::Signals() {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked(/*ask_kernel=*/true);
  return SignalsLocked();
}

mx_signals_t ChannelEndpoint::FastSignals() {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked(/*ask_kernel=*/false);
  return SignalsLocked();
}

bool ChannelEndpoint::CanSpin() { return has_ring_.load(std::memory_order_relaxed); }

bool ChannelEndpoint::SpinReadyLocked(mx_signals_t waitfor, bool deep) {
  if (gone_ || eof_) return true;
  if (deep && sock_ && !peer_closed_ && PeerHungUp(sock_.get())) {
    force_socket_ = true;  // the next pump reads the end of the stream
    return true;
  }
  if ((waitfor & MX_CHANNEL_READABLE) && !queue_.empty()) return true;
  if (recv_ring_.valid() && (recv_ring_.HasRecord() || recv_ring_.SocketFrames() != sock_seen_ ||
                             recv_ring_.PeerClosed(false))) {
    return true;
  }
  return write_blocked_ && (waitfor & MX_CHANNEL_WRITABLE) && blocked_on_ring_ &&
         send_ring_.BufferedPayload() <= BufferLimit() / 2;
}

bool ChannelEndpoint::SpinReady(mx_signals_t waitfor, bool deep) {
  std::lock_guard<std::mutex> lock(mu_);
  return SpinReadyLocked(waitfor, deep);
}

void ChannelEndpoint::BeginWait() {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiters_++ == 0 && !gone_ && !frozen_) {
    recv_ring_.SetReaderWaiting(true);
    recv_ring_.ReleaseIfIdle();  // a channel going quiet gives back what a burst touched
  }
}

void ChannelEndpoint::EndWait() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--waiters_ == 0 && !gone_ && !frozen_) recv_ring_.SetReaderWaiting(false);
}

uint64_t ChannelEndpoint::SignalCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() ? 1 : queue_.size();
}

void ChannelEndpoint::AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || !sock_) return;
  // A socket whose peer hung up polls as ready for good (POLLHUP is reported whatever is
  // asked): watched, it would make a wait that does not want PEER_CLOSED spin until its
  // deadline. Once the hang-up is seen nothing more can arrive; what is queued is read by
  // the refresh before the wait blocks, or by the reader, which wakes waiters in this process.
  if (peer_closed_) return;
  // Whatever wakes the poll, the next look asks the kernel (a hang-up is not counted anywhere).
  force_socket_ = true;
  uint32_t events = EPOLLRDHUP;
  // Below the pump limit the socket was read until empty, so watching it is exact. At the
  // limit, frames stay on the socket (it stays readable; watching would spin) until the reader
  // takes messages, which wakes waiters in this process.
  // A message with fds left at the head of the socket keeps it readable too; the reader that
  // takes it wakes waiters in this process.
  const bool watch_frames = !eof_ && queue_bytes_ < kRefreshPumpBytes && !HeldMessageLocked();
  if (watch_frames) events |= EPOLLIN;
  // Blocked on a full ring, the reader's kick (a frame on our socket) wakes us; the socket
  // itself becomes writable long before the ring has room, so watching POLLOUT would spin.
  if (write_blocked_ && !blocked_on_ring_ && (waitfor & MX_CHANNEL_WRITABLE)) events |= EPOLLOUT;
  // Unwatched, the socket cannot tell of the frames queued behind its head: the peer's user
  // signals, and the kick that wakes a writer blocked on the ring. A wait for those looks
  // again now and then (a SEQPACKET socket cannot be read past its head frame).
  mx_time_t recheck_at = MX_TIME_INFINITE;
  if (!eof_ && !watch_frames &&
      ((waitfor & MX_USER_SIGNAL_ALL) ||
       ((waitfor & MX_CHANNEL_WRITABLE) && write_blocked_ && blocked_on_ring_))) {
    recheck_at = MonotonicNow() + kUnwatchedRecheckInterval;
  }
  out->push_back({sock_.get(), events, false, recheck_at});
}

mx_status_t ChannelEndpoint::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_) return MX_ERR_BAD_HANDLE;
  user_signals_ = (user_signals_ & ~clear_mask) | set_mask;
  NotifySignalsSet(set_mask);
  return MX_OK;
}

mx_status_t ChannelEndpoint::UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_) return MX_ERR_BAD_HANDLE;
  if (peer_closed_) return MX_ERR_PEER_CLOSED;
  uint32_t masks[2] = {clear_mask, set_mask};
  return SendControlLocked(kFrameSignal, masks, sizeof(masks), -1);
}

// ---- Sending ---------------------------------------------------------------------------------

mx_status_t ChannelEndpoint::SendBytesLocked(const std::vector<uint8_t>& bytes,
                                             const std::vector<int>& fds, bool raise) {
  return SendRawLocked(bytes.data(), bytes.size(), fds.data(), fds.size(), raise);
}

mx_status_t ChannelEndpoint::SendRawLocked(const void* bytes, size_t len, const int* fds,
                                           size_t num_fds, bool raise) {
  struct iovec iov = {const_cast<void*>(bytes), len};
  mx_status_t st = SendDatagram(sock_.get(), &iov, 1, fds, num_fds);
  if (st == MX_ERR_SHOULD_WAIT && raise) {
    // Small frames that must not wait for the reader (control frames, kicks, the handles of a
    // message whose payload went to the ring): grow the send buffer for this one frame, up to what the
    // kernel allows an unprivileged process, then shrink it back.
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
                                             const std::vector<RawHandle>& handles, bool raise) {
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  mx_status_t st = EncodeFrame(header, payload, num_payload, handles, &bytes, &fds, &overflow);
  if (st != MX_OK) return st;
  return SendBytesLocked(bytes, fds, raise);
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
  return SendBytesLocked(bytes, fds, true);
}

bool ChannelEndpoint::KickLocked() {
  // Wakes the peer, blocked in poll() on its socket. Like a control frame, a kick does not wait
  // for room: the flag that made us send it (kick_pending, writer_waiting) promises the peer a
  // frame, and a full socket is no reason to break that promise.
  FrameHeader kick = {};
  kick.magic = kFrameMagic;
  kick.kind = kFrameKick;
  return SendRawLocked(&kick, sizeof(kick), nullptr, 0, /*raise=*/true) == MX_OK;
}

mx_status_t ChannelEndpoint::CreateSendRingLocked() {
  size_t limit = BufferLimit();
  SpillRing ring;
  mx_status_t st = SpillRing::Create(2 * limit + 2 * (MX_CHANNEL_MAX_MSG_BYTES + 64), limit,
                                     &ring);
  if (st != MX_OK) return MX_ERR_SHOULD_WAIT;
  uint32_t info[2] = {0, 0};
  st = SendControlLocked(kFrameRing, info, sizeof(info), ring.fd());
  if (st != MX_OK) return st == MX_ERR_PEER_CLOSED ? st : MX_ERR_SHOULD_WAIT;
  send_ring_ = std::move(ring);
  has_ring_.store(true, std::memory_order_relaxed);
  return MX_OK;
}

void ChannelEndpoint::PublishedLocked() {
  ++send_seq_;
  // The reader may be blocked in poll(): wake it (once until it reads the kick).
  // A kick that could not be sent is not pending: the next record tries again. (Left set, the
  // flag would stop every later kick while the reader slept: found by the benchmarks, a reader
  // blocked for good after a message split while the socket was full.)
  if (send_ring_.TakeKick() && !KickLocked()) send_ring_.ClearKickPending();
}

mx_status_t ChannelEndpoint::RingWriteLocked(const void* bytes, uint32_t num_bytes) {
  if (!send_ring_.valid()) {
    if (ring_failed_ || send_seq_ < kRingAfterMessages) return MX_ERR_SHOULD_WAIT;
    mx_status_t st = CreateSendRingLocked();
    if (st == MX_ERR_PEER_CLOSED) return st;
    if (st != MX_OK) {
      // Out of fds or memory: this channel keeps to its socket (the spill path retries).
      ring_failed_ = true;
      return MX_ERR_SHOULD_WAIT;
    }
  }
  if (send_ring_.broken()) return MX_ERR_PEER_CLOSED;
  if (send_ring_.PeerClosed(true)) {
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
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || frozen_) return MX_ERR_BAD_HANDLE;
  if (peer_closed_) return MX_ERR_PEER_CLOSED;
  // Blocked (hysteresis) or no ring yet: the full path decides.
  if (write_blocked_ || !send_ring_.valid()) return MX_ERR_NEXT;
  mx_status_t st = RingWriteLocked(bytes, num_bytes);
  return st == MX_ERR_SHOULD_WAIT ? MX_ERR_NEXT : st;
}

mx_status_t ChannelEndpoint::ReadBytes(void* bytes, uint32_t num_bytes, bool may_discard,
                                       uint32_t* actual_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || frozen_ || !queue_.empty() || !callers_.empty() || stash_ ||
      !recv_ring_.valid()) {
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
    if (!send_ring_.HasRoomLocked(len)) {
      send_ring_.UnlockForWriter();
      return send_ring_.broken() ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
    }
    FrameHeader h = {};
    h.kind = kFrameData;
    h.flags = kFlagPayloadInRing;
    h.seq = send_seq_;
    mx_status_t st = SendFrameLocked(h, nullptr, 0, message.handles, true);
    if (st == MX_OK) {
      // Room was checked under the lock, and the reader only ever makes more.
      send_ring_.WriteLocked(send_seq_, message.bytes.data(), len, SpillRing::kRecordHasHandles);
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
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || frozen_) return MX_ERR_BAD_HANDLE;
  // Once full, the channel stays unwritable until the reader drained it (hysteresis).
  if (write_blocked_ && !WritableLocked()) return peer_closed_ ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
  if (peer_closed_) return MX_ERR_PEER_CLOSED;
  // Handle-free messages go to the shared-memory ring (no system call); messages with handles
  // (their fds must travel through the kernel) and those that find the ring full take the socket.
  if (message.handles.empty()) {
    mx_status_t st = RingWriteLocked(message.bytes.data(),
                                     static_cast<uint32_t>(message.bytes.size()));
    if (st != MX_ERR_SHOULD_WAIT) return st;
  }
  FrameHeader h = {};
  h.kind = kFrameData;
  h.seq = send_seq_;
  mx_status_t st = SendFrameLocked(h, message.bytes.data(), message.bytes.size(), message.handles,
                                   false);
  if (st == MX_OK) {
    ++send_seq_;
    return MX_OK;
  }
  if (st == MX_ERR_SHOULD_WAIT) {
    st = SpillLocked(message);
    if (st == MX_ERR_SHOULD_WAIT) {
      write_blocked_ = true;
      blocked_on_ring_ = send_ring_.valid() && !send_ring_.HasRoom(
                                                   static_cast<uint32_t>(message.bytes.size()));
      // The reader kicks us (a frame on our socket) once it has emptied half the ring.
      if (blocked_on_ring_) send_ring_.SetWriterWaiting();
    }
  }
  return st;
}

// ---- Reading ---------------------------------------------------------------------------------

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

// ---- Call ------------------------------------------------------------------------------------

mx_status_t ChannelEndpoint::BeginCall(const Message& request, CallWaiter* waiter) {
  ThreadWaker* waker = ThreadWaker::Current();
  if (waker == nullptr) return MX_ERR_NO_RESOURCES;
  waker->DrainIfKicked();
  waiter->txid = request.txid();
  waiter->waker = waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gone_ || frozen_) return MX_ERR_BAD_HANDLE;
    // 1. Everything that arrived before the request is sent belongs to the general queue. The
    //    pass is bounded like every other (a peer that keeps the socket full would hold us
    //    here); what an honest peer can have queued in the kernel (its send buffer) is far less.
    PumpBudget budget = {CallPumpLimit(), /*install_fds=*/true};
    PumpLocked(true, CallPumpLimit(), &budget);
    if (peer_closed_) return MX_ERR_PEER_CLOSED;
    // 2. Register before sending, so the reply cannot slip past us.
    callers_.push_back(waiter);
  }
  mx_status_t st = Write(request);
  if (st != MX_OK) {
    std::lock_guard<std::mutex> lock(mu_);
    callers_.remove(waiter);
    if (waiter->done && waiter->status == MX_OK) DeliverLocked(std::move(waiter->reply));
    waiter->done = false;
  }
  return st;
}

mx_status_t ChannelEndpoint::FinishCall(CallWaiter* waiter, mx_time_t deadline,
                                        mx_status_t* read_status) {
  // 3. Wait: pump whenever the ring, the socket or our waker says something happened.
  // Messages that are not our reply pile up in the local queue, but only up to
  // CallPumpLimit(): past that the peer sees backpressure, and we wait for readers in this
  // process to make room (they wake us through the observer). As in WaitForItems, we first
  // spin on shared memory for the budget, then arm and block.
  Observer observer;
  observer.waker = waiter->waker;
  AddObserver(&observer);
  WaitSet set(waiter->waker);
  mx_status_t result = MX_OK;
  bool spun = false;
  bool armed = false;
  for (;;) {
    std::vector<WaitSource> sources;
    bool block = false;
    bool more = false;
    mx_time_t wake_at = deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Each round pumps one bounded pass (and stops at the deadline): a peer that floods
      // frames delays the answer by at most one frame past the deadline.
      if (!waiter->done && !gone_ && !frozen_) {
        PumpBudget budget = {kPassBudget, /*install_fds=*/true, deadline};
        more = PumpLocked(true, CallPumpLimit(), &budget);
      }
      if (!waiter->done && (gone_ || eof_)) {
        callers_.remove(waiter);
        waiter->done = true;
        waiter->status = gone_ ? MX_ERR_CANCELED : MX_ERR_PEER_CLOSED;
      }
      if (waiter->done) break;
      if (MonotonicNow() >= deadline) {
        // 4. Timed out: withdraw. A reply that comes later lands in the general queue.
        callers_.remove(waiter);
        result = MX_ERR_TIMED_OUT;
        break;
      }
      if (spun && armed && !more) {
        block = true;
        force_socket_ = true;  // the next look asks the kernel (a hang-up is counted nowhere)
        if (sock_) {
          uint32_t events = EPOLLRDHUP;
          // A frame left in the kernel for lack of fd headroom keeps the socket readable; look
          // again now and then, as fds are freed without telling us.
          if (fd_starved_) {
            wake_at = std::min(deadline, MonotonicNow() + kFdRetryInterval);
          } else if (queue_bytes_ < CallPumpLimit()) {
            events |= EPOLLIN;
          }
          sources.push_back({sock_.get(), events, false});
        }
      }
    }
    if (more) continue;
    if (!spun) {
      spun = true;
      if (SpinForReply(waiter, deadline)) waiter->waker->DrainIfKicked();
      continue;
    }
    if (!armed) {
      armed = true;
      BeginWait();
      continue;
    }
    if (block) {
      set.Update(sources);
      set.Wait(wake_at);
      waiter->waker->Drain();
    }
  }
  SpinWaitEnded();
  if (armed) EndWait();
  RemoveObserver(&observer);
  if (result != MX_OK) return result;
  if (waiter->status != MX_OK) {
    *read_status = waiter->status;
    return MX_ERR_CALL_FAILED;
  }
  return MX_OK;
}

bool ChannelEndpoint::SpinForReply(CallWaiter* waiter, mx_time_t deadline) {
  return SpinUntilNews(waiter->waker, deadline, [this, waiter](bool deep) {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiter->done || SpinReadyLocked(MX_CHANNEL_READABLE, deep)) return SpinLook::kNews;
    // Nothing in shared memory to watch.
    return recv_ring_.valid() ? SpinLook::kNothing : SpinLook::kGiveUp;
  });
}

// ---- Lifecycle -------------------------------------------------------------------------------

mx_status_t ChannelEndpoint::PrepareTransfer(const Handle& handle, RawHandle* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_ || frozen_) return MX_ERR_BAD_HANDLE;
  // A frame waiting for its payload in the ring cannot travel as it is. The writer publishes the
  // payload right after sending the frame, so wait for it briefly (ResolveStashLocked breaks
  // the channel if the writer died in between).
  for (int spins = 0; stash_ && spins < 100000; ++spins) {
    if (ResolveStashLocked() || !stash_ || eof_) break;
    ::sched_yield();
  }
  if (stash_) return MX_ERR_SHOULD_WAIT;
  // Leaving without WRITE: the peer learns, in order on this socket, that nothing this end sends
  // from now on is data, so that whoever holds the fd next cannot write through a raw frame or
  // the ring (see docs/channels.md, "Rights across processes").
  // Once is enough: without WRITE this end never sends data again, so the number cannot change.
  if (!handle.HasRights(MX_RIGHT_WRITE) && !no_write_announced_ && !eof_ && !peer_closed_) {
    FrameHeader h = {};
    h.magic = kFrameMagic;
    h.kind = kFrameNoWrite;
    h.seq = send_seq_;
    mx_status_t st = SendRawLocked(&h, sizeof(h), nullptr, 0, /*raise=*/true);
    if (st != MX_OK && st != MX_ERR_PEER_CLOSED) return MX_ERR_NO_RESOURCES;
    no_write_announced_ = true;
  }
  EndpointState state = {};
  state.send_seq = send_seq_;
  state.recv_seq = recv_seq_;
  state.user_signals = user_signals_;
  state.socket_frames_seen = sock_seen_;
  if (peer_write_limit_ != UINT64_MAX) {
    state.flags |= kEndpointPeerNoWrite;
    state.peer_write_limit = peer_write_limit_;
  }
  out->type = MX_OBJ_TYPE_CHANNEL;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  UniqueFd sock = Dup(sock_.get());
  if (!sock) return MX_ERR_NO_RESOURCES;
  out->fds.push_back(std::move(sock));
  // Without WRITE the next owner has no use for the send ring, and must not get a way to publish
  // records in it.
  if (send_ring_.valid() && handle.HasRights(MX_RIGHT_WRITE)) {
    UniqueFd fd = Dup(send_ring_.fd());
    if (!fd) return MX_ERR_NO_RESOURCES;
    out->fds.push_back(std::move(fd));
    state.flags |= kEndpointHasSendRing;
  }
  if (recv_ring_.valid()) {
    UniqueFd fd = Dup(recv_ring_.fd());
    if (!fd) return MX_ERR_NO_RESOURCES;
    out->fds.push_back(std::move(fd));
    state.flags |= kEndpointHasRecvRing;
  }
  if (!queue_.empty()) {
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
      UniqueFd d = Dup(fd);
      if (!d) return MX_ERR_NO_RESOURCES;
      out->fds.push_back(std::move(d));
    }
    state.flags |= kEndpointHasQueue;
    state.queue_count = static_cast<uint32_t>(messages.size());
    state.queue_fds = static_cast<uint32_t>(nested.size());
    state.queue_bytes = blob.size();
  }
  out->extra.resize(sizeof(state));
  std::memcpy(out->extra.data(), &state, sizeof(state));
  frozen_ = true;
  // The next owner sets the flag for its own waiters; ours must not linger (it would only
  // cost kicks, but clearing it after the endpoint left could erase the new owner's).
  recv_ring_.SetReaderWaiting(false);
  return MX_OK;
}

void ChannelEndpoint::AbortTransfer(const Handle&) {
  std::lock_guard<std::mutex> lock(mu_);
  frozen_ = false;
  if (waiters_ > 0) recv_ring_.SetReaderWaiting(true);
}

void ChannelEndpoint::CommitTransferOut(const Handle&) {
  std::lock_guard<std::mutex> lock(mu_);
  // The endpoint now lives in the message (or the child): drop our copies without telling the
  // peer anything — its socket is still open, in flight.
  gone_ = true;
  frozen_ = false;
  CancelCallersLocked(MX_ERR_CANCELED);
  queue_.clear();
  queue_bytes_ = 0;
  stash_.reset();
  sock_.reset();
  send_ring_ = SpillRing();
  recv_ring_ = SpillRing();
}

void ChannelEndpoint::OnLastHandleClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  gone_ = true;
  CancelCallersLocked(MX_ERR_CANCELED);
  // The peer learns of an orderly close from the rings without a system call; closing the
  // socket is what tells it in every case (PEER_CLOSED), and dropping the queue closes the
  // handles inside unread messages, which cascades to their own peers.
  send_ring_.MarkClosed(true);
  recv_ring_.MarkClosed(false);
  sock_.reset();
  queue_.clear();
  queue_bytes_ = 0;
  stash_.reset();
  send_ring_ = SpillRing();
  recv_ring_ = SpillRing();
}

}  // namespace mx::internal
