// SPDX-License-Identifier: BSD-3-Clause
// <magenta/types.h>: the basic types, signals and rights of the Magenta ABI (final tree, 2017-09).
// Compiles as C11 and as C++.
#pragma once

#include <magenta/compiler.h>
#include <magenta/errors.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__BEGIN_CDECLS

// clang-format off

typedef int32_t mx_handle_t;
#define MX_HANDLE_INVALID           ((mx_handle_t)0)

typedef int32_t mx_status_t;

// Time in nanoseconds. Deadlines are absolute MX_CLOCK_MONOTONIC times.
typedef uint64_t mx_time_t;
typedef uint64_t mx_duration_t;
#define MX_TIME_INFINITE            UINT64_MAX
#define MX_USEC(n)                  ((mx_duration_t)(1000ULL * (n)))
#define MX_MSEC(n)                  ((mx_duration_t)(1000000ULL * (n)))
#define MX_SEC(n)                   ((mx_duration_t)(1000000000ULL * (n)))

typedef uint32_t mx_signals_t;

#define MX_SIGNAL_NONE              ((mx_signals_t)0u)
#define MX_OBJECT_SIGNAL_ALL        ((mx_signals_t)0x00ffffffu)
#define MX_USER_SIGNAL_ALL          ((mx_signals_t)0xff000000u)

#define MX_OBJECT_SIGNAL_0          ((mx_signals_t)1u << 0)
#define MX_OBJECT_SIGNAL_1          ((mx_signals_t)1u << 1)
#define MX_OBJECT_SIGNAL_2          ((mx_signals_t)1u << 2)
#define MX_OBJECT_SIGNAL_3          ((mx_signals_t)1u << 3)
#define MX_OBJECT_SIGNAL_4          ((mx_signals_t)1u << 4)
#define MX_OBJECT_SIGNAL_5          ((mx_signals_t)1u << 5)
#define MX_OBJECT_SIGNAL_6          ((mx_signals_t)1u << 6)
#define MX_OBJECT_SIGNAL_7          ((mx_signals_t)1u << 7)
#define MX_OBJECT_SIGNAL_8          ((mx_signals_t)1u << 8)
#define MX_OBJECT_SIGNAL_9          ((mx_signals_t)1u << 9)
#define MX_OBJECT_SIGNAL_10         ((mx_signals_t)1u << 10)
#define MX_OBJECT_SIGNAL_11         ((mx_signals_t)1u << 11)
#define MX_OBJECT_SIGNAL_12         ((mx_signals_t)1u << 12)
#define MX_OBJECT_SIGNAL_13         ((mx_signals_t)1u << 13)
#define MX_OBJECT_SIGNAL_14         ((mx_signals_t)1u << 14)
#define MX_OBJECT_SIGNAL_15         ((mx_signals_t)1u << 15)
#define MX_OBJECT_SIGNAL_16         ((mx_signals_t)1u << 16)
#define MX_OBJECT_SIGNAL_17         ((mx_signals_t)1u << 17)
#define MX_OBJECT_SIGNAL_18         ((mx_signals_t)1u << 18)
#define MX_OBJECT_SIGNAL_19         ((mx_signals_t)1u << 19)
#define MX_OBJECT_SIGNAL_20         ((mx_signals_t)1u << 20)
#define MX_OBJECT_SIGNAL_21         ((mx_signals_t)1u << 21)
#define MX_OBJECT_SIGNAL_22         ((mx_signals_t)1u << 22)
#define MX_OBJECT_SIGNAL_23         ((mx_signals_t)1u << 23)

#define MX_USER_SIGNAL_0            ((mx_signals_t)1u << 24)
#define MX_USER_SIGNAL_1            ((mx_signals_t)1u << 25)
#define MX_USER_SIGNAL_2            ((mx_signals_t)1u << 26)
#define MX_USER_SIGNAL_3            ((mx_signals_t)1u << 27)
#define MX_USER_SIGNAL_4            ((mx_signals_t)1u << 28)
#define MX_USER_SIGNAL_5            ((mx_signals_t)1u << 29)
#define MX_USER_SIGNAL_6            ((mx_signals_t)1u << 30)
#define MX_USER_SIGNAL_7            ((mx_signals_t)1u << 31)

// Asserted while exactly one handle to the object exists (handles in messages count).
#define MX_SIGNAL_LAST_HANDLE       MX_OBJECT_SIGNAL_22
// Synthetic: reported by a wait whose handle left the table during the wait.
#define MX_SIGNAL_HANDLE_CLOSED     MX_OBJECT_SIGNAL_23

