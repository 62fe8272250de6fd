// SPDX-License-Identifier: BSD-3-Clause
#include "os/unix_listener.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "os/eintr.h"
#include "os/status.h"

namespace mx::internal {
namespace {

struct Address {
  struct sockaddr_un addr;
  socklen_t len;
  const struct sockaddr* get() const { return reinterpret_cast<const struct sockaddr*>(&addr); }
};

Address MakeAddress(const std::string& name) {
  Address a;
  std::memset(&a.addr, 0, sizeof(a.addr));
  a.addr.sun_family = AF_UNIX;
  if (name[0] == '@') {
    // Abstract: a leading NUL, then the name without the '@'; the length bounds it.
    std::memcpy(a.addr.sun_path + 1, name.data() + 1, name.size() - 1);
    a.len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + name.size());
  } else {
    std::memcpy(a.addr.sun_path, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + name.size() + 1);
  }
  return a;
}

UniqueFd NewSocket() {
  return UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

bool LstatFile(const std::string& path, struct stat* st) { return ::lstat(path.c_str(), st) == 0; }

// Binds |sock| to |name|, replacing a socket file left behind by a listener that died if nobody
// answers there.
mx_status_t BindReplacingStale(int sock, const std::string& name, const Address& addr) {
  if (::bind(sock, addr.get(), addr.len) == 0) return MX_OK;
  if (errno != EADDRINUSE || name[0] == '@') return SocketNameStatus(errno);
  UniqueFd probe = NewSocket();
  if (!probe) return SocketAllocationStatus(errno);
  struct stat st;
  if (LstatFile(name, &st) && S_ISSOCK(st.st_mode) &&
      ::connect(probe.get(), addr.get(), addr.len) != 0 && errno == ECONNREFUSED) {
    ::unlink(name.c_str());
    return ::bind(sock, addr.get(), addr.len) == 0 ? MX_OK : SocketNameStatus(errno);
  }
  return SocketNameStatus(EADDRINUSE);
}

}  // namespace

size_t SocketNameCapacity() { return sizeof(sockaddr_un::sun_path); }

mx_status_t ListenOnName(const std::string& name, UniqueFd* out, FileId* file) {
  const bool abstract = name[0] == '@';
  const Address addr = MakeAddress(name);
  UniqueFd sock = NewSocket();
  if (!sock) return SocketAllocationStatus(errno);
  const mx_status_t st = BindReplacingStale(sock.get(), name, addr);
  if (st != MX_OK) return st;
  *file = FileId{};
  struct stat made;
  if (!abstract && LstatFile(name, &made)) {
    file->dev = static_cast<uint64_t>(made.st_dev);
    file->ino = static_cast<uint64_t>(made.st_ino);
  }
  if (::listen(sock.get(), SOMAXCONN) != 0) {
    const int listen_err = errno;
    if (!abstract) ::unlink(name.c_str());
    return SocketAllocationStatus(listen_err);
  }
  *out = std::move(sock);
  return MX_OK;
}

mx_status_t ConnectToName(const std::string& name, UniqueFd* out) {
  const Address addr = MakeAddress(name);
  UniqueFd conn = NewSocket();
  if (!conn) return SocketAllocationStatus(errno);
  if (RetryOnEintr([&] { return ::connect(conn.get(), addr.get(), addr.len); }) != 0) {
    return SocketNameStatus(errno);
  }
  *out = std::move(conn);
  return MX_OK;
}

mx_status_t AcceptConnection(int listener, UniqueFd* out) {
  UniqueFd c(RetryOnEintr(
      [&] { return ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); }));
  if (!c) return errno == ECONNABORTED ? MX_ERR_PEER_CLOSED : StatusFromErrno(errno);
  *out = std::move(c);
  return MX_OK;
}

bool PeerCredentialsOf(int sock, PeerCredentials* out) {
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    return false;
  }
  out->pid = static_cast<int32_t>(cred.pid);
  out->uid = static_cast<uint32_t>(cred.uid);
  out->gid = static_cast<uint32_t>(cred.gid);
  return true;
}

void RemoveSocketFile(const std::string& path, const FileId& file) {
  struct stat st;
  if (LstatFile(path, &st) && static_cast<uint64_t>(st.st_dev) == file.dev &&
      static_cast<uint64_t>(st.st_ino) == file.ino) {
    ::unlink(path.c_str());
  }
}

}  // namespace mx::internal
