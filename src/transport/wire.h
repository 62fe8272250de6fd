// SPDX-License-Identifier: BSD-3-Clause
// The wire format of libmx channels: one frame per datagram on a SOCK_SEQPACKET socket.
//
//   FrameHeader (32 bytes) | payload (num_bytes) | handle section (desc_bytes)
//   handle section = for each handle: WireHandle (40 bytes) | extra (extra_bytes), unpadded
//   fds: the handles' fds concatenated in handle order, attached with SCM_RIGHTS. When a frame
//   needs more than 253 fds, the first 252 ride with the frame and the 253rd is a socket from
//   which the rest are read (kFlagFdOverflow), in chunks of at most 253 (OverflowChunk).
//
// The same encoding, without the datagram, stores a queue of messages in a memfd when an
// endpoint moves to another process with messages already pulled into its local queue.
//
// This codec is pure: bytes and fd lists in, frames out. It never touches a socket; the overflow
// socket is created, written and read around it by transport/frame_io.h.
//
// Everything read from a peer is validated before use: sizes against what arrived, counts
// against limits, fd counts against the fds actually attached, and each handle against its
// type's exact shape (HandleShape below: how many fds, how many extra bytes). A frame that fails
// validation is rejected whole, for one named reason (FrameReject), and its fds are closed (they
// are owned by UniqueFds from the moment they arrive). One thing is not a protocol violation: a
// channel endpoint whose state is well-formed but larger than this process accepts
// (endpoint_state.h, QueueLimits) — a sender may have a larger buffer limit. That handle alone is
// dropped (its fds closed) and the message is delivered without it.
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
  kFrameData = 1,    // a channel message
  kFrameSignal = 2,  // user signals set by mx_object_signal_peer: payload {clear, set}
  kFrameRing = 3,    // announces the sender's message ring; one fd (the ring memfd)
  // Wakes the reader after a ring write, or the writer once the ring has room again. No content.
  kFrameKick = 4,
  kFrameStartup = 5,  // the startup handles of a spawned process
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
constexpr uint32_t kEventPairWireFds = 5;
// Where an event's and an eventpair side's doorbell sits among its fds (RawHandle rings it when
// a handle is dropped in flight).
constexpr uint32_t kEventWireDoorbell = 2;
constexpr uint32_t kEventPairWireDoorbell = 3;
constexpr uint32_t kVmoWireFds = 1;
constexpr uint32_t kSocketWireFds = 1;
constexpr uint32_t kFdWireFds = 1;
constexpr uint32_t kFifoWireFds = 3;

// The largest extra any type needs (a channel endpoint's state).
constexpr uint32_t kMaxExtraBytes = kChannelWireExtra;
// The most fds one frame may carry (kMaxHandleFds, endpoint_state.h, bounds one handle).
constexpr uint32_t kMaxFrameFds = kMaxHandleFds;
constexpr size_t kMaxFrameBytes =
    sizeof(FrameHeader) + MX_CHANNEL_MAX_MSG_BYTES +
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

// The fds one datagram carries: the kernel's SCM_MAX_FD (frame_io.cc checks that it equals
// os/socket.h's kMaxFdsPerDatagram). An overflowing frame attaches kInlineOverflowFds of its own
// fds, then the overflow socket.
constexpr size_t kWireFdsPerDatagram = 253;
constexpr size_t kInlineOverflowFds = kWireFdsPerDatagram - 1;

// One datagram on the overflow socket: this header, with |count| (1..253) fds attached.
constexpr uint32_t kOverflowMagic = 0x4f46584du;  // "MXFO"
struct OverflowChunk {
  uint32_t magic;
  uint32_t count;
};
static_assert(sizeof(OverflowChunk) == 8);

