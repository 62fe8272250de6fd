// SPDX-License-Identifier: BSD-3-Clause
#include "object/handle_table.h"

#include <pthread.h>

#include "base/check.h"
#include "os/fd_registry.h"
#include "os/koid.h"
#include "os/nofile_limit.h"
#include "os/random.h"

namespace mx::internal {
namespace {

HandleTable* g_table = nullptr;
std::once_flag g_table_once;

uint32_t RandomMixer() {
  const uint32_t r = WeakRandomU32();
  // Low two bits and bit 31 clear: values stay odd and positive.
  return r & 0x7ffffffcu;
}

// fork() support: the child starts with an empty handle table and none of libmx's fds.
// A forked child must not keep the parent's channels alive: if it held a copy of a socket, the
// peer would never see PEER_CLOSED when the parent closes its end. So the child closes every fd
// libmx owned (os/fd_registry.h) and starts with a fresh table. The parent's objects are
// abandoned in the child, never destroyed: other threads may have held their locks at fork.
// ForkPrepare returns with the table's lock held (the analysis cannot pair it with the handlers
// that release it after fork).
void ForkPrepare() TA_NO_ANALYSIS { HandleTable::Get().LockForFork(); }
void ForkParent() { HandleTable::Get().UnlockForFork(); }
void ForkChild() {
  FdRegistryCloseAllInChild();
  BumpForkGeneration();
  ResetKoidStateInChild();
  HandleTable::ResetInChild();
}

}  // namespace

HandleTable& HandleTable::Get() {
  // Registered here, with the table, so that every program that has handles has the handlers
  // (a separate translation unit could be dropped by the linker from the static library). For
  // the same reason the table names the load-time fd limit raise (os/nofile_limit.h), which has
  // normally run already.
  std::call_once(g_table_once, [] {
    g_table = new HandleTable();
    ::pthread_atfork(ForkPrepare, ForkParent, ForkChild);
    RaiseNofileLimitOnce();
  });
  return *g_table;
}

HandleTable::HandleTable() : mixer_(RandomMixer()) {}

mx_handle_t HandleTable::Encode(uint32_t index, uint16_t generation) const {
  uint32_t base = (static_cast<uint32_t>(generation & kGenerationMask) << kIndexBits) | index;
  return static_cast<mx_handle_t>(mixer_ ^ ((base << 1) | 1u));
}

int64_t HandleTable::DecodeLocked(mx_handle_t value) const {
  if (value <= 0) return -1;
  uint32_t v = static_cast<uint32_t>(value) ^ mixer_;
  if ((v & 1u) == 0) return -1;
  uint32_t base = v >> 1;
  uint32_t index = base & (kMaxHandles - 1);
  uint32_t generation = (base >> kIndexBits) & kGenerationMask;
  if ((base >> kIndexBits) > kGenerationMask) return -1;
  if (index >= slots_.size()) return -1;
  const Slot& slot = slots_[index];
  if (slot.state == kFree || slot.state == kReserved || slot.generation != generation) return -1;
  return index;
}

HandleTable::Slot* HandleTable::LiveSlotLocked(mx_handle_t value) {
  int64_t index = DecodeLocked(value);
  if (index < 0) return nullptr;
  Slot* slot = &slots_[static_cast<size_t>(index)];
  return slot->state == kLive ? slot : nullptr;
}

bool HandleTable::TakeSlotLocked(uint32_t* index) {
  // Reuse a freed slot only once enough have accumulated, so a just-closed value stays invalid
  // for a while even before its generation changes.
  if (free_.size() - free_head_ > 64) {
    *index = free_[free_head_++];
    if (free_head_ > 4096 && free_head_ * 2 > free_.size()) {
      free_.erase(free_.begin(), free_.begin() + static_cast<ptrdiff_t>(free_head_));
      free_head_ = 0;
    }
  } else if (slots_.size() >= kMaxHandles) {
    if (free_head_ == free_.size()) return false;
    *index = free_[free_head_++];
  } else {
    *index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    slots_.back().generation = 1;
  }
  return true;
}

size_t HandleTable::FreeCountLocked() const {
  return (kMaxHandles - slots_.size()) + (free_.size() - free_head_);
}

mx_handle_t HandleTable::Add(std::shared_ptr<Handle> handle) {
  MutexLock lock(&mu_);
  uint32_t index;
  if (!TakeSlotLocked(&index)) return MX_HANDLE_INVALID;
  Slot& slot = slots_[index];
  slot.handle = std::move(handle);
  slot.state = kLive;
  return Encode(index, slot.generation);
}

bool HandleTable::HasRoom(size_t count) {
  MutexLock lock(&mu_);
  return FreeCountLocked() >= count;
}

bool HandleTable::Reserve(size_t count, std::vector<uint32_t>* slots) {
  MutexLock lock(&mu_);
  slots->clear();
  if (FreeCountLocked() < count) return false;
  slots->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t index = 0;
    const bool took = TakeSlotLocked(&index);
    MX_DCHECK(took);  // counted above
    slots_[index].state = kReserved;
    slots->push_back(index);
  }
  return true;
}

