// SPDX-License-Identifier: BSD-3-Clause
// LookupObject<T>: how an entry point turns a handle value into the object it works on, as
// Magenta's syscalls do with GetDispatcherWithRights. One lookup, one call into the object;
// the entry point never takes the object's lock or casts it itself.
//
// Errors, in this order (Magenta's: rights before the type; tests/api/handle_test.cc, "Lookup
// order", and vmo_test.cc pin it):
//   MX_ERR_BAD_HANDLE     |value| names no live handle (never one, closed, stale, in transit);
//   MX_ERR_ACCESS_DENIED  the handle lacks a right in |required|;
//   MX_ERR_WRONG_TYPE     the object is not a T (T::kType).
// |out| and |rights| are untouched on failure.
//
// Thread-safe: the table's lock is held for the lookup only; the caller's reference keeps the
// object alive if another thread closes the handle meanwhile.
#pragma once

#include <magenta/types.h>

#include <memory>
#include <utility>

#include "object/handle_table.h"

namespace mx::internal {

// |rights| (optional): the handle's rights, for checks an entry point makes after the lookup
// (mx_vmar_map asks for MX_RIGHT_MAP and the mapping's permissions only once both handles are
// known to be of the right type).
template <typename T>
mx_status_t LookupObject(mx_handle_t value, mx_rights_t required, std::shared_ptr<T>* out,
                         mx_rights_t* rights = nullptr) {
  std::shared_ptr<Object> object;
  mx_status_t st = HandleTable::Get().LookupObject(value, required, T::kType, &object, rights);
  if (st != MX_OK) return st;
  *out = std::static_pointer_cast<T>(std::move(object));
  return MX_OK;
}

}  // namespace mx::internal
