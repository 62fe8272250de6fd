// Moving handles between the table and messages: the API layer's half of a transfer.
#pragma once

#include <magenta/types.h>

#include <memory>
#include <vector>

#include "object/handle_table.h"
#include "transport/message.h"

namespace mx::internal {

// Takes |count| handles out of the table for sending (Magenta's validation and removal passes:
// BAD_HANDLE / NOT_SUPPORTED if a handle is |self| / ACCESS_DENIED without TRANSFER /
// INVALID_ARGS for a repeated value) and describes each as a RawHandle. On failure every
// handle is back in the table unchanged.
class OutgoingHandles {
 public:
  mx_status_t Begin(const mx_handle_t* values, uint32_t count, const Object* self,
                    std::vector<RawHandle>* raw);
  // The message left: the handles are gone from the table and their objects moved.
  void Commit();
  // The message did not leave: every handle is live again under its old value.
  void Abort();

 private:
  const mx_handle_t* values_ = nullptr;
  uint32_t count_ = 0;
  std::vector<std::shared_ptr<Handle>> handles_;
  size_t prepared_ = 0;
};

// Builds a Handle for a RawHandle that arrived in a message (rights are masked to what the
// type allows). MX_ERR_IO: |raw| is malformed (its fds are closed).
mx_status_t HandleFromRaw(RawHandle raw, std::unique_ptr<Handle>* out);

// Checks, without consuming anything, that installing |raws| will not run out of handle-table
// slots or file descriptors (rebuilding an object may open a few fds). Returns MX_OK or
// MX_ERR_NO_RESOURCES, so a read can fail and leave the message queued (SPEC B.5).
mx_status_t CheckInstallResources(const std::vector<RawHandle>& raws);

// Puts |raws| into the table, writing their values to |out|. All or nothing: on failure
// (NO_RESOURCES / NO_MEMORY when fds or table slots run out, IO for a malformed handle from a
// hostile peer) nothing was added and every fd the raws carried has been closed.
mx_status_t InstallHandles(std::vector<RawHandle>* raws, mx_handle_t* out);

}  // namespace mx::internal
