// SPDX-License-Identifier: BSD-3-Clause
// C11 compile-and-run check of the public C ABI.
//
// Built as strict C11 (-std=c11 -pedantic -Wall -Wextra -Werror): every <magenta/*.h> header must
// compile as C, and the ABI facts of A.1/A.2 (type sizes, struct layouts, and the numeric
// value of every status, signal, right, limit, object type, info topic, clock, port constant and
// PA_HND) are checked at compile time. main() then links against libmx and round-trips one
// message through a channel: it returns 0 only if every call returned MX_OK.

#include <magenta/compiler.h>
#include <magenta/errors.h>
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/processargs.h>
#include <magenta/rights.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>
#include <magenta/syscalls/object.h>
#include <magenta/syscalls/port.h>
#include <magenta/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond) _Static_assert(cond, #cond)

// ---- A.1 types ----------------------------------------------------------------------------------

CHECK(sizeof(mx_handle_t) == 4);
CHECK((mx_handle_t)-1 < 0);
CHECK(MX_HANDLE_INVALID == 0);
CHECK(sizeof(mx_status_t) == 4);
CHECK((mx_status_t)-1 < 0);
CHECK(sizeof(mx_time_t) == 8);
CHECK((mx_time_t)-1 > 0);
CHECK(sizeof(mx_duration_t) == 8);
CHECK((mx_duration_t)-1 > 0);
CHECK(MX_TIME_INFINITE == UINT64_MAX);
CHECK(MX_USEC(3) == 3000ULL);
CHECK(MX_MSEC(3) == 3000000ULL);
CHECK(MX_SEC(3) == 3000000000ULL);
CHECK(sizeof(mx_signals_t) == 4);
CHECK((mx_signals_t)-1 > 0);
CHECK(sizeof(mx_rights_t) == 4);
CHECK((mx_rights_t)-1 > 0);
CHECK(sizeof(mx_txid_t) == 4);
CHECK((mx_txid_t)-1 > 0);
CHECK(sizeof(mx_koid_t) == 8);
CHECK((mx_koid_t)-1 > 0);
CHECK(MX_KOID_INVALID == 0);

CHECK(sizeof(mx_channel_call_args_t) == 48);
CHECK(offsetof(mx_channel_call_args_t, wr_bytes) == 0);
CHECK(offsetof(mx_channel_call_args_t, wr_handles) == 8);
CHECK(offsetof(mx_channel_call_args_t, rd_bytes) == 16);
CHECK(offsetof(mx_channel_call_args_t, rd_handles) == 24);
CHECK(offsetof(mx_channel_call_args_t, wr_num_bytes) == 32);
CHECK(offsetof(mx_channel_call_args_t, wr_num_handles) == 36);
CHECK(offsetof(mx_channel_call_args_t, rd_num_bytes) == 40);
CHECK(offsetof(mx_channel_call_args_t, rd_num_handles) == 44);

CHECK(sizeof(mx_wait_item_t) == 12);
CHECK(offsetof(mx_wait_item_t, handle) == 0);
CHECK(offsetof(mx_wait_item_t, waitfor) == 4);
CHECK(offsetof(mx_wait_item_t, pending) == 8);

CHECK(sizeof(mx_info_handle_basic_t) == 32);
CHECK(offsetof(mx_info_handle_basic_t, koid) == 0);
CHECK(offsetof(mx_info_handle_basic_t, rights) == 8);
CHECK(offsetof(mx_info_handle_basic_t, type) == 12);
CHECK(offsetof(mx_info_handle_basic_t, related_koid) == 16);
CHECK(offsetof(mx_info_handle_basic_t, props) == 24);

CHECK(sizeof(mx_port_packet_t) == 48);
CHECK(offsetof(mx_port_packet_t, key) == 0);
CHECK(offsetof(mx_port_packet_t, type) == 8);
CHECK(offsetof(mx_port_packet_t, status) == 12);
CHECK(offsetof(mx_port_packet_t, user) == 16);
CHECK(offsetof(mx_port_packet_t, signal) == 16);
CHECK(offsetof(mx_port_packet_t, exception) == 16);
CHECK(sizeof(mx_packet_user_t) == 32);
CHECK(sizeof(mx_packet_signal_t) == 16);
CHECK(offsetof(mx_packet_signal_t, trigger) == 0);
CHECK(offsetof(mx_packet_signal_t, observed) == 4);
CHECK(offsetof(mx_packet_signal_t, count) == 8);
CHECK(sizeof(mx_packet_exception_t) == 32);

