// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/nofile_limit.h: what MX_NOFILE_RAISE means, and that this test binary (which
// links libmx statically) had its soft limit raised before main(). That a child started under a
// low soft limit raises its own is tests/multiprocess/many_channels_test.cc's.
#include "os/nofile_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>

namespace mx::internal {
namespace {

TEST(NofileLimitTest, OnlyZeroTurnsTheRaiseOff) {
  EXPECT_TRUE(NofileRaiseWanted(nullptr));
  EXPECT_TRUE(NofileRaiseWanted("1"));
  EXPECT_TRUE(NofileRaiseWanted(""));
  EXPECT_TRUE(NofileRaiseWanted("00"));
  EXPECT_FALSE(NofileRaiseWanted("0"));
}

TEST(NofileLimitTest, SoftLimitWasRaisedToTheHardLimitAtLoad) {
  if (!NofileRaiseWanted(::getenv("MX_NOFILE_RAISE"))) {
    GTEST_SKIP() << "MX_NOFILE_RAISE=0 is set: the limit was left alone";
  }
  struct rlimit lim;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(lim.rlim_cur, lim.rlim_max);
}

TEST(NofileLimitTest, ALimitTheProgramLowersStaysLowered) {
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = saved.rlim_cur < 512 ? saved.rlim_cur : 512;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  RaiseNofileLimitOnce();
  struct rlimit now;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, low.rlim_cur);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

}  // namespace
}  // namespace mx::internal
