// SPDX-License-Identifier: BSD-3-Clause
// Rebuilding a handle that arrived from another process (a RawHandle from a message or the
// startup frame), by the object type it names: one entry per transferable type (channel
// endpoint, fd, VMO, socket, event, eventpair side) in handle_from_raw.cc, beside the objects'
// own FromRaw.
//
// Thread-safe: no shared state.
#pragma once

#include <magenta/types.h>

#include <memory>

#include "object/object.h"
#include "transport/message.h"

namespace mx::internal {

// Builds a Handle for |raw|, with the rights the sender claimed cut down to what the type can
// carry. MX_ERR_IO: |raw| is malformed or of a type that cannot travel (its fds are closed).
// NO_RESOURCES / NO_MEMORY: the object could not be rebuilt (its fds are closed too).
mx_status_t HandleFromRaw(RawHandle raw, std::unique_ptr<Handle>* out);

// True if rebuilding |raw| needs resources beyond the fds it carries (an event opens a file
// description and maps its page; an endpoint with rings or a queue maps and reads them), so
// that a reader must rebuild it before taking the message (api/materialize.h).
bool RebuildNeedsNewResources(const RawHandle& raw);

}  // namespace mx::internal
