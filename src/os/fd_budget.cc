// SPDX-License-Identifier: BSD-3-Clause
#include "os/fd_budget.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "os/clock.h"

namespace mx::internal {
namespace {

size_t ReadSoftLimit() {
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return static_cast<size_t>(lim.rlim_cur);
}

constexpr mx_time_t kFdCountReuse = 20'000'000;  // 20 ms

// The last count: when, the soft limit then, and the slots left free, less every fd counted
// against it since (fds closed since are not added back).
std::atomic<mx_time_t> g_counted_at{0};
std::atomic<int64_t> g_limit{0};
std::atomic<int64_t> g_free_estimate{0};
// When g_limit was last read from the kernel.
std::atomic<mx_time_t> g_limit_read_at{0};

// Reads the soft limit from the kernel and keeps it. SIZE_MAX if it cannot be told (or unlimited).
size_t ReadAndKeepSoftLimit(mx_time_t now) {
  const size_t limit = ReadSoftLimit();
  if (limit != SIZE_MAX) {
    g_limit.store(static_cast<int64_t>(limit), std::memory_order_relaxed);
    g_limit_read_at.store(now, std::memory_order_relaxed);
  }
  return limit;
}

// Counts the open fds afresh and remembers the count. The soft limit read at most 20 ms ago is
// reused (processes change it rarely) unless |enough| refuses the answer: then it is read again,
// so a raised limit counts at once and only a limit this process lowers goes unseen for up to
// 20 ms. SIZE_MAX if it cannot be told.
template <typename Enough>
size_t CountFreeSlots(Enough enough) {
  const mx_time_t now = MonotonicNow();
  const size_t open = OpenFdCount();
  if (open == SIZE_MAX) return SIZE_MAX;
  const auto free_below = [open](size_t limit) {
    return limit == SIZE_MAX ? SIZE_MAX : open >= limit ? 0 : limit - open;
  };
  size_t limit = 0;
  if (now - g_limit_read_at.load(std::memory_order_relaxed) < kFdCountReuse) {
    limit = static_cast<size_t>(g_limit.load(std::memory_order_relaxed));
  }
  if (limit == 0 || !enough(free_below(limit))) limit = ReadAndKeepSoftLimit(now);
  const size_t free_slots = free_below(limit);
  if (free_slots == SIZE_MAX) return SIZE_MAX;
  g_free_estimate.store(static_cast<int64_t>(free_slots), std::memory_order_relaxed);
  g_counted_at.store(now, std::memory_order_relaxed);
  return free_slots;
}

}  // namespace

// Since Linux 6.2 stat() of /proc/self/fd reports the count as its
// size (one system call, no fd needed); older kernels report 0 and the directory is listed.
// SIZE_MAX if neither works.
size_t OpenFdCount() {
  struct stat st;
  if (::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) return static_cast<size_t>(st.st_size);
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return SIZE_MAX;
  size_t n = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // the listing's own fd
}

bool HaveFdHeadroom(size_t count) {
  const auto enough = [count](size_t free_slots) {
    return free_slots == SIZE_MAX || free_slots >= count + kFdReserve;
  };
  return enough(CountFreeSlots(enough));
}

size_t InstallableFds(size_t cap) {
  if (MonotonicNow() - g_counted_at.load(std::memory_order_relaxed) < kFdCountReuse &&
      g_free_estimate.load(std::memory_order_relaxed) >=
          static_cast<int64_t>(cap + kFdReserve + kFdCountMargin)) {
    return cap;
  }
  const auto installable = [cap](size_t free_slots) {
    if (free_slots == SIZE_MAX) return cap;
    return free_slots > kFdReserve ? std::min(cap, free_slots - kFdReserve) : 0;
  };
  return installable(
      CountFreeSlots([&](size_t free_slots) { return installable(free_slots) == cap; }));
}

bool RecentlyPlentiful(size_t count) {
  return MonotonicNow() - g_counted_at.load(std::memory_order_relaxed) < kFdCountReuse &&
         g_free_estimate.load(std::memory_order_relaxed) >=
             static_cast<int64_t>(count + kFdReserve + kFdCountMargin);
}

bool PlentifulRecounting(size_t count) {
  if (MonotonicNow() - g_counted_at.load(std::memory_order_relaxed) >= kFdCountReuse) {
    CountFreeSlots([](size_t) { return true; });
  }
  return RecentlyPlentiful(count);
}

void CountInstalled(size_t installed) {
  g_free_estimate.fetch_sub(static_cast<int64_t>(installed), std::memory_order_relaxed);
}

bool KeepsFdHeadroom(size_t installed, int highest, size_t more) {
  const int64_t need = static_cast<int64_t>(more + kFdReserve + kFdCountMargin);
  if (MonotonicNow() - g_counted_at.load(std::memory_order_relaxed) < kFdCountReuse &&
      highest + need < g_limit.load(std::memory_order_relaxed) &&
      g_free_estimate.fetch_sub(static_cast<int64_t>(installed), std::memory_order_relaxed) -
              static_cast<int64_t>(installed) >=
          need) {
    return true;
  }
  return HaveFdHeadroom(more);
}

}  // namespace mx::internal
