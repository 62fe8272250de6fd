// SPDX-License-Identifier: BSD-3-Clause
// <mx/eventpair.h>: mx::eventpair, an owning wrapper for one side of an event pair.
//
// Each side carries MX_EPAIR_SIGNALED and the user signals: signal(clear, set) changes this side's,
// signal_peer(clear, set) the other side's. When every handle to one side is gone (in any process),
// the other side asserts MX_EPAIR_PEER_CLOSED. Sides can be duplicated (duplicate()) and sent
// through channels; every handle to a side names the same signal state.
//
// Ownership: exactly one handle, closed by the destructor. Thread-safety: as <mx/object.h>.
#pragma once

#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class eventpair : public object<eventpair> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_EVENT_PAIR;

  constexpr eventpair() = default;
  explicit eventpair(mx_handle_t value) : object(value) {}
  explicit eventpair(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes an eventpair (it would convert through mx::handle).
  template <typename U>
  eventpair(object<U>&&) = delete;
  eventpair(eventpair&& other) noexcept : object(other.release()) {}
  eventpair& operator=(eventpair&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates an event pair; both wrappers' old handles are closed and replaced by the new sides
  // (invalid on failure). Neither pointer may be null.
  static mx_status_t create(uint32_t flags, eventpair* endpoint0, eventpair* endpoint1) {
    mx_handle_t h0 = MX_HANDLE_INVALID;
    mx_handle_t h1 = MX_HANDLE_INVALID;
    mx_status_t status = mx_eventpair_create(flags, &h0, &h1);
    endpoint0->reset(h0);
    endpoint1->reset(h1);
    return status;
  }
};

using unowned_eventpair = unowned<eventpair>;

}  // namespace mx
