// SPDX-License-Identifier: BSD-3-Clause
// UniqueFd: owns one file descriptor, closes it on destruction, records it in the FdRegistry.
//
// Not thread-safe by itself: an owner that shares a UniqueFd between threads guards it.
#pragma once

#include <unistd.h>

#include <utility>

#include "os/fd_registry.h"

namespace mx::internal {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of |fd| (which may be -1).
  explicit UniqueFd(int fd) : fd_(fd) { FdRegistryAdd(fd_); }
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release_raw()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release_raw();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool is_valid() const { return fd_ >= 0; }
  explicit operator bool() const { return is_valid(); }

  // Closes the fd now (if any) and takes |fd|.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      FdRegistryRemove(fd_);
      ::close(fd_);
    }
    fd_ = fd;
    FdRegistryAdd(fd_);
  }
  // Gives up ownership: the caller now owns the fd, which libmx no longer tracks.
  int release() {
    FdRegistryRemove(fd_);
    return std::exchange(fd_, -1);
  }

 private:
  // Moves between UniqueFds keep the registry entry.
  int release_raw() { return std::exchange(fd_, -1); }
  int fd_ = -1;
};

}  // namespace mx::internal
