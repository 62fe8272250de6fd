// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for waiting (object/wait.h) where the kernel lacks epoll_pwait2 (before Linux 5.11,
// old seccomp profiles, valgrind 3.19): waits that involve an edge-triggered source (an event's
// eventfd) fall back to epoll_wait. Under valgrind 3.19 every such wait used to spin until its
// deadline (ENOSYS unnoticed); tools/valgrind.sh runs the wait and cancellation API tests that
// found it.
#include "object/wait.h"

#include <gtest/gtest.h>
#include <magenta/syscalls.h>

#include <thread>

#include "os/epoll.h"

namespace mx::internal {
namespace {

TEST(WaitFallbackTest, EventWaitTimesOutNoEarlierThanItsDeadline) {
  DisableEpollPwait2ForTesting();
  mx_handle_t ev;
  ASSERT_EQ(mx_event_create(0, &ev), MX_OK);
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(ev, MX_EVENT_SIGNALED, deadline, &observed), MX_ERR_TIMED_OUT);
  EXPECT_GE(mx_time_get(MX_CLOCK_MONOTONIC), deadline);
  EXPECT_EQ(observed & MX_EVENT_SIGNALED, 0u);
  EXPECT_EQ(mx_handle_close(ev), MX_OK);
}

TEST(WaitFallbackTest, EventWaitWakesWhenAnotherThreadSignals) {
  DisableEpollPwait2ForTesting();
  mx_handle_t ev;
  ASSERT_EQ(mx_event_create(0, &ev), MX_OK);
  std::thread signaller([ev] { EXPECT_EQ(mx_object_signal(ev, 0, MX_EVENT_SIGNALED), MX_OK); });
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(ev, MX_EVENT_SIGNALED, MX_TIME_INFINITE, &observed), MX_OK);
  EXPECT_NE(observed & MX_EVENT_SIGNALED, 0u);
  signaller.join();
  EXPECT_EQ(mx_handle_close(ev), MX_OK);
}

}  // namespace
}  // namespace mx::internal
