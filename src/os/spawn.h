// SPDX-License-Identifier: BSD-3-Clause
// Starting a program in a new process (posix_spawn), with exactly the descriptors it is given.
//
// The child inherits no fd of libmx's: every fd libmx opens is close-on-exec. What the child
// gets is listed in SpawnRequest::fds, one action per descriptor, applied in order in the child
// before the program starts. The child starts with no signal blocked, whatever the caller's mask.
// Its limits are this process's at the time of the call: in particular the soft RLIMIT_NOFILE as
// libmx raised it at load (os/nofile_limit.h says why it cannot be put back for the child alone).
//
// Thread-safe.
#pragma once

#include <magenta/types.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace mx::internal {

// One descriptor the child gets: the caller's |fd|, at number |child_fd| in the child.
// Today every caller passes |child_fd| == |fd| (the descriptor keeps its number).
struct SpawnFdAction {
  int fd = -1;
  int child_fd = -1;
};

struct SpawnRequest {
  const char* path = nullptr;         // the program
  const char* const* argv = nullptr;  // null-terminated
  // Null-terminated; null: the calling process's environment.
  const char* const* envp = nullptr;
  // Variables set in the child's environment ("NAME=value"), replacing any of the same name in
  // |envp|.
  std::vector<std::string> env_overrides;
  std::vector<SpawnFdAction> fds;
};

// Starts the program. MX_OK and the child's pid in |*pid|, or SpawnStatus (os/status.h) of the
// failure: NOT_FOUND, ACCESS_DENIED, NO_MEMORY, NO_RESOURCES, INVALID_ARGS, INTERNAL.
mx_status_t SpawnProcess(const SpawnRequest& request, pid_t* pid);

}  // namespace mx::internal