CHECK(sizeof(mx_spawn_handle_t) == 8);
CHECK(offsetof(mx_spawn_handle_t, info) == 0);
CHECK(offsetof(mx_spawn_handle_t, handle) == 4);

// ---- A.2 status codes ---------------------------------------------------------------------------

CHECK(MX_OK == 0);
CHECK(MX_ERR_INTERNAL == -1);
CHECK(MX_ERR_NOT_SUPPORTED == -2);
CHECK(MX_ERR_NO_RESOURCES == -3);
CHECK(MX_ERR_NO_MEMORY == -4);
CHECK(MX_ERR_CALL_FAILED == -5);
CHECK(MX_ERR_INTERNAL_INTR_RETRY == -6);
CHECK(MX_ERR_INVALID_ARGS == -10);
CHECK(MX_ERR_BAD_HANDLE == -11);
CHECK(MX_ERR_WRONG_TYPE == -12);
CHECK(MX_ERR_BAD_SYSCALL == -13);
CHECK(MX_ERR_OUT_OF_RANGE == -14);
CHECK(MX_ERR_BUFFER_TOO_SMALL == -15);
CHECK(MX_ERR_BAD_STATE == -20);
CHECK(MX_ERR_TIMED_OUT == -21);
CHECK(MX_ERR_SHOULD_WAIT == -22);
CHECK(MX_ERR_CANCELED == -23);
CHECK(MX_ERR_PEER_CLOSED == -24);
CHECK(MX_ERR_NOT_FOUND == -25);
CHECK(MX_ERR_ALREADY_EXISTS == -26);
CHECK(MX_ERR_ALREADY_BOUND == -27);
CHECK(MX_ERR_UNAVAILABLE == -28);
CHECK(MX_ERR_ACCESS_DENIED == -30);
CHECK(MX_ERR_IO == -40);
CHECK(MX_ERR_IO_REFUSED == -41);
CHECK(MX_ERR_IO_DATA_INTEGRITY == -42);
CHECK(MX_ERR_IO_DATA_LOSS == -43);
CHECK(MX_ERR_BAD_PATH == -50);
CHECK(MX_ERR_NOT_DIR == -51);
CHECK(MX_ERR_NOT_FILE == -52);
CHECK(MX_ERR_FILE_BIG == -53);
CHECK(MX_ERR_NO_SPACE == -54);
CHECK(MX_ERR_STOP == -60);
CHECK(MX_ERR_NEXT == -61);
CHECK(MX_ERR_PROTOCOL_NOT_SUPPORTED == -70);
CHECK(MX_ERR_ADDRESS_UNREACHABLE == -71);
CHECK(MX_ERR_ADDRESS_IN_USE == -72);
CHECK(MX_ERR_NOT_CONNECTED == -73);
CHECK(MX_ERR_CONNECTION_REFUSED == -74);
CHECK(MX_ERR_CONNECTION_RESET == -75);
CHECK(MX_ERR_CONNECTION_ABORTED == -76);

// ---- A.2 signals --------------------------------------------------------------------------------

CHECK(MX_SIGNAL_NONE == 0u);
CHECK(MX_OBJECT_SIGNAL_ALL == 0x00ffffffu);
CHECK(MX_USER_SIGNAL_ALL == 0xff000000u);
CHECK(MX_OBJECT_SIGNAL_0 == 1u << 0);
CHECK(MX_OBJECT_SIGNAL_23 == 1u << 23);
CHECK(MX_CHANNEL_READABLE == 1u << 0);
CHECK(MX_CHANNEL_WRITABLE == 1u << 1);
CHECK(MX_CHANNEL_PEER_CLOSED == 1u << 2);
CHECK(MX_EVENT_SIGNALED == 1u << 3);
CHECK(MX_EPAIR_SIGNALED == 1u << 3);
CHECK(MX_EPAIR_PEER_CLOSED == 1u << 2);
CHECK(MX_PROCESS_TERMINATED == 1u << 3);
CHECK(MX_TASK_TERMINATED == 1u << 3);
CHECK(MX_SOCKET_READABLE == 1u << 0);
CHECK(MX_SOCKET_WRITABLE == 1u << 1);
CHECK(MX_SOCKET_PEER_CLOSED == 1u << 2);
CHECK(MX_PORT_READABLE == 1u << 0);
CHECK(MX_SIGNAL_LAST_HANDLE == 1u << 22);
CHECK(MX_SIGNAL_HANDLE_CLOSED == 1u << 23);
CHECK(MX_USER_SIGNAL_0 == 1u << 24);
CHECK(MX_USER_SIGNAL_1 == 1u << 25);
CHECK(MX_USER_SIGNAL_2 == 1u << 26);
CHECK(MX_USER_SIGNAL_3 == 1u << 27);
CHECK(MX_USER_SIGNAL_4 == 1u << 28);
CHECK(MX_USER_SIGNAL_5 == 1u << 29);
CHECK(MX_USER_SIGNAL_6 == 1u << 30);
CHECK(MX_USER_SIGNAL_7 == 1u << 31);
CHECK(MX_EVENT_SIGNAL_MASK == 0xff000008u);
CHECK(MX_EPAIR_SIGNAL_MASK == 0xff00000cu);
// A fresh channel endpoint reads WRITABLE|LAST_HANDLE (A.3).
CHECK((MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE) == 0x400002u);

