// mx_time_get / mx_deadline_after / mx_nanosleep.
#include <errno.h>
#include <magenta/syscalls.h>
#include <sched.h>
#include <unistd.h>
#include <time.h>

#include "os/clock.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_time_t mx_time_get(uint32_t clock_id) { return ClockNow(clock_id); }

__MX_EXPORT mx_time_t mx_deadline_after(mx_duration_t nanoseconds) {
  return MonotonicNow() + nanoseconds;
}

__MX_EXPORT mx_status_t mx_nanosleep(mx_time_t deadline) {
  if (deadline == 0) {
    ::sched_yield();
    return MX_OK;
  }
  if (deadline == MX_TIME_INFINITE) {
    for (;;) ::pause();
  }
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(deadline / 1000000000ull);
  ts.tv_nsec = static_cast<long>(deadline % 1000000000ull);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
  return MX_OK;
}

}  // extern "C"
