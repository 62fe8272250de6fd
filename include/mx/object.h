// SPDX-License-Identifier: BSD-3-Clause
// <mx/object.h>: mx::object<T>, the owning RAII base of every libmx C++ handle wrapper, and
// mx::unowned<T>, a non-owning view of a handle.
//
// Shaped like Magenta's system/ulib/mx: `class event : public object<event>`, `using handle =
// object<void>`. Each method is a thin call to the C function of the same name in
// <magenta/syscalls.h>; statuses come back unchanged and nothing throws.
//
// Ownership: an object<T> owns exactly one handle value (or MX_HANDLE_INVALID) and closes it in its
// destructor and in reset(). It is move-only; a move transfers the value and leaves the source
// invalid. release() gives the value back to the caller without closing it. A typed object<T> moves
// into an object<void> (mx::handle); the reverse needs the explicit `T(handle&&)` constructor of T.
// unowned<T> wraps a value it does not own: it never closes it, and it must not outlive the owner.
//
// Thread-safety: like any value type. Distinct wrappers may be used from any threads at once, and
// const methods of one wrapper may run concurrently (the C calls are thread-safe); a wrapper must
// not be moved, reset or destroyed while another thread uses it.
#pragma once

#include <magenta/syscalls.h>
#include <magenta/types.h>
#include <mx/object_traits.h>

#include <type_traits>
#include <utility>

namespace mx {

// The operations a type cannot support (object_traits<T>) are member templates enabled only for
// the types that support them, so calling one on a channel or a process is a compile error that
// names the trait, and `requires { x.duplicate(...); }` style checks see it as absent.
template <typename T>
class object {
 public:
  constexpr object() = default;
  explicit object(mx_handle_t value) : value_(value) {}
  object(object&& other) noexcept : value_(other.release()) {}
  // Any typed object moves into an untyped one (mx::handle), as in Magenta.
  template <typename U, std::enable_if_t<std::is_void_v<T> && !std::is_void_v<U>, int> = 0>
  object(object<U>&& other) noexcept : value_(other.release()) {}
  object(const object&) = delete;
  object& operator=(const object&) = delete;
  ~object() { close(); }

