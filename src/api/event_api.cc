// SPDX-License-Identifier: BSD-3-Clause
// mx_event_create.
#include <magenta/syscalls.h>

#include "object/event.h"
#include "object/handle_table.h"

using namespace mx::internal;

extern "C" __MX_EXPORT mx_status_t mx_event_create(uint32_t options, mx_handle_t* out) {
  if (options != 0 || out == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<Event> event;
  std::unique_ptr<Handle> handle;
  mx_status_t st = Event::Create(&event, &handle, MX_DEFAULT_EVENT_RIGHTS);
  if (st != MX_OK) return st;
  std::shared_ptr<Handle> shared(std::move(handle));
  mx_handle_t v = HandleTable::Get().Add(shared);
  if (v == MX_HANDLE_INVALID) {
    shared->Close();
    return MX_ERR_NO_RESOURCES;
  }
  *out = v;
  return MX_OK;
}
