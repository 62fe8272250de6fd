// SPDX-License-Identifier: BSD-3-Clause
#include "os/eventfd.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {

mx_status_t CreateEventFd(UniqueFd* out) {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return AllocationStatus(errno);
  *out = std::move(fd);
  return MX_OK;
}

void SignalEventFd(int fd) {
  const uint64_t one = 1;
  RetryOnEintr([&] { return ::write(fd, &one, sizeof(one)); });
}

void DrainEventFd(int fd) {
  uint64_t count;
  RetryOnEintr([&] { return ::read(fd, &count, sizeof(count)); });
}

}  // namespace mx::internal
