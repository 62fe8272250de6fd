// SPDX-License-Identifier: BSD-3-Clause
// mx_ticks_get, mx_ticks_per_second, mx_system_get_num_cpus, mx_system_get_version,
// mx_cprng_draw and mx_status_get_string, through include/ only.
#include <gtest/gtest.h>
#include <magenta/status.h>
#include <magenta/syscalls.h>
#include <mx/time.h>
#include <sched.h>
#include <string.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

TEST(TicksTest, GoForwardAtTheAnnouncedRate) {
  EXPECT_EQ(mx_ticks_per_second(), 1000000000u);
  const uint64_t t0 = mx_ticks_get();
  const mx_time_t m0 = mx_time_get(MX_CLOCK_MONOTONIC);
  mx_nanosleep(mx_deadline_after(MX_MSEC(20)));
  const mx_time_t m1 = mx_time_get(MX_CLOCK_MONOTONIC);
  const uint64_t t1 = mx_ticks_get();
  // Ticks are monotonic nanoseconds: they bracket the clock's own readings.
  EXPECT_LE(t0, m0);
  EXPECT_LE(m1, t1);
  EXPECT_GE(t1 - t0, MX_MSEC(20) * mx_ticks_per_second() / 1000000000u);
}

TEST(TicksTest, CppWrappersAreTheCalls) {
  EXPECT_EQ(mx::ticks_per_second(), mx_ticks_per_second());
  const uint64_t a = mx::ticks_get();
  EXPECT_LE(a, mx_ticks_get());
}

TEST(SystemTest, NumCpusIsTheAffinityMaskAndNeverChanges) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const uint32_t n = mx_system_get_num_cpus();
  EXPECT_EQ(n, static_cast<uint32_t>(CPU_COUNT(&set)));
  EXPECT_GE(n, 1u);
  EXPECT_EQ(mx_system_get_num_cpus(), n);
}

