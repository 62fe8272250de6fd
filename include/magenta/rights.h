// SPDX-License-Identifier: BSD-3-Clause
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

// Magenta's VMO rights (MAP is what mx_vmar_map needs). libmx VMOs have no signals, so SIGNAL
// is carried for source compatibility only (mx_object_signal on a VMO is NOT_SUPPORTED).
#define MX_DEFAULT_VMO_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_EXECUTE | \
     MX_RIGHT_MAP | MX_RIGHT_GET_PROPERTY | MX_RIGHT_SET_PROPERTY | MX_RIGHT_SIGNAL)

#define MX_DEFAULT_SOCKET_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL | \
     MX_RIGHT_SIGNAL_PEER)

#define MX_DEFAULT_FIFO_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL | \
     MX_RIGHT_SIGNAL_PEER)

// Magenta's spelling of the same constant.
#define MX_DEFAULT_EVENT_PAIR_RIGHTS MX_DEFAULT_EVENTPAIR_RIGHTS

// libmx process handles: waitable and killable in the spawning process. They do not carry
// TRANSFER: on Linux only the parent can collect a child's exit status (see docs/processes.md).
#define MX_DEFAULT_PROCESS_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_GET_PROPERTY)
// clang-format on

// libmx ports are process-local: no TRANSFER.
#define MX_DEFAULT_PORT_RIGHTS (MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE)
