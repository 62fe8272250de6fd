// SPDX-License-Identifier: BSD-3-Clause
// What an event or an eventpair side costs in fds, counted in /proc/self/fd of real processes:
// after creating one, duplicating it, closing it, and receiving one from another process (of the
// same user, and of another user where the test runs as root: a process of another uid than the
// creator's that holds a word writable keeps the description it was sent, docs/events.md).
//
// The expected figures (docs/events.md, docs/eventpairs.md): an event costs one fd (the
// doorbell) plus one token per handle; an eventpair side three (the pair's doorbell, the life
// line, the peer's memfd) plus one token per handle. Another uid holding a word writable keeps
// that word's description too.
#include <gtest/gtest.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr uint32_t kControlInfo = PA_HND(PA_USER0, 0);

// fds of one object in one process: after it arrived (or was created), after a duplicate, and
// after both handles closed (relative to before).
struct Cost {
  int32_t first;
  int32_t with_dup;
  int32_t after_close;
};

constexpr int kEventFds = 2;      // doorbell + token
constexpr int kEventPairFds = 4;  // doorbell + life line + peer memfd + token

// Makes sure this thread has its waker (an eventfd libmx creates at the first wait), so that it
// is not counted as part of what comes next.
void TouchWaker(mx_handle_t channel) {
  mx_signals_t ignored = 0;
  mx_object_wait_one(channel, MX_CHANNEL_READABLE, 0, &ignored);
}

// Counts the fds of |h| (already counted in |first|), a duplicate of it, and none after closing.
Cost CountDupAndClose(int before, int first, mx_handle_t h) {
  Cost c = {first - before, 0, 0};
  mx_handle_t dup = MX_HANDLE_INVALID;
  if (mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &dup) != MX_OK) return {-1, -1, -1};
  c.with_dup = mx_test::CountOpenFds() - before;
  mx_handle_close(dup);
  mx_handle_close(h);
  c.after_close = mx_test::CountOpenFds() - before;
  return c;
}

// args: [user ("nobody" | "same-user"), what ("event" | "eventpair")]. Receives one handle on
// the control channel, reports its Cost.
MX_CHILD(fd_cost_receiver) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  if (args.at(0) == "nobody") CHILD_CHECK(mx_test::BecomeNobody());
  TouchWaker(control);
  CHILD_CHECK_OK(mx_test::WritePod(control, uint8_t{1}));  // ready
  const int before = mx_test::CountOpenFds();
  std::vector<mx_handle_t> handles;
  uint8_t hello = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(control, &hello, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  const Cost c = CountDupAndClose(before, mx_test::CountOpenFds(), handles[0]);
  CHILD_CHECK_OK(mx_test::WritePod(control, c));
  return 0;
}

// args: [what]. Creates an event (or an eventpair, keeping side 0) and sends it (side 1) to the
// test, then waits until told to exit.
MX_CHILD(fd_cost_sender) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t kept = MX_HANDLE_INVALID, sent = MX_HANDLE_INVALID;
  if (args.at(0) == "event") {
    CHILD_CHECK_OK(mx_event_create(0, &kept));
    CHILD_CHECK_OK(mx_handle_duplicate(kept, MX_RIGHT_SAME_RIGHTS, &sent));
  } else {
    CHILD_CHECK_OK(mx_eventpair_create(0, &kept, &sent));
  }
  CHILD_CHECK_OK(mx_test::WritePod(control, uint8_t{1}, {sent}));
  uint8_t done = 0;
  mx_test::ReadPod(control, &done);
  mx_handle_close(kept);
  return 0;
}

class EventFdCostTest : public mx_test::MultiprocessTest,
                        public ::testing::WithParamInterface<bool /*eventpair*/> {
 protected:
  const char* What() const { return GetParam() ? "eventpair" : "event"; }
  int PerObject() const { return GetParam() ? kEventPairFds : kEventFds; }

  void Print(const char* how, const Cost& c) {
    printf("[fd cost] %s, %s: %d fds for one handle, %d with a duplicate, %d after closing\n",
           What(), how, c.first, c.with_dup, c.after_close);
  }

  // Sends a handle with |remove| taken from its rights to a receiver child running as |user|.
  Cost SendToChild(const char* user, mx_rights_t remove) {
    mx_handle_t a = MX_HANDLE_INVALID, b = MX_HANDLE_INVALID, sent = MX_HANDLE_INVALID;
    if (GetParam()) {
      EXPECT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
    } else {
      EXPECT_EQ(mx_event_create(0, &a), MX_OK);
      EXPECT_EQ(mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &b), MX_OK);
    }
    EXPECT_EQ(mx_handle_replace(b, mx_test::RightsOf(b) & ~remove, &sent), MX_OK);
    mx_handle_t control, control_child, process;
    EXPECT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
    EXPECT_EQ(mx_test::SpawnChild("fd_cost_receiver", {{kControlInfo, control_child}},
                                  {user, What()}, &process),
              MX_OK);
    mx_test::ScopedProcess child(process);
    uint8_t ready = 0;
    EXPECT_EQ(mx_test::ReadPod(control, &ready), MX_OK);
    EXPECT_EQ(mx_test::WritePod(control, uint8_t{1}, {sent}), MX_OK);
    Cost c = {-1, -1, -1};
    EXPECT_EQ(mx_test::ReadPod(control, &c), MX_OK);
    EXPECT_EQ(child.Join(), 0);
    mx_handle_close(control);
    mx_handle_close(a);
    return c;
  }
};

