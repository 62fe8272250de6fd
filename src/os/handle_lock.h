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
// As ReopenReadOnly, with the failure as a status (os/status.h ReopenStatus): ACCESS_DENIED if
// the inode's permission bits do not let this process read it (its owner took them away),
// NO_MEMORY, NO_RESOURCES, NOT_SUPPORTED without /proc.
mx_status_t NewReadOnlyDescription(int fd, UniqueFd* out);
// A new read-write open file description of |fd|'s file (via /proc/self/fd), unlocked and shared
// with no one. ACCESS_DENIED if the inode's permission bits do not let this process write it (a
// process of another uid than the creator's); otherwise as NewReadOnlyDescription.
mx_status_t NewWritableDescription(int fd, UniqueFd* out);
// A new read-only description of |fd|'s file holding the shared handle lock. Fails as
// NewReadOnlyDescription does, or NO_RESOURCES if the lock cannot be had.
mx_status_t OpenLockedDescription(int fd, UniqueFd* out);
// True if no other description holds the handle lock (|fd| must hold it itself).
bool IsSoleLockHolder(int fd);
// What ACCESS_DENIED from the functions above means to their callers:
//   - for a file this process holds a handle to, that a process of the owner's uid took the
//     permission bits away: the operation fails for lack of a resource (NO_RESOURCES);
//   - for a file that just arrived from another process, that the handle is unusable here: it
//     is malformed (IO), so that a read drops it instead of keeping the message to retry.
inline mx_status_t HeldFileStatus(mx_status_t st) {
  return st == MX_ERR_ACCESS_DENIED ? MX_ERR_NO_RESOURCES : st;
}
inline mx_status_t ReceivedFileStatus(mx_status_t st) {
  return st == MX_ERR_ACCESS_DENIED ? MX_ERR_IO : st;
}

// The description of a signal word that just arrived (|fd|) which this process keeps or maps: a
// new one of its own, writable iff |writable|, where it may open one (no other process can lock
// through it); else, for a writable word this uid may not reopen writable, |fd| itself, with
// |*shared| set (its sender may keep a dup and lock through it: ClearLocks before every count).
// Errors as ReceivedFileStatus.
mx_status_t OwnWordDescription(UniqueFd fd, bool writable, UniqueFd* out, bool* shared);
// A description of a signal word to send, from |fd| (a description this process holds): a new
// one each time, writable iff |writable|, so nothing kept is shared with the receiver; a dup of
// |fd| when it is |shared| already (this uid may not reopen it writable). Errors as
// HeldFileStatus.
mx_status_t WordDescriptionToSend(int fd, bool shared, bool writable, UniqueFd* out);

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
