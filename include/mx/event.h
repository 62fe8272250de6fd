// SPDX-License-Identifier: BSD-3-Clause
// <mx/event.h>: mx::event, an owning wrapper for an event handle.
//
// An event carries MX_EVENT_SIGNALED and the user signals, set and cleared with signal(clear, set)
// and observed with wait_one(). Event handles can be duplicated (duplicate()) and replaced with
// fewer rights (replace()); every handle names the same object.
//
// Ownership: exactly one handle, closed by the destructor. Thread-safety: as <mx/object.h>.
#pragma once

#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class event : public object<event> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_EVENT;

  constexpr event() = default;
  explicit event(mx_handle_t value) : object(value) {}
  explicit event(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes a event (it would convert through mx::handle).
  template <typename U>
  event(object<U>&&) = delete;
  event(event&& other) noexcept : object(other.release()) {}
  event& operator=(event&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates an event; |result|'s old handle is closed and replaced (invalid on failure).
  static mx_status_t create(uint32_t options, event* result) {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t status = mx_event_create(options, &h);
    result->reset(h);
    return status;
  }
};

using unowned_event = unowned<event>;

}  // namespace mx
