// SPDX-License-Identifier: BSD-3-Clause
// <mx/port.h>: mx::port, an owning wrapper for a port handle.
//
// A port is a queue of packets: user packets queued with queue(), and signal packets from
// asynchronous waits armed with wait_async() on any waitable object (or
// object<T>::wait_async). get_fd() gives the fd to plug the port into an external event loop.
// Ports are process-local (no TRANSFER right).
//
// Ownership: exactly one handle, closed by the destructor. Thread-safety: as <mx/object.h>.
#pragma once

#include <magenta/fd.h>
#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class port : public object<port> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_PORT;

  constexpr port() = default;
  explicit port(mx_handle_t value) : object(value) {}
  explicit port(handle&& h) : object(h.release()) {}
  template <typename U>
  port(object<U>&&) = delete;
  port(port&& other) noexcept : object(other.release()) {}
  port& operator=(port&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates a port; |result|'s old handle is closed and replaced (invalid on failure).
  static mx_status_t create(uint32_t options, port* result) {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t status = mx_port_create(options, &h);
    result->reset(h);
    return status;
  }

  mx_status_t queue(const mx_port_packet_t* packet, size_t count) const {
    return mx_port_queue(get(), packet, count);
  }
  mx_status_t wait(mx_time_t deadline, mx_port_packet_t* packet, size_t count) const {
    return mx_port_wait(get(), deadline, packet, count);
  }
  // Arms an asynchronous wait on |source| delivering packets with |key| to this port.
  mx_status_t wait_async(mx_handle_t source, uint64_t key, mx_signals_t signals,
                         uint32_t options) const {
    return mx_object_wait_async(source, get(), key, signals, options);
  }
  mx_status_t get_fd(int* fd) const { return mx_port_get_fd(get(), fd); }
};

using unowned_port = unowned<port>;

}  // namespace mx
