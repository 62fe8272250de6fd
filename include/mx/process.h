// SPDX-License-Identifier: BSD-3-Clause
// <mx/process.h>: mx::process, an owning wrapper for a process handle, plus mx::process::self(),
// mx::process::spawn() (libmx's <magenta/launch.h>) and mx::get_startup_handle().
//
// libmx process handles exist for children started with spawn() and for the calling process
// (self()). A child's handle is waitable for MX_PROCESS_TERMINATED, get_process_info() reports its
// exit code, kill() kills it. self() is a view: the handle belongs to libmx and is never closed.
//
// Ownership: exactly one handle, closed by the destructor (closing does not kill the child).
// Thread-safety: as <mx/object.h>; spawn() and get_startup_handle() are thread-safe.
#pragma once

#include <magenta/launch.h>
#include <magenta/process.h>
#include <mx/handle.h>
#include <mx/object.h>

namespace mx {

class process : public object<process> {
 public:
  static constexpr mx_obj_type_t TYPE = MX_OBJ_TYPE_PROCESS;

  constexpr process() = default;
  explicit process(mx_handle_t value) : object(value) {}
  explicit process(handle&& h) : object(h.release()) {}
  // Another typed wrapper never becomes a process (it would convert through mx::handle).
  template <typename U>
  process(object<U>&&) = delete;
  process(process&& other) noexcept : object(other.release()) {}
  process& operator=(process&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // The calling process; never closed (see mx_process_self()).
  static unowned<process> self() { return unowned<process>(mx_process_self()); }

  // Starts |path| with |argv| / |envp| (null: inherit) and moves |handles| into the child, exactly
  // as mx_spawn(). On failure every handle stays with the caller. |out| (may be null) has its old
  // handle closed and receives the child (invalid on failure).
  static mx_status_t spawn(const char* path, const char* const* argv, const char* const* envp,
                           const mx_spawn_handle_t* handles, uint32_t num_handles, process* out) {
    mx_handle_t h = MX_HANDLE_INVALID;
    mx_status_t status = mx_spawn(path, argv, envp, handles, num_handles, out ? &h : nullptr);
    if (out) out->reset(h);
    return status;
  }

  // Kills the process (needs MX_RIGHT_WRITE); it then asserts MX_PROCESS_TERMINATED.
  mx_status_t kill() const { return mx_task_kill(get()); }

  // MX_INFO_PROCESS: started, exited, return code (-signal number if killed by a signal).
  mx_status_t get_process_info(mx_info_process_t* info) const {
    return get_info(MX_INFO_PROCESS, info, sizeof(*info), nullptr, nullptr);
  }
};

using unowned_process = unowned<process>;

// Takes the startup handle that the spawning process labelled |info| (a PA_HND value); invalid if
// there is none or it was already taken.
inline handle get_startup_handle(uint32_t info) { return handle(mx_get_startup_handle(info)); }

}  // namespace mx
