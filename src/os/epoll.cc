// SPDX-License-Identifier: BSD-3-Clause
#include "os/epoll.h"

#include <errno.h>
#include <sys/epoll.h>

#include "os/status.h"

namespace mx::internal {

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

size_t EpollCollect(int epoll, uint64_t* cookies, size_t max) {
  constexpr size_t kBatch = 64;
  struct epoll_event events[kBatch];
  const int n = ::epoll_wait(epoll, events, static_cast<int>(max < kBatch ? max : kBatch), 0);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) cookies[i] = events[i].data.u64;
  return static_cast<size_t>(n);
}

}  // namespace mx::internal
