// Event: a signal word shared by every process that holds a handle to it.
//
// Backing: a sealed 4 KiB memfd holding {magic, koid, signals, generation}, mapped by each
// process that holds the event, plus an eventfd that every change is written to (waiters watch
// it edge-triggered; nobody ever reads it).
//
// Handle counting for MX_SIGNAL_LAST_HANDLE is done by the kernel: every handle owns its own
// open file description of the memfd and holds an OFD read lock on byte 0 through it. The lock
// lives as long as the description does — in a process, or inside a message in flight — and the
// kernel drops it when the last fd of that description closes, even when a process is killed.
// "Am I the last handle" is then F_OFD_GETLK for a write lock: no conflicting lock, no other
// handle. Thread-safe.
#pragma once

#include <atomic>

#include "object/object.h"

namespace mx::internal {

class Event final : public Object {
 public:
  // Fds an event carries on the wire (the memfd, the eventfd).
  static constexpr uint32_t kWireFds = 2;

  static mx_status_t Create(std::shared_ptr<Event>* event, std::unique_ptr<Handle>* handle,
                            mx_rights_t rights);
  // Rebuilds an event (and the handle that carries it) from a RawHandle. MX_ERR_IO if invalid.
  static mx_status_t FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle);

  ~Event() override;
  uint32_t type() const override { return MX_OBJ_TYPE_EVENT; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  bool IsLastHandle(const Handle& handle) const override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  mx_status_t PrepareNewHandle(const Handle& from, mx_rights_t rights,
                               std::unique_ptr<Handle>* out) override;
  void OnHandleCountChanged() override;

 private:
  struct Shared;
  Event(mx_koid_t koid, UniqueFd memfd, UniqueFd eventfd, Shared* shared);
  // A new open file description of the memfd, holding the handle lock.
  mx_status_t NewToken(UniqueFd* out) const;
  void Kick();

  UniqueFd memfd_;    // an unlocked description, used to open tokens
  UniqueFd eventfd_;
  Shared* shared_;
};

}  // namespace mx::internal
