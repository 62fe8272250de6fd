// SPDX-License-Identifier: BSD-3-Clause
// Keeps the <unittest/unittest.h> stand-in building and right without Magenta's files: every
// check macro as Magenta's C tests use it (with and without the message), over a few libmx calls
// whose results are known. Every test here passes; selftest_failures.c has the failing kinds.
#include <magenta/syscalls.h>
#include <threads.h>
#include <unittest/unittest.h>

static mx_signals_t pending_of(mx_handle_t handle) {
  mx_signals_t pending = 0;
  mx_object_wait_one(handle, 0u, 0u, &pending);
  return pending;
}

static bool channel_signals_checks(void) {
  BEGIN_TEST;
  mx_handle_t h[2];
  ASSERT_EQ(mx_channel_create(0, &h[0], &h[1]), MX_OK, "channel create");
  EXPECT_EQ(pending_of(h[0]), MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  ASSERT_EQ(mx_channel_write(h[0], 0u, "x", 1u, NULL, 0u), MX_OK);
  EXPECT_NE(pending_of(h[1]) & MX_CHANNEL_READABLE, 0u, "");
  EXPECT_LT(0, 1);
  EXPECT_LE(1, 1, "le");
  EXPECT_GT(2u, 1u);
  EXPECT_GE(2, 2, "ge");
  ASSERT_LT(1, 2);
  ASSERT_LE(2, 2);
  ASSERT_GT(3, 2);
  ASSERT_GE(3, 3);
  ASSERT_NE(h[0], MX_HANDLE_INVALID);
  EXPECT_EQ(mx_handle_close(h[1]), MX_OK);
  EXPECT_TRUE(pending_of(h[0]) & MX_CHANNEL_PEER_CLOSED, "peer closed");
  EXPECT_FALSE(pending_of(h[0]) & MX_CHANNEL_WRITABLE);
  ASSERT_TRUE(true);
  ASSERT_FALSE(false, "");
  EXPECT_EQ(mx_handle_close(h[0]), MX_OK);
  END_TEST;
}

static bool pointer_and_bytes_checks(void) {
  BEGIN_TEST;
  const char* none = NULL;
  static const char text[] = "magenta";
  EXPECT_NULL(none);
  ASSERT_NULL(none, "null");
  const char* some = text;
  EXPECT_NONNULL(some, "");
  ASSERT_NONNULL(some);
  EXPECT_BYTES_EQ((const uint8_t*)text, (const uint8_t*)"mag", 3, "bytes");
  ASSERT_BYTES_EQ(text, "magenta", sizeof(text));
  EXPECT_STR_EQ(text, "magenta", sizeof(text), "string");
  ASSERT_STR_EQ(text, "mage", 4);
  unittest_printf_critical("printf_critical %d\n", 1);
  END_TEST;
}

// A check in a helper that never said BEGIN_TEST still counts for the test that called it.
static bool helper_without_begin(int value) {
  EXPECT_EQ(value, 7, "helper");
  return true;
}

static bool helpers_count(void) {
  BEGIN_TEST;
  EXPECT_TRUE(helper_without_begin(7));
  END_TEST;
}

static int add_one(void* arg) {
  *(int*)arg += 1;
  return 0;
}

// ThreadSanitizer does not intercept glibc's C11 thrd_create (the thread it starts crashes), so
// under TSan this test checks only that RUN_TEST takes a trailing semicolon.
#if defined(__SANITIZE_THREAD__)
#define MXUT_SELFTEST_C11_THREADS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MXUT_SELFTEST_C11_THREADS 0
#endif
#endif
#ifndef MXUT_SELFTEST_C11_THREADS
#define MXUT_SELFTEST_C11_THREADS 1
#endif

static bool threads_and_semicolon_runs(void) {
  BEGIN_TEST;
  if (!MXUT_SELFTEST_C11_THREADS) return true;
  int value = 1;
  thrd_t thread;
  ASSERT_EQ(thrd_create(&thread, add_one, &value), thrd_success);
  EXPECT_EQ(thrd_join(thread, NULL), thrd_success);
  EXPECT_EQ(value, 2);
  END_TEST;
}

BEGIN_TEST_CASE(standin_c_tests)
RUN_TEST(channel_signals_checks)
RUN_TEST(pointer_and_bytes_checks)
RUN_TEST(helpers_count)
RUN_TEST(threads_and_semicolon_runs);
END_TEST_CASE(standin_c_tests)

int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
