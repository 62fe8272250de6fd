// SPDX-License-Identifier: BSD-3-Clause
// MessageRing's header in shared memory (layout version in message_ring.cc, kRingVersion), shared
// by the files that implement the ring: message_ring.cc (records, memory) and
// message_ring_signals.cc (the flags and counters the two ends signal each other with). Every
// field is written by the peer too when it is hostile: read each once, and validate it.
#pragma once

#include <atomic>
#include <cstdint>

#include "transport/message_ring.h"

namespace mx::internal {

struct MessageRing::Header {
  uint32_t magic;
  uint32_t version;
  uint64_t capacity;
  uint64_t payload_limit;
  // One cache line per end's hot counters: each message moves the writer's line to the reader
  // once and, only when the writer's cached view of the reader's runs out, the reader's line
  // to the writer (see PlanWrite, Locate).
  alignas(64) std::atomic<uint64_t> head;  // writer: bytes ever written
  std::atomic<uint64_t> payload_in;        // writer: payload bytes ever written
  // 0 free, 1 the writer is placing a record, 2 the reader is rewinding (see Rewind). Never
  // waited for by blocking: the writer gives up after a few tries (the message takes the
  // socket), the reader does not rewind this time. On the writer's line: it takes it per record.
  std::atomic<uint32_t> busy;
  alignas(64) std::atomic<uint64_t> tail;  // reader: bytes ever consumed
  std::atomic<uint64_t> payload_out;       // reader: payload bytes ever consumed
  // Written only when the writer finds the ring full; the reader reads it after every record.
  alignas(64) std::atomic<uint32_t> writer_waiting;  // writer sets, reader clears
  // Fast-path signalling (see message_ring.h "Waking the reader").
  alignas(64) std::atomic<uint32_t> reader_waiting;  // reader: 1 while some thread may block
  std::atomic<uint32_t> kick_pending;                // writer sets (sent a kick), reader clears
  std::atomic<uint32_t> reader_closed;               // reader: its endpoint was closed
  alignas(64) std::atomic<uint64_t> socket_frames;   // writer: frames sent after the announcement
  // writer: it publishes no more records here (its endpoint closed, or moved to another
  // process, which starts a ring of its own). Set after its last record.
  std::atomic<uint32_t> writer_done;
  std::atomic<uint32_t> reader_attached;  // reader: it has mapped the ring
  // Where each end's thread may run (os/cpu_placement.h), for the other end's spin decision.
  // Each written only by its owner, and only when the value changes: a line that stays shared.
  alignas(64) std::atomic<uint64_t> writer_cpus;  // writer
  std::atomic<uint64_t> reader_cpus;              // reader
};

}  // namespace mx::internal
