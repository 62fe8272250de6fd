// SPDX-License-Identifier: BSD-3-Clause
// ChannelEndpoint: one end of a channel, backed by one end of an AF_UNIX SOCK_SEQPACKET pair.
//
// Data path (see docs/design.md):
//   write  → handle-free messages go to a shared-memory MessageRing once the direction has one
//            (no system call); messages with handles, and those that find the ring full or come
//            before it, take the socket as one datagram (header, payload, handle descriptors,
//            fds). Each data message carries a per-direction sequence number.
//   read   ← messages are "pumped" from the socket and the ring, in sequence order
//            (transport/inbound_sequencer.h), into a local queue; reads take them from it
//            through a ReadTransaction. In-band control frames (user signals set by the peer,
//            the ring announcement, wake-up kicks) are applied as they are pumped.
//   call   → registers a call waiter *after* pumping everything already queued, then sends; every
//            message pumped afterwards is offered to the waiters in registration order.
//
// Moving an endpoint (written into a channel, or spawned): its socket and receive ring move as
// fds, its local queue is serialized into a memfd that travels with it, and its sequence numbers
// and user signals travel in its descriptor; the next owner starts with that queue, so no message
// is lost or reordered however many hops it makes. The send ring stays behind, marked done: the
// peer reads it empty, then drops it, and the next owner announces a ring of its own later.
//
// The peer is another process we do not trust: every frame is validated (transport/wire.h);
// a malformed one breaks the channel, which then reads as PEER_CLOSED, and its fds are closed.
//
// Files: channel_endpoint.cc (creation, signals, waits, closing), channel_send.cc,
// channel_receive.cc (the pump) with channel_socket_receive.cc (a frame and its fds off the
// socket), channel_read.cc (the ring fast path, ReadTransaction), channel_call.cc,
// channel_transfer.cc (leaving and arriving), channel_costs.h (the pump's budgets).
//
// Thread-safety: one mutex (mu_) guards all state; it is never held while blocking.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>

#include "object/object.h"
#include "transport/inbound_sequencer.h"
#include "transport/message_ring.h"
#include "transport/wire.h"

namespace mx::internal {

struct ReceivedDatagram;

// Per-thread state of one mx_channel_call in progress.
struct CallWaiter {
  uint32_t txid = 0;
  ThreadWaker* waker = nullptr;
  bool done = false;
  mx_status_t status = MX_OK;  // MX_OK: |reply| holds the reply; else the read_status
  Message reply;
  // The caller's reply buffer: a handle-free reply that fits is copied there straight from the
  // ring (|in_place|, |in_place_bytes| long), and |reply| stays empty.
  void* out = nullptr;
  uint32_t out_capacity = 0;
  bool in_place = false;
  uint32_t in_place_bytes = 0;
};

class ChannelEndpoint final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_CHANNEL;

  // A direction gets its shared-memory ring once this many messages went the socket way (counted
  // from the channel's creation, or from the endpoint's arrival in this process: its ring stayed
  // behind): setting a ring up costs about ten system calls and an fd at the reader, which a
  // channel used for one request and its reply would never win back. That many socket frames
  // before an announcement also means the reader has read every record of the ring it replaces
  // when it gets to the announcement.
  static constexpr uint64_t kRingAfterMessages = 8;

  // Bytes of payload buffered per direction before writes return SHOULD_WAIT. Default 4 MiB;
  // the environment variable MX_CHANNEL_BUFFER_BYTES (read once) may raise or lower it
  // (minimum 256 KiB).
  static size_t BufferLimit();
  // How much a waiting mx_channel_call pulls into the local queue before it stops reading.
  static size_t CallPumpLimit();

  static mx_status_t CreatePair(std::shared_ptr<ChannelEndpoint>* a,
                                std::shared_ptr<ChannelEndpoint>* b);
  // Rebuilds an endpoint that arrived from another process (or this one). MX_ERR_IO if |raw|
  // does not describe a valid endpoint; its fds are then closed.
  static mx_status_t FromRaw(RawHandle raw, std::shared_ptr<ChannelEndpoint>* out);

