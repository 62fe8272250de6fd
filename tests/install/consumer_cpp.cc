// SPDX-License-Identifier: BSD-3-Clause
// An external C++17 program using the installed <mx/channel.h> wrappers (tests/install/check.sh).
#include <mx/channel.h>

#include <cstdio>
#include <cstring>

int main() {
  mx::channel a;
  mx::channel b;
  if (mx_status_t s = mx::channel::create(0, &a, &b); s != MX_OK) {
    std::fprintf(stderr, "consumer_cpp: create = %d\n", s);
    return 1;
  }

  static constexpr char kMessage[] = "hello from mx::channel";
  if (mx_status_t s = a.write(0, kMessage, sizeof(kMessage), nullptr, 0); s != MX_OK) {
    std::fprintf(stderr, "consumer_cpp: write = %d\n", s);
    return 1;
  }

  char buffer[64];
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  if (mx_status_t s = b.read(0, buffer, sizeof(buffer), &actual_bytes, nullptr, 0, &actual_handles);
      s != MX_OK) {
    std::fprintf(stderr, "consumer_cpp: read = %d\n", s);
    return 1;
  }
  if (actual_bytes != sizeof(kMessage) || std::memcmp(buffer, kMessage, sizeof(kMessage)) != 0) {
    std::fprintf(stderr, "consumer_cpp: wrong message (%u bytes)\n", actual_bytes);
    return 1;
  }
  // a and b close their handles here.
  std::puts("consumer (C++): ok");
  return 0;
}
