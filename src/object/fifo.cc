// SPDX-License-Identifier: BSD-3-Clause
#include "object/fifo.h"

#include <utility>

#include "os/cpu_placement.h"
#include "os/doorbell.h"
#include "os/epoll.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/koid.h"
#include "os/log.h"
#include "os/socket.h"

namespace mx::internal {

namespace {

// Elements a call may move: whole elements in |len|, never more than the queue holds (so the
// count fits 32 bits whatever |len| is).
uint32_t WholeElements(size_t len, const FifoRing& ring) {
  const size_t n = len / ring.elem_size();
  return n < ring.elem_count() ? static_cast<uint32_t>(n) : ring.elem_count();
}

}  // namespace

FifoEndpoint::FifoEndpoint(mx_koid_t koid, mx_koid_t peer_koid, const FifoShape& shape, int side,
                           Fds fds, Mapping map)
    : Object(koid),
      peer_koid_(peer_koid),
      fds_(std::move(fds)),
      map_(std::move(map)),
      ring_(map_.get(), shape, side),
      peer_side_(1 - side) {}

FifoEndpoint::~FifoEndpoint() {
  // This object's holder count goes; the life line closes with fds_ (the kernel's word for
  // killed processes and discarded messages).
  ring_.DropHolder(ring_.side());
}

mx_status_t FifoEndpoint::Create(uint32_t elem_count, uint32_t elem_size,
                                 std::shared_ptr<FifoEndpoint>* side0,
                                 std::shared_ptr<FifoEndpoint>* side1) {
  FifoShape shape;
  shape.elem_count = elem_count;
  shape.elem_size = elem_size;
  shape.koid[0] = AllocateKoid();
  shape.koid[1] = AllocateKoid();
  Fds fds[2];
  Mapping maps[2];
  UniqueFd life[2];
  mx_status_t st = CreateSealedMapping("mx-fifo", kFifoPageBytes, &fds[0].memfd, &maps[0]);
  if (st == MX_OK) st = maps[1].Map(fds[0].memfd.get(), kFifoPageBytes, /*writable=*/true);
  if (st == MX_OK) st = DupFd(fds[0].memfd.get(), &fds[1].memfd);
  if (st == MX_OK) st = CreateDoorbell(&fds[0].doorbell);
  if (st == MX_OK) st = DupFd(fds[0].doorbell.get(), &fds[1].doorbell);
  if (st == MX_OK) st = CreateSeqpacketPair(&fds[0].life, &fds[1].life);
  if (st != MX_OK) return st;
  FifoRing::Format(maps[0].get(), shape);
  std::shared_ptr<FifoEndpoint> sides[2];
  for (int i = 0; i < 2; ++i) {
    sides[i].reset(new FifoEndpoint(shape.koid[i], shape.koid[1 - i], shape, i, std::move(fds[i]),
                                    std::move(maps[i])));
    sides[i]->ring_.AddHolder(i);
  }
  *side0 = std::move(sides[0]);
  *side1 = std::move(sides[1]);
  return MX_OK;
}

mx_status_t FifoEndpoint::FromRaw(RawHandle raw, std::shared_ptr<FifoEndpoint>* out) {
  if (raw.type != MX_OBJ_TYPE_FIFO || raw.fds.size() != kWireFds ||
      raw.extra.size() != kWireExtraBytes) {
    return MX_ERR_IO;
  }
  for (const UniqueFd& fd : raw.fds) {
    if (!fd) return MX_ERR_IO;
  }
  // The memfd as FifoEndpoint::Create makes it: the ring rule (size seals, writable, no write
  // seal) at exactly the page's size, so no holder can make our mapping fault.
  if (CheckRingMemfd(raw.fds[0].get(), kFifoPageBytes, kFifoPageBytes, nullptr) != MX_OK ||
      !IsDoorbell(raw.fds[1].get()) || !IsChannelSocket(raw.fds[2].get())) {
    return MX_ERR_IO;
  }
  Mapping map;
  mx_status_t st = map.MapReceived(raw.fds[0].get(), kFifoPageBytes, /*writable=*/true);
  if (st != MX_OK) return st;
  FifoShape shape;
  int side = 0;
  if (!FifoRing::ValidateShape(map.get(), raw.koid, raw.related_koid, &shape, &side)) {
    DebugLog("fifo %llu: rejected a page that does not match its handle",
             static_cast<unsigned long long>(raw.koid));
    return MX_ERR_IO;
  }
  Fds fds;
  fds.memfd = std::move(raw.fds[0]);
  fds.doorbell = std::move(raw.fds[1]);
  fds.life = std::move(raw.fds[2]);
  // The holder count the sender raised for this handle in flight becomes this object's.
  out->reset(
      new FifoEndpoint(raw.koid, raw.related_koid, shape, side, std::move(fds), std::move(map)));
  return MX_OK;
}

void FifoEndpoint::MarkBroken(const char* why) {
  if (!broken_.exchange(true, std::memory_order_acq_rel)) {
    DebugLog("fifo %llu: the pair is broken (%s)", static_cast<unsigned long long>(koid()), why);
  }
}

bool FifoEndpoint::PeerGone(bool ask_kernel) {
  if (peer_gone_.load(std::memory_order_acquire)) return true;
  const bool gone = broken_.load(std::memory_order_acquire) || ring_.ClosedInOrder(peer_side_) ||
                    (ask_kernel && PeerHungUp(fds_.life.get()));
  if (gone) peer_gone_.store(true, std::memory_order_release);
  return gone;
}

void FifoEndpoint::RingIf(bool wake) {
  if (wake) RingDoorbell(fds_.doorbell.get());
}

mx_status_t FifoEndpoint::Write(const void* buffer, size_t len, uint32_t* count) {
  // Magenta's order: the peer first, then the size, then room.
  const bool ask_kernel = writes_.fetch_add(1, std::memory_order_relaxed) % kKernelCheckEvery == 0;
  if (PeerGone(ask_kernel)) return MX_ERR_PEER_CLOSED;
  const uint32_t n = WholeElements(len, ring_);
  if (n == 0) return MX_ERR_OUT_OF_RANGE;
  ring_.PublishPlacement(OwnPlacement());
  bool wake = false, filled = false;
  FifoRing::Result r;
  {
    MutexLock lock(&write_mu_);
    r = ring_.Write(buffer, n, count, &wake, &filled);
  }
  switch (r) {
    case FifoRing::Result::kOk:
      RingIf(wake);
      // Waiters of this process (ports counting changes) learn that WRITABLE went away.
      if (filled) NotifySignalsChanged(0, MX_FIFO_WRITABLE);
      return MX_OK;
    case FifoRing::Result::kFull:
    case FifoRing::Result::kBusy:
      // A full queue is where a killed reader shows: ask the kernel before saying "wait".
      return PeerGone(/*ask_kernel=*/true) ? MX_ERR_PEER_CLOSED : MX_ERR_SHOULD_WAIT;
    case FifoRing::Result::kFault:
      return MX_ERR_INVALID_ARGS;
    case FifoRing::Result::kCorrupt:
    case FifoRing::Result::kEmpty:
      break;
  }
  MarkBroken("impossible indices in the queue we write");
  return MX_ERR_PEER_CLOSED;
}

mx_status_t FifoEndpoint::Read(void* buffer, size_t len, uint32_t* count) {
  const uint32_t n = WholeElements(len, ring_);
  if (n == 0) return MX_ERR_OUT_OF_RANGE;
  if (broken_.load(std::memory_order_acquire)) return MX_ERR_PEER_CLOSED;
  ring_.PublishPlacement(OwnPlacement());
  bool wake = false, emptied = false;
  FifoRing::Result r;
  {
    MutexLock lock(&read_mu_);
    r = ring_.Read(buffer, n, count, &wake, &emptied);
  }
  switch (r) {
    case FifoRing::Result::kOk:
      RingIf(wake);
      // A repeating port wait for READABLE counts the clear, so the next element is a change.
      if (emptied) NotifySignalsChanged(0, MX_FIFO_READABLE);
      return MX_OK;
    case FifoRing::Result::kEmpty:
    case FifoRing::Result::kBusy:
      return MX_ERR_SHOULD_WAIT;
    case FifoRing::Result::kFault:
      return MX_ERR_INVALID_ARGS;
    case FifoRing::Result::kCorrupt:
    case FifoRing::Result::kFull:
      break;
  }
  MarkBroken("impossible indices in the queue we read");
  return MX_ERR_PEER_CLOSED;
}

mx_signals_t FifoEndpoint::SignalsFrom(bool ask_kernel) {
  bool corrupt = false;
  mx_signals_t s = ring_.QueueSignals(&corrupt) | ring_.UserSignals(ring_.side());
  if (corrupt) MarkBroken("impossible indices");
  if (broken_.load(std::memory_order_acquire)) s &= ~MX_FIFO_READABLE;
  if (PeerGone(ask_kernel)) s = (s & ~MX_FIFO_WRITABLE) | MX_FIFO_PEER_CLOSED;
  return s;
}

mx_signals_t FifoEndpoint::Signals() { return SignalsFrom(/*ask_kernel=*/true); }

mx_signals_t FifoEndpoint::FastSignals() { return SignalsFrom(/*ask_kernel=*/false); }

void FifoEndpoint::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  // The doorbell rings for queue and signal changes while we sleep (BeginWait); the life line's
  // hang-up is the peer's death, reported once (edge-triggered).
  out->push_back({fds_.doorbell.get(), DoorbellWaitEvents(), true});
  out->push_back({fds_.life.get(), EPOLLRDHUP, true});
}

