// SPDX-License-Identifier: BSD-3-Clause
#include "os/random.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace mx::internal {

uint32_t WeakRandomU32() {
  uint32_t r = 0;
  if (::getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    r = static_cast<uint32_t>(ts.tv_nsec) ^ static_cast<uint32_t>(::getpid() << 16);
  }
  return r;
}

}  // namespace mx::internal
