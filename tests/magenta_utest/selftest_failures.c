// SPDX-License-Identifier: BSD-3-Clause
// Each way a Magenta test can fail, which the stand-in must report as a failure of that test
// alone: a failed EXPECT, a failed ASSERT, a failed check in a helper, an abort and a hang (with
// MXUT_TEST_TIMEOUT=1). The CTest expects exactly "mxut: 1 passed, 5 failed, 6 total".
#include <stdlib.h>
#include <unistd.h>
#include <unittest/unittest.h>

static bool passes(void) {
  BEGIN_TEST;
  EXPECT_EQ(1, 1);
  END_TEST;
}

static bool expect_fails(void) {
  BEGIN_TEST;
  EXPECT_EQ(1, 2, "one is not two");
  EXPECT_TRUE(true);
  END_TEST;
}

static bool assert_fails(void) {
  BEGIN_TEST;
  ASSERT_NE(3, 3);
  abort();  // Never reached: ASSERT_NE returned false.
  END_TEST;
}

static void helper(void) { EXPECT_GT(0, 1); }

static bool helper_fails(void) {
  BEGIN_TEST;
  helper();
  END_TEST;
}

static bool crashes(void) {
  BEGIN_TEST;
  abort();
  END_TEST;
}

static bool hangs(void) {
  BEGIN_TEST;
  for (;;) pause();
  END_TEST;
}

BEGIN_TEST_CASE(standin_failures)
RUN_TEST(passes)
RUN_TEST(expect_fails)
RUN_TEST(assert_fails)
RUN_TEST(helper_fails)
RUN_TEST(crashes)
RUN_TEST(hangs)
END_TEST_CASE(standin_failures)

int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
