// SPDX-License-Identifier: BSD-3-Clause
// mx_ticks_get, mx_ticks_per_second, mx_system_get_num_cpus, mx_system_get_version,
// mx_cprng_draw: argument checks in Magenta's order, then os/system_info.
#include <magenta/syscalls.h>
#include <magenta/version.h>

#include <cstring>

#include "os/system_info.h"

using namespace mx::internal;

namespace {

// What mx_system_get_version reports: the library and its version (Magenta reported its build).
constexpr char kVersion[] = "libmx " MX_VERSION_STRING;

}  // namespace

extern "C" {

__MX_EXPORT uint64_t mx_ticks_get(void) { return TicksNow(); }

__MX_EXPORT uint64_t mx_ticks_per_second(void) { return kTicksPerSecond; }

__MX_EXPORT uint32_t mx_system_get_num_cpus(void) { return UsableCpuCount(); }

__MX_EXPORT mx_status_t mx_system_get_version(char* version, uint32_t version_len) {
  if (version_len < sizeof(kVersion)) return MX_ERR_BUFFER_TOO_SMALL;
  if (version == nullptr) return MX_ERR_INVALID_ARGS;
  std::memcpy(version, kVersion, sizeof(kVersion));
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_cprng_draw(void* buffer, size_t len, size_t* actual) {
  if (len > MX_CPRNG_DRAW_MAX_LEN) return MX_ERR_INVALID_ARGS;
  if ((buffer == nullptr && len > 0) || actual == nullptr) return MX_ERR_INVALID_ARGS;
  mx_status_t st = DrawRandom(buffer, len);
  if (st != MX_OK) return st;
  *actual = len;
  return MX_OK;
}

}  // extern "C"
