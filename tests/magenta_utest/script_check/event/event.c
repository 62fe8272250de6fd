// SPDX-License-Identifier: BSD-3-Clause
// A test program of ours in the shape of Magenta's (C, <unittest/unittest.h>), for the CTest of
// tools/magenta-utest.sh: it builds and both tests pass.
#include <magenta/syscalls.h>
#include <unittest/unittest.h>

static bool event_signal_test(void) {
  BEGIN_TEST;
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0u, &event), MX_OK, "");
  EXPECT_EQ(mx_object_signal(event, 0u, MX_EVENT_SIGNALED), MX_OK, "");
  mx_signals_t pending = 0;
  EXPECT_EQ(mx_object_wait_one(event, MX_EVENT_SIGNALED, 0u, &pending), MX_OK, "");
  EXPECT_EQ(pending, MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE, "");
  EXPECT_EQ(mx_handle_close(event), MX_OK, "");
  END_TEST;
}

static bool event_close_test(void) {
  BEGIN_TEST;
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0u, &event), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_ERR_BAD_HANDLE);
  END_TEST;
}

BEGIN_TEST_CASE(event_tests)
RUN_TEST(event_signal_test)
RUN_TEST(event_close_test)
END_TEST_CASE(event_tests)

int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
