// ChannelEndpoint: one end of a channel, backed by one end of an AF_UNIX SOCK_SEQPACKET pair.
//
// Data path (see docs/design.md):
//   write  → one datagram per message on the socket (header, payload, handle descriptors, fds);
//            when the socket is full, handle-free messages go to a shared-memory SpillRing.
//            Each data message carries a per-direction sequence number.
//   read   ← messages are "pumped" from the socket and the ring, in sequence order, into a local
//            queue; reads pop from it. In-band control frames (user signals set by the peer, the
//            ring announcement, wake-up kicks) are applied as they are pumped.
//   call   → registers a call waiter *after* pumping everything already queued, then sends; every
//            message pumped afterwards is offered to the waiters in registration order.
//
// Moving an endpoint (written into a channel, or spawned): its socket moves as an fd, its local
// queue is serialized into a memfd that travels with it, and its sequence numbers, user signals
// and rings travel in its descriptor; the next owner starts with that queue, so no message is
// lost or reordered however many hops it makes.
//
// The peer is another process we do not trust: every frame is validated (transport/wire.h);
// a malformed one breaks the channel, which then reads as PEER_CLOSED, and its fds are closed.
//
// Thread-safety: one mutex (mu_) guards all state; it is never held while blocking.
#pragma once

#include <atomic>
#include <deque>
#include <list>
#include <memory>
#include <optional>

#include "object/object.h"
#include "transport/spill_ring.h"
#include "transport/wire.h"

namespace mx::internal {

// Per-thread state of one mx_channel_call in progress.
struct CallWaiter {
  uint32_t txid = 0;
  ThreadWaker* waker = nullptr;
  bool done = false;
  mx_status_t status = MX_OK;  // MX_OK: |reply| holds the reply; else the read_status
  Message reply;
};

class ChannelEndpoint final : public Object {
 public:
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

  uint32_t type() const override { return MX_OBJ_TYPE_CHANNEL; }
  mx_koid_t related_koid() const override { return peer_koid_; }
  bool IsLastHandle(const Handle&) const override { return true; }
  mx_signals_t Signals() override;
  mx_signals_t FastSignals() override;
  bool CanSpin() override;
  bool SpinReady(mx_signals_t waitfor, bool deep) override;
  void BeginWait() override;
  void EndWait() override;
  uint64_t SignalCount() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  void CommitTransferOut(const Handle& handle) override;
  void AbortTransfer(const Handle& handle) override;
  void OnLastHandleClosed() override;

  // Sends |message| (its RawHandles were prepared by the caller). MX_OK, SHOULD_WAIT (buffers
  // full), PEER_CLOSED, NO_RESOURCES, NO_MEMORY, BAD_HANDLE (the endpoint left this process).
  mx_status_t Write(const Message& message);

  // The fast paths of mx_channel_write / _read for messages without handles: straight between
  // the caller's buffer and the shared-memory ring, no Message built. MX_ERR_NEXT when the
  // message must take the full path (Write / FrontLocked): no ring yet, ring full, the channel
  // blocked, messages already in the local queue or a call waiting for a reply. ReadBytes
  // returns MX_OK or BUFFER_TOO_SMALL (the message stays first unless |may_discard|) with
  // |*actual_bytes| set.
  mx_status_t WriteBytes(const void* bytes, uint32_t num_bytes);
  mx_status_t ReadBytes(void* bytes, uint32_t num_bytes, bool may_discard, uint32_t* actual_bytes);

