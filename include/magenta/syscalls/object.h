// SPDX-License-Identifier: BSD-3-Clause
// <magenta/syscalls/object.h>: object types, properties and mx_object_get_info topics/records.
#pragma once

#include <magenta/types.h>

__BEGIN_CDECLS

// clang-format off

// Valid topics for mx_object_get_info.
typedef enum {
    MX_INFO_NONE                       = 0,
    MX_INFO_HANDLE_VALID               = 1,
    MX_INFO_HANDLE_BASIC               = 2,  // mx_info_handle_basic_t[1]
    MX_INFO_PROCESS                    = 3,  // mx_info_process_t[1]
    MX_INFO_PROCESS_THREADS            = 4,
    MX_INFO_VMAR                       = 7,
    MX_INFO_JOB_CHILDREN               = 8,
    MX_INFO_JOB_PROCESSES              = 9,
    MX_INFO_THREAD                     = 10,
    MX_INFO_THREAD_EXCEPTION_REPORT    = 11,
    MX_INFO_TASK_STATS                 = 12,
    MX_INFO_PROCESS_MAPS               = 13,
    MX_INFO_PROCESS_VMOS               = 14,
    MX_INFO_THREAD_STATS               = 15,
    MX_INFO_CPU_STATS                  = 16,
    MX_INFO_KMEM_STATS                 = 17,
    MX_INFO_RESOURCE                   = 18,
    MX_INFO_LAST
} mx_object_info_topic_t;

typedef enum {
    MX_OBJ_TYPE_NONE                = 0,
    MX_OBJ_TYPE_PROCESS             = 1,
    MX_OBJ_TYPE_THREAD              = 2,
    MX_OBJ_TYPE_VMO                 = 3,
    MX_OBJ_TYPE_CHANNEL             = 4,
    MX_OBJ_TYPE_EVENT               = 5,
    MX_OBJ_TYPE_PORT                = 6,
    MX_OBJ_TYPE_INTERRUPT           = 9,
    MX_OBJ_TYPE_PCI_DEVICE          = 11,
    MX_OBJ_TYPE_LOG                 = 12,
    MX_OBJ_TYPE_SOCKET              = 14,
    MX_OBJ_TYPE_RESOURCE            = 15,
    MX_OBJ_TYPE_EVENT_PAIR          = 16,
    MX_OBJ_TYPE_JOB                 = 17,
    MX_OBJ_TYPE_VMAR                = 18,
    MX_OBJ_TYPE_FIFO                = 19,
    MX_OBJ_TYPE_GUEST               = 20,
    MX_OBJ_TYPE_VCPU                = 21,
    MX_OBJ_TYPE_TIMER               = 22,
    MX_OBJ_TYPE_LAST
} mx_obj_type_t;

typedef enum {
    MX_OBJ_PROP_NONE            = 0,
    MX_OBJ_PROP_WAITABLE        = 1,
} mx_obj_props_t;

typedef struct mx_info_handle_basic {
    mx_koid_t koid;          // the object's koid
    mx_rights_t rights;      // the rights of this handle
    uint32_t type;           // an mx_obj_type_t
    mx_koid_t related_koid;  // for a channel endpoint, its peer's koid; else 0
    uint32_t props;          // an mx_obj_props_t
} mx_info_handle_basic_t;

typedef struct mx_info_process {
    // The process's return code; only valid if |exited| is true.
    // A process killed by a signal reports -(signal number).
    int return_code;
    // True if the process has ever left the initial creation state.
    bool started;
    // True if the process has exited and |return_code| is valid.
    bool exited;
    // True if a debugger is attached to the process (always false on Linux).
    bool debugger_attached;
} mx_info_process_t;

// ---- Object properties (mx_object_get_property / mx_object_set_property), Magenta's values ----
// The value each one takes is given in brackets.

#define MX_PROP_NUM_STATE_KINDS             2u  // [uint32_t]
#define MX_PROP_NAME                        3u  // [char[MX_MAX_NAME_LEN]]
#if defined(__x86_64__)
#define MX_PROP_REGISTER_FS                 4u  // [uintptr_t] x86-64 only, as in Magenta
#endif
#define MX_PROP_PROCESS_DEBUG_ADDR          5u  // [uintptr_t] the dynamic linker's debug address
#define MX_PROP_PROCESS_VDSO_BASE_ADDRESS   6u  // [uintptr_t] where the vDSO is mapped, or 0
#define MX_PROP_JOB_MAX_HEIGHT              7u  // [uint32_t] generations of child jobs allowed

// ---- End of object properties ----

// clang-format on

__END_CDECLS
