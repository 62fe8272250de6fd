// SPDX-License-Identifier: BSD-3-Clause
// Byte-stream I/O over connected AF_UNIX SOCK_STREAM sockets (an mx socket's two ends).
//
// Every call is non-blocking (MSG_DONTWAIT) and never raises SIGPIPE (MSG_NOSIGNAL); what a peer
// does to its own end (closing it, shutting it down) shows as PEER_CLOSED here. Thread-safe.
#pragma once

#include <magenta/types.h>

#include <cstddef>

#include "os/unique_fd.h"

namespace mx::internal {

// A connected pair, close-on-exec and non-blocking. NO_MEMORY (ENOMEM, ENOBUFS) / NO_RESOURCES.
mx_status_t CreateStreamPair(UniqueFd* a, UniqueFd* b);

// Sends up to |size| bytes; |*sent| is how many. SHOULD_WAIT (no room), PEER_CLOSED (and
// |*peer_gone| set: the peer is gone for good), NO_MEMORY, or StatusFromErrno's answer.
mx_status_t StreamSend(int sock, const void* buffer, size_t size, size_t* sent, bool* peer_gone);

// Receives up to |size| (> 0) bytes; |*received| is how many. SHOULD_WAIT (nothing queued),
// PEER_CLOSED with |*peer_gone| set at end of stream or on a reset, or StatusFromErrno's answer.
mx_status_t StreamReceive(int sock, void* buffer, size_t size, size_t* received, bool* peer_gone);

// The number of bytes queued for reading; 0 if it cannot be told.
size_t StreamBytesQueued(int sock);

}  // namespace mx::internal
