// SPDX-License-Identifier: BSD-3-Clause
// The channel endpoint as an object: creation, signals, what a wait watches, user signals and
// the end of its life. Sending, receiving, calls and transfer live in channel_*.cc beside it.
#include "object/channel_endpoint.h"

#include <cstring>

#include "object/channel_costs.h"
#include "os/clock.h"
#include "os/epoll.h"
#include "os/fd_budget.h"
#include "os/koid.h"
#include "os/log.h"
#include "os/socket.h"
#include "transport/endpoint_state.h"
#include "transport/frame_io.h"

namespace mx::internal {

namespace {

// Frames an endpoint closing unread takes off its socket before closing it (DropUnreadFrames).
constexpr size_t kCloseDrainFrames = 4096;

// Takes the frames still queued on |sock| and drops them here, so that the handles they carry
// close through libmx (RawHandle wakes the holders of events and eventpairs) instead of inside
// the kernel, which tells nobody. Frames without fds are discarded without being copied. Bounded
// as a reader is: at most kCloseDrainFrames frames (a writer that keeps sending must not keep a
// close busy), and only the fds this process can install with its reserve to spare
// (os/fd_budget.h); a frame carrying more, or an fd overflow (more than one datagram's worth), is
// left to the kernel, which closes its fds without telling anyone.
void DropUnreadFrames(int sock) {
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < kCloseDrainFrames; ++i) {
    PeekedDatagram peek;
    if (PeekDatagram(sock, nullptr, 0, &peek) != MX_OK) return;
    ReceivedDatagram got;
    if (!peek.has_control) {
      if (ReceiveDatagramWithoutFds(sock, nullptr, 0, &got) != MX_OK) return;
      continue;
    }
    if (buffer.empty()) buffer.resize(kMaxFrameBytes);
    const size_t room = InstallableFds(kMaxFdsPerDatagram);
    mx_status_t st = room == 0
                         ? ReceiveDatagramWithoutFds(sock, nullptr, 0, &got)
                         : ReceiveDatagramUpTo(sock, buffer.data(), buffer.size(), room, &got);
    if (st != MX_OK) return;
    CountInstalled(got.fds.size());
    FrameHeader head = {};
    if (got.truncated || got.bad_control || got.size < sizeof(head)) continue;
    std::memcpy(&head, buffer.data(), sizeof(head));
    if (head.flags & kFlagFdOverflow) continue;
    Frame frame;
    DecodeFrame(buffer.data(), got.size, std::move(got.fds), &frame);  // dropped right here
  }
}

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

void ChannelEndpoint::BreakLocked(const char* why) {
  DebugLog("channel %llu: peer broke the protocol (%s); treating it as closed",
           static_cast<unsigned long long>(koid()), why);
  // A malformed frame: the peer is not speaking our protocol. Stop listening to it, let it
  // see us go away, and report PEER_CLOSED. Already-queued messages stay readable.
  if (sock_) ShutdownSocket(sock_.get());
  sequencer_.DropStash();
  EndOfStreamLocked();
}

void ChannelEndpoint::MarkPeerClosedLocked() {
  if (PeerClosedLocked()) return;
  peer_ = PeerState::kClosed;
  NotifySignalsSet(MX_CHANNEL_PEER_CLOSED);
}

void ChannelEndpoint::EndOfStreamLocked() {
  // Nothing more will arrive: calls still waiting for a reply fail. A frame left at the head of
  // the socket is not read any more either.
  held_.present = false;
  held_.starved = false;
  MarkPeerClosedLocked();
  peer_ = PeerState::kEndOfStream;
  CancelCallersLocked(MX_ERR_PEER_CLOSED);
}

void ChannelEndpoint::CancelCallersLocked(mx_status_t status) {
  for (CallWaiter* w : callers_) {
    w->done = true;
    w->status = status;
    w->waker->Wake();
  }
  callers_.clear();
}

// ---- Signals and waiting -----------------------------------------------------------------

// Once a write returned SHOULD_WAIT, WRITABLE stays clear until the reader made room: half
// of the ring when the ring was full, else until the socket accepts frames again (it reports
// POLLOUT when at most a quarter full).
bool ChannelEndpoint::WritableLocked() {
  if (PeerClosedLocked() || GoneLocked()) return false;
  if (WriteBlockedLocked()) {
    bool room = write_ == WriteState::kBlockedOnRing
                    ? send_ring_.BufferedPayload() <= BufferLimit() / 2
                    : (sock_ && CanSend(sock_.get()));
    if (room) write_ = WriteState::kOpen;
  }
  return !WriteBlockedLocked();
}

// Brings the signals up to date. Frames are pumped into the local queue so that control
// frames (user signals from the peer) queued behind messages take effect, but only up to
// kRefreshPumpBytes of messages: a reader that merely waits or polls must not drain the
// writer's buffers, or backpressure would never reach the writer. |look|:
// - kKernel: the socket is read even when the ring's counters say nothing is there, and the
//   peer's departure is seen with poll(POLLHUP) even while its messages are still queued;
// - kMemory: only shared memory is looked at unless the counters point at the socket (the
//   cheap look of a wait that may spin, a port's evaluation);
// - kBeforePoll: as kMemory, and a look a poll() woke (AddWaitSources set force_socket_) reads
//   the socket only until the counters say nothing more was sent; the poll that follows reports
//   the rest (see PumpBudget::poll_follows). Only while that poll watches frames and hang-ups.
// Without a ring there are no counters: kMemory reads the socket to EAGAIN, kBeforePoll only
// once a poll woke it, and then one frame.
void ChannelEndpoint::RefreshLocked(RefreshLook look) {
  const bool ask_kernel = look == RefreshLook::kKernel;
  drained_ = false;
  if (ask_kernel) force_socket_ = true;
  if (LiveLocked()) {
    PumpBudget budget = {kPassBudget, /*install_fds=*/false};
    budget.poll_follows = look == RefreshLook::kBeforePoll;
    // Frames left behind by a spent budget bring no new edge on the socket: tell the observers
    // (a port re-queues the registration behind the others) so they come back for the rest.
    bool more = PumpLocked(PumpScope::kAllAvailable, kRefreshPumpBytes, &budget);
    // A peer that is gone sent a finite stream: read on past its control frames (bounded
    // passes), so that PEER_CLOSED never shows without READABLE while a message is unread.
    while (more && ask_kernel && !EndOfStreamSeenLocked() && PeerGoneLocked()) {
      budget.cost = kPassBudget;
      more = PumpLocked(PumpScope::kAllAvailable, kRefreshPumpBytes, &budget);
    }
    if (more) NotifySignalsSet(0);
  }
  // An empty socket whose peer is gone reads as end of stream (the pump saw it); only when
  // frames were left unread can the peer be gone without the pump knowing.
  if (ask_kernel && !PeerClosedLocked() && !GoneLocked() && !drained_ && sock_ &&
      PeerHungUp(sock_.get())) {
    MarkPeerClosedLocked();
  }
}

mx_signals_t ChannelEndpoint::SignalsLocked() {
  mx_signals_t s = user_signals_;
  if (!queue_.empty() || HeldMessageLocked()) s |= MX_CHANNEL_READABLE;
  if (PeerClosedLocked()) s |= MX_CHANNEL_PEER_CLOSED;
  if (WritableLocked()) s |= MX_CHANNEL_WRITABLE;
  return s;
}

mx_signals_t ChannelEndpoint::Signals() {
  MutexLock lock(&mu_);
  RefreshLocked(RefreshLook::kKernel);
  return SignalsLocked();
}

mx_signals_t ChannelEndpoint::FastSignals() {
  MutexLock lock(&mu_);
  RefreshLocked(RefreshLook::kMemory);
  return SignalsLocked();
}

mx_signals_t ChannelEndpoint::SignalsBeforePoll() {
  MutexLock lock(&mu_);
  // Without a ring every frame is read until EAGAIN anyway; the poll replaces only the reads
  // that find nothing and the hang-up check, and only while it watches for them.
  RefreshLocked(PollWatchesFramesLocked() ? RefreshLook::kBeforePoll : RefreshLook::kKernel);
  return SignalsLocked();
}

bool ChannelEndpoint::CanSpin() { return has_ring_.load(std::memory_order_relaxed); }

bool ChannelEndpoint::SpinReadyLocked(mx_signals_t waitfor, bool deep) {
  if (GoneLocked() || EndOfStreamSeenLocked()) return true;
  if (deep && sock_ && !PeerClosedLocked() && PeerHungUp(sock_.get())) {
    force_socket_ = true;  // the next pump reads the end of the stream
    return true;
  }
  if ((waitfor & MX_CHANNEL_READABLE) && !queue_.empty()) return true;
  if (recv_ring_.valid() && (recv_ring_.HasRecord() || recv_ring_.SocketFrames() != sock_seen_ ||
                             recv_ring_.WriterDone())) {
    return true;
  }
  return write_ == WriteState::kBlockedOnRing && (waitfor & MX_CHANNEL_WRITABLE) &&
         send_ring_.BufferedPayload() <= BufferLimit() / 2;
}

bool ChannelEndpoint::SpinReady(mx_signals_t waitfor, bool deep) {
  MutexLock lock(&mu_);
  return SpinReadyLocked(waitfor, deep);
}

// The news a spinner waits for comes from the writer of our receive ring (a message, a close,
// a signal), except room in a full send ring, which its reader makes.
CpuPlacement ChannelEndpoint::SpinPeerLocked(mx_signals_t waitfor) {
  if (waitfor == MX_CHANNEL_WRITABLE && write_ == WriteState::kBlockedOnRing) {
    return send_ring_.ReaderPlacement();
  }
  return recv_ring_.WriterPlacement();
}

CpuPlacement ChannelEndpoint::SpinPeer(mx_signals_t waitfor) {
  MutexLock lock(&mu_);
  return SpinPeerLocked(waitfor);
}

void ChannelEndpoint::BeginWait() {
  MutexLock lock(&mu_);
  if (waiters_++ == 0 && LiveLocked()) {
    recv_ring_.SetReaderWaiting(true);
    recv_ring_.ReleaseIfIdle();  // a channel going quiet gives back what a burst touched
  }
}

void ChannelEndpoint::EndWait() {
  MutexLock lock(&mu_);
  if (--waiters_ == 0 && LiveLocked()) recv_ring_.SetReaderWaiting(false);
}

uint64_t ChannelEndpoint::SignalCount() {
  MutexLock lock(&mu_);
  return queue_.empty() ? 1 : queue_.size();
}

bool ChannelEndpoint::PollWatchesFramesLocked() {
  // Below the pump limit the socket was read until empty, so watching it is exact. At the
  // limit, frames stay on the socket (it stays readable; watching would spin) until the reader
  // takes messages, which wakes waiters in this process.
  // A message with fds left at the head of the socket keeps it readable too; the reader that
  // takes it wakes waiters in this process.
  return sock_ && !GoneLocked() && !PeerClosedLocked() && !EndOfStreamSeenLocked() &&
         queue_bytes_ < kRefreshPumpBytes && !HeldMessageLocked();
}

void ChannelEndpoint::AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) {
  MutexLock lock(&mu_);
  if (GoneLocked() || !sock_) return;
  // A socket whose peer hung up polls as ready for good (POLLHUP is reported whatever is
  // asked): watched, it would make a wait that does not want PEER_CLOSED spin until its
  // deadline. Once the hang-up is seen nothing more can arrive; what is queued is read by
  // the refresh before the wait blocks, or by the reader, which wakes waiters in this process.
  if (PeerClosedLocked()) return;
  // Whatever wakes the poll, the next look asks the kernel (a hang-up is not counted anywhere).
  force_socket_ = true;
  uint32_t events = EPOLLRDHUP;
  const bool watch_frames = PollWatchesFramesLocked();
  if (watch_frames) events |= EPOLLIN;
  // Blocked on a full ring, the reader's kick (a frame on our socket) wakes us; the socket
  // itself becomes writable long before the ring has room, so watching POLLOUT would spin.
  if (write_ == WriteState::kBlockedOnSocket && (waitfor & MX_CHANNEL_WRITABLE)) events |= EPOLLOUT;
  // Unwatched, the socket cannot tell of the frames queued behind its head: the peer's user
  // signals, and the kick that wakes a writer blocked on the ring. A wait for those looks
  // again now and then (a SEQPACKET socket cannot be read past its head frame).
  mx_time_t recheck_at = MX_TIME_INFINITE;
  if (!EndOfStreamSeenLocked() && !watch_frames &&
      ((waitfor & MX_USER_SIGNAL_ALL) ||
       ((waitfor & MX_CHANNEL_WRITABLE) && write_ == WriteState::kBlockedOnRing))) {
    recheck_at = MonotonicNow() + kUnwatchedRecheckInterval;
  }
  out->push_back({sock_.get(), events, false, recheck_at});
}

