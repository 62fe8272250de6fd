// SPDX-License-Identifier: BSD-3-Clause
// mx_channel_call on an endpoint: register for the reply, send, then wait for it. The steps are
// numbered (1)-(4) across BeginCall, CallWait and FinishCall.

#include <algorithm>
#include <cstring>
#include <vector>

#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "object/wait.h"
#include "os/clock.h"
#include "os/epoll.h"
#include "os/spin.h"

namespace mx::internal {

namespace {

// The calling thread's waker, for the reply's delivery; false if it has none (out of fds).
bool PrepareWaiter(uint32_t txid, CallWaiter* waiter) {
  ThreadWaker* waker = ThreadWaker::Current();
  if (waker == nullptr) return false;
  waker->DrainIfWoken();
  waiter->txid = txid;
  waiter->waker = waker;
  return true;
}

}  // namespace

mx_status_t ChannelEndpoint::RegisterCallLocked(CallWaiter* waiter) {
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  // 1. Everything that arrived before the request is sent belongs to the general queue. The
  //    pass is bounded like every other (a peer that keeps the socket full would hold us
  //    here); what an honest peer can have queued in the kernel (its send buffer) is far less.
  PumpBudget budget = {CallPumpLimit(), /*install_fds=*/true};
  PumpLocked(PumpScope::kAllAvailable, CallPumpLimit(), &budget);
  if (PeerClosedLocked()) return MX_ERR_PEER_CLOSED;
  // 2. Register before sending, so the reply cannot slip past us.
  callers_.push_back(waiter);
  return MX_OK;
}

mx_status_t ChannelEndpoint::BeginCall(const Message& request, CallWaiter* waiter) {
  if (!PrepareWaiter(request.txid(), waiter)) return MX_ERR_NO_RESOURCES;
  {
    MutexLock lock(&mu_);
    mx_status_t st = RegisterCallLocked(waiter);
    if (st != MX_OK) return st;
  }
  mx_status_t st = Write(request);
  if (st != MX_OK) {
    MutexLock lock(&mu_);
    std::erase(callers_, waiter);
    if (waiter->done && waiter->status == MX_OK) DeliverLocked(std::move(waiter->reply));
    waiter->done = false;
  }
  return st;
}

mx_status_t ChannelEndpoint::BeginCallBytes(const void* bytes, uint32_t num_bytes,
                                            CallWaiter* waiter) {
  uint32_t txid = 0;
  if (num_bytes >= sizeof(txid)) std::memcpy(&txid, bytes, sizeof(txid));
  if (!PrepareWaiter(txid, waiter)) return MX_ERR_NO_RESOURCES;
  MutexLock lock(&mu_);
  if (!LiveLocked()) return MX_ERR_BAD_HANDLE;
  if (WriteBlockedLocked() || !send_ring_.valid()) return MX_ERR_NEXT;
  mx_status_t st = RegisterCallLocked(waiter);
  if (st != MX_OK) return st;
  // The request goes to the ring while we hold the lock: no pump can deliver the reply before
  // the registration is undone on failure.
  st = RingWriteLocked(bytes, num_bytes);
  if (st == MX_OK) return MX_OK;
  std::erase(callers_, waiter);
  return st == MX_ERR_SHOULD_WAIT ? MX_ERR_NEXT : st;
}

bool ChannelEndpoint::TakeReplyFromRingLocked(CallWaiter* waiter) {
  if (waiter->out == nullptr || sequencer_.has_stash() || !recv_ring_.valid()) return false;
  uint64_t seq;
  uint32_t flags, len;
  if (!recv_ring_.Peek(&seq, &flags, &len) || len < sizeof(uint32_t) ||
      len > waiter->out_capacity ||
      sequencer_.OnRingHead({seq, (flags & MessageRing::kRecordHasHandles) != 0}) !=
          InboundSequencer::RingAction::kDeliverRecord) {
    return false;
  }
  // The reply goes to the first caller registered for its txid (as DeliverLocked does).
  uint32_t txid = 0, got = 0;
  if (!recv_ring_.PeekPayload(&txid, sizeof(txid), &got) || got != sizeof(txid)) return false;
  auto first = std::find_if(callers_.begin(), callers_.end(),
                            [txid](const CallWaiter* w) { return w->txid == txid; });
  if (first == callers_.end() || *first != waiter) return false;
  recv_ring_.PopInto(waiter->out, len);
  TookRingRecordLocked();
  callers_.erase(first);
  waiter->in_place = true;
  waiter->in_place_bytes = len;
  waiter->status = MX_OK;
  waiter->done = true;
  return true;
}

// 3. Wait: pump whenever the ring, the socket or our waker says something happened, in the
// loop every wait runs (RunWaitLoop). Messages that are not our reply pile up in the local
// queue, but only up to CallPumpLimit(): past that the peer sees backpressure, and we wait for
// readers in this process to make room (they wake us through the observer).
class ChannelEndpoint::CallWait final : public WaitLoop {
 public:
  CallWait(ChannelEndpoint* ep, CallWaiter* waiter, mx_time_t deadline)
      : ep_(ep), waiter_(waiter), deadline_(deadline) {}

