// SPDX-License-Identifier: BSD-3-Clause
#include "object/event.h"

#include <new>

#include "os/doorbell.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/handle_lock.h"
#include "os/koid.h"
#include "os/memfd.h"
#include "transport/wire.h"

namespace mx::internal {

struct Event::Shared {
  uint32_t magic;
  uint32_t version;
  uint64_t koid;
  std::atomic<uint32_t> signals;
};

// A RawHandle dropped in flight rings the doorbell it finds there (transport/message.cc).
static_assert(kEventWireDoorbell == 2, "Event's wire layout: token, word, doorbell");

namespace {

constexpr uint32_t kEventMagic = 0x5456454du;  // "MEVT"
constexpr uint32_t kEventVersion = 2;
constexpr size_t kEventBytes = 4096;

}  // namespace

Event::Event(mx_koid_t koid, UniqueFd doorbell, Mapping map, bool writable, UniqueFd shared_word)
    : Object(koid),
      doorbell_(std::move(doorbell)),
      map_(std::move(map)),
      shared_(static_cast<Shared*>(map_.get())),
      writable_(writable),
      shared_word_(std::move(shared_word)) {}

Event::~Event() = default;

mx_status_t Event::Create(std::shared_ptr<Event>* event, std::unique_ptr<Handle>* handle,
                          mx_rights_t rights) {
  UniqueFd memfd;
  Mapping map;
  mx_status_t st = CreateSealedMapping("mx-event", kEventBytes, &memfd, &map);
  if (st != MX_OK) return st;
  // Holders of other users only ever get writable descriptions sent to them (with SIGNAL), never
  // by reopening; this uid reopens one whenever it sends such a handle.
  st = DenyWriteReopenToOthers(memfd.get());
  if (st != MX_OK) return st;
  UniqueFd doorbell;
  st = CreateDoorbell(&doorbell);
  if (st != MX_OK) return st;
  UniqueFd token;
  st = HeldFileStatus(OpenLockedDescription(memfd.get(), &token));
  if (st != MX_OK) return st;
  auto* shared = new (map.get()) Shared();
  shared->magic = kEventMagic;
  shared->version = kEventVersion;
  shared->koid = AllocateKoid();
  // |memfd| closes here: the mapping keeps the memory, and its description was never shared.
  std::shared_ptr<Event> ev(new Event(shared->koid, std::move(doorbell), std::move(map),
                                      /*writable=*/true, UniqueFd()));
  *handle = std::make_unique<Handle>(ev, rights);
  (*handle)->token() = std::move(token);
  *event = std::move(ev);
  return MX_OK;
}

mx_status_t Event::FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle) {
  if (raw.type != MX_OBJ_TYPE_EVENT || raw.fds.size() != kWireFds ||
      raw.extra.size() != kWireExtraBytes) {
    return MX_ERR_IO;
  }
  for (const UniqueFd& fd : raw.fds) {
    if (!fd) return MX_ERR_IO;
  }
  // The word is writable here exactly when the handle may signal: a sender that claims SIGNAL
  // with a read-only description, or sends a writable one without SIGNAL, is malformed.
  const bool writable = (raw.rights & MX_RIGHT_SIGNAL) != 0;
  MemfdRule token_rule = SignalWordMemfdRule(kEventBytes);
  token_rule.access = O_RDONLY;
  MemfdRule word_rule = SignalWordMemfdRule(kEventBytes);
  word_rule.access = writable ? O_RDWR : O_RDONLY;
  if (CheckMemfd(raw.fds[0].get(), token_rule, nullptr) != MX_OK ||
      CheckMemfd(raw.fds[1].get(), word_rule, nullptr) != MX_OK ||
      !SameFile(raw.fds[0].get(), raw.fds[1].get()) || !IsDoorbell(raw.fds[2].get())) {
    return MX_ERR_IO;
  }
  // The sender may keep dups of everything it sent and lock through them. What we map is a
  // description of our own where we can open one — a mapping holds its description, and a lock
  // on a description only a mapping holds could never be released — and the word we were sent
  // (kept, its locks released before every count) only where we cannot.
  UniqueFd word;
  bool shared_received = false;
  mx_status_t st = OwnWordDescription(std::move(raw.fds[1]), writable, &word, &shared_received);
  if (st != MX_OK) return st;
  Mapping map;
  st = map.MapReceived(word.get(), kEventBytes, writable);
  if (st != MX_OK) return st;
  const auto* shared = static_cast<const Shared*>(map.get());
  if (shared->magic != kEventMagic || shared->version != kEventVersion ||
      shared->koid != raw.koid) {
    return MX_ERR_IO;
  }
  // The mapping holds what it maps; the descriptions it came from are not needed any more (a
  // read installing handles needs one free fd less at a time).
  UniqueFd shared_word;
  if (shared_received) shared_word = std::move(word);
  word.reset();
  // The handle's token is a description of our own, locked before the arriving one closes (so
  // the count never drops): the sender may have kept a dup of what it sent.
  UniqueFd token;
  st = ReceivedFileStatus(OpenLockedDescription(raw.fds[0].get(), &token));
  if (st != MX_OK) return st;
  std::shared_ptr<Event> ev(
      new Event(raw.koid, std::move(raw.fds[2]), std::move(map), writable, std::move(shared_word)));
  *handle = std::make_unique<Handle>(std::move(ev), raw.rights);
  (*handle)->token() = std::move(token);
  return MX_OK;
}

