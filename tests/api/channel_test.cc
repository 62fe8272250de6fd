// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of mx_channel_create / write / read, the channel signals, and the
// in-process part of B.1 (an endpoint keeps its queued messages while it travels).
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;
using mx_test::SignalsOf;

constexpr mx_signals_t kNewEndpointSignals = 0x400002;  // WRITABLE | LAST_HANDLE

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

bool IsValid(mx_handle_t h) {
  return mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == MX_OK;
}

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info;
  memset(&info, 0xA5, sizeof(info));
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

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

// True if |e| is a live event handle that can still be signalled (and is unchanged).
bool EventUsable(mx_handle_t e) {
  if (mx_object_signal(e, 0, MX_USER_SIGNAL_0) != MX_OK) return false;
  mx_signals_t s = 0;
  bool ok = mx_object_wait_one(e, MX_USER_SIGNAL_0, 0, &s) == MX_OK;
  return mx_object_signal(e, MX_USER_SIGNAL_0, 0) == MX_OK && ok;
}

// Creates and destroys one of each object once, so lazily created process-wide state exists
// before fds are counted.
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

// ---- Create ----------------------------------------------------------------------------------

TEST(ChannelTest, CreateWithNonzeroOptionsReturnsInvalidArgs) {
  mx_handle_t a = 12345, b = 54321;
  EXPECT_EQ(mx_channel_create(1, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_channel_create(0x80000000u, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(a, 12345);
  EXPECT_EQ(b, 54321);
}

TEST(ChannelTest, CreateWithNullOutReturnsInvalidArgs) {
  WarmUp();
  const int fds = CountOpenFds();
  mx_handle_t a = 12345;
  EXPECT_EQ(mx_channel_create(0, &a, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_channel_create(0, nullptr, &a), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_channel_create(0, nullptr, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(CountOpenFds(), fds);
}

TEST(ChannelTest, NewEndpointsAreWritableAndLastHandle) {
  Channel ch;
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelTest, NewEndpointsHaveDefaultRightsAndEachOthersKoid) {
  Channel ch;
  mx_info_handle_basic_t ia = BasicInfo(ch.a), ib = BasicInfo(ch.b);
  EXPECT_EQ(ia.rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(ib.rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_NE(ia.koid, ib.koid);
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
}

TEST(ChannelTest, CreateAndCloseDoesNotLeakFds) {
  WarmUp();
  const int fds = CountOpenFds();
  for (int i = 0; i < 100; ++i) {
    mx_handle_t a, b;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_OK);
    ASSERT_EQ(mx_handle_close(a), MX_OK);
    ASSERT_EQ(mx_handle_close(b), MX_OK);
  }
  EXPECT_EQ(CountOpenFds(), fds);
}

// ---- Write: checks in order --------------------------------------------------------------------

TEST(ChannelTest, WriteWithNonzeroOptionsReturnsInvalidArgs) {
  Channel ch;
  EXPECT_EQ(mx_channel_write(ch.a, 1, "x", 1, nullptr, 0), MX_ERR_INVALID_ARGS);
  mx_handle_t out = 0;
  uint32_t n = 99;
  EXPECT_EQ(mx_channel_read(ch.b, 0, nullptr, &out, 0, 0, &n, nullptr), MX_ERR_SHOULD_WAIT);
}

TEST(ChannelTest, WriteChecksOptionsBeforeHandleLookup) {
  EXPECT_EQ(mx_channel_write(MX_HANDLE_INVALID, 1, "x", 1, nullptr, 0), MX_ERR_INVALID_ARGS);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 2, "x", 1, nullptr, 0), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, WriteToBadHandleReturnsBadHandle) {
  EXPECT_EQ(mx_channel_write(MX_HANDLE_INVALID, 0, "x", 1, nullptr, 0), MX_ERR_BAD_HANDLE);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  // BAD_HANDLE comes before the size checks.
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 70000, nullptr, 0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, WriteWithoutWriteRightReturnsAccessDenied) {
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_WRITE);
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, nullptr, 0), MX_ERR_ACCESS_DENIED);
  // ACCESS_DENIED comes before the size checks.
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 70000, nullptr, 0), MX_ERR_ACCESS_DENIED);
}

TEST(ChannelTest, WriteOnEventReturnsWrongType) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_channel_write(e, 0, "x", 1, nullptr, 0), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, WriteOfMaxBytesSucceedsAndArrivesIntact) {
  Channel ch;
  std::vector<uint8_t> msg(MX_CHANNEL_MAX_MSG_BYTES);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 7 + 3);
  ASSERT_EQ(mx_channel_write(ch.a, 0, msg.data(), 65536, nullptr, 0), MX_OK);
  std::vector<uint8_t> got(65536 + 16);
  uint32_t n = 0, nh = 99;
  ASSERT_EQ(
      mx_channel_read(ch.b, 0, got.data(), nullptr, static_cast<uint32_t>(got.size()), 0, &n, &nh),
      MX_OK);
  EXPECT_EQ(n, 65536u);
  EXPECT_EQ(nh, 0u);
  EXPECT_EQ(memcmp(got.data(), msg.data(), 65536), 0);
}

