// SPDX-License-Identifier: BSD-3-Clause
// InboundSequencer: puts one direction of a channel back in order.
//
// The writer numbers its data messages 0, 1, 2, ... and sends each one of three ways:
//   - a socket frame with the whole message;
//   - a ring record alone (a handle-free message);
//   - a socket frame with the handles plus a ring record with the payload, both carrying the
//     same number (kFlagPayloadInRing on the frame, kRecordHasHandles on the record).
// Socket frames arrive in order among themselves, and so do ring records; the two streams
// interleave arbitrarily. The reader takes whichever head carries the next number:
//
//   next = 5
//   ring:    [5][6]      [8+]          (8+: the payload of message 8, whose handles are a frame)
//   socket:        (7)(8+)(9)
//   order:   5  6  7  8 (frame 8 joined with record 8)  9
//
// A socket frame read while ring records before it are still unread waits in the stash (one
// at most: the pump stops reading the socket until the stash is resolved). Anything else is a
// protocol violation, reported with its reason: a number that goes backwards, a gap, a record
// that does not match its frame, or data numbered at or past the write limit (the peer's end
// left without MX_RIGHT_WRITE, announced by a kFrameNoWrite frame).
//
// Pure logic: it never touches the ring or the socket. The caller peeks at the ring, asks what
// to do, does it, and calls Advance() for every message it delivers.
//
// Thread-safety: none; the endpoint's mutex guards it.
#pragma once

#include <cstdint>
#include <optional>

#include "base/check.h"
#include "transport/wire.h"

namespace mx::internal {

class InboundSequencer {
 public:
  // The oldest unread ring record.
  struct RingHead {
    uint64_t seq;
    bool has_handles;  // the payload of a message whose handles travel as a socket frame
  };

  // What to do with the ring's head when nothing is stashed.
  enum class RingAction {
    kDeliverRecord,  // the next message, handle-free: pop it, deliver it, Advance()
    kReadSocket,  // the ring is ahead (or the record's handles are on the socket): read the socket
    kBreak,       // protocol violation (see reason())
  };
  // Inline: the read fast path asks it for every handle-free message.
  RingAction OnRingHead(RingHead head) {
    if (head.seq == next_ && head.seq < write_limit_ && !head.has_handles) {
      return RingAction::kDeliverRecord;
    }
    if (head.seq < next_) return Break(RingAction::kBreak, "ring sequence went backwards");
    if (head.seq >= write_limit_) {
      return Break(RingAction::kBreak, "ring record from an end that left without WRITE");
    }
    return RingAction::kReadSocket;
  }

  // What to do with a data frame just read from the socket (nothing stashed).
  enum class FrameAction {
    kDeliver,  // the next message, whole: deliver it, Advance()
    kStash,    // ring records come first, or its payload is in the ring: Stash() it
    kBreak,    // protocol violation (see reason())
  };
  FrameAction OnDataFrame(const FrameHeader& header, bool have_ring);

  // What to do next while a frame is stashed, given the ring's head (none: the ring is empty).
  enum class StashAction {
    kDeliverRecord,   // a handle-free record before the stashed frame: pop, deliver, Advance()
    kDeliverStash,    // the stashed frame is next: TakeStash(), deliver it, Advance()
    kJoinRecord,      // the stashed frame is next and its payload is the ring's head: pop the
                      // record into TakeStash()'s payload, deliver it, Advance()
    kWaitForPayload,  // its payload is not in the ring yet (the writer publishes it right after
                      // the frame): wait, unless the writer is gone
    kBreak,           // protocol violation (see reason())
  };
  StashAction OnStash(std::optional<RingHead> head);

  void Stash(Frame frame) {
    MX_DCHECK(!stash_);  // one at most: the pump reads no frame while one is stashed
    stash_ = std::move(frame);
  }
  bool has_stash() const { return stash_.has_value(); }
  Frame TakeStash();
  void DropStash() { stash_.reset(); }

  // A message was delivered: the next one is expected.
  void Advance() { ++next_; }
  uint64_t next() const { return next_; }

  // The peer's end left without WRITE (kFrameNoWrite): data numbered |seq| or later is refused.
  void LimitWrites(uint64_t seq) {
    if (seq < write_limit_) write_limit_ = seq;
  }
  uint64_t write_limit() const { return write_limit_; }
  bool has_write_limit() const { return write_limit_ != kNoLimit; }
  // Everything the peer published before it lost WRITE was read: its ring has nothing more.
  bool WritesEnded() const { return next_ >= write_limit_; }

  // For an endpoint rebuilt from its transferred state.
  void Restore(uint64_t next, uint64_t write_limit) {
    next_ = next;
    write_limit_ = write_limit;
  }

  // Why the last kBreak was returned (a static string, for the debug log).
  const char* reason() const { return reason_; }

  static constexpr uint64_t kNoLimit = UINT64_MAX;

 private:
  template <typename Action>
  Action Break(Action action, const char* why) {
    reason_ = why;
    return action;
  }

  uint64_t next_ = 0;
  uint64_t write_limit_ = kNoLimit;
  std::optional<Frame> stash_;
  const char* reason_ = "";
};

}  // namespace mx::internal
