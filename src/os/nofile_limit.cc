// SPDX-License-Identifier: BSD-3-Clause
#include "os/nofile_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "os/log.h"

namespace mx::internal {
namespace {

std::once_flag g_raise_once;

void Raise() {
  if (!NofileRaiseWanted(::getenv("MX_NOFILE_RAISE"))) return;
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  const rlim_t before = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    DebugLog("RLIMIT_NOFILE: raising the soft limit from %llu to %llu failed: %s",
             static_cast<unsigned long long>(before), static_cast<unsigned long long>(lim.rlim_max),
             std::strerror(errno));
  }
}

// Priority 101 (the first a program may use): before the constructor that installs an mx_spawn
// child's startup handles, whose fds count against the limit.
__attribute__((constructor(101))) void RaiseAtLoad() { RaiseNofileLimitOnce(); }

}  // namespace

bool NofileRaiseWanted(const char* env_value) {
  return env_value == nullptr || std::strcmp(env_value, "0") != 0;
}

void RaiseNofileLimitOnce() { std::call_once(g_raise_once, Raise); }

}  // namespace mx::internal
