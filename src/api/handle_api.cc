// SPDX-License-Identifier: BSD-3-Clause
// mx_handle_close / duplicate / replace.
#include <magenta/syscalls.h>

#include "object/handle_table.h"

using namespace mx::internal;

namespace {

// A new handle to the same object with |rights| (SAME_RIGHTS exactly, or a subset).
mx_status_t MakeDerived(const Handle& from, mx_rights_t rights, std::shared_ptr<Handle>* out) {
  mx_rights_t new_rights = rights == MX_RIGHT_SAME_RIGHTS ? from.rights() : rights;
  if ((new_rights & ~from.rights()) != 0) return MX_ERR_INVALID_ARGS;
  std::unique_ptr<Handle> h;
  mx_status_t st = from.object()->PrepareNewHandle(from, new_rights, &h);
  if (st != MX_OK) return st;
  *out = std::move(h);
  return MX_OK;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_status_t mx_handle_close(mx_handle_t handle) {
  if (handle == MX_HANDLE_INVALID) return MX_OK;
  std::shared_ptr<Handle> h;
  mx_status_t st = HandleTable::Get().Remove(handle, &h);
  if (st != MX_OK) return st;
  h->Close();
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_handle_duplicate(mx_handle_t handle, mx_rights_t rights,
                                            mx_handle_t* out) {
  std::shared_ptr<Handle> h;
  mx_status_t st = HandleTable::Get().Lookup(handle, 0, 0, &h);
  if (st != MX_OK) return st;
  if (!h->HasRights(MX_RIGHT_DUPLICATE)) return MX_ERR_ACCESS_DENIED;
  std::shared_ptr<Handle> dup;
  st = MakeDerived(*h, rights, &dup);
  if (st != MX_OK) return st;
  if (out == nullptr) {
    dup->Close();
    return MX_ERR_INVALID_ARGS;
  }
  mx_handle_t v = HandleTable::Get().Add(dup);
  if (v == MX_HANDLE_INVALID) {
    dup->Close();
    return MX_ERR_NO_RESOURCES;
  }
  dup->object()->OnHandleCountChanged();
  *out = v;
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_handle_replace(mx_handle_t handle, mx_rights_t rights,
                                          mx_handle_t* out) {
  HandleTable& table = HandleTable::Get();
  std::shared_ptr<Handle> h;
  mx_status_t st = table.Lookup(handle, 0, 0, &h);
  if (st != MX_OK) return st;
  mx_rights_t new_rights = rights == MX_RIGHT_SAME_RIGHTS ? h->rights() : rights;
  if ((new_rights & ~h->rights()) != 0) return MX_ERR_INVALID_ARGS;
  if (out == nullptr) return MX_ERR_INVALID_ARGS;
  // The new handle takes over the old one's per-handle state, so the object sees the count
  // go 1 → 2 → 1 without a visible change (Magenta: replace does not touch LAST_HANDLE).
  std::shared_ptr<Handle> old;
  st = table.Remove(handle, &old);
  if (st != MX_OK) return st;  // closed by another thread meanwhile
  auto fresh = std::make_shared<Handle>(old->object(), new_rights);
  fresh->token() = old->TakeToken();
  mx_handle_t v = table.Add(fresh);
  if (v == MX_HANDLE_INVALID) {
    // Cannot happen (a slot was just freed), but keep the object alive either way.
    fresh->Close();
    old->Close();
    return MX_ERR_NO_RESOURCES;
  }
  old->TransferOutQuietly();
  *out = v;
  return MX_OK;
}

}  // extern "C"
