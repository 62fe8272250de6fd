// SPDX-License-Identifier: BSD-3-Clause
// Doorbell: a wake-up that any process holding it can ring and any process holding it can wait
// for, such that ringing never blocks, whatever another holder has done to it.
//
// Waking other processes through a shared fd means sharing an open file description with every
// other holder, and so sharing its flags and its state: an eventfd written with write(2) blocks
// forever once some holder has cleared O_NONBLOCK and filled its counter, and draining a queue
// with recv(2) takes the socket's receive mutex, which a holder can keep while it copies into a
// page that faults slowly. A doorbell therefore keeps no state a ring could wait for:
//   - it is an AF_UNIX SOCK_DGRAM socket, autobound and connect()ed to itself (one fd);
//   - a classic BPF filter that drops every datagram is attached and locked (SO_LOCK_FILTER: no
//     holder can detach or replace it), so nothing is ever queued and nobody ever reads;
//   - a ring is one send(MSG_DONTWAIT | MSG_NOSIGNAL). The kernel allocates the datagram,
//     charges it to the socket's send buffer, runs the filter, which drops it, and frees it; the
//     free wakes every waiter polling the socket for EPOLLOUT. Waiters watch EPOLLOUT
//     edge-triggered (epoll EPOLLET reports every wake-up of the socket, not only transitions).
// What a hostile holder can do: reconnect the socket elsewhere, disconnect it, shut it down or
// shrink its send buffer. Each only makes rings of that one doorbell fail at once (ENOTCONN,
// EPIPE, EAGAIN, ...) — wake-ups of the object it shares stop, as if it had never rung — and no
// ring ever waits: MSG_DONTWAIT is per call, O_NONBLOCK and SO_SNDTIMEO are not consulted, and
// the send path takes no sleeping lock another holder can hold. Datagrams it sends itself
// (with fds or not) are dropped by the filter before anyone could receive them.
//
// Thread-safety: all functions are thread-safe.
#pragma once

#include <magenta/types.h>

#include <cstdint>

#include "os/unique_fd.h"

namespace mx::internal {

// A new doorbell, close-on-exec. NO_RESOURCES / NO_MEMORY.
mx_status_t CreateDoorbell(UniqueFd* out);

// Wakes every waiter of |doorbell| in every process. Never blocks and never fails loudly: a
// doorbell a holder has broken stays silent.
void RingDoorbell(int doorbell);

// The epoll events a waiter watches a doorbell for, edge-triggered (see WaitSource).
uint32_t DoorbellWaitEvents();

}  // namespace mx::internal
