// SPDX-License-Identifier: BSD-3-Clause
// FifoEndpoint: one side of a fifo pair, shared by every process that holds a handle to it.
//
// A pair is backed by
//   - one sealed memfd of kFifoPageBytes (transport/fifo_ring.h): both element queues, each
//     side's user signals, holder and sleeper counts. Every process holding either side maps it
//     read-write; reads and writes are copies to and from it, with no system call;
//   - one doorbell (os/doorbell.h) for the pair, rung only when the other side has sleepers: a
//     thread or port blocked on it (FifoRing "Waking"). Waiters watch it edge-triggered;
//   - per side, one end of a SOCK_SEQPACKET socketpair, the side's life line, as for eventpairs:
//     every object of side A in any process and every side-A handle in flight holds a dup of end
//     A; when the last one closes (closed, discarded, process killed) the kernel hangs up end B,
//     which is MX_FIFO_PEER_CLOSED on side B. Nothing is ever sent on it.
// A side closed in order is also seen without a system call: the page counts each side's
// holders (FifoRing::AddHolder); a count of zero is PEER_CLOSED for its peer at once. A killed
// holder never lowers it, so a write asks the kernel (the life line) every kKernelCheckEvery-th
// time and whenever the queue is full; up to that many writes into the queue of a peer that was
// killed return MX_OK and are lost, as writes just before its death would have been.
//
// In flight a side is a RawHandle of type MX_OBJ_TYPE_FIFO, koid = the side's koid,
// related_koid = the peer's, no extra bytes, kWireFds fds: 0 the memfd, 1 the pair's doorbell,
// 2 the side's life-line end. The receiver checks each fd's kind and the page's shape and koids
// (FifoRing::ValidateShape) once, and keeps the shape it validated. In a process a side costs
// those 3 fds, however many handles it has.
//
// Rights: READ / WRITE / SIGNAL / SIGNAL_PEER are checked in the process that holds the handle;
// the memory itself is writable by every holder (see docs/fifos.md). MX_SIGNAL_LAST_HANDLE counts
// the handles of this process only, as for sockets.
//
// Thread-safety: all methods are thread-safe. Each direction's threads in this process are
// serialized by a mutex (so the page's lock word is contended only across processes); the page
// is atomics; fds are set at construction and closed by the destructor only.
#pragma once

#include <atomic>

#include "base/mutex.h"
#include "object/object.h"
#include "os/memfd.h"
#include "transport/fifo_ring.h"

namespace mx::internal {

class FifoEndpoint final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_FIFO;
  static constexpr uint32_t kWireFds = 3;
  static constexpr uint32_t kWireExtraBytes = 0;
  // A writer asks the kernel whether the peer is still there once per this many writes.
  static constexpr uint32_t kKernelCheckEvery = 64;

  // Creates both sides of a pair of |elem_count| elements of |elem_size| bytes per direction
  // (the caller checked FifoShapeValid). NO_RESOURCES / NO_MEMORY.
  static mx_status_t Create(uint32_t elem_count, uint32_t elem_size,
                            std::shared_ptr<FifoEndpoint>* side0,
                            std::shared_ptr<FifoEndpoint>* side1);
  // Rebuilds a side from a RawHandle. MX_ERR_IO if |raw| is malformed (its fds are closed).
  static mx_status_t FromRaw(RawHandle raw, std::shared_ptr<FifoEndpoint>* out);

  ~FifoEndpoint() override;
  uint32_t type() const override { return kType; }
  mx_koid_t related_koid() const override { return peer_koid_; }

  // mx_fifo_write / mx_fifo_read after the handle lookup, in Magenta's order: write says
  // PEER_CLOSED, then OUT_OF_RANGE (|len| holds no whole element), then SHOULD_WAIT (full);
  // read says OUT_OF_RANGE, then SHOULD_WAIT (empty, whether or not the peer is there). A null
  // |buffer| is INVALID_ARGS where Magenta's copy would fault: after those. |*count| is the
  // number of whole elements moved (≥ 1). A pair whose shared indices are impossible is broken:
  // PEER_CLOSED from then on.
  mx_status_t Write(const void* buffer, size_t len, uint32_t* count);
  mx_status_t Read(void* buffer, size_t len, uint32_t* count);

  mx_signals_t Signals() override;
  mx_signals_t FastSignals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  bool CanSpin() override { return true; }
  bool SpinReady(mx_signals_t waitfor, bool deep) override;
  CpuPlacement SpinPeer(mx_signals_t waitfor) override;
  void BeginWait() override;
  void EndWait() override;
  // Only MX_USER_SIGNAL_ALL bits (INVALID_ARGS otherwise); signal_peer: PEER_CLOSED once the
  // peer is gone.
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  void AbortTransfer(const Handle& handle, RawHandle* raw) override;

 private:
  struct Fds {
    UniqueFd memfd;
    UniqueFd doorbell;
    UniqueFd life;
  };
  FifoEndpoint(mx_koid_t koid, mx_koid_t peer_koid, const FifoShape& shape, int side, Fds fds,
               Mapping map);
  // True once the peer is gone: closed in order (the page's count), broken, or, if
  // |ask_kernel|, its life line hung up. Sticky.
  bool PeerGone(bool ask_kernel);
  // The signals; |ask_kernel| as for PeerGone.
  mx_signals_t SignalsFrom(bool ask_kernel);
  void MarkBroken(const char* why);
  void RingIf(bool wake);

  const mx_koid_t peer_koid_;
  Fds fds_;
  Mapping map_;
  FifoRing ring_;
  const int peer_side_;
  Mutex write_mu_;
  Mutex read_mu_;
  std::atomic<uint32_t> writes_{0};
  std::atomic<bool> peer_gone_{false};
  std::atomic<bool> broken_{false};
};

}  // namespace mx::internal
