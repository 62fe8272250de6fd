// SPDX-License-Identifier: BSD-3-Clause
// What the channel endpoint's receive side charges for work and memory: the budgets that bound
// one pass of pumping, and how a queued message or a socket frame is priced. Shared by the
// endpoint's files (channel_*.cc); nothing outside the endpoint uses them.
#pragma once

#include <cstddef>
#include <cstring>

#include "transport/message.h"
#include "transport/wire.h"

namespace mx::internal {

// How many bytes of messages (as MessageBytes charges them) a refresh (a wait, a signal query)
// pulls into the local queue.
constexpr size_t kRefreshPumpBytes = 128 * 1024;

// What one pass of pumping (a signal query, a read, one round of a waiting call) may spend, as
// charged by FrameCharge: about 220 control frames, a few milliseconds of system calls.
constexpr size_t kPassBudget = 64 * 1024;
// Every socket frame costs at least this much (its system calls, the kernel's buffer), whatever
// its size; a frame's fds cost kFdCharge each (a table slot, an open file, the kernel's memory).
constexpr size_t kFrameCharge = 256;
constexpr size_t kFdCharge = 4096;
// How often a waiting call looks again at a frame it could not take for lack of fds.
constexpr mx_time_t kFdRetryInterval = 10'000'000;  // 10 ms

// How often a wait looks at a socket it cannot watch (its head frame is held, or the local queue
// is at the refresh limit) when what it waits for may be behind that frame.
constexpr mx_time_t kUnwatchedRecheckInterval = 10'000'000;  // 10 ms

// What a queued message costs in memory: its payload, each handle's descriptor and extra bytes,
// each fd (see kFdCharge), and the Message, its vectors and its deque slot. Computed from sizes
// only, so that the same message is charged the same when it is queued and when it leaves.
constexpr size_t kAllocationOverhead = 32;  // malloc's header and rounding, per allocation

inline size_t MessageBytes(const Message& m) {
  size_t n = sizeof(Message) + 2 * kAllocationOverhead + m.bytes.size();
  for (const RawHandle& h : m.handles) {
    n += sizeof(RawHandle) + 2 * kAllocationOverhead + h.extra.size() +
         h.fds.size() * (sizeof(UniqueFd) + kFdCharge);
  }
  return n;
}

// The charge of one socket frame of |bytes| bytes with |fds| fds.
inline size_t FrameCharge(size_t bytes, size_t fds) {
  return kFrameCharge + bytes + fds * kFdCharge;
}

inline void Charge(size_t cost, size_t* budget) { *budget = cost >= *budget ? 0 : *budget - cost; }

}  // namespace mx::internal
