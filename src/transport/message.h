// SPDX-License-Identifier: BSD-3-Clause
// Message and RawHandle: a channel message as it exists between processes.
//
// A RawHandle is a handle "in flight": the object's portable description (type, rights, koid,
// type-specific state) plus the file descriptors that carry the object itself. It is owned by
// exactly one message at a time; destroying it closes its fds, which is how handles inside
// discarded messages are closed (and, through the kernel, how their peers learn of it).
// Destroying one that still carries an event or an eventpair side also rings that object's
// doorbell once its fds are closed: the handle lock went with them, and holders waiting for
// MX_SIGNAL_LAST_HANDLE (in any process) must look again. A RawHandle whose fds went on to
// another process (a sent message) is let go quietly with Delivered().
// A Message owns its bytes and its RawHandles. Neither type is thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {

struct RawHandle {
  RawHandle() = default;
  RawHandle(RawHandle&&) = default;
  RawHandle& operator=(RawHandle&&) = default;
  ~RawHandle();

  // The handle lives on elsewhere (its fds were sent): closes the fds without waking anyone.
  void Delivered() { fds.clear(); }

  uint32_t type = 0;
  uint32_t rights = 0;
  uint64_t koid = 0;
  uint64_t related_koid = 0;
  uint32_t info = 0;           // startup handles: the PA_HND value; otherwise 0
  std::vector<uint8_t> extra;  // type-specific state, validated by the object layer
  std::vector<UniqueFd> fds;   // the fds that carry the object, in the order its type defines
};

struct Message {
  std::vector<uint8_t> bytes;
  std::vector<RawHandle> handles;

  // Magenta's txid: the first four bytes (native endian), or 0 for shorter messages.
  uint32_t txid() const {
    uint32_t t = 0;
    if (bytes.size() >= sizeof(t)) std::memcpy(&t, bytes.data(), sizeof(t));
    return t;
  }
  size_t total_fds() const {
    size_t n = 0;
    for (const auto& h : handles) n += h.fds.size();
    return n;
  }
};

}  // namespace mx::internal
