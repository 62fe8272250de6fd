// SPDX-License-Identifier: BSD-3-Clause
// A fifo pair's shared page as a hostile holder sees it: a mirror of FifoPage
// (src/transport/fifo_ring_page.h) for tests that write into a live fifo. FifoRingTest.
// LayoutMatchesTheMirrorUsedByTheseTests checks that the two agree.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mx_test {

inline constexpr uint32_t kFifoVersion = 1;
// The name the pair's memfd shows in /proc/<pid>/maps ("/memfd:mx-fifo (deleted)").
inline constexpr const char* kFifoMemfdName = "/memfd:mx-fifo";

struct FifoSideWords {
  alignas(64) std::atomic<uint32_t> user_signals;
  std::atomic<uint32_t> holders;
  std::atomic<uint32_t> sleepers;
  std::atomic<uint64_t> placement;
};

struct FifoQueueWords {
  alignas(64) std::atomic<uint32_t> head;
  std::atomic<uint32_t> write_lock;
  alignas(64) std::atomic<uint32_t> tail;
};

struct FifoPageMirror {
  uint32_t magic;
  uint32_t version;
  uint32_t elem_count;
  uint32_t elem_size;
  uint64_t koid[2];
  FifoSideWords side[2];
  FifoQueueWords queue[2];  // queue d: side d writes, side 1 - d reads
};
static_assert(offsetof(FifoPageMirror, side) == 64);
static_assert(offsetof(FifoPageMirror, queue) == 192);
static_assert(sizeof(FifoQueueWords) == 128);

}  // namespace mx_test
