// SPDX-License-Identifier: BSD-3-Clause
// <mx/channel.h>: mx::channel, an owning wrapper for one channel endpoint.
//
// Shaped like Magenta's ulib/mx channel.h, including its argument order for read(), which differs
// from mx_channel_read(): read(flags, bytes, num_bytes, &actual_bytes, handles, num_handles,
// &actual_handles) -- each buffer is followed by its size and its actual count.
//
// Ownership: exactly one endpoint handle, closed by the destructor (the peer then sees
// MX_CHANNEL_PEER_CLOSED). Handles passed to write() or call() are raw values: on MX_OK they are
// gone from the table, so release() them from their wrappers first, e.g.
//   mx_handle_t h = ev.release();
//   if (ch.write(0, buf, n, &h, 1) != MX_OK) ev.reset(h);  // on failure the caller keeps them
// Handles that read() or call() return are owned by the caller; wrap them (mx::handle(h)).
//
// Thread-safety: read/write/call may run concurrently on one endpoint; as <mx/object.h> otherwise.
#pragma once

#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class channel : public object<channel> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_CHANNEL;

  constexpr channel() = default;
  explicit channel(mx_handle_t value) : object(value) {}
  explicit channel(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes a channel (it would convert through mx::handle).
  template <typename U>
  channel(object<U>&&) = delete;
  channel(channel&& other) noexcept : object(other.release()) {}
  channel& operator=(channel&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates a channel; both wrappers' old handles are closed and replaced by the new endpoints
  // (invalid on failure). Neither pointer may be null.
  static mx_status_t create(uint32_t flags, channel* endpoint0, channel* endpoint1) {
    mx_handle_t h0 = MX_HANDLE_INVALID;
    mx_handle_t h1 = MX_HANDLE_INVALID;
    mx_status_t status = mx_channel_create(flags, &h0, &h1);
    endpoint0->reset(h0);
    endpoint1->reset(h1);
    return status;
  }

  mx_status_t read(uint32_t flags, void* bytes, uint32_t num_bytes, uint32_t* actual_bytes,
                   mx_handle_t* handles, uint32_t num_handles, uint32_t* actual_handles) const {
    return mx_channel_read(get(), flags, bytes, handles, num_bytes, num_handles, actual_bytes,
                           actual_handles);
  }

  mx_status_t write(uint32_t flags, const void* bytes, uint32_t num_bytes,
                    const mx_handle_t* handles, uint32_t num_handles) const {
    return mx_channel_write(get(), flags, bytes, num_bytes, handles, num_handles);
  }

  mx_status_t call(uint32_t flags, mx_time_t deadline, const mx_channel_call_args_t* args,
                   uint32_t* actual_bytes, uint32_t* actual_handles,
                   mx_status_t* read_status) const {
    return mx_channel_call(get(), flags, deadline, args, actual_bytes, actual_handles, read_status);
  }
};

using unowned_channel = unowned<channel>;

}  // namespace mx
