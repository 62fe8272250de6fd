// SPDX-License-Identifier: BSD-3-Clause
// Port: a queue of packets, fed by mx_port_queue and by asynchronous waits on objects.
//
// An async wait (mx_object_wait_async) registers the object's fds in the port's epoll set,
// edge-triggered, and an Observer on the object (in-process changes) plus a waiter on the handle
// (the handle leaving the table). Any of them marks the registration "dirty"; mx_port_wait
// evaluates only the dirty registrations and the ones epoll reports, so the cost of a wake-up
// does not grow with the number of idle registrations.
//
// ONCE: one packet when a trigger signal is (or becomes) asserted, then the registration ends.
// REPEATING: a packet each time the signals change and a trigger signal is asserted (the
// first evaluation counts as a change). A registration ends silently when its handle leaves
// the table or the port's last handle closes.
//
// Evaluating a registration asks the object for its signals, which may do I/O a peer controls
// (a channel pumps its socket). So an evaluation never runs under the port's lock, and a waiter
// evaluates one registration at a time: ready registrations wait in one FIFO (each at most
// once), a registration that becomes dirty again goes to its back, and mx_port_wait checks its
// deadline after every evaluation. One busy object therefore delays another object's packet by
// at most one evaluation per registration ahead of it, and a deadline by at most one evaluation.
// Pending work is bounded by the number of registrations: a registration is dirty or not (one
// flag), however many changes happened since the port last looked.
//
// Hot registrations. An armed registration (the object's BeginWait held) makes a peer in another
// process wake the port through the kernel for every message it sends while the port may sleep:
// a kick frame on the channel's socket, which costs the peer a sendmsg and the port an epoll
// report and a recvmsg. A busy port does not need them. So a REPEATING registration whose
// object has a shared-memory ring is disarmed (EndWait) when it fires, and becomes "hot": the
// port polls its ring (SpinReady, no system call) once per pass instead. Before the port blocks
// it arms every hot registration again and evaluates it once more (the ring's reader_waiting
// protocol: a record published before the flag was set is seen by that evaluation, one
// published after brings a kick), so a sleeping port misses nothing. While any registration is
// hot the port's fd stays readable, so an event loop that watches it comes back to
// mx_port_wait, which arms them before the fd goes quiet. Events from the kernel (frames with
// handles, a peer that hangs up or dies) still arrive through the epoll set, hot or not.
//
// The port's epoll fd is exposed (mx_port_get_fd) so a port plugs into any event loop: it is
// readable when a packet may be available or registrations wait to be evaluated (spurious
// readiness is possible; mx_port_wait with deadline 0 then returns MX_ERR_TIMED_OUT).
//
// Thread-safety: all methods are thread-safe. mu_ guards the packets, the registrations and the
// ready FIFO; dirty_mu_ guards the dirty list and is a leaf (Wake() runs while objects hold
// their own locks). Nothing that takes an object's lock runs under mu_: evaluating, hooking and
// unhooking (observers, waiters, BeginWait/EndWait) happen with mu_ released. Only the last
// reference to an ended registration may be dropped under mu_, which at most destroys an object
// whose handles are all gone (its destructor closes fds and unmaps memory). One evaluation of a
// registration at a time, claimed under mu_ (Registration::evaluating); a new registration is
// claimed from its creation, through its hooking, until its first evaluation ends, so a
// concurrent mx_port_wait never evaluates or ends a registration WaitAsync is still arming.
#pragma once

#include <magenta/syscalls/port.h>

#include <atomic>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "object/object.h"

namespace mx::internal {

class Port final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_PORT;

  static mx_status_t Create(std::shared_ptr<Port>* out);
  ~Port() override;

  uint32_t type() const override { return kType; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_ACCESS_DENIED; }
  void OnLastHandleClosed() override;

  mx_status_t Queue(const mx_port_packet_t& packet);
  // Returns the next packet; evaluates ready registrations one at a time (no lock held) until
  // one produces a packet or |deadline| passes (checked after each evaluation).
  mx_status_t Wait(mx_time_t deadline, mx_port_packet_t* packet);
  // Registers the wait and evaluates it once (a signal already asserted fires at once).
  mx_status_t WaitAsync(std::shared_ptr<Handle> handle, uint64_t key, mx_signals_t signals,
                        bool repeating);
  int fd() const { return epoll_.get(); }

  // Registered async waits (for tests and diagnostics).
  size_t registration_count();
  // Entries of the dirty list and the ready FIFO (for tests and diagnostics). At most one of
  // each per registration, plus ended registrations not looked at since they ended.
  size_t pending_count();

