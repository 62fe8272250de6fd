// SPDX-License-Identifier: BSD-3-Clause
// Waiting: blocking until an object's signals match, a handle leaves the table, or a deadline.
//
// A wait watches (1) each object's fds, for changes made by other processes, and (2) the
// calling thread's ThreadWaker, woken by in-process changes (observers) and by handles leaving
// the table. Level-triggered sources are polled with ppoll(); when some source is
// edge-triggered (a counter fd nobody reads, e.g. an event's), the wait keeps one epoll set
// for its whole duration (os/epoll.h, EpollWaitUntil: millisecond timeouts where the kernel
// lacks epoll_pwait2); adding an fd that is already readable reports it once, so a change between
// a state check and the registration is not missed.
#pragma once

#include <memory>
#include <vector>

#include "object/object.h"

namespace mx::internal {

class WaitSet {
 public:
  explicit WaitSet(ThreadWaker* waker) : waker_(waker) {}
  // Replaces the watched sources (the waker is always watched).
  void Update(const std::vector<WaitSource>& sources);
  // Blocks until a source is ready or |deadline| passes. Spurious returns are allowed. False if
  // the waker's fd is known not to have been ready (so draining it needs no system call unless
  // the waker says it was woken since).
  bool Wait(mx_time_t deadline);

 private:
  ThreadWaker* waker_;
  std::vector<WaitSource> sources_;
  UniqueFd epoll_;
  std::vector<std::pair<int, uint32_t>> registered_;
};

// The one loop every blocking wait runs, for mx_object_wait_* and mx_channel_call alike:
//   (1) look (LookOnce); stop when it is done, or at the deadline;
//   (2) once, spin on shared memory for the spin budget (Spin), then look again if something
//       moved;
//   (3) arm the objects (Arm: from here on a change from another process makes some fd ready)
//       and look once more, now asking the kernel too;
//   (4) block on the sources (Sources) and the waker, and look again after every wake-up.
// Level-triggered fds report a state that already changed since the look; edge-triggered ones
// report readiness once when added; in-process changes wake the waker. Either way no change
// after the look is missed.
class WaitLoop {
 public:
  enum class Look {
    kDone,  // stop: what the wait waited for happened (or it was cancelled)
    kMore,  // a spent budget left work behind: look again at once
    kWait,  // nothing yet
  };
  // |armed|: step (3) ran; a look must then ask the kernel too.
  virtual Look LookOnce(bool armed) = 0;
  // Spins on shared memory until there may be news (true), or there is nothing to spin on or
  // the budget or |deadline| ran out (false).
  virtual bool Spin(mx_time_t deadline) = 0;
  virtual void Arm() = 0;
  virtual void Disarm() = 0;  // only after Arm
  // The sources to block on; |*wake_at| (the deadline on entry) may be brought forward.
  virtual void Sources(std::vector<WaitSource>* sources, mx_time_t* wake_at) = 0;

  virtual ~WaitLoop() = default;
};

// Runs |loop| with the calling thread's |waker|: MX_OK once LookOnce said kDone, else
// MX_ERR_TIMED_OUT at |deadline|.
mx_status_t RunWaitLoop(WaitLoop* loop, ThreadWaker* waker, mx_time_t deadline);

struct WaitItem {
  std::shared_ptr<Handle> handle;
  mx_signals_t waitfor = 0;
  mx_signals_t observed = 0;  // out
};

// mx_object_wait_many's core: MX_OK (some item matched), MX_ERR_TIMED_OUT, or MX_ERR_CANCELED
// (an item's handle left the table; its |observed| has MX_SIGNAL_HANDLE_CLOSED).
// MX_ERR_NO_RESOURCES if the wait could not be set up.
mx_status_t WaitForItems(std::vector<WaitItem>* items, mx_time_t deadline);

}  // namespace mx::internal
