// SPDX-License-Identifier: BSD-3-Clause
// RetryOnEintr: the one place a system call interrupted by a signal is restarted.
//
// A call that fails with EINTR did nothing and is simply made again; every other result, success
// or failure, is returned with errno as the call left it. For calls that report failure as -1
// and set errno (read, write, poll, waitid, ftruncate, ...). Thread-safe.
#pragma once

#include <errno.h>

#include <utility>

namespace mx::internal {

template <typename Call>
auto RetryOnEintr(Call&& call) -> decltype(call()) {
  for (;;) {
    auto result = call();
    if (!(result == -1 && errno == EINTR)) return result;
  }
}

}  // namespace mx::internal