TEST(ChannelTest, WriteOfTooManyBytesReturnsOutOfRange) {
  Channel ch;
  std::vector<uint8_t> msg(65537);
  EXPECT_EQ(mx_channel_write(ch.a, 0, msg.data(), 65537, nullptr, 0), MX_ERR_OUT_OF_RANGE);
  // OUT_OF_RANGE comes before the NULL-pointer checks.
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 65537, nullptr, 0), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_channel_read(ch.b, 0, nullptr, nullptr, 0, 0, nullptr, nullptr), MX_ERR_SHOULD_WAIT);
}

TEST(ChannelTest, WriteOfMaxHandlesSucceedsAndArrivesIntact) {
  Channel ch;
  mx_handle_t events[64];
  mx_koid_t koids[64];
  for (int i = 0; i < 64; ++i) {
    events[i] = MakeEvent();
    koids[i] = BasicInfo(events[i]).koid;
  }
  ASSERT_EQ(mx_channel_write(ch.a, 0, "h", 1, events, 64), MX_OK);
  for (mx_handle_t e : events) EXPECT_FALSE(IsValid(e));
  mx_handle_t got[64];
  char c = 0;
  uint32_t n = 0, nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, 0, &c, got, 1, 64, &n, &nh), MX_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(c, 'h');
  ASSERT_EQ(nh, 64u);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(BasicInfo(got[i]).koid, koids[i]) << "handle " << i << " out of order";
    EXPECT_EQ(mx_handle_close(got[i]), MX_OK);
  }
}

TEST(ChannelTest, WriteOfTooManyHandlesReturnsOutOfRangeAndKeepsThem) {
  Channel ch;
  mx_handle_t events[65];
  for (mx_handle_t& e : events) e = MakeEvent();
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, events, 65), MX_ERR_OUT_OF_RANGE);
  // The array is not read at all for OUT_OF_RANGE.
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, nullptr, 65), MX_ERR_OUT_OF_RANGE);
  for (mx_handle_t e : events) {
    EXPECT_TRUE(EventUsable(e));
    EXPECT_EQ(mx_handle_close(e), MX_OK);
  }
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelTest, WriteNullBytesWithNonzeroCountReturnsInvalidArgs) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 1, &e, 1), MX_ERR_INVALID_ARGS);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, WriteNullHandlesWithNonzeroCountReturnsInvalidArgs) {
  Channel ch;
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, nullptr, 1), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelTest, WriteNullPointersWithZeroCountsIsAnEmptyMessage) {
  Channel ch;
  EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, nullptr, 0), MX_OK);
  uint32_t n = 99, nh = 99;
  EXPECT_EQ(mx_channel_read(ch.b, 0, nullptr, nullptr, 0, 0, &n, &nh), MX_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(nh, 0u);
}

TEST(ChannelTest, WriteBadHandleInArrayReturnsBadHandleAndKeepsOthers) {
  Channel ch;
  mx_handle_t e1 = MakeEvent(), e2 = MakeEvent(), dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  mx_handle_t arr[3] = {e1, dead, e2};
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, arr, 3), MX_ERR_BAD_HANDLE);
  EXPECT_TRUE(EventUsable(e1));
  EXPECT_TRUE(EventUsable(e2));
  EXPECT_EQ(SignalsOf(e1), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e1), MX_OK);
  EXPECT_EQ(mx_handle_close(e2), MX_OK);
}

