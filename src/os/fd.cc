// SPDX-License-Identifier: BSD-3-Clause
#include "os/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "os/clock.h"
#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {

UniqueFd DupFd(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

mx_status_t DupFd(int fd, UniqueFd* out) {
  UniqueFd dup = DupFd(fd);
  if (!dup) return AllocationStatus(errno);
  *out = std::move(dup);
  return MX_OK;
}

bool SetCloseOnExec(int fd) {
  // FD_CLOEXEC is the only fd flag Linux defines: set outright, without reading the flags first
  // (one system call per mx_fd_wrap, not two). An invalid fd fails with EBADF as before.
  return ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

bool SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

short ReadyEvents(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  const int r = RetryOnEintr([&] { return ::poll(&p, 1, 0); });
  return r > 0 ? p.revents : 0;
}

void WaitReadable(int fd, mx_time_t deadline) {
  struct pollfd p = {fd, POLLIN, 0};
  struct timespec ts;
  const struct timespec* timeout = KernelTimeout(deadline, &ts);
  ::ppoll(&p, 1, timeout, nullptr);
}

}  // namespace mx::internal
