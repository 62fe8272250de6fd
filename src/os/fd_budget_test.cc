// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/fd_budget.h: the headroom answers follow the fd table and the soft limit,
// and a limit raised by the process is seen at once although the limit is reused for 20 ms.
#include "os/fd_budget.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {
namespace {

// Sets the soft RLIMIT_NOFILE for the test's lifetime and puts the old one back.
class ScopedSoftLimit {
 public:
  explicit ScopedSoftLimit(rlim_t soft) {
    EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
    Set(soft);
  }
  ~ScopedSoftLimit() { EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &saved_), 0); }
  // A lowered limit is seen once the one read before it is 20 ms old (documented); a raised
  // one at once.
  void Set(rlim_t soft) {
    struct rlimit lim = saved_;
    lim.rlim_cur = soft;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }

 private:
  struct rlimit saved_ = {};
};

TEST(FdBudgetTest, OpenFdCountFollowsTheTable) {
  const size_t before = OpenFdCount();
  ASSERT_NE(before, SIZE_MAX);
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 10; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(OpenFdCount(), before + 10);
  fds.clear();
  EXPECT_EQ(OpenFdCount(), before);
}

TEST(FdBudgetTest, HeadroomKeepsTheReserveFree) {
  const size_t open = OpenFdCount();
  ASSERT_NE(open, SIZE_MAX);
  ScopedSoftLimit limit(open + kFdReserve + 10);
  EXPECT_TRUE(HaveFdHeadroom(10));
  EXPECT_FALSE(HaveFdHeadroom(11));
  EXPECT_EQ(InstallableFds(100), 10u);
}

TEST(FdBudgetTest, ARaisedLimitIsSeenAtOnce) {
  const size_t open = OpenFdCount();
  ASSERT_NE(open, SIZE_MAX);
  ScopedSoftLimit limit(open + kFdReserve / 2);
  EXPECT_FALSE(HaveFdHeadroom(1));  // reads the low limit, which is then reused for 20 ms
  EXPECT_EQ(InstallableFds(8), 0u);
  struct rlimit raised;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &raised), 0);
  raised.rlim_cur = open + kFdReserve + 100;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);  // no pause: the raise must count at once
  EXPECT_TRUE(HaveFdHeadroom(100));
  EXPECT_EQ(InstallableFds(8), 8u);
}

TEST(FdBudgetTest, FdsOpenedSinceACountAreSeenByTheNextCount) {
  const size_t open = OpenFdCount();
  ASSERT_NE(open, SIZE_MAX);
  ScopedSoftLimit limit(open + kFdReserve + 20);
  ASSERT_TRUE(HaveFdHeadroom(20));
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 10; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(HaveFdHeadroom(20));  // a fresh count every time, whatever the limit's age
  EXPECT_TRUE(HaveFdHeadroom(10));
}

TEST(FdBudgetTest, PlentifulRecountingTakesAStaleCountAfresh) {
  const size_t open = OpenFdCount();
  ASSERT_NE(open, SIZE_MAX);
  ScopedSoftLimit limit(open + kFdReserve + kFdCountMargin + 100);  // and 25 ms pass
  EXPECT_FALSE(RecentlyPlentiful(1));                               // no count in the last 20 ms
  EXPECT_TRUE(PlentifulRecounting(100));
  EXPECT_FALSE(PlentifulRecounting(101));
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 10; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the count is stale again
  EXPECT_FALSE(PlentifulRecounting(91));
  EXPECT_TRUE(PlentifulRecounting(90));
}

}  // namespace
}  // namespace mx::internal