TEST_P(EventFdCostTest, CreateDuplicateClose) {
  mx_handle_t a, b, c;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  TouchWaker(a);
  const int before = mx_test::CountOpenFds();
  mx_handle_t h = MX_HANDLE_INVALID, other = MX_HANDLE_INVALID;
  if (GetParam()) {
    ASSERT_EQ(mx_eventpair_create(0, &h, &other), MX_OK);
  } else {
    ASSERT_EQ(mx_event_create(0, &h), MX_OK);
  }
  const int created = mx_test::CountOpenFds();
  if (GetParam()) {
    // Both sides live in this process: two side objects, each with its handle.
    EXPECT_EQ(created - before, 2 * kEventPairFds);
    mx_handle_close(other);
    EXPECT_EQ(mx_test::CountOpenFds() - before, kEventPairFds);
  } else {
    EXPECT_EQ(created - before, kEventFds);
  }
  const Cost cost = CountDupAndClose(before, before + PerObject(), h);
  Print("created here", cost);
  EXPECT_EQ(cost.with_dup, PerObject() + 1);
  EXPECT_EQ(cost.after_close, 0);
  // A replaced handle keeps its token: no new fd.
  if (GetParam()) {
    ASSERT_EQ(mx_eventpair_create(0, &h, &other), MX_OK);
    mx_handle_close(other);
  } else {
    ASSERT_EQ(mx_event_create(0, &h), MX_OK);
  }
  const int one = mx_test::CountOpenFds();
  ASSERT_EQ(mx_handle_replace(h, MX_RIGHT_SAME_RIGHTS, &c), MX_OK);
  EXPECT_EQ(mx_test::CountOpenFds(), one);
  mx_handle_close(c);
  EXPECT_EQ(mx_test::CountOpenFds(), before);
  mx_handle_close(a);
  mx_handle_close(b);
}

TEST_P(EventFdCostTest, ReceivedFromAChild) {
  mx_handle_t control, control_child, process;
  ASSERT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
  TouchWaker(control);
  ASSERT_EQ(
      mx_test::SpawnChild("fd_cost_sender", {{kControlInfo, control_child}}, {What()}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  // The process handle (a pidfd) and the closed control end: counted after the spawn.
  const int spawned = mx_test::CountOpenFds();
  std::vector<mx_handle_t> handles;
  uint8_t hello = 0;
  ASSERT_EQ(mx_test::ReadPod(control, &hello, &handles), MX_OK);
  ASSERT_EQ(handles.size(), 1u);
  const Cost cost = CountDupAndClose(spawned, mx_test::CountOpenFds(), handles[0]);
  Print("received from a child of the same user", cost);
  EXPECT_EQ(cost.first, PerObject());
  EXPECT_EQ(cost.with_dup, PerObject() + 1);
  EXPECT_EQ(cost.after_close, 0);
  ASSERT_EQ(mx_test::WritePod(control, uint8_t{1}), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(control);
}

TEST_P(EventFdCostTest, SentToAChildOfTheSameUser) {
  const Cost c = SendToChild("same-user", 0);
  Print("received by a child of the same user", c);
  EXPECT_EQ(c.first, PerObject());
  EXPECT_EQ(c.with_dup, PerObject() + 1);
  EXPECT_EQ(c.after_close, 0);
}

TEST_P(EventFdCostTest, SentToAnotherUser) {
  if (!mx_test::CanBecomeAnotherUser()) GTEST_SKIP() << "needs root to run a child as nobody";
  // Without SIGNAL the own word arrives read-only and is reopened privately; with it another
  // uid cannot reopen it writable and keeps what it got: one more fd. (An eventpair side keeps
  // a description of the peer's word in every process, so SIGNAL_PEER costs nothing more.)
  const Cost without = SendToChild("nobody", MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER);
  Print("received by another user, without SIGNAL", without);
  EXPECT_EQ(without.first, PerObject());
  EXPECT_EQ(without.with_dup, PerObject() + 1);
  EXPECT_EQ(without.after_close, 0);
  const Cost with = SendToChild("nobody", 0);
  Print("received by another user, with SIGNAL", with);
  EXPECT_EQ(with.first, PerObject() + 1);
  EXPECT_EQ(with.with_dup, PerObject() + 2);
  EXPECT_EQ(with.after_close, 0);
}

INSTANTIATE_TEST_SUITE_P(Objects, EventFdCostTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "EventPair" : "Event");
                         });

}  // namespace
