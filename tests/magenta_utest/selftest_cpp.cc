// SPDX-License-Identifier: BSD-3-Clause
// The C++ side of the stand-in self-test (Magenta's port, timer, VMO and last-handle tests are
// C++): checks on the C++ wrappers, the message-less forms, and fbl::count_of.
#include <fbl/algorithm.h>
#include <mx/event.h>
#include <mx/port.h>
#include <unittest/unittest.h>

static bool event_wrapper_checks() {
  BEGIN_TEST;
  mx::event event;
  ASSERT_EQ(mx::event::create(0u, &event), MX_OK);
  mx_signals_t observed = 0u;
  EXPECT_EQ(event.wait_one(MX_SIGNAL_LAST_HANDLE, 0u, &observed), MX_OK);
  EXPECT_EQ(observed, MX_SIGNAL_LAST_HANDLE);
  mx::event dup;
  EXPECT_EQ(event.duplicate(MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  EXPECT_EQ(event.wait_one(MX_SIGNAL_LAST_HANDLE, 0u, &observed), MX_ERR_TIMED_OUT);
  EXPECT_EQ(observed, 0u);
  END_TEST;
}

static bool port_and_count_of() {
  BEGIN_TEST;
  mx::port port;
  ASSERT_EQ(mx::port::create(0, &port), MX_OK);
  const uint64_t keys[] = {1u, 2u, 3u};
  for (size_t i = 0; i != fbl::count_of(keys); ++i) {
    mx_port_packet_t packet = {};
    packet.key = keys[i];
    EXPECT_EQ(port.queue(&packet, 0u), MX_OK);
  }
  uint64_t sum = 0;
  mx_port_packet_t out = {};
  while (port.wait(0ull, &out, 0u) == MX_OK) sum += out.key;
  EXPECT_EQ(sum, 6u);
  EXPECT_NONNULL(port.get());
  END_TEST;
}

BEGIN_TEST_CASE(standin_cpp_tests)
RUN_TEST(event_wrapper_checks)
RUN_TEST(port_and_count_of)
END_TEST_CASE(standin_cpp_tests)
