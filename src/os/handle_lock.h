// SPDX-License-Identifier: BSD-3-Clause
// Kernel-counted handles: each handle to a shared object owns its own open file description of
// the object's memfd and holds an OFD read lock on byte 0 through it. The lock lives exactly as
// long as the description — in this process, in another, or inside a message in flight — and the
// kernel drops it when the description's last fd closes, even when a process is killed. "Is this
// the only handle?" is then a query for a conflicting lock (F_OFD_GETLK), which never blocks.
//
// The descriptions holding locks ("tokens") are opened read-only: a read lock and the query need
// nothing more, so a token that is sent along never lets its receiver write the file. Memfds used
// this way are made writable through reopening for their owner only (DenyWriteReopenToOthers):
// /proc/self/fd/N checks the inode's permission bits, so a holder running as another user cannot
// turn its read-only description into a writable one, while a process of the creator's uid (or
// root) can open a writable description of its own whenever it needs one (NewWritableDescription)
// instead of keeping or sharing one. Such a process owns the inode and could chmod it anyway;
// rights are not enforced against it.
#pragma once

#include <magenta/types.h>

#include "os/unique_fd.h"

namespace mx::internal {

// A new read-only open file description of the file behind |fd| (via /proc/self/fd), unlocked.
UniqueFd ReopenReadOnly(int fd);
// As ReopenReadOnly, with the failure as a status: NO_MEMORY or NO_RESOURCES.
mx_status_t NewReadOnlyDescription(int fd, UniqueFd* out);
// A new read-write open file description of |fd|'s file (via /proc/self/fd), unlocked and shared
// with no one. ACCESS_DENIED if the inode's permission bits do not let this process write it (a
// process of another uid than the creator's); NO_MEMORY / NO_RESOURCES.
mx_status_t NewWritableDescription(int fd, UniqueFd* out);
// A new read-only description of |fd|'s file holding the shared handle lock.
// NO_RESOURCES / NO_MEMORY.
mx_status_t OpenLockedDescription(int fd, UniqueFd* out);
// True if no other description holds the handle lock (|fd| must hold it itself).
bool IsSoleLockHolder(int fd);
// Releases every OFD lock held through |fd|'s description, whoever placed it. For descriptions
// that never hold a handle lock themselves but may be shared with another process (a signal word
// sent writable): a lock placed through one by a hostile holder would otherwise last as long as
// anyone keeps the description open, and count as a handle for ever.
void ClearLocks(int fd);

// Clears the group and other write permission bits of |fd|'s inode, so that no user but its
// owner (the creator's uid) can open the file for writing. NO_RESOURCES.
mx_status_t DenyWriteReopenToOthers(int fd);
// True if |a| and |b| are descriptions of the same file.
bool SameFile(int a, int b);

}  // namespace mx::internal
