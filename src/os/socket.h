// SPDX-License-Identifier: BSD-3-Clause
// Datagram I/O with attached file descriptors (SCM_RIGHTS) over AF_UNIX SOCK_SEQPACKET sockets.
//
// Every call is non-blocking (MSG_DONTWAIT) and never raises SIGPIPE (MSG_NOSIGNAL). Errors come
// back as mx_status_t: SHOULD_WAIT (would block), PEER_CLOSED, NO_RESOURCES, NO_MEMORY.
#pragma once

#include <magenta/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {

// The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
constexpr size_t kMaxFdsPerDatagram = 253;

// Creates a connected SOCK_SEQPACKET pair, close-on-exec and non-blocking.
mx_status_t CreateSeqpacketPair(UniqueFd* a, UniqueFd* b);

// Sends one datagram made of |iov| with |fds| attached (the fds are not consumed: the kernel
// takes its own references). |fds.size()| <= kMaxFdsPerDatagram.
mx_status_t SendDatagram(int sock, const struct iovec* iov, size_t iov_count, const int* fds,
                         size_t num_fds);

struct ReceivedDatagram {
  size_t size = 0;            // bytes stored in the caller's buffer
  bool truncated = false;     // the datagram was larger than the buffer (MSG_TRUNC)
  bool bad_control = false;   // control data other than SCM_RIGHTS, or cut short (MSG_CTRUNC)
  std::vector<UniqueFd> fds;  // every descriptor that arrived, owned (closed if dropped)
};

// Receives one datagram into |buffer|. Returns MX_OK with the datagram, MX_ERR_SHOULD_WAIT when
// none is queued, MX_ERR_PEER_CLOSED at end of stream (peer gone and queue empty). An empty
// datagram from a peer that is still there is MX_OK with size 0 (never end of stream).
mx_status_t ReceiveDatagram(int sock, void* buffer, size_t capacity, ReceivedDatagram* out);

// As ReceiveDatagram, but installs at most |max_fds| fds (0..kMaxFdsPerDatagram): the kernel
// closes the others and the datagram is reported |bad_control|.
mx_status_t ReceiveDatagramUpTo(int sock, void* buffer, size_t capacity, size_t max_fds,
                                ReceivedDatagram* out);

// Receiving without installing fds. A datagram's fds are installed in this process by the
// recvmsg that passes a control buffer; a peer chooses how many. These calls let the caller
// decide first (see os/fd_budget.h) and never lose a datagram's fds when the table is full:
//   1. PeekDatagram: look at the bytes, learn whether fds are attached; nothing is installed.
//   2. PeekDatagramFds: install duplicates of the fds (MSG_PEEK with a control buffer); when the
//      kernel cannot install all of them the datagram stays queued, untouched.
//   3. ReceiveDatagramWithoutFds: take the datagram; the kernel drops its own copies of the fds.

struct PeekedDatagram {
  size_t size = 0;           // the datagram's length (may exceed the bytes copied)
  bool has_control = false;  // fds (or other control data) are attached
};

// Copies up to |capacity| bytes of the next datagram, leaving it queued. MX_OK, SHOULD_WAIT,
// PEER_CLOSED as ReceiveDatagram.
mx_status_t PeekDatagram(int sock, void* buffer, size_t capacity, PeekedDatagram* out);

// As ReceiveDatagram, but the datagram stays queued and |out->fds| are duplicates; at most
// |max_fds| (1..kMaxFdsPerDatagram) are installed, so the caller checks headroom for that many.
// MX_ERR_NO_RESOURCES if not every fd could be installed (the datagram carries more than
// |max_fds|, or the process's table is full): the ones that were are closed, and the datagram
// stays queued with all of its fds.
mx_status_t PeekDatagramFds(int sock, void* buffer, size_t capacity, size_t max_fds,
                            ReceivedDatagram* out);

// As ReceiveDatagram, but without a control buffer: attached fds are closed by the kernel and
// reported as |bad_control|; |out->fds| is empty.
mx_status_t ReceiveDatagramWithoutFds(int sock, void* buffer, size_t capacity,
                                      ReceivedDatagram* out);

// The socket type of |fd| (SO_TYPE: SOCK_SEQPACKET, SOCK_STREAM, ...), or -1 if |fd| is not a
// socket.
int SocketType(int fd);

// Shuts both directions of |sock| down: its peer sees the end of the stream at once, even while
// other descriptions of this end (a duplicate in flight, in another process) stay open.
void ShutdownSocket(int sock);

// True if the peer of |sock| has gone away (POLLHUP/POLLRDHUP), even with data still queued.
bool PeerHungUp(int sock);
// True if a datagram of ordinary size can be sent now (POLLOUT).
bool CanSend(int sock);

// Set / read SO_SNDBUF. A full socket's buffer is raised for one small frame at a time (control
// frames, the handles of a message whose payload went to the message ring) and restored right
// after (see docs/design.md, "Backpressure").
void SetSendBuffer(int sock, int bytes);
int GetSendBuffer(int sock);

}  // namespace mx::internal
