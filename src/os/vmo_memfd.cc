// SPDX-License-Identifier: BSD-3-Clause
#include "os/vmo_memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {
namespace {

// Owner read-write, everyone else read: a holder of another uid can derive a read-only
// description (to pass a VMO on without WRITE) but never a writable one. 0600 would stop that
// holder from reducing rights at all; 0777 (memfd_create's default) lets it reopen for writing.
constexpr mode_t kVmoMode = 0644;

constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;

}  // namespace

mx_status_t CreateVmoMemfd(uint64_t size, bool fixed_size, UniqueFd* out) {
  UniqueFd memfd(::memfd_create("mx-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return MemfdCreateStatus(errno);
  if (::fchmod(memfd.get(), kVmoMode) != 0) return MemfdCreateStatus(errno);
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) return MemfdCreateStatus(errno);
  if (fixed_size && ::fcntl(memfd.get(), F_ADD_SEALS, kSizeSeals | F_SEAL_SEAL) != 0) {
    return MemfdCreateStatus(errno);
  }
  *out = std::move(memfd);
  return MX_OK;
}

mx_status_t ReopenReadOnly(int fd, UniqueFd* out) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  UniqueFd ro(::open(path, O_RDONLY | O_CLOEXEC));
  if (!ro) return ReopenStatus(errno);
  *out = std::move(ro);
  return MX_OK;
}

bool IsSizeSealed(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & kSizeSeals) == kSizeSeals;
}

mx_status_t ReadMemfd(int fd, void* data, uint64_t offset, size_t len, size_t* done) {
  auto* p = static_cast<uint8_t*>(data);
  *done = 0;
  while (*done < len) {
    const ssize_t r = RetryOnEintr(
        [&] { return ::pread(fd, p + *done, len - *done, static_cast<off_t>(offset + *done)); });
    if (r < 0) return MemfdIoStatus(errno);
    if (r == 0) break;  // shrunk by another holder since the caller looked
    *done += static_cast<size_t>(r);
  }
  return MX_OK;
}

mx_status_t WriteMemfd(int fd, const void* data, uint64_t offset, size_t len, size_t* done) {
  const auto* p = static_cast<const uint8_t*>(data);
  *done = 0;
  while (*done < len) {
    const ssize_t r = RetryOnEintr(
        [&] { return ::pwrite(fd, p + *done, len - *done, static_cast<off_t>(offset + *done)); });
    if (r < 0) return MemfdIoStatus(errno);
    *done += static_cast<size_t>(r);
  }
  return MX_OK;
}

mx_status_t MemfdSize(int fd, uint64_t* size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return MX_ERR_IO;
  *size = static_cast<uint64_t>(st.st_size);
  return MX_OK;
}

mx_status_t ResizeMemfd(int fd, uint64_t size) {
  if (RetryOnEintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) == 0) return MX_OK;
  // Only seals make ftruncate of a shmem file EPERM: one of them was added.
  return errno == EPERM ? MX_ERR_UNAVAILABLE : MemfdIoStatus(errno);
}

}  // namespace mx::internal
