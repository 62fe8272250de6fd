// SPDX-License-Identifier: BSD-3-Clause
// Plain operations on descriptors: duplicating, close-on-exec, asking whether one is ready.
//
// Thread-safe (single system calls on fds the caller keeps open).
#pragma once

#include <magenta/types.h>

#include "os/unique_fd.h"

namespace mx::internal {

// A close-on-exec duplicate of |fd| (sharing its open file description), invalid on failure.
UniqueFd DupFd(int fd);
// As above, with the failure as a status: NO_MEMORY or NO_RESOURCES.
mx_status_t DupFd(int fd, UniqueFd* out);

// Sets close-on-exec on |fd| (the only descriptor flag there is). False if |fd| is not open.
bool SetCloseOnExec(int fd);

// Sets O_NONBLOCK on |fd|'s open file description. False if it cannot be set.
bool SetNonBlocking(int fd);

// The events of |events| (POLLIN, POLLOUT, POLLRDHUP...) |fd| reports now, never waiting; 0 if
// none or if it cannot be asked. POLLHUP and POLLERR are reported whether asked for or not.
short ReadyEvents(int fd, short events);

// Blocks until |fd| is readable, |deadline| (MX_TIME_INFINITE: none) has passed, or a signal
// arrives: the caller looks again either way.
void WaitReadable(int fd, mx_time_t deadline);

}  // namespace mx::internal
