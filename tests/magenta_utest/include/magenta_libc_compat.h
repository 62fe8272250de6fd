// SPDX-License-Identifier: BSD-3-Clause
// What Magenta's C library (musl) gave its tests and glibc does not, included ahead of every
// Magenta test file by tools/magenta-utest.sh (-include): PAGE_SIZE from <limits.h>.
#pragma once

#ifndef PAGE_SIZE
#if defined(__x86_64__) || defined(__i386__)
#define PAGE_SIZE 4096
#else
#error "PAGE_SIZE: set it for this architecture (-DPAGE_SIZE=...)"
#endif
#endif
