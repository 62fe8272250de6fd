// SPDX-License-Identifier: BSD-3-Clause
// The memfd behind a VMO: creating it, sealing its size, and deriving read-only descriptions.
//
// Who may do what to a VMO's memfd is decided by the kernel, not by libmx, once the fd has left
// the process:
//   - Resizing (ftruncate) and writing (pwrite, a writable MAP_SHARED mapping, mprotect to
//     PROT_WRITE) need a description opened for writing. A holder without MX_RIGHT_WRITE is sent
//     a read-only description (ReopenReadOnly), so it can do none of them.
//   - A new description can be opened through /proc/self/fd/N by anyone who holds any fd of the
//     file. The kernel checks the inode's permission bits for that: the memfd is made 0644, so a
//     process of another uid can open it read-only (enough to pass a read-only VMO on) but never
//     for writing. A process of the creator's uid (or root) can: that is the limit of what Linux
//     enforces.
//   - A non-resizable VMO's memfd carries F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: no holder,
//     writer or not, can change its size or its seals again, so a mapping of it never loses pages.
// Seals can only be added, never removed, so a VMO found sealed stays sealed.
//
// Thread-safe (plain system calls on fds the caller owns).
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>

#include "os/unique_fd.h"

namespace mx::internal {

// A new zero-filled memfd of |size| bytes (MFD_CLOEXEC | MFD_ALLOW_SEALING, mode 0644), sealed
// against any size change when |fixed_size|. NO_RESOURCES / NO_MEMORY / OUT_OF_RANGE (|size| too
// large for the file system).
mx_status_t CreateVmoMemfd(uint64_t size, bool fixed_size, UniqueFd* out);

// A new read-only open file description of the file behind |fd|, through /proc/self/fd.
// NO_RESOURCES (fd table full), NO_MEMORY, NOT_SUPPORTED (/proc is not mounted), ACCESS_DENIED
// (the file's permission bits refuse this uid even reading).
mx_status_t ReopenReadOnly(int fd, UniqueFd* out);

// True if the kernel refuses every size change of |fd|'s file (F_SEAL_SHRINK and F_SEAL_GROW
// are both set). A file that does not answer F_GET_SEALS counts as resizable.
bool IsSizeSealed(int fd);

// Copies up to |len| bytes at |offset| of |fd|'s file into |data|; |*done| is how many. Stops
// short, with MX_OK, where the file ends (another holder may have shrunk it). The errors of
// MemfdIoStatus (os/status.h).
mx_status_t ReadMemfd(int fd, void* data, uint64_t offset, size_t len, size_t* done);
// Writes |len| bytes from |data| at |offset| of |fd|'s file; |*done| is how many. The errors of
// MemfdIoStatus.
mx_status_t WriteMemfd(int fd, const void* data, uint64_t offset, size_t len, size_t* done);
// The current size of |fd|'s file. IO if it cannot be told.
mx_status_t MemfdSize(int fd, uint64_t* size);
// Sets the size of |fd|'s file. UNAVAILABLE if a seal forbids it, else the errors of
// MemfdIoStatus.
mx_status_t ResizeMemfd(int fd, uint64_t size);

}  // namespace mx::internal
