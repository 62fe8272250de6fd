// SPDX-License-Identifier: BSD-3-Clause
#include "os/clock.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "os/eintr.h"

namespace mx::internal {
namespace {

mx_time_t Read(clockid_t id) {
  struct timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<mx_time_t>(ts.tv_sec) * 1000000000ull + static_cast<mx_time_t>(ts.tv_nsec);
}

}  // namespace

mx_time_t MonotonicNow() { return Read(CLOCK_MONOTONIC); }

mx_time_t ClockNow(uint32_t clock_id) {
  switch (clock_id) {
    case MX_CLOCK_MONOTONIC:
      return Read(CLOCK_MONOTONIC);
    case MX_CLOCK_UTC:
      return Read(CLOCK_REALTIME);
    case MX_CLOCK_THREAD:
      return Read(CLOCK_THREAD_CPUTIME_ID);
    default:
      return 0;
  }
}

struct timespec TimeoutUntil(mx_time_t deadline) {
  mx_time_t now = MonotonicNow();
  mx_time_t left = deadline > now ? deadline - now : 0;
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(left / 1000000000ull);
  ts.tv_nsec = static_cast<long>(left % 1000000000ull);
  return ts;
}

const struct timespec* KernelTimeout(mx_time_t deadline, struct timespec* storage) {
  if (deadline == MX_TIME_INFINITE) return nullptr;
  *storage = TimeoutUntil(deadline);
  return storage;
}

void SleepUntil(mx_time_t deadline) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(deadline / 1000000000ull);
  ts.tv_nsec = static_cast<long>(deadline % 1000000000ull);
  // clock_nanosleep returns its error instead of setting errno.
  RetryOnEintr([&] {
    const int err = ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    if (err == 0) return 0;
    errno = err;
    return -1;
  });
}

void SleepForever() {
  for (;;) ::pause();
}

void YieldCpu() { ::sched_yield(); }

}  // namespace mx::internal
