// SPDX-License-Identifier: BSD-3-Clause
// <fbl/type_support.h> stand-in for building Magenta's tests against libmx. The tests that
// include it use nothing from it; the standard <type_traits> and <utility> cover the rest.
#pragma once

#include <type_traits>
#include <utility>
