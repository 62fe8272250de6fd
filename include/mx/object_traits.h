// SPDX-License-Identifier: BSD-3-Clause
// <mx/object_traits.h>: compile-time facts about each wrapped object type, used by mx::object<T>
// to offer only the operations the type can support (as Magenta's ulib/mx did).
//
// Ownership / thread-safety: none; these are constants.
#pragma once

namespace mx {

class channel;
class eventpair;
class fifo;
class socket;
class process;
class vmo;
class vmar;
class port;

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

// Eventpair sides can be duplicated and signal their peer.
template <>
struct object_traits<eventpair> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = true;
  static constexpr bool has_peer_handle = true;
};

// Fifo sides can be duplicated and signal their peer.
template <>
struct object_traits<fifo> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = true;
  static constexpr bool has_peer_handle = true;
};

// libmx sockets have no user signals (mx_object_signal / _peer return NOT_SUPPORTED; see
// docs/sockets.md), so the wrapper does not offer them.
template <>
struct object_traits<socket> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = true;
};

// libmx process handles carry no SIGNAL right (MX_DEFAULT_PROCESS_RIGHTS).
template <>
struct object_traits<process> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = false;
};

// libmx VMOs carry no user signals (the SIGNAL right is there for Magenta source compatibility
// only: mx_object_signal on a VMO is NOT_SUPPORTED).
template <>
struct object_traits<vmo> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = false;
};

// The root VMAR: no signals, no peer.
template <>
struct object_traits<vmar> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = false;
};

// Ports: duplicable, but not waitable and without user signals.
template <>
struct object_traits<port> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool has_peer_handle = false;
};

}  // namespace mx
