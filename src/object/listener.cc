// SPDX-License-Identifier: BSD-3-Clause
#include "object/listener.h"

#include <magenta/service.h>

#include "os/clock.h"
#include "os/epoll.h"
#include "os/fd.h"
#include "os/koid.h"
#include "os/log.h"
#include "os/pidfd.h"
#include "os/socket.h"
#include "os/unix_listener.h"
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

bool PeerCredOf(int sock, ChannelEndpoint::PeerCred* out) {
  PeerCredentials cred;
  if (!PeerCredentialsOf(sock, &cred)) return false;
  out->pid = cred.pid;
  out->uid = cred.uid;
  out->gid = cred.gid;
  return true;
}

}  // namespace

Listener::Listener(mx_koid_t koid, UniqueFd sock, std::string path, FileId file)
    : Object(koid),
      sock_(std::move(sock)),
      path_(std::move(path)),
      file_(file),
      owner_pid_(CurrentPid()) {}

Listener::~Listener() = default;

mx_status_t Listener::Listen(const std::string& name, std::shared_ptr<Listener>* out) {
  const bool abstract = name[0] == '@';
  UniqueFd sock;
  FileId file;
  mx_status_t st = ListenOnName(name, &sock, &file);
  if (st != MX_OK) return st;
  *out = std::make_shared<Listener>(AllocateKoid(), std::move(sock),
                                    abstract ? std::string() : name, file);
  return MX_OK;
}

mx_status_t Listener::Connect(const std::string& name, std::shared_ptr<ChannelEndpoint>* out) {
  UniqueFd conn;
  mx_status_t st = ConnectToName(name, &conn);
  if (st != MX_OK) return st;

  ChannelEndpoint::PeerCred server_cred;
  if (!PeerCredOf(conn.get(), &server_cred)) return MX_ERR_INTERNAL;
  UniqueFd mine, theirs;
  st = CreateSeqpacketPair(&mine, &theirs);
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
    DebugLog("listener: Hello from pid %d uid %u refused (%s)", cred.pid, cred.uid,
             HelloErrorName(err));
    return true;
  }
  if (!SetNonBlocking(hello.socket.get())) return true;
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
    UniqueFd c;
    const mx_status_t st = AcceptConnection(sock_.get(), &c);
    if (st == MX_ERR_PEER_CLOSED) continue;  // aborted before we took it
    if (st != MX_OK) return;  // none pending, or out of fds: the rest waits in the backlog
    ChannelEndpoint::PeerCred cred;
    if (!PeerCredOf(c.get(), &cred)) continue;
    if (TryHelloLocked(c.get(), cred)) continue;
    AdmitSilentLocked(Silent{std::move(c), cred, now + kHelloTimeoutNs});
  }
}

mx_signals_t Listener::Signals() {
  MutexLock lock(&mu_);
  PumpLocked();
  return ready_.empty() ? 0 : MX_SERVICE_READABLE;
}

void Listener::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  MutexLock lock(&mu_);
  // While kMaxReady endpoints wait, the backlog is not looked at, so it must not wake us (the
  // waiter sees READABLE anyway).
  if (ready_.size() < kMaxReady) out->push_back({sock_.get(), EPOLLIN, false});
  for (const Silent& s : silent_) out->push_back({s.conn.get(), EPOLLIN, false});
}

mx_status_t Listener::Accept(std::shared_ptr<ChannelEndpoint>* out) {
  MutexLock lock(&mu_);
  if (ready_.empty()) PumpLocked();
  if (ready_.empty()) return MX_ERR_SHOULD_WAIT;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return MX_OK;
}

void Listener::OnLastHandleClosed() {
  MutexLock lock(&mu_);
  // Clients waiting for an accept see their channel's peer close.
  silent_.clear();
  ready_.clear();
  if (path_.empty() || unlinked_ || CurrentPid() != owner_pid_) return;
  unlinked_ = true;
  RemoveSocketFile(path_, file_);
}

}  // namespace mx::internal
