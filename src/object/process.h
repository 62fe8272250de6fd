// SPDX-License-Identifier: BSD-3-Clause
// ProcessObject: a process started by mx_spawn (or the calling process itself), via a pidfd.
//
// Spawn starts the child with its startup handles already in the kernel: the parent makes a
// socket pair, sends one startup frame (transport/startup.h) with every handle on one end, and
// passes the other end to the child as its only inherited fd, named by MX_STARTUP_FD. The
// child's libmx reads the frame at load time. Until then the handles are held by the kernel in
// that socket; if the child never runs or exits first, the kernel closes them.
//
// MX_PROCESS_TERMINATED is asserted once the pidfd is readable; the exit status is collected
// with waitid(P_PIDFD) the first time anyone looks, and kept. A child whose handle is closed
// before it exits is reaped later (on the next spawn or close), so it does not stay a zombie.
// Process handles are not transferable: only the parent can collect the status (docs/processes.md).
// Thread-safe.
#pragma once

#include <sys/types.h>

#include "object/object.h"

namespace mx::internal {

class ProcessObject final : public Object {
 public:
  static constexpr uint32_t kType = MX_OBJ_TYPE_PROCESS;

  // Starts |path| (argv, envp as for execve; a null |envp| passes ours on) in a new process that
  // finds |handles| on its startup socket. MX_OK once the child runs and its startup socket holds
  // the handles (the caller's transfer is then done); |*process| is the child's object, or null
  // if no pidfd could be had for it. Otherwise the child did not start and the handles were not
  // sent: the error of encoding or sending the startup frame (NO_RESOURCES for a full socket,
  // NO_MEMORY) or of SpawnProcess (os/spawn.h).
  static mx_status_t Spawn(const char* path, const char* const* argv, const char* const* envp,
                           const std::vector<RawHandle>& handles,
                           std::shared_ptr<ProcessObject>* process);
  // The calling process, or null if no pidfd could be had for it.
  static std::shared_ptr<ProcessObject> Self();

  ProcessObject(UniqueFd pidfd, pid_t pid, bool is_self);
  ~ProcessObject() override;

  uint32_t type() const override { return kType; }
  mx_signals_t Signals() override;
  void AddWaitSources(mx_signals_t waitfor, std::vector<WaitSource>* out) override;
  mx_status_t PrepareTransfer(const Handle& handle, RawHandle* out) override;
  void OnLastHandleClosed() override;

  mx_status_t Kill();
  mx_info_process_t Info();
  pid_t pid() const { return pid_; }

  // Reaps children whose handles were closed before they exited.
  static void ReapOrphans();

 private:
  void RefreshLocked() TA_REQ(mu_);
  Mutex mu_;
  UniqueFd pidfd_ TA_GUARDED(mu_);
  const pid_t pid_;
  const bool is_self_;
  bool exited_ TA_GUARDED(mu_) = false;
  int return_code_ TA_GUARDED(mu_) = 0;
};

}  // namespace mx::internal
