// SPDX-License-Identifier: BSD-3-Clause
// The socket I/O around the pure frame codec (transport/wire.h): the overflow socket that carries
// a frame's fds past the first 252. Encoding creates it and queues the extra fds on it before the
// frame is sent; decoding reads them back from it. A frame that fits one datagram costs nothing
// here beyond the codec: no system call, no allocation.
//
// The frame itself is sent and received by the caller (object/channel_*.cc, object/process.cc,
// api/process_api.cc), each with its own rules for buffers, fd budgets and full sockets.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "os/unique_fd.h"
#include "transport/message.h"
#include "transport/wire.h"

namespace mx::internal {

// Validates and decodes one received datagram of |size| bytes with |fds| attached (consumed).
// When the frame announces an fd overflow, its chunks are read from the overflow socket here
// (never blocking: the sender queued them all before it sent the frame). Returns MX_OK, or
// MX_ERR_IO if the frame is malformed: every fd closed, no handles in |out|, and with MX_DEBUG
// set one line "frame rejected: <reason>" (FrameRejectName).
mx_status_t DecodeFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds, Frame* out);

// Serializes a frame into |bytes| and the fds to attach into |fds| (borrowed) with
// EncodeFrameBytes. If more than 253 fds are needed, creates the overflow socket, sends the
// extra fds on it, and returns it in |overflow| (its fd is the last entry of |fds|): it must stay
// open until the frame is sent. Returns MX_OK or NO_RESOURCES / NO_MEMORY.
mx_status_t EncodeFrame(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds, UniqueFd* overflow);

}  // namespace mx::internal
