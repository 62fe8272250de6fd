// SPDX-License-Identifier: BSD-3-Clause
// Putting a newly made handle into the table, for the entry points that create objects. The
// inverse of api/lookup.h.
//
// Thread-safe (the table's lock is held for each Add only).
#pragma once

#include <magenta/types.h>

#include <memory>
#include <utility>

#include "object/handle_table.h"

namespace mx::internal {

// Adds |handle| and writes its value to |*out|. A full table is NO_RESOURCES and closes
// |handle| again, so the object runs its last-handle logic (a channel's peer sees PEER_CLOSED, a
// listener removes its socket file); |*out| is then untouched.
inline mx_status_t AddHandle(std::shared_ptr<Handle> handle, mx_handle_t* out) {
  const mx_handle_t value = HandleTable::Get().Add(handle);
  if (value == MX_HANDLE_INVALID) {
    handle->Close();
    return MX_ERR_NO_RESOURCES;
  }
  *out = value;
  return MX_OK;
}

// Adds both sides of a pair, or neither: on NO_RESOURCES both are closed and |*out0|, |*out1|
// are untouched.
inline mx_status_t AddHandlePair(std::shared_ptr<Handle> h0, std::shared_ptr<Handle> h1,
                                 mx_handle_t* out0, mx_handle_t* out1) {
  HandleTable& table = HandleTable::Get();
  const mx_handle_t v0 = table.Add(h0);
  if (v0 == MX_HANDLE_INVALID) {
    h0->Close();
    h1->Close();
    return MX_ERR_NO_RESOURCES;
  }
  const mx_handle_t v1 = table.Add(h1);
  if (v1 == MX_HANDLE_INVALID) {
    std::shared_ptr<Handle> back;
    if (table.Remove(v0, &back) == MX_OK) back->Close();
    h1->Close();
    return MX_ERR_NO_RESOURCES;
  }
  *out0 = v0;
  *out1 = v1;
  return MX_OK;
}

}  // namespace mx::internal
