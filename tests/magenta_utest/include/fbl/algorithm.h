// SPDX-License-Identifier: BSD-3-Clause
// <fbl/algorithm.h> stand-in for building Magenta's tests against libmx: fbl::count_of only.
#pragma once

#include <stddef.h>

namespace fbl {

template <typename T, size_t N>
constexpr size_t count_of(const T (&)[N]) {
  return N;
}

}  // namespace fbl