TEST(SystemTest, VersionFitsExactlyOrIsTooSmall) {
  char version[64];
  memset(version, 'x', sizeof(version));
  ASSERT_EQ(mx_system_get_version(version, sizeof(version)), MX_OK);
  const size_t len = strnlen(version, sizeof(version));
  ASSERT_LT(len, sizeof(version));
  EXPECT_EQ(std::string(version).rfind("libmx ", 0), 0u);
  // The string with its NUL fits exactly; one byte less is too small and writes nothing.
  char exact[64];
  EXPECT_EQ(mx_system_get_version(exact, static_cast<uint32_t>(len + 1)), MX_OK);
  EXPECT_STREQ(exact, version);
  char small[64];
  memset(small, 'y', sizeof(small));
  EXPECT_EQ(mx_system_get_version(small, static_cast<uint32_t>(len)), MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small[0], 'y');
  EXPECT_EQ(mx_system_get_version(nullptr, 0), MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(mx_system_get_version(nullptr, sizeof(version)), MX_ERR_INVALID_ARGS);
}

TEST(CprngTest, DrawsUpToTheLimit) {
  unsigned char a[MX_CPRNG_DRAW_MAX_LEN];
  unsigned char b[MX_CPRNG_DRAW_MAX_LEN];
  size_t actual = 0;
  ASSERT_EQ(mx_cprng_draw(a, sizeof(a), &actual), MX_OK);
  EXPECT_EQ(actual, sizeof(a));
  ASSERT_EQ(mx_cprng_draw(b, sizeof(b), &actual), MX_OK);
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);  // 2^-2048
  actual = 99;
  EXPECT_EQ(mx_cprng_draw(a, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(mx_cprng_draw(nullptr, 0, &actual), MX_OK);
}

TEST(CprngTest, RefusesWhatMagentaRefused) {
  unsigned char buf[MX_CPRNG_DRAW_MAX_LEN + 1];
  size_t actual = 77;
  EXPECT_EQ(mx_cprng_draw(buf, sizeof(buf), &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(actual, 77u);
  EXPECT_EQ(mx_cprng_draw(nullptr, 8, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_cprng_draw(buf, 8, nullptr), MX_ERR_INVALID_ARGS);
}

// Memory that cannot be written: the kernel says so (EFAULT), nothing crashes.
TEST(CprngTest, UnwritableBufferIsInvalidArgs) {
  size_t actual = 77;
  EXPECT_EQ(mx_cprng_draw(reinterpret_cast<void*>(uintptr_t{8}), 8, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(actual, 77u);
}

TEST(StatusTest, EveryCodeHasItsName) {
  const std::vector<std::pair<mx_status_t, const char*>> codes = {
      {MX_OK, "MX_OK"},
      {MX_ERR_INTERNAL, "MX_ERR_INTERNAL"},
      {MX_ERR_NOT_SUPPORTED, "MX_ERR_NOT_SUPPORTED"},
      {MX_ERR_NO_RESOURCES, "MX_ERR_NO_RESOURCES"},
      {MX_ERR_NO_MEMORY, "MX_ERR_NO_MEMORY"},
      {MX_ERR_CALL_FAILED, "MX_ERR_CALL_FAILED"},
      {MX_ERR_INTERNAL_INTR_RETRY, "MX_ERR_INTERNAL_INTR_RETRY"},
      {MX_ERR_INVALID_ARGS, "MX_ERR_INVALID_ARGS"},
      {MX_ERR_BAD_HANDLE, "MX_ERR_BAD_HANDLE"},
      {MX_ERR_WRONG_TYPE, "MX_ERR_WRONG_TYPE"},
      {MX_ERR_BAD_SYSCALL, "MX_ERR_BAD_SYSCALL"},
      {MX_ERR_OUT_OF_RANGE, "MX_ERR_OUT_OF_RANGE"},
      {MX_ERR_BUFFER_TOO_SMALL, "MX_ERR_BUFFER_TOO_SMALL"},
      {MX_ERR_BAD_STATE, "MX_ERR_BAD_STATE"},
      {MX_ERR_TIMED_OUT, "MX_ERR_TIMED_OUT"},
      {MX_ERR_SHOULD_WAIT, "MX_ERR_SHOULD_WAIT"},
      {MX_ERR_CANCELED, "MX_ERR_CANCELED"},
      {MX_ERR_PEER_CLOSED, "MX_ERR_PEER_CLOSED"},
      {MX_ERR_NOT_FOUND, "MX_ERR_NOT_FOUND"},
      {MX_ERR_ALREADY_EXISTS, "MX_ERR_ALREADY_EXISTS"},
      {MX_ERR_ALREADY_BOUND, "MX_ERR_ALREADY_BOUND"},
      {MX_ERR_UNAVAILABLE, "MX_ERR_UNAVAILABLE"},
      {MX_ERR_ACCESS_DENIED, "MX_ERR_ACCESS_DENIED"},
      {MX_ERR_IO, "MX_ERR_IO"},
      {MX_ERR_IO_REFUSED, "MX_ERR_IO_REFUSED"},
      {MX_ERR_IO_DATA_INTEGRITY, "MX_ERR_IO_DATA_INTEGRITY"},
      {MX_ERR_IO_DATA_LOSS, "MX_ERR_IO_DATA_LOSS"},
      {MX_ERR_IO_NOT_PRESENT, "MX_ERR_IO_NOT_PRESENT"},
      {MX_ERR_IO_OVERRUN, "MX_ERR_IO_OVERRUN"},
      {MX_ERR_IO_MISSED_DEADLINE, "MX_ERR_IO_MISSED_DEADLINE"},
      {MX_ERR_BAD_PATH, "MX_ERR_BAD_PATH"},
      {MX_ERR_NOT_DIR, "MX_ERR_NOT_DIR"},
      {MX_ERR_NOT_FILE, "MX_ERR_NOT_FILE"},
      {MX_ERR_FILE_BIG, "MX_ERR_FILE_BIG"},
      {MX_ERR_NO_SPACE, "MX_ERR_NO_SPACE"},
      {MX_ERR_NOT_EMPTY, "MX_ERR_NOT_EMPTY"},
      {MX_ERR_STOP, "MX_ERR_STOP"},
      {MX_ERR_NEXT, "MX_ERR_NEXT"},
      {MX_ERR_PROTOCOL_NOT_SUPPORTED, "MX_ERR_PROTOCOL_NOT_SUPPORTED"},
      {MX_ERR_ADDRESS_UNREACHABLE, "MX_ERR_ADDRESS_UNREACHABLE"},
      {MX_ERR_ADDRESS_IN_USE, "MX_ERR_ADDRESS_IN_USE"},
      {MX_ERR_NOT_CONNECTED, "MX_ERR_NOT_CONNECTED"},
      {MX_ERR_CONNECTION_REFUSED, "MX_ERR_CONNECTION_REFUSED"},
      {MX_ERR_CONNECTION_RESET, "MX_ERR_CONNECTION_RESET"},
      {MX_ERR_CONNECTION_ABORTED, "MX_ERR_CONNECTION_ABORTED"},
  };
  std::set<mx_status_t> known;
  for (const auto& [code, name] : codes) {
    EXPECT_STREQ(mx_status_get_string(code), name);
    known.insert(code);
  }
  EXPECT_EQ(known.size(), codes.size());
  // Everything else in the range the codes use, and far outside it, is unknown.
  for (mx_status_t s = -100; s <= 100; ++s) {
    if (known.count(s) == 0) {
      EXPECT_STREQ(mx_status_get_string(s), "(UNKNOWN)") << s;
    }
  }
  EXPECT_STREQ(mx_status_get_string(INT32_MIN), "(UNKNOWN)");
}

}  // namespace
