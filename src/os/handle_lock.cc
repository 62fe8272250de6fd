#include "os/handle_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

namespace mx::internal {
namespace {

struct flock ByteZero(short type) {
  struct flock lk = {};
  lk.l_type = type;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 1;
  return lk;
}

}  // namespace

UniqueFd ReopenDescription(int fd) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  return UniqueFd(::open(path, O_RDWR | O_CLOEXEC));
}

mx_status_t OpenLockedDescription(int fd, UniqueFd* out) {
  UniqueFd token = ReopenDescription(fd);
  struct flock lk = ByteZero(F_RDLCK);
  if (!token || ::fcntl(token.get(), F_OFD_SETLK, &lk) != 0) {
    return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
  }
  *out = std::move(token);
  return MX_OK;
}

bool IsSoleLockHolder(int fd) {
  struct flock lk = ByteZero(F_WRLCK);
  if (::fcntl(fd, F_OFD_GETLK, &lk) != 0) return false;
  return lk.l_type == F_UNLCK;
}

}  // namespace mx::internal