  // Looks at the front message. MX_OK: |*front| points at it until PopFront/unlock;
  // SHOULD_WAIT / PEER_CLOSED / BAD_HANDLE otherwise. Caller holds the lock (see ReadLock).
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mu_); }
  mx_status_t FrontLocked(Message** front);
  Message PopFrontLocked();

  // mx_channel_call, write phase: pumps what already arrived into the general queue,
  // registers |waiter| for the request's txid, then sends. On failure nothing was sent and the
  // waiter is not registered. |waiter| must outlive FinishCall.
  mx_status_t BeginCall(const Message& request, CallWaiter* waiter);
  // Wait phase: MX_OK (|waiter->reply| holds the reply), MX_ERR_TIMED_OUT (a later reply goes
  // to the general queue), or MX_ERR_CALL_FAILED with |*read_status| PEER_CLOSED / CANCELED.
  mx_status_t FinishCall(CallWaiter* waiter, mx_time_t deadline, mx_status_t* read_status);

 private:
  // Pumping (all with mu_ held). One pass of pumping is bounded by a budget: every frame is
  // charged by what it costs (its bytes, its fds, a minimum per frame, control frames included),
  // so a peer that keeps the socket full cannot hold a caller (and mu_) for long. Only a pass
  // that asked for it installs the fds a frame carries, and only with fd headroom
  // (os/fd_budget.h); otherwise the frame stays in the kernel.
  struct PumpBudget {
    size_t cost;                           // charge left for this pass
    bool install_fds;                      // may take data frames that carry fds
    mx_time_t deadline = MX_TIME_INFINITE;  // the pass stops here too
  };
  // Pumps until nothing more can be read now, |queue_limit| bytes are queued, or (unless |all|)
  // one message was queued. True if it stopped because |budget| or its deadline ran out while
  // more may be waiting.
  bool PumpLocked(bool all, size_t queue_limit, PumpBudget* budget);
  bool PumpOneFrameLocked(PumpBudget* budget);  // false: nothing more to read now
  // PumpOneFrameLocked with allocation failure contained: it breaks this channel only.
  bool PumpOneFrameCaughtLocked(PumpBudget* budget);
  // A frame with fds left at the head of the socket that a read must deal with: a message, or
  // any frame the process lacked the fds for (the read then returns NO_RESOURCES). It makes the
  // endpoint READABLE, and the socket is not watched while it is there (it stays readable).
  bool HeldMessageLocked() const { return fds_ahead_ && (fds_ahead_data_ || fd_starved_); }
  // Records such a frame; READABLE is announced when it appears.
  void HoldFrameLocked(bool data, bool starved);
  void DeliverLocked(Message message);
  void BreakLocked(const char* why);         // protocol violation: behave as if the peer closed
  void MarkPeerClosedLocked();   // PEER_CLOSED asserted (the peer is gone)
  void EndOfStreamLocked();      // ...and everything it sent has been read
  void RefreshLocked(bool ask_kernel);
  // True if the peer's socket hung up (it can send nothing more), frames still queued or not.
  bool PeerGoneLocked();
  mx_signals_t SignalsLocked();
  bool SpinReadyLocked(mx_signals_t waitfor, bool deep);
  bool SpinForReply(CallWaiter* waiter, mx_time_t deadline);
  void CancelCallersLocked(mx_status_t status);
  mx_status_t SendBytesLocked(const std::vector<uint8_t>& bytes, const std::vector<int>& fds,
                              bool raise);
  // One datagram; with |raise|, a full socket's send buffer is grown for it (small frames that
  // must not wait for the reader).
  mx_status_t SendRawLocked(const void* bytes, size_t len, const int* fds, size_t num_fds,
                            bool raise);
  mx_status_t SendFrameLocked(const FrameHeader& header, const uint8_t* payload,
                              size_t num_payload, const std::vector<RawHandle>& handles,
                              bool raise);
  mx_status_t SendControlLocked(uint8_t kind, const void* payload, uint32_t len, int fd);
  // Sends a kick frame (a wake-up for the peer's blocked reader or writer); false if it could
  // not be sent.
  bool KickLocked();
  void WakeWriterLocked();
  mx_status_t SpillLocked(const Message& message);
  mx_status_t CreateSendRingLocked();
  mx_status_t RingWriteLocked(const void* bytes, uint32_t num_bytes);
  void PublishedLocked();  // a record is in the ring: next sequence number, kick if needed
  bool ResolveStashLocked();
  void RetirePeerRingLocked();
  bool WritableLocked();

  const mx_koid_t peer_koid_;
  std::optional<PeerCred> peer_cred_;  // immutable once shared
  std::mutex mu_;
  UniqueFd sock_;
  bool gone_ = false;         // closed or moved away: every operation fails
  bool frozen_ = false;       // a transfer is being prepared: no pumping
  bool eof_ = false;          // the socket reached end of stream
  bool peer_closed_ = false;  // PEER_CLOSED asserted
  bool drained_ = false;       // the last receive found the socket empty (peer alive)
  bool write_blocked_ = false;
  bool blocked_on_ring_ = false;
  bool ring_failed_ = false;   // creating the send ring failed: the socket carries everything
  bool force_socket_ = true;   // the next pump reads the socket even if no frame was counted
  // The socket's next frame carries fds and was left in the kernel (by a pass that may not
  // install fds, or for lack of fd headroom); only this endpoint consumes from its socket, so
  // the flag stays true until a pass takes that frame.
  bool fds_ahead_ = false;
  bool fds_ahead_data_ = false;  // ...and it is a data frame (a message)
  bool fd_starved_ = false;      // the last pass that wanted to take it lacked fd headroom
  int waiters_ = 0;            // BeginWait minus EndWait: threads/ports that may block
  uint64_t sock_seen_ = 0;     // frames received since the peer announced its ring
  mx_signals_t user_signals_ = 0;
  uint64_t send_seq_ = 0;
  uint64_t recv_seq_ = 0;
  // The peer's end left without MX_RIGHT_WRITE: data (frames, ring records) with a sequence
  // number from here on is a protocol violation. UINT64_MAX: no limit.
  uint64_t peer_write_limit_ = UINT64_MAX;
  // This end is leaving (or left once) without WRITE and told the peer so (kFrameNoWrite).
  bool no_write_announced_ = false;
  std::deque<Message> queue_;
  size_t queue_bytes_ = 0;
  std::optional<Frame> stash_;  // a socket frame that arrived ahead of ring records
  std::list<CallWaiter*> callers_;
  SpillRing send_ring_;
  SpillRing recv_ring_;
  // Set once either ring exists (CanSpin, read without the mutex); never cleared.
  std::atomic<bool> has_ring_{false};
};

}  // namespace mx::internal
