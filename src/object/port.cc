#include "object/port.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "os/clock.h"
#include "os/koid.h"

namespace mx::internal {

struct Port::Registration {
  uint64_t id = 0;
  std::shared_ptr<Handle> handle;
  uint64_t key = 0;
  mx_signals_t trigger = 0;
  bool repeating = false;
  bool evaluated = false;
  mx_signals_t last = 0;
  std::vector<int> fds;
  Observer observer;
  RegistrationKick kick;
};

Port::Port(UniqueFd epoll, UniqueFd event)
    : Object(AllocateKoid()), epoll_(std::move(epoll)), event_(std::move(event)) {}

Port::~Port() = default;

mx_status_t Port::Create(std::shared_ptr<Port>* out) {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  UniqueFd ev(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!ep || !ev) return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
  struct epoll_event e = {};
  e.events = EPOLLIN;
  e.data.u64 = static_cast<uint64_t>(-1);
  if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &e) != 0) return MX_ERR_NO_RESOURCES;
  out->reset(new Port(std::move(ep), std::move(ev)));
  return MX_OK;
}

void Port::WakeLocked() {
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(event_.get(), &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

void Port::MarkDirty(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    dirty_.push_back(id);
  }
  // One wake-up is enough until the port has looked at the dirty list.
  if (kick_pending_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(event_.get(), &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

mx_status_t Port::Queue(const mx_port_packet_t& packet) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return MX_ERR_BAD_HANDLE;
  mx_port_packet_t p = packet;
  p.type = MX_PKT_TYPE_USER;
  packets_.push_back(p);
  WakeLocked();
  return MX_OK;
}

mx_status_t Port::WaitAsync(std::shared_ptr<Handle> handle, uint64_t key, mx_signals_t signals,
                            bool repeating) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return MX_ERR_BAD_HANDLE;
  auto reg = std::make_unique<Registration>();
  reg->id = next_id_++;
  reg->handle = std::move(handle);
  reg->key = key;
  reg->trigger = signals;
  reg->repeating = repeating;
  reg->kick.port = this;
  reg->kick.id = reg->id;
  reg->observer.waker = &reg->kick;
  Registration* r = reg.get();
  // In-process changes and the handle leaving the table mark the registration dirty; changes
  // from other processes arrive as edges on the object's fds.
  r->handle->object()->AddObserver(&r->observer);
  r->handle->AddWaiter(&r->kick);
  // The registration may sleep in epoll_wait on the object's fds for as long as it lives.
  r->handle->object()->BeginWait();
  std::vector<WaitSource> sources;
  r->handle->object()->AddWaitSources(signals, &sources);
  for (const WaitSource& s : sources) {
    if (s.fd < 0 || std::find(r->fds.begin(), r->fds.end(), s.fd) != r->fds.end()) continue;
    r->fds.push_back(s.fd);
    auto& ids = fd_regs_[s.fd];
    if (ids.empty()) {
      struct epoll_event e = {};
      e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      e.data.u64 = static_cast<uint64_t>(s.fd);
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.fd, &e) != 0 && errno != EEXIST) {
        fd_regs_.erase(s.fd);
        r->fds.pop_back();
        continue;
      }
    }
    ids.push_back(r->id);
  }
  regs_.emplace(r->id, std::move(reg));
  // The first evaluation happens now: a signal already asserted fires at once.
  if (!EvaluateLocked(r)) RemoveLocked(r->id);
  return MX_OK;
}

bool Port::EvaluateLocked(Registration* reg) {
  if (reg->handle->gone()) return false;
  mx_signals_t now = reg->handle->Signals();
  mx_signals_t seen = reg->observer.seen.exchange(0, std::memory_order_acq_rel);
  mx_signals_t cleared = reg->observer.cleared.exchange(0, std::memory_order_acq_rel);
  // A change: a different state, a trigger bit that came and went, or one that was cleared
  // and is set again (a channel drained and refilled between two evaluations).
  bool changed = !reg->evaluated || now != reg->last || (seen & reg->trigger & ~reg->last) ||
                 (cleared & reg->trigger & reg->last);
  reg->evaluated = true;
  reg->last = now;
  mx_signals_t hit = (now | seen) & reg->trigger;
  if (hit == 0 || !changed) return true;
  mx_port_packet_t p = {};
  p.key = reg->key;
  p.type = reg->repeating ? MX_PKT_TYPE_SIGNAL_REP : MX_PKT_TYPE_SIGNAL_ONE;
  p.status = MX_OK;
  p.signal.trigger = reg->trigger;
  p.signal.observed = now | seen;
  p.signal.count = reg->handle->object()->SignalCount();
  packets_.push_back(p);
  return reg->repeating;
}

void Port::RemoveLocked(uint64_t id) {
  auto it = regs_.find(id);
  if (it == regs_.end()) return;
  Registration* r = it->second.get();
  r->handle->object()->EndWait();
  r->handle->object()->RemoveObserver(&r->observer);
  r->handle->RemoveWaiter(&r->kick);
  for (int fd : r->fds) {
    auto f = fd_regs_.find(fd);
    if (f == fd_regs_.end()) continue;
    auto& ids = f->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) {
      // If the handle is gone the object may have closed this fd, and the number may now name
      // another file: leave the epoll entry (the kernel drops it with the file; a stale event
      // only causes a spurious evaluation).
      if (!r->handle->gone()) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
      fd_regs_.erase(f);
    }
  }
  regs_.erase(it);
}

void Port::PollLocked() {
  std::vector<uint64_t> ids;
  struct epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 64, 0);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == static_cast<uint64_t>(-1)) {
        kick_pending_.store(false, std::memory_order_release);
        uint64_t v;
        while (::read(event_.get(), &v, sizeof(v)) > 0) {
        }
        continue;
      }
      auto f = fd_regs_.find(static_cast<int>(events[i].data.u64));
      if (f != fd_regs_.end()) ids.insert(ids.end(), f->second.begin(), f->second.end());
    }
    if (n < 64) break;
  }
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    ids.insert(ids.end(), dirty_.begin(), dirty_.end());
    dirty_.clear();
  }
  if (ids.empty()) return;
  // Newest registration first when several fire together (as Magenta queued them).
  std::sort(ids.begin(), ids.end(), std::greater<uint64_t>());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint64_t id : ids) {
    auto it = regs_.find(id);
    if (it == regs_.end()) continue;
    if (!EvaluateLocked(it->second.get())) RemoveLocked(id);
  }
}

mx_status_t Port::Wait(mx_time_t deadline, mx_port_packet_t* packet) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return MX_ERR_BAD_HANDLE;
      if (packets_.empty()) PollLocked();
      if (!packets_.empty()) {
        *packet = packets_.front();
        packets_.pop_front();
        if (!packets_.empty()) WakeLocked();  // let another waiting thread take the next one
        return MX_OK;
      }
    }
    if (MonotonicNow() >= deadline) return MX_ERR_TIMED_OUT;
    struct pollfd p = {epoll_.get(), POLLIN, 0};
    struct timespec ts;
    struct timespec* timeout = nullptr;
    if (deadline != MX_TIME_INFINITE) {
      ts = TimeoutUntil(deadline);
      timeout = &ts;
    }
    ::ppoll(&p, 1, timeout, nullptr);
  }
}

void Port::OnLastHandleClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  std::vector<uint64_t> ids;
  for (auto& [id, reg] : regs_) ids.push_back(id);
  for (uint64_t id : ids) RemoveLocked(id);
  packets_.clear();
}

size_t Port::registration_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return regs_.size();
}

}  // namespace mx::internal
