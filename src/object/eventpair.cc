// SPDX-License-Identifier: BSD-3-Clause
#include "object/eventpair.h"

#include <new>
#include <utility>

#include "os/doorbell.h"
#include "os/epoll.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/handle_lock.h"
#include "os/koid.h"
#include "os/memfd.h"
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
constexpr uint32_t kSideVersion = 2;
constexpr size_t kSideBytes = 4096;
// What mx_object_signal / mx_object_signal_peer may touch (Magenta: EPAIR_SIGNALED + user bits;
// not MX_EPAIR_SIGNAL_MASK, which also names PEER_CLOSED).
constexpr mx_signals_t kUserSettable = MX_EPAIR_SIGNALED | MX_USER_SIGNAL_ALL;

mx_status_t MakeSideMemory(UniqueFd* memfd, UniqueFd* doorbell) {
  UniqueFd m;
  mx_status_t st = CreateSealedMemfd("mx-eventpair", kSideBytes, &m);
  if (st != MX_OK) return st;
  // Writable descriptions are only ever sent (with SIGNAL / SIGNAL_PEER), never reopened.
  st = DenyWriteReopen(m.get());
  if (st != MX_OK) return st;
  UniqueFd d;
  st = CreateDoorbell(&d);
  if (st != MX_OK) return st;
  *memfd = std::move(m);
  *doorbell = std::move(d);
  return MX_OK;
}

// Checks that |fd| is a side's memfd whose access mode is |access| and maps it (read-write only
// if |access| is O_RDWR). IO if it is not one; NO_MEMORY if the mapping failed for lack of
// memory (a read keeps its message then).
mx_status_t MapSide(int fd, int access, Mapping* out) {
  MemfdRule rule = SignalWordMemfdRule(kSideBytes);
  rule.access = access;
  if (CheckMemfd(fd, rule, nullptr) != MX_OK) return MX_ERR_IO;
  return out->MapReceived(fd, kSideBytes, access == O_RDWR);
}

// A description of a side's memfd to send: writable only if |writable| (and |fd| is).
mx_status_t DescriptionToSend(int fd, bool fd_writable, bool writable, UniqueFd* out) {
  return writable || !fd_writable ? DupFd(fd, out) : NewReadOnlyDescription(fd, out);
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

EventPairSide::EventPairSide(mx_koid_t koid, mx_koid_t peer_koid, Fds fds, Mapping own,
                             Mapping peer)
    : Object(koid),
      peer_koid_(peer_koid),
      fds_(std::move(fds)),
      own_map_(std::move(own)),
      peer_map_(std::move(peer)),
      own_(static_cast<Shared*>(own_map_.get())),
      peer_(static_cast<Shared*>(peer_map_.get())) {}

EventPairSide::~EventPairSide() {
  // fds_ closes the life line: if this was the side's last holder, the peer sees PEER_CLOSED.
}

mx_status_t EventPairSide::Create(mx_rights_t rights, std::unique_ptr<Handle>* out0,
                                  std::unique_ptr<Handle>* out1) {
  UniqueFd mem[2], bell[2], life[2];
  for (int i = 0; i < 2; ++i) {
    mx_status_t st = MakeSideMemory(&mem[i], &bell[i]);
    if (st != MX_OK) return st;
  }
  mx_status_t st = CreateSeqpacketPair(&life[0], &life[1]);
  if (st != MX_OK) return st;
  // Both objects share the creator's writable, unlocked descriptions; tokens are opened from
  // them.
  Fds fds[2];
  for (int i = 0; i < 2; ++i) {
    for (auto [from, to] :
         {std::pair{mem[i].get(), &fds[i].memfd}, std::pair{bell[i].get(), &fds[i].doorbell},
          std::pair{mem[1 - i].get(), &fds[i].peer_memfd},
          std::pair{bell[1 - i].get(), &fds[i].peer_doorbell}}) {
      st = DupFd(from, to);
      if (st != MX_OK) return st;
    }
    fds[i].life = std::move(life[i]);
    fds[i].own_writable = true;
    fds[i].peer_writable = true;
  }
  // Each object maps both pages itself; a mapping is owned by the object that made it.
  Mapping own[2], peer[2];
  for (int i = 0; i < 2; ++i) {
    for (Mapping* m : {&own[i], &peer[1 - i]}) {
      st = m->Map(mem[i].get(), kSideBytes, /*writable=*/true);
      if (st != MX_OK) return st;
    }
    auto* shared = new (own[i].get()) Shared();
    shared->magic = kSideMagic;
    shared->version = kSideVersion;
    shared->koid = AllocateKoid();
  }
  auto* s0 = static_cast<Shared*>(own[0].get());
  auto* s1 = static_cast<Shared*>(own[1].get());
  s0->peer_koid = s1->koid;
  s1->peer_koid = s0->koid;
  const mx_koid_t k0 = s0->koid, k1 = s1->koid;
  std::shared_ptr<EventPairSide> side0(
      new EventPairSide(k0, k1, std::move(fds[0]), std::move(own[0]), std::move(peer[0])));
  std::shared_ptr<EventPairSide> side1(
      new EventPairSide(k1, k0, std::move(fds[1]), std::move(own[1]), std::move(peer[1])));
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
  if (raw.type != MX_OBJ_TYPE_EVENT_PAIR || raw.fds.size() != kWireFds ||
      raw.extra.size() != kWireExtraBytes) {
    return MX_ERR_IO;
  }
  for (const UniqueFd& fd : raw.fds) {
    if (!fd) return MX_ERR_IO;
  }
  if (!IsDoorbell(raw.fds[2].get()) || !IsDoorbell(raw.fds[4].get()) ||
      !IsChannelSocket(raw.fds[5].get())) {
    return MX_ERR_IO;
  }
  // The token is a read-only description of the same file as the own side's memfd.
  MemfdRule token_rule = SignalWordMemfdRule(kSideBytes);
  token_rule.access = O_RDONLY;
  if (CheckMemfd(raw.fds[0].get(), token_rule, nullptr) != MX_OK ||
      !SameFile(raw.fds[0].get(), raw.fds[1].get())) {
    return MX_ERR_IO;
  }
  // Each word is writable here exactly when the handle may change it; a sender whose
  // descriptions disagree with the rights it claims is malformed.
  const bool own_writable = (raw.rights & MX_RIGHT_SIGNAL) != 0;
  const bool peer_writable = (raw.rights & MX_RIGHT_SIGNAL_PEER) != 0;
  Mapping own, peer;
  mx_status_t st = MapSide(raw.fds[1].get(), own_writable ? O_RDWR : O_RDONLY, &own);
  if (st != MX_OK) return st;
  st = MapSide(raw.fds[3].get(), peer_writable ? O_RDWR : O_RDONLY, &peer);
  if (st != MX_OK) return st;
  const auto* o = static_cast<const Shared*>(own.get());
  const auto* p = static_cast<const Shared*>(peer.get());
  if (o->magic != kSideMagic || p->magic != kSideMagic || o->version != kSideVersion ||
      p->version != kSideVersion || o->koid != raw.koid || p->koid != raw.related_koid ||
      o->peer_koid != p->koid || p->peer_koid != o->koid || raw.koid == raw.related_koid) {
    return MX_ERR_IO;
  }
  Fds fds;
  fds.memfd = std::move(raw.fds[1]);
  fds.doorbell = std::move(raw.fds[2]);
  fds.peer_memfd = std::move(raw.fds[3]);
  fds.peer_doorbell = std::move(raw.fds[4]);
  fds.life = std::move(raw.fds[5]);
  fds.own_writable = own_writable;
  fds.peer_writable = peer_writable;
  std::shared_ptr<EventPairSide> side(new EventPairSide(raw.koid, raw.related_koid, std::move(fds),
                                                        std::move(own), std::move(peer)));
  // The handle's token is a description of our own, locked before the arriving one closes (as
  // for events: ClearLocks on the words must never reach our token).
  UniqueFd token;
  st = OpenLockedDescription(side->fds_.memfd.get(), &token);
  if (st != MX_OK) return st;
  *handle = std::make_unique<Handle>(std::move(side), raw.rights);
  (*handle)->token() = std::move(token);
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
  out->push_back({fds_.doorbell.get(), DoorbellWaitEvents(), true});
  // Edge-triggered: the hang-up is reported once, so a wait for other bits does not spin on it.
  out->push_back({fds_.life.get(), EPOLLRDHUP, true});
}

mx_status_t EventPairSide::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~kUserSettable) != 0) return MX_ERR_INVALID_ARGS;
  if (!fds_.own_writable) return MX_ERR_ACCESS_DENIED;
  const uint32_t old = Update(&own_->signals, clear_mask, set_mask);
  RingDoorbell(fds_.doorbell.get());
  NotifySignalsChanged(set_mask, clear_mask & old);
  return MX_OK;
}

