// SPDX-License-Identifier: BSD-3-Clause
// MessageRing: the flags and counters the two ends signal each other with (waking, closing,
// placement, room for a waiting writer), beside the records and memory in message_ring.cc.
#include <atomic>

#include "transport/message_ring.h"
#include "transport/message_ring_header.h"

namespace mx::internal {

bool MessageRing::HasRecord() const {
  if (!map_.is_valid()) return false;
  return header()->head.load(std::memory_order_acquire) !=
         header()->tail.load(std::memory_order_relaxed);
}

void MessageRing::SetReaderWaiting(bool waiting) {
  if (!map_.is_valid()) return;
  // Sequentially consistent, like the writer's store of |head| and our later load of it: either
  // the writer sees the flag, or we see its record (no fences: ThreadSanitizer can't model them).
  header()->reader_waiting.store(waiting ? 1 : 0, std::memory_order_seq_cst);
}

bool MessageRing::TakeKick() {
  if (!map_.is_valid()) return false;
  Header* h = header();
  if (h->reader_waiting.load(std::memory_order_seq_cst) == 0) return false;
  return h->kick_pending.exchange(1, std::memory_order_seq_cst) == 0;
}

void MessageRing::ClearKickPending() {
  if (!map_.is_valid()) return;
  header()->kick_pending.store(0, std::memory_order_seq_cst);
}

void MessageRing::CountSocketFrame() {
  if (!map_.is_valid()) return;
  header()->socket_frames.fetch_add(1, std::memory_order_release);
}

uint64_t MessageRing::SocketFrames() const {
  if (!map_.is_valid()) return 0;
  return header()->socket_frames.load(std::memory_order_acquire);
}

void MessageRing::MarkWriterDone() {
  if (map_.is_valid()) header()->writer_done.store(1, std::memory_order_release);
}

void MessageRing::MarkReaderClosed() {
  if (map_.is_valid()) header()->reader_closed.store(1, std::memory_order_release);
}

void MessageRing::MarkAttached() {
  if (!map_.is_valid()) return;
  PublishPlacement(&header()->reader_cpus);
  header()->reader_attached.store(1, std::memory_order_release);
}

uint64_t MessageRing::WriterPlacement() const {
  return map_.is_valid() ? header()->writer_cpus.load(std::memory_order_relaxed) : 0;
}

uint64_t MessageRing::ReaderPlacement() const {
  return map_.is_valid() ? header()->reader_cpus.load(std::memory_order_relaxed) : 0;
}

bool MessageRing::ReaderAttached() const {
  return map_.is_valid() && header()->reader_attached.load(std::memory_order_acquire) != 0;
}

bool MessageRing::WriterDone() const {
  return map_.is_valid() && header()->writer_done.load(std::memory_order_acquire) != 0;
}

bool MessageRing::Finished() {
  if (!map_.is_valid() || broken_ || !WriterDone()) return false;
  // The flag was set after the writer's last record: a look at head from here on sees it.
  uint64_t seq;
  return !Peek(&seq);
}

UniqueFd MessageRing::TakeFd() { return std::move(fd_); }

bool MessageRing::ReaderClosed() const {
  return map_.is_valid() && header()->reader_closed.load(std::memory_order_acquire) != 0;
}

uint64_t MessageRing::BufferedPayload() const {
  if (!map_.is_valid()) return 0;
  uint64_t in = header()->payload_in.load(std::memory_order_acquire);
  uint64_t out = header()->payload_out.load(std::memory_order_seq_cst);  // see Consume
  return in >= out ? in - out : 0;
}

void MessageRing::SetWriterWaiting() {
  if (map_.is_valid()) header()->writer_waiting.store(1, std::memory_order_seq_cst);
}

bool MessageRing::TakeWriterWake() {
  if (!map_.is_valid()) return false;
  if (header()->writer_waiting.load(std::memory_order_seq_cst) == 0) return false;
  if (BufferedPayload() > payload_limit_ / 2) return false;
  return header()->writer_waiting.exchange(0, std::memory_order_seq_cst) != 0;
}

}  // namespace mx::internal