 private:
  struct Registration;
  using RegistrationRef = std::shared_ptr<Registration>;
  struct RegistrationWaker final : Waker {
    Port* port = nullptr;
    Registration* reg = nullptr;
    void Wake() override;
  };
  // What one evaluation found.
  struct Outcome {
    bool fire = false;   // |packet| is to be queued
    bool ended = false;  // the registration ends (ONCE fired, or its handle left the table)
    mx_port_packet_t packet = {};
  };

  Port(UniqueFd epoll, UniqueFd event);
  // RegistrationWaker::Wake(): puts |reg| on the dirty list unless it is there already, and
  // wakes the port.
  void MarkDirty(Registration* reg);
  // Makes the port's fd readable (once until a waiter drains it).
  void Wake();
  // Moves what epoll reports and the dirty list into the ready FIFO. mu_ held.
  void CollectLocked() TA_REQ(mu_) TA_EXCL(dirty_mu_);
  // Moves the dirty list into |batch_|. mu_ held.
  void TakeDirtyLocked() TA_REQ(mu_) TA_EXCL(dirty_mu_);
  // Appends |reg| to the ready FIFO (or marks it for another look after the evaluation that
  // runs now). mu_ held.
  void ScheduleLocked(const RegistrationRef& reg) TA_REQ(mu_);
  // Looks at the shared memory of the hot registrations (see "Hot registrations" above) and
  // schedules those that may have news. Entered and left with mu_ held; lets go of it in
  // between, while it looks (port_hot.cc).
  void PollHotDroppingLock() TA_REQ(mu_);
  // The port is about to block: every hot registration is to be armed again and evaluated once
  // more (a record published before it was armed brings no kick). mu_ held.
  void ArmHotLocked() TA_REQ(mu_);

  // The first registration of the ready FIFO that is to be evaluated now, claimed for the
  // caller. mu_ held.
  RegistrationRef PopReadyLocked() TA_REQ(mu_);
  // Pops the first queued packet. mu_ held.
  bool TakePacketLocked(mx_port_packet_t* packet) TA_REQ(mu_);
  // Looks at |reg|'s object. No lock held; the caller claimed the evaluation.
  static Outcome Evaluate(Registration* reg);
  // Applies |outcome| and releases the claim; true if a packet was queued. Registrations that
  // end go to |detach|. mu_ held.
  bool FinishLocked(const RegistrationRef& reg, const Outcome& outcome,
                    std::vector<RegistrationRef>* detach) TA_REQ(mu_);
  // Evaluates |reg|, which the caller claimed under mu_ (Registration::evaluating), without mu_,
  // and finishes it (which releases the claim); returns with mu_ held again, true if a packet
  // was queued. Entered and left with mu_ held; lets go of it in between.
  bool EvaluateDroppingLock(const RegistrationRef& reg) TA_REQ(mu_);
  void RemoveLocked(const RegistrationRef& reg, std::vector<RegistrationRef>* detach) TA_REQ(mu_);
  // Unhooks ended registrations from their objects and handles. No lock held.
  static void Detach(const std::vector<RegistrationRef>& regs);

  UniqueFd epoll_;
  UniqueFd event_;  // eventfd in the epoll set: queued packets and in-process changes
  Mutex mu_;
  std::deque<mx_port_packet_t> packets_ TA_GUARDED(mu_);
  uint64_t next_id_ TA_GUARDED(mu_) = 1;
  std::unordered_map<uint64_t, RegistrationRef> regs_ TA_GUARDED(mu_);
  std::unordered_map<int, std::vector<uint64_t>> fd_regs_ TA_GUARDED(mu_);
  // Registrations to evaluate, oldest first.
  std::deque<RegistrationRef> ready_ TA_GUARDED(mu_);
  // Hot registrations: not armed, polled in shared memory instead; each at most once.
  std::vector<RegistrationRef> hot_ TA_GUARDED(mu_);
  // One thread polls the hot registrations at a time, without mu_, from this copy.
  bool polling_ TA_GUARDED(mu_) = false;
  std::vector<RegistrationRef> poll_scratch_;  // owned by the thread that set |polling_|
  // CollectLocked's scratch (keeps its capacity).
  std::vector<RegistrationRef> batch_ TA_GUARDED(mu_);
  bool closed_ TA_GUARDED(mu_) = false;

  Mutex dirty_mu_;  // a leaf: nothing else is locked under it
  // One entry per registration whose |dirty| is set.
  std::vector<RegistrationRef> dirty_ TA_GUARDED(dirty_mu_);
  // CollectLocked's scratch for dirty_.
  std::vector<RegistrationRef> taken_ TA_GUARDED(mu_);
  std::atomic<bool> wake_pending_{false};  // event_ was written and not yet drained
};

}  // namespace mx::internal
