// SPDX-License-Identifier: BSD-3-Clause
// Processes by pidfd: opening one, asking whether the process has exited, collecting its exit
// status, killing it. A pidfd names one process for good (a pid may be reused once the process
// is reaped), and becomes readable when the process exits.
//
// Thread-safe (single system calls on fds the caller owns).
#pragma once

#include <magenta/types.h>
#include <sys/types.h>

#include <cstdint>

#include "os/unique_fd.h"

namespace mx::internal {

// The calling process's pid.
pid_t CurrentPid();

// A pidfd (close-on-exec) for process |pid|. False if none could be had (fd table full, no
// such process, a kernel without pidfd_open).
bool OpenPidfd(pid_t pid, UniqueFd* out);

// The epoll events a waiter watches a pidfd for (readable once the process has exited).
uint32_t PidfdWaitEvents();

// True if the process has exited (its pidfd is readable). Never blocks.
bool PidfdExited(int pidfd);

// Collects the exit status of the child behind |pidfd| if it has exited, never blocking. True
// when it has, with |*return_code| its exit code, minus the signal number that killed it, or -1
// if someone else collected the status first (a SIGCHLD handler, waitpid(-1)).
bool TryReapPidfd(int pidfd, int* return_code);

// Sends SIGKILL. MX_OK (also when the process is already gone), ACCESS_DENIED, or INTERNAL.
mx_status_t KillPidfd(int pidfd);

}  // namespace mx::internal
