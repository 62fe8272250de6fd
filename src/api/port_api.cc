// SPDX-License-Identifier: BSD-3-Clause
// mx_port_create / queue / wait, mx_object_wait_async, mx_port_get_fd.
#include <magenta/fd.h>
#include <magenta/syscalls.h>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "object/handle_table.h"
#include "object/port.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_status_t mx_port_create(uint32_t options, mx_handle_t* out) {
  if (options != 0 || out == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<Port> port;
  mx_status_t st = Port::Create(&port);
  if (st != MX_OK) return st;
  return AddHandle(std::make_shared<Handle>(port, MX_DEFAULT_PORT_RIGHTS), out);
}

__MX_EXPORT mx_status_t mx_port_queue(mx_handle_t handle, const mx_port_packet_t* packet,
                                      size_t count) {
  std::shared_ptr<Port> port;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &port);
  if (st != MX_OK) return st;
  if (packet == nullptr || count > 1) return MX_ERR_INVALID_ARGS;
  return port->Queue(*packet);
}

__MX_EXPORT mx_status_t mx_port_wait(mx_handle_t handle, mx_time_t deadline,
                                     mx_port_packet_t* packet, size_t count) {
  std::shared_ptr<Port> port;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &port);
  if (st != MX_OK) return st;
  if (packet == nullptr || count > 1) return MX_ERR_INVALID_ARGS;
  return port->Wait(deadline, packet);
}

__MX_EXPORT mx_status_t mx_object_wait_async(mx_handle_t handle, mx_handle_t port_handle,
                                             uint64_t key, mx_signals_t signals, uint32_t options) {
  if (options != MX_WAIT_ASYNC_ONCE && options != MX_WAIT_ASYNC_REPEATING) {
    return MX_ERR_INVALID_ARGS;
  }
  std::shared_ptr<Port> port;
  mx_status_t st = LookupObject(port_handle, MX_RIGHT_WRITE, &port);
  if (st != MX_OK) return st;
  std::shared_ptr<Handle> h;
  st = HandleTable::Get().Lookup(handle, MX_RIGHT_READ, 0, &h);
  if (st != MX_OK) return st;
  if (!h->object()->waitable()) return MX_ERR_NOT_SUPPORTED;
  return port->WaitAsync(std::move(h), key, signals, options == MX_WAIT_ASYNC_REPEATING);
}

__MX_EXPORT mx_status_t mx_port_get_fd(mx_handle_t handle, int* fd) {
  std::shared_ptr<Port> port;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &port);
  if (st != MX_OK) return st;
  if (fd == nullptr) return MX_ERR_INVALID_ARGS;
  *fd = port->fd();
  return MX_OK;
}

}  // extern "C"
