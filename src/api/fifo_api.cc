// SPDX-License-Identifier: BSD-3-Clause
// mx_fifo_create / mx_fifo_write / mx_fifo_read.
//
// Check order follows Magenta's sys_fifo_*: create checks the shape (OUT_OF_RANGE), then the
// options and out pointers (INVALID_ARGS), as Magenta's own fifo test expects; read and write look
// the handle up (BAD_HANDLE → ACCESS_DENIED → WRONG_TYPE) and leave the rest to the object
// (object/fifo.h). Magenta copied the count out after the elements moved, so a null count pointer
// is INVALID_ARGS with the elements moved.
#include <magenta/syscalls.h>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "object/fifo.h"

using namespace mx::internal;

extern "C" {

__MX_EXPORT mx_status_t mx_fifo_create(uint32_t elem_count, uint32_t elem_size, uint32_t options,
                                       mx_handle_t* out0, mx_handle_t* out1) {
  if (!FifoShapeValid(elem_count, elem_size)) return MX_ERR_OUT_OF_RANGE;
  if (options != 0 || out0 == nullptr || out1 == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<FifoEndpoint> s0, s1;
  mx_status_t st = FifoEndpoint::Create(elem_count, elem_size, &s0, &s1);
  if (st != MX_OK) return st;
  auto h0 = std::make_shared<Handle>(std::move(s0), MX_DEFAULT_FIFO_RIGHTS);
  auto h1 = std::make_shared<Handle>(std::move(s1), MX_DEFAULT_FIFO_RIGHTS);
  return AddHandlePair(std::move(h0), std::move(h1), out0, out1);
}

__MX_EXPORT mx_status_t mx_fifo_write(mx_handle_t handle, const void* data, size_t len,
                                      uint32_t* num_entries_written) {
  std::shared_ptr<FifoEndpoint> fifo;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &fifo);
  if (st != MX_OK) return st;
  uint32_t n = 0;
  st = fifo->Write(data, len, &n);
  if (st != MX_OK) return st;
  if (num_entries_written == nullptr) return MX_ERR_INVALID_ARGS;
  *num_entries_written = n;
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_fifo_read(mx_handle_t handle, void* data, size_t len,
                                     uint32_t* num_entries_read) {
  std::shared_ptr<FifoEndpoint> fifo;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &fifo);
  if (st != MX_OK) return st;
  uint32_t n = 0;
  st = fifo->Read(data, len, &n);
  if (st != MX_OK) return st;
  if (num_entries_read == nullptr) return MX_ERR_INVALID_ARGS;
  *num_entries_read = n;
  return MX_OK;
}

}  // extern "C"
