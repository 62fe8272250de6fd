// SPDX-License-Identifier: BSD-3-Clause
// mx_event_create.
#include <magenta/syscalls.h>

#include "api/add_handle.h"
#include "object/event.h"

using namespace mx::internal;

extern "C" __MX_EXPORT mx_status_t mx_event_create(uint32_t options, mx_handle_t* out) {
  if (options != 0 || out == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<Event> event;
  std::unique_ptr<Handle> handle;
  mx_status_t st = Event::Create(&event, &handle, MX_DEFAULT_EVENT_RIGHTS);
  if (st != MX_OK) return st;
  return AddHandle(std::shared_ptr<Handle>(std::move(handle)), out);
}
