// SPDX-License-Identifier: BSD-3-Clause
// A test program of ours with Zircon's names (C++), for the CTest of tools/magenta-utest.sh: the
// script renames it back to Magenta's; one test passes and one fails on purpose.
#include <unittest/unittest.h>
#include <zircon/syscalls.h>

static bool peer_closed_test() {
  BEGIN_TEST;
  zx_handle_t pair[2];
  ASSERT_EQ(zx_eventpair_create(0u, &pair[0], &pair[1]), ZX_OK);
  EXPECT_EQ(zx_handle_close(pair[0]), ZX_OK);
  zx_signals_t pending = 0;
  EXPECT_EQ(zx_object_wait_one(pair[1], ZX_EPAIR_PEER_CLOSED, 0u, &pending), ZX_OK);
  EXPECT_EQ(zx_handle_close(pair[1]), ZX_OK);
  END_TEST;
}

static bool fails_on_purpose() {
  BEGIN_TEST;
  EXPECT_EQ(ZX_OK, ZX_ERR_INTERNAL, "this failure is expected");
  END_TEST;
}

BEGIN_TEST_CASE(eventpair_tests)
RUN_TEST(peer_closed_test)
RUN_TEST(fails_on_purpose)
END_TEST_CASE(eventpair_tests)

int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
