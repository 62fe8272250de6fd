// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of mx_time_get, mx_deadline_after and mx_nanosleep.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <time.h>

namespace {

mx_time_t Now() { return mx_time_get(MX_CLOCK_MONOTONIC); }

TEST(TimeTest, MonotonicClockIsNonzeroAndNeverGoesBackwards) {
  mx_time_t prev = Now();
  EXPECT_GT(prev, 0u);
  for (int i = 0; i < 10000; ++i) {
    mx_time_t t = Now();
    ASSERT_GE(t, prev);
    prev = t;
  }
}

TEST(TimeTest, MonotonicClockAdvancesAcrossSleep) {
  const mx_time_t before = Now();
  ASSERT_EQ(mx_nanosleep(mx_deadline_after(MX_MSEC(2))), MX_OK);
  EXPECT_GE(Now(), before + MX_MSEC(2));
}

TEST(TimeTest, UtcClockIsNearTimeOfDay) {
  const time_t before = time(nullptr);
  const mx_time_t utc = mx_time_get(MX_CLOCK_UTC);
  const time_t after = time(nullptr);
  const int64_t secs = static_cast<int64_t>(utc / 1000000000ull);
  EXPECT_GE(secs, static_cast<int64_t>(before) - 1);
  EXPECT_LE(secs, static_cast<int64_t>(after) + 1);
}

TEST(TimeTest, ThreadClockCountsCpuTime) {
  const mx_time_t start = mx_time_get(MX_CLOCK_THREAD);
  volatile uint64_t sink = 0;
  mx_time_t now = start;
  // Burn CPU until the thread clock moves (bounded by the monotonic clock: 10 s).
  const mx_time_t limit = mx_deadline_after(MX_SEC(10));
  while (now <= start && Now() < limit) {
    for (int i = 0; i < 100000; ++i) sink = sink + i;
    now = mx_time_get(MX_CLOCK_THREAD);
  }
  EXPECT_GT(now, start);
}

TEST(TimeTest, InvalidClockReturnsZero) {
  EXPECT_EQ(mx_time_get(3), 0u);
  EXPECT_EQ(mx_time_get(99), 0u);
  EXPECT_EQ(mx_time_get(0xFFFFFFFFu), 0u);
}

TEST(TimeTest, DeadlineAfterIsNowPlusDuration) {
  for (mx_duration_t d : {mx_duration_t{0}, MX_USEC(1), MX_MSEC(5), MX_SEC(3600)}) {
    const mx_time_t before = Now();
    const mx_time_t deadline = mx_deadline_after(d);
    const mx_time_t after = Now();
    EXPECT_GE(deadline, before + d);
    EXPECT_LE(deadline, after + d);
  }
}

TEST(TimeTest, NanosleepZeroReturnsOk) { EXPECT_EQ(mx_nanosleep(0), MX_OK); }

TEST(TimeTest, NanosleepWithPastDeadlineReturnsOk) {
  EXPECT_EQ(mx_nanosleep(1), MX_OK);
  EXPECT_EQ(mx_nanosleep(Now() - 1), MX_OK);
}

TEST(TimeTest, NanosleepReturnsNoEarlierThanDeadline) {
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  EXPECT_EQ(mx_nanosleep(deadline), MX_OK);
  EXPECT_GE(Now(), deadline);
}

}  // namespace
