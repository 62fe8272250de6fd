// SPDX-License-Identifier: BSD-3-Clause
// Random numbers for values that must differ between processes and runs, not resist an attacker.
#pragma once

#include <cstdint>

namespace mx::internal {

// 32 random bits from the kernel; while its entropy pool is not ready (early boot), the
// monotonic clock's nanoseconds mixed with the pid. Never blocks. Thread-safe.
uint32_t WeakRandomU32();

}  // namespace mx::internal
