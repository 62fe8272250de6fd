// SpillRing: a single-producer, single-consumer ring of messages in shared memory (a memfd
// mapped by both ends of one direction of a channel).
//
// Why: the kernel buffers only ~200 KiB per AF_UNIX socket for an unprivileged process, but a
// channel must buffer at least 4 MiB per direction before SHOULD_WAIT (SPEC B.5). When the socket
// is full, the writer puts handle-free messages here instead; every data message carries a
// sequence number, so the reader merges the socket and the ring back into one ordered stream.
//
// Layout: a 4 KiB header page, then |capacity| bytes of records:
//   record = {u64 seq, u32 len, u32 flags} + len bytes, padded to 8. flags & 1: wrap marker;
//   flags & 2 (kRecordHasHandles): the payload of a message whose handles went on the socket.
//   A gap of fewer than 16 bytes at the end of the data area is skipped implicitly.
// head/payload_in are written only by the writer, tail/payload_out only by the reader.
//
// Trust: the other end may be hostile. Every index and length read from shared memory is
// checked before use and copied once; a violation makes the ring (and so the channel) broken,
// never a crash. The memfd is sealed against shrinking, so a mapping cannot fault (SIGBUS).
//
// Not thread-safe: the owning endpoint serializes access under its lock.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {

class SpillRing {
 public:
  SpillRing() = default;
  ~SpillRing();
  SpillRing(SpillRing&& other) noexcept;
  SpillRing& operator=(SpillRing&& other) noexcept;
  SpillRing(const SpillRing&) = delete;
  SpillRing& operator=(const SpillRing&) = delete;

  // Creates a ring whose data area holds |capacity| bytes and at most |payload_limit| bytes of
  // message payload at a time.
  static mx_status_t Create(size_t capacity, size_t payload_limit, SpillRing* out);
  // Maps a ring received from the other end; MX_ERR_IO if it is not a valid ring.
  static mx_status_t Attach(UniqueFd fd, SpillRing* out);

  bool valid() const { return base_ != nullptr; }
  int fd() const { return fd_.get(); }
  bool broken() const { return broken_; }

  static constexpr uint32_t kRecordHasHandles = 2;

  // Writer: true if a record of |len| bytes fits now.
  bool HasRoom(uint32_t len);
  // Writer: appends a record; false if there is no room (or the ring is broken).
  bool TryWrite(uint64_t seq, const void* data, uint32_t len, uint32_t flags = 0);
  // Reader: the sequence number and flags of the first record, if any.
  bool Peek(uint64_t* seq, uint32_t* flags = nullptr);
  // Reader: removes the first record into |out|; Peek must have returned true.
  void Pop(std::vector<uint8_t>* out);

  // Payload bytes written and not yet read.
  uint64_t BufferedPayload() const;
  // Writer: it found the ring full and waits for the reader to make room.
  void SetWriterWaiting();
  // Reader: true (once) when a waiting writer should be woken: the ring is at most half full.
  bool TakeWriterWake();

 private:
  struct Header;
  Header* header() const { return reinterpret_cast<Header*>(base_); }
  uint8_t* data() const { return static_cast<uint8_t*>(base_) + kHeaderBytes; }
  void Unmap();
  // Reader: validates the record at tail and returns its offset and length (skipping wraps).
  bool LocateLocked(uint64_t* tail, uint64_t* seq, uint32_t* len, uint32_t* flags);
  // Writer: where a record of |len| bytes would go; false if it does not fit.
  bool PlanWrite(uint32_t len, uint64_t* head, uint64_t* pos, uint64_t* waste);

  static constexpr size_t kHeaderBytes = 4096;
  UniqueFd fd_;
  void* base_ = nullptr;
  size_t map_bytes_ = 0;
  size_t capacity_ = 0;
  size_t payload_limit_ = 0;
  bool broken_ = false;
};

}  // namespace mx::internal
