// SPDX-License-Identifier: BSD-3-Clause
// Endpoint state: how a channel endpoint travels between processes, and its decoder.
//
// A moving endpoint is a RawHandle (transport/message.h) whose |extra| is an EndpointState and
// whose fds are, in this order: its socket; its receive ring's memfd (kEndpointHasRecvRing); the
// queue blob (kEndpointHasQueue: a sealed memfd holding the messages already pulled into its
// local queue, in the encoding of EncodeQueue in transport/wire.h); then the fds of every handle
// inside those messages (queue_fds of them). The send ring never travels: the mover marks it
// done and the peer drops it once read (bit 1, which once said a send ring came along, is
// refused like any unknown flag).
//
// Everything here is attacker-controlled. What an honest endpoint can hold is bounded by its
// channel's buffer limit (QueueLimits), and a state that claims more is refused *before* anything
// is mapped, read or allocated: ParseEndpointState looks at the 56 bytes only, and
// DecodeEndpointQueue, a pure function of bytes and fds, allocates at most a small multiple of
// the blob's size. LoadEndpointQueue adds the one system-facing step: checking the blob memfd
// (os/fd_check.h) and mapping it read-only, so the blob is never copied.
//
// Thread-safety: pure functions; ChannelBufferLimit() is read once and then constant.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/mutex.h"
#include "os/fd_check.h"
#include "transport/message.h"

namespace mx::internal {

constexpr uint32_t kEndpointHasRecvRing = 2;
constexpr uint32_t kEndpointHasQueue = 4;
// The peer's end travelled without MX_RIGHT_WRITE: it may send no data frame or ring record with
// a sequence number >= peer_write_limit (see docs/channels.md, "Rights across processes").
constexpr uint32_t kEndpointPeerNoWrite = 8;
constexpr uint32_t kEndpointKnownFlags =
    kEndpointHasRecvRing | kEndpointHasQueue | kEndpointPeerNoWrite;

struct EndpointState {
  uint64_t send_seq;
  uint64_t recv_seq;
  uint32_t user_signals;
  uint32_t flags;
  uint32_t queue_count;         // messages in the blob
  uint32_t queue_fds;           // fds of the handles inside them
  uint64_t queue_bytes;         // the blob's exact size
  uint64_t socket_frames_seen;  // frames received since the peer announced its ring
  uint64_t peer_write_limit;    // with kEndpointPeerNoWrite; 0 otherwise
};
static_assert(sizeof(EndpointState) == 56);

// The most fds one handle may carry, nested queues included; also the most one frame may carry.
// An honest process rarely holds this many (the common soft limit is 1,024), and every one of
// them must be installed by the receiver when the frame is read off the socket.
constexpr uint32_t kMaxHandleFds = 4096;

// The fds an endpoint carries besides its queue's: socket, receive ring, the blob.
constexpr uint32_t kEndpointOwnFds = 3;

// What a received endpoint's local queue may hold. An honest endpoint pulls messages into its
// queue only up to twice its channel's buffer limit (a pending call; waits and reads pull much
// less), and a pull can overshoot by what one pump delivers. Each message is charged at least
// 64 bytes there, so the count follows from the bytes.
struct QueueLimits {
  uint64_t max_bytes;  // the blob's size
  uint32_t max_messages;
  uint32_t max_fds;
};
QueueLimits QueueLimitsFor(size_t buffer_limit);

// Bytes of payload a channel buffers per direction (ChannelEndpoint::BufferLimit): 4 MiB, or
// MX_CHANNEL_BUFFER_BYTES from the environment (256 KiB to 1 GiB), read once.
size_t ChannelBufferLimit();
// QueueLimitsFor(ChannelBufferLimit()), computed once.
const QueueLimits& DefaultQueueLimits();

enum class StateCheck {
  kOk,
  kMalformed,  // no honest sender writes this: the frame that carries it is rejected
  kOverLimit,  // well-formed, but holds more than this process accepts: the handle is dropped
};

// Checks |extra| as an EndpointState: size, known flags, user signals only, queue fields
// consistent with the flags, and the queue within |limits|. On kOk and kOverLimit, |*state|
// holds the state and |*num_fds| the exact number of fds the handle must carry.
StateCheck ParseEndpointState(const uint8_t* extra, size_t size, const QueueLimits& limits,
                              EndpointState* state, uint32_t* num_fds);

// Where the queue blob is among the fds of an endpoint with |state| (kEndpointHasQueue).
inline size_t QueueBlobFdIndex(const EndpointState& state) {
  return 1 + ((state.flags & kEndpointHasRecvRing) ? 1 : 0);
}

// Decodes the queue blob [blob, blob + size) of an endpoint whose state passed
// ParseEndpointState, distributing |nested| (exactly state.queue_fds fds, consumed) among the
// messages' handles. Pure. MX_OK, or MX_ERR_IO if the blob disagrees with the state or is
// malformed (every fd closed, |out| empty).
mx_status_t DecodeEndpointQueue(const uint8_t* blob, size_t size, const EndpointState& state,
                                std::vector<UniqueFd> nested, std::vector<Message>* out);

// Checks |blob_fd| (a queue blob: sealed memfd of exactly state.queue_bytes bytes, every page
// present), maps it read-only and decodes it. MX_OK; MX_ERR_IO (malformed; fds closed);
// MX_ERR_NO_MEMORY (could not map or allocate; fds closed).
mx_status_t LoadEndpointQueue(int blob_fd, const EndpointState& state, std::vector<UniqueFd> nested,
                              std::vector<Message>* out);

// The queue blobs this process decoded lately, by file identity: process-wide, bounded and
// thread-safe. An honest sender makes a new sealed memfd for every endpoint it sends, and a
// decoded blob is closed at once (the queue lives on in memory), so the same blob never comes
// back; a hostile one could name one blob it paid for once from endpoints in any number of
// messages, each decoded into a fresh queue. A blob whose identity is in the record is refused.
//
// The record keeps the last kCapacity identities. Forgetting the oldest is what bounds it, and
// it costs an attacker kCapacity other decoded blobs, each a hole-free memfd of its own, between
// two decodes of the same one: at most max_bytes / kCapacity decoded bytes per received endpoint
// (4 KiB with the default 4 MiB buffer limit: one page, what the smallest honest blob costs its
// sender). Identities are not reused soon: memfd inode numbers count up through 2^32 before
// they wrap, so an identity recorded here is not a new file's within any realistic window.
class DecodedBlobs {
 public:
  static constexpr size_t kCapacity = 4096;

  // The process's record (never destroyed).
  static DecodedBlobs& Get();

  // Records |id| and returns true, or returns false if it is recorded already.
  bool Claim(const FileId& id);
  // Forgets |id|: its decode did not complete and its message stays to be read again.
  void Forget(const FileId& id);

 private:
  Mutex mu_;
  // A ring of up to kCapacity, oldest at next_ once full.
  std::vector<FileId> ids_ TA_GUARDED(mu_);
  size_t next_ TA_GUARDED(mu_) = 0;
};

// Creates a queue blob holding |bytes|, sealed against every change. MX_OK, NO_MEMORY or
// NO_RESOURCES.
mx_status_t CreateQueueBlob(const std::vector<uint8_t>& bytes, UniqueFd* out);

}  // namespace mx::internal
