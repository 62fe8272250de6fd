// <magenta/rights.h>: the default rights of each object type.
#pragma once

#include <magenta/types.h>

// clang-format off
#define MX_DEFAULT_CHANNEL_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_WRITE | MX_RIGHT_READ | MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER)

#define MX_DEFAULT_EVENT_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL)

#define MX_DEFAULT_EVENTPAIR_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL | \
     MX_RIGHT_SIGNAL_PEER)

// libmx process handles: waitable and killable in the spawning process. They do not carry
// TRANSFER: on Linux only the parent can collect a child's exit status (see docs/processes.md).
#define MX_DEFAULT_PROCESS_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_GET_PROPERTY)
// clang-format on
