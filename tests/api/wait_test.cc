// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of mx_object_wait_one and mx_object_wait_many.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

constexpr mx_signals_t kNewEndpointSignals = 0x400002;
constexpr mx_signals_t kUntouched = 0xDEADBEEFu;

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }
mx_time_t Now() { return mx_time_get(MX_CLOCK_MONOTONIC); }

mx_handle_t MakeEvent() {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_event_create(0, &h), MX_OK);
  return h;
}

void ReduceRights(mx_handle_t* h, mx_rights_t rights) {
  mx_handle_t out = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(*h, rights, &out), MX_OK);
  *h = out;
}

// Returns once thread |tid| sleeps in the kernel (state S or D). Called after the thread announced
// that it is about to enter a blocking libmx call, so a sleeping thread is blocked inside it.
bool WaitUntilThreadBlocked(pid_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", static_cast<int>(tid));
  const mx_time_t deadline = DeadlineIn10s();
  do {
    FILE* f = fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char* p = strrchr(buf, ')');
    if (p != nullptr && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D')) return true;
    sched_yield();
  } while (Now() < deadline);
  return false;
}

struct Channel {
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
  Channel() { EXPECT_EQ(mx_channel_create(0, &a, &b), MX_OK); }
  ~Channel() {
    if (a != MX_HANDLE_INVALID) mx_handle_close(a);
    if (b != MX_HANDLE_INVALID) mx_handle_close(b);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
};

// ---- wait_one --------------------------------------------------------------------------------

TEST(WaitTest, WaitOneReturnsOkImmediatelyWhenSatisfiedWithZeroDeadline) {
  Channel ch;
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_WRITABLE, 0, &s), MX_OK);
  EXPECT_EQ(s, kNewEndpointSignals);
}

TEST(WaitTest, WaitOneReturnsOkWhenSatisfiedWithPastDeadline) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "x", 1, nullptr, 0), MX_OK);
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_CHANNEL_READABLE, 1, &s), MX_OK);
  EXPECT_EQ(s, kNewEndpointSignals | MX_CHANNEL_READABLE);
  s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, Now() - 1, &s),
            MX_OK);
  EXPECT_EQ(s, kNewEndpointSignals | MX_CHANNEL_READABLE);
}

TEST(WaitTest, WaitOneReturnsOkWithInfiniteDeadlineWhenSatisfied) {
  Channel ch;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_WRITABLE, MX_TIME_INFINITE, nullptr), MX_OK);
}

TEST(WaitTest, WaitOnePollReturnsTimedOutWhenNotSatisfied) {
  Channel ch;
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, kNewEndpointSignals);
}

TEST(WaitTest, WaitOneTimesOutNoEarlierThanDeadline) {
  mx_handle_t e = MakeEvent();
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, deadline, &s), MX_ERR_TIMED_OUT);
  EXPECT_GE(Now(), deadline);
  EXPECT_EQ(s, MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitOneWithNoSignalsReadsCurrentSignals) {
  Channel ch;
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(ch.a, 0, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, kNewEndpointSignals);
  ASSERT_EQ(mx_channel_write(ch.b, 0, "x", 1, nullptr, 0), MX_OK);
  EXPECT_EQ(mx_object_wait_one(ch.a, 0, 0, &s), MX_ERR_TIMED_OUT);
  EXPECT_EQ(s, kNewEndpointSignals | MX_CHANNEL_READABLE);
}

TEST(WaitTest, WaitOneObservedIsOptional) {
  Channel ch;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_WRITABLE, 0, nullptr), MX_OK);
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, 0, nullptr), MX_ERR_TIMED_OUT);
}

TEST(WaitTest, WaitOneOnBadHandleReturnsBadHandle) {
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(MX_HANDLE_INVALID, MX_CHANNEL_READABLE, 0, &s), MX_ERR_BAD_HANDLE);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), &s), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(s, kUntouched);
}

TEST(WaitTest, WaitOneWithoutReadRightReturnsAccessDenied) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_READ);
  mx_signals_t s = kUntouched;
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), &s), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(s, kUntouched);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_READ);
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_WRITABLE, 0, &s), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(s, kUntouched);
}

TEST(WaitTest, WaitOneWakesWhenAnotherThreadWrites) {
  Channel ch;
  std::thread writer([&] { EXPECT_EQ(mx_channel_write(ch.b, 0, "x", 1, nullptr, 0), MX_OK); });
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, DeadlineIn10s(), &s), MX_OK);
  EXPECT_NE(s & MX_CHANNEL_READABLE, 0u);
  writer.join();
}