bool FifoEndpoint::SpinReady(mx_signals_t waitfor, bool deep) {
  // A broken pair and an orderly close both read as PEER_CLOSED here: either ends the spin.
  if ((FastSignals() & (waitfor | MX_FIFO_PEER_CLOSED)) != 0) return true;
  return deep && PeerHungUp(fds_.life.get());
}

CpuPlacement FifoEndpoint::SpinPeer(mx_signals_t) { return ring_.Placement(peer_side_); }

void FifoEndpoint::BeginWait() { ring_.ArmSleeper(); }

void FifoEndpoint::EndWait() { ring_.DisarmSleeper(); }

mx_status_t FifoEndpoint::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  const uint32_t old = ring_.UpdateUserSignals(ring_.side(), clear_mask, set_mask);
  // Holders of this side in other processes sleep on the doorbell.
  RingIf(ring_.HasSleepers(ring_.side()));
  NotifySignalsChanged(set_mask, clear_mask & old);
  return MX_OK;
}

mx_status_t FifoEndpoint::UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_USER_SIGNAL_ALL) != 0) return MX_ERR_INVALID_ARGS;
  if (PeerGone(/*ask_kernel=*/true)) return MX_ERR_PEER_CLOSED;
  ring_.UpdateUserSignals(peer_side_, clear_mask, set_mask);
  RingIf(ring_.HasSleepers(peer_side_));
  return MX_OK;
}

mx_status_t FifoEndpoint::PrepareTransfer(const Handle& handle, RawHandle* out) {
  UniqueFd fds[kWireFds];
  mx_status_t st = DupFd(fds_.memfd.get(), &fds[0]);
  if (st == MX_OK) st = DupFd(fds_.doorbell.get(), &fds[1]);
  if (st == MX_OK) st = DupFd(fds_.life.get(), &fds[2]);
  if (st != MX_OK) return st;
  out->type = MX_OBJ_TYPE_FIFO;
  out->rights = handle.rights();
  out->koid = koid();
  out->related_koid = peer_koid_;
  for (UniqueFd& fd : fds) out->fds.push_back(std::move(fd));
  // The handle in flight holds the side too (until its receiver's object takes this count).
  ring_.AddHolder(ring_.side());
  return MX_OK;
}

void FifoEndpoint::AbortTransfer(const Handle&, RawHandle*) { ring_.DropHolder(ring_.side()); }

}  // namespace mx::internal
