// SPDX-License-Identifier: BSD-3-Clause
// "bench.h" stand-in for building Magenta's VMO test against libmx. The benchmark it declares
// (`vmo bench`) lived in Magenta's bench.cpp and is not part of the unit tests; it is not built.
#pragma once

#include <stdio.h>

static inline int vmo_run_benchmark() {
  fprintf(stderr, "the Magenta VMO benchmark is not built against libmx\n");
  return -1;
}