TEST(WaitTest, WaitOneWithInfiniteDeadlineWakesWhenAnotherThreadSignals) {
  mx_handle_t e = MakeEvent();
  std::thread signaler([&] { EXPECT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_3), MX_OK); });
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(e, MX_USER_SIGNAL_3, MX_TIME_INFINITE, &s), MX_OK);
  EXPECT_EQ(s, MX_USER_SIGNAL_3 | MX_SIGNAL_LAST_HANDLE);
  signaler.join();
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitOneWakesWhenPeerCloses) {
  Channel ch;
  std::thread closer([&] { EXPECT_EQ(mx_handle_close(ch.b), MX_OK); });
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), &s), MX_OK);
  EXPECT_NE(s & MX_CHANNEL_PEER_CLOSED, 0u);
  closer.join();
  ch.b = MX_HANDLE_INVALID;
}

TEST(WaitTest, WaitOneCanceledWhenHandleClosedReportsHandleClosed) {
  mx_handle_t e = MakeEvent();
  std::atomic<pid_t> tid{0};
  mx_status_t st = 1;
  mx_signals_t s = 0;
  std::thread waiter([&] {
    tid.store(gettid());
    st = mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), &s);
  });
  while (tid.load() == 0) sched_yield();
  EXPECT_TRUE(WaitUntilThreadBlocked(tid.load()));
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  waiter.join();
  EXPECT_EQ(st, MX_ERR_CANCELED);
  EXPECT_EQ(s & ~MX_SIGNAL_LAST_HANDLE, MX_SIGNAL_HANDLE_CLOSED);
}

// ---- wait_many -------------------------------------------------------------------------------

TEST(WaitTest, WaitManyWithNoItemsSleepsUntilDeadline) {
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  EXPECT_EQ(mx_object_wait_many(nullptr, 0, deadline), MX_ERR_TIMED_OUT);
  EXPECT_GE(Now(), deadline);
  mx_wait_item_t item = {MX_HANDLE_INVALID, 0, kUntouched};
  const mx_time_t deadline2 = mx_deadline_after(MX_MSEC(20));
  EXPECT_EQ(mx_object_wait_many(&item, 0, deadline2), MX_ERR_TIMED_OUT);
  EXPECT_GE(Now(), deadline2);
  EXPECT_EQ(item.pending, kUntouched);
}

TEST(WaitTest, WaitManyNullItemsReturnsInvalidArgs) {
  EXPECT_EQ(mx_object_wait_many(nullptr, 1, 0), MX_ERR_INVALID_ARGS);
}

