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
#include "transport/wire.h"

namespace mx::internal {

struct EventPairSide::Shared {
  uint32_t magic;
  uint32_t version;
  uint64_t koid;
  uint64_t peer_koid;
  std::atomic<uint32_t> signals;
};

// A RawHandle dropped in flight rings the doorbell it finds there (transport/message.cc).
static_assert(kEventPairWireDoorbell == 3, "a side's wire layout: token, words, doorbell, life");

namespace {

constexpr uint32_t kSideMagic = 0x5045504du;  // "MPEP"
constexpr uint32_t kSideVersion = 3;
constexpr size_t kSideBytes = 4096;
// What mx_object_signal / mx_object_signal_peer may touch (Magenta: EPAIR_SIGNALED + user bits;
// not MX_EPAIR_SIGNAL_MASK, which also names PEER_CLOSED).
constexpr mx_signals_t kUserSettable = MX_EPAIR_SIGNALED | MX_USER_SIGNAL_ALL;

// A side's signal-word memfd, writable through reopening for this uid only, mapped writable.
mx_status_t MakeSideMemory(UniqueFd* memfd, Mapping* map) {
  UniqueFd m;
  Mapping mapping;
  mx_status_t st = CreateSealedMapping("mx-eventpair", kSideBytes, &m, &mapping);
  if (st != MX_OK) return st;
  // Holders of other users only ever get writable descriptions sent to them (with SIGNAL /
  // SIGNAL_PEER), never by reopening.
  st = DenyWriteReopenToOthers(m.get());
  if (st != MX_OK) return st;
  *memfd = std::move(m);
  *map = std::move(mapping);
  return MX_OK;
}

// A description of a received side memfd |fd| to keep or map (OwnWordDescription), after
// checking it: a side's memfd whose access mode is |access|. IO if it is not one, or if this
// process may not even read it.
mx_status_t OwnDescription(UniqueFd fd, int access, UniqueFd* out, bool* shared) {
  MemfdRule rule = SignalWordMemfdRule(kSideBytes);
  rule.access = access;
  if (CheckMemfd(fd.get(), rule, nullptr) != MX_OK) return MX_ERR_IO;
  return OwnWordDescription(std::move(fd), access == O_RDWR, out, shared);
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
  UniqueFd mem[2], bell, life[2];
  Mapping own[2], peer[2];
  for (int i = 0; i < 2; ++i) {
    mx_status_t st = MakeSideMemory(&mem[i], &own[i]);
    if (st != MX_OK) return st;
    auto* shared = new (own[i].get()) Shared();
    shared->magic = kSideMagic;
    shared->version = kSideVersion;
    shared->koid = AllocateKoid();
  }
  mx_status_t st = CreateDoorbell(&bell);
  if (st == MX_OK) st = CreateSeqpacketPair(&life[0], &life[1]);
  if (st != MX_OK) return st;
  auto* s0 = static_cast<Shared*>(own[0].get());
  auto* s1 = static_cast<Shared*>(own[1].get());
  s0->peer_koid = s1->koid;
  s1->peer_koid = s0->koid;
  const mx_koid_t koids[2] = {s0->koid, s1->koid};
  UniqueFd tokens[2];
  Fds fds[2];
  for (int i = 0; i < 2; ++i) {
    // Each object maps the peer's page itself (a mapping is owned by the object that made it).
    st = peer[i].Map(mem[1 - i].get(), kSideBytes, /*writable=*/true);
    if (st == MX_OK) st = HeldFileStatus(OpenLockedDescription(mem[i].get(), &tokens[i]));
    if (st == MX_OK) st = DupFd(bell.get(), &fds[i].doorbell);
    if (st != MX_OK) return st;
  }
  std::unique_ptr<Handle>* outs[2] = {out0, out1};
  for (int i = 0; i < 2; ++i) {
    // Each object keeps the creator's description of the peer's memfd, which no other process
    // ever gets (sending opens new ones).
    fds[i].peer_word = std::move(mem[1 - i]);
    fds[i].life = std::move(life[i]);
    fds[i].own_writable = true;
    fds[i].peer_writable = true;
    std::shared_ptr<EventPairSide> side(new EventPairSide(koids[i], koids[1 - i], std::move(fds[i]),
                                                          std::move(own[i]), std::move(peer[i])));
    *outs[i] = std::make_unique<Handle>(std::move(side), rights);
    (*outs[i])->token() = std::move(tokens[i]);
  }
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
  if (!IsDoorbell(raw.fds[3].get()) || !IsChannelSocket(raw.fds[4].get())) return MX_ERR_IO;
  // The token is a read-only description of the same file as the own side's word.
  MemfdRule token_rule = SignalWordMemfdRule(kSideBytes);
  token_rule.access = O_RDONLY;
  if (CheckMemfd(raw.fds[0].get(), token_rule, nullptr) != MX_OK ||
      !SameFile(raw.fds[0].get(), raw.fds[1].get())) {
    return MX_ERR_IO;
  }
  // Each word is writable here exactly when the handle may change it; a sender whose
  // descriptions disagree with the rights it claims is malformed.
  Fds fds;
  fds.own_writable = (raw.rights & MX_RIGHT_SIGNAL) != 0;
  fds.peer_writable = (raw.rights & MX_RIGHT_SIGNAL_PEER) != 0;
  UniqueFd own_word;
  bool own_shared = false;
  mx_status_t st = OwnDescription(std::move(raw.fds[1]), fds.own_writable ? O_RDWR : O_RDONLY,
                                  &own_word, &own_shared);
  if (st == MX_OK) {
    st = OwnDescription(std::move(raw.fds[2]), fds.peer_writable ? O_RDWR : O_RDONLY,
                        &fds.peer_word, &fds.peer_word_shared);
  }
  Mapping own, peer;
  if (st == MX_OK) st = own.MapReceived(own_word.get(), kSideBytes, fds.own_writable);
  if (st == MX_OK) st = peer.MapReceived(fds.peer_word.get(), kSideBytes, fds.peer_writable);
  if (st != MX_OK) return st;
  const auto* o = static_cast<const Shared*>(own.get());
  const auto* p = static_cast<const Shared*>(peer.get());
  if (o->magic != kSideMagic || p->magic != kSideMagic || o->version != kSideVersion ||
      p->version != kSideVersion || o->koid != raw.koid || p->koid != raw.related_koid ||
      o->peer_koid != p->koid || p->peer_koid != o->koid || raw.koid == raw.related_koid) {
    return MX_ERR_IO;
  }
  // Our own word description is not kept: the mapping holds it. A shared one is kept, so that
  // locks placed through it can be released.
  if (own_shared) fds.shared_own_word = std::move(own_word);
  // The handle's token is a description of our own, locked before the arriving one closes (the
  // sender may have kept a dup of what it sent).
  UniqueFd token;
  st = ReceivedFileStatus(OpenLockedDescription(raw.fds[0].get(), &token));
  if (st != MX_OK) return st;
  fds.doorbell = std::move(raw.fds[3]);
  fds.life = std::move(raw.fds[4]);
  std::shared_ptr<EventPairSide> side(new EventPairSide(raw.koid, raw.related_koid, std::move(fds),
                                                        std::move(own), std::move(peer)));
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
  // The pair's doorbell rings for changes of either word; waiters re-read their own.
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
  // The peer's waiters, in this process or any other, watch the pair's doorbell too.
  Update(&peer_->signals, clear_mask, set_mask);
  RingDoorbell(fds_.doorbell.get());
  return MX_OK;
}

bool EventPairSide::IsLastHandle(const Handle& handle) const {
  // Only tokens hold handle locks; locks a holder placed through a word description we keep and
  // share with its sender are released (see Event::IsLastHandle). Locks on the peer's word count
  // the peer's handles.
  if (fds_.shared_own_word) ClearLocks(fds_.shared_own_word.get());
  if (fds_.peer_word_shared) ClearLocks(fds_.peer_word.get());
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
  // The receiver gets a writable word only where this handle has the right to change it (and so
  // this process holds that word writable: rights only shrink).
  const int token = handle.token().get();
  const bool own_shared = static_cast<bool>(fds_.shared_own_word);
  UniqueFd fds[kWireFds];
  mx_status_t st = DupFd(token, &fds[0]);
  if (st == MX_OK) {
    st = WordDescriptionToSend(own_shared ? fds_.shared_own_word.get() : token, own_shared,
                               fds_.own_writable && handle.HasRights(MX_RIGHT_SIGNAL), &fds[1]);
  }
  if (st == MX_OK) {
    st = WordDescriptionToSend(fds_.peer_word.get(), fds_.peer_word_shared,
                               fds_.peer_writable && handle.HasRights(MX_RIGHT_SIGNAL_PEER),
                               &fds[2]);
  }
  if (st == MX_OK) st = DupFd(fds_.doorbell.get(), &fds[3]);
  if (st == MX_OK) st = DupFd(fds_.life.get(), &fds[4]);
  if (st != MX_OK) return st;
  for (UniqueFd& fd : fds) out->fds.push_back(std::move(fd));
  return MX_OK;
}

mx_status_t EventPairSide::PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                            std::unique_ptr<Handle>* out) {
  UniqueFd token;
  mx_status_t st = HeldFileStatus(from.OpenFromToken(&OpenLockedDescription, &token));
  if (st != MX_OK) return st;
  auto h = std::make_unique<Handle>(from.object(), rights);
  h->token() = std::move(token);
  *out = std::move(h);
  return MX_OK;
}

}  // namespace mx::internal
