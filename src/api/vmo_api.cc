// SPDX-License-Identifier: BSD-3-Clause
// mx_vmo_* and mx_vmar_* (root VMAR only), mx_vmar_root_self: argument checks in Magenta's order
// (kernel/lib/syscalls/syscalls_vmo.cpp, syscalls_vmar.cpp), then the Vmo / Vmar objects.
#include <magenta/process.h>
#include <magenta/syscalls.h>

#include <mutex>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "base/mutex.h"
#include "object/handle_table.h"
#include "object/vmar.h"
#include "object/vmo.h"
#include "os/address_space.h"
#include "os/fd_registry.h"
#include "os/koid.h"

using namespace mx::internal;

namespace {

// Rights of the root VMAR handle: Magenta's root VMAR could map read, write and execute; libmx's
// is process-local, so it has no TRANSFER.
constexpr mx_rights_t kRootVmarRights =
    MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_EXECUTE;

// Options mx_vmo_create understands.
constexpr uint32_t kVmoCreateOptions = MX_VMO_NON_RESIZABLE;

// Flags mx_vmar_map understands; anything else is INVALID_ARGS as in Magenta.
constexpr uint32_t kPermFlags =
    MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE | MX_VM_FLAG_PERM_EXECUTE;
constexpr uint32_t kCanMapFlags =
    MX_VM_FLAG_CAN_MAP_READ | MX_VM_FLAG_CAN_MAP_WRITE | MX_VM_FLAG_CAN_MAP_EXECUTE;

bool RoundUpToPage(size_t len, size_t* out) {
  const size_t page = PageSize();
  if (__builtin_add_overflow(len, page - 1, out)) return false;
  *out &= ~(page - 1);
  return true;
}

struct RootVmar {
  Mutex mu;
  mx_handle_t value TA_GUARDED(mu) = MX_HANDLE_INVALID;
  unsigned generation TA_GUARDED(mu) = 0;
};

RootVmar& Root() {
  static auto* r = new RootVmar();
  return *r;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_status_t mx_vmo_create(uint64_t size, uint32_t options, mx_handle_t* out) {
  if ((options & ~kVmoCreateOptions) != 0 || out == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<Vmo> vmo;
  mx_status_t st = Vmo::Create(size, (options & MX_VMO_NON_RESIZABLE) != 0, &vmo);
  if (st != MX_OK) return st;
  return AddHandle(std::make_shared<Handle>(std::move(vmo), MX_DEFAULT_VMO_RIGHTS), out);
}

__MX_EXPORT mx_status_t mx_vmo_read(mx_handle_t handle, void* data, uint64_t offset, size_t len,
                                    size_t* actual) {
  std::shared_ptr<Vmo> vmo;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &vmo);
  if (st != MX_OK) return st;
  if ((data == nullptr && len > 0) || actual == nullptr) return MX_ERR_INVALID_ARGS;
  return vmo->Read(data, offset, len, actual);
}

__MX_EXPORT mx_status_t mx_vmo_write(mx_handle_t handle, const void* data, uint64_t offset,
                                     size_t len, size_t* actual) {
  std::shared_ptr<Vmo> vmo;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &vmo);
  if (st != MX_OK) return st;
  if ((data == nullptr && len > 0) || actual == nullptr) return MX_ERR_INVALID_ARGS;
  return vmo->Write(data, offset, len, actual);
}

__MX_EXPORT mx_status_t mx_vmo_get_size(mx_handle_t handle, uint64_t* size) {
  std::shared_ptr<Vmo> vmo;
  mx_status_t st = LookupObject(handle, 0, &vmo);  // Magenta: no rights needed
  if (st != MX_OK) return st;
  if (size == nullptr) return MX_ERR_INVALID_ARGS;
  return vmo->GetSize(size);
}

__MX_EXPORT mx_status_t mx_vmo_set_size(mx_handle_t handle, uint64_t size) {
  std::shared_ptr<Vmo> vmo;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &vmo);
  if (st != MX_OK) return st;
  return vmo->SetSize(size);
}

