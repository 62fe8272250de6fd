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
    case ESRCH:
      return MX_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
      return MX_ERR_ACCESS_DENIED;
    case EBADF:
      return MX_ERR_BAD_HANDLE;
    case EINVAL:
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

}  // namespace mx::internal
