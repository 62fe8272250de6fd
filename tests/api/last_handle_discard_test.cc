// SPDX-License-Identifier: BSD-3-Clause
// A message holding the only other handle to an event or an eventpair side, dropped inside this
// process: the holder of the remaining handle gets MX_SIGNAL_LAST_HANDLE at once — a port wait
// armed earlier fires, and mx_object_wait_one blocked in another thread returns. The ways a
// message is dropped: its receiving endpoint closed with the message unread (still on the
// socket, or already pulled into the endpoint's queue), a read with MAY_DISCARD.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>

#include "support/last_handle_watch.h"

namespace {

using mx_test::LastHandleWatch;

mx_time_t Soon() { return mx_deadline_after(MX_SEC(10)); }

enum class Drop { kCloseUnread, kCloseAfterPull, kReadMayDiscard };

struct Objects {
  mx_handle_t kept = MX_HANDLE_INVALID;   // the handle whose LAST_HANDLE is watched
  mx_handle_t other = MX_HANDLE_INVALID;  // eventpair: the peer side, closed by the test
};

Objects MakeEvent(mx_handle_t* sent) {
  Objects s;
  EXPECT_EQ(mx_event_create(0, &s.kept), MX_OK);
  EXPECT_EQ(mx_handle_duplicate(s.kept, MX_RIGHT_SAME_RIGHTS, sent), MX_OK);
  return s;
}

Objects MakeEventPairSide(mx_handle_t* sent) {
  Objects s;
  EXPECT_EQ(mx_eventpair_create(0, &s.kept, &s.other), MX_OK);
  EXPECT_EQ(mx_handle_duplicate(s.kept, MX_RIGHT_SAME_RIGHTS, sent), MX_OK);
  return s;
}

// Sends |sent| (the other handle to |s.kept|) through a channel, arms the watch, drops the
// message as |drop| says, and expects both observers to be told.
void ExpectToldWhenDropped(const Objects& s, mx_handle_t sent, Drop drop) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "x", 1, &sent, 1), MX_OK);
  EXPECT_FALSE(mx_test::LastHandleWatch::Signals(s.kept) & MX_SIGNAL_LAST_HANDLE);
  LastHandleWatch watch(s.kept);
  ASSERT_TRUE(watch.WaitUntilBlocked(Soon()));
  switch (drop) {
    case Drop::kCloseUnread:
      break;
    case Drop::kCloseAfterPull:
      ASSERT_EQ(mx_object_wait_one(b, MX_CHANNEL_READABLE, Soon(), nullptr), MX_OK);
      break;
    case Drop::kReadMayDiscard: {
      uint32_t actual_bytes = 0, actual_handles = 0;
      EXPECT_EQ(mx_channel_read(b, MX_CHANNEL_READ_MAY_DISCARD, nullptr, nullptr, 0, 0,
                                &actual_bytes, &actual_handles),
                MX_ERR_BUFFER_TOO_SMALL);
      EXPECT_EQ(actual_handles, 1u);
      EXPECT_EQ(mx_channel_read(b, 0, nullptr, nullptr, 0, 0, nullptr, nullptr),
                MX_ERR_SHOULD_WAIT);  // it is gone
      break;
    }
  }
  if (drop != Drop::kReadMayDiscard) {
    EXPECT_EQ(mx_handle_close(b), MX_OK);
  }
  EXPECT_TRUE(watch.PortFired(Soon()));
  EXPECT_TRUE(watch.WaiterWoke(Soon()));
  const bool released = watch.Finish();
  if (!released) {
    EXPECT_EQ(mx_handle_close(s.kept), MX_OK);
  }
  mx_handle_close(a);
  if (drop == Drop::kReadMayDiscard) {
    mx_handle_close(b);
  }
  if (s.other != MX_HANDLE_INVALID) mx_handle_close(s.other);
}

class LastHandleDiscardTest : public ::testing::TestWithParam<Drop> {};

TEST_P(LastHandleDiscardTest, EventIsToldAtOnce) {
  mx_handle_t sent;
  Objects s = MakeEvent(&sent);
  ExpectToldWhenDropped(s, sent, GetParam());
}

TEST_P(LastHandleDiscardTest, EventPairSideIsToldAtOnce) {
  mx_handle_t sent;
  Objects s = MakeEventPairSide(&sent);
  ExpectToldWhenDropped(s, sent, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Drops, LastHandleDiscardTest,
                         ::testing::Values(Drop::kCloseUnread, Drop::kCloseAfterPull,
                                           Drop::kReadMayDiscard),
                         [](const ::testing::TestParamInfo<Drop>& info) {
                           switch (info.param) {
                             case Drop::kCloseUnread:
                               return "CloseUnread";
                             case Drop::kCloseAfterPull:
                               return "CloseAfterPull";
                             case Drop::kReadMayDiscard:
                               return "ReadMayDiscard";
                           }
                           return "Unknown";
                         });

// Sending the handle on and receiving it is no drop: nobody is told anything.
TEST(LastHandleDiscardTest, ReceivedHandleKeepsTheCount) {
  mx_handle_t kept, sent, a, b;
  ASSERT_EQ(mx_event_create(0, &kept), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(kept, MX_RIGHT_SAME_RIGHTS, &sent), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "x", 1, &sent, 1), MX_OK);
  char byte;
  mx_handle_t received = MX_HANDLE_INVALID;
  uint32_t actual_handles = 0;
  ASSERT_EQ(mx_channel_read(b, 0, &byte, &received, 1, 1, nullptr, &actual_handles), MX_OK);
  EXPECT_FALSE(LastHandleWatch::Signals(kept) & MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(received), MX_OK);
  EXPECT_TRUE(LastHandleWatch::Signals(kept) & MX_SIGNAL_LAST_HANDLE);
  mx_handle_close(kept);
  mx_handle_close(a);
  mx_handle_close(b);
}

}  // namespace
