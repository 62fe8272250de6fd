// SPDX-License-Identifier: BSD-3-Clause
// Eventfds: an in-process wake-up counter a thread can block on (directly, or in an epoll set).
//
// Only ever used inside one process: libmx never sends an eventfd, so no other holder can change
// its flags (os/doorbell.h is the wake-up that crosses processes). Thread-safe.
#pragma once

#include <magenta/types.h>

#include "os/unique_fd.h"

namespace mx::internal {

// A new non-blocking, close-on-exec eventfd with count 0. NO_MEMORY / NO_RESOURCES.
mx_status_t CreateEventFd(UniqueFd* out);

// Adds one to the count, making the fd readable.
void SignalEventFd(int fd);

// Resets the count to 0 (the fd stops being readable). Never blocks.
void DrainEventFd(int fd);

}  // namespace mx::internal
