#include "object/process.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/koid.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace mx::internal {
namespace {

std::mutex& OrphansMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}
std::vector<UniqueFd>& Orphans() {
  static auto* orphans = new std::vector<UniqueFd>();
  return *orphans;
}

// Collects the exit status if the child has exited. Returns true when it has.
bool TryReap(int pidfd, int* return_code) {
  siginfo_t info = {};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                 WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == ECHILD) {
      // Someone else (a SIGCHLD handler, waitpid(-1)) collected the status first.
      *return_code = -1;
      return true;
    }
    return false;
  }
  if (info.si_pid == 0) return false;
  if (info.si_code == CLD_EXITED) {
    *return_code = info.si_status;
  } else {
    *return_code = -info.si_status;  // killed or dumped: minus the signal number
  }
  return true;
}

}  // namespace

ProcessObject::ProcessObject(UniqueFd pidfd, pid_t pid, bool is_self)
    : Object(AllocateKoid()), pidfd_(std::move(pidfd)), pid_(pid), is_self_(is_self) {}

ProcessObject::~ProcessObject() = default;

void ProcessObject::RefreshLocked() {
  if (exited_ || is_self_ || !pidfd_) return;
  struct pollfd p = {pidfd_.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return;
  int code = 0;
  if (TryReap(pidfd_.get(), &code)) {
    exited_ = true;
    return_code_ = code;
    NotifySignalsSet(MX_PROCESS_TERMINATED);
  }
}

mx_signals_t ProcessObject::Signals() {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return exited_ ? MX_PROCESS_TERMINATED : 0;
}

void ProcessObject::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!exited_ && !is_self_ && pidfd_) out->push_back({pidfd_.get(), EPOLLIN, false});
}

mx_status_t ProcessObject::PrepareTransfer(const Handle&, RawHandle*) {
  return MX_ERR_ACCESS_DENIED;
}

mx_status_t ProcessObject::Kill() {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  if (exited_) return MX_OK;
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0) {
    if (errno == ESRCH) return MX_OK;  // already gone
    return errno == EPERM ? MX_ERR_ACCESS_DENIED : MX_ERR_INTERNAL;
  }
  return MX_OK;
}

mx_info_process_t ProcessObject::Info() {
  std::lock_guard<std::mutex> lock(mu_);
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
    std::lock_guard<std::mutex> lock(mu_);
    RefreshLocked();
    if (!exited_ && !is_self_ && pidfd_) orphan = std::move(pidfd_);
  }
  if (orphan) {
    std::lock_guard<std::mutex> orphans(OrphansMutex());
    Orphans().push_back(std::move(orphan));
  }
  ReapOrphans();
}

void ProcessObject::ReapOrphans() {
  std::lock_guard<std::mutex> lock(OrphansMutex());
  auto& list = Orphans();
  for (size_t i = 0; i < list.size();) {
    int code;
    if (TryReap(list[i].get(), &code)) {
      list.erase(list.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

}  // namespace mx::internal
