// SPDX-License-Identifier: BSD-3-Clause
// <mx/vmo.h>: mx::vmo, an owning wrapper for a VMO handle, and mx::vmar, the wrapper for the
// process's root address region (as Magenta's ulib/mx had them; libmx has only the root VMAR, so
// mx::vmar lives here rather than in a header of its own).
//
//   mx::vmo vmo;
//   mx::vmo::create(size, 0, &vmo);
//   vmo.write(data, 0, len, &actual);
//   uintptr_t addr;
//   mx::vmar::root_self().map(0, vmo, 0, size, MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE,
//   &addr); mx::vmar::root_self().unmap(addr, size);
//
// VMO handles can be duplicated and travel through channels (the pages are shared with every
// process that maps them). The root VMAR handle is owned by libmx: root_self() returns an
// unowned view that never closes it.
//
// Ownership: mx::vmo owns exactly one handle, closed by the destructor. Thread-safety: as
// <mx/object.h>.
#pragma once

#include <magenta/process.h>
#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class vmo : public object<vmo> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_VMO;

  constexpr vmo() = default;
  explicit vmo(mx_handle_t value) : object(value) {}
  explicit vmo(handle&& h) : object(h.release()) {}
  template <typename U>
  vmo(object<U>&&) = delete;
  vmo(vmo&& other) noexcept : object(other.release()) {}
  vmo& operator=(vmo&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Creates a VMO of |size| bytes; |result|'s old handle is closed and replaced (invalid on
  // failure).
  static mx_status_t create(uint64_t size, uint32_t options, vmo* result) {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t status = mx_vmo_create(size, options, &h);
    result->reset(h);
    return status;
  }

  mx_status_t read(void* data, uint64_t offset, size_t len, size_t* actual) const {
    return mx_vmo_read(get(), data, offset, len, actual);
  }
  mx_status_t write(const void* data, uint64_t offset, size_t len, size_t* actual) const {
    return mx_vmo_write(get(), data, offset, len, actual);
  }
  mx_status_t get_size(uint64_t* size) const { return mx_vmo_get_size(get(), size); }
  mx_status_t set_size(uint64_t size) const { return mx_vmo_set_size(get(), size); }
};

using unowned_vmo = unowned<vmo>;

class vmar : public object<vmar> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_VMAR;

  constexpr vmar() = default;
  explicit vmar(mx_handle_t value) : object(value) {}
  explicit vmar(handle&& h) : object(h.release()) {}
  template <typename U>
  vmar(object<U>&&) = delete;
  vmar(vmar&& other) noexcept : object(other.release()) {}
  vmar& operator=(vmar&& other) noexcept {
    reset(other.release());
    return *this;
  }

  mx_status_t map(size_t vmar_offset, const vmo& vmo_handle, uint64_t vmo_offset, size_t len,
                  uint32_t flags, uintptr_t* ptr) const {
    return mx_vmar_map(get(), vmar_offset, vmo_handle.get(), vmo_offset, len, flags, ptr);
  }
  mx_status_t unmap(uintptr_t address, size_t len) const {
    return mx_vmar_unmap(get(), address, len);
  }

  // The root VMAR of this process (owned by libmx; the view never closes it).
  static unowned<vmar> root_self() { return unowned<vmar>(mx_vmar_root_self()); }
};

using unowned_vmar = unowned<vmar>;

}  // namespace mx
