// SPDX-License-Identifier: BSD-3-Clause
#include "object/fd_object.h"

#include <magenta/fd.h>

#include "base/check.h"
#include "os/fd.h"

namespace mx::internal {

mx_status_t FdObject::FromRaw(RawHandle raw, std::shared_ptr<FdObject>* out) {
  if (raw.type != MX_OBJ_TYPE_FD || raw.fds.size() != 1 || !raw.extra.empty()) return MX_ERR_IO;
  *out = std::make_shared<FdObject>(std::move(raw.fds[0]), raw.koid);
  return MX_OK;
}

mx_status_t FdObject::PrepareTransfer(const Handle& handle, RawHandle* out) {
  MutexLock lock(&mu_);
  if (!fd_) return MX_ERR_BAD_HANDLE;
  UniqueFd fd;
  // The handle count cannot grow meanwhile: new handles are made under mu_ (PrepareNewHandle),
  // and |handle| itself is in transit, out of reach of lookups.
  if (local_handle_count() == 1) {
    fd = std::move(fd_);
    lent_ = true;
  } else {
    mx_status_t st = DupFd(fd_.get(), &fd);
    if (st != MX_OK) return st;
  }
  out->type = MX_OBJ_TYPE_FD;
  out->rights = handle.rights();
  out->koid = koid();
  out->fds.push_back(std::move(fd));
  return MX_OK;
}

void FdObject::AbortTransfer(const Handle&, RawHandle* raw) {
  MutexLock lock(&mu_);
  if (!lent_) return;  // a duplicate went out: ours never left
  MX_DCHECK(raw->fds.size() == 1 && raw->fds[0]);
  fd_ = std::move(raw->fds[0]);
  raw->fds.clear();
  lent_ = false;
}

mx_status_t FdObject::PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                       std::unique_ptr<Handle>* out) {
  MutexLock lock(&mu_);
  if (lent_) return MX_ERR_BAD_HANDLE;
  return Object::PrepareNewHandle(from, rights, out);
}

mx_status_t FdObject::TakeFd(bool sole, int* out) {
  MutexLock lock(&mu_);
  if (!fd_) return MX_ERR_BAD_HANDLE;
  if (sole) {
    *out = fd_.release();
    return MX_OK;
  }
  UniqueFd dup;
  mx_status_t st = DupFd(fd_.get(), &dup);
  if (st != MX_OK) return st;
  // The caller owns it from now on: libmx no longer tracks it.
  *out = dup.release();
  return MX_OK;
}

}  // namespace mx::internal