__MX_EXPORT mx_status_t mx_vmar_map(mx_handle_t vmar_handle, size_t vmar_offset,
                                    mx_handle_t vmo_handle, uint64_t vmo_offset, size_t len,
                                    uint32_t flags, uintptr_t* mapped_addr) {
  // One function of numbered steps, longer than most: the steps run in Magenta's order, and the
  // order decides which error a caller sees when several apply.
  // 1. Both handles: valid, then type (Magenta needs no particular right to look them up).
  std::shared_ptr<Vmar> vmar;
  mx_rights_t vmar_rights = 0;
  mx_status_t st = LookupObject(vmar_handle, 0, &vmar, &vmar_rights);
  if (st != MX_OK) return st;
  std::shared_ptr<Vmo> vmo;
  mx_rights_t vmo_rights = 0;
  st = LookupObject(vmo_handle, 0, &vmo, &vmo_rights);
  if (st != MX_OK) return st;
  // 2. The VMO must be mappable at all.
  if ((vmo_rights & MX_RIGHT_MAP) == 0) return MX_ERR_ACCESS_DENIED;
  // 3. Protection must be expressible: no write or execute without read.
  if (!(flags & MX_VM_FLAG_PERM_READ) &&
      (flags & (MX_VM_FLAG_PERM_WRITE | MX_VM_FLAG_PERM_EXECUTE))) {
    return MX_ERR_INVALID_ARGS;
  }
  // 4. The CAN_MAP_* flags are for mx_vmar_allocate, never for a mapping.
  if (flags & kCanMapFlags) return MX_ERR_INVALID_ARGS;
  // 5. Each permission needs the right on both the VMO and the VMAR.
  auto allowed = [&](mx_rights_t r) { return (vmo_rights & r) == r && (vmar_rights & r) == r; };
  if ((flags & MX_VM_FLAG_PERM_READ) && !allowed(MX_RIGHT_READ)) return MX_ERR_ACCESS_DENIED;
  if ((flags & MX_VM_FLAG_PERM_WRITE) && !allowed(MX_RIGHT_WRITE)) return MX_ERR_ACCESS_DENIED;
  if ((flags & MX_VM_FLAG_PERM_EXECUTE) && !allowed(MX_RIGHT_EXECUTE)) {
    return MX_ERR_ACCESS_DENIED;
  }
  // 6. Placement flags: SPECIFIC is supported; SPECIFIC_OVERWRITE is a Magenta flag libmx does
  //    not offer (it would let a caller replace any of the process's memory); anything else but
  //    REQUIRE_NON_RESIZABLE is not a mapping flag.
  const uint32_t placement = flags & ~(kPermFlags | MX_VM_FLAG_REQUIRE_NON_RESIZABLE);
  if (placement & MX_VM_FLAG_SPECIFIC_OVERWRITE) return MX_ERR_NOT_SUPPORTED;
  if (placement & ~MX_VM_FLAG_SPECIFIC) return MX_ERR_INVALID_ARGS;
  const bool specific = (flags & MX_VM_FLAG_SPECIFIC) != 0;
  // 7. Geometry (VmAddressRegion::CreateVmMapping / CreateSubVmarInternal).
  const size_t page = PageSize();
  size_t size;
  if (!RoundUpToPage(len, &size) || size == 0) return MX_ERR_INVALID_ARGS;
  uint64_t vmo_end;
  if ((vmo_offset & (page - 1)) != 0 || __builtin_add_overflow(vmo_offset, size, &vmo_end) ||
      vmo_end > static_cast<uint64_t>(INT64_MAX)) {
    return MX_ERR_INVALID_ARGS;
  }
  if (!specific && vmar_offset != 0) return MX_ERR_INVALID_ARGS;
  if (specific && ((vmar_offset & (page - 1)) != 0 || vmar_offset == 0)) {
    return MX_ERR_INVALID_ARGS;
  }
  if (mapped_addr == nullptr) return MX_ERR_INVALID_ARGS;
  // 8. REQUIRE_NON_RESIZABLE: the mapping must never lose pages. The kernel's seals decide (no
  //    claim from a sender counts); they are never removed, so the answer cannot go stale. The
  //    range must also lie within the VMO, whose pages past the end would fault just the same.
  if (flags & MX_VM_FLAG_REQUIRE_NON_RESIZABLE) {
    if (vmo->Resizable()) return MX_ERR_NOT_SUPPORTED;
    uint64_t vmo_size;
    st = vmo->GetSize(&vmo_size);
    if (st != MX_OK) return st;
    size_t rounded;
    if (!RoundUpToPage(static_cast<size_t>(vmo_size), &rounded) || vmo_end > rounded) {
      return MX_ERR_OUT_OF_RANGE;
    }
  }

  const uint32_t perm_flags =
      flags & (MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE | MX_VM_FLAG_PERM_EXECUTE);
  return vmar->Map(vmo->fd(), vmo_offset, size, perm_flags, specific, vmar_offset, mapped_addr);
}

__MX_EXPORT mx_status_t mx_vmar_unmap(mx_handle_t vmar_handle, uintptr_t addr, size_t len) {
  std::shared_ptr<Vmar> vmar;
  mx_status_t st = LookupObject(vmar_handle, 0, &vmar);
  if (st != MX_OK) return st;
  size_t size;
  if ((addr & (PageSize() - 1)) != 0 || len == 0 || !RoundUpToPage(len, &size)) {
    return MX_ERR_INVALID_ARGS;
  }
  uintptr_t end;
  if (__builtin_add_overflow(addr, size, &end)) return MX_ERR_INVALID_ARGS;
  return vmar->Unmap(addr, size);
}

__MX_EXPORT mx_handle_t mx_vmar_root_self(void) {
  RootVmar& r = Root();
  MutexLock lock(&r.mu);
  if (r.value != MX_HANDLE_INVALID && r.generation == ForkGeneration()) {
    // Still in the table unless the caller closed it (it should not): then make a new one.
    std::shared_ptr<Vmar> live;
    if (LookupObject(r.value, 0, &live) == MX_OK) return r.value;
  }
  auto h = std::make_shared<Handle>(std::make_shared<Vmar>(AllocateKoid()), kRootVmarRights);
  r.value = HandleTable::Get().Add(h);
  r.generation = ForkGeneration();
  return r.value;
}

}  // extern "C"
