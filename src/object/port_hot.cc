// SPDX-License-Identifier: BSD-3-Clause
// The port's hot registrations: polled in shared memory while the port is busy, armed again
// before it sleeps (see "Hot registrations" in port.h).
#include <algorithm>

#include "object/port.h"
#include "object/port_registration.h"

namespace mx::internal {

void Port::PollHotDroppingLock() {
  if (polling_ || hot_.empty()) return;
  polling_ = true;
  // Ended registrations leave the list here.
  hot_.erase(std::remove_if(hot_.begin(), hot_.end(),
                            [](const RegistrationRef& reg) {
                              if (!reg->removed) return false;
                              reg->hot = false;
                              return true;
                            }),
             hot_.end());
  poll_scratch_ = hot_;
  mu_.unlock();
  // The objects' locks are taken without mu_; SpinReady only reads shared memory.
  size_t keep = 0;
  for (RegistrationRef& reg : poll_scratch_) {
    if (reg->handle->gone() || reg->handle->object()->SpinReady(reg->trigger, /*deep=*/false)) {
      poll_scratch_[keep++] = std::move(reg);
    }
  }
  poll_scratch_.resize(keep);
  mu_.lock();
  for (const RegistrationRef& reg : poll_scratch_) ScheduleLocked(reg);
  poll_scratch_.clear();
  polling_ = false;
}

void Port::ArmHotLocked() {
  for (const RegistrationRef& reg : hot_) {
    reg->hot = false;
    if (reg->removed) continue;
    reg->arm_requested.store(true, std::memory_order_release);
    ScheduleLocked(reg);
  }
  hot_.clear();
}

}  // namespace mx::internal
