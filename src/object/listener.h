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
//   2. accept: accept4()s waiting connections into a pending list, takes the first one whose
//      Hello has arrived (a client between steps "connect" and "send" of 1 stays pending),
//      validates it (size, magic, exactly one fd, which must be a SEQPACKET socket), reads
//      SO_PEERCRED (the client's credentials) and builds the endpoint around Y.
//   A connection that hangs up without a valid Hello is dropped; its fds are closed.
//
// READABLE (MX_SERVICE_READABLE) while a connection waits in the backlog or a pending connection
// has its Hello. Process-local: the handle has no TRANSFER right, and the socket file is removed
// when the last handle in the creating process closes (if it is still the file we bound).
// Thread-safety: one mutex guards the pending list; the listening socket is immutable.
#pragma once

#include <sys/types.h>

#include <string>

#include "object/channel_endpoint.h"
#include "object/object.h"

namespace mx::internal {

class Listener final : public Object {
 public:
  // Binds and listens on |name| (validated by the caller: 1..107 bytes, "@..." = abstract).
  static mx_status_t Listen(const std::string& name, std::shared_ptr<Listener>* out);
  // The client side of the protocol (step 1). MX_OK with a new endpoint and the listener's
  // credentials recorded in it; NOT_FOUND, ACCESS_DENIED, SHOULD_WAIT (backlog full),
  // NO_RESOURCES, NO_MEMORY.
  static mx_status_t Connect(const std::string& name, std::shared_ptr<ChannelEndpoint>* out);

  Listener(mx_koid_t koid, UniqueFd sock, std::string path, dev_t dev, ino_t ino);
  ~Listener() override;

  uint32_t type() const override;
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  // Never reached: the handle has no TRANSFER right.
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_ACCESS_DENIED; }
  void OnLastHandleClosed() override;

  // Step 2. MX_OK with the server's endpoint (client credentials recorded), or SHOULD_WAIT.
  mx_status_t Accept(std::shared_ptr<ChannelEndpoint>* out);

 private:
  // Moves every connection waiting in the backlog to |pending_| (bounded).
  void AcceptAllLocked();
  // Drops pending connections that hung up without a Hello. True if one has its Hello.
  bool AnyReadyLocked();

  const UniqueFd sock_;
  const std::string path_;  // filesystem path to unlink when closed; empty for abstract names
  const dev_t dev_;
  const ino_t ino_;
  const pid_t owner_pid_;
  std::mutex mu_;
  std::vector<UniqueFd> pending_;
  bool unlinked_ = false;
};

}  // namespace mx::internal
