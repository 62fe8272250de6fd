// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the gtest suites (tests/api, tests/multiprocess, src/**/*_test.cc): one
// definition each instead of a copy per file. The fd count is in fd_count.h, which the plain
// programs (fuzzers, mx_soak) include without gtest.
#pragma once

#include <gtest/gtest.h>
#include <magenta/syscalls.h>

#include "support/fd_count.h"

namespace mx_test {

// The signals |h| asserts now. A wait for no signal with a deadline already past ends with
// MX_ERR_TIMED_OUT on any valid handle; any other status fails the calling test.
inline mx_signals_t SignalsOf(mx_handle_t h) {
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(h, 0, 0, &s), MX_ERR_TIMED_OUT);
  return s;
}

}  // namespace mx_test
