#include "object/eventpair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "os/handle_lock.h"
#include "os/koid.h"
#include "os/socket.h"

namespace mx::internal {

struct EventPairSide::Shared {
  uint32_t magic;
  uint32_t version;
  uint64_t koid;
  uint64_t peer_koid;
  std::atomic<uint32_t> signals;
};

namespace {

constexpr uint32_t kSideMagic = 0x5045504du;  // "MPEP"
constexpr size_t kSideBytes = 4096;
// What mx_object_signal / mx_object_signal_peer may touch (Magenta: EPAIR_SIGNALED + user bits;
// not MX_EPAIR_SIGNAL_MASK, which also names PEER_CLOSED).
constexpr mx_signals_t kUserSettable = MX_EPAIR_SIGNALED | MX_USER_SIGNAL_ALL;

mx_status_t ResourceError() { return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES; }

UniqueFd Dup(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

mx_status_t MakeSideMemory(UniqueFd* memfd, UniqueFd* efd) {
  UniqueFd m(::memfd_create("mx-eventpair", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!m) return ResourceError();
  if (::ftruncate(m.get(), kSideBytes) != 0) return ResourceError();
  if (::fcntl(m.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return MX_ERR_INTERNAL;
  }
  UniqueFd e(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!e) return ResourceError();
  *memfd = std::move(m);
  *efd = std::move(e);
  return MX_OK;
}

bool IsEventFd(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

// Maps a side's memfd after checking it is a sealed 4 KiB file. IO if it is not one;
// NO_MEMORY if the mapping failed for lack of memory (a read keeps its message then).
mx_status_t MapSide(int fd, void** out) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) != kSideBytes) {
    return MX_ERR_IO;
  }
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
    return MX_ERR_IO;
  }
  void* map = ::mmap(nullptr, kSideBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_IO;
  *out = map;
  return MX_OK;
}

bool IsSeqpacketSocket(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  int type = 0;
  socklen_t len = sizeof(type);
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

void Kick(int eventfd) {
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(eventfd, &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

// Clears, then sets, bits of a shared signal word; returns the old word.
uint32_t Update(std::atomic<uint32_t>* word, uint32_t clear_mask, uint32_t set_mask) {
  uint32_t old = word->load(std::memory_order_relaxed);
  while (!word->compare_exchange_weak(old, (old & ~clear_mask) | set_mask,
                                      std::memory_order_acq_rel)) {
  }
  return old;
}

}  // namespace

EventPairSide::EventPairSide(mx_koid_t koid, mx_koid_t peer_koid, Fds fds, Shared* own,
                             Shared* peer)
    : Object(koid), peer_koid_(peer_koid), fds_(std::move(fds)), own_(own), peer_(peer) {}

EventPairSide::~EventPairSide() {
  ::munmap(own_, kSideBytes);
  ::munmap(peer_, kSideBytes);
  // fds_ closes the life line: if this was the side's last holder, the peer sees PEER_CLOSED.
}

mx_status_t EventPairSide::Create(mx_rights_t rights, std::unique_ptr<Handle>* out0,
                                  std::unique_ptr<Handle>* out1) {
  UniqueFd mem[2], efd[2], life[2];
  for (int i = 0; i < 2; ++i) {
    mx_status_t st = MakeSideMemory(&mem[i], &efd[i]);
    if (st != MX_OK) return st;
  }
  mx_status_t st = CreateSeqpacketPair(&life[0], &life[1]);
  if (st != MX_OK) return st;
  // Each object keeps its own unlocked description of each memfd; tokens are opened from them.
  Fds fds[2];
  for (int i = 0; i < 2; ++i) {
    fds[i].memfd = ReopenDescription(mem[i].get());
    fds[i].eventfd = Dup(efd[i].get());
    fds[i].peer_memfd = ReopenDescription(mem[1 - i].get());
    fds[i].peer_eventfd = Dup(efd[1 - i].get());
    fds[i].life = std::move(life[i]);
    if (!fds[i].memfd || !fds[i].eventfd || !fds[i].peer_memfd || !fds[i].peer_eventfd) {
      return ResourceError();
    }
  }
  // Each object maps both pages itself; a mapping is owned by the object that made it.
  struct Mapping {
    void* addr = nullptr;
    ~Mapping() {
      if (addr != nullptr) ::munmap(addr, kSideBytes);
    }
    Shared* release() { return static_cast<Shared*>(std::exchange(addr, nullptr)); }
  };
  Mapping own[2], peer[2];
  for (int i = 0; i < 2; ++i) {
    for (Mapping* m : {&own[i], &peer[1 - i]}) {
      void* map = ::mmap(nullptr, kSideBytes, PROT_READ | PROT_WRITE, MAP_SHARED, mem[i].get(), 0);
      if (map == MAP_FAILED) return MX_ERR_NO_MEMORY;
      m->addr = map;
    }
    auto* shared = new (own[i].addr) Shared();
    shared->magic = kSideMagic;
    shared->version = 1;
    shared->koid = AllocateKoid();
  }
  auto* s0 = static_cast<Shared*>(own[0].addr);
  auto* s1 = static_cast<Shared*>(own[1].addr);
  s0->peer_koid = s1->koid;
  s1->peer_koid = s0->koid;
  const mx_koid_t k0 = s0->koid, k1 = s1->koid;
  std::shared_ptr<EventPairSide> side0(
      new EventPairSide(k0, k1, std::move(fds[0]), own[0].release(), peer[0].release()));
  std::shared_ptr<EventPairSide> side1(
      new EventPairSide(k1, k0, std::move(fds[1]), own[1].release(), peer[1].release()));
  UniqueFd token0, token1;
  st = OpenLockedDescription(side0->fds_.memfd.get(), &token0);
  if (st != MX_OK) return st;
  st = OpenLockedDescription(side1->fds_.memfd.get(), &token1);
  if (st != MX_OK) return st;
  *out0 = std::make_unique<Handle>(std::move(side0), rights);
  (*out0)->token() = std::move(token0);
  *out1 = std::make_unique<Handle>(std::move(side1), rights);
  (*out1)->token() = std::move(token1);
  return MX_OK;
}

mx_status_t EventPairSide::FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle) {
  if (raw.type != MX_OBJ_TYPE_EVENT_PAIR || raw.fds.size() != 6 || !raw.extra.empty()) {
    return MX_ERR_IO;
  }
  for (const UniqueFd& fd : raw.fds) {
    if (!fd) return MX_ERR_IO;
  }
  if (!IsEventFd(raw.fds[2].get()) || !IsEventFd(raw.fds[4].get()) ||
      !IsSeqpacketSocket(raw.fds[5].get())) {
    return MX_ERR_IO;
  }
  // The token and the unlocked description must name the same file.
  struct stat a, b;
  if (::fstat(raw.fds[0].get(), &a) != 0 || ::fstat(raw.fds[1].get(), &b) != 0 ||
      a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
    return MX_ERR_IO;
  }
  void* own = nullptr;
  void* peer = nullptr;
  mx_status_t mapped = MapSide(raw.fds[1].get(), &own);
  if (mapped != MX_OK) return mapped;
  mapped = MapSide(raw.fds[3].get(), &peer);
  if (mapped != MX_OK) {
    ::munmap(own, kSideBytes);
    return mapped;
  }
  auto* o = static_cast<Shared*>(own);
  auto* p = static_cast<Shared*>(peer);
  if (o->magic != kSideMagic || p->magic != kSideMagic || o->koid != raw.koid ||
      p->koid != raw.related_koid || o->peer_koid != p->koid || p->peer_koid != o->koid ||
      raw.koid == raw.related_koid) {
    ::munmap(own, kSideBytes);
    ::munmap(peer, kSideBytes);
    return MX_ERR_IO;
  }
  Fds fds;
  fds.memfd = std::move(raw.fds[1]);
  fds.eventfd = std::move(raw.fds[2]);
  fds.peer_memfd = std::move(raw.fds[3]);
  fds.peer_eventfd = std::move(raw.fds[4]);
  fds.life = std::move(raw.fds[5]);
  std::shared_ptr<EventPairSide> side(
      new EventPairSide(raw.koid, raw.related_koid, std::move(fds), o, p));
  // The arriving locked description is this handle's token: the sender's lock moved with it.
  *handle = std::make_unique<Handle>(std::move(side), raw.rights);
  (*handle)->token() = std::move(raw.fds[0]);
  return MX_OK;
}

bool EventPairSide::PeerGone() {
  if (peer_gone_.load(std::memory_order_acquire)) return true;
  if (!PeerHungUp(fds_.life.get())) return false;
  peer_gone_.store(true, std::memory_order_release);
  return true;
}

mx_signals_t EventPairSide::Signals() {
  mx_signals_t s = own_->signals.load(std::memory_order_acquire);
  if (PeerGone()) s |= MX_EPAIR_PEER_CLOSED;
  return s;
}

void EventPairSide::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  out->push_back({fds_.eventfd.get(), EPOLLIN, true});
  // Edge-triggered: the hang-up is reported once, so a wait for other bits does not spin on it.
  out->push_back({fds_.life.get(), EPOLLRDHUP, true});
}

mx_status_t EventPairSide::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~kUserSettable) != 0) return MX_ERR_INVALID_ARGS;
  const uint32_t old = Update(&own_->signals, clear_mask, set_mask);
  Kick(fds_.eventfd.get());
  NotifySignalsChanged(set_mask, clear_mask & old);
  return MX_OK;
}

