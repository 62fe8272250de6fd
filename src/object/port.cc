// SPDX-License-Identifier: BSD-3-Clause
#include "object/port.h"

#include <algorithm>

#include "base/check.h"
#include "object/port_registration.h"
#include "os/clock.h"
#include "os/epoll.h"
#include "os/eventfd.h"
#include "os/fd.h"
#include "os/koid.h"

namespace mx::internal {

// The epoll cookie of the port's own eventfd; every other cookie is a watched fd's number.
constexpr uint64_t kWakeCookie = static_cast<uint64_t>(-1);

Port::Port(UniqueFd epoll, UniqueFd event)
    : Object(AllocateKoid()), epoll_(std::move(epoll)), event_(std::move(event)) {}

Port::~Port() = default;

mx_status_t Port::Create(std::shared_ptr<Port>* out) {
  UniqueFd ep, ev;
  mx_status_t st = CreateEpoll(&ep);
  if (st == MX_OK) st = CreateEventFd(&ev);
  if (st != MX_OK) return st;
  if (!EpollAdd(ep.get(), ev.get(), EPOLLIN, kWakeCookie)) return MX_ERR_NO_RESOURCES;
  out->reset(new Port(std::move(ep), std::move(ev)));
  return MX_OK;
}

void Port::Wake() {
  // One write is enough until a waiter drains the eventfd (CollectLocked resets the flag after
  // draining, so a wake-up racing with the drain is never lost).
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  SignalEventFd(event_.get());
}

void Port::RegistrationWaker::Wake() { port->MarkDirty(reg); }

void Port::MarkDirty(Registration* reg) {
  // Already listed: the port will look at the registration, and the look reads the state as it
  // is then, this change included. So a storm of changes costs one atomic exchange each.
  if (reg->dirty.exchange(true, std::memory_order_acq_rel)) return;
  // The registration is alive: Wake() runs only while it is hooked to its object and handle.
  RegistrationRef ref = reg->shared_from_this();
  {
    MutexLock lock(&dirty_mu_);
    dirty_.push_back(std::move(ref));
  }
  Wake();
}

bool Port::TakePacketLocked(mx_port_packet_t* packet) {
  if (packets_.empty()) return false;
  *packet = packets_.front();
  packets_.pop_front();
  // Let another waiting thread (or the event loop watching the fd) take what is left.
  if (!packets_.empty() || !ready_.empty()) Wake();
  return true;
}

mx_status_t Port::Queue(const mx_port_packet_t& packet) {
  MutexLock lock(&mu_);
  if (closed_) return MX_ERR_BAD_HANDLE;
  mx_port_packet_t p = packet;
  p.type = MX_PKT_TYPE_USER;
  packets_.push_back(p);
  Wake();
  return MX_OK;
}

mx_status_t Port::WaitAsync(std::shared_ptr<Handle> handle, uint64_t key, mx_signals_t signals,
                            bool repeating) {
  auto reg = std::make_shared<Registration>();
  reg->handle = std::move(handle);
  reg->key = key;
  reg->trigger = signals;
  reg->repeating = repeating;
  reg->waker.port = this;
  reg->waker.reg = reg.get();
  reg->observer.waker = &reg->waker;
  {
    MutexLock lock(&mu_);
    if (closed_) return MX_ERR_BAD_HANDLE;
    reg->id = next_id_++;
    // (1a) Claimed before it is hooked: a Wake from here on lets a concurrent Wait collect it,
    // and that Wait must only note the change (2), not evaluate it alongside our first
    // evaluation nor end it before it is in regs_.
    reg->evaluating = true;
  }
  // Hooked outside mu_: the object's locks may be held for a while by a thread pumping it.
  // In-process changes and the handle leaving the table mark the registration dirty; changes
  // from other processes arrive as edges on the object's fds. The registration may sleep in
  // epoll_wait on those fds (BeginWait) except while it is hot (see port.h).
  Object* object = reg->handle->object().get();
  object->AddObserver(&reg->observer);
  reg->handle->AddWaiter(&reg->waker);
  object->BeginWait();
  reg->armed = true;
  std::vector<WaitSource> sources;
  object->AddWaitSources(signals, &sources);

  UniqueLock lock(&mu_);
  // Not in regs_ yet and claimed by us, so only the port closing can have ended it; whoever set
  // |removed| has unhooked it, and it must not reach fd_regs_ or regs_.
  if (closed_ || reg->removed) {
    const bool hooked = !reg->removed;
    reg->removed = true;
    reg->evaluating = false;
    lock.unlock();
    if (hooked) Detach({reg});
    return MX_ERR_BAD_HANDLE;
  }
  for (const WaitSource& s : sources) {
    if (s.fd < 0 || std::find(reg->fds.begin(), reg->fds.end(), s.fd) != reg->fds.end()) continue;
    auto& ids = fd_regs_[s.fd];
    if (ids.empty() && !EpollAdd(epoll_.get(), s.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 static_cast<uint64_t>(s.fd))) {
      fd_regs_.erase(s.fd);
      continue;
    }
    reg->fds.push_back(s.fd);
    ids.push_back(reg->id);
  }
  regs_.emplace(reg->id, reg);
  // The first evaluation happens now: a signal already asserted fires at once.
  if (EvaluateDroppingLock(reg)) Wake();
  return MX_OK;
}

Port::Outcome Port::Evaluate(Registration* reg) {
  Outcome out;
  if (reg->handle->gone()) {
    out.ended = true;
    return out;
  }
  Object* object = reg->handle->object().get();
  // Armed before the look: the look then sees every record published before the flag, and
  // the writer kicks for every record after it.
  if (reg->arm_requested.exchange(false, std::memory_order_acq_rel) && !reg->armed) {
    object->BeginWait();
    reg->armed = true;
  }
  // Without news from epoll only shared memory can have changed (or this process's own
  // operations, which update the object's state themselves): the cheap look reads the ring and
  // the socket only when the ring's counters point at it.
  const bool kernel = reg->kernel_news.exchange(false, std::memory_order_acq_rel);
  mx_signals_t now = reg->handle->Signals(/*fast=*/!kernel);
  mx_signals_t seen = reg->observer.seen.exchange(0, std::memory_order_acq_rel);
  mx_signals_t cleared = reg->observer.cleared.exchange(0, std::memory_order_acq_rel);
  // A change: a different state, a trigger bit that came and went, or one that was cleared
  // and is set again (a channel drained and refilled between two evaluations).
  bool changed = !reg->evaluated || now != reg->last || (seen & reg->trigger & ~reg->last) ||
                 (cleared & reg->trigger & reg->last);
  reg->evaluated = true;
  reg->last = now;
  mx_signals_t hit = (now | seen) & reg->trigger;
  if (hit == 0 || !changed) return out;
  out.fire = true;
  out.ended = !reg->repeating;
  out.packet.key = reg->key;
  out.packet.type = reg->repeating ? MX_PKT_TYPE_SIGNAL_REP : MX_PKT_TYPE_SIGNAL_ONE;
  out.packet.status = MX_OK;
  out.packet.signal.trigger = reg->trigger;
  out.packet.signal.observed = now | seen;
  out.packet.signal.count = object->SignalCount();
  // The port is busy with this object: poll its ring instead of having its peer kick us for
  // every message (see "Hot registrations" in port.h).
  if (reg->repeating && reg->armed && reg->backlog && object->CanSpin()) {
    object->EndWait();
    reg->armed = false;
  }
  return out;
}

bool Port::FinishLocked(const RegistrationRef& reg, const Outcome& outcome,
                        std::vector<RegistrationRef>* detach) {
  // (3) The claim ends here, with mu_ held: a change collected meanwhile (|again|) is scheduled
  // below, one collected after this is scheduled by its collector.
  MX_DCHECK(reg->evaluating);  // the caller claimed it
  reg->evaluating = false;
  // Ended while we looked (port closed): no packet.
  if (reg->removed) {
    if (reg->detach_pending) detach->push_back(reg);
    return false;
  }
  // The handle left the table while we looked: the wait ends silently.
  if (reg->handle->gone()) {
    RemoveLocked(reg, detach);
    return false;
  }
  if (outcome.fire) packets_.push_back(outcome.packet);
  if (outcome.ended) {
    RemoveLocked(reg, detach);
    return outcome.fire;
  }
  if (!reg->armed && !reg->hot) {
    reg->hot = true;
    hot_.push_back(reg);
    // The fd stays readable while a registration is hot (an event loop must come back).
    Wake();
  }
  if (reg->again) {
    // Another thread collected a change while we looked. It may be asleep now, and this thread
    // may be WaitAsync, about to return: wake whoever waits.
    reg->again = false;
    ScheduleLocked(reg);
    Wake();
  }
  return outcome.fire;
}

bool Port::EvaluateDroppingLock(const RegistrationRef& reg) {
  mu_.unlock();
  const Outcome outcome = Evaluate(reg.get());
  std::vector<RegistrationRef> detach;
  mu_.lock();
  const bool queued = FinishLocked(reg, outcome, &detach);
  if (!detach.empty()) {
    mu_.unlock();
    Detach(detach);
    mu_.lock();
  }
  return queued;
}

void Port::ScheduleLocked(const RegistrationRef& reg) {
  if (reg->removed || reg->queued) return;
  // (2) Claimed (evaluated now, or being armed): its claimant looks again when it is done.
  if (reg->evaluating) {
    reg->again = true;
    return;
  }
  reg->queued = true;
  ready_.push_back(reg);
}

void Port::RemoveLocked(const RegistrationRef& reg, std::vector<RegistrationRef>* detach) {
  if (reg->removed) return;
  reg->removed = true;
  for (int fd : reg->fds) {
    auto f = fd_regs_.find(fd);
    if (f == fd_regs_.end()) continue;
    auto& ids = f->second;
    ids.erase(std::remove(ids.begin(), ids.end(), reg->id), ids.end());
    if (ids.empty()) {
      // If the handle is gone the object may have closed this fd, and the number may now name
      // another file: leave the epoll entry (the kernel drops it with the file; a stale event
      // only causes a spurious evaluation).
      if (!reg->handle->gone()) EpollRemove(epoll_.get(), fd);
      fd_regs_.erase(f);
    }
  }
  regs_.erase(reg->id);
  // A claimed registration is the claimant's to detach (it owns |armed|).
  if (reg->evaluating) {
    reg->detach_pending = true;
  } else {
    detach->push_back(reg);
  }
}

void Port::Detach(const std::vector<RegistrationRef>& regs) {
  for (const RegistrationRef& reg : regs) {
    Object* object = reg->handle->object().get();
    if (reg->armed) object->EndWait();
    reg->armed = false;
    object->RemoveObserver(&reg->observer);
    reg->handle->RemoveWaiter(&reg->waker);
  }
}

void Port::CollectLocked() {
  EpollReady ready[64];
  bool woken = false;
  for (;;) {
    const size_t n = EpollCollect(epoll_.get(), ready, 64);
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      if (ready[i].cookie == kWakeCookie) {
        woken = true;
        continue;
      }
      auto f = fd_regs_.find(static_cast<int>(ready[i].cookie));
      if (f == fd_regs_.end()) continue;
      // Room to write (the peer read from its socket) is no news the kernel must be asked
      // about: only something to read or a hang-up is.
      const bool kernel = (ready[i].events & ~static_cast<uint32_t>(EPOLLOUT)) != 0;
      for (uint64_t id : f->second) {
        auto it = regs_.find(id);
        if (it == regs_.end()) continue;
        if (kernel) it->second->kernel_news.store(true, std::memory_order_release);
        batch_.push_back(it->second);
      }
    }
    if (n < 64) break;
  }
  TakeDirtyLocked();
  // The eventfd is drained only when no packet and no hot registration is left (what was just
  // collected is evaluated by this thread before it sleeps; TakePacketLocked wakes the port again
  // for what it leaves): while a busy port polls hot registrations the fd stays readable (for
  // other waiters and event loops), and their wake-ups cost no system call.
  // Drain, then re-arm Wake(): a wake-up after the drain writes the eventfd again, and one that
  // came before it put its registration on the dirty list first, which is taken once more.
  if (woken && ready_.empty() && packets_.empty() && hot_.empty()) {
    DrainEventFd(event_.get());
    wake_pending_.store(false, std::memory_order_release);
    TakeDirtyLocked();
  }
  if (batch_.empty()) return;
  // Newest registration first when several become ready together (as Magenta queued them);
  // behind whatever was ready before, so a registration that keeps becoming ready waits its
  // turn.
  if (batch_.size() > 1) {
    std::sort(batch_.begin(), batch_.end(),
              [](const RegistrationRef& a, const RegistrationRef& b) { return a->id > b->id; });
  }
  for (const RegistrationRef& reg : batch_) ScheduleLocked(reg);
  batch_.clear();
}

