// SPDX-License-Identifier: BSD-3-Clause
// <magenta/version.h>: the libmx release this header belongs to.
//
// The one place the version is written down: CMake reads the three numbers from this file for the
// shared library's soname, the CMake package version, mx.pc and the Debian package. Semantic
// versioning; while MX_VERSION_MAJOR is 0, a change of MX_VERSION_MINOR may break the API or ABI.
// Plain macros, usable from C11, C++ and the preprocessor (#if MX_VERSION_MINOR >= 2).
#pragma once

#define MX_VERSION_MAJOR 0
#define MX_VERSION_MINOR 2
#define MX_VERSION_PATCH 0
#define MX_VERSION_STRING "0.2.0"
