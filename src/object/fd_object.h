// SPDX-License-Identifier: BSD-3-Clause
// FdObject: a Linux file descriptor wrapped as a handle (MX_OBJ_TYPE_FD, <magenta/fd.h>).
//
// Duplicated handles share one FdObject (one fd); a transfer sends a dup of the fd, so the open
// file description (offset, flags) is shared with whatever stays behind, as with dup().
// Not waitable: its signals are always 0 and it has no wait sources (wait_one → NOT_SUPPORTED).
#pragma once

#include <magenta/fd.h>

#include "object/object.h"

namespace mx::internal {

class FdObject final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_FD;

  explicit FdObject(UniqueFd fd, mx_koid_t koid) : Object(koid), fd_(std::move(fd)) {}
  static mx_status_t FromRaw(RawHandle raw, std::shared_ptr<FdObject>* out);

  uint32_t type() const override { return kType; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;

  // The fd for mx_fd_unwrap: the object's own if |sole| (no other handle), else a dup.
  mx_status_t TakeFd(bool sole, int* out);

 private:
  Mutex mu_;
  UniqueFd fd_ TA_GUARDED(mu_);
};

}  // namespace mx::internal
