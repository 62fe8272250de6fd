// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/epoll.h and os/eventfd.h: cookies come back for ready fds only, modified
// interest is honoured, a blocking wait ends at its deadline or when an fd becomes ready (with
// epoll_pwait2 and with the epoll_wait fallback), and an eventfd is readable between a signal and
// a drain.
#include "os/epoll.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>

#include <thread>

#include "os/clock.h"
#include "os/eventfd.h"
#include "os/fd.h"

namespace mx::internal {
namespace {

TEST(EpollTest, ReportsTheCookiesAndEventsOfReadyFdsAndFollowsModifyAndRemove) {
  UniqueFd epoll, a, b;
  ASSERT_EQ(CreateEpoll(&epoll), MX_OK);
  ASSERT_EQ(CreateEventFd(&a), MX_OK);
  ASSERT_EQ(CreateEventFd(&b), MX_OK);
  ASSERT_TRUE(EpollAdd(epoll.get(), a.get(), EPOLLIN, 11));
  ASSERT_TRUE(EpollAdd(epoll.get(), b.get(), EPOLLIN, 22));
  EXPECT_TRUE(EpollAdd(epoll.get(), a.get(), EPOLLIN, 99));  // already watched: kept as it was

  EpollReady ready[4];
  EXPECT_EQ(EpollCollect(epoll.get(), ready, 4), 0u);
  SignalEventFd(b.get());
  ASSERT_EQ(EpollCollect(epoll.get(), ready, 4), 1u);
  EXPECT_EQ(ready[0].cookie, 22u);
  EXPECT_EQ(ready[0].events, static_cast<uint32_t>(EPOLLIN));

  ASSERT_TRUE(EpollModify(epoll.get(), b.get(), EPOLLIN, 33));
  ASSERT_EQ(EpollCollect(epoll.get(), ready, 4), 1u);
  EXPECT_EQ(ready[0].cookie, 33u);

  EpollRemove(epoll.get(), b.get());
  EXPECT_EQ(EpollCollect(epoll.get(), ready, 4), 0u);
  EXPECT_FALSE(EpollModify(epoll.get(), b.get(), EPOLLIN, 44));

  SignalEventFd(a.get());
  ASSERT_EQ(EpollCollect(epoll.get(), ready, 4), 1u);
  EXPECT_EQ(ready[0].cookie, 11u);
}

// Waits on an epoll set holding one eventfd: first until a deadline, then until another thread
// signals the eventfd.
void ExpectWaitUntilEndsAtDeadlineOrReadiness() {
  constexpr mx_time_t kMs = 1000000;
  UniqueFd epoll, fd;
  ASSERT_EQ(CreateEpoll(&epoll), MX_OK);
  ASSERT_EQ(CreateEventFd(&fd), MX_OK);
  ASSERT_TRUE(EpollAdd(epoll.get(), fd.get(), EPOLLIN | EPOLLET, 1));
  const mx_time_t deadline = MonotonicNow() + 20 * kMs;
  EpollWaitUntil(epoll.get(), deadline);
  EXPECT_GE(MonotonicNow(), deadline);

  std::thread signaller([&fd] {
    SleepUntil(MonotonicNow() + 5 * kMs);
    SignalEventFd(fd.get());
  });
  EpollWaitUntil(epoll.get(), MX_TIME_INFINITE);  // would hang if the readiness were lost
  signaller.join();
}

TEST(EpollTest, WaitUntilEndsAtItsDeadlineOrWhenAnFdIsReady) {
  ExpectWaitUntilEndsAtDeadlineOrReadiness();
}

TEST(EpollTest, WaitUntilWithoutEpollPwait2EndsAtItsDeadlineOrWhenAnFdIsReady) {
  DisableEpollPwait2ForTesting();
  ExpectWaitUntilEndsAtDeadlineOrReadiness();
}

TEST(EventFdTest, ReadableFromSignalToDrain) {
  UniqueFd fd;
  ASSERT_EQ(CreateEventFd(&fd), MX_OK);
  EXPECT_EQ(ReadyEvents(fd.get(), POLLIN), 0);
  SignalEventFd(fd.get());
  SignalEventFd(fd.get());
  EXPECT_NE(ReadyEvents(fd.get(), POLLIN) & POLLIN, 0);
  DrainEventFd(fd.get());
  EXPECT_EQ(ReadyEvents(fd.get(), POLLIN), 0);
  DrainEventFd(fd.get());  // never blocks when empty
}

}  // namespace
}  // namespace mx::internal