// Event
#define MX_EVENT_SIGNALED           MX_OBJECT_SIGNAL_3
#define MX_EVENT_SIGNAL_MASK        (MX_USER_SIGNAL_ALL | MX_OBJECT_SIGNAL_3)

// EventPair
#define MX_EPAIR_SIGNALED           MX_OBJECT_SIGNAL_3
#define MX_EPAIR_PEER_CLOSED        MX_OBJECT_SIGNAL_2
#define MX_EPAIR_SIGNAL_MASK        (MX_USER_SIGNAL_ALL | MX_OBJECT_SIGNAL_2 | MX_OBJECT_SIGNAL_3)

// Channel
#define MX_CHANNEL_READABLE         MX_OBJECT_SIGNAL_0
#define MX_CHANNEL_WRITABLE         MX_OBJECT_SIGNAL_1
#define MX_CHANNEL_PEER_CLOSED      MX_OBJECT_SIGNAL_2

// Socket
#define MX_SOCKET_READABLE          MX_OBJECT_SIGNAL_0
#define MX_SOCKET_WRITABLE          MX_OBJECT_SIGNAL_1
#define MX_SOCKET_PEER_CLOSED       MX_OBJECT_SIGNAL_2

// Port
#define MX_PORT_READABLE            MX_OBJECT_SIGNAL_0

// Fifo
#define MX_FIFO_READABLE            MX_OBJECT_SIGNAL_0
#define MX_FIFO_WRITABLE            MX_OBJECT_SIGNAL_1
#define MX_FIFO_PEER_CLOSED         MX_OBJECT_SIGNAL_2

// Task signals (process)
#define MX_TASK_TERMINATED          MX_OBJECT_SIGNAL_3
#define MX_TASK_SIGNAL_MASK         MX_OBJECT_SIGNAL_3
#define MX_PROCESS_TERMINATED       MX_OBJECT_SIGNAL_3

// Global kernel object id: unique across all processes of the machine while the object lives.
typedef uint64_t mx_koid_t;
#define MX_KOID_INVALID             ((uint64_t)0)
#define MX_KOID_KERNEL              ((uint64_t)1)

typedef uint32_t mx_txid_t;

typedef struct {
    const void* wr_bytes;
    const mx_handle_t* wr_handles;
    void* rd_bytes;
    mx_handle_t* rd_handles;
    uint32_t wr_num_bytes;
    uint32_t wr_num_handles;
    uint32_t rd_num_bytes;
    uint32_t rd_num_handles;
} mx_channel_call_args_t;

typedef struct {
    mx_handle_t handle;
    mx_signals_t waitfor;
    mx_signals_t pending;
} mx_wait_item_t;

#define MX_WAIT_MANY_MAX_ITEMS      1024u

typedef uint32_t mx_rights_t;
#define MX_RIGHT_NONE               ((mx_rights_t)0u)
#define MX_RIGHT_DUPLICATE          ((mx_rights_t)1u << 0)
#define MX_RIGHT_TRANSFER           ((mx_rights_t)1u << 1)
#define MX_RIGHT_READ               ((mx_rights_t)1u << 2)
#define MX_RIGHT_WRITE              ((mx_rights_t)1u << 3)
#define MX_RIGHT_EXECUTE            ((mx_rights_t)1u << 4)
#define MX_RIGHT_MAP                ((mx_rights_t)1u << 5)
#define MX_RIGHT_GET_PROPERTY       ((mx_rights_t)1u << 6)
#define MX_RIGHT_SET_PROPERTY       ((mx_rights_t)1u << 7)
#define MX_RIGHT_ENUMERATE          ((mx_rights_t)1u << 8)
#define MX_RIGHT_DESTROY            ((mx_rights_t)1u << 9)
#define MX_RIGHT_SET_POLICY         ((mx_rights_t)1u << 10)
#define MX_RIGHT_GET_POLICY         ((mx_rights_t)1u << 11)
#define MX_RIGHT_SIGNAL             ((mx_rights_t)1u << 12)
#define MX_RIGHT_SIGNAL_PEER        ((mx_rights_t)1u << 13)
#define MX_RIGHT_SAME_RIGHTS        ((mx_rights_t)1u << 31)

// Channel options and limits (both limits inclusive).
#define MX_CHANNEL_READ_MAY_DISCARD 1u
#define MX_CHANNEL_MAX_MSG_BYTES    65536u
#define MX_CHANNEL_MAX_MSG_HANDLES  64u