TEST(ChannelTest, WriteOfOwnEndpointReturnsNotSupportedAndKeepsHandles) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  mx_handle_t arr[2] = {e, ch.a};
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, arr, 2), MX_ERR_NOT_SUPPORTED);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  // The endpoint itself is untouched and still works.
  EXPECT_EQ(mx_channel_write(ch.a, 0, "y", 1, nullptr, 0), MX_OK);
  char c = 0;
  EXPECT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(c, 'y');
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, WriteOfHandleWithoutTransferRightReturnsAccessDenied) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_TRANSFER);
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, &e, 1), MX_ERR_ACCESS_DENIED);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(BasicInfo(e).rights, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_TRANSFER);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, WriteOfSameHandleTwiceReturnsInvalidArgsAndKeepsIt) {
  Channel ch;
  mx_handle_t e1 = MakeEvent(), e2 = MakeEvent();
  mx_handle_t arr[3] = {e1, e2, e1};
  EXPECT_EQ(mx_channel_write(ch.a, 0, "x", 1, arr, 3), MX_ERR_INVALID_ARGS);
  EXPECT_TRUE(EventUsable(e1));
  EXPECT_TRUE(EventUsable(e2));
  EXPECT_EQ(SignalsOf(e1), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e1), MX_OK);
  EXPECT_EQ(mx_handle_close(e2), MX_OK);
}

TEST(ChannelTest, WriteReportsTheFirstBadHandleInArrayOrder) {
  Channel ch;
  mx_handle_t dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  mx_handle_t no_transfer = MakeEvent();
  ReduceRights(&no_transfer, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_TRANSFER);
  {
    mx_handle_t arr[2] = {no_transfer, dead};
    EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, arr, 2), MX_ERR_ACCESS_DENIED);
  }
  {
    mx_handle_t arr[2] = {dead, no_transfer};
    EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, arr, 2), MX_ERR_BAD_HANDLE);
  }
  {
    mx_handle_t arr[2] = {ch.a, dead};
    EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, arr, 2), MX_ERR_NOT_SUPPORTED);
  }
  {
    mx_handle_t arr[2] = {no_transfer, ch.a};
    EXPECT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, arr, 2), MX_ERR_ACCESS_DENIED);
  }
  EXPECT_TRUE(EventUsable(no_transfer));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(no_transfer), MX_OK);
}

TEST(ChannelTest, WriteOfPeerEndpointIsAllowed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, "p", 1, &b, 1), MX_OK);
  EXPECT_FALSE(IsValid(b));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ChannelTest, WriteToClosedPeerReturnsPeerClosedAndKeepsHandles) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  mx_handle_t e = MakeEvent();
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  mx_handle_t arr[2] = {e, x};
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, arr, 2), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, nullptr, 0), MX_ERR_PEER_CLOSED);
  EXPECT_TRUE(EventUsable(e));
  // The endpoint that was offered still works.
  EXPECT_EQ(mx_channel_write(x, 0, "z", 1, nullptr, 0), MX_OK);
  char c = 0;
  EXPECT_EQ(mx_channel_read(y, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(c, 'z');
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
  EXPECT_EQ(mx_handle_close(y), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ChannelTest, WriteChecksHandleArrayBeforePeerClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  mx_handle_t dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, &dead, 1), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ChannelTest, WriteSuccessRemovesHandlesFromCaller) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  mx_handle_t arr[2] = {e, x};
  ASSERT_EQ(mx_channel_write(ch.a, 0, "m", 1, arr, 2), MX_OK);
  EXPECT_FALSE(IsValid(e));
  EXPECT_FALSE(IsValid(x));
  EXPECT_EQ(mx_handle_close(e), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_channel_write(x, 0, "x", 1, nullptr, 0), MX_ERR_BAD_HANDLE);
  // The endpoint in flight still has its peer.
  EXPECT_EQ(SignalsOf(y), kNewEndpointSignals);
  mx_handle_t got[2];
  ASSERT_EQ(mx_channel_read(ch.b, 0, nullptr, got, 0, 0, nullptr, nullptr),
            MX_ERR_BUFFER_TOO_SMALL);
  char c;
  ASSERT_EQ(mx_channel_read(ch.b, 0, &c, got, 1, 2, nullptr, nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(got[0]), MX_OK);
  EXPECT_EQ(mx_handle_close(got[1]), MX_OK);
  EXPECT_EQ(mx_handle_close(y), MX_OK);
}

TEST(ChannelTest, EmptyMessageMakesPeerReadable) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, nullptr, 0), MX_OK);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals | MX_CHANNEL_READABLE);
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  uint32_t n = 99, nh = 99;
  EXPECT_EQ(mx_channel_read(ch.b, 0, nullptr, nullptr, 0, 0, &n, &nh), MX_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(nh, 0u);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

// ---- Read ------------------------------------------------------------------------------------

TEST(ChannelTest, ReadWithUnknownOptionsReturnsNotSupported) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "x", 1, nullptr, 0), MX_OK);
  char c;
  EXPECT_EQ(mx_channel_read(ch.b, 2, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(
      mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD | 4, &c, nullptr, 1, 0, nullptr, nullptr),
      MX_ERR_NOT_SUPPORTED);
  // The message is still there.
  EXPECT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(c, 'x');
}

