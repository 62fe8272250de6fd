// SPDX-License-Identifier: BSD-3-Clause
// Looking at the datagram queued on a socket without taking it.
#pragma once

#include <magenta/types.h>

#include <cstddef>

namespace mx::internal {

// Copies up to |capacity| bytes of the first datagram queued on |sock| into |buffer| without
// receiving it (MSG_PEEK) and without taking any fds attached to it; |*full_size| is the
// datagram's whole size. Never blocks. MX_OK, MX_ERR_SHOULD_WAIT when nothing is queued, or the
// error of the receive (PEER_CLOSED at end of stream, IO for anything that is not a socket).
mx_status_t PeekDatagram(int sock, void* buffer, size_t capacity, size_t* full_size);

}  // namespace mx::internal
