// SPDX-License-Identifier: BSD-3-Clause
// Clocks and deadlines, in nanoseconds.
#pragma once

#include <magenta/types.h>
#include <time.h>

namespace mx::internal {

mx_time_t MonotonicNow();
// Nanoseconds of |clock_id| (MX_CLOCK_*), 0 for an unknown clock.
mx_time_t ClockNow(uint32_t clock_id);
// Relative timeout from now until |deadline|, clamped at 0.
struct timespec TimeoutUntil(mx_time_t deadline);
// The timeout argument of a blocking call (ppoll, epoll_pwait2) for |deadline|: nullptr (no
// timeout) for MX_TIME_INFINITE, else |storage| filled by TimeoutUntil.
const struct timespec* KernelTimeout(mx_time_t deadline, struct timespec* storage);

// Sleeps until |deadline| (MX_CLOCK_MONOTONIC) has passed, through any signals.
void SleepUntil(mx_time_t deadline);
// Blocks the calling thread for good (signal handlers still run).
[[noreturn]] void SleepForever();
// Gives the CPU to another runnable thread, if any.
void YieldCpu();

}  // namespace mx::internal
