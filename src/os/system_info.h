// SPDX-License-Identifier: BSD-3-Clause
// What a process learns about the machine: ticks (mx_ticks_get), the CPUs it can use
// (mx_system_get_num_cpus) and cryptographic random bytes (mx_cprng_draw).
// Thread-safe; none of these blocks once the kernel's random pool is ready (it is, after boot).
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>

namespace mx::internal {

// Ticks are CLOCK_MONOTONIC nanoseconds (read through the vDSO: no system call), so
// kTicksPerSecond is 10^9 and ticks agree with mx_time_get(MX_CLOCK_MONOTONIC).
inline constexpr uint64_t kTicksPerSecond = 1000000000ull;
uint64_t TicksNow();

// The CPUs this process may run on (its affinity mask at the first call; cached, since Magenta's
// value never changes), at least 1. Falls back to the online CPUs if the mask cannot be read.
uint32_t UsableCpuCount();

// Fills |buffer| with |len| (at most 256) bytes from the kernel's CSPRNG (getrandom). MX_OK, or
// MX_ERR_INVALID_ARGS if |buffer| is not writable memory (EFAULT).
mx_status_t DrawRandom(void* buffer, size_t len);

}  // namespace mx::internal
