// SPDX-License-Identifier: BSD-3-Clause
// <mx/time.h>: time helpers in the shape of Magenta's ulib/mx (2017): mx::deadline_after(),
// mx::nanosleep(), mx::time::get(), plus mx::time_get(), mx::ticks_get() / mx::ticks_per_second()
// and constexpr duration helpers mx::usec() / mx::msec() / mx::sec().
//
// Every time is in nanoseconds. An mx_time_t is an absolute MX_CLOCK_MONOTONIC deadline unless a
// clock says otherwise; an mx_duration_t is a length. As in Magenta, these are plain integers, not
// classes, and deadline_after() is a plain (non-saturating) add.
//
// Ownership: none. Thread-safety: every function is thread-safe.
#pragma once

#include <magenta/syscalls.h>
#include <magenta/types.h>

#include <cstdint>

namespace mx {

constexpr mx_duration_t usec(uint64_t n) { return MX_USEC(n); }
constexpr mx_duration_t msec(uint64_t n) { return MX_MSEC(n); }
constexpr mx_duration_t sec(uint64_t n) { return MX_SEC(n); }

// Nanoseconds on |clock_id| (MX_CLOCK_MONOTONIC, MX_CLOCK_UTC, MX_CLOCK_THREAD).
inline mx_time_t time_get(uint32_t clock_id) { return mx_time_get(clock_id); }

namespace time {
// Magenta's spelling of time_get().
inline mx_time_t get(uint32_t clock_id) { return mx_time_get(clock_id); }
}  // namespace time

// The MX_CLOCK_MONOTONIC time |nanoseconds| from now.
inline mx_time_t deadline_after(mx_duration_t nanoseconds) {
  return mx_deadline_after(nanoseconds);
}

// The tick counter and its rate (see docs/system.md).
inline uint64_t ticks_get() { return mx_ticks_get(); }
inline uint64_t ticks_per_second() { return mx_ticks_per_second(); }

// Sleeps until |deadline| (absolute, MX_CLOCK_MONOTONIC); 0 only yields.
inline mx_status_t nanosleep(mx_time_t deadline) { return mx_nanosleep(deadline); }

}  // namespace mx
