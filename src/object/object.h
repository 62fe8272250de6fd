// SPDX-License-Identifier: BSD-3-Clause
// Object and Handle: the kernel-object model of libmx inside one process.
//
// An Object is what a handle refers to (a channel endpoint, an event, a process, an fd). It
// knows its signals, how a waiter learns that they may have changed (fds to poll, plus in-process
// observers), and how it is packed into a RawHandle to leave the process.
//
// A Handle is one entry of the process's handle table: an Object plus rights. It is created in
// the table and leaves it exactly once, by Close() (closed or replaced) or by TransferOut()
// (written into a channel or spawned into a child). Waits on a handle hold a reference to it and
// end with MX_ERR_CANCELED when it leaves the table.
//
// Thread-safety: all methods are thread-safe. Lock order: HandleTable → Handle::mu_ → Object.
#pragma once

#include <magenta/syscalls.h>

#include <atomic>
#include <memory>
#include <vector>

#include "base/mutex.h"
#include "object/waker.h"
#include "transport/message.h"

namespace mx::internal {

class Handle;

// One fd a waiter polls for changes made by other processes.
struct WaitSource {
  int fd;
  uint32_t events;  // EPOLLIN / EPOLLOUT / EPOLLRDHUP ...
  bool edge;        // edge-triggered (a counter-style fd nobody reads)
  // Look again by then even if |fd| says nothing: a change this fd cannot report (see
  // ChannelEndpoint::AddWaitSources).
  mx_time_t recheck_at = MX_TIME_INFINITE;
};

class Object : public std::enable_shared_from_this<Object> {
 public:
  explicit Object(mx_koid_t koid) : koid_(koid) {}
  virtual ~Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // MX_OBJ_TYPE_*. Each concrete class also names it as a constant, kType, which a typed
  // lookup (api/lookup.h, LookupObject<T>) compares with this.
  virtual uint32_t type() const = 0;
  mx_koid_t koid() const { return koid_; }
  virtual mx_koid_t related_koid() const { return 0; }
  virtual bool waitable() const { return true; }

  // The object's current signals, without LAST_HANDLE (added by the caller for its handle).
  // May do non-blocking I/O to bring the state up to date (e.g. read a socket).
  virtual mx_signals_t Signals() = 0;
  // Appends the fds to poll while waiting for |waitfor|.
  virtual void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) = 0;

  // ---- The waiting fast path (channels; see docs/design.md) ----
  // Signals as cheaply as they can be had: no system call when shared memory has the answer.
  // May lag behind a change only another process's kernel state shows (a peer that died); a
  // wait uses it while it has reason to believe the answer is in memory, Signals() otherwise.
  virtual mx_signals_t FastSignals() { return Signals(); }
  // Signals for a wait that, if they show nothing it waits for, blocks next in a level-triggered
  // poll() on the fds AddWaitSources gives: what those fds report at once (a frame on a watched
  // socket, a hang-up) need not be read now, the poll returns for it.
  virtual mx_signals_t SignalsBeforePoll() { return Signals(); }
  // True if a waiter may spin on SpinReady before blocking.
  virtual bool CanSpin() { return false; }
  // Cheap check while spinning: true if FastSignals() may now show something new for
  // |waitfor|. Spurious trues are allowed. |deep|: also ask the kernel (a system call; the
  // spinner does it now and then), e.g. whether the peer hung up.
  virtual bool SpinReady(mx_signals_t waitfor, bool deep) { return false; }
  // Where the peer whose news a spinner for |waitfor| waits for may run: its CpuPlacement word
  // from shared memory (the peer's choice; it only steers PlanSpin), kPlacementUnknown if none.
  virtual CpuPlacement SpinPeer(mx_signals_t waitfor) { return kPlacementUnknown; }
  // A thread (or a port registration) may block in poll() on this object's fds from now on
  // until the matching EndWait; the object makes sure changes from other processes then make
  // those fds ready. Called before the last state check that precedes blocking.
  virtual void BeginWait() {}
  virtual void EndWait() {}

  // The |count| of a port signal packet: for a channel the number of queued messages.
  virtual uint64_t SignalCount() { return 1; }

