// Kernel-counted handles: each handle to a shared object owns its own open file description of
// the object's memfd and holds an OFD read lock on byte 0 through it. The lock lives exactly as
// long as the description — in this process, in another, or inside a message in flight — and the
// kernel drops it when the description's last fd closes, even when a process is killed. "Is this
// the only handle?" is then a query for a conflicting lock (F_OFD_GETLK), which never blocks.
#pragma once

#include <magenta/types.h>

#include "os/unique_fd.h"

namespace mx::internal {

// A new open file description of the file behind |fd| (via /proc/self/fd), unlocked.
UniqueFd ReopenDescription(int fd);
// A new description of |fd|'s file holding the shared handle lock. NO_RESOURCES / NO_MEMORY.
mx_status_t OpenLockedDescription(int fd, UniqueFd* out);
// True if no other description holds the handle lock (|fd| must hold it itself).
bool IsSoleLockHolder(int fd);

}  // namespace mx::internal
