// SPDX-License-Identifier: BSD-3-Clause
// Diagnostics for conditions a user cannot otherwise see (a peer broke the protocol, a resource
// ran out). Off unless the environment variable MX_DEBUG is set; then one line on stderr each.
#pragma once

namespace mx::internal {

bool DebugEnabled();
void DebugLog(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mx::internal
