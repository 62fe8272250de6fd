// mx_channel_call on an endpoint: register for the reply, send, then wait for it.
#include <sys/epoll.h>

#include <algorithm>

#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "object/wait.h"
#include "os/clock.h"
#include "os/spin.h"

namespace mx::internal {

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

}  // namespace mx::internal
