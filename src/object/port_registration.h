// SPDX-License-Identifier: BSD-3-Clause
// Port::Registration: one async wait on a port (see port.h), shared by the port's files.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "object/port.h"

namespace mx::internal {

// A registration is shared by the port's map, the dirty list and the ready FIFO, and by the
// thread evaluating it; an ended one (|removed|) lingers in those until they are next looked at,
// and never queues a packet.
struct Port::Registration : std::enable_shared_from_this<Registration> {
  // Fixed at creation.
  uint64_t id = 0;
  std::shared_ptr<Handle> handle;
  uint64_t key = 0;
  mx_signals_t trigger = 0;
  bool repeating = false;
  Observer observer;
  RegistrationWaker waker;
  std::vector<int> fds;  // in the port's epoll set for this registration (under mu_)

  // Under mu_.
  bool removed = false;  // ended: unhooked from the port's maps, or about to be
  bool queued = false;   // in ready_
  // The claim: one thread owns the registration's evaluation and runs it without mu_. Taken
  // (1a) by WaitAsync when it creates the registration, before anything can wake it, and held
  // through the hooking until the first evaluation ends; (1b) by PopReadyLocked. Released by
  // FinishLocked. (2) A thread that finds it claimed sets |again| instead of evaluating.
  bool evaluating = false;
  bool again = false;  // became ready while claimed: (3) evaluate it once more afterwards
  bool hot = false;    // in hot_
  // Removed while claimed: the claimant detaches it when its evaluation ends (armed belongs to
  // the claim).
  bool detach_pending = false;

  // Only the thread holding the claim touches these (and Detach, once the registration ended
  // and nobody can claim it any more).
  bool evaluated = false;
  mx_signals_t last = 0;
  bool armed = false;  // the object's BeginWait is held for this registration
  // The port had other work queued when this evaluation was claimed: a registration that
  // fires now may be disarmed (a port about to sleep gains nothing from it).
  bool backlog = false;

  // Set when epoll reported one of its fds: the evaluation asks the kernel (the socket's
  // frames, a hang-up), not only shared memory. Cleared by the evaluation that follows.
  std::atomic<bool> kernel_news{true};
  // Set by ArmHotLocked: the next evaluation arms the registration first.
  std::atomic<bool> arm_requested{false};

  // Set by Wake() when it puts the registration on the dirty list, cleared when the list is
  // collected: the list holds each registration at most once.
  std::atomic<bool> dirty{false};
};

}  // namespace mx::internal
