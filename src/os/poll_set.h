// SPDX-License-Identifier: BSD-3-Clause
// PollSet: a few fds waited on at once with ppoll(2), level-triggered, for a waiter that blocks
// once and looks again itself afterwards (object/wait.h). Interest is given in epoll's event
// bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP: what WaitSource carries) and translated to poll's.
//
// Not thread-safe: one waiting thread owns a PollSet.
#pragma once

#include <magenta/types.h>
#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mx::internal {

class PollSet {
 public:
  // Room for |count| fds without reallocating.
  void Reserve(size_t count) { fds_.reserve(count); }
  // Watches |fd| for |epoll_events|; bits other than EPOLLIN, EPOLLOUT and EPOLLRDHUP are
  // ignored (POLLHUP and POLLERR are always reported).
  void Add(int fd, uint32_t epoll_events);
  // Blocks until some fd reports an event it is watched for, |deadline| (MX_TIME_INFINITE: none)
  // has passed, or a signal arrives.
  void Wait(mx_time_t deadline);
  // After Wait: true if the |index|th fd added reported an event.
  bool Ready(size_t index) const { return fds_[index].revents != 0; }

 private:
  std::vector<struct pollfd> fds_;
};

}  // namespace mx::internal