  // The same look before and after arming: the pump always asks the socket what it needs.
  Look LookOnce(bool /*armed*/) override {
    MutexLock lock(&ep_->mu_);
    bool more = false;
    // Each look pumps one bounded pass (and stops at the deadline): a peer that floods frames
    // delays the answer by at most one frame past the deadline.
    if (!waiter_->done && ep_->LiveLocked() && !ep_->TakeReplyFromRingLocked(waiter_)) {
      PumpBudget budget = {kPassBudget, /*install_fds=*/true, deadline_};
      // Unless it finds the reply, the look is followed by a poll() on the socket, which
      // watches for frames (AddCallSourcesLocked) except when the deadline is due.
      budget.poll_follows = ep_->CallPollWatchesFramesLocked() && MonotonicNow() < deadline_;
      more = ep_->PumpLocked(PumpScope::kAllAvailable, CallPumpLimit(), &budget);
    }
    if (!waiter_->done && (ep_->GoneLocked() || ep_->EndOfStreamSeenLocked())) {
      std::erase(ep_->callers_, waiter_);
      waiter_->done = true;
      waiter_->status = ep_->GoneLocked() ? MX_ERR_CANCELED : MX_ERR_PEER_CLOSED;
    }
    if (waiter_->done) return Look::kDone;
    if (MonotonicNow() >= deadline_) {
      // 4. Timed out: withdraw, under the lock that saw no reply. A reply that comes later
      //    lands in the general queue.
      std::erase(ep_->callers_, waiter_);
      timed_out_ = true;
      return Look::kDone;
    }
    return more ? Look::kMore : Look::kWait;
  }

  bool timed_out() const { return timed_out_; }

  bool Spin(mx_time_t deadline) override {
    CpuPlacement peer;
    {
      MutexLock lock(&ep_->mu_);
      peer = ep_->SpinPeerLocked(MX_CHANNEL_READABLE);
    }
    return SpinUntilNews(waiter_->waker, deadline, PlanSpinFor(peer), [this](bool deep) {
      MutexLock lock(&ep_->mu_);
      if (waiter_->done || ep_->SpinReadyLocked(MX_CHANNEL_READABLE, deep)) return SpinLook::kNews;
      // Nothing in shared memory to watch.
      return ep_->recv_ring_.valid() ? SpinLook::kNothing : SpinLook::kGiveUp;
    });
  }

  void Arm() override { ep_->BeginWait(); }
  void Disarm() override { ep_->EndWait(); }

  void Sources(std::vector<WaitSource>* sources, mx_time_t* wake_at) override {
    MutexLock lock(&ep_->mu_);
    ep_->AddCallSourcesLocked(sources, deadline_, wake_at);
  }

 private:
  ChannelEndpoint* const ep_;
  CallWaiter* const waiter_;
  const mx_time_t deadline_;
  bool timed_out_ = false;
};

bool ChannelEndpoint::CallPollWatchesFramesLocked() {
  return !held_.starved && queue_bytes_ < CallPumpLimit();
}

void ChannelEndpoint::AddCallSourcesLocked(std::vector<WaitSource>* sources, mx_time_t deadline,
                                           mx_time_t* wake_at) {
  force_socket_ = true;  // the next look asks the kernel (a hang-up is counted nowhere)
  if (!sock_) return;
  uint32_t events = EPOLLRDHUP;
  // A frame left in the kernel for lack of fd headroom keeps the socket readable; look again
  // now and then, as fds are freed without telling us.
  if (held_.starved) *wake_at = std::min(deadline, MonotonicNow() + kFdRetryInterval);
  if (CallPollWatchesFramesLocked()) events |= EPOLLIN;
  sources->push_back({sock_.get(), events, false});
}

mx_status_t ChannelEndpoint::FinishCall(CallWaiter* waiter, mx_time_t deadline,
                                        mx_status_t* read_status) {
  Observer observer;
  observer.waker = waiter->waker;
  AddObserver(&observer);
  CallWait wait(this, waiter, deadline);
  mx_status_t result = RunWaitLoop(&wait, waiter->waker, deadline);
  if (result == MX_ERR_TIMED_OUT) {
    // The deadline passed between a look and the loop's own check: withdraw as in (4), unless
    // the reply (or the peer's end) came in between.
    MutexLock lock(&mu_);
    if (waiter->done) {
      result = MX_OK;
    } else {
      std::erase(callers_, waiter);
    }
  }
  RemoveObserver(&observer);
  if (wait.timed_out()) return MX_ERR_TIMED_OUT;
  if (result != MX_OK) return result;
  if (waiter->status != MX_OK) {
    *read_status = waiter->status;
    return MX_ERR_CALL_FAILED;
  }
  return MX_OK;
}

}  // namespace mx::internal