TEST(ChannelTest, ReadLooksUpHandleBeforeCheckingOptions) {
  char c;
  EXPECT_EQ(mx_channel_read(MX_HANDLE_INVALID, 2, &c, nullptr, 1, 0, nullptr, nullptr),
            MX_ERR_BAD_HANDLE);
  Channel ch;
  ReduceRights(&ch.b, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_READ);
  EXPECT_EQ(mx_channel_read(ch.b, 2, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_ACCESS_DENIED);
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_channel_read(e, 2, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, ReadFromBadHandleReturnsBadHandle) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  char c;
  EXPECT_EQ(mx_channel_read(b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ChannelTest, ReadWithoutReadRightReturnsAccessDenied) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "x", 1, nullptr, 0), MX_OK);
  ReduceRights(&ch.b, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_READ);
  char c;
  EXPECT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_ACCESS_DENIED);
}

TEST(ChannelTest, ReadWhenEmptyReturnsShouldWait) {
  Channel ch;
  char c;
  uint32_t n = 77, nh = 77;
  EXPECT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, &n, &nh), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(n, 77u);
  EXPECT_EQ(nh, 77u);
  EXPECT_EQ(mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, &c, nullptr, 1, 0, nullptr, nullptr),
            MX_ERR_SHOULD_WAIT);
}

