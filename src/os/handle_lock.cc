// SPDX-License-Identifier: BSD-3-Clause
#include "os/handle_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "os/fd.h"
#include "os/status.h"

namespace mx::internal {
namespace {

struct flock ByteZero(short type) {
  struct flock lk = {};
  lk.l_type = type;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 1;
  return lk;
}

UniqueFd Reopen(int fd, int access) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  return UniqueFd(::open(path, access | O_CLOEXEC));
}

}  // namespace

UniqueFd ReopenReadOnly(int fd) { return Reopen(fd, O_RDONLY); }

mx_status_t NewReadOnlyDescription(int fd, UniqueFd* out) {
  UniqueFd description = ReopenReadOnly(fd);
  if (!description) return ReopenStatus(errno);
  *out = std::move(description);
  return MX_OK;
}

mx_status_t NewWritableDescription(int fd, UniqueFd* out) {
  UniqueFd description = Reopen(fd, O_RDWR);
  if (!description) return ReopenStatus(errno);
  *out = std::move(description);
  return MX_OK;
}

mx_status_t OpenLockedDescription(int fd, UniqueFd* out) {
  UniqueFd token = ReopenReadOnly(fd);
  if (!token) return ReopenStatus(errno);
  struct flock lk = ByteZero(F_RDLCK);
  if (::fcntl(token.get(), F_OFD_SETLK, &lk) != 0) return AllocationStatus(errno);
  *out = std::move(token);
  return MX_OK;
}

bool IsSoleLockHolder(int fd) {
  struct flock lk = ByteZero(F_WRLCK);
  if (::fcntl(fd, F_OFD_GETLK, &lk) != 0) return false;
  return lk.l_type == F_UNLCK;
}

void ClearLocks(int fd) {
  struct flock lk = ByteZero(F_UNLCK);
  lk.l_len = 0;  // the whole file
  ::fcntl(fd, F_OFD_SETLK, &lk);
}

mx_status_t DenyWriteReopenToOthers(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return MX_ERR_NO_RESOURCES;
  // Only the write bits change: a memfd sealed against exec changes (F_SEAL_EXEC, the default
  // under vm.memfd_noexec) refuses any change of its exec bits.
  const mode_t mode = (st.st_mode & 07777 & ~(S_IWGRP | S_IWOTH)) | S_IWUSR;
  if (::fchmod(fd, mode) != 0) return MX_ERR_NO_RESOURCES;
  return MX_OK;
}

bool SameFile(int a, int b) {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

mx_status_t OwnWordDescription(UniqueFd fd, bool writable, UniqueFd* out, bool* shared) {
  const mx_status_t st =
      writable ? NewWritableDescription(fd.get(), out) : NewReadOnlyDescription(fd.get(), out);
  *shared = st == MX_ERR_ACCESS_DENIED && writable;
  if (*shared) {
    *out = std::move(fd);
    return MX_OK;
  }
  return ReceivedFileStatus(st);
}

mx_status_t WordDescriptionToSend(int fd, bool shared, bool writable, UniqueFd* out) {
  if (!writable) return HeldFileStatus(NewReadOnlyDescription(fd, out));
  if (shared) return DupFd(fd, out);
  // Only a process of the creator's uid gets here; one that changed the file's mode cannot send
  // writable words any more.
  return HeldFileStatus(NewWritableDescription(fd, out));
}

}  // namespace mx::internal
