// SPDX-License-Identifier: BSD-3-Clause
// <mx/fifo.h>: mx::fifo, an owning wrapper for one side of a fifo pair.
//
// A fifo pair is two queues of fixed-size elements in shared memory: write() on one side enqueues
// whole elements for the other side's read(). Each side asserts MX_FIFO_READABLE while its queue
// holds an element, MX_FIFO_WRITABLE while the peer's queue has room, and MX_FIFO_PEER_CLOSED once
// every handle to the peer is gone, in any process. Sides can be duplicated and sent through
// channels. Limits and costs: docs/fifos.md.
//
// Ownership: exactly one handle, closed by the destructor. Thread-safety: as <mx/object.h>.
#pragma once

#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class fifo : public object<fifo> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_FIFO;

  constexpr fifo() = default;
  explicit fifo(mx_handle_t value) : object(value) {}
  explicit fifo(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes a fifo (it would convert through mx::handle).
  template <typename U>
  fifo(object<U>&&) = delete;
  fifo(fifo&& other) noexcept : object(other.release()) {}
  fifo& operator=(fifo&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates a fifo pair of |elem_count| elements of |elem_size| bytes per direction; both
  // wrappers' old handles are closed and replaced by the new sides (invalid on failure).
  static mx_status_t create(uint32_t elem_count, uint32_t elem_size, uint32_t options, fifo* out0,
                            fifo* out1) {
    mx_handle_t h0 = MX_HANDLE_INVALID;
    mx_handle_t h1 = MX_HANDLE_INVALID;
    mx_status_t status = mx_fifo_create(elem_count, elem_size, options, &h0, &h1);
    out0->reset(h0);
    out1->reset(h1);
    return status;
  }

  // Writes as many whole elements of |buffer| (|len| bytes) as there is room for.
  mx_status_t write(const void* buffer, size_t len, uint32_t* actual_entries) const {
    return mx_fifo_write(get(), buffer, len, actual_entries);
  }

  // Reads as many whole elements into |buffer| (|len| bytes) as are queued and fit.
  mx_status_t read(void* buffer, size_t len, uint32_t* actual_entries) const {
    return mx_fifo_read(get(), buffer, len, actual_entries);
  }
};

using unowned_fifo = unowned<fifo>;

}  // namespace mx
