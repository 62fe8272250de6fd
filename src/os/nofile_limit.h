// SPDX-License-Identifier: BSD-3-Clause
// The soft RLIMIT_NOFILE, raised to the hard limit when libmx loads.
//
// Linux starts most programs with a soft limit of 1024 fds (for select(), whose fd_set holds no
// more) and a hard limit hundreds of times higher (Debian 12: 524288 for a login session). A libmx
// object holds one fd or more (docs/resources.md), so at the soft limit a process runs out after a
// few hundred busy channels while the kernel would grant it far more. As the Go runtime does, libmx
// raises the soft limit to the hard limit once, in a static constructor that runs before libmx's
// other load-time code (the startup handles of an mx_spawn child are installed after it). Setting
// MX_NOFILE_RAISE=0 in the environment keeps the limit the program started with; any other value,
// or none, raises it. A program that lowers the limit again afterwards keeps its choice.
//
// What other programs get: a limit is inherited, so a program this process starts (mx_spawn, or
// any other way) starts with the raised soft limit. posix_spawn, which mx_spawn uses, offers no
// way to set a limit in the child before exec, and lowering it in this process around the spawn
// would make other threads' opens fail meanwhile; a program that needs select() on every fd it
// opens lowers its own limit, or is started from a process run with MX_NOFILE_RAISE=0.
//
// Thread-safe: the raise happens at most once per process (later calls return at once).
#pragma once

namespace mx::internal {

// Raises the soft RLIMIT_NOFILE to the hard limit unless the environment says MX_NOFILE_RAISE=0.
// Runs by itself at load; HandleTable::Get calls it too, which makes the static library link
// this file (and so its load-time raise) into every program that uses handles.
void RaiseNofileLimitOnce();

// True unless |env_value| (MX_NOFILE_RAISE's value, or null when unset) is exactly "0".
bool NofileRaiseWanted(const char* env_value);

}  // namespace mx::internal
