// SPDX-License-Identifier: BSD-3-Clause
// mx_fd_wrap / mx_fd_unwrap.
#include <magenta/fd.h>
#include <magenta/syscalls.h>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "object/fd_object.h"
#include "object/handle_table.h"
#include "os/fd.h"
#include "os/koid.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_status_t mx_fd_wrap(int fd, mx_handle_t* out) {
  if (out == nullptr) return MX_ERR_INVALID_ARGS;
  if (fd < 0 || !SetCloseOnExec(fd)) return MX_ERR_BAD_HANDLE;
  auto obj = std::make_shared<FdObject>(UniqueFd(fd), AllocateKoid());
  return AddHandle(std::make_shared<Handle>(obj, MX_DEFAULT_FD_RIGHTS), out);
}

__MX_EXPORT mx_status_t mx_fd_unwrap(mx_handle_t handle, int* fd) {
  std::shared_ptr<FdObject> obj;
  mx_status_t st = LookupObject(handle, 0, &obj);
  if (st != MX_OK) return st;
  if (fd == nullptr) return MX_ERR_INVALID_ARGS;
  int result = -1;
  st = obj->TakeFd(obj->local_handle_count() == 1, &result);
  if (st != MX_OK) return st;
  std::shared_ptr<Handle> removed;
  if (HandleTable::Get().Remove(handle, &removed) != MX_OK) {
    // Closed by another thread meanwhile: the fd is ours to give back all the same.
  } else {
    removed->Close();
  }
  *fd = result;
  return MX_OK;
}

}  // extern "C"