// Why a frame was rejected, one name per check, in the order the checks run. The MX_DEBUG log
// prints FrameRejectName ("frame rejected: <name>"); docs/design.md ("Debugging") lists them.
enum class FrameReject : uint8_t {
  kNone = 0,
  kShortHeader,              // fewer bytes than a FrameHeader
  kBadMagic,                 // wrong magic, or the reserved field is set
  kUnknownFlags,             // a flag bit this version does not define
  kPayloadInRingMisused,     // kFlagPayloadInRing on anything but a data frame with no bytes
  kPayloadTooLarge,          // more than MX_CHANNEL_MAX_MSG_BYTES
  kTooManyHandles,           // a data frame with more than MX_CHANNEL_MAX_MSG_HANDLES
  kTooManyStartupHandles,    // a startup frame with more than 4096 handles
  kBadSignalFrame,           // a signal frame that is not 8 bytes without handles or fds
  kBadRingFrame,             // a ring frame that is not 8 bytes and exactly one fd
  kBadEmptyFrame,            // a kick or no-write frame with content
  kUnknownKind,              // a kind this version does not define
  kSizeMismatch,             // header + payload + handle section is not the datagram's size
  kFdsWithoutHandles,        // a handle section or fds on a frame without handles
  kTooManyFds,               // more than kMaxFrameFds announced
  kBadOverflowAnnouncement,  // kFlagFdOverflow without 253 fds attached and more announced
  kOverflowUnreadable,       // no chunk could be read from the overflow socket
  kOverflowChunkTruncated,   // a chunk of the wrong size, or with foreign control data
  kBadOverflowChunk,         // wrong magic, no fds, or a count other than the fds attached
  kOverflowCountMismatch,    // the chunks bring more fds than the frame announced
  kFdCountMismatch,          // the fds attached are not the number announced
  kBadHandleSection,         // a handle descriptor out of limits, of the wrong shape, or its fds
                             // or extra bytes missing, or bytes left over
  kUnclaimedFds,             // fds left over once every handle took its own
};
const char* FrameRejectName(FrameReject reason);

// Decodes one received datagram, a pure function of what arrived, in up to three steps; the
// socket I/O around them (transport/frame_io.h, DecodeFrame) reads the overflow chunks:
//   1. Start: the header against the datagram's size and the fds attached. A frame announcing
//      an overflow leaves overflow_fds_missing() > 0 and its socket in overflow_socket().
//   2. AddOverflowChunk, once per chunk read from that socket while fds are missing.
//   3. Finish: the fd count, then the handle section; the frame goes to |out|.
// Each step returns kNone or the reason for rejecting the frame; after a rejection every fd the
// decoder held is closed and no further step may be taken. |data| must outlive the decoder.
class FrameDecoder {
 public:
  FrameReject Start(const uint8_t* data, size_t size, std::vector<UniqueFd> fds);

  // The fds the overflow socket still has to deliver (0 if the frame announced no overflow, or
  // once every chunk is in), and that socket (owned by the decoder; -1 without an overflow).
  uint32_t overflow_fds_missing() const;
  int overflow_socket() const { return overflow_.get(); }

  // One chunk read from the overflow socket: the |size| bytes stored (a buffer the size of an
  // OverflowChunk), the receive's |truncated| / |bad_control| and its fds (consumed).
  FrameReject AddOverflowChunk(const void* data, size_t size, bool truncated, bool bad_control,
                               std::vector<UniqueFd> fds);

  // On a rejection |out| holds no handles (its header and bytes may be set).
  FrameReject Finish(Frame* out);

 private:
  FrameReject Reject(FrameReject reason);

  enum class Step : uint8_t { kIdle, kOverflow, kReady, kDone };
  Step step_ = Step::kIdle;
  const uint8_t* data_ = nullptr;
  FrameHeader header_{};
  std::vector<UniqueFd> fds_;
  UniqueFd overflow_;
};

// Serializes a frame into |bytes| (header with its sizes, counts and flags filled in, payload,
// handle section) and every fd of |handles| into |fds| (borrowed, in order). Returns how many of
// them, from the end of |fds|, do not fit one datagram and must go through an overflow socket:
// 0, or more than one (all but the first kInlineOverflowFds); the header already announces it.
// Pure: transport/frame_io.h, EncodeFrame, creates and fills the overflow socket.
size_t EncodeFrameBytes(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds);

// Queue blobs: a sequence of messages stored as [u32 num_bytes][u32 num_handles][u32 desc_bytes]
// [u32 num_fds] bytes descs, repeated. Fds go to |fds| in order.
void EncodeQueue(const std::vector<const Message*>& messages, std::vector<uint8_t>* out,
                 std::vector<int>* fds);
mx_status_t DecodeQueue(const uint8_t* data, size_t size, uint32_t count,
                        std::vector<UniqueFd>* fds, size_t* fd_index, std::vector<Message>* out);

}  // namespace mx::internal
