// SPDX-License-Identifier: BSD-3-Clause
#include "base/mutex.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/check.h"

namespace mx::internal {
namespace {

// The annotated types cost nothing over the std ones they replace.
static_assert(sizeof(Mutex) == sizeof(std::mutex));
static_assert(sizeof(MutexLock) == sizeof(std::lock_guard<std::mutex>));
static_assert(sizeof(UniqueLock) == sizeof(std::unique_lock<std::mutex>));

struct Counter {
  Mutex mu;
  int value TA_GUARDED(mu) = 0;
};

TEST(MutexTest, MutexLockExcludesOtherThreads) {
  Counter c;
  auto add = [&c] {
    for (int i = 0; i < 10000; ++i) {
      MutexLock lock(&c.mu);
      ++c.value;
    }
  };
  std::thread t(add);
  add();
  t.join();
  MutexLock lock(&c.mu);
  EXPECT_EQ(c.value, 20000);
}

TEST(MutexTest, UniqueLockLetsGoAndTakesAgain) {
  Counter c;
  UniqueLock lock(&c.mu);
  c.value = 1;
  lock.unlock();
  if (c.mu.try_lock()) {  // free while let go
    c.mu.unlock();
  } else {
    ADD_FAILURE() << "the mutex is held after unlock()";
  }
  lock.lock();
  EXPECT_EQ(c.value, 1);
}

TEST(MutexTest, UniqueLockReleasesOnlyWhatItHolds) {
  Counter c;
  {
    UniqueLock lock(&c.mu);
    lock.unlock();
  }
  if (c.mu.try_lock()) {
    c.mu.unlock();
  } else {
    ADD_FAILURE() << "the mutex is held after the guard that let go of it";
  }
}

#if !defined(NDEBUG)
TEST(CheckDeathTest, FalseConditionAbortsWithFileLineAndCondition) {
  const int two = 2;
  EXPECT_DEATH(MX_DCHECK(two == 3), "mutex_test.cc:[0-9]+: check failed: two == 3");
}
#endif

TEST(CheckTest, TrueConditionPasses) {
  const int two = 2;
  MX_DCHECK(two == 2);
}

}  // namespace
}  // namespace mx::internal
