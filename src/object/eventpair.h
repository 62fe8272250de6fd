// SPDX-License-Identifier: BSD-3-Clause
// EventPairSide: one side of an event pair, shared by every process that holds a handle to it.
//
// An event pair is two sides, A and B. The pair is backed by
//   - per side, a sealed 4 KiB memfd holding {magic, version, koid, peer koid, signals} (the
//     side's signal word), mapped by every process holding either side;
//   - one doorbell (os/doorbell.h) for the pair, rung on every change of either word: waiters of
//     both sides watch it edge-triggered and re-read their own word (ringing never blocks,
//     whatever another holder did to it);
//   - per side, one end of a SOCK_SEQPACKET socketpair, the side's "life line": every object of
//     side A, in any process, and every side-A handle in flight holds a dup of end A. When the
//     last of them is closed — closes, discarded messages, killed processes alike — the kernel
//     hangs up end B, which is how side B learns MX_EPAIR_PEER_CLOSED (and its waiters wake).
//     Nothing is ever sent on these sockets.
//
// MX_SIGNAL_LAST_HANDLE is kernel-counted as for events: each handle owns its own read-only open
// file description of its side's memfd with an OFD read lock on byte 0 (Handle::token()). Tokens
// are private to their process. As for events (event.h), the words are kept as mappings of
// descriptions private to this process; the own memfd is reopened from the token when needed,
// the peer's from the one description of it the object keeps (peer_word).
//
// Rights and descriptions, as for events: both memfds are writable through reopening for the
// creator's uid only; a handle travels with its own side's word writable only if it has
// MX_RIGHT_SIGNAL and with the peer's writable only if it has MX_RIGHT_SIGNAL_PEER. Without them
// the receiver maps that word read-only and cannot get a writable description (not enforced
// against the creator's uid). A receiver of another uid keeps the writable descriptions it was
// sent (it cannot reopen them) and releases locks placed through them before every count.
//
// In flight a side is a RawHandle of type MX_OBJ_TYPE_EVENT_PAIR, koid = the side's koid,
// related_koid = the peer side's koid, no extra bytes, and kWireFds fds in this order:
//   0 token (own memfd, read-only, locked)   1 own memfd, unlocked (writable iff SIGNAL)
//   2 peer memfd, unlocked (writable iff SIGNAL_PEER)   3 the pair's doorbell
//   4 life-line socket end
// In a process a side costs three fds (doorbell, life line, peer memfd) plus one token per
// handle: 4 fds for one handle. A process of another uid holding it with SIGNAL keeps its own
// word's fd too: 5.
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

  static constexpr uint32_t kWireFds = 5;
  static constexpr uint32_t kWireExtraBytes = 0;

  // Creates both sides; |out0| and |out1| are handles with |rights| to side 0 and side 1.
  // NO_RESOURCES / NO_MEMORY when fds or memory run out (nothing is left behind).
  static mx_status_t Create(mx_rights_t rights, std::unique_ptr<Handle>* out0,
                            std::unique_ptr<Handle>* out1);
  // Rebuilds a side (and the handle that carries it) from a RawHandle. MX_ERR_IO if |raw| is
  // malformed (its fds are closed), including memfd descriptions whose access mode does not match
  // the SIGNAL / SIGNAL_PEER rights.
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
    UniqueFd doorbell;  // the pair's, rung on every change of either word
    UniqueFd life;      // own end of the life-line socketpair
    // The peer's memfd, unlocked (writable iff peer_writable), to open the peer word a sent
    // handle travels with: a description of our own, or, when this process may not reopen it
    // writable (peer_word_shared), the one it was sent, whose locks every count releases.
    UniqueFd peer_word;
    // Valid only when this process holds its own word writable but may not reopen it so: the
    // description it was sent (its locks released before every count). Otherwise the own word
    // is reopened from the handle's token when needed.
    UniqueFd shared_own_word;
    bool own_writable = false;
    bool peer_writable = false;
    bool peer_word_shared = false;
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
