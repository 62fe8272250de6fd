#include "os/vmo_memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mx::internal {
namespace {

// Owner read-write, everyone else read: a holder of another uid can derive a read-only
// description (to pass a VMO on without WRITE) but never a writable one. 0600 would stop that
// holder from reducing rights at all; 0777 (memfd_create's default) lets it reopen for writing.
constexpr mode_t kVmoMode = 0644;

constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;

mx_status_t CreateError(int err) {
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

}  // namespace

mx_status_t CreateVmoMemfd(uint64_t size, bool fixed_size, UniqueFd* out) {
  UniqueFd memfd(::memfd_create("mx-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return CreateError(errno);
  if (::fchmod(memfd.get(), kVmoMode) != 0) return CreateError(errno);
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) return CreateError(errno);
  if (fixed_size && ::fcntl(memfd.get(), F_ADD_SEALS, kSizeSeals | F_SEAL_SEAL) != 0) {
    return CreateError(errno);
  }
  *out = std::move(memfd);
  return MX_OK;
}

mx_status_t ReopenReadOnly(int fd, UniqueFd* out) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  UniqueFd ro(::open(path, O_RDONLY | O_CLOEXEC));
  if (!ro) {
    switch (errno) {
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
  *out = std::move(ro);
  return MX_OK;
}

bool IsSizeSealed(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & kSizeSeals) == kSizeSeals;
}

}  // namespace mx::internal
