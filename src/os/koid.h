// SPDX-License-Identifier: BSD-3-Clause
// Koid allocation: object ids that never collide across processes of different users.
//
// A koid partitions the 64-bit space by who may hand it out (docs/design.md, "Koids"):
//
//   bit 63 = 1                    random fallback: a random 62-bit batch start, then a counter
//   bit 63 = 0, bit 62 = 0        uid < 2^20:  uid in bits 42..61, counter in bits 0..41
//   bit 63 = 0, bit 62 = 1        any uid:     uid in bits 30..61, counter in bits 0..29
//
// The counter of a uid lives in /dev/shm/libmx-koid-<euid>, a regular file of mode 0600 owned by
// that uid; only a process that could open that file for writing hands out koids tagged with
// that uid. A process takes a batch from it under flock(LOCK_NB), never waiting for the lock, and
// hands the batch out from memory; the first batch of a process is small, later ones grow, so
// short-lived processes use little of their uid's range. Whenever the file is missing, is not
// exactly what this process would have created (a symlink, another owner, group or other access,
// more than one link), is locked for too long, or its range is used up, the batch comes from the
// random fallback instead. Koid 0 (MX_KOID_INVALID) is never returned.
// Thread-safe; no lock another process can hold is ever waited for.
#pragma once

#include <magenta/types.h>

namespace mx::internal {

mx_koid_t AllocateKoid();
// After fork(), in the child: forget the parent's reserved batch.
void ResetKoidStateInChild();

}  // namespace mx::internal
