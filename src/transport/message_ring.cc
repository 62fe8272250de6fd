// SPDX-License-Identifier: BSD-3-Clause
#include "transport/message_ring.h"

#include <atomic>
#include <cstring>
#include <utility>

#include "base/check.h"
#include "os/clock.h"
#include "os/cpu_placement.h"
#include "os/fd_check.h"
#include "os/spin.h"
#include "transport/message_ring_header.h"

namespace mx::internal {

namespace {

constexpr uint32_t kRingMagic = 0x474e524du;  // "MRNG"
constexpr uint32_t kRecordHeader = 16;
constexpr uint32_t kWrapFlag = 1;
constexpr size_t kMaxCapacity = size_t{1} << 30;
constexpr uint32_t kRingVersion = 4;
// When the reader empties the ring at least this far into the data area, both ends start again
// at offset 0: a channel whose reader keeps up only ever touches its first pages.
constexpr uint64_t kRewindAfterBytes = 16 * 1024;
// When a burst took the reader beyond this and the ring is empty again, the pages past the
// front are given back to the kernel.
constexpr uint64_t kReleaseAboveBytes = 256 * 1024;
constexpr mx_duration_t kReleaseEvery = 1'000'000'000;  // 1 s
constexpr uint64_t kPage = 4096;
constexpr uint32_t kFree = 0;
constexpr uint32_t kWriterBusy = 1;
constexpr uint32_t kReaderBusy = 2;

struct Record {
  uint64_t seq;
  uint32_t len;
  uint32_t flags;
};
static_assert(sizeof(Record) == kRecordHeader);

constexpr uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

}  // namespace

MessageRing::~MessageRing() = default;

MessageRing::MessageRing(MessageRing&& other) noexcept { *this = std::move(other); }

MessageRing& MessageRing::operator=(MessageRing&& other) noexcept {
  if (this != &other) {
    map_ = std::move(other.map_);
    fd_ = std::move(other.fd_);
    capacity_ = other.capacity_;
    payload_limit_ = other.payload_limit_;
    consumed_hi_ = other.consumed_hi_;
    last_release_ = other.last_release_;
    seen_tail_ = other.seen_tail_;
    seen_out_ = other.seen_out_;
    seen_head_ = other.seen_head_;
    located_ = std::exchange(other.located_, std::nullopt);
    published_cpus_ = other.published_cpus_;
    broken_ = other.broken_;
  }
  return *this;
}

mx_status_t MessageRing::Create(size_t capacity, size_t payload_limit, MessageRing* out) {
  capacity = Align8(capacity);
  if (capacity < 2 * (MX_CHANNEL_MAX_MSG_BYTES + kRecordHeader) || capacity > kMaxCapacity) {
    return MX_ERR_INVALID_ARGS;
  }
  const size_t total = kHeaderBytes + capacity;
  UniqueFd fd;
  Mapping map;
  mx_status_t st = CreateSealedMapping("mx-channel-ring", total, &fd, &map);
  if (st != MX_OK) return st;
  static_assert(sizeof(Header) <= kHeaderBytes, "the header must fit its page share");
  auto* h = new (map.get()) Header();
  h->magic = kRingMagic;
  h->version = kRingVersion;
  h->capacity = capacity;
  h->payload_limit = payload_limit;
  MessageRing ring;
  ring.fd_ = std::move(fd);
  ring.map_ = std::move(map);
  ring.capacity_ = capacity;
  ring.payload_limit_ = payload_limit;
  ring.PublishPlacement(&h->writer_cpus);
  *out = std::move(ring);
  return MX_OK;
}

mx_status_t MessageRing::Attach(UniqueFd fd, MessageRing* out) {
  // The rule Create follows (os/fd_check.h): sealed against resizing, writable, and sized for
  // at least two records of the largest message.
  uint64_t bytes = 0;
  if (CheckRingMemfd(fd.get(), kHeaderBytes + 2 * (MX_CHANNEL_MAX_MSG_BYTES + kRecordHeader),
                     kHeaderBytes + kMaxCapacity, &bytes) != MX_OK) {
    return MX_ERR_IO;
  }
  const size_t total = static_cast<size_t>(bytes);
  Mapping map;
  mx_status_t st = map.MapReceived(fd.get(), total, /*writable=*/true);
  if (st != MX_OK) return st;
  MessageRing ring;
  ring.fd_ = std::move(fd);
  ring.map_ = std::move(map);
  // The capacity is derived from the file size we checked, never trusted from the header.
  ring.capacity_ = (total - kHeaderBytes) & ~size_t{7};
  if (ring.header()->magic != kRingMagic || ring.header()->version != kRingVersion) {
    return MX_ERR_IO;
  }
  uint64_t limit = ring.header()->payload_limit;
  ring.payload_limit_ = limit < ring.capacity_ ? static_cast<size_t>(limit) : ring.capacity_;
  *out = std::move(ring);
  return MX_OK;
}

bool MessageRing::PlanWrite(uint32_t len, uint64_t* head_out, uint64_t* pos_out,
                            uint64_t* waste_out) {
  if (broken_ || !map_.is_valid()) return false;
  if (len > MX_CHANNEL_MAX_MSG_BYTES) return false;  // the reader would take it for corruption
  Header* h = header();
  const uint64_t head = h->head.load(std::memory_order_relaxed);
  const uint64_t in = h->payload_in.load(std::memory_order_relaxed);
  const uint64_t need = kRecordHeader + Align8(len);
  const uint64_t pos = head % capacity_;
  const uint64_t to_end = capacity_ - pos;
  const uint64_t waste = to_end < need ? to_end : 0;
  // The reader's counters as last seen: they only grow (a rewind moves head too), so an old
  // view shows less room than there is. Only when it shows too little are they read afresh,
  // which moves the reader's cache line here (and validated: the reader may be hostile).
  auto fits = [&](uint64_t tail, uint64_t out) {
    return tail <= head && head - tail <= capacity_ && out <= in &&
           (in - out) + len <= payload_limit_ && head - tail + waste + need <= capacity_;
  };
  if (!fits(seen_tail_, seen_out_)) {
    seen_tail_ = h->tail.load(std::memory_order_acquire);
    seen_out_ = h->payload_out.load(std::memory_order_seq_cst);
    if (seen_tail_ > head || head - seen_tail_ > capacity_ || seen_out_ > in) {
      broken_ = true;  // the reader scribbled on its counters
      return false;
    }
    if (!fits(seen_tail_, seen_out_)) return false;
  }
  *head_out = head;
  *pos_out = pos;
  *waste_out = waste;
  return true;
}

bool MessageRing::LockForWriter() {
  if (!map_.is_valid()) return false;
  for (int i = 0; i < 64; ++i) {
    uint32_t expected = kFree;
    if (header()->busy.compare_exchange_weak(expected, kWriterBusy, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
      return true;
    }
    CpuRelax();
  }
  return false;  // the reader is rewinding (or hostile): this message takes the socket
}

void MessageRing::UnlockForWriter() { header()->busy.store(kFree, std::memory_order_release); }

bool MessageRing::HasRoom(uint32_t len) {
  if (!LockForWriter()) return false;
  bool room = HasRoomUnderTryLock(len);
  UnlockForWriter();
  return room;
}

bool MessageRing::HasRoomUnderTryLock(uint32_t len) {
  uint64_t head, pos, waste;
  return PlanWrite(len, &head, &pos, &waste);
}

bool MessageRing::TryWrite(uint64_t seq, const void* bytes, uint32_t len, uint32_t flags) {
  if (!LockForWriter()) return false;
  bool ok = WriteUnderTryLock(seq, bytes, len, flags);
  UnlockForWriter();
  return ok;
}

bool MessageRing::WriteUnderTryLock(uint64_t seq, const void* bytes, uint32_t len, uint32_t flags) {
  uint64_t head, pos, waste;
  if (!PlanWrite(len, &head, &pos, &waste)) return false;
  Header* h = header();
  const uint64_t need = kRecordHeader + Align8(len);
  if (waste > 0) {
    if (waste >= kRecordHeader) {
      Record wrap = {0, 0, kWrapFlag};
      std::memcpy(data() + pos, &wrap, sizeof(wrap));
    }
    head += waste;
    pos = 0;
  }
  // PlanWrite found room: the record, after any wrap, lies inside the data area.
  MX_DCHECK(pos + need <= capacity_);
  Record r = {seq, len, flags & kRecordHasHandles};
  std::memcpy(data() + pos, &r, sizeof(r));
  if (len > 0) std::memcpy(data() + pos + kRecordHeader, bytes, len);
  uint64_t in = h->payload_in.load(std::memory_order_relaxed);
  h->payload_in.store(in + len, std::memory_order_relaxed);
  // seq_cst: see SetReaderWaiting.
  h->head.store(head + need, std::memory_order_seq_cst);
  PublishPlacement(&h->writer_cpus);
  return true;
}

bool MessageRing::Locate(uint64_t* tail_out, uint64_t* seq, uint32_t* len, uint32_t* flags) {
  if (broken_ || !map_.is_valid()) return false;
  if (located_) {
    *tail_out = located_->tail;
    *seq = located_->seq;
    *len = located_->len;
    *flags = located_->flags;
    return true;
  }
  Header* h = header();
  uint64_t tail = h->tail.load(std::memory_order_relaxed);
  for (int hops = 0; hops < 2; ++hops) {
    // The writer's head as last seen covers whole records; only when it shows none (or looks
    // odd) is it read afresh, which moves the writer's cache line here.
    uint64_t head = seen_head_;
    if (head == tail || head < tail || head - tail > capacity_) {
      head = seen_head_ = h->head.load(std::memory_order_seq_cst);  // see SetReaderWaiting
    }
    if (head == tail) return false;
    if (head < tail || head - tail > capacity_) {
      broken_ = true;
      return false;
    }
    uint64_t pos = tail % capacity_;
    uint64_t to_end = capacity_ - pos;
    if (to_end < kRecordHeader) {
      tail += to_end;
      continue;
    }
    if (head - tail < kRecordHeader) {
      broken_ = true;
      return false;
    }
    Record r;
    std::memcpy(&r, data() + pos, sizeof(r));
    if (r.flags == kWrapFlag) {
      tail += to_end;
      continue;
    }
    if ((r.flags & ~MessageRing::kRecordHasHandles) != 0 || r.len > MX_CHANNEL_MAX_MSG_BYTES ||
        kRecordHeader + Align8(r.len) > to_end || kRecordHeader + Align8(r.len) > head - tail) {
      broken_ = true;
      return false;
    }
    located_ = Located{tail, r.seq, r.len, r.flags};
    *tail_out = tail;
    *seq = r.seq;
    *len = r.len;
    *flags = r.flags;
    return true;
  }
  broken_ = true;
  return false;
}

bool MessageRing::Peek(uint64_t* seq, uint32_t* flags, uint32_t* len) {
  uint64_t tail;
  uint32_t l, f;
  if (!Locate(&tail, seq, &l, &f)) return false;
  if (flags != nullptr) *flags = f;
  if (len != nullptr) *len = l;
  return true;
}

bool MessageRing::PeekPayload(void* out, uint32_t n, uint32_t* got) {
  uint64_t tail, seq;
  uint32_t len, flags;
  if (!Locate(&tail, &seq, &len, &flags)) return false;
  *got = len < n ? len : n;
  std::memcpy(out, data() + tail % capacity_ + kRecordHeader, *got);
  return true;
}

void MessageRing::Pop(std::vector<uint8_t>* out) {
  uint64_t tail, seq;
  uint32_t len, flags;
  if (!Locate(&tail, &seq, &len, &flags)) return;
  uint64_t pos = tail % capacity_;
  MX_DCHECK(pos + kRecordHeader + len <= capacity_);  // Locate validated the record
  out->assign(data() + pos + kRecordHeader, data() + pos + kRecordHeader + len);
  Consume(tail, pos, len);
}

void MessageRing::PopInto(void* out, uint32_t capacity) {
  uint64_t tail, seq;
  uint32_t len, flags;
  if (!Locate(&tail, &seq, &len, &flags)) return;
  uint64_t pos = tail % capacity_;
  MX_DCHECK(pos + kRecordHeader + len <= capacity_);  // Locate validated the record
  if (out != nullptr)
    std::memcpy(out, data() + pos + kRecordHeader, len < capacity ? len : capacity);
  Consume(tail, pos, len);
}

void MessageRing::Consume(uint64_t tail, uint64_t pos, uint32_t len) {
  located_.reset();
  Header* h = header();
  uint64_t out_bytes = h->payload_out.load(std::memory_order_relaxed);
  const uint64_t end = tail + kRecordHeader + Align8(len);
  h->tail.store(end, std::memory_order_release);
  // seq_cst, like the writer's store of |writer_waiting| and its later look at |payload_out|,
  // and our look at |writer_waiting| after this (TakeWriterWake): either we see the flag or the
  // writer sees this record gone. A release store here could be ordered after our look at the
  // flag (store-load reordering), and a writer blocked on a full ring would miss its wake-up.
  h->payload_out.store(out_bytes + len, std::memory_order_seq_cst);
  if (pos + kRecordHeader + Align8(len) > consumed_hi_)
    consumed_hi_ = pos + kRecordHeader + Align8(len);
  PublishPlacement(&h->reader_cpus);
  // Empty as far as we know (seen_head_ never runs ahead of the real head) and truly empty.
  if (end % capacity_ >= kRewindAfterBytes && seen_head_ == end &&
      h->head.load(std::memory_order_acquire) == end) {
    Rewind();
  }
}

// Reader, the ring just became empty far into the data area: move both indices to the next
// multiple of the capacity (offset 0), so the next records reuse the first pages instead of
// touching new ones. Done under |busy|, so the writer is not placing a record meanwhile (it
// reads head afresh under the same flag). After a burst, the pages beyond the front are
// released: they hold nothing (the ring is empty) and read as zeros if touched again.
void MessageRing::Rewind() {
  // Releasing pages makes the kernel unmap them in both processes (TLB shoot-downs) and the
  // writer fault them in again: worth it for a channel going quiet, not for one streaming. So
  // at most every kReleaseEvery here; ReleaseIfIdle does it when the reader is about to sleep.
  Pages pages = Pages::kKeep;
  if (consumed_hi_ > kReleaseAboveBytes && MonotonicNow() - last_release_ >= kReleaseEvery) {
    pages = Pages::kRelease;
  }
  RewindAndRelease(pages);
}

void MessageRing::ReleaseIfIdle() {
  if (!map_.is_valid() || broken_ || consumed_hi_ <= kReleaseAboveBytes) return;
  if (MonotonicNow() - last_release_ < kReleaseEvery) return;
  RewindAndRelease(Pages::kRelease);
}

void MessageRing::RewindAndRelease(Pages pages) {
  Header* h = header();
  uint32_t expected = kFree;
  if (!h->busy.compare_exchange_strong(expected, kReaderBusy, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
    return;  // the writer is writing: the ring is not empty any more
  }
  uint64_t head = h->head.load(std::memory_order_acquire);
  uint64_t tail = h->tail.load(std::memory_order_relaxed);
  if (head == tail) {
    if (pages == Pages::kRelease) {
      // Everything in the data area is dead (the ring is empty); keep the front, which the
      // next records use.
      auto page_up = [](uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); };
      const uint64_t from =
          page_up(kHeaderBytes + kRewindAfterBytes + MX_CHANNEL_MAX_MSG_BYTES + 2 * kRecordHeader);
      const uint64_t to = page_up(kHeaderBytes + consumed_hi_);
      if (to > from) {
        PunchHole(fd_.get(), from, to - from);
      }
      consumed_hi_ = 0;
      last_release_ = MonotonicNow();
    }
    if (tail % capacity_ != 0) {
      uint64_t next = tail + (capacity_ - tail % capacity_);
      h->tail.store(next, std::memory_order_relaxed);
      h->head.store(next, std::memory_order_relaxed);
      seen_head_ = next;
      located_.reset();
    }
  }
  h->busy.store(kFree, std::memory_order_release);
}

// Our end's word (writer_cpus or reader_cpus): stored only when this thread's placement differs
// from what we last stored, so the line is written about once per ring and stays shared.
void MessageRing::PublishPlacement(std::atomic<uint64_t>* word) {
  const uint64_t own = OwnPlacement();
  if (own == published_cpus_) return;
  published_cpus_ = own;
  word->store(own, std::memory_order_relaxed);
}

}  // namespace mx::internal
