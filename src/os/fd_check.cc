// SPDX-License-Identifier: BSD-3-Clause
#include "os/fd_check.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/memfd.h"

namespace mx::internal {
namespace {

int IntSockOpt(int sock, int option) {
  int v = -1;
  socklen_t len = sizeof(v);
  if (::getsockopt(sock, SOL_SOCKET, option, &v, &len) != 0) return -1;
  return v;
}

bool IsConnectedUnixSocket(int fd, int type) {
  // getpeername answers three questions in one system call: a socket (not ENOTSOCK), connected
  // (a never-connected or listening socket has no peer: ENOTCONN), and of which family. A
  // connected socket keeps its (possibly dead) peer's name, so an endpoint whose peer has gone
  // is still accepted (it reads PEER_CLOSED).
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0 ||
      addr.ss_family != AF_UNIX) {
    return false;
  }
  return IntSockOpt(fd, SO_TYPE) == type;
}

// What CreateSealedMemfd makes (os/memfd.h), between |min_bytes| and |max_bytes| long: sealed
// against size changes and further seals, and not against writes (a write-sealed file cannot be
// mapped shared and writable).
MemfdRule SealedMemfdRule(uint64_t min_bytes, uint64_t max_bytes) {
  MemfdRule rule;
  rule.min_bytes = min_bytes;
  rule.max_bytes = max_bytes;
  rule.required_seals = kSizeSeals;
  rule.forbidden_seals = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  return rule;
}

}  // namespace

int AccessMode(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : (flags & O_ACCMODE);
}

mx_status_t CheckMemfd(int fd, const MemfdRule& rule, uint64_t* size) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return MX_ERR_IO;
  // Only shmem files answer F_GET_SEALS: this rejects files on disk, /proc files and the like.
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) return MX_ERR_IO;
  const unsigned s = static_cast<unsigned>(seals);
  if ((s & rule.required_seals) != rule.required_seals || (s & rule.forbidden_seals) != 0) {
    return MX_ERR_IO;
  }
  if (rule.access != -1 && AccessMode(fd) != rule.access) return MX_ERR_IO;
  const uint64_t bytes = static_cast<uint64_t>(st.st_size);
  if (st.st_size < 0 || bytes < rule.min_bytes || bytes > rule.max_bytes) return MX_ERR_IO;
  if (size != nullptr) *size = bytes;
  return MX_OK;
}

bool IsChannelSocket(int fd) { return IsConnectedUnixSocket(fd, SOCK_SEQPACKET); }

bool IsStreamSocket(int fd) { return IsConnectedUnixSocket(fd, SOCK_STREAM); }

// ---- VMOs --------------------------------------------------------------------------------------

mx_status_t CheckVmoMemfd(int fd, mx_rights_t* rights) {
  mx_status_t st = CheckMemfd(fd, MemfdRule{}, nullptr);
  if (st != MX_OK) return st;
  switch (AccessMode(fd)) {
    case O_RDWR:
      return MX_OK;
    case O_RDONLY:
      *rights &= ~MX_RIGHT_WRITE;
      return MX_OK;
    default:
      return MX_ERR_IO;
  }
}

// ---- Events and eventpairs ---------------------------------------------------------------------

MemfdRule SignalWordMemfdRule(uint64_t bytes) { return SealedMemfdRule(bytes, bytes); }

bool IsDoorbell(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  return IntSockOpt(fd, SO_DOMAIN) == AF_UNIX && IntSockOpt(fd, SO_TYPE) == SOCK_DGRAM &&
         IntSockOpt(fd, SO_LOCK_FILTER) == 1;
}

// ---- Channel endpoints: ring and queue-blob memfds -------------------------------------------

mx_status_t CheckRingMemfd(int fd, uint64_t min_bytes, uint64_t max_bytes, uint64_t* size) {
  MemfdRule rule = SealedMemfdRule(min_bytes, max_bytes);
  rule.access = O_RDWR;
  return CheckMemfd(fd, rule, size);
}

mx_status_t CheckQueueBlob(int fd, uint64_t bytes) {
  MemfdRule rule;
  rule.min_bytes = bytes;
  rule.max_bytes = bytes;
  rule.required_seals = kFrozenSeals;
  mx_status_t st = CheckMemfd(fd, rule, nullptr);
  if (st != MX_OK) return st;
  // The seals keep holes from being punched or filled from now on; the first hole, if any, must
  // be the end of the file. (lseek moves the shared description's offset, which nobody uses.)
  if (bytes == 0) return MX_OK;
  const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
  if (hole < 0 || static_cast<uint64_t>(hole) != bytes) return MX_ERR_IO;
  return MX_OK;
}

// ---- Queue blobs: identity -----------------------------------------------------------------

mx_status_t GetFileId(int fd, FileId* id) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return MX_ERR_IO;
  id->dev = static_cast<uint64_t>(st.st_dev);
  id->ino = static_cast<uint64_t>(st.st_ino);
  return MX_OK;
}

}  // namespace mx::internal
