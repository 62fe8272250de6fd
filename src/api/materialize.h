// SPDX-License-Identifier: BSD-3-Clause
// Moving handles between the table and messages: the API layer's half of a transfer.
#pragma once

#include <magenta/types.h>

#include <memory>
#include <vector>

#include "object/handle_table.h"
#include "os/fd_check.h"
#include "transport/message.h"

namespace mx::internal {

// Takes |count| handles out of the table for sending (Magenta's validation and removal passes:
// BAD_HANDLE / NOT_SUPPORTED if a handle is |self| / ACCESS_DENIED without TRANSFER /
// INVALID_ARGS for a repeated value) and describes each as a RawHandle. On failure every
// handle is back in the table unchanged.
//
// |*raw| must stay as Begin wrote it until Commit or Abort: an object may lend its own fd to it
// instead of a duplicate (an fd object whose only handle leaves), and Abort takes it back.
class OutgoingHandles {
 public:
  mx_status_t Begin(const mx_handle_t* values, uint32_t count, const Object* self,
                    std::vector<RawHandle>* raw);
  // The message left: the handles are gone from the table and their objects moved.
  void Commit();
  // The message did not leave: every handle is live again under its old value, with its fds.
  void Abort();

 private:
  const mx_handle_t* values_ = nullptr;
  uint32_t count_ = 0;
  std::vector<RawHandle>* raw_ = nullptr;
  std::vector<std::shared_ptr<Handle>> handles_;
  size_t prepared_ = 0;
};

// Takes the handles of a received message into the table: the API layer's half of a read.
// All or nothing in two phases, so that a read that runs out of fds, memory or table slots
// leaves its message — and every fd in it — where it was:
//
//   0. Prepare first refuses every endpoint whose queue blob this process has decoded already
//      (transport/endpoint_state.h, DecodedBlobs), or that an endpoint before it names: such a
//      handle is not installed (its fds close with the message), and the message goes on
//      without it; kept() says how many handles are. The other blobs are recorded; a Prepare
//      that fails forgets them again (the message is read again later).
//   1. Prepare(raws), with the message still queued: reserves a table slot per handle and
//      rebuilds every object whose rebuild needs new resources (an event opens a file
//      description and maps its page, an eventpair maps two pages, an endpoint that carries
//      rings or a queue maps and reads them) from *duplicates* of its fds, so that a failure
//      leaves |raws| untouched. Objects that need nothing new (fd, vmo, socket, a plain
//      endpoint) are left for step 2. Returns MX_OK; NO_RESOURCES / NO_MEMORY (nothing
//      changed, |raws| intact); or IO (a malformed handle: the message is to be discarded).
//   2. Commit(raws, out), after the message was taken: builds the rest from |raws| (consuming
//      them) and fills the reserved slots, writing the kept() values to |out|. Needs no resources;
//      fails only with IO for a malformed handle, and then nothing was added.
//
// Destroying an IncomingHandles that was not committed gives everything back: the reserved slots,
// and the prepared objects, which were built on duplicated fds and leave like a transferred
// handle (their peers are not told anything: the objects live on in the message). Not
// thread-safe; one use per object.
class IncomingHandles {
 public:
  IncomingHandles() = default;
  ~IncomingHandles();
  IncomingHandles(const IncomingHandles&) = delete;
  IncomingHandles& operator=(const IncomingHandles&) = delete;

  mx_status_t Prepare(const std::vector<RawHandle>& raws);
  mx_status_t Commit(std::vector<RawHandle>* raws, mx_handle_t* out);
  // After a successful Prepare: how many handles Commit installs.
  size_t kept() const { return kept_; }

 private:
  void RefuseRepeatedQueueBlobs(const std::vector<RawHandle>& raws);
  void Release();
  std::vector<FileId> claimed_;                 // blobs recorded by this Prepare
  std::vector<bool> refused_;                   // per handle: not installed (step 0)
  size_t kept_ = 0;                             // handles not refused
  std::vector<uint32_t> slots_;                 // reserved table slots, one per kept handle
  std::vector<std::unique_ptr<Handle>> built_;  // per handle: built in Prepare (or Commit)
  std::vector<bool> prepared_;                  // per handle: built in Prepare, on duplicates
};

// Prepare + Commit for a message that is not kept anywhere (a call's reply, startup handles):
// on failure nothing was added, and |raws| may have been consumed. With |installed|, endpoints
// dropped in step 0 leave the message and |*installed| says how many handles were written to
// |out|; without it, such a drop makes the whole message malformed (MX_ERR_IO).
mx_status_t InstallHandles(std::vector<RawHandle>* raws, mx_handle_t* out,
                           uint32_t* installed = nullptr);

}  // namespace mx::internal
