// SPDX-License-Identifier: BSD-3-Clause
// An external C11 program using the installed libmx: one message through a channel.
#include <magenta/syscalls.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call)                                           \
  do {                                                        \
    mx_status_t status_ = (call);                             \
    if (status_ != MX_OK) {                                   \
      fprintf(stderr, "consumer: %s = %d\n", #call, status_); \
      return 1;                                               \
    }                                                         \
  } while (0)

int main(void) {
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
  CHECK(mx_channel_create(0, &a, &b));

  static const char kMessage[] = "hello from an installed libmx";
  CHECK(mx_channel_write(a, 0, kMessage, sizeof(kMessage), NULL, 0));

  char buffer[64];
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  CHECK(mx_channel_read(b, 0, buffer, NULL, sizeof(buffer), 0, &actual_bytes, &actual_handles));
  if (actual_bytes != sizeof(kMessage) || actual_handles != 0 ||
      memcmp(buffer, kMessage, sizeof(kMessage)) != 0) {
    fprintf(stderr, "consumer: read back %u bytes, %u handles: wrong message\n", actual_bytes,
            actual_handles);
    return 1;
  }

  CHECK(mx_handle_close(a));
  CHECK(mx_handle_close(b));
  puts("consumer (C): ok");
  return 0;
}
