// SPDX-License-Identifier: BSD-3-Clause
// mx_object_wait_one / wait_many / signal / signal_peer / get_info.
#include <magenta/service.h>
#include <magenta/syscalls.h>

#include <cstring>

#include "api/lookup.h"
#include "object/channel_endpoint.h"
#include "object/handle_table.h"
#include "object/process.h"
#include "object/wait.h"
#include "os/clock.h"

using namespace mx::internal;

namespace {

// A topic whose answer is one record: BUFFER_TOO_SMALL (actual 0, avail 1) when it does not fit,
// INVALID_ARGS for a null buffer that would fit, else the record copied (actual 1, avail 1).
template <typename Info>
mx_status_t CopyOneRecord(const Info& info, void* buffer, size_t buffer_size, size_t* actual_count,
                          size_t* avail_count) {
  if (buffer_size < sizeof(Info)) {
    if (actual_count != nullptr) *actual_count = 0;
    if (avail_count != nullptr) *avail_count = 1;
    return MX_ERR_BUFFER_TOO_SMALL;
  }
  if (buffer == nullptr) return MX_ERR_INVALID_ARGS;
  std::memcpy(buffer, &info, sizeof(info));
  if (actual_count != nullptr) *actual_count = 1;
  if (avail_count != nullptr) *avail_count = 1;
  return MX_OK;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_status_t mx_object_wait_one(mx_handle_t handle, mx_signals_t waitfor,
                                           mx_time_t deadline, mx_signals_t* observed) {
  std::vector<WaitItem> items(1);
  mx_status_t st = HandleTable::Get().Lookup(handle, MX_RIGHT_READ, 0, &items[0].handle);
  if (st != MX_OK) return st;
  if (!items[0].handle->object()->waitable()) return MX_ERR_NOT_SUPPORTED;
  items[0].waitfor = waitfor;
  st = WaitForItems(&items, deadline);
  if (st == MX_ERR_NO_RESOURCES) return st;
  if (observed != nullptr) *observed = items[0].observed;
  return st;
}

__MX_EXPORT mx_status_t mx_object_wait_many(mx_wait_item_t* items, uint32_t count,
                                            mx_time_t deadline) {
  if (count == 0) {
    // Magenta: sleep until the deadline, then time out.
    if (deadline == MX_TIME_INFINITE) SleepForever();
    SleepUntil(deadline);
    return MX_ERR_TIMED_OUT;
  }
  if (items == nullptr || count > MX_WAIT_MANY_MAX_ITEMS) return MX_ERR_INVALID_ARGS;
  std::vector<WaitItem> waits(count);
  for (uint32_t i = 0; i < count; ++i) {
    mx_status_t st = HandleTable::Get().Lookup(items[i].handle, MX_RIGHT_READ, 0, &waits[i].handle);
    if (st != MX_OK) return st;
    if (!waits[i].handle->object()->waitable()) return MX_ERR_NOT_SUPPORTED;
    waits[i].waitfor = items[i].waitfor;
  }
  mx_status_t st = WaitForItems(&waits, deadline);
  if (st == MX_ERR_NO_RESOURCES) return st;
  for (uint32_t i = 0; i < count; ++i) items[i].pending = waits[i].observed;
  return st;
}

__MX_EXPORT mx_status_t mx_object_signal(mx_handle_t handle, uint32_t clear_mask,
                                         uint32_t set_mask) {
  std::shared_ptr<Handle> h;
  mx_status_t st = HandleTable::Get().Lookup(handle, MX_RIGHT_SIGNAL, 0, &h);
  if (st != MX_OK) return st;
  return h->object()->UserSignal(clear_mask, set_mask);
}

__MX_EXPORT mx_status_t mx_object_signal_peer(mx_handle_t handle, uint32_t clear_mask,
                                              uint32_t set_mask) {
  std::shared_ptr<Handle> h;
  mx_status_t st = HandleTable::Get().Lookup(handle, MX_RIGHT_SIGNAL_PEER, 0, &h);
  if (st != MX_OK) return st;
  return h->object()->UserSignalPeer(clear_mask, set_mask);
}

__MX_EXPORT mx_status_t mx_object_get_info(mx_handle_t handle, uint32_t topic, void* buffer,
                                           size_t buffer_size, size_t* actual_count,
                                           size_t* avail_count) {
  std::shared_ptr<Handle> h;
  switch (topic) {
    case MX_INFO_HANDLE_VALID:
      return HandleTable::Get().Lookup(handle, 0, 0, &h);
    case MX_INFO_HANDLE_BASIC: {
      mx_status_t st = HandleTable::Get().Lookup(handle, 0, 0, &h);
      if (st != MX_OK) return st;
      mx_info_handle_basic_t info = {};
      info.koid = h->object()->koid();
      info.rights = h->rights();
      info.type = h->object()->type();
      info.related_koid = h->object()->related_koid();
      info.props = h->object()->waitable() ? MX_OBJ_PROP_WAITABLE : MX_OBJ_PROP_NONE;
      return CopyOneRecord(info, buffer, buffer_size, actual_count, avail_count);
    }
    case MX_INFO_PROCESS: {
      std::shared_ptr<ProcessObject> process;
      mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &process);
      if (st != MX_OK) return st;
      return CopyOneRecord(process->Info(), buffer, buffer_size, actual_count, avail_count);
    }
    case MX_INFO_PEER_CRED: {
      // libmx (<magenta/service.h>): who is at the other end of a rendezvous channel.
      std::shared_ptr<ChannelEndpoint> ep;
      mx_status_t st = LookupObject(handle, 0, &ep);
      if (st != MX_OK) return st;
      const auto& cred = ep->peer_cred();
      if (!cred) return MX_ERR_NOT_FOUND;
      const mx_info_peer_cred_t info = {cred->pid, cred->uid, cred->gid};
      return CopyOneRecord(info, buffer, buffer_size, actual_count, avail_count);
    }
    default: {
      mx_status_t st = HandleTable::Get().Lookup(handle, 0, 0, &h);
      if (st != MX_OK) return st;
      return MX_ERR_NOT_SUPPORTED;
    }
  }
}

__MX_EXPORT mx_status_t mx_task_kill(mx_handle_t task) {
  std::shared_ptr<ProcessObject> process;
  mx_status_t st = LookupObject(task, MX_RIGHT_WRITE, &process);
  if (st != MX_OK) return st;
  return process->Kill();
}

}  // extern "C"
