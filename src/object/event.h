// SPDX-License-Identifier: BSD-3-Clause
// Event: a signal word shared by every process that holds a handle to it.
//
// Backing: a sealed 4 KiB memfd holding {magic, koid, signals}, mapped by each process that
// holds the event, plus a doorbell (os/doorbell.h) rung on every change (waiters watch it
// edge-triggered). Ringing never blocks, whatever another holder has done to the doorbell.
//
// Handle counting for MX_SIGNAL_LAST_HANDLE is done by the kernel: every handle owns its own
// open file description of the memfd (its token, read-only) and holds an OFD read lock on byte 0
// through it. The lock lives as long as the description does — in a process, or inside a message
// in flight — and the kernel drops it when the last fd of that description closes, even when a
// process is killed. "Am I the last handle" is then F_OFD_GETLK for a write lock: no conflicting
// lock, no other handle. Only tokens count: a received token is replaced by one of this
// process's own, and locks anyone placed through the word descriptions the object keeps (which
// may be shared with other holders) are released before every count.
//
// MX_RIGHT_SIGNAL is enforced by the kernel against holders of other users: the creator makes the
// memfd unwritable through reopening (os/handle_lock.h), and a handle without SIGNAL travels with
// read-only descriptions only, so its receiver maps the word read-only and has no way to get a
// writable description. A handle with SIGNAL travels with a writable one.
//
// On the wire (RawHandle): type MX_OBJ_TYPE_EVENT, the koid, no extra bytes, kWireFds fds:
//   0 token (read-only, holding the handle lock)
//   1 the memfd, unlocked: read-write if the handle has MX_RIGHT_SIGNAL, else read-only
//   2 the doorbell
// In a process an event costs two fds (memfd and doorbell) plus one token per handle.
//
// Thread-safe.
#pragma once

#include <atomic>

#include "object/object.h"
#include "os/memfd.h"

namespace mx::internal {

class Event final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_EVENT;

  static constexpr uint32_t kWireFds = 3;
  static constexpr uint32_t kWireExtraBytes = 0;

  static mx_status_t Create(std::shared_ptr<Event>* event, std::unique_ptr<Handle>* handle,
                            mx_rights_t rights);
  // Rebuilds an event (and the handle that carries it) from a RawHandle. MX_ERR_IO if invalid
  // (including descriptions whose access mode does not match the SIGNAL right).
  static mx_status_t FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle);

  ~Event() override;
  uint32_t type() const override { return kType; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  // ACCESS_DENIED if this process holds the word read-only (never the case for a handle with
  // SIGNAL: FromRaw refuses that combination).
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  bool IsLastHandle(const Handle& handle) const override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  mx_status_t PrepareNewHandle(const Handle& from, mx_rights_t rights,
                               std::unique_ptr<Handle>* out) override;
  void OnHandleCountChanged() override;

 private:
  struct Shared;
  Event(mx_koid_t koid, UniqueFd memfd, UniqueFd doorbell, Mapping map, bool writable);
  // A new open file description of the memfd, holding the handle lock.
  mx_status_t NewToken(UniqueFd* out) const;

  UniqueFd memfd_;  // an unlocked description, used to open tokens; writable iff writable_
  UniqueFd doorbell_;
  Mapping map_;     // the word's page: mapped read-write iff writable_
  Shared* shared_;  // in map_
  const bool writable_;
};

}  // namespace mx::internal