mx_status_t EventPairSide::UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~kUserSettable) != 0) return MX_ERR_INVALID_ARGS;
  if (!fds_.peer_writable) return MX_ERR_ACCESS_DENIED;
  if (PeerGone()) return MX_ERR_PEER_CLOSED;
  // The peer's waiters, in this process or any other, watch the peer's doorbell.
  Update(&peer_->signals, clear_mask, set_mask);
  RingDoorbell(fds_.peer_doorbell.get());
  return MX_OK;
}

bool EventPairSide::IsLastHandle(const Handle& handle) const {
  // Only tokens hold handle locks; locks a holder placed through a shared word description are
  // released (see Event::IsLastHandle). The peer's word counts the peer's handles.
  ClearLocks(fds_.memfd.get());
  ClearLocks(fds_.peer_memfd.get());
  return handle.token() && IsSoleLockHolder(handle.token().get());
}

void EventPairSide::OnHandleCountChanged() {
  RingDoorbell(fds_.doorbell.get());
  NotifySignalsSet(0);
}

mx_status_t EventPairSide::PrepareTransfer(const Handle& handle, RawHandle* out) {
  out->type = MX_OBJ_TYPE_EVENT_PAIR;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  // The receiver gets a writable word only where this handle has the right to change it.
  UniqueFd fds[kWireFds];
  mx_status_t st = DupFd(handle.token().get(), &fds[0]);
  if (st == MX_OK) {
    st = DescriptionToSend(fds_.memfd.get(), fds_.own_writable, handle.HasRights(MX_RIGHT_SIGNAL),
                           &fds[1]);
  }
  if (st == MX_OK) st = DupFd(fds_.doorbell.get(), &fds[2]);
  if (st == MX_OK) {
    st = DescriptionToSend(fds_.peer_memfd.get(), fds_.peer_writable,
                           handle.HasRights(MX_RIGHT_SIGNAL_PEER), &fds[3]);
  }
  if (st == MX_OK) st = DupFd(fds_.peer_doorbell.get(), &fds[4]);
  if (st == MX_OK) st = DupFd(fds_.life.get(), &fds[5]);
  if (st != MX_OK) return st;
  for (UniqueFd& fd : fds) out->fds.push_back(std::move(fd));
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
