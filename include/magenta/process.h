// SPDX-License-Identifier: BSD-3-Clause
// <magenta/process.h>: the calling process and its startup handles.
#pragma once

#include <magenta/types.h>

__BEGIN_CDECLS

// Returns a handle to the calling process (type MX_OBJ_TYPE_PROCESS). The handle is owned by
// libmx and stays valid for the life of the process: do not close it. Returns MX_HANDLE_INVALID
// if the kernel lacks pidfd support.
__MX_EXPORT mx_handle_t mx_process_self(void);

// Returns a handle to the calling process's root address region (a VMAR), for mx_vmar_map and
// mx_vmar_unmap. Owned by libmx: do not close it.
__MX_EXPORT mx_handle_t mx_vmar_root_self(void);

// Takes the startup handle that the spawning process attached with |info| (a PA_HND value).
// Each handle is returned once; later calls, and unknown |info| values, return MX_HANDLE_INVALID.
__MX_EXPORT mx_handle_t mx_get_startup_handle(uint32_t info);

__END_CDECLS
