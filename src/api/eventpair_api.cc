// SPDX-License-Identifier: BSD-3-Clause
// mx_eventpair_create. (mx_object_signal / mx_object_signal_peer live in object_api.cc and reach
// EventPairSide::UserSignal / UserSignalPeer.)
#include <magenta/syscalls.h>

#include "api/add_handle.h"
#include "object/eventpair.h"

using namespace mx::internal;

extern "C" __MX_EXPORT mx_status_t mx_eventpair_create(uint32_t options, mx_handle_t* out0,
                                                       mx_handle_t* out1) {
  // Magenta's sys_eventpair_create: unknown options are NOT_SUPPORTED (not INVALID_ARGS).
  if (options != 0) return MX_ERR_NOT_SUPPORTED;
  if (out0 == nullptr || out1 == nullptr) return MX_ERR_INVALID_ARGS;
  std::unique_ptr<Handle> h0, h1;
  mx_status_t st = EventPairSide::Create(MX_DEFAULT_EVENTPAIR_RIGHTS, &h0, &h1);
  if (st != MX_OK) return st;
  return AddHandlePair(std::shared_ptr<Handle>(std::move(h0)),
                       std::shared_ptr<Handle>(std::move(h1)), out0, out1);
}