mx_status_t ChannelEndpoint::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  MutexLock lock(&mu_);
  if (GoneLocked()) return MX_ERR_BAD_HANDLE;
  user_signals_ = (user_signals_ & ~clear_mask) | set_mask;
  NotifySignalsSet(set_mask);
  return MX_OK;
}

mx_status_t ChannelEndpoint::UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  MutexLock lock(&mu_);
  if (GoneLocked()) return MX_ERR_BAD_HANDLE;
  if (PeerClosedLocked()) return MX_ERR_PEER_CLOSED;
  uint32_t masks[2] = {clear_mask, set_mask};
  return SendControlLocked(kFrameSignal, masks, sizeof(masks), -1);
}

void ChannelEndpoint::OnLastHandleClosed() {
  MutexLock lock(&mu_);
  life_ = Life::kGone;
  CancelCallersLocked(MX_ERR_CANCELED);
  // The peer learns of an orderly close from the rings without a system call; closing the
  // socket is what tells it in every case (PEER_CLOSED), and dropping the queue closes the
  // handles inside unread messages, which cascades to their own peers.
  send_ring_.MarkWriterDone();
  recv_ring_.MarkReaderClosed();
  if (sock_ && !EndOfStreamSeenLocked()) DropUnreadFrames(sock_.get());
  sock_.reset();
  queue_.clear();
  queue_bytes_ = 0;
  sequencer_.DropStash();
  send_ring_ = MessageRing();
  recv_ring_ = MessageRing();
}

}  // namespace mx::internal
