// SPDX-License-Identifier: BSD-3-Clause
#include "os/status.h"

#include <errno.h>

namespace mx::internal {

mx_status_t StatusFromErrno(int err) {
  switch (err) {
    case 0:
      return MX_OK;
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case EMFILE:
    case ENFILE:
    case ETOOMANYREFS:
    case ENOBUFS:
      return MX_ERR_NO_RESOURCES;
    case ENOMEM:
      return MX_ERR_NO_MEMORY;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
      return MX_ERR_PEER_CLOSED;
    case ENOENT:
    case ENOTDIR:
    case ESRCH:
      return MX_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
      return MX_ERR_ACCESS_DENIED;
    case EBADF:
      return MX_ERR_BAD_HANDLE;
    case EINVAL:
    case ENOEXEC:
    case E2BIG:
      return MX_ERR_INVALID_ARGS;
    case ETIMEDOUT:
      return MX_ERR_TIMED_OUT;
    case ENOSYS:
    case EOPNOTSUPP:
      return MX_ERR_NOT_SUPPORTED;
    case EIO:
      return MX_ERR_IO;
    default:
      return MX_ERR_INTERNAL;
  }
}

mx_status_t AllocationStatus(int err) {
  return err == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
}

mx_status_t ReceivedFdStatus(int err) { return err == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_IO; }

mx_status_t PeekStatus(int err) {
  switch (err) {
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case ENOTSOCK:
    case EBADF:
      return MX_ERR_IO;
    default:
      return MX_ERR_PEER_CLOSED;
  }
}

mx_status_t SpawnStatus(int err) {
  switch (err) {
    case EAGAIN:
      return MX_ERR_NO_RESOURCES;
    case ENOENT:
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOEXEC:
    case E2BIG:
    case EINVAL:
      return StatusFromErrno(err);
    default:
      // Nothing the caller can act on (EIO reading the binary, a failed file action, ...).
      return MX_ERR_INTERNAL;
  }
}

mx_status_t SocketAllocationStatus(int err) {
  return err == ENOBUFS ? MX_ERR_NO_MEMORY : AllocationStatus(err);
}

mx_status_t SocketNameStatus(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return MX_ERR_ACCESS_DENIED;
    case ENOENT:
    case ENOTDIR:
    case ECONNREFUSED:  // a socket file nobody listens on, or not a socket at all
    case EPROTOTYPE:    // a socket of another type (not a libmx listener)
      return MX_ERR_NOT_FOUND;
    case EADDRINUSE:
    case EEXIST:
      return MX_ERR_ALREADY_EXISTS;
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case ENAMETOOLONG:
    case EINVAL:
    case ELOOP:
      return MX_ERR_INVALID_ARGS;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
      return SocketAllocationStatus(err);
    default:
      return MX_ERR_INTERNAL;
  }
}

mx_status_t KillStatus(int err) {
  switch (err) {
    case ESRCH:
      return MX_OK;
    case EPERM:
      return MX_ERR_ACCESS_DENIED;
    default:
      return MX_ERR_INTERNAL;
  }
}

mx_status_t MemfdCreateStatus(int err) {
  switch (err) {
    case ENOMEM:
    case ENOSPC:
      return MX_ERR_NO_MEMORY;
    case EFBIG:
    case EINVAL:
      return MX_ERR_OUT_OF_RANGE;
    default:
      return MX_ERR_NO_RESOURCES;
  }
}

mx_status_t MemfdIoStatus(int err) {
  switch (err) {
    case ENOMEM:
    case ENOSPC:
    case EFBIG:
    case EINVAL:
      return MemfdCreateStatus(err);
    case EPERM:
    case EACCES:
    case EBADF:
      return MX_ERR_ACCESS_DENIED;
    default:
      return MX_ERR_IO;
  }
}

mx_status_t ReopenStatus(int err) {
  switch (err) {
    case ENOMEM:
      return MX_ERR_NO_MEMORY;
    case EMFILE:
    case ENFILE:
      return MX_ERR_NO_RESOURCES;
    case ENOENT:
      return MX_ERR_NOT_SUPPORTED;
    default:
      return MX_ERR_ACCESS_DENIED;
  }
}

mx_status_t MmapStatus(int err) {
  switch (err) {
    case EEXIST:  // MAP_FIXED_NOREPLACE: the range is taken
    case ENOMEM:
      return MX_ERR_NO_MEMORY;
    case EOVERFLOW:
      return MX_ERR_INVALID_ARGS;
    case EACCES:
    case EPERM:
    case EINVAL:
    case EMFILE:
    case ENFILE:
      return StatusFromErrno(err);
    default:
      return MX_ERR_INTERNAL;
  }
}

}  // namespace mx::internal
