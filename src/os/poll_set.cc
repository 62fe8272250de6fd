// SPDX-License-Identifier: BSD-3-Clause
#include "os/poll_set.h"

#include <sys/epoll.h>
#include <time.h>

#include "os/clock.h"

namespace mx::internal {

void PollSet::Add(int fd, uint32_t epoll_events) {
  short events = 0;
  if (epoll_events & EPOLLIN) events |= POLLIN;
  if (epoll_events & EPOLLOUT) events |= POLLOUT;
  if (epoll_events & EPOLLRDHUP) events |= POLLRDHUP;
  fds_.push_back({fd, events, 0});
}

void PollSet::Wait(mx_time_t deadline) {
  struct timespec ts;
  const struct timespec* timeout = KernelTimeout(deadline, &ts);
  ::ppoll(fds_.data(), fds_.size(), timeout, nullptr);
}

}  // namespace mx::internal
