// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of events and of mx_object_signal / mx_object_signal_peer on events and channels
//.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

constexpr mx_signals_t kNewEndpointSignals = 0x400002;

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
  } while (mx_time_get(MX_CLOCK_MONOTONIC) < deadline);
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

// ---- Events ----------------------------------------------------------------------------------

TEST(EventTest, CreateWithNonzeroOptionsReturnsInvalidArgs) {
  mx_handle_t e = 12345;
  EXPECT_EQ(mx_event_create(1, &e), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_event_create(0x80000000u, &e), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(e, 12345);
}

TEST(EventTest, CreateWithNullOutReturnsInvalidArgs) {
  EXPECT_EQ(mx_event_create(0, nullptr), MX_ERR_INVALID_ARGS);
}

TEST(EventTest, NewEventHasDefaultRightsTypeAndOnlyLastHandle) {
  mx_handle_t e = MakeEvent();
  mx_info_handle_basic_t info = BasicInfo(e);
  EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(info.related_koid, MX_KOID_INVALID);
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_NE(info.koid, MX_KOID_INVALID);
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalSetsAndClearsSignaled) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, 0, nullptr), MX_OK);
  ASSERT_EQ(mx_object_signal(e, MX_EVENT_SIGNALED, 0), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalSetsAndClearsEveryUserSignal) {
  mx_handle_t e = MakeEvent();
  for (int i = 0; i < 8; ++i) {
    const mx_signals_t bit = MX_USER_SIGNAL_0 << i;
    ASSERT_EQ(mx_object_signal(e, 0, bit), MX_OK);
    EXPECT_EQ(SignalsOf(e), bit | MX_SIGNAL_LAST_HANDLE) << i;
    ASSERT_EQ(mx_object_signal(e, bit, 0), MX_OK);
  }
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_ALL | MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_USER_SIGNAL_ALL | MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalClearsBeforeSetting) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_1 | MX_USER_SIGNAL_2), MX_OK);
  ASSERT_EQ(mx_object_signal(e, MX_USER_SIGNAL_1 | MX_USER_SIGNAL_2, MX_USER_SIGNAL_2), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_USER_SIGNAL_2 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalOfOtherBitsReturnsInvalidArgs) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_4), MX_OK);
  for (mx_signals_t bad :
       {MX_OBJECT_SIGNAL_0, MX_OBJECT_SIGNAL_1, MX_OBJECT_SIGNAL_2, MX_OBJECT_SIGNAL_4,
        MX_OBJECT_SIGNAL_21, MX_SIGNAL_LAST_HANDLE, MX_SIGNAL_HANDLE_CLOSED}) {
    EXPECT_EQ(mx_object_signal(e, 0, bad), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal(e, bad, 0), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal(e, MX_USER_SIGNAL_4, MX_EVENT_SIGNALED | bad), MX_ERR_INVALID_ARGS)
        << std::hex << bad;
  }
  // Nothing changed.
  EXPECT_EQ(SignalsOf(e), MX_USER_SIGNAL_4 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalNeedsSignalRight) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_SIGNAL);
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_ERR_ACCESS_DENIED);
  // Rights are checked before the mask.
  EXPECT_EQ(mx_object_signal(e, 0, MX_SIGNAL_LAST_HANDLE), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalNeedsNoRightButSignal) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_RIGHT_SIGNAL);
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, SignalOnBadHandleReturnsBadHandle) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_signal(MX_HANDLE_INVALID, 0, MX_EVENT_SIGNALED), MX_ERR_BAD_HANDLE);
}

