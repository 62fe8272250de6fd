// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of event pairs: mx_eventpair_create, mx_object_signal / mx_object_signal_peer
// on eventpair sides, MX_EPAIR_PEER_CLOSED and MX_SIGNAL_LAST_HANDLE.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <mx/event.h>
#include <mx/eventpair.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <atomic>
#include <thread>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

constexpr mx_rights_t kEventPairRights =
    0x300F;  // DUPLICATE TRANSFER READ WRITE SIGNAL SIGNAL_PEER

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

void ReduceRights(mx_handle_t* h, mx_rights_t rights) {
  mx_handle_t out = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(*h, rights, &out), MX_OK);
  *h = out;
}

// Both sides of a new event pair, closed at the end of the test if still open.
struct Pair {
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
  Pair() { EXPECT_EQ(mx_eventpair_create(0, &a, &b), MX_OK); }
  ~Pair() {
    if (a != MX_HANDLE_INVALID) mx_handle_close(a);
    if (b != MX_HANDLE_INVALID) mx_handle_close(b);
  }
  void CloseA() {
    ASSERT_EQ(mx_handle_close(a), MX_OK);
    a = MX_HANDLE_INVALID;
  }
  void CloseB() {
    ASSERT_EQ(mx_handle_close(b), MX_OK);
    b = MX_HANDLE_INVALID;
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
};

// ---- Creation --------------------------------------------------------------------------------

TEST(EventPairTest, CreateWithNonzeroOptionsReturnsNotSupported) {
  // Magenta's sys_eventpair_create (code and docs): options != 0 is NOT_SUPPORTED.
  mx_handle_t a = 111, b = 222;
  EXPECT_EQ(mx_eventpair_create(1, &a, &b), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(mx_eventpair_create(0x80000000u, &a, &b), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(a, 111);
  EXPECT_EQ(b, 222);
}

TEST(EventPairTest, CreateWithNullOutReturnsInvalidArgs) {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_eventpair_create(0, nullptr, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_eventpair_create(0, &h, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(h, MX_HANDLE_INVALID);
}

TEST(EventPairTest, NewSidesHaveDefaultRightsTypeCrossedKoidsAndOnlyLastHandle) {
  Pair p;
  mx_info_handle_basic_t ia = BasicInfo(p.a);
  mx_info_handle_basic_t ib = BasicInfo(p.b);
  EXPECT_EQ(ia.rights, kEventPairRights);
  EXPECT_EQ(ib.rights, kEventPairRights);
  EXPECT_EQ(ia.rights, static_cast<mx_rights_t>(MX_DEFAULT_EVENTPAIR_RIGHTS));
  EXPECT_EQ(ia.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT_PAIR));
  EXPECT_EQ(ia.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_NE(ia.koid, MX_KOID_INVALID);
  EXPECT_NE(ib.koid, MX_KOID_INVALID);
  EXPECT_NE(ia.koid, ib.koid);
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
}

// ---- mx_object_signal / mx_object_signal_peer -----------------------------------------------

TEST(EventPairTest, SignalSetsAndClearsOwnBitsOnly) {
  Pair p;
  ASSERT_EQ(mx_object_signal(p.a, 0, MX_EPAIR_SIGNALED | MX_USER_SIGNAL_3), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_EPAIR_SIGNALED | MX_USER_SIGNAL_3 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
  ASSERT_EQ(mx_object_signal(p.a, MX_USER_SIGNAL_3, 0), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_EPAIR_SIGNALED | MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalPeerSetsAndClearsPeerBitsOnly) {
  Pair p;
  ASSERT_EQ(mx_object_signal_peer(p.a, 0, MX_EPAIR_SIGNALED | MX_USER_SIGNAL_ALL), MX_OK);
  EXPECT_EQ(SignalsOf(p.b), MX_EPAIR_SIGNALED | MX_USER_SIGNAL_ALL | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_wait_one(p.b, MX_USER_SIGNAL_5, 0, nullptr), MX_OK);
  // Clear before set, as Magenta's UpdateState.
  ASSERT_EQ(mx_object_signal_peer(p.a, MX_USER_SIGNAL_ALL | MX_EPAIR_SIGNALED, MX_USER_SIGNAL_1),
            MX_OK);
  EXPECT_EQ(SignalsOf(p.b), MX_USER_SIGNAL_1 | MX_SIGNAL_LAST_HANDLE);
  // The other direction.
  ASSERT_EQ(mx_object_signal_peer(p.b, 0, MX_USER_SIGNAL_7), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_USER_SIGNAL_7 | MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalOfNonUserBitsReturnsInvalidArgs) {
  Pair p;
  ASSERT_EQ(mx_object_signal(p.a, 0, MX_USER_SIGNAL_4), MX_OK);
  for (mx_signals_t bad :
       {MX_OBJECT_SIGNAL_0, MX_OBJECT_SIGNAL_1, MX_EPAIR_PEER_CLOSED, MX_OBJECT_SIGNAL_4,
        MX_OBJECT_SIGNAL_21, MX_SIGNAL_LAST_HANDLE, MX_SIGNAL_HANDLE_CLOSED}) {
    EXPECT_EQ(mx_object_signal(p.a, 0, bad), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal(p.a, bad, 0), MX_ERR_INVALID_ARGS) << std::hex << bad;
    EXPECT_EQ(mx_object_signal_peer(p.a, 0, bad | MX_USER_SIGNAL_0), MX_ERR_INVALID_ARGS)
        << std::hex << bad;
    EXPECT_EQ(mx_object_signal_peer(p.a, bad, 0), MX_ERR_INVALID_ARGS) << std::hex << bad;
  }
  // Nothing changed on either side.
  EXPECT_EQ(SignalsOf(p.a), MX_USER_SIGNAL_4 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalOnBadHandleReturnsBadHandle) {
  Pair p;
  mx_handle_t closed = p.a;
  p.CloseA();
  EXPECT_EQ(mx_object_signal(closed, 0, MX_USER_SIGNAL_0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_signal_peer(closed, 0, MX_USER_SIGNAL_0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_signal(MX_HANDLE_INVALID, 0, 0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_signal_peer(MX_HANDLE_INVALID, 0, 0), MX_ERR_BAD_HANDLE);
}

TEST(EventPairTest, SignalWithoutSignalRightReturnsAccessDeniedBeforeInvalidArgs) {
  Pair p;
  ReduceRights(&p.a, kEventPairRights & ~MX_RIGHT_SIGNAL);
  EXPECT_EQ(mx_object_signal(p.a, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_signal(p.a, 0, MX_SIGNAL_LAST_HANDLE), MX_ERR_ACCESS_DENIED);
  // SIGNAL_PEER is a separate right.
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_0), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalPeerWithoutSignalPeerRightReturnsAccessDenied) {
  Pair p;
  ReduceRights(&p.a, kEventPairRights & ~MX_RIGHT_SIGNAL_PEER);
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_SIGNAL_LAST_HANDLE), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_signal(p.a, 0, MX_USER_SIGNAL_0), MX_OK);
}

TEST(EventPairTest, SignalPeerOnEventReturnsAccessDenied) {
  // Events have no SIGNAL_PEER right: the rights check comes first.
  mx_handle_t e;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  EXPECT_EQ(mx_object_signal_peer(e, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventPairTest, SocketCallsOnEventPairReturnWrongTypeAfterRights) {
  Pair p;
  char buf[4] = {};
  size_t actual = 0;
  EXPECT_EQ(mx_socket_write(p.a, 0, buf, sizeof(buf), &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_socket_read(p.a, 0, buf, sizeof(buf), &actual), MX_ERR_WRONG_TYPE);
  ReduceRights(&p.a, MX_RIGHT_TRANSFER);
  EXPECT_EQ(mx_socket_write(p.a, 0, buf, sizeof(buf), &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_socket_read(p.a, 0, buf, sizeof(buf), &actual), MX_ERR_ACCESS_DENIED);
}

// ---- PEER_CLOSED ------------------------------------------------------------------------------

TEST(EventPairTest, ClosingPeerAssertsPeerClosedAndKeepsOwnBits) {
  Pair p;
  ASSERT_EQ(mx_object_signal(p.a, 0, MX_USER_SIGNAL_2), MX_OK);
  p.CloseB();
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), &observed), MX_OK);
  EXPECT_EQ(observed, MX_EPAIR_PEER_CLOSED | MX_USER_SIGNAL_2 | MX_SIGNAL_LAST_HANDLE);
  // Own signals still work after the peer is gone.
  ASSERT_EQ(mx_object_signal(p.a, MX_USER_SIGNAL_2, MX_EPAIR_SIGNALED), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_EPAIR_PEER_CLOSED | MX_EPAIR_SIGNALED | MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalPeerAfterPeerClosedReturnsPeerClosed) {
  Pair p;
  p.CloseB();
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_object_signal_peer(p.a, MX_USER_SIGNAL_0, 0), MX_ERR_PEER_CLOSED);
  // The mask is checked before the peer (Magenta's EventPairDispatcher::user_signal).
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_EPAIR_PEER_CLOSED), MX_ERR_INVALID_ARGS);
}

TEST(EventPairTest, PeerClosedOnlyAfterLastDuplicateOfPeerCloses) {
  Pair p;
  mx_handle_t b2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(p.b, MX_RIGHT_SAME_RIGHTS, &b2), MX_OK);
  p.CloseB();
  EXPECT_EQ(mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, mx_deadline_after(MX_MSEC(50)), nullptr),
            MX_ERR_TIMED_OUT);
  EXPECT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_6), MX_OK);
  EXPECT_EQ(SignalsOf(b2), MX_USER_SIGNAL_6 | MX_SIGNAL_LAST_HANDLE);
  ASSERT_EQ(mx_handle_close(b2), MX_OK);
  EXPECT_EQ(mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
}

TEST(EventPairTest, ReplacingPeerDoesNotAssertPeerClosed) {
  Pair p;
  ReduceRights(&p.b, MX_RIGHT_READ | MX_RIGHT_TRANSFER);
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, WaitForOtherBitsAfterPeerClosedTimesOutWithoutSpinning) {
  Pair p;
  p.CloseB();
  struct rusage before, after;
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &before), 0);
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(p.a, MX_EPAIR_SIGNALED, mx_deadline_after(MX_MSEC(300)), &observed),
            MX_ERR_TIMED_OUT);
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &after), 0);
  EXPECT_EQ(observed, MX_EPAIR_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  auto us = [](const struct rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000L + r.ru_utime.tv_usec +
           r.ru_stime.tv_usec;
  };
  // A busy loop would burn ~300 ms of CPU; blocking costs next to nothing.
  EXPECT_LT(us(after) - us(before), 150000L);
}

// ---- LAST_HANDLE and duplicates ---------------------------------------------------------------

TEST(EventPairTest, DuplicateClearsLastHandleAndCloseRestoresIt) {
  Pair p;
  mx_handle_t a2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(p.a, MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), 0u);
  EXPECT_EQ(SignalsOf(a2), 0u);
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);  // the peer's count is separate
  EXPECT_EQ(BasicInfo(a2).koid, BasicInfo(p.a).koid);
  ASSERT_EQ(mx_handle_close(a2), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, DuplicatesShareOneSignalState) {
  Pair p;
  mx_handle_t a2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(p.a, MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  ASSERT_EQ(mx_object_signal(a2, 0, MX_USER_SIGNAL_1), MX_OK);
  ASSERT_EQ(mx_object_signal_peer(p.b, 0, MX_EPAIR_SIGNALED), MX_OK);
  EXPECT_EQ(SignalsOf(p.a), MX_USER_SIGNAL_1 | MX_EPAIR_SIGNALED);
  EXPECT_EQ(SignalsOf(a2), MX_USER_SIGNAL_1 | MX_EPAIR_SIGNALED);
  ASSERT_EQ(mx_handle_close(a2), MX_OK);
}

TEST(EventPairTest, WaitForLastHandleWakesWhenDuplicateCloses) {
  Pair p;
  mx_handle_t a2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(p.a, MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::thread waiter(
      [&] { result = mx_object_wait_one(p.a, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr); });
  ASSERT_EQ(mx_handle_close(a2), MX_OK);
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
}

// ---- Waits from another thread ------------------------------------------------------------

TEST(EventPairTest, WaitInAnotherThreadSeesSignalPeer) {
  Pair p;
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::atomic<mx_signals_t> observed{0};
  std::thread waiter([&] {
    mx_signals_t o = 0;
    result = mx_object_wait_one(p.b, MX_USER_SIGNAL_0, DeadlineIn10s(), &o);
    observed = o;
  });
  ASSERT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_0), MX_OK);
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
  EXPECT_TRUE(observed.load() & MX_USER_SIGNAL_0);
}

TEST(EventPairTest, WaitInAnotherThreadSeesPeerClosed) {
  Pair p;
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::thread waiter(
      [&] { result = mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), nullptr); });
  p.CloseB();
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
}

