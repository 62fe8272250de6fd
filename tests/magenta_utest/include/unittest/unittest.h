// SPDX-License-Identifier: BSD-3-Clause
// <unittest/unittest.h>: a stand-in for Magenta's unit-test library, written for libmx.
//
// It offers what Magenta's object tests (system/utest/...) use, with the same names and call
// shapes, so that those files build unchanged against libmx (tools/magenta-utest.sh,
// docs/magenta-tests.md):
//
//   bool my_test(void) { BEGIN_TEST; EXPECT_EQ(a, b, "msg"); ASSERT_TRUE(c); END_TEST; }
//   BEGIN_TEST_CASE(my_tests)
//   RUN_TEST(my_test)
//   END_TEST_CASE(my_tests)
//   int main(int argc, char** argv) { return unittest_run_all_tests(argc, argv) ? 0 : -1; }
//
// The message argument of every check is optional. EXPECT_* records a failure and goes on;
// ASSERT_* records it and returns false from the enclosing function. A failure anywhere in a test
// (also from a helper that never said BEGIN_TEST) fails that test.
//
// Each RUN_TEST runs in a child process of its own (fork), under a deadline: a test that crashes,
// aborts or hangs fails alone and the next one still runs. MXUT_TEST_TIMEOUT (seconds, default 60)
// sets the deadline; MXUT_NO_FORK=1 runs every test in the calling process (no deadline), for a
// debugger. The last line of the output is
//   mxut: <passed> passed, <failed> failed, <total> total
// and each failing test prints a line starting with "[  FAILED  ]".
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mxut_case {
  const char* name;
  void (*body)(struct mxut_case* self);
  struct mxut_case* next;
};

// False once a check of the running test failed.
extern bool mxut_test_ok;

void mxut_register_case(struct mxut_case* test_case);
void mxut_run_test(struct mxut_case* test_case, const char* name, bool (*fn)(void));
void mxut_fail(const char* file, int line, const char* check, const char* msg);
void mxut_fail_values(const char* file, int line, const char* check, unsigned long long left,
                      unsigned long long right, const char* msg);
int unittest_printf_critical(const char* format, ...) __attribute__((format(printf, 1, 2)));
bool unittest_run_all_tests(int argc, char** argv);

#ifdef __cplusplus
}
#endif

// ---- Test cases -----------------------------------------------------------------------------

#define BEGIN_TEST_CASE(case_name) static void mxut_body_##case_name(struct mxut_case* mxut_self) {
#define RUN_TEST(fn) mxut_run_test(mxut_self, #fn, fn);
#define END_TEST_CASE(case_name)                                                             \
  }                                                                                          \
  static struct mxut_case mxut_case_##case_name = {#case_name, mxut_body_##case_name, NULL}; \
  __attribute__((constructor)) static void mxut_register_##case_name(void) {                 \
    mxut_register_case(&mxut_case_##case_name);                                              \
  }

#define BEGIN_TEST ((void)0)
#define END_TEST return mxut_test_ok

// ---- Checks ---------------------------------------------------------------------------------

// The optional trailing message: MXUT_MSG(0, ##__VA_ARGS__, "") is the message, or "" when there
// is none. Written out at each use so that the comma is dropped where the arguments are omitted,
// which GCC and Clang do in strict ISO modes too.
#define MXUT_MSG(zero, msg, ...) (msg)

// Values are printed as 64-bit numbers (integers, enums and pointers alike).
#define MXUT_U(v) ((unsigned long long)(uintptr_t)(v))

#ifdef __cplusplus
#define MXUT_LET(var, expr) const auto var = (expr)
#else
#define MXUT_LET(var, expr) __typeof__(expr) var = (expr)
#endif

