// SPDX-License-Identifier: BSD-3-Clause
// Epoll sets: many fds watched through one, each with a 64-bit cookie reported when it is ready.
//
// Thread-safe (the kernel serializes changes to a set); the caller keeps its own record of
// which fds it added. The event bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET) are epoll's own,
// so this header brings them along.
#pragma once

#include <magenta/types.h>
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>

#include "os/unique_fd.h"

namespace mx::internal {

// A new close-on-exec epoll set. NO_MEMORY / NO_RESOURCES.
mx_status_t CreateEpoll(UniqueFd* out);

// Watches |fd| for |events| (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET...), reporting |cookie|.
// True if it is watched now (an fd already in the set counts, with its old events and cookie).
bool EpollAdd(int epoll, int fd, uint32_t events, uint64_t cookie);

// Changes the events |fd| (already in the set) is watched for, and its cookie. False if |fd| is
// not in the set.
bool EpollModify(int epoll, int fd, uint32_t events, uint64_t cookie);

// Stops watching |fd|. Best effort: an fd that was closed has left the set already.
void EpollRemove(int epoll, int fd);

// What EpollCollect reports for one ready fd.
struct EpollReady {
  uint64_t cookie;
  uint32_t events;  // EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR...
};

// Up to |max| fds that are ready now, never waiting. Returns how many.
size_t EpollCollect(int epoll, EpollReady* ready, size_t max);

// Blocks until some fd in the set is ready, |deadline| (MX_TIME_INFINITE: none) has passed, or a
// signal arrives; what is ready is not reported, the caller looks again either way. Never
// returns before |deadline| unless something is ready or a signal came.
//
// The timeout is a timespec (epoll_pwait2, Linux 5.11). Older kernels, seccomp profiles that
// predate it and valgrind 3.19 answer ENOSYS; unnoticed, a caller that loops until its deadline
// would spin instead of blocking. After the first ENOSYS every wait uses epoll_wait with the
// timeout rounded up to whole milliseconds.
void EpollWaitUntil(int epoll, mx_time_t deadline);

// Makes EpollWaitUntil behave as on a kernel without epoll_pwait2. For tests; there is no way
// back.
void DisableEpollPwait2ForTesting();

}  // namespace mx::internal