// ---- A.2 rights ---------------------------------------------------------------------------------

CHECK(MX_RIGHT_NONE == 0u);
CHECK(MX_RIGHT_DUPLICATE == 1u << 0);
CHECK(MX_RIGHT_TRANSFER == 1u << 1);
CHECK(MX_RIGHT_READ == 1u << 2);
CHECK(MX_RIGHT_WRITE == 1u << 3);
CHECK(MX_RIGHT_EXECUTE == 1u << 4);
CHECK(MX_RIGHT_MAP == 1u << 5);
CHECK(MX_RIGHT_GET_PROPERTY == 1u << 6);
CHECK(MX_RIGHT_SET_PROPERTY == 1u << 7);
CHECK(MX_RIGHT_ENUMERATE == 1u << 8);
CHECK(MX_RIGHT_DESTROY == 1u << 9);
CHECK(MX_RIGHT_SET_POLICY == 1u << 10);
CHECK(MX_RIGHT_GET_POLICY == 1u << 11);
CHECK(MX_RIGHT_SIGNAL == 1u << 12);
CHECK(MX_RIGHT_SIGNAL_PEER == 1u << 13);
CHECK(MX_RIGHT_SAME_RIGHTS == 1u << 31);
CHECK(MX_DEFAULT_CHANNEL_RIGHTS == 0x300Eu);
CHECK((MX_DEFAULT_CHANNEL_RIGHTS & MX_RIGHT_DUPLICATE) == 0u);
CHECK(MX_DEFAULT_EVENT_RIGHTS == 0x100Fu);
CHECK(MX_DEFAULT_EVENTPAIR_RIGHTS == 0x300Fu);
// B.2: libmx process handles cannot be transferred.
CHECK((MX_DEFAULT_PROCESS_RIGHTS & MX_RIGHT_TRANSFER) == 0u);
CHECK((MX_DEFAULT_PROCESS_RIGHTS & (MX_RIGHT_READ | MX_RIGHT_WRITE)) ==
      (MX_RIGHT_READ | MX_RIGHT_WRITE));

// ---- A.2 limits, object types, info topics, clocks ----------------------------------------------

CHECK(MX_CHANNEL_MAX_MSG_BYTES == 65536u);
CHECK(MX_CHANNEL_MAX_MSG_HANDLES == 64u);
CHECK(MX_CHANNEL_READ_MAY_DISCARD == 1u);
CHECK(MX_WAIT_MANY_MAX_ITEMS == 1024u);
CHECK(MX_MAX_NAME_LEN == 32);

CHECK(MX_OBJ_TYPE_NONE == 0);
CHECK(MX_OBJ_TYPE_PROCESS == 1);
CHECK(MX_OBJ_TYPE_THREAD == 2);
CHECK(MX_OBJ_TYPE_VMO == 3);
CHECK(MX_OBJ_TYPE_CHANNEL == 4);
CHECK(MX_OBJ_TYPE_EVENT == 5);
CHECK(MX_OBJ_TYPE_PORT == 6);
CHECK(MX_OBJ_TYPE_SOCKET == 14);
CHECK(MX_OBJ_TYPE_RESOURCE == 15);
CHECK(MX_OBJ_TYPE_EVENT_PAIR == 16);
CHECK(MX_OBJ_TYPE_JOB == 17);
CHECK(MX_OBJ_TYPE_VMAR == 18);
CHECK(MX_OBJ_TYPE_FIFO == 19);
CHECK(MX_OBJ_TYPE_TIMER == 22);
CHECK(MX_OBJ_PROP_NONE == 0);
CHECK(MX_OBJ_PROP_WAITABLE == 1);
// B.3: the fd type sits outside Magenta's range.
CHECK(MX_OBJ_TYPE_FD == 0x10000u);
CHECK(MX_OBJ_TYPE_FD > (uint32_t)MX_OBJ_TYPE_LAST);
CHECK(MX_DEFAULT_FD_RIGHTS ==
      (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE));