TEST(WaitTest, WaitManyWithTooManyItemsReturnsInvalidArgs) {
  mx_handle_t e = MakeEvent();
  std::vector<mx_wait_item_t> items(1025, mx_wait_item_t{e, MX_EVENT_SIGNALED, kUntouched});
  ASSERT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_object_wait_many(items.data(), 1025, 0), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(items[0].pending, kUntouched);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyAcceptsMaxItems) {
  // Same handles many times over: 1024 items, 8 events.
  mx_handle_t events[8];
  for (mx_handle_t& e : events) e = MakeEvent();
  std::vector<mx_wait_item_t> items(MX_WAIT_MANY_MAX_ITEMS);
  for (size_t i = 0; i < items.size(); ++i)
    items[i] = {events[i % 8], MX_EVENT_SIGNALED, kUntouched};
  ASSERT_EQ(mx_object_signal(events[5], 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_object_wait_many(items.data(), 1024, DeadlineIn10s()), MX_OK);
  for (size_t i = 0; i < items.size(); ++i) {
    const mx_signals_t want =
        MX_SIGNAL_LAST_HANDLE | (i % 8 == 5 ? MX_EVENT_SIGNALED : MX_SIGNAL_NONE);
    ASSERT_EQ(items[i].pending, want) << "item " << i;
  }
  for (mx_handle_t e : events) EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyBadHandleItemReturnsBadHandleWithoutWritingBack) {
  mx_handle_t e = MakeEvent();
  mx_handle_t dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  ASSERT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  mx_wait_item_t items[2] = {{e, MX_EVENT_SIGNALED, kUntouched},
                             {dead, MX_EVENT_SIGNALED, kUntouched}};
  EXPECT_EQ(mx_object_wait_many(items, 2, DeadlineIn10s()), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(items[0].pending, kUntouched);
  EXPECT_EQ(items[1].pending, kUntouched);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyItemWithoutReadRightReturnsAccessDenied) {
  mx_handle_t e = MakeEvent();
  mx_handle_t noread = MakeEvent();
  ReduceRights(&noread, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_READ);
  ASSERT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  mx_wait_item_t items[2] = {{e, MX_EVENT_SIGNALED, kUntouched},
                             {noread, MX_EVENT_SIGNALED, kUntouched}};
  EXPECT_EQ(mx_object_wait_many(items, 2, DeadlineIn10s()), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(items[0].pending, kUntouched);
  EXPECT_EQ(items[1].pending, kUntouched);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(noread), MX_OK);
}

TEST(WaitTest, WaitManyReportsTheFirstFailingItem) {
  mx_handle_t noread = MakeEvent();
  ReduceRights(&noread, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_READ);
  mx_handle_t dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  mx_wait_item_t items[2] = {{noread, MX_EVENT_SIGNALED, 0}, {dead, MX_EVENT_SIGNALED, 0}};
  EXPECT_EQ(mx_object_wait_many(items, 2, 0), MX_ERR_ACCESS_DENIED);
  std::swap(items[0], items[1]);
  EXPECT_EQ(mx_object_wait_many(items, 2, 0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(noread), MX_OK);
}

TEST(WaitTest, WaitManyTimesOutAndSetsPendingForEveryItem) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_1), MX_OK);
  mx_wait_item_t items[2] = {{ch.a, MX_CHANNEL_READABLE, kUntouched},
                             {e, MX_EVENT_SIGNALED, kUntouched}};
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  EXPECT_EQ(mx_object_wait_many(items, 2, deadline), MX_ERR_TIMED_OUT);
  EXPECT_GE(Now(), deadline);
  EXPECT_EQ(items[0].pending, kNewEndpointSignals);
  EXPECT_EQ(items[1].pending, MX_USER_SIGNAL_1 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyReturnsOkImmediatelyWhenAnyItemIsSatisfied) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  mx_wait_item_t items[2] = {{e, MX_EVENT_SIGNALED, kUntouched},
                             {ch.a, MX_CHANNEL_WRITABLE, kUntouched}};
  EXPECT_EQ(mx_object_wait_many(items, 2, 0), MX_OK);
  EXPECT_EQ(items[0].pending, MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(items[1].pending, kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyWakesWhenAnyItemIsSignaledByAnotherThread) {
  mx_handle_t ev[3] = {MakeEvent(), MakeEvent(), MakeEvent()};
  mx_wait_item_t items[3];
  for (int i = 0; i < 3; ++i) items[i] = {ev[i], MX_EVENT_SIGNALED, kUntouched};
  std::thread signaler([&] { EXPECT_EQ(mx_object_signal(ev[1], 0, MX_EVENT_SIGNALED), MX_OK); });
  EXPECT_EQ(mx_object_wait_many(items, 3, DeadlineIn10s()), MX_OK);
  signaler.join();
  EXPECT_EQ(items[0].pending, MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(items[1].pending, MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(items[2].pending, MX_SIGNAL_LAST_HANDLE);
  for (mx_handle_t e : ev) EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyWakesOnChannelMessage) {
  Channel c1, c2;
  mx_wait_item_t items[2] = {{c1.a, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0},
                             {c2.a, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0}};
  std::thread writer([&] { EXPECT_EQ(mx_channel_write(c2.b, 0, "x", 1, nullptr, 0), MX_OK); });
  EXPECT_EQ(mx_object_wait_many(items, 2, DeadlineIn10s()), MX_OK);
  writer.join();
  EXPECT_EQ(items[0].pending, kNewEndpointSignals);
  EXPECT_EQ(items[1].pending, kNewEndpointSignals | MX_CHANNEL_READABLE);
}

TEST(WaitTest, WaitManyAllowsSameHandleTwice) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_0), MX_OK);
  mx_wait_item_t items[2] = {{e, MX_EVENT_SIGNALED, kUntouched}, {e, MX_USER_SIGNAL_0, kUntouched}};
  EXPECT_EQ(mx_object_wait_many(items, 2, DeadlineIn10s()), MX_OK);
  EXPECT_EQ(items[0].pending, MX_USER_SIGNAL_0 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(items[1].pending, MX_USER_SIGNAL_0 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(WaitTest, WaitManyCanceledWhenOneItemHandleIsClosedByAnotherThread) {
  mx_handle_t e1 = MakeEvent(), e2 = MakeEvent();
  mx_wait_item_t items[2] = {{e1, MX_EVENT_SIGNALED, kUntouched},
                             {e2, MX_EVENT_SIGNALED, kUntouched}};
  std::atomic<pid_t> tid{0};
  mx_status_t st = 1;
  std::thread waiter([&] {
    tid.store(gettid());
    st = mx_object_wait_many(items, 2, DeadlineIn10s());
  });
  while (tid.load() == 0) sched_yield();
  EXPECT_TRUE(WaitUntilThreadBlocked(tid.load()));
  EXPECT_EQ(mx_handle_close(e2), MX_OK);
  waiter.join();
  EXPECT_EQ(st, MX_ERR_CANCELED);
  EXPECT_EQ(items[0].pending, MX_SIGNAL_LAST_HANDLE);
  EXPECT_NE(items[1].pending & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << items[1].pending;
  EXPECT_EQ(mx_handle_close(e1), MX_OK);
}

}  // namespace
