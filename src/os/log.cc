// SPDX-License-Identifier: BSD-3-Clause
#include "os/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

namespace mx::internal {

bool DebugEnabled() {
  static const bool enabled = ::getenv("MX_DEBUG") != nullptr;
  return enabled;
}

void DebugLog(const char* format, ...) {
  if (!DebugEnabled()) return;
  char line[512];
  int n = snprintf(line, sizeof(line), "libmx[%d]: ", static_cast<int>(::getpid()));
  va_list ap;
  va_start(ap, format);
  vsnprintf(line + n, sizeof(line) - static_cast<size_t>(n), format, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}

}  // namespace mx::internal
