// SPDX-License-Identifier: BSD-3-Clause
#include "object/vmo.h"

#include <sys/types.h>

#include <cstdint>
#include <limits>

#include "os/fd.h"
#include "os/fd_check.h"
#include "os/koid.h"
#include "os/vmo_memfd.h"

namespace mx::internal {
namespace {

// Largest size a VMO may have: what off_t can express (Magenta: VmObjectPaged::MAX_SIZE).
constexpr uint64_t kMaxVmoSize = static_cast<uint64_t>(std::numeric_limits<off_t>::max());

bool IsWritable(int fd) { return AccessMode(fd) == O_RDWR; }

// Clamps [offset, offset + len) to |size| the way Magenta's TrimRange did.
bool TrimRange(uint64_t offset, size_t len, uint64_t size, size_t* trimmed) {
  uint64_t end;
  if (__builtin_add_overflow(offset, static_cast<uint64_t>(len), &end)) return false;
  if (offset > size) return false;
  *trimmed = end > size ? static_cast<size_t>(size - offset) : len;
  return true;
}

}  // namespace

Vmo::Vmo(mx_koid_t koid, UniqueFd memfd)
    : Object(koid), memfd_(std::move(memfd)), writable_(IsWritable(memfd_.get())) {}

mx_status_t Vmo::Create(uint64_t size, bool non_resizable, std::shared_ptr<Vmo>* out) {
  if (size > kMaxVmoSize) return MX_ERR_INVALID_ARGS;
  UniqueFd memfd;
  mx_status_t st = CreateVmoMemfd(size, non_resizable, &memfd);
  if (st != MX_OK) return st;
  *out = std::make_shared<Vmo>(AllocateKoid(), std::move(memfd));
  return MX_OK;
}

mx_status_t Vmo::FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle) {
  if (raw.type != MX_OBJ_TYPE_VMO || raw.fds.size() != 1 || !raw.extra.empty()) {
    return MX_ERR_IO;
  }
  mx_rights_t rights = raw.rights;
  mx_status_t st = CheckVmoMemfd(raw.fds[0].get(), &rights);
  if (st != MX_OK) return st;
  *handle =
      std::make_unique<Handle>(std::make_shared<Vmo>(raw.koid, std::move(raw.fds[0])), rights);
  return MX_OK;
}

mx_status_t Vmo::PrepareTransfer(const Handle& handle, RawHandle* out) {
  UniqueFd description;
  if (writable_ && !handle.HasRights(MX_RIGHT_WRITE)) {
    // The receiver must not be able to write or resize through what it gets: only a read-only
    // description stops it (a dup would share our writable one).
    mx_status_t st = ReopenReadOnly(memfd_.get(), &description);
    if (st != MX_OK) return st;
  } else {
    mx_status_t st = DupFd(memfd_.get(), &description);
    if (st != MX_OK) return st;
  }
  out->type = MX_OBJ_TYPE_VMO;
  out->rights = handle.rights();
  out->koid = koid();
  out->fds.push_back(std::move(description));
  return MX_OK;
}

mx_status_t Vmo::Read(void* data, uint64_t offset, size_t len, size_t* actual) {
  uint64_t size;
  mx_status_t st = GetSize(&size);
  if (st != MX_OK) return st;
  size_t n;
  if (!TrimRange(offset, len, size, &n)) return MX_ERR_OUT_OF_RANGE;
  size_t done = 0;
  st = ReadMemfd(memfd_.get(), data, offset, n, &done);
  if (st != MX_OK) return st;
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
  st = WriteMemfd(memfd_.get(), data, offset, n, &done);
  if (st != MX_OK) return st;
  *actual = done;
  return MX_OK;
}

mx_status_t Vmo::GetSize(uint64_t* size) { return MemfdSize(memfd_.get(), size); }

mx_status_t Vmo::SetSize(uint64_t size) {
  if (size > kMaxVmoSize) return MX_ERR_OUT_OF_RANGE;
  // A non-resizable VMO refuses even its own size, as Zircon's did.
  if (!Resizable()) return MX_ERR_UNAVAILABLE;
  return ResizeMemfd(memfd_.get(), size);
}

bool Vmo::Resizable() const { return !IsSizeSealed(memfd_.get()); }

}  // namespace mx::internal
