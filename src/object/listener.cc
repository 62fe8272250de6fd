#include "object/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <magenta/service.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "os/koid.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

constexpr uint32_t kHelloMagic = 0x4f4c4548u;  // "HELO"
constexpr uint32_t kHelloVersion = 1;
// Connections accepted but still without their Hello, at most (more wait in the backlog).
constexpr size_t kMaxPending = 256;

// The one datagram a client sends on the listening connection (with one fd: the server's end).
struct Hello {
  uint32_t magic;
  uint32_t version;
  uint64_t server_koid;  // the koid of the endpoint the server builds
  uint64_t client_koid;  // the koid of the client's endpoint (the server's related koid)
};
static_assert(sizeof(Hello) == 24);

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

int IntSockOpt(int sock, int option) {
  int v = -1;
  socklen_t len = sizeof(v);
  if (::getsockopt(sock, SOL_SOCKET, option, &v, &len) != 0) return -1;
  return v;
}

// True if |fd| is an AF_UNIX SOCK_SEQPACKET socket, i.e. something a ChannelEndpoint can use.
bool IsSeqpacketSocket(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  return IntSockOpt(fd, SO_DOMAIN) == AF_UNIX && IntSockOpt(fd, SO_TYPE) == SOCK_SEQPACKET &&
         IntSockOpt(fd, SO_ACCEPTCONN) == 0;
}

int PollOne(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 ? p.revents : 0;
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
  Hello hello = {kHelloMagic, kHelloVersion, AllocateKoid(), AllocateKoid()};
  struct iovec iov = {&hello, sizeof(hello)};
  int fd = theirs.get();
  st = SendDatagram(conn.get(), &iov, 1, &fd, 1);
  if (st == MX_ERR_PEER_CLOSED) return MX_ERR_NOT_FOUND;  // the listener closed meanwhile
  if (st != MX_OK) return st;
  // |theirs| is in flight now (the kernel holds it in the connection's queue); ours closes.
  auto ep = std::make_shared<ChannelEndpoint>(hello.client_koid, hello.server_koid,
                                              std::move(mine));
  ep->set_peer_cred(server_cred);
  *out = std::move(ep);
  return MX_OK;
}

void Listener::AcceptAllLocked() {
  while (pending_.size() < kMaxPending) {
    UniqueFd c(::accept4(sock_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!c) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of fds: the rest waits in the backlog
    }
    pending_.push_back(std::move(c));
  }
}

bool Listener::AnyReadyLocked() {
  bool ready = false;
  for (auto it = pending_.begin(); it != pending_.end();) {
    int revents = PollOne(it->get(), POLLIN);
    if (revents & POLLIN) {
      ready = true;
      ++it;
    } else if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
      it = pending_.erase(it);  // hung up before sending its Hello
    } else {
      ++it;
    }
  }
  return ready;
}

mx_signals_t Listener::Signals() {
  std::lock_guard<std::mutex> lock(mu_);
  AcceptAllLocked();
  bool ready = AnyReadyLocked();
  if (!ready && pending_.size() >= kMaxPending) {
    ready = (PollOne(sock_.get(), POLLIN) & POLLIN) != 0;
  }
  return ready ? MX_SERVICE_READABLE : 0;
}

void Listener::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->push_back({sock_.get(), EPOLLIN, false});
  for (const UniqueFd& c : pending_) out->push_back({c.get(), EPOLLIN, false});
}

mx_status_t Listener::Accept(std::shared_ptr<ChannelEndpoint>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  AcceptAllLocked();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Hello hello;
    ReceivedDatagram got;
    mx_status_t st = ReceiveDatagram(it->get(), &hello, sizeof(hello), &got);
    if (st == MX_ERR_SHOULD_WAIT) {
      ++it;  // connected, Hello not sent yet: stays pending
      continue;
    }
    UniqueFd conn = std::move(*it);
    it = pending_.erase(it);
    if (st != MX_OK) continue;  // hung up without a Hello
    // A client is untrusted: anything but exactly one Hello with one SEQPACKET socket is
    // dropped (its fds close with |got|).
    if (got.truncated || got.bad_control || got.size != sizeof(hello) || got.fds.size() != 1 ||
        hello.magic != kHelloMagic || hello.version != kHelloVersion ||
        hello.server_koid == MX_KOID_INVALID || hello.client_koid == MX_KOID_INVALID ||
        hello.server_koid == hello.client_koid || !IsSeqpacketSocket(got.fds[0].get())) {
      continue;
    }
    ChannelEndpoint::PeerCred client_cred;
    if (!PeerCredOf(conn.get(), &client_cred)) continue;
    int flags = ::fcntl(got.fds[0].get(), F_GETFL);
    if (flags < 0 || ::fcntl(got.fds[0].get(), F_SETFL, flags | O_NONBLOCK) != 0) continue;
    auto ep = std::make_shared<ChannelEndpoint>(hello.server_koid, hello.client_koid,
                                                std::move(got.fds[0]));
    ep->set_peer_cred(client_cred);
    *out = std::move(ep);
    return MX_OK;
  }
  return MX_ERR_SHOULD_WAIT;
}

void Listener::OnLastHandleClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.clear();  // clients waiting for an accept see their channel's peer close
  if (path_.empty() || unlinked_ || ::getpid() != owner_pid_) return;
  unlinked_ = true;
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

}  // namespace mx::internal
