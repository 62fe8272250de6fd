// SPDX-License-Identifier: BSD-3-Clause
// <magenta/launch.h>: libmx's way to start a child process with handles (Linux extension).
#pragma once

#include <magenta/processargs.h>
#include <magenta/types.h>

__BEGIN_CDECLS

typedef struct {
  uint32_t info;       // PA_HND(type, arg): how the child finds it with mx_get_startup_handle
  mx_handle_t handle;  // must carry MX_RIGHT_TRANSFER
} mx_spawn_handle_t;

// Starts |path| with |argv| and |envp| (NULL: the caller's environment), both passed to execve
// verbatim, and moves |handles| into the child, where mx_get_startup_handle(info) returns them.
// All handles move, or on any failure all stay with the caller:
//   MX_ERR_INVALID_ARGS  path or argv NULL, handles NULL with num_handles > 0, the same info or
//                        handle twice, or num_handles > 64
//   MX_ERR_BAD_HANDLE    a handle is not in this process's table
//   MX_ERR_ACCESS_DENIED a handle lacks MX_RIGHT_TRANSFER
//   MX_ERR_NOT_FOUND     |path| does not exist
//   MX_ERR_ACCESS_DENIED |path| is not executable
//   MX_ERR_NO_RESOURCES  out of processes or file descriptors
// |out_process| (may be NULL) receives a process handle: waitable for MX_PROCESS_TERMINATED,
// MX_INFO_PROCESS gives the exit code, mx_task_kill kills it.
__MX_EXPORT mx_status_t mx_spawn(const char* path, const char* const* argv, const char* const* envp,
                                 const mx_spawn_handle_t* handles, uint32_t num_handles,
                                 mx_handle_t* out_process);

__END_CDECLS
