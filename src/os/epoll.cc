// SPDX-License-Identifier: BSD-3-Clause
#include "os/epoll.h"

#include <errno.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <climits>

#include "os/clock.h"
#include "os/status.h"

namespace mx::internal {

namespace {

// Set after the first ENOSYS from epoll_pwait2 (see EpollWaitUntil).
std::atomic<bool> g_no_epoll_pwait2{false};

}  // namespace

mx_status_t CreateEpoll(UniqueFd* out) {
  UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd) return AllocationStatus(errno);
  *out = std::move(fd);
  return MX_OK;
}

bool EpollAdd(int epoll, int fd, uint32_t events, uint64_t cookie) {
  struct epoll_event e = {};
  e.events = events;
  e.data.u64 = cookie;
  return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e) == 0 || errno == EEXIST;
}

bool EpollModify(int epoll, int fd, uint32_t events, uint64_t cookie) {
  struct epoll_event e = {};
  e.events = events;
  e.data.u64 = cookie;
  return ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &e) == 0;
}

void EpollRemove(int epoll, int fd) { ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr); }

size_t EpollCollect(int epoll, EpollReady* ready, size_t max) {
  constexpr size_t kBatch = 64;
  struct epoll_event events[kBatch];
  const int n = ::epoll_wait(epoll, events, static_cast<int>(max < kBatch ? max : kBatch), 0);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) ready[i] = {events[i].data.u64, events[i].events};
  return static_cast<size_t>(n);
}

void EpollWaitUntil(int epoll, mx_time_t deadline) {
  struct timespec ts;
  const struct timespec* timeout = KernelTimeout(deadline, &ts);
  constexpr int kBatch = 16;
  struct epoll_event out[kBatch];
  if (!g_no_epoll_pwait2.load(std::memory_order_relaxed)) {
    if (::epoll_pwait2(epoll, out, kBatch, timeout, nullptr) >= 0 || errno != ENOSYS) return;
    g_no_epoll_pwait2.store(true, std::memory_order_relaxed);
  }
  int ms = -1;
  if (timeout != nullptr) {
    const uint64_t ns = static_cast<uint64_t>(timeout->tv_sec) * 1000000000u +
                        static_cast<uint64_t>(timeout->tv_nsec);
    ms = static_cast<int>(std::min<uint64_t>((ns + 999999u) / 1000000u, INT_MAX));
  }
  ::epoll_wait(epoll, out, kBatch, ms);
}

void DisableEpollPwait2ForTesting() { g_no_epoll_pwait2.store(true, std::memory_order_relaxed); }

}  // namespace mx::internal
