// SPDX-License-Identifier: BSD-3-Clause
#include "os/memfd.h"

#include <errno.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {

mx_status_t CreateSealedMemfd(const char* name, uint64_t bytes, UniqueFd* out) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return StatusFromErrno(errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return StatusFromErrno(errno);
  if (::fcntl(fd.get(), F_ADD_SEALS, kSizeSeals) != 0) return MX_ERR_INTERNAL;
  *out = std::move(fd);
  return MX_OK;
}

mx_status_t CreateFrozenMemfd(const char* name, const void* data, size_t size, UniqueFd* out) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return AllocationStatus(errno);
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = RetryOnEintr([&] { return ::write(fd.get(), bytes + done, size - done); });
    // A memfd refuses a write only when the memory for its pages cannot be had.
    if (n <= 0) return MX_ERR_NO_MEMORY;
    done += static_cast<size_t>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, kFrozenSeals) != 0) return MX_ERR_NO_RESOURCES;
  *out = std::move(fd);
  return MX_OK;
}

void PunchHole(int fd, uint64_t offset, uint64_t bytes) {
  ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
              static_cast<off_t>(bytes));
}

bool Mapping::MapRaw(int fd, size_t bytes, bool writable) {
  Reset();
  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* addr = ::mmap(nullptr, bytes, prot, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return false;
  addr_ = addr;
  bytes_ = bytes;
  return true;
}

mx_status_t Mapping::Map(int fd, size_t bytes, bool writable) {
  return MapRaw(fd, bytes, writable) ? MX_OK : MX_ERR_NO_MEMORY;
}

mx_status_t Mapping::MapReceived(int fd, size_t bytes, bool writable) {
  return MapRaw(fd, bytes, writable) ? MX_OK : ReceivedFdStatus(errno);
}

void Mapping::Reset() {
  if (addr_ != nullptr) ::munmap(addr_, bytes_);
  addr_ = nullptr;
  bytes_ = 0;
}

mx_status_t CreateSealedMapping(const char* name, size_t bytes, UniqueFd* fd, Mapping* map) {
  UniqueFd memfd;
  mx_status_t st = CreateSealedMemfd(name, bytes, &memfd);
  if (st != MX_OK) return st;
  Mapping mapping;
  st = mapping.Map(memfd.get(), bytes, /*writable=*/true);
  if (st != MX_OK) return st;
  *fd = std::move(memfd);
  *map = std::move(mapping);
  return MX_OK;
}

}  // namespace mx::internal