// |on_fail| is empty for EXPECT_* and `return false` for ASSERT_*.
// |text| is the check as written (stringified before any macro in it expands).
#define MXUT_CMP(left, op, right, text, on_fail, ...)                              \
  do {                                                                             \
    MXUT_LET(mxut_l_, left);                                                       \
    MXUT_LET(mxut_r_, right);                                                      \
    if (!(mxut_l_ op mxut_r_)) {                                                   \
      mxut_fail_values(__FILE__, __LINE__, text, MXUT_U(mxut_l_), MXUT_U(mxut_r_), \
                       MXUT_MSG(0, ##__VA_ARGS__, ""));                            \
      on_fail;                                                                     \
    }                                                                              \
  } while (0)

#define MXUT_COND(cond, text, on_fail, ...)                                \
  do {                                                                     \
    if (!(cond)) {                                                         \
      mxut_fail(__FILE__, __LINE__, text, MXUT_MSG(0, ##__VA_ARGS__, "")); \
      on_fail;                                                             \
    }                                                                      \
  } while (0)

#define MXUT_RETURN_FALSE return false

#define EXPECT_EQ(a, b, ...) MXUT_CMP(a, ==, b, #a " == " #b, (void)0, ##__VA_ARGS__)
#define EXPECT_NE(a, b, ...) MXUT_CMP(a, !=, b, #a " != " #b, (void)0, ##__VA_ARGS__)
#define EXPECT_LT(a, b, ...) MXUT_CMP(a, <, b, #a " < " #b, (void)0, ##__VA_ARGS__)
#define EXPECT_LE(a, b, ...) MXUT_CMP(a, <=, b, #a " <= " #b, (void)0, ##__VA_ARGS__)
#define EXPECT_GT(a, b, ...) MXUT_CMP(a, >, b, #a " > " #b, (void)0, ##__VA_ARGS__)
#define EXPECT_GE(a, b, ...) MXUT_CMP(a, >=, b, #a " >= " #b, (void)0, ##__VA_ARGS__)
#define ASSERT_EQ(a, b, ...) MXUT_CMP(a, ==, b, #a " == " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_NE(a, b, ...) MXUT_CMP(a, !=, b, #a " != " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_LT(a, b, ...) MXUT_CMP(a, <, b, #a " < " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_LE(a, b, ...) MXUT_CMP(a, <=, b, #a " <= " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_GT(a, b, ...) MXUT_CMP(a, >, b, #a " > " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_GE(a, b, ...) MXUT_CMP(a, >=, b, #a " >= " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)

#define EXPECT_TRUE(c, ...) MXUT_COND(c, #c, (void)0, ##__VA_ARGS__)
#define EXPECT_FALSE(c, ...) MXUT_COND(!(c), "!(" #c ")", (void)0, ##__VA_ARGS__)
#define EXPECT_NULL(p, ...) MXUT_COND(!(p), #p " is null", (void)0, ##__VA_ARGS__)
#define EXPECT_NONNULL(p, ...) MXUT_COND(p, #p " is not null", (void)0, ##__VA_ARGS__)
#define ASSERT_TRUE(c, ...) MXUT_COND(c, #c, MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_FALSE(c, ...) MXUT_COND(!(c), "!(" #c ")", MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_NULL(p, ...) MXUT_COND(!(p), #p " is null", MXUT_RETURN_FALSE, ##__VA_ARGS__)
#define ASSERT_NONNULL(p, ...) MXUT_COND(p, #p " is not null", MXUT_RETURN_FALSE, ##__VA_ARGS__)

// |len| bytes of |a| and |b| are equal.
#define EXPECT_BYTES_EQ(a, b, len, ...) \
  MXUT_COND(memcmp((a), (b), (len)) == 0, "bytes of " #a " == " #b, (void)0, ##__VA_ARGS__)
#define ASSERT_BYTES_EQ(a, b, len, ...)                                                \
  MXUT_COND(memcmp((a), (b), (len)) == 0, "bytes of " #a " == " #b, MXUT_RETURN_FALSE, \
            ##__VA_ARGS__)
// The strings agree in their first |len| characters (or up to a shorter one's end).
#define EXPECT_STR_EQ(a, b, len, ...) \
  MXUT_COND(strncmp((a), (b), (len)) == 0, #a " equals " #b, (void)0, ##__VA_ARGS__)
#define ASSERT_STR_EQ(a, b, len, ...) \
  MXUT_COND(strncmp((a), (b), (len)) == 0, #a " equals " #b, MXUT_RETURN_FALSE, ##__VA_ARGS__)
