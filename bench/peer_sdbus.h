// SPDX-License-Identifier: BSD-3-Clause
// bench/peer_sdbus.h: sd-bus peer-to-peer (libsystemd), one of the IPC libraries mx_bench_ipc
// compares with.
//
// Two processes on an AF_UNIX socketpair, no dbus-daemon: the parent's end runs as the D-Bus
// server (sd_bus_set_server), the child's as the client, both started with sd_bus_set_fd +
// sd_bus_start. A round trip is a method call ("Echo", an `ay` argument) answered by a method
// return; a one-way message is a signal; an fd travels as the `h` type. Built when CMake finds
// libsystemd (libsystemd-dev); otherwise every row says why it is missing.
#pragma once

#include <memory>
#include <string>

namespace mxb {

class Link;

// "" when sd-bus can be used, else why not.
std::string SdBusUnavailable();
// "libsystemd 252" or "" when not built in.
std::string SdBusVersion();

// The parent's end of a fresh socketpair; |*child_fd| gets the other end (close-on-exec), which
// the child opens with OpenSdBusChild.
std::unique_ptr<Link> MakeSdBusParent(int* child_fd);
std::unique_ptr<Link> OpenSdBusChild(int fd);

}  // namespace mxb
