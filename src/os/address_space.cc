// SPDX-License-Identifier: BSD-3-Clause
#include "os/address_space.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/status.h"

namespace mx::internal {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

mx_status_t MapFile(int fd, uint64_t offset, size_t len, uint32_t perm_flags, bool specific,
                    uintptr_t addr, uintptr_t* mapped) {
  int prot = PROT_NONE;
  if (perm_flags & MX_VM_FLAG_PERM_READ) prot |= PROT_READ;
  if (perm_flags & MX_VM_FLAG_PERM_WRITE) prot |= PROT_WRITE;
  if (perm_flags & MX_VM_FLAG_PERM_EXECUTE) prot |= PROT_EXEC;
  int flags = MAP_SHARED;
  if (specific) flags |= MAP_FIXED_NOREPLACE;
  void* p = ::mmap(reinterpret_cast<void*>(addr), len, prot, flags, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) return MmapStatus(errno);
  const auto base = reinterpret_cast<uintptr_t>(p);
  if (specific && base != addr) {
    // A kernel without MAP_FIXED_NOREPLACE treats it as a hint.
    ::munmap(p, len);
    return MX_ERR_NO_MEMORY;
  }
  *mapped = base;
  return MX_OK;
}

mx_status_t UnmapRange(uintptr_t addr, size_t len) {
  if (::munmap(reinterpret_cast<void*>(addr), len) != 0) return MmapStatus(errno);
  return MX_OK;
}

}  // namespace mx::internal
