// SPDX-License-Identifier: BSD-3-Clause
// The calling process's address space: its page size, and shared mappings placed at the request
// of mx_vmar_map / mx_vmar_unmap (the record of which ranges libmx mapped is object/vmar's).
//
// Thread-safe (each call is one system call).
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>

namespace mx::internal {

size_t PageSize();

// Maps |len| bytes (a page multiple) of |fd|'s file from |offset|, MAP_SHARED, with the access
// of |perm_flags| (MX_VM_FLAG_PERM_READ / WRITE / EXECUTE; none at all is PROT_NONE). |specific|:
// at exactly |addr| or not at all (NO_MEMORY if any of it is taken); otherwise where the kernel
// chooses. Errors: MmapStatus (os/status.h).
mx_status_t MapFile(int fd, uint64_t offset, size_t len, uint32_t perm_flags, bool specific,
                    uintptr_t addr, uintptr_t* mapped);

// Unmaps [addr, addr + len). Errors: MmapStatus.
mx_status_t UnmapRange(uintptr_t addr, size_t len);

}  // namespace mx::internal
