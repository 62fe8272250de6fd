// Port: a queue of packets, fed by mx_port_queue and by asynchronous waits on objects.
//
// An async wait (mx_object_wait_async) registers the object's fds in the port's epoll set,
// edge-triggered, and an Observer on the object (in-process changes) plus a waiter on the handle
// (the handle leaving the table). Any of them marks the registration "dirty"; the next
// mx_port_wait evaluates only the dirty registrations and the ones epoll reports, so the cost
// of a wake-up does not grow with the number of idle registrations.
//
// ONCE: one packet when a trigger signal is (or becomes) asserted, then the registration ends.
// REPEATING: a packet each time the signals change and a trigger signal is asserted (the
// first evaluation counts as a change). A registration ends silently when its handle leaves
// the table or the port's last handle closes.
//
// The port's epoll fd is exposed (mx_port_get_fd) so a port plugs into any event loop: it is
// readable when a packet may be available (spurious readiness is possible; mx_port_wait with
// deadline 0 then returns MX_ERR_TIMED_OUT).
//
// Thread-safety: mu_ guards the packet queue and registrations and is held while evaluating
// objects (Port → Object lock order); dirty_mu_ is a leaf lock taken from Kick(), which objects
// call while holding their own locks.
#pragma once

#include <magenta/syscalls/port.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "object/object.h"

namespace mx::internal {

class Port final : public Object {
 public:
  static mx_status_t Create(std::shared_ptr<Port>* out);
  ~Port() override;

  uint32_t type() const override { return MX_OBJ_TYPE_PORT; }
  bool waitable() const override { return false; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_ACCESS_DENIED; }
  void OnLastHandleClosed() override;

  mx_status_t Queue(const mx_port_packet_t& packet);
  mx_status_t Wait(mx_time_t deadline, mx_port_packet_t* packet);
  mx_status_t WaitAsync(std::shared_ptr<Handle> handle, uint64_t key, mx_signals_t signals,
                        bool repeating);
  int fd() const { return epoll_.get(); }

  // Registered async waits (for tests and diagnostics).
  size_t registration_count();

 private:
  struct Registration;
  struct RegistrationKick final : Kickable {
    Port* port = nullptr;
    uint64_t id = 0;
    void Kick() override { port->MarkDirty(id); }
  };

  Port(UniqueFd epoll, UniqueFd event);
  void MarkDirty(uint64_t id);
  void WakeLocked();
  // Collects ready and dirty registrations and turns them into packets. mu_ held.
  void PollLocked();
  // Evaluates one registration; returns false if it ended.
  bool EvaluateLocked(Registration* reg);
  void RemoveLocked(uint64_t id);

  UniqueFd epoll_;
  UniqueFd event_;  // eventfd in the epoll set: queued packets and in-process changes
  std::mutex mu_;
  std::deque<mx_port_packet_t> packets_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Registration>> regs_;
  std::unordered_map<int, std::vector<uint64_t>> fd_regs_;
  bool closed_ = false;

  std::mutex dirty_mu_;
  std::vector<uint64_t> dirty_;
  std::atomic<bool> kick_pending_{false};  // event_ was written and not yet drained
};

}  // namespace mx::internal
