// SPDX-License-Identifier: BSD-3-Clause
// FifoRing's page in shared memory (page 0 of the pair's memfd; transport/fifo_ring.h). Every
// field may be written by any holder of either side: read each once, and validate it.
// tests/support/fifo_layout.h mirrors it for hostile tests; FifoRingTest pins the offsets.
#pragma once

#include <atomic>
#include <cstdint>

#include "transport/fifo_ring.h"

namespace mx::internal {

inline constexpr uint32_t kFifoMagic = 0x4f464d4du;  // "MMFO"
inline constexpr uint32_t kFifoVersion = 1;

// One cache line per side and per queue end, so that a streaming writer and reader touch each
// other's lines only when they must.
struct FifoPage {
  uint32_t magic;
  uint32_t version;
  uint32_t elem_count;
  uint32_t elem_size;
  uint64_t koid[2];
  struct alignas(64) Side {
    std::atomic<uint32_t> user_signals;
    std::atomic<uint32_t> holders;
    std::atomic<uint32_t> sleepers;
    std::atomic<uint64_t> placement;
  } side[2];
  struct alignas(64) Queue {
    std::atomic<uint32_t> head;              // writers: elements ever written
    std::atomic<uint32_t> write_lock;        // writers: 1 while one of them places elements
    alignas(64) std::atomic<uint32_t> tail;  // readers: elements ever read
  } queue[2];
};
static_assert(sizeof(FifoPage) <= 4096);
static_assert(std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "the page is shared between processes");

}  // namespace mx::internal
