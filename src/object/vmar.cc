#include "object/vmar.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace mx::internal {
namespace {

// Every range libmx mapped in this process: base → length (page multiples, never overlapping).
struct MappingRecord {
  std::mutex mu;
  std::map<uintptr_t, size_t> ranges;
};

MappingRecord& Record() {
  static MappingRecord* record = [] {
    auto* r = new MappingRecord();
    // fork() while another thread holds the mutex must not leave it locked in the child.
    ::pthread_atfork([] { Record().mu.lock(); }, [] { Record().mu.unlock(); },
                     [] { Record().mu.unlock(); });
    return r;
  }();
  return *record;
}

mx_status_t MmapError(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return MX_ERR_ACCESS_DENIED;
    case EEXIST:
    case ENOMEM:
      return MX_ERR_NO_MEMORY;
    case EINVAL:
    case EOVERFLOW:
      return MX_ERR_INVALID_ARGS;
    case EMFILE:
    case ENFILE:
      return MX_ERR_NO_RESOURCES;
    default:
      return MX_ERR_INTERNAL;
  }
}

}  // namespace

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

mx_status_t Vmar::Map(int fd, uint64_t fd_offset, size_t len, int prot, bool specific,
                      uintptr_t addr, uintptr_t* mapped) {
  MappingRecord& rec = Record();
  std::lock_guard<std::mutex> lock(rec.mu);
  int flags = MAP_SHARED;
  if (specific) flags |= MAP_FIXED_NOREPLACE;
  void* p = ::mmap(reinterpret_cast<void*>(addr), len, prot, flags, fd,
                   static_cast<off_t>(fd_offset));
  if (p == MAP_FAILED) return MmapError(errno);
  auto base = reinterpret_cast<uintptr_t>(p);
  if (specific && base != addr) {
    // A kernel without MAP_FIXED_NOREPLACE treats it as a hint.
    ::munmap(p, len);
    return MX_ERR_NO_MEMORY;
  }
  rec.ranges[base] = len;
  *mapped = base;
  return MX_OK;
}

mx_status_t Vmar::Unmap(uintptr_t addr, size_t len) {
  const uintptr_t end = addr + len;
  MappingRecord& rec = Record();
  std::lock_guard<std::mutex> lock(rec.mu);
  // The first recorded range that may overlap: the last one starting at or before |addr|.
  auto it = rec.ranges.upper_bound(addr);
  if (it != rec.ranges.begin()) --it;
  while (it != rec.ranges.end() && it->first < end) {
    const uintptr_t r_base = it->first;
    const uintptr_t r_end = r_base + it->second;
    const uintptr_t cut_base = std::max(r_base, addr);
    const uintptr_t cut_end = std::min(r_end, end);
    if (cut_base >= cut_end) {
      ++it;
      continue;
    }
    if (::munmap(reinterpret_cast<void*>(cut_base), cut_end - cut_base) != 0) {
      return MmapError(errno);
    }
    it = rec.ranges.erase(it);
    if (r_base < cut_base) rec.ranges[r_base] = cut_base - r_base;
    if (cut_end < r_end) it = rec.ranges.emplace(cut_end, r_end - cut_end).first;
  }
  return MX_OK;
}

}  // namespace mx::internal
