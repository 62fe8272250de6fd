// SPDX-License-Identifier: BSD-3-Clause
// mx_socket_create / mx_socket_write / mx_socket_read.
//
// Check order follows Magenta's syscalls_socket.cpp: write checks its buffer pointer before the
// handle; both look the handle up (BAD_HANDLE → ACCESS_DENIED → WRONG_TYPE) before the options.
#include <magenta/syscalls.h>

#include <cstdint>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "object/socket_object.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_status_t mx_socket_create(uint32_t options, mx_handle_t* out0, mx_handle_t* out1) {
  // libmx supports stream sockets only: MX_SOCKET_DATAGRAM / HAS_CONTROL are not offered.
  if (options != 0) return MX_ERR_INVALID_ARGS;
  if (out0 == nullptr || out1 == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<SocketObject> e0, e1;
  mx_status_t st = SocketObject::Create(&e0, &e1);
  if (st != MX_OK) return st;
  auto h0 = std::make_shared<Handle>(std::move(e0), MX_DEFAULT_SOCKET_RIGHTS);
  auto h1 = std::make_shared<Handle>(std::move(e1), MX_DEFAULT_SOCKET_RIGHTS);
  return AddHandlePair(std::move(h0), std::move(h1), out0, out1);
}

__MX_EXPORT mx_status_t mx_socket_write(mx_handle_t handle, uint32_t options, const void* buffer,
                                        size_t size, size_t* actual) {
  if (size > 0 && buffer == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<SocketObject> socket;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &socket);
  if (st != MX_OK) return st;
  if (options != 0) return MX_ERR_INVALID_ARGS;
  // Magenta sizes socket I/O in 32 bits.
  if (size > UINT32_MAX) return MX_ERR_INVALID_ARGS;
  size_t written = 0;
  st = socket->Write(buffer, size, &written);
  if (st == MX_OK && actual != nullptr) *actual = written;
  return st;
}

__MX_EXPORT mx_status_t mx_socket_read(mx_handle_t handle, uint32_t options, void* buffer,
                                       size_t size, size_t* actual) {
  std::shared_ptr<SocketObject> socket;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &socket);
  if (st != MX_OK) return st;
  if (options != 0) return MX_ERR_INVALID_ARGS;
  if (buffer == nullptr && size > 0) return MX_ERR_INVALID_ARGS;
  if (size > UINT32_MAX) return MX_ERR_INVALID_ARGS;
  size_t read = 0;
  st = socket->Read(buffer, size, &read);
  if (st == MX_OK && actual != nullptr) *actual = read;
  return st;
}

}  // extern "C"
