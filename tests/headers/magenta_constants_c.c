// SPDX-License-Identifier: BSD-3-Clause
// magenta_constants.inc as C11, and the new calls' exact C signatures: each function initializes
// a pointer of Magenta's type (another type is an incompatible-pointer error under -Werror).
#define MX_CONSTANT_CHECK(cond) _Static_assert(cond, #cond)
#include "magenta_constants.inc"

int mx_constants_c_signatures(void);
int mx_constants_c_signatures(void) {
  uint64_t (*ticks_get)(void) = mx_ticks_get;
  uint64_t (*ticks_per_second)(void) = mx_ticks_per_second;
  uint32_t (*num_cpus)(void) = mx_system_get_num_cpus;
  mx_status_t (*version)(char*, uint32_t) = mx_system_get_version;
  mx_status_t (*cprng)(void*, size_t, size_t*) = mx_cprng_draw;
  const char* (*status)(mx_status_t) = mx_status_get_string;
  return ticks_get != 0 && ticks_per_second != 0 && num_cpus != 0 && version != 0 && cprng != 0 &&
         status != 0;
}
