// SPDX-License-Identifier: BSD-3-Clause
// FifoRing: the shared memory of one fifo pair, and the element queues in it.
//
// A fifo pair (object/fifo.h) is two sides, 0 and 1; each side writes whole elements into the
// queue its peer reads. Both queues, and each side's words, live in one memfd of kFifoPageBytes
// that every process holding either side maps read-write:
//
//   page 0   FifoPage: magic, version, elem_count, elem_size, the sides' koids; per side its
//            user signals, holder count, sleeper count and CPU placement; per queue its head
//            (elements ever written), the writers' lock word and its tail (elements ever read)
//   page 1   queue 0's slots (side 0 writes, side 1 reads): elem_count × elem_size bytes
//   page 2   queue 1's slots (side 1 writes, side 0 reads)
//
// Indices are free-running 32-bit counters; slot i is i & (elem_count - 1). A queue holds
// head - tail elements, which must be at most elem_count.
//
// Trust. Every word in the page may be written by any holder of either side, hostile ones
// included. The shape (elem_count, elem_size, koids) is validated once, when a process maps the
// page (ValidateShape), and kept in this object: the page's copy is never read again. The
// indices are read once per operation and checked (CheckIndices): a queue that claims more than
// elem_count elements is Corrupt, and the object above reports the pair broken. Nothing here
// waits for a word another process controls, beyond a bounded number of tries.
//
// Concurrency. Readers of one queue (threads, or processes holding the same side) take
// elements lock-free: copy the slots out, then move the tail with a compare-exchange, and try
// again if another reader moved it first (what was copied is then discarded). Writers of one
// queue take the queue's lock word with a compare-exchange, copy, publish the head and release
// the word; a writer that finds the word taken tries a bounded number of times and then reports
// kBusy (the caller says SHOULD_WAIT). A holder killed in the middle of a write leaves the word
// taken: writes through that side then fail until the pair is gone (see docs/fifos.md).
//
// Waking. A side that may block sets its sleeper count (ArmSleeper) before its last look; a
// writer that published an element, or a reader that freed a full queue's slot, reads the
// other side's count afterwards and, if set, the caller rings the pair's doorbell. The count
// and the indices are sequentially consistent atomics: either the sleeper's last look sees the
// change or the changer sees the sleeper.
//
// Thread-safety: all methods are thread-safe (atomics in shared memory; the rest is set at
// construction).
#pragma once

#include <magenta/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mx::internal {

inline constexpr uint32_t kFifoMaxBytes = 4096;  // elem_count × elem_size at most (Magenta's)
inline constexpr size_t kFifoPageBytes = 3 * 4096;

struct FifoPage;

// The shape a pair is created with.
struct FifoShape {
  uint32_t elem_count = 0;
  uint32_t elem_size = 0;
  uint64_t koid[2] = {0, 0};
};

// True if |count| and |size| are a shape Magenta accepts: both nonzero, count a power of two,
// count × size ≤ kFifoMaxBytes.
bool FifoShapeValid(uint32_t count, uint32_t size);

class FifoRing {
 public:
  enum class Result {
    kOk,
    kFull,     // write: no free slot
    kEmpty,    // read: nothing to read
    kBusy,     // write: another writer of this side holds the lock word (bounded tries spent)
    kCorrupt,  // the indices are impossible: the pair is broken
    kFault,    // |buffer| was null (nothing was moved)
  };

  FifoRing() = default;

  // Writes a fresh page for |shape| into |mem| (kFifoPageBytes, zero-filled).
  static void Format(void* mem, const FifoShape& shape);
  // Checks a received page against what the handle claims (|koid| is the side it names,
  // |peer_koid| the other) and, if it is a valid page of this version, fills |*shape| and
  // |*side|. False for anything else.
  static bool ValidateShape(const void* mem, uint64_t koid, uint64_t peer_koid, FifoShape* shape,
                            int* side);

  // A view of |mem| as side |side| of a pair of |shape| (already validated).
  FifoRing(void* mem, const FifoShape& shape, int side);

  uint32_t elem_count() const { return count_; }
  uint32_t elem_size() const { return size_; }
  int side() const { return side_; }

  // Writes up to |count| (≥ 1) elements from |buffer| into the peer's queue; |*written| is how
  // many (≥ 1 on kOk). |*wake_peer|: the peer has sleepers to ring for. |*filled| (optional):
  // this write took the last free slot.
  Result Write(const void* buffer, uint32_t count, uint32_t* written, bool* wake_peer,
               bool* filled = nullptr);
  // Reads up to |count| (≥ 1) elements into |buffer| from our queue; |*read| is how many.
  // |*wake_peer|: the queue was full, and the peer has sleepers to ring for. |*emptied|
  // (optional): this read took the last element.
  Result Read(void* buffer, uint32_t count, uint32_t* read, bool* wake_peer,
              bool* emptied = nullptr);

  // The state of the queues as seen now: READABLE if our queue holds an element, WRITABLE if
  // the peer's has room; |*corrupt| set if either queue's indices are impossible.
  mx_signals_t QueueSignals(bool* corrupt) const;

  // User signals (MX_USER_SIGNAL_ALL bits) of side |side|'s word; Update returns the old word.
  uint32_t UserSignals(int side) const;
  uint32_t UpdateUserSignals(int side, uint32_t clear_mask, uint32_t set_mask);

  // Holders of side |side| in every process, plus handles in flight: raised when a process
  // gains an object or a handle leaves in a message, lowered when an object is destroyed or a
  // send is undone. Zero means the side closed in order. A killed holder never lowers it (the
  // life line tells); a hostile one may: it only makes its peer see PEER_CLOSED early.
  void AddHolder(int side);
  void DropHolder(int side);
  bool ClosedInOrder(int side) const;

  // This side's sleeper count (see "Waking" above) and whether side |side| has any.
  void ArmSleeper();
  void DisarmSleeper();
  bool HasSleepers(int side) const;

  // Where side |side| last ran (os/cpu_placement.h); ours is written only when it changes.
  uint64_t Placement(int side) const;
  void PublishPlacement(uint64_t placement);

 private:
  bool TakeWriteLock();

  FifoPage* page_ = nullptr;
  uint8_t* out_slots_ = nullptr;  // the peer's queue: we write here
  uint8_t* in_slots_ = nullptr;   // our queue: we read here
  uint32_t count_ = 0;
  uint32_t size_ = 0;
  int side_ = 0;
};

}  // namespace mx::internal