// flags to vmar routines
#define MX_VM_FLAG_PERM_READ          (1u << 0)
#define MX_VM_FLAG_PERM_WRITE         (1u << 1)
#define MX_VM_FLAG_PERM_EXECUTE       (1u << 2)
#define MX_VM_FLAG_COMPACT            (1u << 3)
#define MX_VM_FLAG_SPECIFIC           (1u << 4)
#define MX_VM_FLAG_SPECIFIC_OVERWRITE (1u << 5)
#define MX_VM_FLAG_CAN_MAP_SPECIFIC   (1u << 6)
#define MX_VM_FLAG_CAN_MAP_READ       (1u << 7)
#define MX_VM_FLAG_CAN_MAP_WRITE      (1u << 8)
#define MX_VM_FLAG_CAN_MAP_EXECUTE    (1u << 9)
// libmx: refuse to map a VMO that any holder could still resize (Zircon's
// ZX_VM_FLAG_REQUIRE_NON_RESIZABLE). Zircon used bit 11, which Magenta had given to
// MX_VM_FLAG_ALLOC_BASE (and bit 10 to MX_VM_FLAG_MAP_RANGE), so libmx takes the next free bit.
#define MX_VM_FLAG_REQUIRE_NON_RESIZABLE (1u << 12)

// mx_vmo_create options. libmx: a VMO whose size no holder can ever change, so no mapping of it
// can lose pages (Zircon's ZX_VMO_NON_RESIZABLE). Without it a VMO is resizable, as in Magenta.
#define MX_VMO_NON_RESIZABLE          (1u << 0)

// clock ids
#define MX_CLOCK_MONOTONIC          (0u)
#define MX_CLOCK_UTC                (1u)
#define MX_CLOCK_THREAD             (2u)

typedef uintptr_t mx_vaddr_t;
typedef uintptr_t mx_paddr_t;
typedef uint64_t mx_off_t;
typedef int64_t mx_rel_off_t;

#define MX_MAX_NAME_LEN             (32)

// ---- Constants of Magenta's calls (values as in the final Magenta tree) ----
// Only the constants: each call that takes them documents which it implements (docs/).

// mx_cprng_draw: the most bytes one call draws.
#define MX_CPRNG_DRAW_MAX_LEN         256
#define MX_CPRNG_ADD_ENTROPY_MAX_LEN  256

// Socket signals.
#define MX_SOCKET_READ_DISABLED       MX_OBJECT_SIGNAL_4
#define MX_SOCKET_WRITE_DISABLED      MX_OBJECT_SIGNAL_5
#define MX_SOCKET_CONTROL_READABLE    MX_OBJECT_SIGNAL_6
#define MX_SOCKET_CONTROL_WRITABLE    MX_OBJECT_SIGNAL_7

// Socket options: mx_socket_write() (shutdown) ...
#define MX_SOCKET_SHUTDOWN_WRITE      (1u << 0)
#define MX_SOCKET_SHUTDOWN_READ       (1u << 1)
#define MX_SOCKET_SHUTDOWN_MASK       (MX_SOCKET_SHUTDOWN_WRITE | MX_SOCKET_SHUTDOWN_READ)
// ... mx_socket_create() ...
#define MX_SOCKET_STREAM              (0u << 0)
#define MX_SOCKET_DATAGRAM            (1u << 0)
#define MX_SOCKET_HAS_CONTROL         (1u << 1)
#define MX_SOCKET_CREATE_MASK         (MX_SOCKET_DATAGRAM | MX_SOCKET_HAS_CONTROL)
// ... mx_socket_read() and mx_socket_write().
#define MX_SOCKET_CONTROL             (1u << 2)

// mx_vmo_op_range() opcodes.
#define MX_VMO_OP_COMMIT                 1u
#define MX_VMO_OP_DECOMMIT               2u
#define MX_VMO_OP_LOCK                   3u
#define MX_VMO_OP_UNLOCK                 4u
#define MX_VMO_OP_LOOKUP                 5u
#define MX_VMO_OP_CACHE_SYNC             6u
#define MX_VMO_OP_CACHE_INVALIDATE       7u
#define MX_VMO_OP_CACHE_CLEAN            8u
#define MX_VMO_OP_CACHE_CLEAN_INVALIDATE 9u

// mx_vmo_clone() options.
#define MX_VMO_CLONE_COPY_ON_WRITE       1u

// Cache policies (mx_vmo_set_cache_policy()).
typedef enum {
    MX_CACHE_POLICY_CACHED          = 0,
    MX_CACHE_POLICY_UNCACHED        = 1,
    MX_CACHE_POLICY_UNCACHED_DEVICE = 2,
    MX_CACHE_POLICY_WRITE_COMBINING = 3,

    MX_CACHE_POLICY_MASK            = 0x3,
} mx_cache_policy_t;

// ---- End of the constants of Magenta's calls ----

// clang-format on

__END_CDECLS