TEST(ChannelTest, ReadWhenEmptyAndPeerClosedReturnsPeerClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  char c;
  EXPECT_EQ(mx_channel_read(b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, PeerCloseSetsPeerClosedAndClearsWritable) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_object_wait_one(b, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(b), MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, ReadBufferTooSmallKeepsMessageAtFront) {
  Channel ch;
  char msg[100];
  for (int i = 0; i < 100; ++i) msg[i] = static_cast<char>(i);
  mx_handle_t ev[2] = {MakeEvent(), MakeEvent()};
  ASSERT_EQ(mx_channel_write(ch.a, 0, msg, 100, ev, 2), MX_OK);
  ASSERT_EQ(mx_channel_write(ch.a, 0, "second", 6, nullptr, 0), MX_OK);

  char buf[128];
  mx_handle_t got[4] = {0, 0, 0, 0};
  uint32_t n = 0, nh = 0;
  // Too few bytes.
  EXPECT_EQ(mx_channel_read(ch.b, 0, buf, got, 10, 4, &n, &nh), MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(nh, 2u);
  // Too few handles.
  n = nh = 0;
  EXPECT_EQ(mx_channel_read(ch.b, 0, buf, got, sizeof(buf), 1, &n, &nh), MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(nh, 2u);
  // The sizes are optional.
  EXPECT_EQ(mx_channel_read(ch.b, 0, buf, got, 0, 0, nullptr, nullptr), MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_NE(SignalsOf(ch.b) & MX_CHANNEL_READABLE, 0u);
  // Still the first message, intact.
  n = nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, 0, buf, got, sizeof(buf), 4, &n, &nh), MX_OK);
  EXPECT_EQ(n, 100u);
  ASSERT_EQ(nh, 2u);
  EXPECT_EQ(memcmp(buf, msg, 100), 0);
  EXPECT_TRUE(EventUsable(got[0]));
  EXPECT_TRUE(EventUsable(got[1]));
  EXPECT_EQ(mx_handle_close(got[0]), MX_OK);
  EXPECT_EQ(mx_handle_close(got[1]), MX_OK);
  ASSERT_EQ(mx_channel_read(ch.b, 0, buf, got, sizeof(buf), 4, &n, &nh), MX_OK);
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(memcmp(buf, "second", 6), 0);
}

TEST(ChannelTest, ReadMayDiscardRemovesTooLargeMessage) {
  Channel ch;
  char msg[100] = {};
  mx_handle_t ev[5];
  for (mx_handle_t& e : ev) e = MakeEvent();
  ASSERT_EQ(mx_channel_write(ch.a, 0, msg, 100, ev, 5), MX_OK);
  char buf[8];
  uint32_t n = 0, nh = 0;
  EXPECT_EQ(
      mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, buf, nullptr, sizeof(buf), 0, &n, &nh),
      MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(nh, 5u);
  EXPECT_EQ(SignalsOf(ch.b) & MX_CHANNEL_READABLE, 0u);
  EXPECT_EQ(mx_channel_read(ch.b, 0, buf, nullptr, sizeof(buf), 0, nullptr, nullptr),
            MX_ERR_SHOULD_WAIT);
}

TEST(ChannelTest, ReadMayDiscardLeavesFollowingMessages) {
  Channel ch;
  char big[64] = {};
  ASSERT_EQ(mx_channel_write(ch.a, 0, big, sizeof(big), nullptr, 0), MX_OK);
  ASSERT_EQ(mx_channel_write(ch.a, 0, "ok", 2, nullptr, 0), MX_OK);
  char buf[8];
  EXPECT_EQ(mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, buf, nullptr, sizeof(buf), 0,
                            nullptr, nullptr),
            MX_ERR_BUFFER_TOO_SMALL);
  uint32_t n = 0;
  ASSERT_EQ(
      mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, buf, nullptr, sizeof(buf), 0, &n, nullptr),
      MX_OK);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(memcmp(buf, "ok", 2), 0);
}

TEST(ChannelTest, ReadMayDiscardClosesHandlesOfDiscardedMessage) {
  Channel ch;
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  mx_handle_t e = MakeEvent(), d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  mx_handle_t arr[2] = {y, d};
  ASSERT_EQ(mx_channel_write(ch.a, 0, "discard me", 10, arr, 2), MX_OK);
  char buf[1];
  EXPECT_EQ(
      mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, buf, nullptr, 1, 0, nullptr, nullptr),
      MX_ERR_BUFFER_TOO_SMALL);
  // The endpoint inside the message was closed: its peer sees PEER_CLOSED.
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(x, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), &s), MX_OK);
  EXPECT_NE(s & MX_CHANNEL_PEER_CLOSED, 0u);
  EXPECT_EQ(mx_channel_write(x, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);
  // The event duplicate inside was closed too.
  EXPECT_EQ(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelTest, ReadMayDiscardWithLargeEnoughBufferReadsNormally) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_channel_write(ch.a, 0, "abc", 3, &e, 1), MX_OK);
  char buf[8];
  mx_handle_t got = 0;
  uint32_t n = 0, nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, buf, &got, sizeof(buf), 1, &n, &nh),
            MX_OK);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(nh, 1u);
  EXPECT_TRUE(EventUsable(got));
  EXPECT_EQ(mx_handle_close(got), MX_OK);
}

