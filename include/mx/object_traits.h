// <mx/object_traits.h>: compile-time facts about each wrapped object type, used by mx::object<T>
// to offer only the operations the type can support (as Magenta's ulib/mx did).
//
// Ownership / thread-safety: none; these are constants.
#pragma once

namespace mx {

class channel;
class process;

// The default (event, and any type without a specialization): duplicable, user signals, no peer.
template <typename T>
struct object_traits {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = true;
  static constexpr bool has_peer_handle = false;
};

// mx::handle (object<void>) is untyped: every operation is offered and the library decides.
template <>
struct object_traits<void> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = true;
  static constexpr bool has_peer_handle = true;
};

// Channel endpoints have no DUPLICATE right, ever; they do have a peer.
template <>
struct object_traits<channel> {
  static constexpr bool supports_duplication = false;
  static constexpr bool supports_user_signal = true;
  static constexpr bool has_peer_handle = true;
};

// libmx process handles carry no SIGNAL right (MX_DEFAULT_PROCESS_RIGHTS).
template <>
struct object_traits<process> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = false;
};

}  // namespace mx
