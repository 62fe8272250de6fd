// errno → mx_status_t: the only place where Linux error numbers become statuses.
#pragma once

#include <magenta/types.h>

namespace mx::internal {

// Maps an errno value from a failed system call to the status libmx reports for it.
mx_status_t StatusFromErrno(int err);

}  // namespace mx::internal
