// SPDX-License-Identifier: BSD-3-Clause
// MessageRing: a single-producer, single-consumer ring of messages in shared memory (a memfd
// mapped by both ends of one direction of a channel).
//
// It is the channel's data path: a writer puts handle-free messages here (the ring is created
// after the direction's first few messages and announced on the socket), so a message costs no
// system call while the reader is awake. Messages with handles, and messages that find the ring
// full, take the socket; every data message carries a sequence number, so the reader merges the
// socket and the ring back into one ordered stream.
//
// Layout: a 512-byte header, then |capacity| bytes of records:
//   record = {u64 seq, u32 len, u32 flags} + len bytes, padded to 8. flags & 1: wrap marker;
//   flags & 2 (kRecordHasHandles): the payload of a message whose handles went on the socket.
//   A gap of fewer than 16 bytes at the end of the data area is skipped implicitly.
// head/payload_in/socket_frames/writer_done are written only by the writer;
// tail/payload_out/reader_waiting/reader_closed only by the reader; kick_pending by both.
// Placement (a separate cache line, rarely written): writer_cpus by the writer, reader_cpus by
// the reader (see WriterPlacement).
//
// Memory: pages are touched only as records reach them. A reader that empties the ring past the
// first 16 KiB moves both indices back to the front (under a shared try-lock the writer also
// takes; neither ever waits for it), so a channel whose reader keeps up uses a few pages; after
// a burst beyond 256 KiB the reader also gives the pages back (fallocate PUNCH_HOLE on its fd;
// the writer keeps no fd, only its mapping: see TakeFd) when it empties the ring or is about to
// sleep, at most once a second (a release unmaps the pages in both processes and the writer
// faults them in again: right for a channel going quiet, ruinous for one streaming).
//
// Waking the reader: a reader about to block sets reader_waiting and looks at the ring once more;
// a writer publishes its record, and if reader_waiting is set and
// no kick is pending, sends one kick frame on the socket (the reader's poll() wakes). The reader
// clears kick_pending when it reads the kick frame, before it looks at the ring again.
//
// Trust: the other end may be hostile. Every index and length read from shared memory is
// checked before use and copied once; a violation makes the ring (and so the channel) broken,
// never a crash. Flags and counters the peer controls only decide whether we make a system call
// (a lie costs the liar's channel speed, nothing else). The memfd is sealed against shrinking,
// so a mapping cannot fault (SIGBUS).
//
// Not thread-safe: the owning endpoint serializes access under its lock (HasRecord and the
// fast-path flags are atomics and may be read without it).
#pragma once

#include <magenta/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/thread_annotations.h"
#include "os/memfd.h"
#include "os/unique_fd.h"

namespace mx::internal {

// The ring is a capability for the thread-safety analysis: its try-lock (the busy word in shared
// memory, LockForWriter), which the ...UnderTryLock functions require.
class TA_CAP("ring try-lock") MessageRing {
 public:
  MessageRing() = default;
  ~MessageRing();
  MessageRing(MessageRing&& other) noexcept;
  MessageRing& operator=(MessageRing&& other) noexcept;
  MessageRing(const MessageRing&) = delete;
  MessageRing& operator=(const MessageRing&) = delete;

  // Creates a ring whose data area holds |capacity| bytes and at most |payload_limit| bytes of
  // message payload at a time.
  static mx_status_t Create(size_t capacity, size_t payload_limit, MessageRing* out);
  // Maps a ring received from the other end; MX_ERR_IO if it is not a valid ring.
  static mx_status_t Attach(UniqueFd fd, MessageRing* out);

  bool valid() const { return map_.is_valid(); }
  int fd() const { return fd_.get(); }
  bool broken() const { return broken_; }

  static constexpr uint32_t kRecordHasHandles = 2;

  // Writer: true if a record of |len| bytes fits now.
  bool HasRoom(uint32_t len);
  // Writer, for a record that must follow something else (the handle frame of a split
  // message): take the ring's try-lock (false: the reader holds it; nothing was done), check
  // room and write under it, release. While held, the room found cannot shrink.
  bool LockForWriter() TA_TRY_ACQ(true);
  void UnlockForWriter() TA_REL();
  bool HasRoomUnderTryLock(uint32_t len) TA_REQ(this);
  bool WriteUnderTryLock(uint64_t seq, const void* data, uint32_t len, uint32_t flags) TA_REQ(this);
  // Writer: appends a record; false if there is no room (or the ring is broken).
  bool TryWrite(uint64_t seq, const void* data, uint32_t len, uint32_t flags = 0);
  // Reader: the sequence number, flags and payload length of the first record, if any.
  bool Peek(uint64_t* seq, uint32_t* flags = nullptr, uint32_t* len = nullptr);
  // Reader: copies the first |n| payload bytes of the first record (fewer if it is shorter) to
  // |out|, leaving it in place; false if there is none. Returns how many were copied in |*got|.
  bool PeekPayload(void* out, uint32_t n, uint32_t* got);
  // Reader: removes the first record into |out|; Peek must have returned true.
  void Pop(std::vector<uint8_t>* out);
  // Reader: removes the first record, copying its payload to |out| (|capacity| bytes at most,
  // none if |out| is null); Peek must have returned true.
  void PopInto(void* out, uint32_t capacity);

