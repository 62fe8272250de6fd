// SPDX-License-Identifier: BSD-3-Clause
#include "os/system_info.h"

#include <errno.h>
#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>

#include "os/clock.h"

namespace mx::internal {

namespace {

// Large enough for any machine Linux runs on (CONFIG_NR_CPUS is at most 8192).
constexpr int kMaxCpus = 8192;

uint32_t CountUsableCpus() {
  cpu_set_t* set = CPU_ALLOC(kMaxCpus);
  if (set != nullptr) {
    const size_t bytes = CPU_ALLOC_SIZE(kMaxCpus);
    CPU_ZERO_S(bytes, set);
    int count = ::sched_getaffinity(0, bytes, set) == 0 ? CPU_COUNT_S(bytes, set) : 0;
    CPU_FREE(set);
    if (count > 0) return static_cast<uint32_t>(count);
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<uint32_t>(online) : 1u;
}

}  // namespace

uint64_t TicksNow() { return MonotonicNow(); }

uint32_t UsableCpuCount() {
  static std::atomic<uint32_t> cached{0};
  uint32_t n = cached.load(std::memory_order_relaxed);
  if (n == 0) {
    n = CountUsableCpus();
    cached.store(n, std::memory_order_relaxed);
  }
  return n;
}

mx_status_t DrawRandom(void* buffer, size_t len) {
  // Up to 256 bytes, getrandom() from an initialized pool fills the whole buffer and is not
  // interrupted by signals; the loop covers the pool not being ready yet (it then waits for it).
  auto* out = static_cast<unsigned char*>(buffer);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::getrandom(out + done, len - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      return errno == EFAULT ? MX_ERR_INVALID_ARGS : MX_ERR_INTERNAL;
    }
  }
  return MX_OK;
}

}  // namespace mx::internal
