// SPDX-License-Identifier: BSD-3-Clause
// Named AF_UNIX SOCK_SEQPACKET sockets: listening on a name, connecting to one, accepting.
//
// A name is a path in the file system, or "@name" for Linux's abstract namespace (no file). A
// path's socket file is left behind by a listener that dies; ListenOnName replaces such a file
// when nobody answers there, and RemoveSocketFile removes the file a listener made, only if it is
// still that file. Every socket is non-blocking and close-on-exec. Thread-safe.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "os/fd_check.h"
#include "os/unique_fd.h"

namespace mx::internal {

// The room for a name in a socket address (sockaddr_un's sun_path): a path takes its bytes plus
// the NUL, an abstract name the leading NUL plus its bytes, so a usable name is shorter than this.
size_t SocketNameCapacity();

// Who is at the other end of a connected socket, as the kernel recorded it when it connected.
struct PeerCredentials {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Binds a new socket to |name| (non-empty) and listens. |*file| is the identity of the socket
// file made (zero for an abstract name, or if it could not be told). Errors: SocketNameStatus
// (os/status.h) of the bind — ALREADY_EXISTS if someone listens there — or NO_MEMORY /
// NO_RESOURCES.
mx_status_t ListenOnName(const std::string& name, UniqueFd* out, FileId* file);

// Connects a new socket to the listener at |name|. Errors: SocketNameStatus of the connect
// (NOT_FOUND if nobody listens there), or NO_MEMORY / NO_RESOURCES.
mx_status_t ConnectToName(const std::string& name, UniqueFd* out);

// Accepts one pending connection. MX_OK; PEER_CLOSED if that connection was aborted before it
// was accepted (the next may be fine); SHOULD_WAIT if none is pending, or another error (out of
// fds: the rest waits in the backlog).
mx_status_t AcceptConnection(int listener, UniqueFd* out);

// The credentials of the peer of connected socket |sock|. False if they cannot be had.
bool PeerCredentialsOf(int sock, PeerCredentials* out);

// Removes the socket file at |path| if it is still the file |file| (not one a later listener
// made there).
void RemoveSocketFile(const std::string& path, const FileId& file);

}  // namespace mx::internal