mx_signals_t Event::Signals() { return shared_->signals.load(std::memory_order_acquire); }

void Event::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  out->push_back({doorbell_.get(), DoorbellWaitEvents(), true});
}

mx_status_t Event::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_EVENT_SIGNAL_MASK) != 0) return MX_ERR_INVALID_ARGS;
  if (!writable_) return MX_ERR_ACCESS_DENIED;
  uint32_t old = shared_->signals.load(std::memory_order_relaxed);
  while (!shared_->signals.compare_exchange_weak(old, (old & ~clear_mask) | set_mask,
                                                 std::memory_order_acq_rel)) {
  }
  RingDoorbell(doorbell_.get());
  NotifySignalsChanged(set_mask, clear_mask & old);
  return MX_OK;
}

bool Event::IsLastHandle(const Handle& handle) const {
  // Only tokens hold handle locks. A word description we keep is shared with its sender; a lock
  // a holder placed through it would outlive that holder while this object keeps it.
  if (shared_word_) ClearLocks(shared_word_.get());
  return handle.token() && IsSoleLockHolder(handle.token().get());
}

void Event::OnHandleCountChanged() {
  RingDoorbell(doorbell_.get());
  NotifySignalsSet(0);
}

mx_status_t Event::PrepareTransfer(const Handle& handle, RawHandle* out) {
  out->type = MX_OBJ_TYPE_EVENT;
  out->rights = handle.rights();
  out->koid = koid();
  // The receiver gets a writable description only if this handle may signal (and so this
  // process holds the word writable: rights only shrink from the handle that brought it here).
  const bool send_writable = writable_ && handle.HasRights(MX_RIGHT_SIGNAL);
  UniqueFd token, word, doorbell;
  mx_status_t st = DupFd(handle.token().get(), &token);
  if (st == MX_OK) {
    st = WordDescriptionToSend(shared_word_ ? shared_word_.get() : handle.token().get(),
                               static_cast<bool>(shared_word_), send_writable, &word);
  }
  if (st == MX_OK) st = DupFd(doorbell_.get(), &doorbell);
  if (st != MX_OK) return st;
  out->fds.push_back(std::move(token));
  out->fds.push_back(std::move(word));
  out->fds.push_back(std::move(doorbell));
  return MX_OK;
}

mx_status_t Event::PrepareNewHandle(const Handle& from, mx_rights_t rights,
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