mx_status_t EventPairSide::UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~kUserSettable) != 0) return MX_ERR_INVALID_ARGS;
  if (PeerGone()) return MX_ERR_PEER_CLOSED;
  // The peer's waiters, in this process or any other, watch the peer's eventfd.
  Update(&peer_->signals, clear_mask, set_mask);
  Kick(fds_.peer_eventfd.get());
  return MX_OK;
}

bool EventPairSide::IsLastHandle(const Handle& handle) const {
  return handle.token() && IsSoleLockHolder(handle.token().get());
}

void EventPairSide::OnHandleCountChanged() {
  Kick(fds_.eventfd.get());
  NotifySignalsSet(0);
}

mx_status_t EventPairSide::PrepareTransfer(const Handle& handle, RawHandle* out) {
  out->type = MX_OBJ_TYPE_EVENT_PAIR;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  const int sources[6] = {handle.token().get(),  fds_.memfd.get(),        fds_.eventfd.get(),
                          fds_.peer_memfd.get(), fds_.peer_eventfd.get(), fds_.life.get()};
  for (int fd : sources) {
    UniqueFd dup = Dup(fd);
    if (!dup) {
      int err = errno;
      out->fds.clear();
      return err == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
    }
    out->fds.push_back(std::move(dup));
  }
  return MX_OK;
}

mx_status_t EventPairSide::PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                            std::unique_ptr<Handle>* out) {
  UniqueFd token;
  mx_status_t st = OpenLockedDescription(fds_.memfd.get(), &token);
  if (st != MX_OK) return st;
  auto h = std::make_unique<Handle>(from.object(), rights);
  h->token() = std::move(token);
  *out = std::move(h);
  return MX_OK;
}

}  // namespace mx::internal
