// SPDX-License-Identifier: BSD-3-Clause
// HandleTable: this process's handle values and the Handles they name.
//
// Values follow Magenta: odd, positive, never 0, scrambled by a per-process random mixer, and
// carrying a 12-bit generation so that a stale or forged value is MX_ERR_BAD_HANDLE.
// Up to 2^18 handles at once.
//
// Lookups follow Magenta's order: valid (BAD_HANDLE) → rights (ACCESS_DENIED) → type
// (WRONG_TYPE). Transfers take handles out in two phases so that a failed write puts every
// handle back under the same value ("the caller keeps every handle, unchanged").
//
// Thread-safety: everything is guarded by one mutex, never held while calling into objects.
#pragma once

#include <magenta/types.h>

#include <memory>
#include <vector>

#include "base/mutex.h"
#include "object/object.h"

namespace mx::internal {

class HandleTable {
 public:
  // The process's table (replaced by an empty one in a forked child).
  static HandleTable& Get();

  // Adds |handle|; returns its value, or MX_HANDLE_INVALID when the table is full.
  mx_handle_t Add(std::shared_ptr<Handle> handle);

  // Looks |value| up: BAD_HANDLE → ACCESS_DENIED (|rights| missing) → WRONG_TYPE (|type| != 0
  // and different).
  mx_status_t Lookup(mx_handle_t value, mx_rights_t rights, uint32_t type,
                     std::shared_ptr<Handle>* out);
  // The same checks, giving the handle's object and (if |handle_rights|) its rights instead of
  // the handle: what a typed lookup needs (api/lookup.h, LookupObject<T>).
  mx_status_t LookupObject(mx_handle_t value, mx_rights_t rights, uint32_t type,
                           std::shared_ptr<Object>* out, mx_rights_t* handle_rights);

  // True if |count| more handles fit.
  bool HasRoom(size_t count);

  // Reserving slots, for a caller that must not fail once it has taken its handles from
  // somewhere else (mx_channel_read, which takes them out of a message):
  //   Reserve(count, &slots)  all or nothing; false if fewer than |count| slots are free. A
  //                           reserved slot has no value yet: lookups cannot reach it.
  //   Fill(slot, handle)      puts |handle| in a reserved slot and returns its value; cannot fail.
  //   Unreserve(slots)        gives back reserved slots that were not filled.
  bool Reserve(size_t count, std::vector<uint32_t>* slots);
  mx_handle_t Fill(uint32_t slot, std::shared_ptr<Handle> handle);
  void Unreserve(const std::vector<uint32_t>& slots);

  // Removes |value| from the table (close/replace); BAD_HANDLE if absent.
  mx_status_t Remove(mx_handle_t value, std::shared_ptr<Handle>* out);

  // Phase 1 of a transfer: in array order, each value must be live (BAD_HANDLE), pass
  // |check| (its error is returned), and appear once (INVALID_ARGS). On success every handle
  // is "in transit": lookups fail, values are not reused. On failure nothing changed.
  template <typename Check>
  mx_status_t BeginTransfer(const mx_handle_t* values, size_t count, Check check,
                            std::vector<std::shared_ptr<Handle>>* out);
  // Phase 2: the transfer happened; the values are freed.
  void CommitTransfer(const mx_handle_t* values, size_t count);
  // Phase 2': the transfer failed; every handle is live again under its old value.
  void AbortTransfer(const mx_handle_t* values, size_t count);

  // fork() support (pthread_atfork handlers, see handle_table.cc): the table's mutex is held
  // across fork() so that the child never sees a table half changed.
  void LockForFork() TA_ACQ(mu_);
  void UnlockForFork();
  static void ResetInChild();

 private:
  struct Slot {
    std::shared_ptr<Handle> handle;
    uint16_t generation = 0;
    uint8_t state = 0;  // kFree, kLive, kTransit, kReserved
  };
  static constexpr uint8_t kFree = 0, kLive = 1, kTransit = 2, kReserved = 3;
  static constexpr uint32_t kIndexBits = 18;
  static constexpr uint32_t kMaxHandles = 1u << kIndexBits;
  static constexpr uint32_t kGenerationMask = 0xfff;

  HandleTable();
  mx_handle_t Encode(uint32_t index, uint16_t generation) const;
  size_t FreeCountLocked() const TA_REQ(mu_);
  // Picks a free slot (see Add for the reuse policy); false when the table is full.
  bool TakeSlotLocked(uint32_t* index) TA_REQ(mu_);
  // Returns the slot index for a live-or-transit value, or -1.
  int64_t DecodeLocked(mx_handle_t value) const TA_REQ(mu_);
  Slot* LiveSlotLocked(mx_handle_t value) TA_REQ(mu_);
  // The lookup's checks, in their order (BAD_HANDLE, ACCESS_DENIED, WRONG_TYPE unless |type| is
  // 0): the slot of |value|'s live handle, or nullptr with the reason in |*status|.
  Slot* CheckedSlotLocked(mx_handle_t value, mx_rights_t rights, uint32_t type, mx_status_t* status)
      TA_REQ(mu_);

  Mutex mu_;
  const uint32_t mixer_;
  std::vector<Slot> slots_ TA_GUARDED(mu_);
  std::vector<uint32_t> free_ TA_GUARDED(mu_);  // indices, reused FIFO-ish to delay generation wrap
  size_t free_head_ TA_GUARDED(mu_) = 0;
};

template <typename Check>
mx_status_t HandleTable::BeginTransfer(const mx_handle_t* values, size_t count, Check check,
                                       std::vector<std::shared_ptr<Handle>>* out) {
  MutexLock lock(&mu_);
  out->clear();
  // Validation pass, in array order (Magenta: BAD_HANDLE / NOT_SUPPORTED / ACCESS_DENIED).
  for (size_t i = 0; i < count; ++i) {
    Slot* slot = LiveSlotLocked(values[i]);
    if (slot == nullptr) return MX_ERR_BAD_HANDLE;
    mx_status_t st = check(*slot->handle);
    if (st != MX_OK) return st;
  }
  // Removal pass: a value seen twice is INVALID_ARGS, with everything put back.
  for (size_t i = 0; i < count; ++i) {
    Slot* slot = LiveSlotLocked(values[i]);
    if (slot == nullptr) {
      for (size_t j = 0; j < i; ++j)
        slots_[static_cast<size_t>(DecodeLocked(values[j]))].state = kLive;
      out->clear();
      return MX_ERR_INVALID_ARGS;
    }
    slot->state = kTransit;
    out->push_back(slot->handle);
  }
  return MX_OK;
}

}  // namespace mx::internal
