// SPDX-License-Identifier: BSD-3-Clause
// <magenta/compiler.h>: C/C++ portability macros used by the Magenta-compatible headers.
#pragma once

#ifdef __cplusplus
#define __BEGIN_CDECLS extern "C" {
#define __END_CDECLS }
#else
#define __BEGIN_CDECLS
#define __END_CDECLS
#endif

#ifndef __UNUSED
#define __UNUSED __attribute__((__unused__))
#endif

#ifndef __WARN_UNUSED_RESULT
#define __WARN_UNUSED_RESULT __attribute__((__warn_unused_result__))
#endif

#ifndef countof
#define countof(a) (sizeof(a) / sizeof((a)[0]))
#endif

// Marks the functions libmx exports; everything else in the library is hidden.
#define __MX_EXPORT __attribute__((__visibility__("default")))
