// SPDX-License-Identifier: BSD-3-Clause
// magenta_constants.inc as C++17, and the new calls' exact signatures.
#define MX_CONSTANT_CHECK(cond) static_assert(cond, #cond)
#include <type_traits>

#include "magenta_constants.inc"

static_assert(std::is_same_v<decltype(&mx_ticks_get), uint64_t (*)()>);
static_assert(std::is_same_v<decltype(&mx_ticks_per_second), uint64_t (*)()>);
static_assert(std::is_same_v<decltype(&mx_system_get_num_cpus), uint32_t (*)()>);
static_assert(std::is_same_v<decltype(&mx_system_get_version), mx_status_t (*)(char*, uint32_t)>);
static_assert(std::is_same_v<decltype(&mx_cprng_draw), mx_status_t (*)(void*, size_t, size_t*)>);
static_assert(std::is_same_v<decltype(&mx_status_get_string), const char* (*)(mx_status_t)>);
