// SPDX-License-Identifier: BSD-3-Clause
// "vdso-code.h" stand-in for building Magenta's channel test against libmx.
//
// Magenta generated this header from its vDSO to let a test call the vDSO-internal
// mx_channel_call_finish (the second half of an interrupted mx_channel_call). libmx has no vDSO
// and no such call: mx_channel_call runs whole in the caller. The offsets below therefore lead
// to mxut_no_call_finish(), which answers MX_ERR_NOT_SUPPORTED, so the test that needs the call
// fails honestly while the rest of the file builds and runs.
#pragma once

#include <magenta/syscalls.h>
#include <stdint.h>

static inline mx_status_t mxut_no_call_finish(mx_time_t deadline,
                                              const mx_channel_call_args_t* args,
                                              uint32_t* actual_bytes, uint32_t* actual_handles,
                                              mx_status_t* read_status) {
  (void)deadline;
  (void)args;
  (void)actual_bytes;
  (void)actual_handles;
  (void)read_status;
  return MX_ERR_NOT_SUPPORTED;
}

#define VDSO_SYSCALL_mx_handle_close ((uintptr_t)0)
#define VDSO_SYSCALL_mx_channel_call_finish \
  ((uintptr_t)&mxut_no_call_finish - (uintptr_t)&mx_handle_close)
