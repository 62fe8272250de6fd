// SPDX-License-Identifier: BSD-3-Clause
// <mx/handle.h>: mx::handle, an owning, move-only wrapper for a handle of any type.
//
// mx::handle is mx::object<void> (see <mx/object.h>): get(), release(), reset(),
// reset_and_get_address(), is_valid(), explicit operator bool, duplicate(rights, &out),
// replace(rights, &out), wait_one(), signal(), signal_peer(), get_info(). Any typed wrapper
// (mx::channel, mx::event, ...) moves into an mx::handle; the typed wrappers take one back with
// their explicit `T(handle&&)` constructor.
//
// Ownership: exactly one handle, closed by the destructor. Thread-safety: as <mx/object.h>.
#pragma once

#include <mx/object.h>

namespace mx {

using handle = object<void>;
using unowned_handle = unowned<handle>;

}  // namespace mx
