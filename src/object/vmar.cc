// SPDX-License-Identifier: BSD-3-Clause
#include "object/vmar.h"

#include <pthread.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "base/mutex.h"
#include "os/address_space.h"

namespace mx::internal {
namespace {

// Every range libmx mapped in this process: base → length (page multiples, never overlapping).
struct MappingRecord {
  Mutex mu;
  std::map<uintptr_t, size_t> ranges TA_GUARDED(mu);
};

MappingRecord& Record() {
  static MappingRecord* record = [] {
    auto* r = new MappingRecord();
    // fork() while another thread holds the mutex must not leave it locked in the child. The
    // prepare handler returns with the lock held (the analysis cannot pair it with the handlers
    // that release it after fork); those run on the forking thread, which holds it.
    ::pthread_atfork([]() TA_NO_ANALYSIS { Record().mu.lock(); },
                     [] {
                       Record().mu.AssertHeld();
                       Record().mu.unlock();
                     },
                     [] {
                       Record().mu.AssertHeld();
                       Record().mu.unlock();
                     });
    return r;
  }();
  return *record;
}

}  // namespace

mx_status_t Vmar::Map(int fd, uint64_t fd_offset, size_t len, uint32_t perm_flags, bool specific,
                      uintptr_t addr, uintptr_t* mapped) {
  MappingRecord& rec = Record();
  MutexLock lock(&rec.mu);
  uintptr_t base = 0;
  mx_status_t st = MapFile(fd, fd_offset, len, perm_flags, specific, addr, &base);
  if (st != MX_OK) return st;
  rec.ranges[base] = len;
  *mapped = base;
  return MX_OK;
}

mx_status_t Vmar::Unmap(uintptr_t addr, size_t len) {
  const uintptr_t end = addr + len;
  MappingRecord& rec = Record();
  MutexLock lock(&rec.mu);
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
    mx_status_t st = UnmapRange(cut_base, cut_end - cut_base);
    if (st != MX_OK) return st;
    it = rec.ranges.erase(it);
    if (r_base < cut_base) rec.ranges[r_base] = cut_base - r_base;
    if (cut_end < r_end) it = rec.ranges.emplace(cut_end, r_end - cut_end).first;
  }
  return MX_OK;
}

}  // namespace mx::internal
