#include "object/vmo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <limits>

#include "os/koid.h"

namespace mx::internal {
namespace {

// Largest size a VMO may have: what off_t can express (Magenta: VmObjectPaged::MAX_SIZE).
constexpr uint64_t kMaxVmoSize = static_cast<uint64_t>(std::numeric_limits<off_t>::max());

mx_status_t ResourceError() {
  return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
}

mx_status_t IoError(int err) {
  switch (err) {
    case ENOMEM:
    case ENOSPC:
      return MX_ERR_NO_MEMORY;
    case EPERM:
    case EACCES:
    case EBADF:
      return MX_ERR_ACCESS_DENIED;  // a sealed or read-only file from a peer
    case EFBIG:
    case EINVAL:
      return MX_ERR_OUT_OF_RANGE;
    default:
      return MX_ERR_IO;
  }
}

// Clamps [offset, offset + len) to |size| the way Magenta's TrimRange did.
bool TrimRange(uint64_t offset, size_t len, uint64_t size, size_t* trimmed) {
  uint64_t end;
  if (__builtin_add_overflow(offset, static_cast<uint64_t>(len), &end)) return false;
  if (offset > size) return false;
  *trimmed = end > size ? static_cast<size_t>(size - offset) : len;
  return true;
}

}  // namespace

mx_status_t Vmo::Create(uint64_t size, std::shared_ptr<Vmo>* out) {
  if (size > kMaxVmoSize) return MX_ERR_INVALID_ARGS;
  UniqueFd memfd(::memfd_create("mx-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return ResourceError();
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) return IoError(errno);
  *out = std::make_shared<Vmo>(AllocateKoid(), std::move(memfd));
  return MX_OK;
}

mx_status_t Vmo::FromRaw(RawHandle raw, std::shared_ptr<Vmo>* out) {
  if (raw.type != MX_OBJ_TYPE_VMO || raw.fds.size() != 1 || !raw.extra.empty()) {
    return MX_ERR_IO;
  }
  int fd = raw.fds[0].get();
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return MX_ERR_IO;
  // Only shmem files answer F_GET_SEALS: this rejects files on disk, /proc files and the like.
  if (::fcntl(fd, F_GET_SEALS) < 0) return MX_ERR_IO;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) != O_RDWR) return MX_ERR_IO;
  *out = std::make_shared<Vmo>(raw.koid, std::move(raw.fds[0]));
  return MX_OK;
}

mx_status_t Vmo::PrepareTransfer(const Handle& handle, RawHandle* out) {
  UniqueFd dup(::fcntl(memfd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) return ResourceError();
  out->type = MX_OBJ_TYPE_VMO;
  out->rights = handle.rights();
  out->koid = koid();
  out->fds.push_back(std::move(dup));
  return MX_OK;
}

mx_status_t Vmo::Read(void* data, uint64_t offset, size_t len, size_t* actual) {
  uint64_t size;
  mx_status_t st = GetSize(&size);
  if (st != MX_OK) return st;
  size_t n;
  if (!TrimRange(offset, len, size, &n)) return MX_ERR_OUT_OF_RANGE;
  size_t done = 0;
  auto* p = static_cast<uint8_t*>(data);
  while (done < n) {
    ssize_t r = ::pread(memfd_.get(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(errno);
    if (r == 0) {
      // Shrunk by another holder since we looked: what is gone reads as nothing.
      break;
    }
    done += static_cast<size_t>(r);
  }
  *actual = done;
  return MX_OK;
}

mx_status_t Vmo::Write(const void* data, uint64_t offset, size_t len, size_t* actual) {
  uint64_t size;
  mx_status_t st = GetSize(&size);
  if (st != MX_OK) return st;
  size_t n;
  if (!TrimRange(offset, len, size, &n)) return MX_ERR_OUT_OF_RANGE;
  size_t done = 0;
  const auto* p = static_cast<const uint8_t*>(data);
  while (done < n) {
    ssize_t r = ::pwrite(memfd_.get(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(errno);
    done += static_cast<size_t>(r);
  }
  *actual = done;
  return MX_OK;
}

mx_status_t Vmo::GetSize(uint64_t* size) {
  struct stat st;
  if (::fstat(memfd_.get(), &st) != 0) return MX_ERR_IO;
  *size = static_cast<uint64_t>(st.st_size);
  return MX_OK;
}

mx_status_t Vmo::SetSize(uint64_t size) {
  if (size > kMaxVmoSize) return MX_ERR_OUT_OF_RANGE;
  int r;
  do {
    r = ::ftruncate(memfd_.get(), static_cast<off_t>(size));
  } while (r != 0 && errno == EINTR);
  return r == 0 ? MX_OK : IoError(errno);
}

}  // namespace mx::internal
