// SPDX-License-Identifier: BSD-3-Clause
// The process's fd headroom: how many more descriptors it can open before RLIMIT_NOFILE.
//
// Receiving a datagram with SCM_RIGHTS installs its fds in this process's table. A peer decides how
// many fds it attaches, so before libmx installs a frame's fds it checks that they fit and that
// kFdReserve slots stay free afterwards for the process's own work (creating objects, accepting,
// installing the handles of a message it reads). A frame that does not fit stays in the kernel.
//
// Counting costs two system calls (getrlimit, and stat of /proc/self/fd). The count of open fds
// is taken afresh whenever an answer must be exact (HaveFdHeadroom; InstallableFds when its recent
// count does not do); the soft limit read at most 20 ms ago is reused, except before refusing,
// when it is read again, so that a raised limit counts at once and only a limit the process
// lowers goes unseen for up to 20 ms.
//
// Thread-safety: every function may be called from any thread; the answer is a snapshot (other
// threads open and close fds).
#pragma once

#include <cstddef>

namespace mx::internal {

// The number of open fds of this process; SIZE_MAX if it cannot be told (no /proc).
size_t OpenFdCount();

// Fd slots that a received frame must leave free.
constexpr size_t kFdReserve = 64;

// True if |count| more fds can be installed with kFdReserve slots to spare.
bool HaveFdHeadroom(size_t count);

// How many fds (at most |cap|) can be installed now with kFdReserve slots to spare. From the
// recent count (see KeepsFdHeadroom) while it leaves kFdCountMargin slots more than that, else
// counted afresh; |cap| if it cannot be told.
size_t InstallableFds(size_t cap);

// True if a count at most 20 ms old left |count| + kFdReserve + kFdCountMargin slots free
// (less the fds counted against it since). No system call.
bool RecentlyPlentiful(size_t count);

// As RecentlyPlentiful, but a count older than 20 ms is first taken afresh (two system calls),
// so at most one count per 20 ms, whatever the answer.
bool PlentifulRecounting(size_t count);

// Counts |installed| fds, just installed, against the recent count.
void CountInstalled(size_t installed);

// After |installed| fds were just installed, the highest of them numbered |highest|: true if
// kFdReserve slots are still free after |more| fds besides.
//
// Counting costs two system calls, so a recent count (at most 20 ms old, less every fd counted
// against it since) stands in for a fresh one while it leaves kFdCountMargin slots more than
// needed and |highest| is as far from the limit. The kernel gives out the lowest free number, so
// a table that fills up shows in the numbers it gives out; only fds placed at chosen high numbers
// (dup2) escape that, and even then no frame is lost (see os/socket.h).
bool KeepsFdHeadroom(size_t installed, int highest, size_t more);
constexpr size_t kFdCountMargin = 256;

}  // namespace mx::internal
