// SPDX-License-Identifier: BSD-3-Clause
// MX_DCHECK(condition): an invariant of the library's own state. In a build without NDEBUG (the
// debug and sanitizer presets) a false condition prints file:line and the condition on stderr
// and aborts; with NDEBUG (release) the condition is not evaluated and no code is left.
//
// Only for what this process itself guarantees: what arrives from a peer is never asserted, it
// is validated (transport/wire.h, os/fd_check.h), and a violation breaks the channel instead.
#pragma once

namespace mx::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);

}  // namespace mx::internal

#if defined(NDEBUG)
#define MX_DCHECK(condition) static_cast<void>(sizeof(!(condition)))
#else
#define MX_DCHECK(condition)                                                                       \
  (__builtin_expect(!(condition), 0) ? ::mx::internal::CheckFailed(__FILE__, __LINE__, #condition) \
                                     : static_cast<void>(0))
#endif