TEST(EventPairTest, WaitManyMixesSidesAndEvents) {
  Pair p;
  mx_handle_t e;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  mx_wait_item_t items[2] = {{e, MX_EVENT_SIGNALED, 0}, {p.b, MX_EPAIR_SIGNALED, 0}};
  std::thread waiter([&] { result = mx_object_wait_many(items, 2, DeadlineIn10s()); });
  ASSERT_EQ(mx_object_signal_peer(p.a, 0, MX_EPAIR_SIGNALED), MX_OK);
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
  EXPECT_EQ(items[0].pending, MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(items[1].pending, MX_EPAIR_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(EventPairTest, CloseDuringWaitCancelsIt) {
  Pair p;
  mx_handle_t a2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(p.a, MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::atomic<bool> started{false};
  std::atomic<mx_signals_t> observed{0};
  std::thread waiter([&] {
    mx_signals_t o = 0;
    started = true;
    result = mx_object_wait_one(a2, MX_EPAIR_SIGNALED, DeadlineIn10s(), &o);
    observed = o;
  });
  while (!started.load()) std::this_thread::yield();
  // Either the wait saw the close (CANCELED) or had not looked the handle up yet (BAD_HANDLE).
  ASSERT_EQ(mx_handle_close(a2), MX_OK);
  waiter.join();
  EXPECT_TRUE(result.load() == MX_ERR_CANCELED || result.load() == MX_ERR_BAD_HANDLE)
      << result.load();
  if (result.load() == MX_ERR_CANCELED) {
    EXPECT_TRUE(observed.load() & MX_SIGNAL_HANDLE_CLOSED);
  }
  // The side lives on through |a|: no PEER_CLOSED on b.
  EXPECT_EQ(SignalsOf(p.b), MX_SIGNAL_LAST_HANDLE);
}

TEST(EventPairTest, SignalPeerRacingWithPeerCloseEndsInPeerClosed) {
  for (int round = 0; round < 20; ++round) {
    Pair p;
    std::atomic<mx_status_t> wait_result{MX_ERR_INTERNAL};
    std::atomic<mx_status_t> signal_result{MX_ERR_INTERNAL};
    std::thread waiter([&] {
      wait_result = mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), nullptr);
    });
    std::thread signaler([&] {
      const mx_time_t deadline = DeadlineIn10s();
      mx_status_t st;
      do {
        st = mx_object_signal_peer(p.a, MX_USER_SIGNAL_0, MX_USER_SIGNAL_1);
      } while (st == MX_OK && mx_time_get(MX_CLOCK_MONOTONIC) < deadline);
      signal_result = st;
    });
    p.CloseB();
    waiter.join();
    signaler.join();
    EXPECT_EQ(wait_result.load(), MX_OK);
    EXPECT_EQ(signal_result.load(), MX_ERR_PEER_CLOSED);
  }
}

TEST(EventPairTest, PortWaitAsyncSeesSignalPeerAndPeerClosed) {
  Pair p;
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(p.b, port, 7, MX_USER_SIGNAL_0, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_object_wait_async(p.a, port, 8, MX_EPAIR_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_object_signal_peer(p.a, 0, MX_USER_SIGNAL_0), MX_OK);
  mx_port_packet_t packet = {};
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 7u);
  EXPECT_EQ(packet.type, static_cast<uint32_t>(MX_PKT_TYPE_SIGNAL_ONE));
  EXPECT_TRUE(packet.signal.observed & MX_USER_SIGNAL_0);
  p.CloseB();
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 8u);
  EXPECT_TRUE(packet.signal.observed & MX_EPAIR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
}

// ---- Transfer through a channel (same process) ------------------------------------------------

TEST(EventPairTest, SideSentThroughChannelKeepsKoidRightsAndSignals) {
  Pair p;
  mx_handle_t c0, c1;
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  const mx_info_handle_basic_t before = BasicInfo(p.b);
  ASSERT_EQ(mx_object_signal(p.b, 0, MX_USER_SIGNAL_3), MX_OK);
  ASSERT_EQ(mx_channel_write(c0, 0, "x", 1, &p.b, 1), MX_OK);
  p.b = MX_HANDLE_INVALID;
  // In flight the side is alive: no PEER_CLOSED, and signal_peer reaches it.
  EXPECT_EQ(SignalsOf(p.a), MX_SIGNAL_LAST_HANDLE);
  ASSERT_EQ(mx_object_signal_peer(p.a, 0, MX_EPAIR_SIGNALED), MX_OK);
  char byte;
  uint32_t nb = 0, nh = 0;
  ASSERT_EQ(mx_channel_read(c1, 0, &byte, &p.b, 1, 1, &nb, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  const mx_info_handle_basic_t after = BasicInfo(p.b);
  EXPECT_EQ(after.koid, before.koid);
  EXPECT_EQ(after.related_koid, before.related_koid);
  EXPECT_EQ(after.rights, before.rights);
  EXPECT_EQ(after.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT_PAIR));
  EXPECT_EQ(SignalsOf(p.b), MX_USER_SIGNAL_3 | MX_EPAIR_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(c1), MX_OK);
}

TEST(EventPairTest, SideDiscardedInClosedChannelAssertsPeerClosed) {
  Pair p;
  mx_handle_t c0, c1;
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_channel_write(c0, 0, "x", 1, &p.b, 1), MX_OK);
  p.b = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, 0, nullptr), MX_ERR_TIMED_OUT);
  ASSERT_EQ(mx_handle_close(c1), MX_OK);  // the unread message and the side in it go away
  ASSERT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_object_wait_one(p.a, MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
}

// ---- C++ wrapper ------------------------------------------------------------------------------

TEST(EventPairTest, CppWrapperCreatesSignalsAndDuplicates) {
  mx::eventpair a, b;
  ASSERT_EQ(mx::eventpair::create(0, &a, &b), MX_OK);
  ASSERT_TRUE(a.is_valid());
  ASSERT_TRUE(b.is_valid());
  EXPECT_EQ(a.signal_peer(0, MX_USER_SIGNAL_2), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(b.wait_one(MX_USER_SIGNAL_2, DeadlineIn10s(), &pending), MX_OK);
  mx::eventpair b2;
  ASSERT_EQ(b.duplicate(MX_RIGHT_SAME_RIGHTS, &b2), MX_OK);
  b.reset();
  EXPECT_EQ(a.wait_one(MX_EPAIR_PEER_CLOSED, 0, &pending), MX_ERR_TIMED_OUT);
  b2.reset();
  EXPECT_EQ(a.wait_one(MX_EPAIR_PEER_CLOSED, DeadlineIn10s(), &pending), MX_OK);
  mx::eventpair c, d;
  EXPECT_EQ(mx::eventpair::create(1, &c, &d), MX_ERR_NOT_SUPPORTED);
  EXPECT_FALSE(c.is_valid());
}

}  // namespace
