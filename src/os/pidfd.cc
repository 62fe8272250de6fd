// SPDX-License-Identifier: BSD-3-Clause
#include "os/pidfd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/eintr.h"
#include "os/fd.h"
#include "os/status.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace mx::internal {

pid_t CurrentPid() { return ::getpid(); }

bool OpenPidfd(pid_t pid, UniqueFd* out) {
  // pidfd_open sets close-on-exec on the fd it returns.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return false;
  *out = std::move(pidfd);
  return true;
}

uint32_t PidfdWaitEvents() { return EPOLLIN; }

bool PidfdExited(int pidfd) { return ReadyEvents(pidfd, POLLIN) != 0; }

bool TryReapPidfd(int pidfd, int* return_code) {
  siginfo_t info = {};
  const int r = RetryOnEintr([&] {
    return ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                    WEXITED | WNOHANG);
  });
  if (r < 0) {
    if (errno == ECHILD) {
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

mx_status_t KillPidfd(int pidfd) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0) return MX_OK;
  return KillStatus(errno);
}

}  // namespace mx::internal
