// SPDX-License-Identifier: BSD-3-Clause
#include "transport/fifo_ring.h"

#include <cstring>
#include <new>

#include "base/check.h"
#include "transport/fifo_ring_page.h"

namespace mx::internal {

namespace {

// How often a writer tries for a lock word another writer of its side holds, and a reader
// retries after other readers took the elements it copied, before it reports kBusy.
constexpr int kMaxTries = 64;

}  // namespace

bool FifoShapeValid(uint32_t count, uint32_t size) {
  if (count == 0 || size == 0 || (count & (count - 1)) != 0) return false;
  return count <= kFifoMaxBytes && size <= kFifoMaxBytes && uint64_t{count} * size <= kFifoMaxBytes;
}

void FifoRing::Format(void* mem, const FifoShape& shape) {
  auto* page = new (mem) FifoPage();
  page->magic = kFifoMagic;
  page->version = kFifoVersion;
  page->elem_count = shape.elem_count;
  page->elem_size = shape.elem_size;
  page->koid[0] = shape.koid[0];
  page->koid[1] = shape.koid[1];
}

bool FifoRing::ValidateShape(const void* mem, uint64_t koid, uint64_t peer_koid, FifoShape* shape,
                             int* side) {
  // Each field is copied once: another holder may change the page while we look.
  FifoShape s;
  const auto* page = static_cast<const volatile FifoPage*>(mem);
  const uint32_t magic = page->magic;
  const uint32_t version = page->version;
  s.elem_count = page->elem_count;
  s.elem_size = page->elem_size;
  s.koid[0] = page->koid[0];
  s.koid[1] = page->koid[1];
  if (magic != kFifoMagic || version != kFifoVersion) return false;
  if (!FifoShapeValid(s.elem_count, s.elem_size)) return false;
  if (koid == 0 || peer_koid == 0 || koid == peer_koid) return false;
  int which;
  if (s.koid[0] == koid && s.koid[1] == peer_koid) {
    which = 0;
  } else if (s.koid[1] == koid && s.koid[0] == peer_koid) {
    which = 1;
  } else {
    return false;
  }
  *shape = s;
  *side = which;
  return true;
}

FifoRing::FifoRing(void* mem, const FifoShape& shape, int side)
    : page_(static_cast<FifoPage*>(mem)),
      count_(shape.elem_count),
      size_(shape.elem_size),
      side_(side) {
  MX_DCHECK(side == 0 || side == 1);
  MX_DCHECK(FifoShapeValid(count_, size_));
  auto* base = static_cast<uint8_t*>(mem);
  out_slots_ = base + 4096 * (1 + side);
  in_slots_ = base + 4096 * (2 - side);
}

bool FifoRing::TakeWriteLock() {
  std::atomic<uint32_t>& lock = page_->queue[side_].write_lock;
  for (int i = 0; i < kMaxTries; ++i) {
    uint32_t expected = 0;
    if (lock.compare_exchange_strong(expected, 1, std::memory_order_acquire)) return true;
  }
  return false;
}

FifoRing::Result FifoRing::Write(const void* buffer, uint32_t count, uint32_t* written,
                                 bool* wake_peer, bool* filled) {
  MX_DCHECK(count >= 1);
  *wake_peer = false;
  FifoPage::Queue& q = page_->queue[side_];
  if (!TakeWriteLock()) return Result::kBusy;
  const uint32_t head = q.head.load(std::memory_order_relaxed);
  const uint32_t tail = q.tail.load(std::memory_order_acquire);
  const uint32_t used = head - tail;
  Result result = Result::kOk;
  if (used > count_) {
    result = Result::kCorrupt;
  } else if (used == count_) {
    result = Result::kFull;
  } else if (buffer == nullptr) {
    result = Result::kFault;
  }
  if (result != Result::kOk) {
    q.write_lock.store(0, std::memory_order_release);
    return result;
  }
  const uint32_t n = count < count_ - used ? count : count_ - used;
  // At most two copies: up to the end of the slots, then from the start.
  const uint32_t first_slot = head & (count_ - 1);
  const uint32_t first = n < count_ - first_slot ? n : count_ - first_slot;
  const auto* src = static_cast<const uint8_t*>(buffer);
  std::memcpy(out_slots_ + size_t{first_slot} * size_, src, size_t{first} * size_);
  if (n > first) std::memcpy(out_slots_, src + size_t{first} * size_, size_t{n - first} * size_);
  // Publishes the elements, then looks for sleepers: sequentially consistent with the sleeper's
  // ArmSleeper and its last look (see "Waking").
  q.head.store(head + n, std::memory_order_seq_cst);
  q.write_lock.store(0, std::memory_order_release);
  *wake_peer = HasSleepers(1 - side_);
  if (filled != nullptr) *filled = used + n == count_;
  *written = n;
  return Result::kOk;
}

FifoRing::Result FifoRing::Read(void* buffer, uint32_t count, uint32_t* read, bool* wake_peer,
                                bool* emptied) {
  MX_DCHECK(count >= 1);
  *wake_peer = false;
  FifoPage::Queue& q = page_->queue[1 - side_];
  for (int i = 0; i < kMaxTries; ++i) {
    uint32_t tail = q.tail.load(std::memory_order_acquire);
    const uint32_t head = q.head.load(std::memory_order_acquire);
    const uint32_t used = head - tail;
    if (used > count_) return Result::kCorrupt;
    if (used == 0) return Result::kEmpty;
    if (buffer == nullptr) return Result::kFault;
    const uint32_t n = count < used ? count : used;
    const uint32_t first_slot = tail & (count_ - 1);
    const uint32_t first = n < count_ - first_slot ? n : count_ - first_slot;
    auto* dst = static_cast<uint8_t*>(buffer);
    std::memcpy(dst, in_slots_ + size_t{first_slot} * size_, size_t{first} * size_);
    if (n > first) std::memcpy(dst + size_t{first} * size_, in_slots_, size_t{n - first} * size_);
    // The copy is ours only if no other reader took these elements meanwhile (then a writer may
    // have reused their slots, and what we copied is discarded).
    if (!q.tail.compare_exchange_strong(tail, tail + n, std::memory_order_seq_cst)) continue;
    *wake_peer = used == count_ && HasSleepers(1 - side_);
    if (emptied != nullptr) *emptied = n == used;
    *read = n;
    return Result::kOk;
  }
  return Result::kBusy;
}

mx_signals_t FifoRing::QueueSignals(bool* corrupt) const {
  const FifoPage::Queue& in = page_->queue[1 - side_];
  const FifoPage::Queue& out = page_->queue[side_];
  const uint32_t in_used =
      in.head.load(std::memory_order_seq_cst) - in.tail.load(std::memory_order_seq_cst);
  const uint32_t out_used =
      out.head.load(std::memory_order_seq_cst) - out.tail.load(std::memory_order_seq_cst);
  *corrupt = in_used > count_ || out_used > count_;
  mx_signals_t s = 0;
  if (in_used != 0 && in_used <= count_) s |= MX_FIFO_READABLE;
  if (out_used < count_) s |= MX_FIFO_WRITABLE;
  return s;
}

uint32_t FifoRing::UserSignals(int side) const {
  return page_->side[side].user_signals.load(std::memory_order_acquire) & MX_USER_SIGNAL_ALL;
}

uint32_t FifoRing::UpdateUserSignals(int side, uint32_t clear_mask, uint32_t set_mask) {
  std::atomic<uint32_t>& word = page_->side[side].user_signals;
  uint32_t old = word.load(std::memory_order_relaxed);
  while (
      !word.compare_exchange_weak(old, (old & ~clear_mask) | set_mask, std::memory_order_seq_cst)) {
  }
  return old;
}

void FifoRing::AddHolder(int side) {
  page_->side[side].holders.fetch_add(1, std::memory_order_acq_rel);
}

void FifoRing::DropHolder(int side) {
  page_->side[side].holders.fetch_sub(1, std::memory_order_acq_rel);
}

bool FifoRing::ClosedInOrder(int side) const {
  return page_->side[side].holders.load(std::memory_order_acquire) == 0;
}

void FifoRing::ArmSleeper() { page_->side[side_].sleepers.fetch_add(1, std::memory_order_seq_cst); }

void FifoRing::DisarmSleeper() {
  page_->side[side_].sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

bool FifoRing::HasSleepers(int side) const {
  return page_->side[side].sleepers.load(std::memory_order_seq_cst) != 0;
}

uint64_t FifoRing::Placement(int side) const {
  return page_->side[side].placement.load(std::memory_order_relaxed);
}

void FifoRing::PublishPlacement(uint64_t placement) {
  std::atomic<uint64_t>& word = page_->side[side_].placement;
  if (word.load(std::memory_order_relaxed) != placement) {
    word.store(placement, std::memory_order_relaxed);
  }
}

}  // namespace mx::internal
