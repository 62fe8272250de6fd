// SPDX-License-Identifier: BSD-3-Clause
// mx_time_get / mx_deadline_after / mx_nanosleep.
#include <magenta/syscalls.h>

#include "os/clock.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_time_t mx_time_get(uint32_t clock_id) { return ClockNow(clock_id); }

__MX_EXPORT mx_time_t mx_deadline_after(mx_duration_t nanoseconds) {
  return MonotonicNow() + nanoseconds;
}

__MX_EXPORT mx_status_t mx_nanosleep(mx_time_t deadline) {
  if (deadline == 0) {
    YieldCpu();
    return MX_OK;
  }
  if (deadline == MX_TIME_INFINITE) SleepForever();
  SleepUntil(deadline);
  return MX_OK;
}

}  // extern "C"
