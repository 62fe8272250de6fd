// SPDX-License-Identifier: BSD-3-Clause
// Epoll sets: many fds watched through one, each with a 64-bit cookie reported when it is ready.
//
// Thread-safe (the kernel serializes changes to a set); the caller keeps its own record of
// which fds it added.
#pragma once

#include <magenta/types.h>

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

// The cookies of up to |max| fds that are ready now, never waiting. Returns how many.
size_t EpollCollect(int epoll, uint64_t* cookies, size_t max);

}  // namespace mx::internal
