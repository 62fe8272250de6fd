// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the endpoint state and queue blob decoder (transport/endpoint_state.h):
// ParseEndpointState on an attacker's 56 bytes, then DecodeEndpointQueue on an attacker's blob
// with as many real fds as the state claims, and, for some inputs, the same blob through a sealed
// memfd and LoadEndpointQueue.
//
// Properties checked (a violation aborts):
//   - no crash, no sanitizer report, whatever the bytes;
//   - a state that parses as kOk or kOverLimit names the exact fd count its flags and queue_fds
//     imply; kOk means within the limits;
//   - a blob that decodes holds exactly queue_count messages whose handles hold exactly
//     queue_fds fds, each message within MX_CHANNEL_MAX_MSG_BYTES / _HANDLES, and re-encodes
//     (EncodeQueue) to the very same bytes;
//   - LoadEndpointQueue on a sealed memfd holding the blob agrees with DecodeEndpointQueue;
//   - the number of open fds is the same after each input as before.
//
// Input format (tests/fuzz/README.md; seeds in tests/fuzz/corpus/endpoint_state/):
//   byte 0     flags: bit 0 set queue_bytes to the blob's size; bit 1 also load through a memfd
//   56 bytes   the EndpointState (fewer if the input is shorter: a short state)
//   rest       the queue blob
// The limits are those of the smallest buffer limit (256 KiB) with at most 64 queued fds, so
// inputs reach them.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "os/fd.h"
#include "os/memfd.h"
#include "support/fd_count.h"
#include "support/fuzz_support.h"
#include "transport/endpoint_state.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

struct Stats {
  unsigned long long states = 0, malformed = 0, over_limit = 0;
  unsigned long long blobs = 0, blobs_rejected = 0, loads = 0, messages = 0;
};
Stats g_stats;

void PrintStats() {
  std::fprintf(stderr,
               "endpoint_state_fuzzer: %llu states, %llu malformed, %llu over the limits; %llu "
               "queue blobs decoded (%llu messages), %llu rejected; %llu loaded through a "
               "memfd\n",
               g_stats.states, g_stats.malformed, g_stats.over_limit, g_stats.blobs,
               g_stats.messages, g_stats.blobs_rejected, g_stats.loads);
}

const QueueLimits& FuzzLimits() {
  static const QueueLimits limits = [] {
    QueueLimits l = QueueLimitsFor(256 * 1024);
    l.max_fds = 64;
    return l;
  }();
  return limits;
}

// |n| duplicates of a pipe's read end (the decoder never looks at what they are).
std::vector<UniqueFd> Fds(uint32_t n) {
  std::vector<UniqueFd> out;
  out.push_back(mx_fuzz::MakeFuzzFd(mx_fuzz::FuzzFd::kPipeRead));
  while (out.size() < n) out.push_back(DupFd(out.front().get()));
  if (n == 0) out.clear();
  for (const UniqueFd& fd : out) FUZZ_CHECK(fd.is_valid());
  return out;
}

void CheckDecoded(const std::vector<Message>& messages, const EndpointState& state,
                  const uint8_t* blob, size_t size) {
  FUZZ_CHECK(messages.size() == state.queue_count);
  size_t fds = 0;
  for (const Message& m : messages) {
    FUZZ_CHECK(m.bytes.size() <= MX_CHANNEL_MAX_MSG_BYTES);
    FUZZ_CHECK(m.handles.size() <= MX_CHANNEL_MAX_MSG_HANDLES);
    fds += m.total_fds();
  }
  FUZZ_CHECK(fds == state.queue_fds);
  std::vector<const Message*> ptrs;
  for (const Message& m : messages) ptrs.push_back(&m);
  std::vector<uint8_t> again;
  std::vector<int> borrowed;
  EncodeQueue(ptrs, &again, &borrowed);
  FUZZ_CHECK(again.size() == size && std::memcmp(again.data(), blob, size) == 0);
  FUZZ_CHECK(borrowed.size() == fds);
}

void RunOne(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const uint8_t mode = data[0];
  ++data;
  --size;
  const size_t state_bytes = size < sizeof(EndpointState) ? size : sizeof(EndpointState);
  std::vector<uint8_t> extra(data, data + state_bytes);
  const uint8_t* blob = data + state_bytes;
  const size_t blob_size = size - state_bytes;
  if ((mode & 1) && extra.size() == sizeof(EndpointState)) {
    const uint64_t bytes = blob_size;
    std::memcpy(extra.data() + offsetof(EndpointState, queue_bytes), &bytes, sizeof(bytes));
  }

  ++g_stats.states;
  EndpointState state;
  uint32_t num_fds = 0;
  StateCheck check = ParseEndpointState(extra.data(), extra.size(), FuzzLimits(), &state, &num_fds);
  if (check == StateCheck::kMalformed) {
    ++g_stats.malformed;
    return;
  }
  const uint64_t want = 1 + ((state.flags & kEndpointHasRecvRing) ? 1 : 0) +
                        ((state.flags & kEndpointHasQueue) ? 1 : 0) + uint64_t{state.queue_fds};
  FUZZ_CHECK(num_fds == (want > UINT32_MAX ? UINT32_MAX : want));
  if (check == StateCheck::kOverLimit) {
    ++g_stats.over_limit;
    FUZZ_CHECK(state.queue_bytes > FuzzLimits().max_bytes ||
               state.queue_count > FuzzLimits().max_messages ||
               state.queue_fds > FuzzLimits().max_fds);
    return;
  }
  FUZZ_CHECK(state.queue_bytes <= FuzzLimits().max_bytes &&
             state.queue_count <= FuzzLimits().max_messages &&
             state.queue_fds <= FuzzLimits().max_fds);
  if (!(state.flags & kEndpointHasQueue)) return;

  std::vector<Message> messages;
  mx_status_t st = DecodeEndpointQueue(blob, blob_size, state, Fds(state.queue_fds), &messages);
  FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
  if (st == MX_OK) {
    ++g_stats.blobs;
    g_stats.messages += messages.size();
    CheckDecoded(messages, state, blob, blob_size);
  } else {
    ++g_stats.blobs_rejected;
    FUZZ_CHECK(messages.empty());
  }

  if ((mode & 2) && blob_size == state.queue_bytes) {
    ++g_stats.loads;
    UniqueFd memfd;
    FUZZ_CHECK(CreateFrozenMemfd("endpoint-state-fuzz", blob, blob_size, &memfd) == MX_OK);
    std::vector<Message> loaded;
    mx_status_t lst = LoadEndpointQueue(memfd.get(), state, Fds(state.queue_fds), &loaded);
    FUZZ_CHECK(lst == st);
    FUZZ_CHECK(loaded.size() == messages.size());
  }
}

}  // namespace
}  // namespace mx::internal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool registered = [] {
    std::atexit(mx::internal::PrintStats);
    return true;
  }();
  (void)registered;
  const int before = mx_test::CountOpenFds();
  mx::internal::RunOne(data, size);
  if (mx_test::CountOpenFds() != before) {
    std::fprintf(stderr, "endpoint_state_fuzzer: fd leak\n");
    std::abort();
  }
  return 0;
}
