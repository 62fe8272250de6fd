// SPDX-License-Identifier: BSD-3-Clause
// Vmo: a virtual memory object, backed by a memfd shared by every process that holds it.
//
// Backing: one memfd (os/vmo_memfd.h: MFD_CLOEXEC | MFD_ALLOW_SEALING, mode 0644) sized with
// ftruncate. Reads and writes are pread/pwrite on it; a mapping is mmap(MAP_SHARED) of it (see
// Vmar), so every process that maps the VMO sees the same pages. Duplicated handles in one process
// share one Vmo (one fd); a transfer sends a description of the file, and the koid travels with
// it.
//
// Sizes follow Magenta (Sept 2017): the size is byte-granular (get_size returns what was set);
// reads and writes are trimmed at the end of the VMO (|actual| < len) and fail with
// OUT_OF_RANGE only when |offset| is past the end or offset + len overflows.
//
// Rights once the fd has left the process are what its open file description allows, so the
// kernel enforces them: a handle without MX_RIGHT_WRITE is sent as a read-only description
// (PrepareTransfer), which can neither write, resize, nor be mapped or mprotect-ed writable; a
// received read-only description never carries WRITE (FromRaw). A VMO created
// MX_VMO_NON_RESIZABLE is sealed against any size change, for every holder.
//
// Resizable VMOs (the default, as in Magenta) can still be shrunk by any holder of WRITE; a
// mapping's pages past the new end then fault with SIGBUS, as they faulted in Magenta. See
// docs/vmos.md for when a mapping can die and how to avoid it.
//
// Not waitable: Magenta's VMOs have no signals of their own, and libmx does not carry user
// signals for VMOs (mx_object_signal → NOT_SUPPORTED). Thread-safe: the fd is immutable after
// construction and the kernel serialises the I/O.
#pragma once

#include "object/object.h"

namespace mx::internal {

class Vmo final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_VMO;

  // A new, zero-filled VMO of |size| bytes; sealed against resizing when |non_resizable|.
  static mx_status_t Create(uint64_t size, bool non_resizable, std::shared_ptr<Vmo>* out);
  // Rebuilds a VMO handle that arrived in a message, with the rights |raw| claims (already cut
  // down to what a VMO may carry) less WRITE when the description is read-only (CheckVmoMemfd).
  // MX_ERR_IO if |raw| is not a valid VMO.
  static mx_status_t FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle);

  Vmo(mx_koid_t koid, UniqueFd memfd);

  uint32_t type() const override { return kType; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  // Sends a duplicate of the memfd's description, or, for a handle without WRITE whose
  // description is writable, a new read-only description of the same file (ReopenReadOnly's
  // errors).
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;

  // Magenta's TrimRange: OUT_OF_RANGE if offset > size or offset + len wraps; else copies
  // min(len, size - offset) bytes and reports the count in |actual|.
  mx_status_t Read(void* data, uint64_t offset, size_t len, size_t* actual);
  mx_status_t Write(const void* data, uint64_t offset, size_t len, size_t* actual);
  mx_status_t GetSize(uint64_t* size);
  // UNAVAILABLE if the VMO is sealed against the change (MX_VMO_NON_RESIZABLE, or seals a peer
  // added); OUT_OF_RANGE if |size| is too large.
  mx_status_t SetSize(uint64_t size);
  // False once the kernel refuses every size change (seals are never removed, so this answer is
  // final). Asks the kernel each time: a holder of WRITE in another process may add seals.
  bool Resizable() const;

  int fd() const { return memfd_.get(); }

 private:
  const UniqueFd memfd_;
  // The description's access mode allows writing (fixed at construction).
  const bool writable_;
};

}  // namespace mx::internal
