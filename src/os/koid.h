// Koid allocation: object ids unique across every process of the machine.
//
// Koids come from one machine-wide counter kept in a small file in /dev/shm, taken in batches
// under flock(). If that file cannot be used, koids fall back to (pid, counter) pairs, which are
// unique unless pids wrap around while an object lives (documented in docs/handles.md).
// Thread-safe.
#pragma once

#include <magenta/types.h>

namespace mx::internal {

mx_koid_t AllocateKoid();
// After fork(), in the child: forget the parent's reserved batch.
void ResetKoidStateInChild();

}  // namespace mx::internal
