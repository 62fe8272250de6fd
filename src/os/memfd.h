// SPDX-License-Identifier: BSD-3-Clause
// Shared memory libmx makes and maps: sealed memfds and the mappings of them.
//
// Two kinds of memfd are made here, each with one seal set, which the receiving side checks with
// the same constant (os/fd_check.h):
//   - Sealed (kSizeSeals): a fixed-size file both sides map writable — a channel's ring, an
//     event's or an eventpair side's signal word. No holder can shrink it (which would make every
//     other mapping fault), grow it or change its seals; writes stay open.
//   - Frozen (kFrozenSeals): a file written once by its creator and only ever read after — an
//     endpoint's queue blob. Sealed against every change, writes included.
// A Mapping owns one MAP_SHARED mapping and unmaps it when destroyed.
//
// Thread-safe (system calls on fds the caller owns; a Mapping is owned by one object).
#pragma once

#include <fcntl.h>
#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "os/unique_fd.h"

namespace mx::internal {

constexpr unsigned kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
constexpr unsigned kFrozenSeals = kSizeSeals | F_SEAL_WRITE;

// A new zero-filled, close-on-exec memfd of |bytes| bytes sealed with kSizeSeals. |name| shows in
// /proc/<pid>/maps. Errors: StatusFromErrno of the failed call (NO_RESOURCES, NO_MEMORY...);
// INTERNAL if the kernel refuses the seals.
mx_status_t CreateSealedMemfd(const char* name, uint64_t bytes, UniqueFd* out);

// A new close-on-exec memfd holding exactly |size| bytes from |data|, sealed with kFrozenSeals.
// Every page is written, so the file has no holes. NO_MEMORY / NO_RESOURCES.
mx_status_t CreateFrozenMemfd(const char* name, const void* data, size_t size, UniqueFd* out);

// Gives the pages of |fd| in [offset, offset + bytes) back to the kernel; the file keeps its size
// and the range reads as zeros. Best effort: nothing is reported.
void PunchHole(int fd, uint64_t offset, uint64_t bytes);

// One MAP_SHARED mapping of a whole file (or its first |bytes|), unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  ~Mapping() { Reset(); }
  Mapping(Mapping&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  Mapping& operator=(Mapping&& other) noexcept {
    if (this != &other) {
      Reset();
      addr_ = std::exchange(other.addr_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // Maps the first |bytes| of |fd|, readable, and writable if |writable|. A file libmx made
  // fails to map only for lack of memory: NO_MEMORY. For a descriptor another process sent, see
  // MapReceived.
  mx_status_t Map(int fd, size_t bytes, bool writable);
  // As Map, for a descriptor that arrived from another process: NO_MEMORY for ENOMEM, IO for
  // anything else (the descriptor is not the memory it claims to be).
  mx_status_t MapReceived(int fd, size_t bytes, bool writable);

  void* get() const { return addr_; }
  size_t size() const { return bytes_; }
  bool is_valid() const { return addr_ != nullptr; }
  // Unmaps now (if mapped).
  void Reset();

 private:
  // False with errno set if mmap failed.
  bool MapRaw(int fd, size_t bytes, bool writable);
  void* addr_ = nullptr;
  size_t bytes_ = 0;
};

// Creates a sealed memfd (CreateSealedMemfd) and maps it writable.
mx_status_t CreateSealedMapping(const char* name, size_t bytes, UniqueFd* fd, Mapping* map);

}  // namespace mx::internal
