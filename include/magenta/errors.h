// SPDX-License-Identifier: BSD-3-Clause
// <magenta/errors.h>: status codes, numerically identical to the final Magenta tree (2017-09),
// every one of its codes and no other. mx_status_get_string (<magenta/status.h>) names them.
#pragma once

#define MX_OK (0)

#define MX_ERR_INTERNAL (-1)
#define MX_ERR_NOT_SUPPORTED (-2)
#define MX_ERR_NO_RESOURCES (-3)
#define MX_ERR_NO_MEMORY (-4)
#define MX_ERR_CALL_FAILED (-5)
#define MX_ERR_INTERNAL_INTR_RETRY (-6)

#define MX_ERR_INVALID_ARGS (-10)
#define MX_ERR_BAD_HANDLE (-11)
#define MX_ERR_WRONG_TYPE (-12)
#define MX_ERR_BAD_SYSCALL (-13)
#define MX_ERR_OUT_OF_RANGE (-14)
#define MX_ERR_BUFFER_TOO_SMALL (-15)

#define MX_ERR_BAD_STATE (-20)
#define MX_ERR_TIMED_OUT (-21)
#define MX_ERR_SHOULD_WAIT (-22)
#define MX_ERR_CANCELED (-23)
#define MX_ERR_PEER_CLOSED (-24)
#define MX_ERR_NOT_FOUND (-25)
#define MX_ERR_ALREADY_EXISTS (-26)
#define MX_ERR_ALREADY_BOUND (-27)
#define MX_ERR_UNAVAILABLE (-28)

#define MX_ERR_ACCESS_DENIED (-30)

#define MX_ERR_IO (-40)
#define MX_ERR_IO_REFUSED (-41)
#define MX_ERR_IO_DATA_INTEGRITY (-42)
#define MX_ERR_IO_DATA_LOSS (-43)
#define MX_ERR_IO_NOT_PRESENT (-44)
#define MX_ERR_IO_OVERRUN (-45)
#define MX_ERR_IO_MISSED_DEADLINE (-46)

#define MX_ERR_BAD_PATH (-50)
#define MX_ERR_NOT_DIR (-51)
#define MX_ERR_NOT_FILE (-52)
#define MX_ERR_FILE_BIG (-53)
#define MX_ERR_NO_SPACE (-54)
#define MX_ERR_NOT_EMPTY (-55)

#define MX_ERR_STOP (-60)
#define MX_ERR_NEXT (-61)

#define MX_ERR_PROTOCOL_NOT_SUPPORTED (-70)
#define MX_ERR_ADDRESS_UNREACHABLE (-71)
#define MX_ERR_ADDRESS_IN_USE (-72)
#define MX_ERR_NOT_CONNECTED (-73)
#define MX_ERR_CONNECTION_REFUSED (-74)
#define MX_ERR_CONNECTION_RESET (-75)
#define MX_ERR_CONNECTION_ABORTED (-76)
