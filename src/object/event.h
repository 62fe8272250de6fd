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
// process's own.
//
// The word is kept as a mapping, not as an fd: the mapping keeps the memory. The description
// behind the mapping is private to this process (the creator's own, or one reopened through
// /proc/self/fd), so no other holder can place a lock on it. Everything else a process needs the
// memfd for is reopened from a token when needed: new tokens (duplicates, received handles) and
// the word description a sent handle travels with. One case keeps an fd: a process of another
// uid than the creator's that received the handle with SIGNAL cannot reopen the file writable,
// so it keeps the writable description it was sent (shared with its sender) and releases any
// lock placed through it before every count.
//
// MX_RIGHT_SIGNAL is enforced by the kernel against holders of other users: the creator lets only
// its own uid reopen the memfd writable (os/handle_lock.h), and a handle without SIGNAL travels
// with read-only descriptions only, so its receiver maps the word read-only and has no way to get
// a writable description. A handle with SIGNAL travels with a writable one.
//
// On the wire (RawHandle): type MX_OBJ_TYPE_EVENT, the koid, no extra bytes, kWireFds fds:
//   0 token (read-only, holding the handle lock)
//   1 the memfd, unlocked: read-write if the handle has MX_RIGHT_SIGNAL, else read-only
//   2 the doorbell
// In a process an event costs one fd (the doorbell) plus one token per handle: 2 fds for one
// handle. A process of another uid holding it with SIGNAL keeps the word's fd too: 3.
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
  Event(mx_koid_t koid, UniqueFd doorbell, Mapping map, bool writable, UniqueFd shared_word);

  UniqueFd doorbell_;
  Mapping map_;     // the word's page: mapped read-write iff writable_
  Shared* shared_;  // in map_
  const bool writable_;
  // Valid only when this process holds the word writable but may not reopen it writable (another
  // uid than the creator's): the description it was sent, which its sender may share. map_ maps
  // it; every count first releases the locks anyone placed through it.
  UniqueFd shared_word_;
};

}  // namespace mx::internal
