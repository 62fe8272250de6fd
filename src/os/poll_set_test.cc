// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/poll_set.h: a wait ends when a watched fd becomes ready in the way it is
// watched for, and not before its deadline otherwise.
#include "os/poll_set.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <thread>

#include "os/clock.h"
#include "os/eventfd.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

constexpr mx_time_t kMs = 1000000;

TEST(PollSetTest, TimesOutNoEarlierThanItsDeadline) {
  UniqueFd fd;
  ASSERT_EQ(CreateEventFd(&fd), MX_OK);
  PollSet set;
  set.Add(fd.get(), EPOLLIN);
  const mx_time_t deadline = MonotonicNow() + 20 * kMs;
  set.Wait(deadline);
  EXPECT_GE(MonotonicNow(), deadline);
}

TEST(PollSetTest, ReturnsAtOnceForAnFdAlreadyReady) {
  UniqueFd quiet, ready;
  ASSERT_EQ(CreateEventFd(&quiet), MX_OK);
  ASSERT_EQ(CreateEventFd(&ready), MX_OK);
  SignalEventFd(ready.get());
  PollSet set;
  set.Reserve(2);
  set.Add(quiet.get(), EPOLLIN);
  set.Add(ready.get(), EPOLLIN);
  set.Wait(MX_TIME_INFINITE);  // would hang if the readiness were lost
}

TEST(PollSetTest, WatchesWritabilityAndHangUpAsAsked) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  PollSet writable;
  writable.Add(a.get(), EPOLLOUT);
  writable.Wait(MX_TIME_INFINITE);  // an empty socket can be written at once

  PollSet hangup;
  hangup.Add(a.get(), EPOLLRDHUP);
  std::thread closer([&b] {
    SleepUntil(MonotonicNow() + 5 * kMs);
    b.reset();
  });
  hangup.Wait(MX_TIME_INFINITE);  // ends when the peer closes
  closer.join();
}

TEST(PollSetTest, WakesWhenAnotherThreadMakesAnFdReadable) {
  UniqueFd fd;
  ASSERT_EQ(CreateEventFd(&fd), MX_OK);
  PollSet set;
  set.Add(fd.get(), EPOLLIN);
  std::thread signaller([&fd] {
    SleepUntil(MonotonicNow() + 5 * kMs);
    SignalEventFd(fd.get());
  });
  set.Wait(MX_TIME_INFINITE);
  signaller.join();
}

}  // namespace
}  // namespace mx::internal