TEST(ChannelTest, ReceivedHandlesKeepRightsAndKoid) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  const mx_rights_t rights = MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_SIGNAL;
  ReduceRights(&e, rights);
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  ReduceRights(&y, MX_RIGHT_TRANSFER | MX_RIGHT_READ);
  const mx_info_handle_basic_t ie = BasicInfo(e), iy = BasicInfo(y);
  mx_handle_t arr[2] = {e, y};
  ASSERT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, arr, 2), MX_OK);
  mx_handle_t got[2];
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, 0, nullptr, got, 0, 2, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 2u);
  const mx_info_handle_basic_t ge = BasicInfo(got[0]), gy = BasicInfo(got[1]);
  EXPECT_EQ(ge.koid, ie.koid);
  EXPECT_EQ(ge.rights, rights);
  EXPECT_EQ(ge.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(gy.koid, iy.koid);
  EXPECT_EQ(gy.related_koid, BasicInfo(x).koid);
  EXPECT_EQ(gy.rights, MX_RIGHT_TRANSFER | MX_RIGHT_READ);
  EXPECT_EQ(gy.type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  // The received endpoint still talks to its peer.
  ASSERT_EQ(mx_channel_write(x, 0, "hello", 5, nullptr, 0), MX_OK);
  char buf[8];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(got[1], 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(memcmp(buf, "hello", 5), 0);
  EXPECT_EQ(mx_handle_close(got[0]), MX_OK);
  EXPECT_EQ(mx_handle_close(got[1]), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
}

TEST(ChannelTest, QueuedMessagesStayReadableAfterPeerCloses) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_channel_write(a, 0, "one", 3, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "two", 3, &e, 1), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "three", 5, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  ASSERT_EQ(mx_object_wait_one(b, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(b), MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  char buf[8];
  uint32_t n = 0, nh = 0;
  mx_handle_t got = 0;
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "one");
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "two");
  ASSERT_EQ(nh, 1u);
  EXPECT_TRUE(EventUsable(got));
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "three");
  EXPECT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(SignalsOf(b), MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

// Found by the sequence fuzzer: when the closing endpoint had messages of its own unread, Linux
// reports ECONNRESET to the peer's socket ahead of the peer's queued datagrams, and the peer took
// that for the end of the stream, losing everything the closer had sent.
TEST(ChannelTest, QueuedMessagesStayReadableWhenPeerClosesWithUnreadMessages) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_channel_write(a, 0, "one", 3, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "two", 3, &e, 1), MX_OK);
  ASSERT_EQ(mx_channel_write(b, 0, "unread", 6, nullptr, 0), MX_OK);  // a never reads this
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  char buf[8];
  uint32_t n = 0, nh = 0;
  mx_handle_t got = 0;
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "one");
  ASSERT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, n), "two");
  ASSERT_EQ(nh, 1u);
  EXPECT_TRUE(EventUsable(got));
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_channel_read(b, 0, buf, &got, sizeof(buf), 1, &n, &nh), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(SignalsOf(b), MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, MessageOrderIsPreserved) {
  Channel ch;
  constexpr uint32_t kCount = 1000;
  for (uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(mx_channel_write(ch.a, 0, &i, sizeof(i), nullptr, 0), MX_OK);
  }
  for (uint32_t i = 0; i < kCount; ++i) {
    uint32_t v = ~0u, n = 0;
    ASSERT_EQ(mx_channel_read(ch.b, 0, &v, nullptr, sizeof(v), 0, &n, nullptr), MX_OK);
    ASSERT_EQ(n, sizeof(v));
    ASSERT_EQ(v, i);
  }
  uint32_t v;
  EXPECT_EQ(mx_channel_read(ch.b, 0, &v, nullptr, sizeof(v), 0, nullptr, nullptr),
            MX_ERR_SHOULD_WAIT);
}

TEST(ChannelTest, BothDirectionsAreIndependent) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "ab", 2, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_channel_write(ch.b, 0, "ba", 2, nullptr, 0), MX_OK);
  char buf[2];
  ASSERT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, 2, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(memcmp(buf, "ba", 2), 0);
  ASSERT_EQ(mx_channel_read(ch.b, 0, buf, nullptr, 2, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(memcmp(buf, "ab", 2), 0);
}

TEST(ChannelTest, ReadableClearsWhenDrained) {
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "1", 1, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_channel_write(ch.a, 0, "2", 1, nullptr, 0), MX_OK);
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_CHANNEL_READABLE, 0, nullptr), MX_OK);
  char c;
  ASSERT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_OK);
  EXPECT_NE(SignalsOf(ch.b) & MX_CHANNEL_READABLE, 0u);
  ASSERT_EQ(mx_channel_read(ch.b, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_CHANNEL_READABLE, 0, nullptr), MX_ERR_TIMED_OUT);
}

