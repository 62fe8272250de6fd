// SPDX-License-Identifier: BSD-3-Clause
// errno → mx_status_t: the only place where Linux error numbers become statuses.
//
// StatusFromErrno is the table. The other functions name the few kinds of call whose errors
// mean something narrower than the table says, and say how they differ from it.
#pragma once

#include <magenta/types.h>

namespace mx::internal {

// Maps an errno value from a failed system call to the status libmx reports for it.
mx_status_t StatusFromErrno(int err);

// For a call that only allocates (a descriptor, a mapping, kernel memory) on objects libmx owns:
// whatever the reason, the caller could not have it. NO_MEMORY for ENOMEM, else NO_RESOURCES.
mx_status_t AllocationStatus(int err);

// For a call on a descriptor another process sent (mapping it, for instance): NO_MEMORY for
// ENOMEM (the caller may try again later), else IO (the descriptor is not what it claims).
mx_status_t ReceivedFdStatus(int err);

// For peeking at a datagram socket a process was handed (os/datagram_peek.h): SHOULD_WAIT for
// EAGAIN, IO if the fd is no socket (ENOTSOCK, EBADF), PEER_CLOSED for anything else.
mx_status_t PeekStatus(int err);

// For creating a process (posix_spawn): the table for the errors a caller can act on (a missing
// or refused binary, bad arguments, no memory or fds), except that EAGAIN is the limit on
// processes (NO_RESOURCES), not a call that would block; INTERNAL for anything else.
mx_status_t SpawnStatus(int err);

// For creating or using a socket whose only failures are running out (socket, socketpair,
// listen): NO_MEMORY for ENOMEM and ENOBUFS (socket buffers are memory), else NO_RESOURCES.
mx_status_t SocketAllocationStatus(int err);

// For binding or connecting a socket to a name (os/unix_listener.h): ACCESS_DENIED (EACCES,
// EPERM, EROFS), NOT_FOUND (no such name, nobody listening, or not a libmx listener),
// ALREADY_EXISTS (EADDRINUSE, EEXIST), SHOULD_WAIT (EAGAIN: the listener's backlog is full),
// INVALID_ARGS (a name the kernel refuses), SocketAllocationStatus for running out, INTERNAL for
// anything else.
mx_status_t SocketNameStatus(int err);

// For sending a signal to a process: MX_OK for ESRCH (it is already gone), ACCESS_DENIED for
// EPERM, INTERNAL for anything else.
mx_status_t KillStatus(int err);

// For creating a VMO's memfd (memfd_create, fchmod, ftruncate, F_ADD_SEALS): NO_MEMORY when memory
// ran out (ENOMEM, ENOSPC), OUT_OF_RANGE for a size the file cannot have (EFBIG, EINVAL),
// NO_RESOURCES for anything else.
mx_status_t MemfdCreateStatus(int err);

// For reading, writing or resizing a VMO's memfd: as MemfdCreateStatus, but ACCESS_DENIED for a
// file sealed or opened read-only by its sender (EPERM, EACCES, EBADF) and IO for anything else.
mx_status_t MemfdIoStatus(int err);

// For opening a new description through /proc/self/fd: NO_MEMORY, NO_RESOURCES (fd table
// full), NOT_SUPPORTED (ENOENT: /proc is not mounted), ACCESS_DENIED for anything else.
mx_status_t ReopenStatus(int err);

// For mapping and unmapping a VMO at the caller's request (mx_vmar_map / unmap).
mx_status_t MmapStatus(int err);

}  // namespace mx::internal
