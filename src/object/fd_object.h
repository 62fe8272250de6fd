// SPDX-License-Identifier: BSD-3-Clause
// FdObject: a Linux file descriptor wrapped as a handle (MX_OBJ_TYPE_FD, <magenta/fd.h>).
//
// Duplicated handles share one FdObject (one fd); a transfer sends a dup of the fd, so the open
// file description (offset, flags) is shared with whatever stays behind, as with dup(). When the
// handle that leaves is the object's only one, nothing stays behind: the object lends its own fd
// to the message (no dup, and no second close once it left) and takes it back if the write
// fails. While it is lent, no handle can be made from the object (PrepareNewHandle: BAD_HANDLE,
// as for a handle already gone), so "only one" stays true until the transfer ends.
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
  void AbortTransfer(const Handle& handle, RawHandle* raw) override;
  mx_status_t PrepareNewHandle(const Handle& from, mx_rights_t rights,
                               std::unique_ptr<Handle>* out) override;

  // The fd for mx_fd_unwrap: the object's own if |sole| (no other handle), else a dup.
  mx_status_t TakeFd(bool sole, int* out);

 private:
  Mutex mu_;
  UniqueFd fd_ TA_GUARDED(mu_);
  // fd_ is lent to a message in flight (PrepareTransfer of the only handle): empty until an
  // abort gives it back, and for good once the message left.
  bool lent_ TA_GUARDED(mu_) = false;
};

}  // namespace mx::internal
