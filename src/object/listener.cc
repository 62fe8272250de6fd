#include "object/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <magenta/service.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "os/clock.h"
#include "os/koid.h"
#include "os/log.h"
#include "os/socket.h"
#include "transport/hello.h"

namespace mx::internal {
namespace {

// Limits on connections that have not sent their Hello (see listener.h).
constexpr mx_time_t kHelloTimeoutNs = 1000ll * 1000 * 1000;
constexpr size_t kMaxSilent = 256;
constexpr size_t kMaxSilentPerUid = 16;
// Validated endpoints waiting for mx_service_accept; the backlog is left alone while this many
// wait.
constexpr size_t kMaxReady = 64;
// accept4() calls per look at the listener: a client connecting in a loop cannot hold us.
constexpr int kMaxAcceptsPerPump = 256;

mx_status_t ResourceError(int err) {
  return err == ENOMEM || err == ENOBUFS ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
}

// errno of bind/connect on a Unix socket name → status.
mx_status_t NameError(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return MX_ERR_ACCESS_DENIED;
    case ENOENT:
    case ENOTDIR:
    case ECONNREFUSED:  // a socket file nobody listens on, or not a socket at all
    case EPROTOTYPE:    // a socket of another type (not a libmx listener)
      return MX_ERR_NOT_FOUND;
    case EADDRINUSE:
    case EEXIST:
      return MX_ERR_ALREADY_EXISTS;
    case EAGAIN:
      return MX_ERR_SHOULD_WAIT;
    case ENAMETOOLONG:
    case EINVAL:
    case ELOOP:
      return MX_ERR_INVALID_ARGS;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
      return ResourceError(err);
    default:
      return MX_ERR_INTERNAL;
  }
}

void MakeAddress(const std::string& name, struct sockaddr_un* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (name[0] == '@') {
    // Abstract: a leading NUL, then the name without the '@'; the length bounds it.
    std::memcpy(addr->sun_path + 1, name.data() + 1, name.size() - 1);
    *len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + name.size());
  } else {
    std::memcpy(addr->sun_path, name.data(), name.size());
    *len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + name.size() + 1);
  }
}

UniqueFd NewSocket() {
  return UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

bool PeerCredOf(int sock, ChannelEndpoint::PeerCred* out) {
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

}  // namespace

Listener::Listener(mx_koid_t koid, UniqueFd sock, std::string path, dev_t dev, ino_t ino)
    : Object(koid),
      sock_(std::move(sock)),
      path_(std::move(path)),
      dev_(dev),
      ino_(ino),
      owner_pid_(::getpid()) {}

Listener::~Listener() = default;

uint32_t Listener::type() const { return MX_OBJ_TYPE_SERVICE_LISTENER; }

mx_status_t Listener::Listen(const std::string& name, std::shared_ptr<Listener>* out) {
  const bool abstract = name[0] == '@';
  struct sockaddr_un addr;
  socklen_t addr_len;
  MakeAddress(name, &addr, &addr_len);
  UniqueFd sock = NewSocket();
  if (!sock) return ResourceError(errno);
  int r = ::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), addr_len);
  if (r != 0 && errno == EADDRINUSE && !abstract) {
    // A socket file left behind by a listener that died: replace it if nobody answers there.
    struct stat st;
    UniqueFd probe = NewSocket();
    if (!probe) return ResourceError(errno);
    if (::lstat(name.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        ::connect(probe.get(), reinterpret_cast<struct sockaddr*>(&addr), addr_len) != 0 &&
        errno == ECONNREFUSED) {
      ::unlink(name.c_str());
      r = ::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), addr_len);
    } else {
      errno = EADDRINUSE;
    }
  }
  if (r != 0) return NameError(errno);
  dev_t dev = 0;
  ino_t ino = 0;
  if (!abstract) {
    struct stat st;
    if (::lstat(name.c_str(), &st) == 0) {
      dev = st.st_dev;
      ino = st.st_ino;
    }
  }
  if (::listen(sock.get(), SOMAXCONN) != 0) {
    int err = errno;
    if (!abstract) ::unlink(name.c_str());
    return ResourceError(err);
  }
  *out = std::make_shared<Listener>(AllocateKoid(), std::move(sock),
                                    abstract ? std::string() : name, dev, ino);
  return MX_OK;
}

