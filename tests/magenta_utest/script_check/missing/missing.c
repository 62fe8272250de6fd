// SPDX-License-Identifier: BSD-3-Clause
// A test program of ours that cannot build (it calls a function libmx does not have), for the
// CTest of tools/magenta-utest.sh: its one test counts as existing and not passing.
#include <magenta/syscalls.h>
#include <unittest/unittest.h>

static bool missing_call_test(void) {
  BEGIN_TEST;
  EXPECT_EQ(mx_call_that_libmx_lacks(), MX_OK);
  END_TEST;
}

BEGIN_TEST_CASE(missing_tests)
RUN_TEST(missing_call_test)
END_TEST_CASE(missing_tests)

int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
