// SPDX-License-Identifier: BSD-3-Clause
// ThreadWaker: how one thread in this process wakes another that is blocked in a libmx wait.
//
// Each thread owns one (created lazily), backed by an eventfd that its waits always watch.
// Wake() may be called from any thread; Drain() only by the owner, before it re-checks state.
// Wake-ups coming from other processes arrive on the objects' own fds instead.
#pragma once

#include <atomic>

#include "os/spin.h"
#include "os/unique_fd.h"

namespace mx::internal {

// Something to wake when an object's state may have changed: a blocked thread (ThreadWaker) or
// a port with async waits armed (Port). Wake() must be cheap, thread-safe and non-blocking.
class Waker {
 public:
  virtual void Wake() = 0;

 protected:
  ~Waker() = default;
};

class ThreadWaker final : public Waker {
 public:
  // The calling thread's waker; nullptr if no eventfd could be created (fd exhaustion).
  static ThreadWaker* Current();
  // The calling thread's waker if it has one already (never creates one).
  static ThreadWaker* CurrentIfCreated();

  void Wake() override;
  // Empties the eventfd (the owner, after it blocked: always a read).
  void Drain();
  // The same, but only if a Wake happened since the last drain (no system call otherwise).
  // A Wake racing with it may leave the eventfd readable; the next blocking wait wakes once
  // and its Drain clears it.
  void DrainIfWoken();
  // True if a Wake happened since the last drain (lock-free; for spinning waits).
  bool Woken() const { return woken_.load(std::memory_order_acquire); }
  int fd() const { return fd_.get(); }

  ~ThreadWaker();

 private:
  ThreadWaker();
  UniqueFd fd_;
  std::atomic<bool> woken_{false};
};

// The set of bits an in-process change set on an object, delivered to a waiter.
// One per (wait, item) or per async wait; registered on the object while the wait runs.
struct Observer {
  Waker* waker = nullptr;
  std::atomic<uint32_t> seen{0};     // signals asserted by in-process changes during the wait
  std::atomic<uint32_t> cleared{0};  // signals deasserted by in-process changes (for ports)
};

// What one look during a spin found.
enum class SpinLook { kNothing, kNews, kGiveUp };

// The spinning phase of a wait, as |plan| (PlanSpinFor) allows: looks with |look(deep)| (deep:
// time to ask the kernel too, see Spinner::DeepCheckDue) until it reports news or |waker| is
// woken (true), or it gives up or the budget or |deadline| is spent (false).
template <typename Look>
bool SpinUntilNews(ThreadWaker* waker, mx_time_t deadline, SpinPlan plan, Look look) {
  Spinner spin(deadline, plan);
  while (spin.Pause()) {
    const SpinLook found = look(spin.DeepCheckDue());
    if (found == SpinLook::kGiveUp) return false;
    if (found == SpinLook::kNews || waker->Woken()) {
      spin.Hit();
      return true;
    }
  }
  return false;
}

}  // namespace mx::internal
