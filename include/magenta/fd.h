// SPDX-License-Identifier: BSD-3-Clause
// <magenta/fd.h>: Linux file descriptors as handles (libmx extension).
//
// Any fd (file, socket, pipe, memfd, ...) can be wrapped into a handle and then travels through
// channels like any other handle. The fd's open file description is shared, as with dup().
#pragma once

#include <magenta/types.h>

__BEGIN_CDECLS

// A libmx object type, outside Magenta's range.
#define MX_OBJ_TYPE_FD ((uint32_t)0x10000u)
#define MX_DEFAULT_FD_RIGHTS \
  (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE)

// Takes ownership of |fd| (it is made close-on-exec) and returns a handle for it.
// MX_ERR_INVALID_ARGS if |out| is NULL; MX_ERR_BAD_HANDLE if |fd| is not an open descriptor
// (it is then left alone). On every other failure the fd is closed.
__MX_EXPORT mx_status_t mx_fd_wrap(int fd, mx_handle_t* out);

// Consumes |handle| (any rights) and returns its fd, close-on-exec. If other handles still share
// the object (duplicates), the returned fd is a dup() of it. BAD_HANDLE / WRONG_TYPE / INVALID_ARGS
// (fd NULL) leave the handle in place.
__MX_EXPORT mx_status_t mx_fd_unwrap(mx_handle_t handle, int* fd);

// The fd behind a port (an epoll fd), for external event loops (epoll, poll, libuv, Asio...):
// it becomes readable when a packet may be available; then call mx_port_wait with deadline 0
// until it returns MX_ERR_TIMED_OUT. The fd stays owned by the port: do not close it or read
// from it; it is valid while the port has a handle. Needs MX_RIGHT_READ.
__MX_EXPORT mx_status_t mx_port_get_fd(mx_handle_t port, int* fd);

__END_CDECLS
