// SPDX-License-Identifier: BSD-3-Clause
// Listener: a named rendezvous point (mx_service_listen), and the connect / accept protocol.
//
// A listener is a non-blocking AF_UNIX SOCK_SEQPACKET socket bound to a path (or an abstract
// name) and listening. The channel itself never flows through that socket; the listening
// connection only hands over one end of a fresh channel:
//
//   1. connect: makes a socketpair (X, Y) and two koids, connects a non-blocking socket C to the
//      listener (the connection waits in the listener's backlog; AF_UNIX completes the connect
//      at once or fails with EAGAIN when the backlog is full), sends one Hello datagram on C
//      carrying Y (SCM_RIGHTS) and the koids, reads SO_PEERCRED (the listener's credentials),
//      closes C and returns X as its endpoint. The datagram sits in C's peer until accepted, so
//      the client may write on X at once: those messages queue in Y.
//   2. accept: the listener accept4()s waiting connections, receives their Hellos, validates
//      them (transport/hello.h: size, magic, koids, exactly one fd, which must be a channel
//      socket), reads SO_PEERCRED (the client's credentials) and builds the endpoint around Y.
//      Validated endpoints wait in a ready queue for mx_service_accept.
//   A connection that hangs up without a valid Hello, or sends something else, is dropped; its
//   fds are closed.
//
// Clients are untrusted, and the listener never waits for one. A connection accepted before its
// Hello arrived is "silent": it is evicted (closed) when it has sent nothing for
// kHelloTimeoutNs, when its uid (SO_PEERCRED) already has kMaxSilentPerUid silent connections
// (its oldest goes), or when kMaxSilent are silent in all (the oldest goes). So one user cannot
// hold the slots other users' connections need, and a flood of silent connections costs the
// listener a bounded amount of memory and fds. Each look at the listener (a wait's check, an
// accept) does a bounded amount of work: at most kMaxAcceptsPerPump accept4() calls, and no more
// once kMaxReady endpoints wait to be accepted.
//
// READABLE (MX_SERVICE_READABLE) exactly when an accept would succeed: a validated endpoint is
// ready. Process-local: the handle has no TRANSFER right, and the socket file is removed when the
// last handle in the creating process closes (if it is still the file we bound).
// Thread-safety: one mutex guards the silent and ready lists; the listening socket is immutable.
#pragma once

#include <magenta/service.h>
#include <sys/types.h>

#include <deque>
#include <string>

#include "object/channel_endpoint.h"
#include "object/object.h"
#include "os/fd_check.h"

namespace mx::internal {

class Listener final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_SERVICE_LISTENER;

  // Binds and listens on |name| (validated by the caller: 1..107 bytes, "@..." = abstract).
  static mx_status_t Listen(const std::string& name, std::shared_ptr<Listener>* out);
  // The client side of the protocol (step 1). MX_OK with a new endpoint and the listener's
  // credentials recorded in it; NOT_FOUND, ACCESS_DENIED, SHOULD_WAIT (backlog full),
  // NO_RESOURCES, NO_MEMORY.
  static mx_status_t Connect(const std::string& name, std::shared_ptr<ChannelEndpoint>* out);

  Listener(mx_koid_t koid, UniqueFd sock, std::string path, FileId file);
  ~Listener() override;

  uint32_t type() const override { return kType; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  // Never reached: the handle has no TRANSFER right.
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_ACCESS_DENIED; }
  void OnLastHandleClosed() override;

  // Step 2. MX_OK with the server's endpoint (client credentials recorded), or SHOULD_WAIT.
  mx_status_t Accept(std::shared_ptr<ChannelEndpoint>* out);

 private:
  struct Silent {
    UniqueFd conn;
    ChannelEndpoint::PeerCred cred;
    mx_time_t deadline;  // evicted when still silent at this time
  };

  // Evicts expired silent connections, moves arrived Hellos to |ready_|, then accepts from the
  // backlog (bounded, see the class comment).
  void PumpLocked() TA_REQ(mu_);
  // Receives |conn|'s Hello if it has arrived. True if the connection is done with (its
  // endpoint is in |ready_|, or it was refused or hung up); false if it is still silent.
  bool TryHelloLocked(int conn, const ChannelEndpoint::PeerCred& cred) TA_REQ(mu_);
  // Keeps a silent connection, evicting as the per-uid and total limits say.
  void AdmitSilentLocked(Silent s) TA_REQ(mu_);

  const UniqueFd sock_;
  const std::string path_;  // filesystem path to unlink when closed; empty for abstract names
  const FileId file_;       // the socket file made at path_
  const pid_t owner_pid_;
  Mutex mu_;
  std::deque<Silent> silent_ TA_GUARDED(mu_);  // oldest first
  std::deque<std::shared_ptr<ChannelEndpoint>> ready_ TA_GUARDED(mu_);
  bool unlinked_ TA_GUARDED(mu_) = false;
};

}  // namespace mx::internal
