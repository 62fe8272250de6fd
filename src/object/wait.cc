// SPDX-License-Identifier: BSD-3-Clause
#include "object/wait.h"

#include <algorithm>
#include <atomic>

#include "os/clock.h"
#include "os/epoll.h"
#include "os/poll_set.h"
#include "os/spin.h"

namespace mx::internal {

void WaitSet::Update(const std::vector<WaitSource>& sources) {
  sources_ = sources;
  bool any_edge =
      std::any_of(sources.begin(), sources.end(), [](const WaitSource& s) { return s.edge; });
  if (!any_edge && !epoll_) return;
  if (!epoll_) {
    if (CreateEpoll(&epoll_) != MX_OK) return;
    EpollAdd(epoll_.get(), waker_->fd(), EPOLLIN, static_cast<uint64_t>(waker_->fd()));
  }
  // Merge interest per fd (the same object may be watched twice).
  std::vector<std::pair<int, uint32_t>> wanted;
  for (const WaitSource& s : sources) {
    if (s.fd < 0) continue;
    uint32_t events = s.events | (s.edge ? EPOLLET : 0u);
    auto it = std::find_if(wanted.begin(), wanted.end(), [&](auto& p) { return p.first == s.fd; });
    if (it == wanted.end()) {
      wanted.emplace_back(s.fd, events);
    } else {
      it->second |= events;
    }
  }
  // Stop watching fds no longer wanted (a level-triggered fd that stays ready would make the
  // wait spin). A number that now names another file gets ENOENT; that is harmless.
  for (auto it = registered_.begin(); it != registered_.end();) {
    bool keep = std::any_of(wanted.begin(), wanted.end(),
                            [fd = it->first](auto& p) { return p.first == fd; });
    if (keep) {
      ++it;
      continue;
    }
    EpollRemove(epoll_.get(), it->first);
    it = registered_.erase(it);
  }
  for (auto& [fd, events] : wanted) {
    auto it = std::find_if(registered_.begin(), registered_.end(),
                           [fd = fd](auto& p) { return p.first == fd; });
    if (it == registered_.end()) {
      EpollAdd(epoll_.get(), fd, events, static_cast<uint64_t>(fd));
      registered_.emplace_back(fd, events);
    } else if (it->second != events) {
      EpollModify(epoll_.get(), fd, events, static_cast<uint64_t>(fd));
      it->second = events;
    }
  }
}

bool WaitSet::Wait(mx_time_t deadline) {
  if (epoll_) {
    EpollWaitUntil(epoll_.get(), deadline);
    return true;  // not told which fds were ready
  }
  PollSet fds;
  fds.Reserve(sources_.size() + 1);
  fds.Add(waker_->fd(), EPOLLIN);
  for (const WaitSource& s : sources_) fds.Add(s.fd, s.events);
  fds.Wait(deadline);
  return fds.Ready(0);
}

namespace {

// Spins until some item may have news, the waker was woken, or the budget (or the deadline)
// is spent. True if there may be news.
bool SpinForNews(std::vector<WaitItem>* items, ThreadWaker* waker, mx_time_t deadline) {
  // Spin if spinning can help with any of the objects that can spin (their peers' placements).
  SpinPlan plan;
  bool any = false;
  for (WaitItem& item : *items) {
    Object* object = item.handle->object().get();
    if (!object->CanSpin()) continue;
    any = true;
    plan = MergeSpinPlans(plan, PlanSpinFor(object->SpinPeer(item.waitfor)));
  }
  if (!any) return false;
  return SpinUntilNews(waker, deadline, plan, [items](bool deep) {
    for (WaitItem& item : *items) {
      if (item.handle->gone() || item.handle->object()->SpinReady(item.waitfor, deep)) {
        return SpinLook::kNews;
      }
    }
    return SpinLook::kNothing;
  });
}

}  // namespace

mx_status_t RunWaitLoop(WaitLoop* loop, ThreadWaker* waker, mx_time_t deadline) {
  WaitSet set(waker);
  mx_status_t result;
  bool spun = false;
  bool armed = false;
  for (;;) {
    const WaitLoop::Look look = loop->LookOnce(armed);
    if (look == WaitLoop::Look::kDone) {
      result = MX_OK;
      break;
    }
    if (MonotonicNow() >= deadline) {
      result = MX_ERR_TIMED_OUT;
      break;
    }
    if (look == WaitLoop::Look::kMore) continue;
    if (!spun) {
      spun = true;
      if (loop->Spin(deadline)) {
        waker->DrainIfWoken();
        continue;
      }
    }
    if (!armed) {
      armed = true;
      loop->Arm();
      continue;
    }
    std::vector<WaitSource> sources;
    mx_time_t wake_at = deadline;
    loop->Sources(&sources, &wake_at);
    set.Update(sources);
    // The waker's eventfd is read only when poll() saw it ready or a Wake happened since: a
    // wake-up from another process (the usual one) costs no read of it. A Wake whose signal
    // lands after this makes the next poll() return at once, reporting the fd, which is then
    // drained: never a busy loop.
    if (set.Wait(wake_at)) {
      waker->Drain();
    } else {
      waker->DrainIfWoken();
    }
  }
  SpinWaitEnded();
  if (armed) loop->Disarm();
  return result;
}

namespace {

// mx_object_wait_many's loop: a look reads every item's signals (cheaply, through FastSignals,
// until the objects are armed, unless the deadline is already due: a poll must see everything).
// Once armed, a look is followed by a level-triggered poll() on the items' sources unless it
// finds what the wait is for: it reads them through SignalsBeforePoll, which leaves to that
// poll what the poll reports itself, except when the deadline is due and no poll follows.
class ItemsWait final : public WaitLoop {
 public:
  ItemsWait(std::vector<WaitItem>* items, std::vector<Observer>* observers, ThreadWaker* waker,
            mx_time_t deadline)
      : items_(*items),
        observers_(*observers),
        waker_(waker),
        deadline_(deadline),
        fast_(MonotonicNow() < deadline) {}

