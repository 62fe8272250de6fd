// SPDX-License-Identifier: BSD-3-Clause
#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace mx::internal {

void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "libmx: %s:%d: check failed: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mx::internal
