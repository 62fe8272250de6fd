// SPDX-License-Identifier: BSD-3-Clause
#include "transport/endpoint_state.h"

#include <pthread.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "os/fd_check.h"
#include "os/memfd.h"
#include "transport/wire.h"

namespace mx::internal {

// The smallest charge of a message in an honest endpoint's local queue (its payload plus 64).
constexpr uint64_t kMinQueuedMessageCharge = 64;

QueueLimits QueueLimitsFor(size_t buffer_limit) {
  // Twice what a pending call may pull (itself twice the buffer limit), for the last pull's
  // overshoot and the records' own headers.
  const uint64_t bytes = 4 * static_cast<uint64_t>(buffer_limit);
  QueueLimits limits;
  limits.max_bytes = bytes;
  const uint64_t messages = bytes / kMinQueuedMessageCharge;
  limits.max_messages = messages > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(messages);
  limits.max_fds = kMaxHandleFds - kEndpointOwnFds;
  return limits;
}

size_t ChannelBufferLimit() {
  static const size_t limit = [] {
    size_t v = size_t{4} << 20;
    if (const char* env = ::getenv("MX_CHANNEL_BUFFER_BYTES")) {
      char* end = nullptr;
      unsigned long long parsed = ::strtoull(env, &end, 10);
      if (end != env && *end == '\0' && parsed >= (256u << 10) && parsed <= (1ull << 30)) {
        v = static_cast<size_t>(parsed);
      }
    }
    return v;
  }();
  return limit;
}

const QueueLimits& DefaultQueueLimits() {
  static const QueueLimits limits = QueueLimitsFor(ChannelBufferLimit());
  return limits;
}

StateCheck ParseEndpointState(const uint8_t* extra, size_t size, const QueueLimits& limits,
                              EndpointState* state, uint32_t* num_fds) {
  if (size != sizeof(EndpointState)) return StateCheck::kMalformed;
  EndpointState s;
  std::memcpy(&s, extra, sizeof(s));
  if ((s.flags & ~kEndpointKnownFlags) != 0) return StateCheck::kMalformed;
  if ((s.user_signals & ~MX_USER_SIGNAL_ALL) != 0) return StateCheck::kMalformed;
  if (!(s.flags & kEndpointPeerNoWrite) && s.peer_write_limit != 0) return StateCheck::kMalformed;
  if (s.flags & kEndpointHasQueue) {
    // A queue holds at least one message, each at least one record long.
    if (s.queue_count == 0 || s.queue_bytes < s.queue_count * uint64_t{16}) {
      return StateCheck::kMalformed;
    }
  } else if (s.queue_count != 0 || s.queue_fds != 0 || s.queue_bytes != 0) {
    return StateCheck::kMalformed;
  }
  uint64_t fds = 1 + ((s.flags & kEndpointHasRecvRing) ? 1 : 0) +
                 ((s.flags & kEndpointHasQueue) ? 1 : 0) + uint64_t{s.queue_fds};
  *state = s;
  *num_fds = fds > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(fds);
  if (s.queue_bytes > limits.max_bytes || s.queue_count > limits.max_messages ||
      s.queue_fds > limits.max_fds) {
    return StateCheck::kOverLimit;
  }
  return StateCheck::kOk;
}

mx_status_t DecodeEndpointQueue(const uint8_t* blob, size_t size, const EndpointState& state,
                                std::vector<UniqueFd> nested, std::vector<Message>* out) {
  out->clear();
  if (!(state.flags & kEndpointHasQueue) || size != state.queue_bytes ||
      nested.size() != state.queue_fds) {
    return MX_ERR_IO;
  }
  size_t fd_index = 0;
  mx_status_t st = DecodeQueue(blob, size, state.queue_count, &nested, &fd_index, out);
  if (st == MX_OK && fd_index != nested.size()) st = MX_ERR_IO;
  if (st != MX_OK) out->clear();
  return st;
}

mx_status_t LoadEndpointQueue(int blob_fd, const EndpointState& state, std::vector<UniqueFd> nested,
                              std::vector<Message>* out) {
  if (CheckQueueBlob(blob_fd, state.queue_bytes) != MX_OK) return MX_ERR_IO;
  const size_t size = static_cast<size_t>(state.queue_bytes);
  // Read-only and shared: no copy, and the seals keep the file from changing under the mapping.
  Mapping map;
  mx_status_t st = map.MapReceived(blob_fd, size, /*writable=*/false);
  if (st != MX_OK) return st;
  try {
    st = DecodeEndpointQueue(static_cast<const uint8_t*>(map.get()), size, state, std::move(nested),
                             out);
  } catch (const std::bad_alloc&) {
    out->clear();
    st = MX_ERR_NO_MEMORY;
  }
  return st;
}

DecodedBlobs& DecodedBlobs::Get() {
  static DecodedBlobs* const record = [] {
    auto* r = new DecodedBlobs();
    // fork() while another thread holds the mutex must not leave it locked in the child. The
    // prepare handler returns with the lock held (the analysis cannot pair it with the handlers
    // that release it after fork); those run on the forking thread, which holds it.
    ::pthread_atfork([]() TA_NO_ANALYSIS { Get().mu_.lock(); },
                     [] {
                       Get().mu_.AssertHeld();
                       Get().mu_.unlock();
                     },
                     [] {
                       Get().mu_.AssertHeld();
                       Get().mu_.unlock();
                     });
    return r;
  }();
  return *record;
}

bool DecodedBlobs::Claim(const FileId& id) {
  MutexLock lock(&mu_);
  // A linear scan: a few microseconds at most, next to mapping and decoding the blob.
  for (const FileId& known : ids_) {
    if (known == id) return false;
  }
  if (ids_.size() < kCapacity) {
    ids_.push_back(id);
  } else {
    ids_[next_] = id;
    next_ = (next_ + 1) % kCapacity;
  }
  return true;
}

void DecodedBlobs::Forget(const FileId& id) {
  MutexLock lock(&mu_);
  for (FileId& known : ids_) {
    if (known == id) known = FileId{};  // no file has device and inode 0
  }
}

mx_status_t CreateQueueBlob(const std::vector<uint8_t>& bytes, UniqueFd* out) {
  return CreateFrozenMemfd("mx-channel-queue", bytes.data(), bytes.size(), out);
}

}  // namespace mx::internal
