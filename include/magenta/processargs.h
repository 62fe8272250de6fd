// SPDX-License-Identifier: BSD-3-Clause
// <magenta/processargs.h>: how startup handles are labelled (PA_HND values), as in Magenta.
#pragma once

#include <magenta/types.h>

// clang-format off

// A startup handle's info word: its type in the low 8 bits, an argument in bits 16..31.
#define PA_HND(type, arg)           (((type) & 0xFF) | (((arg) & 0xFFFF) << 16))
#define PA_HND_TYPE(n)              ((n) & 0xFF)
#define PA_HND_ARG(n)               (((n) >> 16) & 0xFFFF)

// Handle types Magenta defined; libmx passes them through unchanged.
#define PA_PROC_SELF                0x01u
#define PA_THREAD_SELF              0x02u
#define PA_JOB_DEFAULT              0x03u
#define PA_VMAR_ROOT                0x04u
#define PA_VMAR_LOADED              0x05u
#define PA_SVC_LOADER               0x10u
#define PA_MXIO_ROOT                0x30u
#define PA_MXIO_CWD                 0x31u
#define PA_MXIO_REMOTE              0x32u
#define PA_MXIO_PIPE                0x33u
#define PA_MXIO_EVENT               0x34u
#define PA_MXIO_LOGGER              0x35u
#define PA_MXIO_SOCKET              0x36u
#define PA_APP_LAUNCHER             0x41u
#define PA_APP_SERVICES             0x43u

// Handle types for one-off use and prototyping.
#define PA_USER0                    0xF0u
#define PA_USER1                    0xF1u
#define PA_USER2                    0xF2u

// clang-format on