TEST(ChannelTest, ConcurrentReadersEachGetWholeDistinctMessages) {
  constexpr int kThreads = 4;
  constexpr uint32_t kPerThread = 1000;
  constexpr uint32_t kTotal = kThreads * kPerThread;
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);

  std::mutex mu;
  std::vector<int> seen(kTotal, 0);
  std::atomic<int> corrupt{0}, errors{0};
  auto reader = [&] {
    for (;;) {
      uint8_t buf[64];
      uint32_t n = 0;
      mx_status_t st = mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr);
      if (st == MX_ERR_SHOULD_WAIT) {
        mx_status_t ws = mx_object_wait_one(b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                            DeadlineIn10s(), nullptr);
        if (ws != MX_OK) {
          ++errors;
          return;
        }
        continue;
      }
      if (st == MX_ERR_PEER_CLOSED) return;
      if (st != MX_OK) {
        ++errors;
        return;
      }
      // Layout: uint32 seq, then (seq % 50) bytes of (seq + i).
      uint32_t seq;
      memcpy(&seq, buf, sizeof(seq));
      if (seq >= kTotal || n != 4 + seq % 50) {
        ++corrupt;
        continue;
      }
      for (uint32_t i = 0; i < seq % 50; ++i) {
        if (buf[4 + i] != static_cast<uint8_t>(seq + i)) {
          ++corrupt;
          break;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      ++seen[seq];
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < kThreads; ++i) readers.emplace_back(reader);
  for (uint32_t seq = 0; seq < kTotal; ++seq) {
    uint8_t buf[64];
    memcpy(buf, &seq, sizeof(seq));
    for (uint32_t i = 0; i < seq % 50; ++i) buf[4 + i] = static_cast<uint8_t>(seq + i);
    mx_status_t st;
    while ((st = mx_channel_write(a, 0, buf, 4 + seq % 50, nullptr, 0)) == MX_ERR_SHOULD_WAIT) {
      if (mx_object_wait_one(a, MX_CHANNEL_WRITABLE, DeadlineIn10s(), nullptr) != MX_OK) break;
    }
    EXPECT_EQ(st, MX_OK) << "writing message " << seq;
    if (st != MX_OK) break;  // the readers still stop: closing |a| below gives them PEER_CLOSED
  }
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(corrupt.load(), 0);
  for (uint32_t seq = 0; seq < kTotal; ++seq) {
    ASSERT_EQ(seen[seq], 1) << "message " << seq << " seen " << seen[seq] << " times";
  }
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelTest, MessagesAndHandlesDoNotLeakFds) {
  WarmUp();
  const int fds = CountOpenFds();
  {
    Channel ch;
    for (int i = 0; i < 20; ++i) {
      mx_handle_t x, y, e = MakeEvent();
      ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
      mx_handle_t arr[3] = {x, y, e};
      ASSERT_EQ(mx_channel_write(ch.a, 0, "m", 1, arr, 3), MX_OK);
    }
    // Read half, discard a quarter, leave the rest in the queue when the channel closes.
    for (int i = 0; i < 10; ++i) {
      mx_handle_t got[3];
      char c;
      ASSERT_EQ(mx_channel_read(ch.b, 0, &c, got, 1, 3, nullptr, nullptr), MX_OK);
      for (mx_handle_t h : got) EXPECT_EQ(mx_handle_close(h), MX_OK);
    }
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(mx_channel_read(ch.b, MX_CHANNEL_READ_MAY_DISCARD, nullptr, nullptr, 0, 0, nullptr,
                                nullptr),
                MX_ERR_BUFFER_TOO_SMALL);
    }
  }
  // Closing may release nested objects asynchronously: allow it time.
  const mx_time_t deadline = DeadlineIn10s();
  while (CountOpenFds() != fds && mx_time_get(MX_CLOCK_MONOTONIC) < deadline) {
    mx_nanosleep(mx_deadline_after(MX_MSEC(1)));
  }
  EXPECT_EQ(CountOpenFds(), fds);
}