  ChannelEndpoint(mx_koid_t koid, mx_koid_t peer_koid, UniqueFd sock);
  ~ChannelEndpoint() override;

  // The process at the other end of a named rendezvous (mx_service_accept / connect), from
  // SO_PEERCRED. Set once, before the endpoint is shared; it stays in this process (an endpoint
  // written into a channel arrives without it). See docs/rendezvous.md.
  struct PeerCred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
  };
  void set_peer_cred(const PeerCred& cred) { peer_cred_ = cred; }
  const std::optional<PeerCred>& peer_cred() const { return peer_cred_; }

  uint32_t type() const override { return kType; }
  mx_koid_t related_koid() const override { return peer_koid_; }
  bool IsLastHandle(const Handle&) const override { return true; }
  mx_signals_t Signals() override;
  mx_signals_t FastSignals() override;
  mx_signals_t SignalsBeforePoll() override;
  bool CanSpin() override;
  bool SpinReady(mx_signals_t waitfor, bool deep) override;
  CpuPlacement SpinPeer(mx_signals_t waitfor) override;
  void BeginWait() override;
  void EndWait() override;
  uint64_t SignalCount() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  void CommitTransferOut(const Handle& handle) override;
  void AbortTransfer(const Handle& handle, RawHandle* raw) override;
  void OnLastHandleClosed() override;

  // Sends |message| (its RawHandles were prepared by the caller). MX_OK, SHOULD_WAIT (buffers
  // full), PEER_CLOSED, NO_RESOURCES, NO_MEMORY, BAD_HANDLE (the endpoint left this process).
  mx_status_t Write(const Message& message);

  // The fast paths of mx_channel_write / _read for messages without handles: straight between
  // the caller's buffer and the shared-memory ring, no Message built. MX_ERR_NEXT when the
  // message must take the full path (Write / BeginRead): no ring yet, ring full, the channel
  // blocked, messages already in the local queue or a call waiting for a reply. ReadBytes
  // returns MX_OK or BUFFER_TOO_SMALL (the message stays first unless |may_discard|) with
  // |*actual_bytes| set.
  mx_status_t WriteBytes(const void* bytes, uint32_t num_bytes);
  mx_status_t ReadBytes(void* bytes, uint32_t num_bytes, bool may_discard, uint32_t* actual_bytes);

  // One read of the front message, holding the endpoint's mutex until it ends; see
  // ReadTransaction below.
  class ReadTransaction;
  ReadTransaction BeginRead();

  // mx_channel_call, write phase: pumps what already arrived into the general queue,
  // registers |waiter| for the request's txid, then sends. On failure nothing was sent and the
  // waiter is not registered. |waiter| must outlive FinishCall.
  mx_status_t BeginCall(const Message& request, CallWaiter* waiter);
  // The same for a handle-free request written straight from the caller's buffer into the
  // ring, under one hold of the lock; MX_ERR_NEXT (nothing sent, not registered) when the
  // request must take BeginCall: no ring yet, ring full, the channel blocked.
  mx_status_t BeginCallBytes(const void* bytes, uint32_t num_bytes, CallWaiter* waiter);
  // Wait phase: MX_OK (|waiter->reply| holds the reply), MX_ERR_TIMED_OUT (a later reply goes
  // to the general queue), or MX_ERR_CALL_FAILED with |*read_status| PEER_CLOSED / CANCELED.
  mx_status_t FinishCall(CallWaiter* waiter, mx_time_t deadline, mx_status_t* read_status);

 private:
  // mx_channel_call's steps (1) and (2): pump, then register |waiter|.
  mx_status_t RegisterCallLocked(CallWaiter* waiter) TA_REQ(mu_);
  // Step (3), the fast way: if the next message is a ring record that is |waiter|'s reply and
  // fits its buffer, copies it there, completes the call and returns true.
  bool TakeReplyFromRingLocked(CallWaiter* waiter) TA_REQ(mu_);

  // Where the endpoint is in its life. kLive → kFrozen (PrepareTransfer) → kLive (AbortTransfer)
  // or kGone (CommitTransferOut); kLive or kFrozen → kGone (OnLastHandleClosed). kGone is final.
  enum class Life : uint8_t {
    kLive,
    kFrozen,  // a transfer is being prepared: no pumping, reads or writes
    kGone,    // closed or moved away: every operation fails
  };
  // What this end knows of its peer; it only ever moves forward.
  enum class PeerState : uint8_t {
    kOpen,
    kClosed,       // PEER_CLOSED asserted: the peer is gone, frames it sent may still be unread
    kEndOfStream,  // ...and the socket reached its end: nothing more will arrive
  };
  // Whether writes are taken. Once a write returned SHOULD_WAIT, WRITABLE stays clear until the
  // reader made room (hysteresis): half of the ring when the ring was full, else until the
  // socket accepts frames again (it reports POLLOUT when at most a quarter full).
  enum class WriteState : uint8_t {
    kOpen,
    kBlockedOnSocket,
    kBlockedOnRing,  // the reader kicks us (a frame on our socket) once it emptied half the ring
  };
  // The socket's next frame carries fds and was left in the kernel (by a pass that may not
  // install fds, or for lack of fd headroom); only this endpoint consumes from its socket, so
  // |present| stays true until a pass takes that frame.
  struct HeldFrame {
    bool present = false;
    bool data = false;     // ...and it is a data frame (a message)
    bool starved = false;  // the last pass that wanted to take it lacked fd headroom
  };

  bool LiveLocked() const TA_REQ(mu_) { return life_ == Life::kLive; }
  bool GoneLocked() const TA_REQ(mu_) { return life_ == Life::kGone; }
  bool PeerClosedLocked() const TA_REQ(mu_) { return peer_ != PeerState::kOpen; }
  bool EndOfStreamSeenLocked() const TA_REQ(mu_) { return peer_ == PeerState::kEndOfStream; }
  bool WriteBlockedLocked() const TA_REQ(mu_) { return write_ != WriteState::kOpen; }

  // Pumping (all with mu_ held). One pass of pumping is bounded by a budget: every frame is
  // charged by what it costs (its bytes, its fds, a minimum per frame, control frames included),
  // so a peer that keeps the socket full cannot hold a caller (and mu_) for long. Only a pass
  // that asked for it installs the fds a frame carries, and only with fd headroom
  // (os/fd_budget.h); otherwise the frame stays in the kernel.
  struct PumpBudget {
    size_t cost;                            // charge left for this pass
    bool install_fds;                       // may take data frames that carry fds
    mx_time_t deadline = MX_TIME_INFINITE;  // the pass stops here too
    // A level-triggered poll() on the socket (POLLIN, POLLRDHUP) follows if the pass finds
    // nothing: a read of the socket that the counters did not ask for (force_socket_) ends once
    // they say nothing more was sent, instead of reading on to EAGAIN. What they cannot tell
    // (a hang-up, a frame counted late) keeps the socket readable, so the poll returns for it.
    // Without a ring nothing counts the frames: such a pass reads the socket only when a poll
    // woke it (force_socket_), and then one frame.
    bool poll_follows = false;
  };
  // Pumps until nothing more can be read now, |queue_limit| bytes are queued, or (with
  // kUntilOneMessage) one message was queued. True if it stopped because |budget| or its
  // deadline ran out while more may be waiting.
  enum class PumpScope { kUntilOneMessage, kAllAvailable };
  bool PumpLocked(PumpScope scope, size_t queue_limit, PumpBudget* budget) TA_REQ(mu_);
  bool PumpOneFrameLocked(PumpBudget* budget) TA_REQ(mu_);  // false: nothing more to read now
  // PumpOneFrameLocked with allocation failure contained: it breaks this channel only.
  bool PumpOneFrameCaughtLocked(PumpBudget* budget) TA_REQ(mu_);
  // What the ring offers the pump.
  enum class RingStep {
    kNothing,      // no record for now: read the socket as usual
    kDelivered,    // the next message came from the ring
    kSocketFirst,  // the ring is ahead of the socket: read the socket now
    kStop,         // the channel broke
  };
  RingStep PumpRingLocked(PumpBudget* budget) TA_REQ(mu_);
  // False when the ring's counters tell that the socket has nothing for us.
  bool SocketMayHaveFramesLocked(bool ring_needs_socket, bool poll_follows) TA_REQ(mu_);
  // Receive the socket's head frame: for a reader (fds installed with headroom) or for a
  // refresh (a wait or signal query). False: the pump stops now (the frame was held in the
  // kernel, or the channel broke); else |*st| is the receive's status and |*got| the frame.
  bool ReceiveForReaderLocked(std::vector<uint8_t>& buffer, ReceivedDatagram* got, mx_status_t* st)
      TA_REQ(mu_);
  bool ReceiveForRefreshLocked(std::vector<uint8_t>& buffer, ReceivedDatagram* got, mx_status_t* st)
      TA_REQ(mu_);
  // Validates, decodes and applies one received frame (|st|: the receive's status).
  bool TakeFrameLocked(mx_status_t st, std::vector<uint8_t>& buffer, ReceivedDatagram got,
                       PumpBudget* budget) TA_REQ(mu_);
  // The protocol switch: what each kind of frame does to this end.
  bool ApplyFrameLocked(Frame frame) TA_REQ(mu_);
  bool ApplyDataFrameLocked(Frame frame) TA_REQ(mu_);
  bool ApplySignalFrameLocked(const Frame& frame) TA_REQ(mu_);
  bool ApplyRingFrameLocked(Frame frame) TA_REQ(mu_);
  // A frame with fds left at the head of the socket that a read must deal with: a message, or
  // any frame the process lacked the fds for (the read then returns NO_RESOURCES). It makes the
  // endpoint READABLE, and the socket is not watched while it is there (it stays readable).
  bool HeldMessageLocked() const TA_REQ(mu_) {
    return held_.present && (held_.data || held_.starved);
  }
  // Records such a frame; READABLE is announced when it appears.
  void HoldFrameLocked(bool data, bool starved) TA_REQ(mu_);
  // The ring's oldest unread record, if there is a ring and a record.
  std::optional<InboundSequencer::RingHead> RingHeadLocked() TA_REQ(mu_);
  // Delivers the stashed socket frame once every earlier message was delivered (from the ring),
  // joining it with its payload if that went to the ring. False when it must wait (or broke).
  bool ResolveStashLocked() TA_REQ(mu_);
  // Pops the ring's head record into |message|'s payload and delivers it as the next message.
  // Returns what it is charged.
  size_t DeliverRingRecordLocked(Message message) TA_REQ(mu_);
  // A ring record was taken: a writer may wait for room, and the next number is expected.
  void TookRingRecordLocked() TA_REQ(mu_);
  // Delivers |message| as the next message in sequence: to the call waiting for it, or to the
  // local queue.
  void DeliverNextLocked(Message message) TA_REQ(mu_);
  void DeliverLocked(Message message) TA_REQ(mu_);
  void BreakLocked(const char* why)
      TA_REQ(mu_);                          // protocol violation: behave as if the peer closed
  void MarkPeerClosedLocked() TA_REQ(mu_);  // PEER_CLOSED asserted (the peer is gone)
  void EndOfStreamLocked() TA_REQ(mu_);     // ...and everything it sent has been read
  // How much a refresh asks the kernel (see RefreshLocked).
  enum class RefreshLook { kMemory, kBeforePoll, kKernel };
  void RefreshLocked(RefreshLook look) TA_REQ(mu_);
  // True if a wait's poll() watches the socket for frames and hang-ups (AddWaitSources).
  bool PollWatchesFramesLocked() TA_REQ(mu_);
  // The same for mx_channel_call's poll (AddCallSourcesLocked), whose queue limit is its own.
  bool CallPollWatchesFramesLocked() TA_REQ(mu_);
  // True if the peer's socket hung up (it can send nothing more), frames still queued or not.
  bool PeerGoneLocked() TA_REQ(mu_);
  mx_signals_t SignalsLocked() TA_REQ(mu_);
  bool SpinReadyLocked(mx_signals_t waitfor, bool deep) TA_REQ(mu_);
  CpuPlacement SpinPeerLocked(mx_signals_t waitfor) TA_REQ(mu_);
  void CancelCallersLocked(mx_status_t status) TA_REQ(mu_);
  // Read transactions.
  mx_status_t FrontLocked(Message** front) TA_REQ(mu_);
  Message PopFrontLocked() TA_REQ(mu_);
  // Sending. What a send does when the socket's send buffer is full: return SHOULD_WAIT, or grow
  // the buffer for this one datagram (small frames that must not wait for the reader).
  enum class WhenFull { kShouldWait, kGrowBuffer };
  mx_status_t SendBytesLocked(const std::vector<uint8_t>& bytes, const std::vector<int>& fds,
                              WhenFull when_full) TA_REQ(mu_);
  // One datagram.
  mx_status_t SendRawLocked(const void* bytes, size_t len, const int* fds, size_t num_fds,
                            WhenFull when_full) TA_REQ(mu_);
  mx_status_t SendFrameLocked(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                              const std::vector<RawHandle>& handles, WhenFull when_full)
      TA_REQ(mu_);
  mx_status_t SendControlLocked(uint8_t kind, const void* payload, uint32_t len, int fd)
      TA_REQ(mu_);
  // Sends a kick: a kFrameKick frame, empty, whose only job is to wake the peer blocked in
  // poll() on its socket (a reader waiting for ring records, or a writer waiting for ring room).
  // False if it could not be sent.
  bool SendKickLocked() TA_REQ(mu_);
  void WakeWriterLocked() TA_REQ(mu_);
  // The socket is full: |message| goes to the ring instead (its handles, if any, in a small
  // socket frame flagged kFlagPayloadInRing).
  mx_status_t SpillLocked(const Message& message) TA_REQ(mu_);
  mx_status_t CreateSendRingLocked() TA_REQ(mu_);
  mx_status_t RingWriteLocked(const void* bytes, uint32_t num_bytes) TA_REQ(mu_);
  void PublishedLocked()
      TA_REQ(mu_);  // a record is in the ring: next sequence number, kick if needed
  void RetirePeerRingLocked() TA_REQ(mu_);
  bool WritableLocked() TA_REQ(mu_);
  // Transfer (PrepareTransfer's steps).
  // False: a frame still waits for its payload, or the endpoint left meanwhile. Called with mu_
  // held; lets go of it while it yields.
  bool SettleStash() TA_REQ(mu_);
  mx_status_t AnnounceNoWriteLocked() TA_REQ(mu_);
  // The send ring stays behind when the endpoint leaves: marked done (no record follows) and
  // unmapped; whoever writes next starts afresh with the socket.
  void RetireSendRingLocked() TA_REQ(mu_);
  mx_status_t PackLocked(RawHandle* out) TA_REQ(mu_);
  mx_status_t PackQueueLocked(EndpointState* state, RawHandle* out) TA_REQ(mu_);
  // Calls.
  class CallWait;
  void AddCallSourcesLocked(std::vector<WaitSource>* sources, mx_time_t deadline,
                            mx_time_t* wake_at) TA_REQ(mu_);

  const mx_koid_t peer_koid_;
  std::optional<PeerCred> peer_cred_;  // immutable once shared
  Mutex mu_;
  UniqueFd sock_ TA_GUARDED(mu_);
  Life life_ TA_GUARDED(mu_) = Life::kLive;
  PeerState peer_ TA_GUARDED(mu_) = PeerState::kOpen;
  WriteState write_ TA_GUARDED(mu_) = WriteState::kOpen;
  HeldFrame held_ TA_GUARDED(mu_);
  // The last receive found the socket empty (peer alive).
  bool drained_ TA_GUARDED(mu_) = false;
  // Creating the send ring failed: the socket carries everything.
  bool ring_failed_ TA_GUARDED(mu_) = false;
  // The send ring is created once send_seq_ reaches this (kRingAfterMessages socket messages
  // after the endpoint was created or arrived, or after a transfer retired its ring).
  uint64_t ring_after_seq_ TA_GUARDED(mu_) = kRingAfterMessages;
  // The next pump reads the socket even if no frame was counted.
  bool force_socket_ TA_GUARDED(mu_) = true;
  // BeginWait minus EndWait: threads/ports that may block.
  int waiters_ TA_GUARDED(mu_) = 0;
  // Frames received since the peer announced its ring.
  uint64_t sock_seen_ TA_GUARDED(mu_) = 0;
  mx_signals_t user_signals_ TA_GUARDED(mu_) = 0;
  uint64_t send_seq_ TA_GUARDED(mu_) = 0;
  // Orders what arrives (socket frames, ring records), and holds the peer's write limit: its
  // end left without MX_RIGHT_WRITE, so data numbered from there on is a protocol violation.
  InboundSequencer sequencer_ TA_GUARDED(mu_);
  // This end is leaving (or left once) without WRITE and told the peer so (kFrameNoWrite).
  bool no_write_announced_ TA_GUARDED(mu_) = false;
  std::deque<Message> queue_ TA_GUARDED(mu_);
  // The bytes queue_ is charged for: the sum of MessageBytes over its messages.
  size_t queue_bytes_ TA_GUARDED(mu_) = 0;
  // In registration order (the first with a txid gets the reply); a vector keeps its capacity,
  // so registering a call allocates nothing after the first.
  std::vector<CallWaiter*> callers_ TA_GUARDED(mu_);
  // The writer keeps its ring's mapping only (no fd); the reader keeps the ring's memfd. A ring
  // whose writer is done (it closed, or its endpoint moved away) is dropped once read empty.
  MessageRing send_ring_ TA_GUARDED(mu_);
  MessageRing recv_ring_ TA_GUARDED(mu_);
  // Set once either ring exists (CanSpin, read without the mutex); never cleared.
  std::atomic<bool> has_ring_{false};
};