  // mx_object_signal / mx_object_signal_peer. Rights were checked by the caller.
  virtual mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask);
  virtual mx_status_t UserSignalPeer(uint32_t clear_mask, uint32_t set_mask);

  // True if |handle| is the only handle to this object (handles in flight count).
  virtual bool IsLastHandle(const Handle& handle) const;

  // Transfer, phase 1: describes the object for |handle| into |out| with duplicated fds (or,
  // where a type says so, fds it lends to |out| and takes back on abort); the object stays
  // usable. Phase 2 (after the message left): CommitTransferOut. Returns NO_RESOURCES if fds
  // ran out. Callers hold no object lock.
  virtual mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) = 0;
  virtual void CommitTransferOut(const Handle& handle) {}
  // Undo phase 1 (the message could not be sent); |raw| is what PrepareTransfer wrote, intact.
  virtual void AbortTransfer(const Handle& handle, RawHandle* raw) {}

  // A new handle to this object (duplicate) with its own per-handle state, if the type needs
  // one (events: an own open file description). Default: nothing to do.
  virtual mx_status_t PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                       std::unique_ptr<Handle>* out);
  // The number of handles changed (a duplicate was made, or one was closed): LAST_HANDLE may
  // have changed for other handles, possibly in other processes.
  virtual void OnHandleCountChanged() { NotifySignalsSet(0); }

  // The last handle in this process left (closed, not transferred).
  virtual void OnLastHandleClosed() {}

  // In-process observers (waiting threads).
  void AddObserver(Observer* o);
  void RemoveObserver(Observer* o);

  int local_handle_count() const { return handle_count_.load(std::memory_order_acquire); }

 protected:
  // Tells every waiting thread of this process that |bits| were asserted (may be transient).
  void NotifySignalsSet(mx_signals_t bits) { NotifySignalsChanged(bits, 0); }
  // ... and that |cleared| were deasserted (ports count a clear-then-set as a change).
  void NotifySignalsChanged(mx_signals_t set, mx_signals_t cleared);

 private:
  friend class Handle;
  const mx_koid_t koid_;
  std::atomic<int> handle_count_{0};
  Mutex observers_mu_;
  std::vector<Observer*> observers_ TA_GUARDED(observers_mu_);
};

class Handle {
 public:
  Handle(std::shared_ptr<Object> object, mx_rights_t rights);
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  const std::shared_ptr<Object>& object() const { return object_; }
  mx_rights_t rights() const { return rights_; }
  bool HasRights(mx_rights_t r) const { return (rights_ & r) == r; }

  // Per-handle fd for objects that count handles in the kernel (events); may be invalid.
  // Set once before the handle is shared; read by the object under the handle's lock (see
  // Signals) or while the handle is in transit; taken or reset only under the lock.
  UniqueFd& token() { return token_; }
  const UniqueFd& token() const { return token_; }
  UniqueFd TakeToken();
  // Calls |open|(the token's fd, |out|) under the handle's lock, so that the token is not closed
  // (and its number reused for another file) meanwhile: for a new description of the token's
  // file while the handle may still leave the table (mx_handle_duplicate). BAD_HANDLE if the
  // handle has no token (any more).
  mx_status_t OpenFromToken(mx_status_t (*open)(int fd, UniqueFd* out), UniqueFd* out) const;

  // Leaving the table. Close: the handle is destroyed (the object may run its last-handle
  // logic). TransferOut: the object moved to another place (message or child). Both cancel
  // waits on this handle. Exactly one of them runs, once.
  void Close();
  void TransferOut();
  // Leaves the table for mx_handle_replace: waits on it are cancelled, but the object is not
  // told anything (another handle took this one's place).
  void TransferOutQuietly();
  bool gone() const { return gone_.load(std::memory_order_acquire); }

  // Waits register the thread's waker so leaving the table wakes them.
  void AddWaiter(Waker* w);
  void RemoveWaiter(Waker* w);

  // The signals of the object as seen through this handle (LAST_HANDLE included); |fast|:
  // through Object::FastSignals.
  mx_signals_t Signals(bool fast = false) const;
  // The same through Object::SignalsBeforePoll.
  mx_signals_t SignalsBeforePoll() const;

 private:
  void Leave();
  mx_signals_t WithLastHandle(mx_signals_t s) const;
  std::shared_ptr<Object> object_;
  const mx_rights_t rights_;
  UniqueFd token_;
  std::atomic<bool> gone_{false};
  mutable Mutex mu_;
  std::vector<Waker*> waiters_ TA_GUARDED(mu_);
};

}  // namespace mx::internal