// ---- Endpoints keep their queues while they travel (B.1, in-process) ---------------------------

TEST(ChannelTest, TransferredEndpointKeepsQueuedMessagesInOrder) {
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  // Messages waiting in y's queue before it moves.
  for (uint32_t i = 0; i < 10; ++i) ASSERT_EQ(mx_channel_write(x, 0, &i, 4, nullptr, 0), MX_OK);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_channel_write(x, 0, "E", 1, &e, 1), MX_OK);

  // Move y through five channels; write more messages to it while it is in flight.
  mx_handle_t cur = y;
  for (uint32_t hop = 0; hop < 5; ++hop) {
    Channel ch;
    ASSERT_EQ(mx_channel_write(ch.a, 0, "hop", 3, &cur, 1), MX_OK);
    uint32_t v = 100 + hop;
    ASSERT_EQ(mx_channel_write(x, 0, &v, 4, nullptr, 0), MX_OK);
    char buf[3];
    uint32_t nh = 0;
    ASSERT_EQ(mx_channel_read(ch.b, 0, buf, &cur, 3, 1, nullptr, &nh), MX_OK);
    ASSERT_EQ(nh, 1u);
  }
  EXPECT_EQ(BasicInfo(cur).related_koid, BasicInfo(x).koid);
  for (uint32_t i = 0; i < 10; ++i) {
    uint32_t v = ~0u;
    ASSERT_EQ(mx_channel_read(cur, 0, &v, nullptr, 4, 0, nullptr, nullptr), MX_OK);
    EXPECT_EQ(v, i);
  }
  char c = 0;
  mx_handle_t got = 0;
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(cur, 0, &c, &got, 1, 1, nullptr, &nh), MX_OK);
  EXPECT_EQ(c, 'E');
  ASSERT_EQ(nh, 1u);
  EXPECT_TRUE(EventUsable(got));
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  for (uint32_t hop = 0; hop < 5; ++hop) {
    uint32_t v = ~0u;
    ASSERT_EQ(mx_channel_read(cur, 0, &v, nullptr, 4, 0, nullptr, nullptr), MX_OK);
    EXPECT_EQ(v, 100 + hop);
  }
  EXPECT_EQ(mx_channel_read(cur, 0, &c, nullptr, 1, 0, nullptr, nullptr), MX_ERR_SHOULD_WAIT);
  // And it still works in both directions.
  ASSERT_EQ(mx_channel_write(cur, 0, "back", 4, nullptr, 0), MX_OK);
  char buf[4];
  ASSERT_EQ(mx_channel_read(x, 0, buf, nullptr, 4, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(memcmp(buf, "back", 4), 0);
  EXPECT_EQ(mx_handle_close(cur), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
}

TEST(ChannelTest, ClosingEndpointInFlightClosesItsPeerSide) {
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  {
    Channel ch;
    ASSERT_EQ(mx_channel_write(ch.a, 0, nullptr, 0, &y, 1), MX_OK);
  }  // ch closes with y unread in its queue
  EXPECT_EQ(mx_object_wait_one(x, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
}

}  // namespace

// The shared-memory ring: a write after the reader closed returns PEER_CLOSED even when the
// reader never mapped the ring (its announcement was still unread when it closed).
TEST(ChannelRingTest, WriteAfterPeerClosedBeforeMappingTheRingReturnsPeerClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  for (int i = 0; i < 9; ++i) ASSERT_EQ(mx_channel_write(a, 0, "12345678", 8, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, nullptr, 0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// ...and when it did map it and closed in order.
TEST(ChannelRingTest, WriteAfterPeerClosedWithTheRingMappedReturnsPeerClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  char buf[8];
  uint32_t n = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(mx_channel_write(a, 0, "12345678", 8, nullptr, 0), MX_OK);
    ASSERT_EQ(mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  }
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}
