// SPDX-License-Identifier: BSD-3-Clause
#include "transport/message.h"

#include <magenta/syscalls.h>

#include "os/doorbell.h"
#include "os/fd_check.h"
#include "transport/wire.h"

namespace mx::internal {

namespace {

// The doorbell among |raw|'s fds, or -1 for types without one (and for a handle whose doorbell
// was taken: it was rebuilt into an object, so it was not dropped).
int DoorbellOf(const RawHandle& raw) {
  size_t index = 0;
  if (raw.type == MX_OBJ_TYPE_EVENT && raw.fds.size() == kEventWireFds) {
    index = kEventWireDoorbell;
  } else if (raw.type == MX_OBJ_TYPE_EVENT_PAIR && raw.fds.size() == kEventPairWireFds) {
    index = kEventPairWireDoorbell;
  } else {
    return -1;
  }
  return raw.fds[index].get();
}

}  // namespace

RawHandle::~RawHandle() {
  const int doorbell = DoorbellOf(*this);
  if (doorbell < 0) return;
  // The token (and with it the handle lock, unless someone else keeps its description) goes
  // first; the ring then tells every holder to count again. A spurious ring costs a wake-up.
  for (UniqueFd& fd : fds) {
    if (fd.get() != doorbell) fd.reset();
  }
  // The fd came from whoever sent the handle: ring only what is a doorbell, as the object would
  // have checked before ringing it (Event::FromRaw, EventPairSide::FromRaw).
  if (IsDoorbell(doorbell)) RingDoorbell(doorbell);
}

}  // namespace mx::internal
