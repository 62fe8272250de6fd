// SPDX-License-Identifier: BSD-3-Clause
// Vmar: the calling process's root address region (mx_vmar_root_self), as a handle.
//
// Linux has one address space per process and no VMAR objects, so libmx models only the root:
// one process-local object whose handle libmx owns (like mx_process_self), not transferable.
// Map is mmap(MAP_SHARED) of a VMO's memfd; Unmap is munmap.
//
// Safety: the root VMAR of Magenta covers every mapping of the process, so unmapping any range
// is legal there. On Linux most of the address space (heap, libraries, stacks) is not mapped
// through libmx, so libmx records the ranges it mapped and Unmap only ever touches those: pages
// of the requested range that libmx did not map are treated as holes (skipped), as Magenta
// treated unmapped holes. The record is process-wide (a forked child inherits the parent's
// mappings and the record with them) and guarded by one mutex, made fork-safe with
// pthread_atfork. Thread-safe.
#pragma once

#include "object/object.h"

namespace mx::internal {

class Vmar final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_VMAR;

  explicit Vmar(mx_koid_t koid) : Object(koid) {}

  uint32_t type() const override { return kType; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  // Never reached: the handle has no TRANSFER right.
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_ACCESS_DENIED; }

  // Maps |len| bytes (rounded up to pages) of the file |fd| from |fd_offset| with the access of
  // |perm_flags| (MX_VM_FLAG_PERM_*). |specific|: at exactly |addr| (NO_MEMORY if taken).
  // Arguments were validated by the caller (page alignment, overflow).
  mx_status_t Map(int fd, uint64_t fd_offset, size_t len, uint32_t perm_flags, bool specific,
                  uintptr_t addr, uintptr_t* mapped);
  // Unmaps the parts of [addr, addr + len) (len rounded up to pages) that libmx mapped.
  mx_status_t Unmap(uintptr_t addr, size_t len);
};

}  // namespace mx::internal
