// ProcessObject: a process started by mx_spawn (or the calling process itself), via a pidfd.
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
  ProcessObject(UniqueFd pidfd, pid_t pid, bool is_self);
  ~ProcessObject() override;

  uint32_t type() const override { return MX_OBJ_TYPE_PROCESS; }
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
  void RefreshLocked();
  std::mutex mu_;
  UniqueFd pidfd_;
  const pid_t pid_;
  const bool is_self_;
  bool exited_ = false;
  int return_code_ = 0;
};

}  // namespace mx::internal
