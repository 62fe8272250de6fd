// SPDX-License-Identifier: BSD-3-Clause
// The wire format of libmx channels: one frame per datagram on a SOCK_SEQPACKET socket.
//
//   FrameHeader (32 bytes) | payload (num_bytes) | handle section (desc_bytes)
//   handle section = for each handle: WireHandle (40 bytes) | extra (extra_bytes), unpadded
//   fds: the handles' fds concatenated in handle order, attached with SCM_RIGHTS. When a frame
//   needs more than 253 fds, the first 252 ride with the frame and the 253rd is a socket from
//   which the rest are read (kFlagFdOverflow), in chunks of at most 253.
//
// The same encoding, without the datagram, stores a queue of messages in a memfd when an
// endpoint moves to another process with messages already pulled into its local queue.
//
// Everything read from a peer is validated before use: sizes against what arrived, counts
// against limits, fd counts against the fds actually attached, and each handle against its
// type's exact shape (HandleShape below: how many fds, how many extra bytes). A frame that fails
// validation is rejected whole and its fds are closed (they are owned by UniqueFds from the
// moment they arrive). One thing is not a protocol violation: a channel endpoint whose state is
// well-formed but larger than this process accepts (endpoint_state.h, QueueLimits) — a sender
// may have a larger buffer limit. That handle alone is dropped (its fds closed) and the message
// is delivered without it.
// All integers are native-endian: both ends run on the same machine.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "transport/endpoint_state.h"
#include "transport/message.h"

namespace mx::internal {

constexpr uint32_t kFrameMagic = 0x3146584du;  // "MXF1"

enum FrameKind : uint8_t {
  kFrameData = 1,      // a channel message
  kFrameSignal = 2,    // user signals set by mx_object_signal_peer: payload {clear, set}
  kFrameRing = 3,      // announces a spill ring; one fd (the ring memfd)
  kFrameKick = 4,      // wakes the reader after a spill-ring write; no content
  kFrameStartup = 5,   // the startup handles of a spawned process
  // The sender's end is about to move without MX_RIGHT_WRITE: from sequence number |seq| on, it
  // sends no data frames and no ring records (and announces no ring). No content.
  kFrameNoWrite = 6,
};

constexpr uint8_t kFlagFdOverflow = 1;
// kFrameData only, with num_bytes == 0: the payload is the ring record with the same sequence
// number (flagged kRecordHasHandles); the frame carries the handles.
constexpr uint8_t kFlagPayloadInRing = 2;

struct FrameHeader {
  uint32_t magic;
  uint8_t kind;
  uint8_t flags;
  uint16_t reserved;
  uint64_t seq;
  uint32_t num_bytes;
  uint32_t num_handles;
  uint32_t desc_bytes;
  uint32_t num_fds;
};
static_assert(sizeof(FrameHeader) == 32);

struct WireHandle {
  uint32_t type;
  uint32_t rights;
  uint64_t koid;
  uint64_t related_koid;
  uint32_t num_fds;
  uint32_t extra_bytes;
  uint32_t info;
  uint32_t reserved;
};
static_assert(sizeof(WireHandle) == 40);

// The exact shape of each handle type on the wire: fds and extra bytes. The object that owns a
// type defines its layout (object/*.h, e.g. Event::kWireFds; api/materialize.cc checks that the
// two agree at compile time); frame decoding enforces it, so a descriptor that costs the sender
// nothing cannot make the receiver keep anything it would not keep for a real object.
constexpr uint32_t kChannelWireExtra = sizeof(EndpointState);  // fds: from the state
constexpr uint32_t kEventWireFds = 3;
constexpr uint32_t kEventPairWireFds = 6;
constexpr uint32_t kVmoWireFds = 1;
constexpr uint32_t kSocketWireFds = 1;
constexpr uint32_t kFdWireFds = 1;

// The largest extra any type needs (a channel endpoint's state).
constexpr uint32_t kMaxExtraBytes = kChannelWireExtra;
// The most fds one frame may carry (kMaxHandleFds, endpoint_state.h, bounds one handle).
constexpr uint32_t kMaxFrameFds = kMaxHandleFds;
constexpr size_t kMaxFrameBytes = sizeof(FrameHeader) + MX_CHANNEL_MAX_MSG_BYTES +
                                  MX_CHANNEL_MAX_MSG_HANDLES * (sizeof(WireHandle) + kMaxExtraBytes);

// How a handle descriptor compares with its type's shape.
enum class ShapeCheck {
  kOk,
  kMalformed,  // unknown type, wrong fd count or extra size, bad endpoint state
  kOverLimit,  // an endpoint holding more than |limits| allow (see ParseEndpointState)
};
ShapeCheck CheckHandleShape(uint32_t type, const uint8_t* extra, uint32_t extra_bytes,
                            uint32_t num_fds, const QueueLimits& limits);

// Appends the handle section for |handles| to |out| and the fds to |fds| (borrowed, in order).
void EncodeHandles(const std::vector<RawHandle>& handles, std::vector<uint8_t>* out,
                   std::vector<int>* fds);

// Parses a handle section of |count| handles from [data, data+size) and distributes |fds|
// (consumed in order) among them. Each handle is checked against its type's shape with
// DefaultQueueLimits(); an over-limit endpoint is dropped (its fds consumed and closed, nothing
// appended). Returns MX_OK, or MX_ERR_IO if the section is malformed or the fd counts disagree;
// on error the fds already taken are closed, the rest stay in |fds|.
mx_status_t DecodeHandles(const uint8_t* data, size_t size, uint32_t count,
                          std::vector<UniqueFd>* fds, size_t* fd_index,
                          std::vector<RawHandle>* out);

// A decoded frame.
struct Frame {
  FrameHeader header{};
  Message message;  // kFrameData / kFrameStartup: bytes and handles; other kinds: bytes only
};

// Validates and decodes one datagram of |size| bytes with |fds| attached (fds are consumed).
// Overflow fds are read from the overflow socket here. Returns MX_OK or MX_ERR_IO (malformed;
// every fd closed).
mx_status_t DecodeFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds, Frame* out);

// Serializes |frame| into |bytes| and the fds to send into |fds| (borrowed). If more than 253
// fds are needed, creates the overflow socket, sends the extra fds on it, and returns it in
// |overflow| (its fd is the last entry of |fds|). Returns MX_OK or NO_RESOURCES / NO_MEMORY.
mx_status_t EncodeFrame(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds, UniqueFd* overflow);

// Queue blobs: a sequence of messages stored as [u32 num_bytes][u32 num_handles][u32 desc_bytes]
// [u32 num_fds] bytes descs, repeated. Fds go to |fds| in order.
void EncodeQueue(const std::vector<const Message*>& messages, std::vector<uint8_t>* out,
                 std::vector<int>* fds);
mx_status_t DecodeQueue(const uint8_t* data, size_t size, uint32_t count,
                        std::vector<UniqueFd>* fds, size_t* fd_index, std::vector<Message>* out);

}  // namespace mx::internal