mx_status_t Listener::Connect(const std::string& name, std::shared_ptr<ChannelEndpoint>* out) {
  struct sockaddr_un addr;
  socklen_t addr_len;
  MakeAddress(name, &addr, &addr_len);
  UniqueFd conn = NewSocket();
  if (!conn) return ResourceError(errno);
  int r;
  do {
    r = ::connect(conn.get(), reinterpret_cast<struct sockaddr*>(&addr), addr_len);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return NameError(errno);

  ChannelEndpoint::PeerCred server_cred;
  if (!PeerCredOf(conn.get(), &server_cred)) return MX_ERR_INTERNAL;
  UniqueFd mine, theirs;
  mx_status_t st = CreateSeqpacketPair(&mine, &theirs);
  if (st != MX_OK) return st == MX_ERR_NO_MEMORY ? st : MX_ERR_NO_RESOURCES;
  HelloWire hello = EncodeHello(AllocateKoid(), AllocateKoid());
  struct iovec iov = {&hello, sizeof(hello)};
  int fd = theirs.get();
  st = SendDatagram(conn.get(), &iov, 1, &fd, 1);
  if (st == MX_ERR_PEER_CLOSED) return MX_ERR_NOT_FOUND;  // the listener closed meanwhile
  if (st != MX_OK) return st;
  // |theirs| is in flight now (the kernel holds it in the connection's queue); ours closes.
  auto ep =
      std::make_shared<ChannelEndpoint>(hello.client_koid, hello.server_koid, std::move(mine));
  ep->set_peer_cred(server_cred);
  *out = std::move(ep);
  return MX_OK;
}

bool Listener::TryHelloLocked(int conn, const ChannelEndpoint::PeerCred& cred) {
  HelloWire wire;
  ReceivedDatagram got;
  // A Hello carries one fd (the client's socket): room for one, so a client attaching more
  // makes us install no more than that (the kernel closes the rest; the Hello is refused).
  mx_status_t st = ReceiveDatagramUpTo(conn, &wire, sizeof(wire), 1, &got);
  if (st == MX_ERR_SHOULD_WAIT) return false;  // connected, Hello not sent yet
  if (st != MX_OK) return true;                // hung up without a Hello
  Hello hello;
  HelloError err = DecodeHello(reinterpret_cast<const uint8_t*>(&wire), got.size, got.truncated,
                               got.bad_control, std::move(got.fds), &hello);
  if (err != HelloError::kNone) {
    DebugLog("listener: Hello from pid %d uid %u refused (reason %d)", cred.pid, cred.uid,
             static_cast<int>(err));
    return true;
  }
  int flags = ::fcntl(hello.socket.get(), F_GETFL);
  if (flags < 0 || ::fcntl(hello.socket.get(), F_SETFL, flags | O_NONBLOCK) != 0) return true;
  auto ep = std::make_shared<ChannelEndpoint>(hello.server_koid, hello.client_koid,
                                              std::move(hello.socket));
  ep->set_peer_cred(cred);
  ready_.push_back(std::move(ep));
  return true;
}

void Listener::AdmitSilentLocked(Silent s) {
  size_t same_uid = 0;
  auto oldest_same_uid = silent_.end();
  for (auto it = silent_.begin(); it != silent_.end(); ++it) {
    if (it->cred.uid != s.cred.uid) continue;
    if (same_uid++ == 0) oldest_same_uid = it;
  }
  if (same_uid >= kMaxSilentPerUid) {
    silent_.erase(oldest_same_uid);
  } else if (silent_.size() >= kMaxSilent) {
    silent_.pop_front();
  }
  silent_.push_back(std::move(s));
}

void Listener::PumpLocked() {
  const mx_time_t now = MonotonicNow();
  for (auto it = silent_.begin(); it != silent_.end();) {
    if (it->deadline <= now ||
        (ready_.size() < kMaxReady && TryHelloLocked(it->conn.get(), it->cred))) {
      it = silent_.erase(it);
    } else {
      ++it;
    }
  }
  for (int i = 0; i < kMaxAcceptsPerPump && ready_.size() < kMaxReady; ++i) {
    UniqueFd c(::accept4(sock_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!c) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of fds: the rest waits in the backlog
    }
    ChannelEndpoint::PeerCred cred;
    if (!PeerCredOf(c.get(), &cred)) continue;
    if (TryHelloLocked(c.get(), cred)) continue;
    AdmitSilentLocked(Silent{std::move(c), cred, now + kHelloTimeoutNs});
  }
}

mx_signals_t Listener::Signals() {
  std::lock_guard<std::mutex> lock(mu_);
  PumpLocked();
  return ready_.empty() ? 0 : MX_SERVICE_READABLE;
}

void Listener::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // While kMaxReady endpoints wait, the backlog is not looked at, so it must not wake us (the
  // waiter sees READABLE anyway).
  if (ready_.size() < kMaxReady) out->push_back({sock_.get(), EPOLLIN, false});
  for (const Silent& s : silent_) out->push_back({s.conn.get(), EPOLLIN, false});
}

mx_status_t Listener::Accept(std::shared_ptr<ChannelEndpoint>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_.empty()) PumpLocked();
  if (ready_.empty()) return MX_ERR_SHOULD_WAIT;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return MX_OK;
}

void Listener::OnLastHandleClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  // Clients waiting for an accept see their channel's peer close.
  silent_.clear();
  ready_.clear();
  if (path_.empty() || unlinked_ || ::getpid() != owner_pid_) return;
  unlinked_ = true;
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

}  // namespace mx::internal
