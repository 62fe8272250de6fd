// Vmo: a virtual memory object, backed by a memfd shared by every process that holds it.
//
// Backing: one memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING) sized with ftruncate. Reads and writes are
// pread/pwrite on it; a mapping is mmap(MAP_SHARED) of it (see Vmar), so every process that maps
// the VMO sees the same pages. Duplicated handles in one process share one Vmo (one fd); a
// transfer sends a dup of the fd, and the koid travels with it.
//
// Sizes follow Magenta (Sept 2017): the size is byte-granular (get_size returns what was set);
// reads and writes are trimmed at the end of the VMO (|actual| < len) and fail with
// OUT_OF_RANGE only when |offset| is past the end or offset + len overflows.
//
// A VMO from another process is untrusted: FromRaw accepts only a shmem file (a memfd) opened
// read-write. Its owner can still shrink it at any time (mx_vmo_set_size); a mapping's pages past
// the new end then fault with SIGBUS, as they faulted in Magenta. See docs/vmos.md.
//
// Not waitable: Magenta's VMOs have no signals of their own, and libmx does not carry user
// signals for VMOs (mx_object_signal → NOT_SUPPORTED). Thread-safe: the fd is immutable after
// construction and the kernel serialises the I/O.
#pragma once

#include "object/object.h"

namespace mx::internal {

class Vmo final : public Object {
 public:
  // A new, zero-filled VMO of |size| bytes.
  static mx_status_t Create(uint64_t size, std::shared_ptr<Vmo>* out);
  // Rebuilds a VMO that arrived in a message. MX_ERR_IO if |raw| is not a valid VMO.
  static mx_status_t FromRaw(RawHandle raw, std::shared_ptr<Vmo>* out);

  Vmo(mx_koid_t koid, UniqueFd memfd) : Object(koid), memfd_(std::move(memfd)) {}

  uint32_t type() const override { return MX_OBJ_TYPE_VMO; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;

  // Magenta's TrimRange: OUT_OF_RANGE if offset > size or offset + len wraps; else copies
  // min(len, size - offset) bytes and reports the count in |actual|.
  mx_status_t Read(void* data, uint64_t offset, size_t len, size_t* actual);
  mx_status_t Write(const void* data, uint64_t offset, size_t len, size_t* actual);
  mx_status_t GetSize(uint64_t* size);
  mx_status_t SetSize(uint64_t size);

  int fd() const { return memfd_.get(); }

 private:
  const UniqueFd memfd_;
};

}  // namespace mx::internal