// One read of an endpoint's front message: api/ looks at the message's sizes and prepares its
// handles while the message is still first, then takes it (Commit) or drops it (Discard). The
// endpoint's mutex is held from BeginRead until Commit, Discard or destruction, so no other
// reader can take the message in between; the caller never sees the lock. Destroyed without
// Commit or Discard, the message stays first, untouched.
class ChannelEndpoint::ReadTransaction {
 public:
  ReadTransaction(ReadTransaction&&) = default;
  ReadTransaction& operator=(ReadTransaction&&) = delete;
  ~ReadTransaction() = default;

  // MX_OK: front() is the first message. Otherwise SHOULD_WAIT (nothing yet), PEER_CLOSED,
  // NO_RESOURCES (the next frame carries more fds than the process can take now), BAD_HANDLE
  // (the endpoint left this process); the transaction then holds nothing.
  mx_status_t status() const { return status_; }
  const Message& front() const { return *front_; }

  // Takes the front message out of the queue, ends the transaction and hands the message over.
  Message Commit();
  // Drops the front message and ends the transaction; its handles' fds are closed after the
  // mutex is released.
  void Discard();

 private:
  friend class ChannelEndpoint;
  explicit ReadTransaction(ChannelEndpoint* ep);

  ChannelEndpoint* ep_;
  std::unique_lock<Mutex> lock_;  // ep_->mu_
  Message* front_ = nullptr;
  mx_status_t status_;
};

}  // namespace mx::internal