  object& operator=(object&& other) noexcept {
    reset(other.release());
    return *this;
  }
  template <typename U, std::enable_if_t<std::is_void_v<T> && !std::is_void_v<U>, int> = 0>
  object& operator=(object<U>&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // Closes the current handle (if any) and takes ownership of |value|.
  void reset(mx_handle_t value = MX_HANDLE_INVALID) {
    close();
    value_ = value;
  }
  void swap(object& other) noexcept { std::swap(value_, other.value_); }

  // Gives up ownership without closing: the caller now owns the returned value.
  [[nodiscard]] mx_handle_t release() noexcept { return std::exchange(value_, MX_HANDLE_INVALID); }

  // Closes the current handle and exposes the storage, for C out-parameters:
  //   mx_event_create(0, ev.reset_and_get_address());
  mx_handle_t* reset_and_get_address() {
    reset();
    return &value_;
  }

  mx_handle_t get() const noexcept { return value_; }
  bool is_valid() const noexcept { return value_ != MX_HANDLE_INVALID; }
  explicit operator bool() const noexcept { return is_valid(); }

  // A new handle to the same object with |rights| (a subset, or MX_RIGHT_SAME_RIGHTS) in |*result|,
  // whose old handle is closed; on failure |*result| becomes invalid. Not offered where the object
  // type can never be duplicated (channels).
  template <
      typename U = T,
      std::enable_if_t<object_traits<U>::supports_duplication && std::is_same_v<U, T>, int> = 0>
  mx_status_t duplicate(mx_rights_t rights, object* result) const {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t s = mx_handle_duplicate(value_, rights, &h);
    result->reset(h);
    return s;
  }

  // Moves this handle into |*result| with |rights|. On success this wrapper becomes invalid (result
  // may be this). On failure this handle stays valid and |*result| becomes invalid (unless it is
  // this).
  mx_status_t replace(mx_rights_t rights, object* result) {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t s = mx_handle_replace(value_, rights, &h);
    if (s == MX_OK) value_ = MX_HANDLE_INVALID;  // before reset(), in case result == this
    if (s == MX_OK || result != this) result->reset(h);
    return s;
  }

  // Waits until any of |signals| is asserted or |deadline| (absolute, MX_CLOCK_MONOTONIC) passes.
  mx_status_t wait_one(mx_signals_t signals, mx_time_t deadline, mx_signals_t* pending) const {
    return mx_object_wait_one(value_, signals, deadline, pending);
  }
  static mx_status_t wait_many(mx_wait_item_t* items, uint32_t count, mx_time_t deadline) {
    return mx_object_wait_many(items, count, deadline);
  }
  // Arms an asynchronous wait: |port| receives a packet with |key| (see <mx/port.h>).
  template <typename P>
  mx_status_t wait_async(const object<P>& port, uint64_t key, mx_signals_t signals,
                         uint32_t options) const {
    return mx_object_wait_async(value_, port.get(), key, signals, options);
  }

  // Not offered where the object type has no user signals (sockets, processes, VMOs, ports);
  // signal_peer() only where it also has a peer (channels, eventpairs, mx::handle).
  template <
      typename U = T,
      std::enable_if_t<object_traits<U>::supports_user_signal && std::is_same_v<U, T>, int> = 0>
  mx_status_t signal(uint32_t clear_mask, uint32_t set_mask) const {
    return mx_object_signal(value_, clear_mask, set_mask);
  }
  template <typename U = T,
            std::enable_if_t<object_traits<U>::supports_user_signal &&
                                 object_traits<U>::has_peer_handle && std::is_same_v<U, T>,
                             int> = 0>
  mx_status_t signal_peer(uint32_t clear_mask, uint32_t set_mask) const {
    return mx_object_signal_peer(value_, clear_mask, set_mask);
  }

  mx_status_t get_info(uint32_t topic, void* buffer, size_t buffer_size, size_t* actual_count,
                       size_t* avail_count) const {
    return mx_object_get_info(value_, topic, buffer, buffer_size, actual_count, avail_count);
  }
  // MX_INFO_HANDLE_BASIC: koid, rights, type, related koid, props.
  mx_status_t get_basic_info(mx_info_handle_basic_t* info) const {
    return get_info(MX_INFO_HANDLE_BASIC, info, sizeof(*info), nullptr, nullptr);
  }

  // All six spelled out: C++17 does not derive != and the reversed forms from == as C++20 does.
  friend bool operator==(const object& a, const object& b) { return a.value_ == b.value_; }
  friend bool operator!=(const object& a, const object& b) { return a.value_ != b.value_; }
  friend bool operator==(const object& a, mx_handle_t b) { return a.value_ == b; }
  friend bool operator!=(const object& a, mx_handle_t b) { return a.value_ != b; }
  friend bool operator==(mx_handle_t a, const object& b) { return a == b.value_; }
  friend bool operator!=(mx_handle_t a, const object& b) { return a != b.value_; }

 private:
  void close() {
    if (value_ != MX_HANDLE_INVALID) mx_handle_close(std::exchange(value_, MX_HANDLE_INVALID));
  }

  mx_handle_t value_ = MX_HANDLE_INVALID;
};

// A non-owning view of a handle as a T: the handle is never closed by the view. Construct it from a
// raw value or from an owning T; use it through operator-> / operator* (both const), or pass it
// where a const T& is expected. Copying a view copies the value, never the handle.
//
//   void serve(const mx::channel& ch);
//   serve(mx::unowned<mx::channel>(raw_value));
template <typename T>
class unowned final {
 public:
  constexpr unowned() = default;
  explicit unowned(mx_handle_t value) : value_(value) {}
  explicit unowned(const T& owner) : value_(owner.get()) {}
  unowned(const unowned& other) : value_(other->get()) {}
  unowned& operator=(const unowned& other) {
    forget();
    value_.reset(other->get());
    return *this;
  }
  ~unowned() { forget(); }

  // Magenta's spelling: mx::unowned<mx::channel>::wrap(value).
  static unowned wrap(mx_handle_t value) { return unowned(value); }

  const T& operator*() const noexcept { return value_; }
  const T* operator->() const noexcept { return &value_; }
  operator const T&() const noexcept { return value_; }

 private:
  void forget() { static_cast<void>(value_.release()); }

  T value_;
};

}  // namespace mx
