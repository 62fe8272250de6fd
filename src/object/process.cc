// SPDX-License-Identifier: BSD-3-Clause
#include "object/process.h"

#include <string>

#include "os/koid.h"
#include "os/pidfd.h"
#include "os/socket.h"
#include "os/spawn.h"
#include "transport/startup.h"

namespace mx::internal {
namespace {

// Children whose handles were closed before they exited: their pidfds, until reaped.
struct OrphanList {
  Mutex mu;
  std::vector<UniqueFd> pidfds TA_GUARDED(mu);
};
OrphanList& Orphans() {
  static auto* orphans = new OrphanList();
  return *orphans;
}

}  // namespace

mx_status_t ProcessObject::Spawn(const char* path, const char* const* argv, const char* const* envp,
                                 const std::vector<RawHandle>& handles,
                                 std::shared_ptr<ProcessObject>* process) {
  UniqueFd parent_end, child_end;
  mx_status_t st = CreateSeqpacketPair(&parent_end, &child_end);
  if (st != MX_OK) return st;
  {
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    st = EncodeStartupFrame(handles, &bytes, &fds, &overflow);
    if (st != MX_OK) return st;
    struct iovec iov = {bytes.data(), bytes.size()};
    st = SendDatagram(parent_end.get(), &iov, 1, fds.data(), fds.size());
    if (st == MX_ERR_SHOULD_WAIT) return MX_ERR_NO_RESOURCES;
    if (st != MX_OK) return st;
  }
  SpawnRequest request;
  request.path = path;
  request.argv = argv;
  request.envp = envp;
  request.env_overrides.push_back(std::string(kStartupFdVariable) + "=" +
                                  std::to_string(child_end.get()));
  request.fds.push_back({child_end.get(), child_end.get()});
  pid_t pid = -1;
  st = SpawnProcess(request, &pid);
  if (st != MX_OK) return st;
  // Closing the two ends frees the fds the pidfd needs (unless another thread takes them).
  child_end.reset();
  parent_end.reset();
  UniqueFd pidfd;
  if (OpenPidfd(pid, &pidfd)) {
    *process = std::make_shared<ProcessObject>(std::move(pidfd), pid, /*is_self=*/false);
  } else {
    process->reset();
  }
  return MX_OK;
}

std::shared_ptr<ProcessObject> ProcessObject::Self() {
  UniqueFd pidfd;
  if (!OpenPidfd(CurrentPid(), &pidfd)) return nullptr;
  return std::make_shared<ProcessObject>(std::move(pidfd), CurrentPid(), /*is_self=*/true);
}

ProcessObject::ProcessObject(UniqueFd pidfd, pid_t pid, bool is_self)
    : Object(AllocateKoid()), pidfd_(std::move(pidfd)), pid_(pid), is_self_(is_self) {}

ProcessObject::~ProcessObject() = default;

void ProcessObject::RefreshLocked() {
  if (exited_ || is_self_ || !pidfd_) return;
  if (!PidfdExited(pidfd_.get())) return;
  int code = 0;
  if (TryReapPidfd(pidfd_.get(), &code)) {
    exited_ = true;
    return_code_ = code;
    NotifySignalsSet(MX_PROCESS_TERMINATED);
  }
}

mx_signals_t ProcessObject::Signals() {
  MutexLock lock(&mu_);
  RefreshLocked();
  return exited_ ? MX_PROCESS_TERMINATED : 0;
}

void ProcessObject::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  MutexLock lock(&mu_);
  if (!exited_ && !is_self_ && pidfd_) out->push_back({pidfd_.get(), PidfdWaitEvents(), false});
}

mx_status_t ProcessObject::PrepareTransfer(const Handle&, RawHandle*) {
  return MX_ERR_ACCESS_DENIED;
}

mx_status_t ProcessObject::Kill() {
  MutexLock lock(&mu_);
  RefreshLocked();
  if (exited_) return MX_OK;
  return KillPidfd(pidfd_.get());
}

mx_info_process_t ProcessObject::Info() {
  MutexLock lock(&mu_);
  RefreshLocked();
  mx_info_process_t info = {};
  info.started = true;
  info.exited = exited_;
  info.return_code = exited_ ? return_code_ : 0;
  info.debugger_attached = false;
  return info;
}

void ProcessObject::OnLastHandleClosed() {
  UniqueFd orphan;
  {
    MutexLock lock(&mu_);
    RefreshLocked();
    if (!exited_ && !is_self_ && pidfd_) orphan = std::move(pidfd_);
  }
  if (orphan) {
    OrphanList& orphans = Orphans();
    MutexLock lock(&orphans.mu);
    orphans.pidfds.push_back(std::move(orphan));
  }
  ReapOrphans();
}

void ProcessObject::ReapOrphans() {
  OrphanList& orphans = Orphans();
  MutexLock lock(&orphans.mu);
  auto& list = orphans.pidfds;
  for (size_t i = 0; i < list.size();) {
    int code;
    if (TryReapPidfd(list[i].get(), &code)) {
      list.erase(list.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

}  // namespace mx::internal