TEST(EventTest, SignalPeerOnEventIsRejected) {
  // Final Magenta: signal_peer looks the handle up with SIGNAL_PEER, which events never carry, so
  // the call fails with ACCESS_DENIED before EventDispatcher::user_signal (NOT_SUPPORTED) is
  // reached.
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_object_signal_peer(e, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, DuplicatesShareSignalState) {
  mx_handle_t e = MakeEvent(), d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  ASSERT_EQ(mx_object_signal(d, 0, MX_USER_SIGNAL_6), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_USER_SIGNAL_6, DeadlineIn10s(), nullptr), MX_OK);
  ASSERT_EQ(mx_object_signal(e, MX_USER_SIGNAL_6, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_object_wait_one(d, MX_EVENT_SIGNALED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(d), MX_EVENT_SIGNALED);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, WaitWakesWhenAnotherThreadSignals) {
  mx_handle_t e = MakeEvent();
  std::thread signaler([&] { EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK); });
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), &s), MX_OK);
  EXPECT_EQ(s, MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  signaler.join();
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, ObservedAccumulatesSignalsSetAndClearedDuringWait) {
  mx_handle_t e = MakeEvent();
  std::atomic<pid_t> tid{0};
  mx_status_t st = 1;
  mx_signals_t s = 0;
  std::thread waiter([&] {
    tid.store(gettid());
    st = mx_object_wait_one(e, MX_USER_SIGNAL_7, DeadlineIn10s(), &s);
  });
  while (tid.load() == 0) sched_yield();
  EXPECT_TRUE(WaitUntilThreadBlocked(tid.load()));
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED | MX_USER_SIGNAL_2), MX_OK);
  EXPECT_EQ(mx_object_signal(e, MX_EVENT_SIGNALED | MX_USER_SIGNAL_2, 0), MX_OK);
  EXPECT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_7), MX_OK);
  waiter.join();
  EXPECT_EQ(st, MX_OK);
  EXPECT_EQ(s, MX_EVENT_SIGNALED | MX_USER_SIGNAL_2 | MX_USER_SIGNAL_7 | MX_SIGNAL_LAST_HANDLE)
      << std::hex << s;
  EXPECT_EQ(SignalsOf(e), MX_USER_SIGNAL_7 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, EventTravelsThroughChannelKeepingKoidRightsAndSharedState) {
  mx_handle_t e = MakeEvent();
  const mx_rights_t rights = MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_SIGNAL;
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, rights, &d), MX_OK);
  const mx_koid_t koid = BasicInfo(e).koid;
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_0), MX_OK);
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "ev", 2, &d, 1), MX_OK);
  EXPECT_FALSE(IsValid(d));
  // The object's state is not frozen while its handle travels.
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_1), MX_OK);
  mx_handle_t got = MX_HANDLE_INVALID;
  char buf[2];
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, 0, buf, &got, 2, 1, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  mx_info_handle_basic_t info = BasicInfo(got);
  EXPECT_EQ(info.koid, koid);
  EXPECT_EQ(info.rights, rights);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(mx_object_wait_one(got, MX_USER_SIGNAL_1, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(got), MX_USER_SIGNAL_0 | MX_USER_SIGNAL_1);  // two handles: no LAST_HANDLE
  // Signals flow both ways between the received handle and the one left behind.
  ASSERT_EQ(mx_object_signal(got, MX_USER_SIGNAL_0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_EVENT_SIGNALED | MX_USER_SIGNAL_1);
  ASSERT_EQ(mx_object_signal(e, 0, MX_USER_SIGNAL_5), MX_OK);
  EXPECT_EQ(mx_object_wait_one(got, MX_USER_SIGNAL_5, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventTest, DuplicateOfReceivedHandleIsLastOnceTheReceivedHandleCloses) {
  // A received handle's lock must die with it even while a duplicate keeps the object mapped
  // (found by the sequence fuzzer: the mapping held the received lock description).
  mx_handle_t e = MakeEvent();
  Channel ch;
  ASSERT_EQ(mx_channel_write(ch.a, 0, "ev", 2, &e, 1), MX_OK);
  mx_handle_t got = MX_HANDLE_INVALID;
  char buf[2];
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(ch.b, 0, buf, &got, 2, 1, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  EXPECT_EQ(SignalsOf(got), MX_SIGNAL_LAST_HANDLE);
  mx_handle_t dup = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(got, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  EXPECT_EQ(SignalsOf(dup), 0u);
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(SignalsOf(dup), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(dup), MX_OK);
}

// ---- Signals on channels ---------------------------------------------------------------------

TEST(ObjectSignalTest, ChannelSignalSetsOwnUserSignals) {
  Channel ch;
  ASSERT_EQ(mx_object_signal(ch.a, 0, MX_USER_SIGNAL_0 | MX_USER_SIGNAL_7), MX_OK);
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals | MX_USER_SIGNAL_0 | MX_USER_SIGNAL_7);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  ASSERT_EQ(mx_object_signal(ch.a, MX_USER_SIGNAL_0, 0), MX_OK);
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals | MX_USER_SIGNAL_7);
}

TEST(ObjectSignalTest, ChannelSignalPeerSetsPeersUserSignals) {
  Channel ch;
  ASSERT_EQ(mx_object_signal_peer(ch.a, 0, MX_USER_SIGNAL_3), MX_OK);
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_USER_SIGNAL_3, DeadlineIn10s(), &s), MX_OK);
  EXPECT_EQ(s, kNewEndpointSignals | MX_USER_SIGNAL_3);
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  ASSERT_EQ(mx_object_signal_peer(ch.a, MX_USER_SIGNAL_3, MX_USER_SIGNAL_4), MX_OK);
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_USER_SIGNAL_4, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals | MX_USER_SIGNAL_4);
}

