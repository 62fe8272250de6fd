// SPDX-License-Identifier: BSD-3-Clause
// <mx/socket.h>: mx::socket, an owning wrapper for one end of a socket (a byte stream).
//
// write() may be short (|*actual| < len) when the socket is nearly full and returns
// MX_ERR_SHOULD_WAIT when it is full; read() returns MX_ERR_SHOULD_WAIT when it is empty and
// MX_ERR_PEER_CLOSED once it is empty and the peer is gone. Wait for MX_SOCKET_READABLE /
// MX_SOCKET_WRITABLE / MX_SOCKET_PEER_CLOSED with wait_one().
//
// Ownership: exactly one handle, closed by the destructor (the peer then sees PEER_CLOSED once
// no other handle to this end exists). Thread-safety: as <mx/object.h>.
#pragma once

#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class socket : public object<socket> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_SOCKET;

  constexpr socket() = default;
  explicit socket(mx_handle_t value) : object(value) {}
  explicit socket(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes a socket (it would convert through mx::handle).
  template <typename U>
  socket(object<U>&&) = delete;
  socket(socket&& other) noexcept : object(other.release()) {}
  socket& operator=(socket&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates a socket; both wrappers' old handles are closed and replaced by the new ends
  // (invalid on failure). Neither pointer may be null.
  static mx_status_t create(uint32_t flags, socket* endpoint0, socket* endpoint1) {
    mx_handle_t h0 = MX_HANDLE_INVALID;
    mx_handle_t h1 = MX_HANDLE_INVALID;
    mx_status_t status = mx_socket_create(flags, &h0, &h1);
    endpoint0->reset(h0);
    endpoint1->reset(h1);
    return status;
  }

  mx_status_t write(uint32_t flags, const void* buffer, size_t len, size_t* actual) const {
    return mx_socket_write(get(), flags, buffer, len, actual);
  }

  mx_status_t read(uint32_t flags, void* buffer, size_t len, size_t* actual) const {
    return mx_socket_read(get(), flags, buffer, len, actual);
  }
};

using unowned_socket = unowned<socket>;

}  // namespace mx
