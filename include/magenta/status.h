// SPDX-License-Identifier: BSD-3-Clause
// <magenta/status.h>: status codes by name.
#pragma once

#include <magenta/compiler.h>
#include <magenta/types.h>

__BEGIN_CDECLS

// The name of |status| as <magenta/errors.h> spells it ("MX_OK", "MX_ERR_PEER_CLOSED", ...), or
// "(UNKNOWN)" for a value that is not a status code. The string is static; never NULL.
__MX_EXPORT const char* mx_status_get_string(mx_status_t status);

__END_CDECLS
