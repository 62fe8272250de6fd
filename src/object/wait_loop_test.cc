// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for RunWaitLoop (object/wait.h), the loop shared by object waits and channel calls:
// the order of its phases (look, spin, arm, look again, block), and when it stops.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "object/wait.h"
#include "object/waker.h"
#include "os/clock.h"

namespace mx::internal {
namespace {

// A loop that records what the runner asks of it and answers from a script.
class ScriptedLoop final : public WaitLoop {
 public:
  // |looks|: the answers to successive LookOnce calls (the last one repeats).
  explicit ScriptedLoop(std::vector<Look> looks, bool spin_news = false)
      : looks_(std::move(looks)), spin_news_(spin_news) {}

  Look LookOnce(bool armed) override {
    calls.push_back(armed ? "look(armed)" : "look");
    const Look look = looks_[std::min(next_, looks_.size() - 1)];
    ++next_;
    return look;
  }
  bool Spin(mx_time_t) override {
    calls.push_back("spin");
    return spin_news_;
  }
  void Arm() override { calls.push_back("arm"); }
  void Disarm() override { calls.push_back("disarm"); }
  void Sources(std::vector<WaitSource>*, mx_time_t* wake_at) override {
    calls.push_back("block");
    // Come back soon (nothing here wakes the waker), unless told to sleep to the deadline.
    if (!block_to_deadline) *wake_at = std::min(*wake_at, MonotonicNow() + 1'000'000);
  }

  bool block_to_deadline = false;

  std::vector<std::string> calls;

 private:
  std::vector<Look> looks_;
  const bool spin_news_;
  size_t next_ = 0;
};

using Look = WaitLoop::Look;
using Calls = std::vector<std::string>;

mx_time_t Soon() { return MonotonicNow() + 5'000'000'000; }  // far enough never to be hit

TEST(WaitLoopTest, DoneAtTheFirstLookNeitherSpinsNorArms) {
  ScriptedLoop loop({Look::kDone});
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), Soon()), MX_OK);
  EXPECT_EQ(loop.calls, Calls({"look"}));
}

TEST(WaitLoopTest, SpinsThenArmsThenLooksAgainBeforeBlocking) {
  ScriptedLoop loop({Look::kWait, Look::kWait, Look::kWait, Look::kDone});
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), Soon()), MX_OK);
  EXPECT_EQ(loop.calls, Calls({"look", "spin", "arm", "look(armed)", "block", "look(armed)",
                               "block", "look(armed)", "disarm"}));
}

TEST(WaitLoopTest, SpinWithNewsLooksAgainBeforeArming) {
  ScriptedLoop loop({Look::kWait, Look::kDone}, /*spin_news=*/true);
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), Soon()), MX_OK);
  EXPECT_EQ(loop.calls, Calls({"look", "spin", "look"}));
}

TEST(WaitLoopTest, MoreLooksAgainAtOnce) {
  ScriptedLoop loop({Look::kMore, Look::kMore, Look::kDone});
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), Soon()), MX_OK);
  EXPECT_EQ(loop.calls, Calls({"look", "look", "look"}));
}

TEST(WaitLoopTest, PastDeadlineTimesOutAfterOneLook) {
  ScriptedLoop loop({Look::kWait});
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), 0), MX_ERR_TIMED_OUT);
  EXPECT_EQ(loop.calls, Calls({"look"}));
}

TEST(WaitLoopTest, DoneWinsOverAPassedDeadline) {
  ScriptedLoop loop({Look::kDone});
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), 0), MX_OK);
}

TEST(WaitLoopTest, TimesOutWhileBlockedAndDisarms) {
  ScriptedLoop loop({Look::kWait});
  loop.block_to_deadline = true;
  // Long enough that a loaded machine still arms before it passes.
  const mx_time_t deadline = MonotonicNow() + 300'000'000;
  EXPECT_EQ(RunWaitLoop(&loop, ThreadWaker::Current(), deadline), MX_ERR_TIMED_OUT);
  EXPECT_GE(MonotonicNow(), deadline);
  ASSERT_GE(loop.calls.size(), 6u);
  EXPECT_EQ(Calls(loop.calls.begin(), loop.calls.begin() + 5),
            Calls({"look", "spin", "arm", "look(armed)", "block"}));
  EXPECT_EQ(loop.calls.back(), "disarm");
}

}  // namespace
}  // namespace mx::internal
