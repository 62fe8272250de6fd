// SPDX-License-Identifier: BSD-3-Clause
// The shared-memory ring's header as a hostile peer sees it: a mirror of MessageRing::Header
// (src/transport/message_ring_header.h) for tests that write into a live ring. MessageRingTest.
// LayoutMatchesTheMirrorUsedByTheseTests checks that the two agree.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mx_test {

inline constexpr uint32_t kRingVersion = 4;

struct RingHeader {
  uint32_t magic;
  uint32_t version;
  uint64_t capacity;
  uint64_t payload_limit;
  alignas(64) std::atomic<uint64_t> head;
  std::atomic<uint64_t> payload_in;
  std::atomic<uint32_t> busy;
  alignas(64) std::atomic<uint64_t> tail;
  std::atomic<uint64_t> payload_out;
  alignas(64) std::atomic<uint32_t> writer_waiting;
  alignas(64) std::atomic<uint32_t> reader_waiting;
  std::atomic<uint32_t> kick_pending;
  std::atomic<uint32_t> reader_closed;
  alignas(64) std::atomic<uint64_t> socket_frames;
  std::atomic<uint32_t> writer_done;
  std::atomic<uint32_t> reader_attached;
  // Placement (src/os/cpu_placement.h words).
  alignas(64) std::atomic<uint64_t> writer_cpus;
  std::atomic<uint64_t> reader_cpus;
};

// Where the data area starts: records follow the header at this offset.
inline constexpr size_t kRingHeaderBytes = 512;

}  // namespace mx_test