void Port::TakeDirtyLocked() {
  {
    MutexLock lock(&dirty_mu_);
    taken_.swap(dirty_);
  }
  for (RegistrationRef& reg : taken_) {
    // From here a change puts the registration on the list again; one that happened before
    // is seen by the evaluation that follows.
    reg->dirty.store(false, std::memory_order_release);
    batch_.push_back(std::move(reg));
  }
  taken_.clear();
}

Port::RegistrationRef Port::PopReadyLocked() {
  while (!ready_.empty()) {
    RegistrationRef reg = std::move(ready_.front());
    ready_.pop_front();
    reg->queued = false;
    if (reg->removed) continue;
    // ScheduleLocked never queues a claimed registration, and claims are taken only here and
    // at creation; should one be claimed anyway, its claimant looks again (never two at once).
    if (reg->evaluating) {
      reg->again = true;
      continue;
    }
    // (1b) Claimed under the same lock that found it unclaimed.
    reg->evaluating = true;
    reg->backlog = !ready_.empty() || !packets_.empty();
    return reg;
  }
  return nullptr;
}

mx_status_t Port::Wait(mx_time_t deadline, mx_port_packet_t* packet) {
  UniqueLock lock(&mu_);
  // Collect on entry and after each sleep; a pass that ends without a packet sleeps in ppoll,
  // which returns at once if anything arrived meanwhile (no extra system call per wake-up).
  bool collect = true;
  for (;;) {
    if (closed_) return MX_ERR_BAD_HANDLE;
    if (TakePacketLocked(packet)) return MX_OK;
    // One pass over what was ready, then collect again: a registration that keeps becoming
    // ready is evaluated once per pass, after every other one that was ready with it.
    if (ready_.empty() && collect) {
      CollectLocked();
      collect = false;
      // Lets go of mu_ while it looks: the port may have closed, or a packet come.
      PollHotDroppingLock();
      continue;
    }
    if (RegistrationRef reg = PopReadyLocked()) {
      // One evaluation, then the deadline: however long a busy object keeps one evaluation
      // going, the wait overruns its deadline by that one evaluation at most.
      EvaluateDroppingLock(reg);
      if (closed_) return MX_ERR_BAD_HANDLE;
      if (TakePacketLocked(packet)) return MX_OK;
      if (MonotonicNow() >= deadline) {
        // The fd must keep showing the registrations still to be evaluated.
        if (!ready_.empty()) Wake();
        return MX_ERR_TIMED_OUT;
      }
      continue;
    }
    // Nothing ready: before it sleeps, the port arms what it was polling and looks once more
    // (then collects again, which drains the eventfd if nothing turned up).
    if (!hot_.empty()) {
      ArmHotLocked();
      collect = true;
      continue;
    }
    lock.unlock();
    if (MonotonicNow() >= deadline) return MX_ERR_TIMED_OUT;
    WaitReadable(epoll_.get(), deadline);
    lock.lock();
    collect = true;
  }
}

void Port::OnLastHandleClosed() {
  std::vector<RegistrationRef> detach;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    std::vector<RegistrationRef> all;
    all.reserve(regs_.size());
    for (auto& [id, reg] : regs_) all.push_back(reg);
    for (const RegistrationRef& reg : all) RemoveLocked(reg, &detach);
    packets_.clear();
    ready_.clear();
    for (const RegistrationRef& reg : hot_) reg->hot = false;
    hot_.clear();
  }
  Detach(detach);
  // No Wake can arrive any more. Registrations are released outside dirty_mu_.
  std::vector<RegistrationRef> dirty;
  {
    MutexLock lock(&dirty_mu_);
    dirty.swap(dirty_);
  }
}

size_t Port::registration_count() {
  MutexLock lock(&mu_);
  return regs_.size();
}

size_t Port::pending_count() {
  MutexLock lock(&mu_);
  MutexLock dirty_lock(&dirty_mu_);
  return dirty_.size() + ready_.size();
}

}  // namespace mx::internal
