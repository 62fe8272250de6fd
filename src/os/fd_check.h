// SPDX-License-Identifier: BSD-3-Clause
// Validation of file descriptors that arrive from another process: one function per kind.
//
// Every fd that crosses a process boundary is attacker-controlled: its type, its access mode, its
// size and its seals. Each kind of fd libmx receives is checked here, in one place, before the
// object that will own it looks at it. The checks never block and never trust anything the peer
// can change later except where the caller is told so (a resizable VMO's size).
#pragma once

#include <fcntl.h>  // O_RDONLY, O_RDWR: MemfdRule::access, AccessMode
#include <magenta/types.h>

#include <cstdint>
#include <vector>

namespace mx::internal {

// What a memfd must look like.
struct MemfdRule {
  uint64_t min_bytes = 0;
  uint64_t max_bytes = UINT64_MAX;
  unsigned required_seals = 0;   // F_SEAL_* bits that must all be set
  unsigned forbidden_seals = 0;  // F_SEAL_* bits none of which may be set
  int access = -1;               // O_RDONLY or O_RDWR: the description's access mode; -1: either
};

// MX_OK (and the file's size in |*size|, if not null) if |fd| is a regular shmem file (a memfd)
// that satisfies |rule|; MX_ERR_IO otherwise.
mx_status_t CheckMemfd(int fd, const MemfdRule& rule, uint64_t* size);

// A channel endpoint's socket: a connected (socketpair or accepted) AF_UNIX SOCK_SEQPACKET
// socket that is not listening.
bool IsChannelSocket(int fd);

// An mx socket's fd: a connected AF_UNIX SOCK_STREAM socket that is not listening.
bool IsStreamSocket(int fd);

// The access mode of |fd|'s description (O_RDONLY, O_WRONLY or O_RDWR), or -1.
int AccessMode(int fd);

// ---- VMOs --------------------------------------------------------------------------------------

// A received VMO's fd: a regular shmem file (a memfd) of any size and seals, whose description is
// read-only or read-write. MX_ERR_IO otherwise (write-only, O_PATH, a file on disk, a socket...).
// |*rights| comes in as the sender's claim and leaves without MX_RIGHT_WRITE when the description
// is read-only: the kernel's answer decides, never the claim, so a holder without WRITE cannot
// pass WRITE on. The VMO's size and seals are not checked here: a resizable VMO may change size at
// any time, and mx_vmar_map asks the kernel for the seals when the caller needs them.
mx_status_t CheckVmoMemfd(int fd, mx_rights_t* rights);

// ---- Events and eventpairs ---------------------------------------------------------------------

// What an event's or an eventpair side's signal-word memfd must look like: exactly |bytes|
// long, sealed against shrinking, growing and further sealing, and not sealed against writes
// (a write-sealed file cannot be mapped shared and writable).
MemfdRule SignalWordMemfdRule(uint64_t bytes);

// A doorbell (os/doorbell.h): an AF_UNIX SOCK_DGRAM socket with a locked socket filter. Whether
// it is still connected to itself is not checked: a holder may have disconnected it, which
// silences that object's wake-ups but is no reason to drop the handle.
bool IsDoorbell(int fd);

// ---- Channel endpoints: ring and queue-blob memfds -------------------------------------------

// A message ring's memfd (transport/message_ring.h), as MessageRing::Create makes it: sealed
// against shrinking, growing and further seals (so neither side can make the other's mapping
// fault), not sealed against writes (both sides map it writable), opened O_RDWR, and between
// |min_bytes| and |max_bytes| long. MX_OK with its size in |*size|, or MX_ERR_IO.
mx_status_t CheckRingMemfd(int fd, uint64_t min_bytes, uint64_t max_bytes, uint64_t* size);

// An endpoint's queue blob (transport/endpoint_state.h), as CreateQueueBlob makes it: sealed
// against every change (shrink, grow, write, further seals), exactly |bytes| long, and with every
// page present, so that it cannot change under a read-only mapping and its sender paid for each
// byte (a sparse file would cost it nothing). MX_OK or MX_ERR_IO.
mx_status_t CheckQueueBlob(int fd, uint64_t bytes);

// ---- Queue blobs: identity -----------------------------------------------------------------

// A file's identity: the device and inode numbers fstat gives.
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
};
inline bool operator==(const FileId& a, const FileId& b) {
  return a.dev == b.dev && a.ino == b.ino;
}

// MX_OK and the identity of |fd|'s file in |*id|, or MX_ERR_IO.
mx_status_t GetFileId(int fd, FileId* id);

}  // namespace mx::internal