  // Payload bytes written and not yet read.
  uint64_t BufferedPayload() const;
  // ---- Fast-path signalling (both ends are in different processes; see docs/design.md) ----
  // Reader, lock-free: true if a record is published and not yet consumed.
  bool HasRecord() const;
  // Reader: some thread of ours may block in poll() on the socket (true) / none may (false).
  // The flag, the writer's |head| and the reader's look at |head| are sequentially consistent,
  // so a record published before the writer's TakeKick is seen by the reader's next look at the
  // ring, or the writer sees the flag.
  void SetReaderWaiting(bool waiting);
  // Writer, after publishing a record: true if the reader may be blocked and no kick is in
  // flight; the caller then sends one kick frame on the socket.
  bool TakeKick();
  // Reader: it consumed a kick frame (call before looking at the ring again). Writer: the kick
  // TakeKick asked for could not be sent (so none is in flight).
  void ClearKickPending();
  // Writer: one more frame went on the socket after the ring was announced. Reader: how many
  // did. While the count equals what the reader received, the socket holds no frame of the
  // writer's and a reader with records to read need not ask the kernel.
  void CountSocketFrame();
  uint64_t SocketFrames() const;
  // Orderly close: the writer or the reader tells the other end it is gone, so it learns it
  // without a system call. A process that dies is seen on the socket instead. The writer also
  // marks itself done when its endpoint moves to another process: the ring does not travel (the
  // next holder starts one of its own), and no record follows.
  void MarkWriterDone();
  void MarkReaderClosed();
  // Reader: the writer marked its end done. Writer: the reader marked its end closed.
  bool WriterDone() const;
  bool ReaderClosed() const;
  // Reader: the writer is done and every record it published was read; the ring has nothing
  // more to give (a hostile writer that writes on after saying so writes to nobody).
  bool Finished();
  // Writer: takes the memfd out (to announce the ring, then close it); the mapping stays and
  // keeps the memory. Only the reader needs the fd afterwards (it gives pages back).
  UniqueFd TakeFd();
  // Reader: it mapped the ring (so its orderly close will say so in the ring). Writer: whether
  // the reader has; until then only the socket can tell that the reader went away.
  void MarkAttached();
  bool ReaderAttached() const;

  // Where the other end's thread may run (an os/cpu_placement.h word, 0 until published), for a
  // waiter's spin decision. Reader: the writer's. Writer (waiting for room): the reader's. Each
  // end publishes its own as it writes (the writer) or consumes and attaches (the reader). The
  // peer chooses the value: it may decide whether we spin, nothing else.
  uint64_t WriterPlacement() const;
  uint64_t ReaderPlacement() const;

  // Reader, about to sleep: if a burst left pages behind, give them back now (the ring must be
  // empty; at most once a second).
  void ReleaseIfIdle();

  // Writer: it found the ring full and waits for the reader to make room.
  void SetWriterWaiting();
  // Reader: true (once) when a waiting writer should be woken: the ring is at most half full.
  bool TakeWriterWake();

 private:
  struct Header;
  Header* header() const { return static_cast<Header*>(map_.get()); }
  uint8_t* data() const { return static_cast<uint8_t*>(map_.get()) + kHeaderBytes; }
  // Reader: validates the record at tail and returns its offset and length (skipping wraps).
  bool Locate(uint64_t* tail, uint64_t* seq, uint32_t* len, uint32_t* flags);
  // Writer: where a record of |len| bytes would go; false if it does not fit.
  bool PlanWrite(uint32_t len, uint64_t* head, uint64_t* pos, uint64_t* waste);
  void Rewind();
  // Reader: if the ring is empty, moves both indices to the front; with kRelease it also gives
  // back the pages a burst left behind.
  enum class Pages { kKeep, kRelease };
  void RewindAndRelease(Pages pages);
  // Reader: the record at |tail| (offset |pos|, |len| payload bytes) has been copied out.
  void Consume(uint64_t tail, uint64_t pos, uint32_t len);
  // Stores this thread's placement in our end's |word| if it changed since we last did.
  void PublishPlacement(std::atomic<uint64_t>* word);

  // The header shares the first page with the data, so a lightly used ring costs one page.
  static constexpr size_t kHeaderBytes = 512;
  UniqueFd fd_;
  Mapping map_;
  size_t capacity_ = 0;
  size_t payload_limit_ = 0;
  uint64_t consumed_hi_ = 0;  // reader: the furthest offset consumed since the last release
  // Views of the other end's counters (see PlanWrite, Locate): never ahead of the real
  // values from an honest peer, so they can only make an end look again, never overrun.
  uint64_t seen_tail_ = 0;  // writer: the reader's tail and payload_out as last read
  uint64_t seen_out_ = 0;
  uint64_t seen_head_ = 0;  // reader: the writer's head as last read
  // Reader: the first record as Locate found it, until it is consumed.
  struct Located {
    uint64_t tail;
    uint64_t seq;
    uint32_t len;
    uint32_t flags;
  };
  std::optional<Located> located_;
  mx_time_t last_release_ = 0;   // reader: when pages were last given back
  uint64_t published_cpus_ = 0;  // our end's placement word as we last stored it
  bool broken_ = false;
};

}  // namespace mx::internal
