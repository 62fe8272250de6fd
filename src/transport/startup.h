// SPDX-License-Identifier: BSD-3-Clause
// The startup frame: the one kFrameStartup datagram mx_spawn leaves for a child on the socket
// named by MX_STARTUP_FD (docs/processes.md, "Startup handles").
//
// The environment and the fd a process starts with are not to be trusted: the variable may have
// leaked from an unrelated ancestor, and the fd number may name stdin, a pipe or anything else.
// mx_spawn's side is one step, EncodeStartupFrame; the frame is taken in two steps around the
// caller's I/O:
//   1. StartupHeaderAcceptable, a pure function of the first bytes of the queued datagram
//      (peeked, not read) and its full size: only a datagram that looks like what mx_spawn sends
//      is read at all;
//   2. DecodeStartupFrame, on the datagram and its fds once read.
// Like any frame's, a startup frame's fds past the first 252 travel on an overflow socket, which
// both steps of the frame codec's I/O layer handle (transport/frame_io.h).
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "os/unique_fd.h"
#include "transport/message.h"

namespace mx::internal {

// The environment variable that names the child's startup socket by its fd number.
constexpr char kStartupFdVariable[] = "MX_STARTUP_FD";

// mx_spawn sends at most this many handles; a frame claiming more is not a startup frame.
constexpr uint32_t kMaxStartupHandles = MX_CHANNEL_MAX_MSG_HANDLES;

// True if |datagram_size| bytes starting with |head| (|head_size| bytes of it available, at
// least a frame header's worth to be accepted) can be a startup frame: magic, kind, no payload,
// at most kMaxStartupHandles handles, and sizes that agree with the datagram's.
bool StartupHeaderAcceptable(const uint8_t* head, size_t head_size, size_t datagram_size);

// Encodes the startup frame carrying |handles| (their infos included) into |bytes| and the fds
// to attach into |fds| (borrowed from |handles|), with the overflow socket in |overflow| when the
// fds do not fit one datagram (transport/frame_io.h, EncodeFrame): it must stay open until the
// frame is sent. MX_OK, NO_RESOURCES or NO_MEMORY.
mx_status_t EncodeStartupFrame(const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                               std::vector<int>* fds, UniqueFd* overflow);

// Decodes a startup frame of |size| bytes with |fds| attached (consumed; every fd not returned in
// |out| is closed), reading its overflow socket if it has one. MX_OK with the handles in |out|,
// or MX_ERR_IO if it is malformed (nothing in |out|).
mx_status_t DecodeStartupFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds,
                               std::vector<RawHandle>* out);

}  // namespace mx::internal