  mx_status_t result() const { return result_; }

  Look LookOnce(bool armed) override {
    const bool fast = fast_ && !armed;
    const bool before_poll = armed && MonotonicNow() < deadline_;
    bool satisfied = false;
    bool canceled = false;
    for (size_t i = 0; i < items_.size(); ++i) {
      WaitItem& item = items_[i];
      if (item.handle->gone()) {
        item.observed |= MX_SIGNAL_HANDLE_CLOSED;
        canceled = true;
        continue;
      }
      item.observed |= before_poll ? item.handle->SignalsBeforePoll() : item.handle->Signals(fast);
      item.observed |= observers_[i].seen.exchange(0, std::memory_order_acq_rel);
      if (item.observed & item.waitfor) satisfied = true;
    }
    if (!canceled && !satisfied) return Look::kWait;
    result_ = canceled ? MX_ERR_CANCELED : MX_OK;
    return Look::kDone;
  }

  bool Spin(mx_time_t deadline) override { return SpinForNews(&items_, waker_, deadline); }

  void Arm() override {
    for (WaitItem& item : items_) item.handle->object()->BeginWait();
  }

  void Disarm() override {
    for (WaitItem& item : items_) item.handle->object()->EndWait();
  }

  void Sources(std::vector<WaitSource>* sources, mx_time_t* wake_at) override {
    for (WaitItem& item : items_) item.handle->object()->AddWaitSources(item.waitfor, sources);
    for (const WaitSource& s : *sources) *wake_at = std::min(*wake_at, s.recheck_at);
  }

 private:
  std::vector<WaitItem>& items_;
  std::vector<Observer>& observers_;
  ThreadWaker* const waker_;
  const mx_time_t deadline_;
  const bool fast_;
  mx_status_t result_ = MX_OK;
};

}  // namespace

mx_status_t WaitForItems(std::vector<WaitItem>* items, mx_time_t deadline) {
  ThreadWaker* waker = ThreadWaker::Current();
  if (waker == nullptr) return MX_ERR_NO_RESOURCES;
  waker->DrainIfWoken();
  std::vector<Observer> observers(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    observers[i].waker = waker;
    (*items)[i].observed = 0;
    (*items)[i].handle->AddWaiter(waker);
    (*items)[i].handle->object()->AddObserver(&observers[i]);
  }
  ItemsWait wait(items, &observers, waker, deadline);
  mx_status_t result = RunWaitLoop(&wait, waker, deadline);
  if (result == MX_OK) result = wait.result();
  for (size_t i = 0; i < items->size(); ++i) {
    (*items)[i].handle->object()->RemoveObserver(&observers[i]);
    (*items)[i].handle->RemoveWaiter(waker);
  }
  return result;
}

}  // namespace mx::internal