CHECK(MX_INFO_NONE == 0);
CHECK(MX_INFO_HANDLE_VALID == 1);
CHECK(MX_INFO_HANDLE_BASIC == 2);
CHECK(MX_INFO_PROCESS == 3);

CHECK(MX_CLOCK_MONOTONIC == 0u);
CHECK(MX_CLOCK_UTC == 1u);
CHECK(MX_CLOCK_THREAD == 2u);

// ---- A.2 ports ----------------------------------------------------------------------------------

CHECK(MX_WAIT_ASYNC_ONCE == 0u);
CHECK(MX_WAIT_ASYNC_REPEATING == 1u);
CHECK(MX_PKT_TYPE_USER == 0u);
CHECK(MX_PKT_TYPE_SIGNAL_ONE == 1u);
CHECK(MX_PKT_TYPE_SIGNAL_REP == 2u);
CHECK(MX_PKT_TYPE_EXCEPTION(0) == 3u);
CHECK(MX_PKT_TYPE_EXCEPTION(2) == 0x203u);
CHECK(MX_PKT_TYPE_MASK == 0xFFu);
CHECK(MX_PKT_IS_USER(MX_PKT_TYPE_USER));
CHECK(MX_PKT_IS_SIGNAL_ONE(MX_PKT_TYPE_SIGNAL_ONE));
CHECK(MX_PKT_IS_SIGNAL_REP(MX_PKT_TYPE_SIGNAL_REP));
CHECK(MX_PKT_IS_EXCEPTION(MX_PKT_TYPE_EXCEPTION(7)));
CHECK(!MX_PKT_IS_EXCEPTION(MX_PKT_TYPE_SIGNAL_ONE));

// ---- A.2 processargs ----------------------------------------------------------------------------

CHECK(PA_USER0 == 0xF0u);
CHECK(PA_USER1 == 0xF1u);
CHECK(PA_USER2 == 0xF2u);
CHECK(PA_PROC_SELF == 0x01u);
CHECK(PA_SVC_LOADER == 0x10u);
CHECK(PA_MXIO_ROOT == 0x30u);
CHECK(PA_HND(PA_USER0, 0u) == 0xF0u);
CHECK(PA_HND(PA_USER1, 3u) == 0x000300F1u);
CHECK(PA_HND(PA_USER2, 0xFFFFu) == 0xFFFF00F2u);
// Out-of-range fields are masked, not carried into the neighbouring field.
CHECK(PA_HND(0x1F2u, 0x10005u) == 0x000500F2u);
CHECK(PA_HND_TYPE(PA_HND(PA_USER1, 7u)) == PA_USER1);
CHECK(PA_HND_ARG(PA_HND(PA_USER1, 7u)) == 7u);

// ---- <magenta/compiler.h> -----------------------------------------------------------------------

typedef struct {
  int three[3];
} countof_probe_t;
CHECK(countof(((countof_probe_t*)0)->three) == 3);

// __UNUSED must be accepted on a parameter.
static int zero(int ignored __UNUSED) { return 0; }

static int report(const char* what, mx_status_t status) {
  if (status != MX_OK) fprintf(stderr, "c_compile_test: %s returned %d\n", what, (int)status);
  return status == MX_OK ? 0 : 1;
}

int main(void) {
  int failures = zero(1);
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
  failures += report("mx_channel_create", mx_channel_create(0, &a, &b));
  if (failures != 0) return 1;

  const uint8_t out[4] = {0xde, 0xad, 0xbe, 0xef};
  failures += report("mx_channel_write", mx_channel_write(a, 0, out, sizeof(out), NULL, 0));

  uint8_t in[8] = {0};
  uint32_t actual_bytes = 99;
  uint32_t actual_handles = 99;
  failures += report("mx_channel_read", mx_channel_read(b, 0, in, NULL, sizeof(in), 0,
                                                        &actual_bytes, &actual_handles));
  if (actual_bytes != sizeof(out) || actual_handles != 0 || memcmp(in, out, sizeof(out)) != 0) {
    fprintf(stderr, "c_compile_test: read %u bytes / %u handles, wrong contents\n",
            (unsigned)actual_bytes, (unsigned)actual_handles);
    ++failures;
  }

  failures += report("mx_handle_close(a)", mx_handle_close(a));
  failures += report("mx_handle_close(b)", mx_handle_close(b));
  return failures == 0 ? 0 : 1;
}