mx_handle_t HandleTable::Fill(uint32_t index, std::shared_ptr<Handle> handle) {
  MutexLock lock(&mu_);
  Slot& slot = slots_[index];
  MX_DCHECK(slot.state == kReserved);
  slot.handle = std::move(handle);
  slot.state = kLive;
  return Encode(index, slot.generation);
}

void HandleTable::Unreserve(const std::vector<uint32_t>& slots) {
  MutexLock lock(&mu_);
  for (uint32_t index : slots) {
    // No value was ever issued for the slot, so its generation stays.
    MX_DCHECK(slots_[index].state == kReserved);
    slots_[index].state = kFree;
    free_.push_back(index);
  }
}

mx_status_t HandleTable::Lookup(mx_handle_t value, mx_rights_t rights, uint32_t type,
                                std::shared_ptr<Handle>* out) {
  MutexLock lock(&mu_);
  mx_status_t st = MX_OK;
  Slot* slot = CheckedSlotLocked(value, rights, type, &st);
  if (slot == nullptr) return st;
  *out = slot->handle;
  return MX_OK;
}

mx_status_t HandleTable::LookupObject(mx_handle_t value, mx_rights_t rights, uint32_t type,
                                      std::shared_ptr<Object>* out, mx_rights_t* handle_rights) {
  MutexLock lock(&mu_);
  mx_status_t st = MX_OK;
  Slot* slot = CheckedSlotLocked(value, rights, type, &st);
  if (slot == nullptr) return st;
  *out = slot->handle->object();
  if (handle_rights != nullptr) *handle_rights = slot->handle->rights();
  return MX_OK;
}

HandleTable::Slot* HandleTable::CheckedSlotLocked(mx_handle_t value, mx_rights_t rights,
                                                  uint32_t type, mx_status_t* status) {
  Slot* slot = LiveSlotLocked(value);
  if (slot == nullptr) {
    *status = MX_ERR_BAD_HANDLE;
    return nullptr;
  }
  if (!slot->handle->HasRights(rights)) {
    *status = MX_ERR_ACCESS_DENIED;
    return nullptr;
  }
  if (type != 0 && slot->handle->object()->type() != type) {
    *status = MX_ERR_WRONG_TYPE;
    return nullptr;
  }
  return slot;
}

mx_status_t HandleTable::Remove(mx_handle_t value, std::shared_ptr<Handle>* out) {
  MutexLock lock(&mu_);
  Slot* slot = LiveSlotLocked(value);
  if (slot == nullptr) return MX_ERR_BAD_HANDLE;
  *out = std::move(slot->handle);
  slot->handle.reset();
  slot->state = kFree;
  slot->generation = static_cast<uint16_t>((slot->generation + 1) & kGenerationMask);
  free_.push_back(static_cast<uint32_t>(slot - slots_.data()));
  return MX_OK;
}

void HandleTable::CommitTransfer(const mx_handle_t* values, size_t count) {
  MutexLock lock(&mu_);
  for (size_t i = 0; i < count; ++i) {
    int64_t index = DecodeLocked(values[i]);
    if (index < 0) continue;
    Slot& slot = slots_[static_cast<size_t>(index)];
    MX_DCHECK(slot.state == kTransit);  // BeginTransfer took it
    slot.handle.reset();
    slot.state = kFree;
    slot.generation = static_cast<uint16_t>((slot.generation + 1) & kGenerationMask);
    free_.push_back(static_cast<uint32_t>(index));
  }
}

void HandleTable::AbortTransfer(const mx_handle_t* values, size_t count) {
  MutexLock lock(&mu_);
  for (size_t i = 0; i < count; ++i) {
    int64_t index = DecodeLocked(values[i]);
    if (index >= 0) slots_[static_cast<size_t>(index)].state = kLive;
  }
}

void HandleTable::LockForFork() { mu_.lock(); }
void HandleTable::UnlockForFork() {
  // The forking thread took the lock in LockForFork (the prepare handler) and holds it.
  mu_.AssertHeld();
  mu_.unlock();
}

void HandleTable::ResetInChild() {
  // (Runs in the child; g_table's mutex is held by the forking thread and stays so.)
  // The parent's table (and every object in it) is abandoned, not destroyed: other threads of
  // the parent may have held locks inside those objects at the moment of fork. The fds were
  // closed by FdRegistryCloseAllInChild. The old table stays reachable, so leak checkers stay
  // quiet.
  static std::vector<HandleTable*>* graveyard = new std::vector<HandleTable*>();
  if (g_table != nullptr) graveyard->push_back(g_table);
  g_table = new HandleTable();
}

}  // namespace mx::internal