TEST(ObjectSignalTest, ChannelSignalPeerWakesWaiterOnOtherThread) {
  Channel ch;
  std::thread signaler([&] { EXPECT_EQ(mx_object_signal_peer(ch.b, 0, MX_USER_SIGNAL_2), MX_OK); });
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_USER_SIGNAL_2, DeadlineIn10s(), nullptr), MX_OK);
  signaler.join();
}

TEST(ObjectSignalTest, ChannelSignalPeerAfterPeerClosedReturnsPeerClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_0), MX_ERR_PEER_CLOSED);
  // Its own user signals still work.
  EXPECT_EQ(mx_object_signal(a, 0, MX_USER_SIGNAL_0), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ObjectSignalTest, ChannelSignalOfNonUserBitsReturnsInvalidArgs) {
  Channel ch;
  for (mx_signals_t bad : {MX_CHANNEL_READABLE, MX_CHANNEL_WRITABLE, MX_CHANNEL_PEER_CLOSED,
                           MX_EVENT_SIGNALED, MX_SIGNAL_LAST_HANDLE, MX_SIGNAL_HANDLE_CLOSED}) {
    EXPECT_EQ(mx_object_signal(ch.a, 0, bad), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal(ch.a, bad, 0), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal_peer(ch.a, 0, bad), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal_peer(ch.a, bad, 0), MX_ERR_INVALID_ARGS) << std::hex << bad;
  }
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ObjectSignalTest, ChannelSignalPeerChecksMaskBeforePeer) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_object_signal_peer(a, 0, MX_CHANNEL_READABLE), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ObjectSignalTest, ChannelSignalNeedsSignalRight) {
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_SIGNAL);
  EXPECT_EQ(mx_object_signal(ch.a, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_signal_peer(ch.a, 0, MX_USER_SIGNAL_0), MX_OK);
}

TEST(ObjectSignalTest, ChannelSignalPeerNeedsSignalPeerRight) {
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_SIGNAL_PEER);
  EXPECT_EQ(mx_object_signal_peer(ch.a, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_signal(ch.a, 0, MX_USER_SIGNAL_0), MX_OK);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ObjectSignalTest, SignalPeerOnBadHandleReturnsBadHandle) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ObjectSignalTest, PeerUserSignalsFollowTransferredEndpoint) {
  Channel ch, carrier;
  ASSERT_EQ(mx_object_signal_peer(ch.a, 0, MX_USER_SIGNAL_1), MX_OK);
  ASSERT_EQ(mx_object_wait_one(ch.b, MX_USER_SIGNAL_1, DeadlineIn10s(), nullptr), MX_OK);
  ASSERT_EQ(mx_channel_write(carrier.a, 0, nullptr, 0, &ch.b, 1), MX_OK);
  ch.b = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_read(carrier.b, 0, nullptr, &ch.b, 0, 1, nullptr, nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals | MX_USER_SIGNAL_1);
}

}  // namespace
