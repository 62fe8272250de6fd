// SPDX-License-Identifier: BSD-3-Clause
// <pretty/hexdump.h> stand-in for building Magenta's tests against libmx: hexdump8() prints
// |len| bytes of |ptr| as hex, sixteen to a line.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline void hexdump8(const void* ptr, size_t len) {
  const uint8_t* bytes = (const uint8_t*)ptr;
  for (size_t i = 0; i < len; i++)
    printf("%02x%s", bytes[i], (i % 16 == 15 || i + 1 == len) ? "\n" : " ");
}
