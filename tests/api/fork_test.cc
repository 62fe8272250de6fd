// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of fork(): the child starts with an empty handle table and does not
// keep the parent's channels alive; the parent keeps its handles.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;

bool IsValid(mx_handle_t h) {
  return mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == MX_OK;
}

// Forks; the child runs |body| and _exits with its result (no gtest in the child).
pid_t ForkChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  return pid;
}

// Waits up to 30 s for |pid| and returns its exit code; kills it and returns -1 on timeout,
// or -(signal) if it died from a signal.
int WaitForChild(pid_t pid) {
  for (int i = 0; i < 30000; ++i) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return -WTERMSIG(status);
      return -1000;
    }
    if (r < 0) return -2000;
    usleep(1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Warms up libmx's lazily created process-wide state before fds are counted.
void WarmUp() {
  // Best effort, no assertions: a failure here belongs to the tests of those operations.
  mx_handle_t a = 0, b = 0, e = 0, got = 0;
  mx_channel_create(0, &a, &b);
  mx_event_create(0, &e);
  if (mx_channel_write(a, 0, "w", 1, &e, 1) != MX_OK) mx_handle_close(e);
  char c;
  if (mx_channel_read(b, 0, &c, &got, 1, 1, nullptr, nullptr) == MX_OK) mx_handle_close(got);
  mx_object_wait_one(a, MX_CHANNEL_READABLE, 0, nullptr);
  mx_handle_close(a);
  mx_handle_close(b);
}

TEST(ForkTest, ChildStartsWithEmptyHandleTable) {
  mx_handle_t a, b, e;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "queued", 6, nullptr, 0), MX_OK);
  const std::vector<mx_handle_t> parent_handles = {a, b, e};
  pid_t pid = ForkChild([&] {
    int i = 0;
    for (mx_handle_t h : parent_handles) {
      ++i;
      if (mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) !=
          MX_ERR_BAD_HANDLE)
        return 10 + i;
      mx_info_handle_basic_t info;
      if (mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr) !=
          MX_ERR_BAD_HANDLE)
        return 20 + i;
      if (mx_object_wait_one(h, MX_CHANNEL_READABLE, 0, nullptr) != MX_ERR_BAD_HANDLE)
        return 30 + i;
      if (mx_object_signal(h, 0, MX_USER_SIGNAL_0) != MX_ERR_BAD_HANDLE) return 40 + i;
      if (mx_handle_close(h) != MX_ERR_BAD_HANDLE) return 50 + i;
    }
    char buf[8];
    if (mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, nullptr, nullptr) != MX_ERR_BAD_HANDLE)
      return 60;
    if (mx_channel_write(a, 0, "x", 1, nullptr, 0) != MX_ERR_BAD_HANDLE) return 61;
    return 0;
  });
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitForChild(pid), 0);
  // The parent still has everything, including the queued message.
  for (mx_handle_t h : parent_handles) EXPECT_TRUE(IsValid(h));
  char buf[8];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(buf, n), "queued");
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ForkTest, ChildCanCreateAndUseNewObjects) {
  pid_t pid = ForkChild([] {
    mx_handle_t a, b, e;
    if (mx_channel_create(0, &a, &b) != MX_OK) return 10;
    if (mx_event_create(0, &e) != MX_OK) return 11;
    if (mx_channel_write(a, 0, "child", 5, &e, 1) != MX_OK) return 12;
    char buf[8];
    mx_handle_t got = MX_HANDLE_INVALID;
    uint32_t n = 0, nh = 0;
    if (mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh) != MX_OK) return 13;
    if (n != 5 || nh != 1) return 14;
    if (mx_object_signal(got, 0, MX_EVENT_SIGNALED) != MX_OK) return 15;
    if (mx_object_wait_one(got, MX_EVENT_SIGNALED, 0, nullptr) != MX_OK) return 16;
    if (mx_handle_close(got) != MX_OK) return 17;
    if (mx_handle_close(a) != MX_OK) return 18;
    if (mx_object_wait_one(b, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(MX_SEC(10)), nullptr) !=
        MX_OK)
      return 19;
    if (mx_handle_close(b) != MX_OK) return 20;
    return 0;
  });
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitForChild(pid), 0);
}

TEST(ForkTest, ParentChannelsStillWorkAfterFork) {
  mx_handle_t a, b, e;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  pid_t pid = ForkChild([] { return 0; });
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitForChild(pid), 0);
  ASSERT_EQ(mx_channel_write(a, 0, "after", 5, &e, 1), MX_OK);
  char buf[8];
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t n = 0, nh = 0;
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "after");
  ASSERT_EQ(nh, 1u);
  EXPECT_EQ(mx_object_signal(got, 0, MX_EVENT_SIGNALED), MX_OK);
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(a, 0, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ForkTest, ParentSeesPeerClosedWhileChildHoldsInheritedFds) {
  WarmUp();
  const int fds_before = CountOpenFds();
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  int hold[2];
  ASSERT_EQ(pipe(hold), 0);
  pid_t pid = ForkChild([&] {
    // Stay alive until the parent closes its end of |hold| (at most 20 s), without touching
    // libmx.
    close(hold[1]);
    struct pollfd pfd = {hold[0], POLLIN, 0};
    poll(&pfd, 1, 20000);
    return 0;
  });
  ASSERT_GT(pid, 0);
  close(hold[0]);
  // The child is alive and inherited every fd; closing b must still reach a.
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(MX_SEC(10)), &s),
            MX_OK);
  EXPECT_NE(s & MX_CHANNEL_PEER_CLOSED, 0u);
  // |s| accumulates the state from the start of the wait; the current state has lost WRITABLE.
  EXPECT_EQ(mx_object_wait_one(a, 0, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  char c;
  EXPECT_EQ(mx_channel_read(a, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "the child should still be running";
  close(hold[1]);  // releases the child
  EXPECT_EQ(WaitForChild(pid), 0);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(ForkTest, ChildExitDoesNotCloseParentsChannels) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  pid_t pid = ForkChild([] { return 0; });
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitForChild(pid), 0);
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_PEER_CLOSED, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_channel_write(b, 0, "ok", 2, nullptr, 0), MX_OK);
  EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_READABLE, mx_deadline_after(MX_SEC(10)), nullptr),
            MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

}  // namespace
