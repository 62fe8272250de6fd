// SPDX-License-Identifier: BSD-3-Clause
// EventPairSide: one side of an event pair, shared by every process that holds a handle to it.
//
// An event pair is two sides, A and B. Each side is backed by
//   - a sealed 4 KiB memfd holding {magic, koid, peer koid, signals} (the side's signal word), and
//     a doorbell (os/doorbell.h) rung on every change of that word (waiters watch it
//     edge-triggered; ringing never blocks, whatever another holder did to it) — exactly as an
//     Event (event.h);
//   - one end of a SOCK_SEQPACKET socketpair, the side's "life line": every object of side A, in
//     any process, and every side-A handle in flight holds a dup of end A. When the last of them
//     is closed — closes, discarded messages, killed processes alike — the kernel hangs up end B,
//     which is how side B learns MX_EPAIR_PEER_CLOSED. Nothing is ever sent on these sockets.
// A handle to side A carries A's memfd and doorbell (its own state), B's memfd and doorbell (so
// mx_object_signal_peer can change B's word and wake B's waiters in every process) and end A.
//
// MX_SIGNAL_LAST_HANDLE is kernel-counted as for events: each handle owns its own read-only open
// file description of its side's memfd with an OFD read lock on byte 0 (Handle::token()). Tokens
// are private to their process, and locks placed through the word descriptions are released
// before every count (see event.h).
//
// Rights and descriptions, as for events: both memfds are unwritable through reopening; a handle
// travels with its own side's memfd writable only if it has MX_RIGHT_SIGNAL and with the peer's
// writable only if it has MX_RIGHT_SIGNAL_PEER. Without them the receiver maps that word
// read-only and cannot get a writable description (not enforced against the creator's uid).
//
// In flight a side is a RawHandle of type MX_OBJ_TYPE_EVENT_PAIR, koid = the side's koid,
// related_koid = the peer side's koid, no extra bytes, and kWireFds fds in this order:
//   0 token (own memfd, read-only, locked)   1 own memfd, unlocked (writable iff SIGNAL)
//   2 own doorbell   3 peer memfd, unlocked (writable iff SIGNAL_PEER)   4 peer doorbell
//   5 life-line socket end
// In a process a side costs five fds (fds 1-5) plus one token per handle.
//
// Thread-safety: all methods are thread-safe. The signal words are atomics in shared memory; fds
// are set at construction and closed only by the destructor.
#pragma once

#include <atomic>

#include "object/object.h"
#include "os/memfd.h"

namespace mx::internal {

class EventPairSide final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_EVENT_PAIR;

  static constexpr uint32_t kWireFds = 6;
  static constexpr uint32_t kWireExtraBytes = 0;

  // Creates both sides; |out0| and |out1| are handles with |rights| to side 0 and side 1.
  // NO_RESOURCES / NO_MEMORY when fds or memory run out (nothing is left behind).
  static mx_status_t Create(mx_rights_t rights, std::unique_ptr<Handle>* out0,
                            std::unique_ptr<Handle>* out1);
  // Rebuilds a side (and the handle that carries it) from a RawHandle, opening no new fds.
  // MX_ERR_IO if |raw| is malformed (its fds are closed), including memfd descriptions whose
  // access mode does not match the SIGNAL / SIGNAL_PEER rights.
  static mx_status_t FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle);

  ~EventPairSide() override;
  uint32_t type() const override { return kType; }
  mx_koid_t related_koid() const override { return peer_koid_; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  // UserSignal / UserSignalPeer: ACCESS_DENIED if this process holds that word read-only (never
  // for a handle with the matching right: FromRaw refuses that combination).
  mx_status_t UserSignal(uint32_t clear_mask, uint32_t set_mask) override;
  mx_status_t UserSignalPeer(uint32_t clear_mask, uint32_t set_mask) override;
  bool IsLastHandle(const Handle& handle) const override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  mx_status_t PrepareNewHandle(const Handle& from, mx_rights_t rights,
                               std::unique_ptr<Handle>* out) override;
  void OnHandleCountChanged() override;

 private:
  struct Shared;
  struct Fds {
    UniqueFd memfd;          // own side, unlocked description (writable iff own_writable)
    UniqueFd doorbell;       // own side
    UniqueFd peer_memfd;     // peer side, unlocked description (writable iff peer_writable)
    UniqueFd peer_doorbell;  // peer side
    UniqueFd life;           // own end of the life-line socketpair
    bool own_writable = false;
    bool peer_writable = false;
  };
  EventPairSide(mx_koid_t koid, mx_koid_t peer_koid, Fds fds, Mapping own, Mapping peer);
  bool PeerGone();

  const mx_koid_t peer_koid_;
  Fds fds_;
  Mapping own_map_;
  Mapping peer_map_;
  Shared* own_;   // in own_map_
  Shared* peer_;  // in peer_map_
  // Sticky: once the peer is gone it never comes back.
  std::atomic<bool> peer_gone_{false};
};

}  // namespace mx::internal
