// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of the header-only C++ wrappers in include/mx/: ownership (the destructor,
// reset() and move-assignment close; release() and mx::unowned never do), move semantics,
// duplicate/replace, channel create/write/read/call, waiting with mx::deadline_after, the time
// helpers, and mx::process (self, spawn, kill, startup handles).
//
// Whether a raw handle value is still in the table is checked with the C call
// mx_object_get_info(value, MX_INFO_HANDLE_VALID): MX_OK while it is, MX_ERR_BAD_HANDLE after.

#include <gtest/gtest.h>
#include <magenta/processargs.h>
#include <magenta/syscalls.h>
#include <mx/channel.h>
#include <mx/event.h>
#include <mx/handle.h>
#include <mx/object.h>
#include <mx/process.h>
#include <mx/time.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "support/multiprocess.h"

namespace {

// ---- Helpers ------------------------------------------------------------------------------------

mx_status_t HandleValidity(mx_handle_t value) {
  return mx_object_get_info(value, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr);
}

mx_info_handle_basic_t Basic(mx_handle_t value) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(value, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

// A fresh event as a raw value that the caller owns.
mx_handle_t RawEvent() {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_event_create(0, &h), MX_OK);
  return h;
}

// Kills a child when the test ends, so that a failed assertion never leaves it running.
struct KillOnExit {
  const mx::process& child;
  ~KillOnExit() { static_cast<void>(child.kill()); }
};

mx_signals_t Pending(const mx::handle& h) {
  mx_signals_t pending = 0;
  EXPECT_EQ(h.wait_one(0, 0, &pending), MX_ERR_TIMED_OUT);
  return pending;
}

// Compile-time checks: which operations each wrapper offers.
template <typename T>
concept CanDuplicate = requires(const T& t, T* out) {
  t.duplicate(MX_RIGHT_SAME_RIGHTS, out);
};
template <typename T>
concept CanSignal = requires(const T& t) {
  t.signal(0u, 0u);
};
template <typename T>
concept CanSignalPeer = requires(const T& t) {
  t.signal_peer(0u, 0u);
};

static_assert(!std::is_copy_constructible_v<mx::handle>);
static_assert(!std::is_copy_assignable_v<mx::handle>);
static_assert(std::is_nothrow_move_constructible_v<mx::handle>);
static_assert(std::is_nothrow_move_assignable_v<mx::handle>);
static_assert(!std::is_copy_constructible_v<mx::channel>);
static_assert(std::is_nothrow_move_constructible_v<mx::channel>);
static_assert(!std::is_copy_constructible_v<mx::event>);
static_assert(!std::is_copy_constructible_v<mx::process>);
// A raw value or an untyped handle only becomes a typed wrapper explicitly.
static_assert(!std::is_convertible_v<mx_handle_t, mx::handle>);
static_assert(!std::is_convertible_v<mx::handle&&, mx::channel>);
static_assert(std::is_constructible_v<mx::channel, mx::handle&&>);
// A typed wrapper moves into an untyped one, but never into a different type.
static_assert(std::is_convertible_v<mx::event&&, mx::handle>);
static_assert(!std::is_constructible_v<mx::channel, mx::event&&>);
static_assert(!std::is_constructible_v<mx::event, mx::process&&>);
static_assert(std::is_constructible_v<mx::event, mx::handle&&>);
static_assert(std::is_constructible_v<mx::process, mx::handle&&>);
// Channels have no DUPLICATE right, so the wrapper does not offer duplicate(); no process SIGNAL.
static_assert(CanDuplicate<mx::handle>);
static_assert(CanDuplicate<mx::event>);
static_assert(!CanDuplicate<mx::channel>);
static_assert(CanSignal<mx::event> && !CanSignalPeer<mx::event>);
static_assert(CanSignal<mx::channel> && CanSignalPeer<mx::channel>);
static_assert(!CanSignal<mx::process>);
// An unowned view hands out only const access.
static_assert(std::is_same_v<decltype(*std::declval<mx::unowned<mx::event>&>()), const mx::event&>);
static_assert(std::is_same_v<decltype(std::declval<mx::unowned<mx::event>&>().operator->()),
                             const mx::event*>);

// ---- mx::handle ---------------------------------------------------------------------------------

TEST(HandleWrapperTest, DefaultConstructedIsInvalid) {
  mx::handle h;
  EXPECT_FALSE(h.is_valid());
  EXPECT_FALSE(static_cast<bool>(h));
  EXPECT_EQ(h.get(), MX_HANDLE_INVALID);
}

TEST(HandleWrapperTest, WrapsValueWithoutChangingIt) {
  mx_handle_t raw = RawEvent();
  mx::handle h(raw);
  EXPECT_TRUE(h.is_valid());
  EXPECT_TRUE(static_cast<bool>(h));
  EXPECT_EQ(h.get(), raw);
  EXPECT_TRUE(h == raw);
}

TEST(HandleWrapperTest, DestructorClosesHandle) {
  mx_handle_t raw = RawEvent();
  ASSERT_EQ(HandleValidity(raw), MX_OK);
  { mx::handle h(raw); }
  EXPECT_EQ(HandleValidity(raw), MX_ERR_BAD_HANDLE);
}

TEST(HandleWrapperTest, ReleaseGivesUpOwnershipWithoutClosing) {
  mx_handle_t raw = RawEvent();
  {
    mx::handle h(raw);
    EXPECT_EQ(h.release(), raw);
    EXPECT_FALSE(h.is_valid());
    EXPECT_EQ(h.get(), MX_HANDLE_INVALID);
  }
  EXPECT_EQ(HandleValidity(raw), MX_OK);
  EXPECT_EQ(mx_handle_close(raw), MX_OK);
}

TEST(HandleWrapperTest, ResetClosesOldHandleAndTakesNewOne) {
  mx_handle_t first = RawEvent();
  mx_handle_t second = RawEvent();
  mx::handle h(first);
  h.reset(second);
  EXPECT_EQ(HandleValidity(first), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(HandleValidity(second), MX_OK);
  EXPECT_EQ(h.get(), second);

  h.reset();
  EXPECT_EQ(HandleValidity(second), MX_ERR_BAD_HANDLE);
  EXPECT_FALSE(h.is_valid());
}

TEST(HandleWrapperTest, ResetAndGetAddressClosesOldHandleAndReceivesNewOne) {
  mx_handle_t old_value = RawEvent();
  mx::handle h(old_value);
  ASSERT_EQ(mx_event_create(0, h.reset_and_get_address()), MX_OK);
  EXPECT_EQ(HandleValidity(old_value), MX_ERR_BAD_HANDLE);
  ASSERT_TRUE(h.is_valid());
  EXPECT_EQ(Basic(h.get()).type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
}

TEST(HandleWrapperTest, MoveConstructionTransfersOwnership) {
  mx_handle_t raw = RawEvent();
  mx::handle a(raw);
  {
    mx::handle b(std::move(a));
    EXPECT_FALSE(a.is_valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.get(), raw);
  }
  // b closed it; a (moved-from) must not close anything when it goes.
  EXPECT_EQ(HandleValidity(raw), MX_ERR_BAD_HANDLE);
}

TEST(HandleWrapperTest, MoveAssignmentClosesTargetsOldHandle) {
  mx_handle_t kept = RawEvent();
  mx_handle_t overwritten = RawEvent();
  mx::handle source(kept);
  mx::handle target(overwritten);
  target = std::move(source);
  EXPECT_EQ(HandleValidity(overwritten), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(HandleValidity(kept), MX_OK);
  EXPECT_EQ(target.get(), kept);
  EXPECT_FALSE(source.is_valid());  // NOLINT(bugprone-use-after-move)
}

TEST(HandleWrapperTest, SwapExchangesValues) {
  mx_handle_t x = RawEvent();
  mx_handle_t y = RawEvent();
  mx::handle a(x);
  mx::handle b(y);
  a.swap(b);
  EXPECT_EQ(a.get(), y);
  EXPECT_EQ(b.get(), x);
}

TEST(HandleWrapperTest, TypedWrapperMovesIntoHandle) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_handle_t raw = ev.get();
  mx::handle h(std::move(ev));
  EXPECT_FALSE(ev.is_valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(h.get(), raw);

  mx::event back(std::move(h));
  EXPECT_FALSE(h.is_valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(back.get(), raw);
  EXPECT_EQ(back.signal(0, MX_EVENT_SIGNALED), MX_OK);
}

TEST(HandleWrapperTest, DuplicateGivesSecondHandleToSameObject) {
  mx::handle h(RawEvent());
  mx::handle dup;
  ASSERT_EQ(h.duplicate(MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  ASSERT_TRUE(dup.is_valid());
  EXPECT_NE(dup.get(), h.get());
  EXPECT_EQ(Basic(dup.get()).koid, Basic(h.get()).koid);
  EXPECT_EQ(Basic(dup.get()).rights, Basic(h.get()).rights);
}

TEST(HandleWrapperTest, ReplaceMovesHandleIntoResult) {
  mx_handle_t raw = RawEvent();
  mx::handle h(raw);
  mx::handle out;
  ASSERT_EQ(h.replace(MX_RIGHT_READ | MX_RIGHT_WRITE, &out), MX_OK);
  EXPECT_FALSE(h.is_valid());
  EXPECT_EQ(HandleValidity(raw), MX_ERR_BAD_HANDLE);
  ASSERT_TRUE(out.is_valid());
  EXPECT_EQ(Basic(out.get()).rights, MX_RIGHT_READ | MX_RIGHT_WRITE);
}

TEST(HandleWrapperTest, ChannelHandleCannotBeDuplicated) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  mx::handle h(std::move(a));
  mx::handle dup(RawEvent());
  mx_handle_t dup_old = dup.get();
  EXPECT_EQ(h.duplicate(MX_RIGHT_SAME_RIGHTS, &dup), MX_ERR_ACCESS_DENIED);
  EXPECT_FALSE(dup.is_valid());  // Magenta's shape: the result is reset even on failure.
  EXPECT_EQ(HandleValidity(dup_old), MX_ERR_BAD_HANDLE);
  EXPECT_TRUE(h.is_valid());
}

TEST(HandleWrapperTest, GetInfoForwardsTopicAndCounts) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_info_handle_basic_t info = {};
  size_t actual = 99;
  size_t avail = 99;
  ASSERT_EQ(ev.get_info(MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail), MX_OK);
  EXPECT_EQ(actual, 1u);
  EXPECT_EQ(avail, 1u);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_NE(info.koid, MX_KOID_INVALID);

  EXPECT_EQ(ev.get_info(MX_INFO_HANDLE_BASIC, &info, sizeof(info) - 1, &actual, &avail),
            MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 1u);

  mx_info_handle_basic_t basic = {};
  ASSERT_EQ(ev.get_basic_info(&basic), MX_OK);
  EXPECT_EQ(basic.koid, info.koid);
}

// ---- mx::unowned --------------------------------------------------------------------------------

TEST(UnownedWrapperTest, NeverClosesRawValue) {
  mx_handle_t raw = RawEvent();
  {
    mx::unowned<mx::event> view(raw);
    EXPECT_EQ(view->get(), raw);
    EXPECT_EQ(view->signal(0, MX_USER_SIGNAL_0), MX_OK);
  }
  EXPECT_EQ(HandleValidity(raw), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(mx_object_wait_one(raw, MX_USER_SIGNAL_0, 0, &pending), MX_OK);
  EXPECT_EQ(mx_handle_close(raw), MX_OK);
}

TEST(UnownedWrapperTest, ViewOfOwnerLeavesOwnerValid) {
  mx::event owner;
  ASSERT_EQ(mx::event::create(0, &owner), MX_OK);
  {
    mx::unowned<mx::event> view(owner);
    EXPECT_EQ((*view).get(), owner.get());
    mx::unowned<mx::event> copy(view);
    EXPECT_EQ(copy->get(), owner.get());
    mx::unowned<mx::event> assigned;
    assigned = copy;
    EXPECT_EQ(assigned->get(), owner.get());
  }
  EXPECT_TRUE(owner.is_valid());
  EXPECT_EQ(HandleValidity(owner.get()), MX_OK);
}

void SignalThrough(const mx::event& ev) { ASSERT_EQ(ev.signal(0, MX_EVENT_SIGNALED), MX_OK); }

TEST(UnownedWrapperTest, PassesAsConstReferenceToOwnedType) {
  mx_handle_t raw = RawEvent();
  mx::event owner(raw);
  SignalThrough(mx::unowned<mx::event>(raw));
  SignalThrough(mx::unowned_event::wrap(raw));
  EXPECT_EQ(HandleValidity(raw), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(owner.wait_one(MX_EVENT_SIGNALED, 0, &pending), MX_OK);
}

TEST(UnownedWrapperTest, UnownedHandleViewOfChannelWritesWithoutClosing) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  {
    mx::unowned_channel view(a.get());
    EXPECT_EQ(view->write(0, "x", 1, nullptr, 0), MX_OK);
  }
  {
    mx::unowned_handle view(a.get());
    EXPECT_EQ(view->signal_peer(0, MX_USER_SIGNAL_1), MX_OK);
  }
  EXPECT_EQ(HandleValidity(a.get()), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(b.wait_one(MX_CHANNEL_PEER_CLOSED, 0, &pending), MX_ERR_TIMED_OUT);
  EXPECT_EQ(pending & (MX_CHANNEL_READABLE | MX_USER_SIGNAL_1),
            MX_CHANNEL_READABLE | MX_USER_SIGNAL_1);
}

// ---- mx::channel --------------------------------------------------------------------------------

TEST(ChannelWrapperTest, CreateReturnsConnectedEndpoints) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  ASSERT_TRUE(a.is_valid());
  ASSERT_TRUE(b.is_valid());
  mx_info_handle_basic_t ia = {};
  mx_info_handle_basic_t ib = {};
  ASSERT_EQ(a.get_basic_info(&ia), MX_OK);
  ASSERT_EQ(b.get_basic_info(&ib), MX_OK);
  EXPECT_EQ(ia.type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(ia.rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
  // A fresh endpoint is WRITABLE and holds the only handle (A.3).
  EXPECT_EQ(Pending(mx::unowned_handle(a.get())), MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE);
}

TEST(ChannelWrapperTest, CreateWithBadFlagsLeavesEndpointsInvalid) {
  mx_handle_t old0 = RawEvent();
  mx::channel a(old0);
  mx::channel b;
  EXPECT_EQ(mx::channel::create(1, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_FALSE(a.is_valid());
  EXPECT_FALSE(b.is_valid());
  EXPECT_EQ(HandleValidity(old0), MX_ERR_BAD_HANDLE);
}

TEST(ChannelWrapperTest, WriteThenReadRoundTripsBytes) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  const char kMessage[] = "hello, channel";
  ASSERT_EQ(a.write(0, kMessage, sizeof(kMessage), nullptr, 0), MX_OK);

  char buffer[64] = {};
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 99;
  ASSERT_EQ(b.read(0, buffer, sizeof(buffer), &actual_bytes, nullptr, 0, &actual_handles), MX_OK);
  EXPECT_EQ(actual_bytes, sizeof(kMessage));
  EXPECT_EQ(actual_handles, 0u);
  EXPECT_STREQ(buffer, kMessage);
}

TEST(ChannelWrapperTest, ReadFollowsUlibArgumentOrder) {
  // read(flags, bytes, num_bytes, &actual_bytes, handles, num_handles, &actual_handles): a 3-byte
  // buffer for a 5-byte message must give BUFFER_TOO_SMALL with actual_bytes 5, and the message
  // must stay queued for a big-enough read.
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_handle_t moved = ev.release();
  ASSERT_EQ(a.write(0, "abcde", 5, &moved, 1), MX_OK);

  char small[3];
  mx_handle_t handles[2] = {MX_HANDLE_INVALID, MX_HANDLE_INVALID};
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  EXPECT_EQ(b.read(0, small, sizeof(small), &actual_bytes, handles, 2, &actual_handles),
            MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual_bytes, 5u);
  EXPECT_EQ(actual_handles, 1u);

  char big[8] = {};
  EXPECT_EQ(b.read(0, big, sizeof(big), &actual_bytes, handles, 0, &actual_handles),
            MX_ERR_BUFFER_TOO_SMALL);  // room for the bytes but not the handle
  ASSERT_EQ(b.read(0, big, sizeof(big), &actual_bytes, handles, 2, &actual_handles), MX_OK);
  EXPECT_EQ(actual_bytes, 5u);
  EXPECT_EQ(actual_handles, 1u);
  EXPECT_EQ(std::memcmp(big, "abcde", 5), 0);
  mx::event received(handles[0]);
  EXPECT_EQ(Basic(received.get()).type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
}

TEST(ChannelWrapperTest, WriteMovesHandlesOutOfCallersTable) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_info_handle_basic_t sent_info = {};
  ASSERT_EQ(ev.get_basic_info(&sent_info), MX_OK);

  mx_handle_t sent = ev.release();
  ASSERT_EQ(a.write(0, nullptr, 0, &sent, 1), MX_OK);
  EXPECT_EQ(HandleValidity(sent), MX_ERR_BAD_HANDLE);

  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t actual_handles = 0;
  ASSERT_EQ(b.read(0, nullptr, 0, nullptr, &got, 1, &actual_handles), MX_OK);
  ASSERT_EQ(actual_handles, 1u);
  mx::event received(got);
  mx_info_handle_basic_t got_info = {};
  ASSERT_EQ(received.get_basic_info(&got_info), MX_OK);
  EXPECT_EQ(got_info.koid, sent_info.koid);
  EXPECT_EQ(got_info.rights, sent_info.rights);
}

TEST(ChannelWrapperTest, FailedWriteLeavesHandleWithCaller) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_handle_t h = ev.release();
  EXPECT_EQ(a.write(1, nullptr, 0, &h, 1), MX_ERR_INVALID_ARGS);
  ev.reset(h);
  EXPECT_EQ(HandleValidity(ev.get()), MX_OK);
}

TEST(ChannelWrapperTest, ReadWhenEmptyReturnsShouldWait) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  char buffer[4];
  uint32_t actual = 0;
  EXPECT_EQ(b.read(0, buffer, sizeof(buffer), &actual, nullptr, 0, nullptr), MX_ERR_SHOULD_WAIT);
}

TEST(ChannelWrapperTest, DestructorClosesEndpointAndPeerSeesPeerClosed) {
  mx::channel b;
  mx_handle_t raw_a = MX_HANDLE_INVALID;
  {
    mx::channel a;
    ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
    raw_a = a.get();
    ASSERT_EQ(a.write(0, "last", 4, nullptr, 0), MX_OK);
  }
  EXPECT_EQ(HandleValidity(raw_a), MX_ERR_BAD_HANDLE);
  mx_signals_t pending = 0;
  ASSERT_EQ(b.wait_one(MX_CHANNEL_PEER_CLOSED, mx::deadline_after(mx::sec(10)), &pending), MX_OK);
  EXPECT_EQ(pending & (MX_CHANNEL_PEER_CLOSED | MX_CHANNEL_READABLE),
            MX_CHANNEL_PEER_CLOSED | MX_CHANNEL_READABLE);
  char buffer[8];
  uint32_t actual = 0;
  EXPECT_EQ(b.read(0, buffer, sizeof(buffer), &actual, nullptr, 0, nullptr), MX_OK);
  EXPECT_EQ(b.read(0, buffer, sizeof(buffer), &actual, nullptr, 0, nullptr), MX_ERR_PEER_CLOSED);
}

TEST(ChannelWrapperTest, MoveTransfersOwnership) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  mx_handle_t raw = a.get();

  mx::channel moved(std::move(a));
  EXPECT_FALSE(a.is_valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.get(), raw);
  EXPECT_EQ(moved.write(0, "m", 1, nullptr, 0), MX_OK);

  mx::channel assigned;
  assigned = std::move(moved);
  EXPECT_FALSE(moved.is_valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(assigned.get(), raw);
  EXPECT_EQ(HandleValidity(raw), MX_OK);

  assigned.reset();
  EXPECT_EQ(HandleValidity(raw), MX_ERR_BAD_HANDLE);
  mx_signals_t pending = 0;
  EXPECT_EQ(b.wait_one(MX_CHANNEL_PEER_CLOSED, mx::deadline_after(mx::sec(10)), &pending), MX_OK);
}

TEST(ChannelWrapperTest, SignalPeerSetsUserSignalOnOtherEnd) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  ASSERT_EQ(a.signal_peer(0, MX_USER_SIGNAL_3), MX_OK);
  mx_signals_t pending = 0;
  ASSERT_EQ(b.wait_one(MX_USER_SIGNAL_3, mx::deadline_after(mx::sec(10)), &pending), MX_OK);
  EXPECT_TRUE(pending & MX_USER_SIGNAL_3);
  EXPECT_EQ(Pending(mx::unowned_handle(a.get())) & MX_USER_SIGNAL_3, 0u);
}

TEST(ChannelWrapperTest, CallReturnsReplyWithMatchingTxid) {
  mx::channel client;
  mx::channel server;
  ASSERT_EQ(mx::channel::create(0, &client, &server), MX_OK);

  std::thread responder([&server] {
    mx_signals_t pending = 0;
    if (server.wait_one(MX_CHANNEL_READABLE, mx::deadline_after(mx::sec(30)), &pending) != MX_OK)
      return;
    uint32_t request[2] = {};
    uint32_t actual = 0;
    if (server.read(0, request, sizeof(request), &actual, nullptr, 0, nullptr) != MX_OK) return;
    uint32_t reply[3] = {request[0], request[1] * 2, 0x5eed};
    static_cast<void>(server.write(0, reply, sizeof(reply), nullptr, 0));
  });

  const uint32_t request[2] = {0x1234, 21};
  uint32_t reply[4] = {};
  mx_channel_call_args_t args = {};
  args.wr_bytes = request;
  args.wr_num_bytes = sizeof(request);
  args.rd_bytes = reply;
  args.rd_num_bytes = sizeof(reply);
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 99;
  mx_status_t read_status = 12345;
  mx_status_t status = client.call(0, mx::deadline_after(mx::sec(30)), &args, &actual_bytes,
                                   &actual_handles, &read_status);
  responder.join();
  ASSERT_EQ(status, MX_OK);
  EXPECT_EQ(read_status, 12345);  // written only with CALL_FAILED
  EXPECT_EQ(actual_bytes, 12u);
  EXPECT_EQ(actual_handles, 0u);
  EXPECT_EQ(reply[0], 0x1234u);
  EXPECT_EQ(reply[1], 42u);
  EXPECT_EQ(reply[2], 0x5eedu);
}

TEST(ChannelWrapperTest, CallTimesOutAtDeadlineWithoutReply) {
  mx::channel client;
  mx::channel server;
  ASSERT_EQ(mx::channel::create(0, &client, &server), MX_OK);
  const uint32_t request = 7;
  uint32_t reply = 0;
  mx_channel_call_args_t args = {};
  args.wr_bytes = &request;
  args.wr_num_bytes = sizeof(request);
  args.rd_bytes = &reply;
  args.rd_num_bytes = sizeof(reply);
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  const mx_time_t start = mx::time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t deadline = mx::deadline_after(mx::msec(30));
  EXPECT_EQ(client.call(0, deadline, &args, &actual_bytes, &actual_handles, nullptr),
            MX_ERR_TIMED_OUT);
  EXPECT_GE(mx::time_get(MX_CLOCK_MONOTONIC), deadline);
  EXPECT_GE(mx::time_get(MX_CLOCK_MONOTONIC) - start, mx::msec(30));
  // The request did go out.
  uint32_t seen = 0;
  uint32_t actual = 0;
  EXPECT_EQ(server.read(0, &seen, sizeof(seen), &actual, nullptr, 0, nullptr), MX_OK);
  EXPECT_EQ(seen, 7u);
}

TEST(ChannelWrapperTest, CallFailsWithPeerClosedWhenServerGoes) {
  mx::channel client;
  mx::channel server;
  ASSERT_EQ(mx::channel::create(0, &client, &server), MX_OK);
  std::thread closer([&server] {
    mx_signals_t pending = 0;
    static_cast<void>(
        server.wait_one(MX_CHANNEL_READABLE, mx::deadline_after(mx::sec(30)), &pending));
    server.reset();
  });
  const uint32_t request = 1;
  uint32_t reply = 0;
  mx_channel_call_args_t args = {};
  args.wr_bytes = &request;
  args.wr_num_bytes = sizeof(request);
  args.rd_bytes = &reply;
  args.rd_num_bytes = sizeof(reply);
  mx_status_t read_status = MX_OK;
  mx_status_t status =
      client.call(0, mx::deadline_after(mx::sec(30)), &args, nullptr, nullptr, &read_status);
  closer.join();
  EXPECT_EQ(status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(read_status, MX_ERR_PEER_CLOSED);
}

// ---- mx::event ----------------------------------------------------------------------------------

TEST(EventWrapperTest, CreateGivesEventWithDefaultRights) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  ASSERT_TRUE(ev.is_valid());
  mx_info_handle_basic_t info = {};
  ASSERT_EQ(ev.get_basic_info(&info), MX_OK);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
}

TEST(EventWrapperTest, CreateReplacesAndClosesOldHandle) {
  mx_handle_t old_value = RawEvent();
  mx::event ev(old_value);
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  EXPECT_NE(ev.get(), old_value);
  EXPECT_EQ(HandleValidity(old_value), MX_ERR_BAD_HANDLE);
}

TEST(EventWrapperTest, SignalSetsAndClearsObservedBits) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(ev.wait_one(MX_EVENT_SIGNALED, 0, &pending), MX_ERR_TIMED_OUT);
  EXPECT_EQ(pending & MX_EVENT_SIGNALED, 0u);

  ASSERT_EQ(ev.signal(0, MX_EVENT_SIGNALED | MX_USER_SIGNAL_7), MX_OK);
  EXPECT_EQ(ev.wait_one(MX_EVENT_SIGNALED, 0, &pending), MX_OK);
  EXPECT_EQ(pending & (MX_EVENT_SIGNALED | MX_USER_SIGNAL_7), MX_EVENT_SIGNALED | MX_USER_SIGNAL_7);

  ASSERT_EQ(ev.signal(MX_EVENT_SIGNALED, 0), MX_OK);
  EXPECT_EQ(ev.wait_one(MX_EVENT_SIGNALED, 0, &pending), MX_ERR_TIMED_OUT);
  EXPECT_EQ(pending & (MX_EVENT_SIGNALED | MX_USER_SIGNAL_7), MX_USER_SIGNAL_7);

  EXPECT_EQ(ev.signal(0, MX_CHANNEL_READABLE), MX_ERR_INVALID_ARGS);
}

TEST(EventWrapperTest, WaitOneTimesOutAtDeadlineAfter) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  const mx_time_t start = mx::time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t deadline = mx::deadline_after(mx::msec(50));
  mx_signals_t pending = 0xdead;
  EXPECT_EQ(ev.wait_one(MX_EVENT_SIGNALED, deadline, &pending), MX_ERR_TIMED_OUT);
  const mx_time_t end = mx::time_get(MX_CLOCK_MONOTONIC);
  EXPECT_GE(end, deadline);
  EXPECT_GE(end - start, mx::msec(50));
  EXPECT_LT(end - start, mx::sec(20));
  EXPECT_EQ(pending & MX_EVENT_SIGNALED, 0u);
}

TEST(EventWrapperTest, WaitOneWakesWhenAnotherThreadSignals) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  std::thread signaller([&ev] {
    mx::nanosleep(mx::deadline_after(mx::msec(20)));
    static_cast<void>(ev.signal(0, MX_EVENT_SIGNALED));
  });
  mx_signals_t pending = 0;
  const mx_status_t status =
      ev.wait_one(MX_EVENT_SIGNALED, mx::deadline_after(mx::sec(30)), &pending);
  signaller.join();
  EXPECT_EQ(status, MX_OK);
  EXPECT_TRUE(pending & MX_EVENT_SIGNALED);
}

TEST(EventWrapperTest, DuplicateSharesObjectWithReducedRights) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx::event dup;
  const mx_rights_t rights = MX_RIGHT_READ | MX_RIGHT_SIGNAL;
  ASSERT_EQ(ev.duplicate(rights, &dup), MX_OK);
  ASSERT_TRUE(dup.is_valid());
  EXPECT_NE(dup.get(), ev.get());

  mx_info_handle_basic_t original = {};
  mx_info_handle_basic_t copy = {};
  ASSERT_EQ(ev.get_basic_info(&original), MX_OK);
  ASSERT_EQ(dup.get_basic_info(&copy), MX_OK);
  EXPECT_EQ(copy.koid, original.koid);
  EXPECT_EQ(copy.rights, rights);
  EXPECT_EQ(original.rights, MX_DEFAULT_EVENT_RIGHTS);

  // Same object: a signal through the duplicate is seen through the original.
  ASSERT_EQ(dup.signal(0, MX_EVENT_SIGNALED), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(ev.wait_one(MX_EVENT_SIGNALED, 0, &pending), MX_OK);

  // Closing the duplicate leaves the original alone.
  const mx_handle_t dup_raw = dup.get();
  dup.reset();
  EXPECT_EQ(HandleValidity(dup_raw), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(HandleValidity(ev.get()), MX_OK);
}

TEST(EventWrapperTest, DuplicateWithRightsNotHeldFails) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  mx::event dup;
  EXPECT_EQ(ev.duplicate(MX_RIGHT_SIGNAL_PEER, &dup), MX_ERR_INVALID_ARGS);
  EXPECT_FALSE(dup.is_valid());
  EXPECT_EQ(HandleValidity(ev.get()), MX_OK);
}

TEST(EventWrapperTest, ReplaceMovesHandleToTypedResult) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  const mx_handle_t old_raw = ev.get();
  mx_koid_t koid = Basic(old_raw).koid;

  mx::event replaced;
  ASSERT_EQ(ev.replace(MX_RIGHT_READ | MX_RIGHT_TRANSFER, &replaced), MX_OK);
  EXPECT_FALSE(ev.is_valid());
  EXPECT_EQ(HandleValidity(old_raw), MX_ERR_BAD_HANDLE);
  ASSERT_TRUE(replaced.is_valid());
  mx_info_handle_basic_t info = {};
  ASSERT_EQ(replaced.get_basic_info(&info), MX_OK);
  EXPECT_EQ(info.koid, koid);
  EXPECT_EQ(info.rights, MX_RIGHT_READ | MX_RIGHT_TRANSFER);
  // The reduced handle lacks SIGNAL.
  EXPECT_EQ(replaced.signal(0, MX_EVENT_SIGNALED), MX_ERR_ACCESS_DENIED);
}

TEST(EventWrapperTest, ReplaceIntoItselfKeepsWrapperValid) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  const mx_handle_t old_raw = ev.get();
  ASSERT_EQ(ev.replace(MX_RIGHT_READ | MX_RIGHT_DUPLICATE, &ev), MX_OK);
  ASSERT_TRUE(ev.is_valid());
  EXPECT_EQ(HandleValidity(ev.get()), MX_OK);
  if (ev.get() != old_raw) {
    EXPECT_EQ(HandleValidity(old_raw), MX_ERR_BAD_HANDLE);
  }
  EXPECT_EQ(Basic(ev.get()).rights, MX_RIGHT_READ | MX_RIGHT_DUPLICATE);
}

TEST(EventWrapperTest, FailedReplaceKeepsOriginal) {
  mx::event ev;
  ASSERT_EQ(mx::event::create(0, &ev), MX_OK);
  const mx_handle_t raw = ev.get();
  mx::event out;
  EXPECT_EQ(ev.replace(MX_RIGHT_SIGNAL_PEER, &out), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(ev.get(), raw);
  EXPECT_EQ(HandleValidity(raw), MX_OK);
  EXPECT_FALSE(out.is_valid());

  EXPECT_EQ(ev.replace(MX_RIGHT_SIGNAL_PEER, &ev), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(ev.get(), raw);
  EXPECT_EQ(HandleValidity(raw), MX_OK);
}

TEST(EventWrapperTest, WaitManyReportsEachItemsSignals) {
  mx::event first;
  mx::event second;
  ASSERT_EQ(mx::event::create(0, &first), MX_OK);
  ASSERT_EQ(mx::event::create(0, &second), MX_OK);
  ASSERT_EQ(second.signal(0, MX_EVENT_SIGNALED), MX_OK);
  mx_wait_item_t items[2] = {{first.get(), MX_EVENT_SIGNALED, 0},
                             {second.get(), MX_EVENT_SIGNALED, 0}};
  ASSERT_EQ(mx::event::wait_many(items, 2, mx::deadline_after(mx::sec(10))), MX_OK);
  EXPECT_EQ(items[0].pending & MX_EVENT_SIGNALED, 0u);
  EXPECT_EQ(items[1].pending & MX_EVENT_SIGNALED, MX_EVENT_SIGNALED);

  ASSERT_EQ(second.signal(MX_EVENT_SIGNALED, 0), MX_OK);
  EXPECT_EQ(mx::handle::wait_many(items, 2, mx::deadline_after(mx::msec(10))), MX_ERR_TIMED_OUT);
}

// ---- Time ---------------------------------------------------------------------------------------

static_assert(mx::usec(1) == 1'000u);
static_assert(mx::msec(1) == 1'000'000u);
static_assert(mx::sec(1) == 1'000'000'000u);
static_assert(mx::sec(3) == MX_SEC(3));
static_assert(mx::msec(250) == MX_MSEC(250));
static_assert(mx::usec(7) == MX_USEC(7));
static_assert(std::is_same_v<decltype(mx::msec(1)), mx_duration_t>);

TEST(TimeHelpersTest, DurationHelpersAreNanoseconds) {
  // Also at run time, from non-constant arguments.
  volatile uint64_t n = 5;
  EXPECT_EQ(mx::usec(n), 5'000u);
  EXPECT_EQ(mx::msec(n), 5'000'000u);
  EXPECT_EQ(mx::sec(n), 5'000'000'000u);
}

TEST(TimeHelpersTest, DeadlineAfterIsMonotonicNowPlusDuration) {
  const mx_time_t before = mx::time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t deadline = mx::deadline_after(mx::sec(5));
  const mx_time_t after = mx::time_get(MX_CLOCK_MONOTONIC);
  EXPECT_GE(deadline, before + mx::sec(5));
  EXPECT_LE(deadline, after + mx::sec(5));
}

TEST(TimeHelpersTest, MonotonicClockMatchesSteadyClockAndNeverGoesBack) {
  const uint64_t steady_before =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count());
  const mx_time_t t1 = mx::time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t t2 = mx::time::get(MX_CLOCK_MONOTONIC);
  EXPECT_GE(t2, t1);
  EXPECT_GE(t1, steady_before);
  EXPECT_LT(t1 - steady_before, mx::sec(5));
}

TEST(TimeHelpersTest, UtcClockIsWallClockTime) {
  const uint64_t wall =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const mx_time_t utc = mx::time_get(MX_CLOCK_UTC);
  const uint64_t diff = utc > wall ? utc - wall : wall - utc;
  EXPECT_LT(diff, mx::sec(5));
}

TEST(TimeHelpersTest, NanosleepSleepsUntilDeadline) {
  const mx_time_t deadline = mx::deadline_after(mx::msec(30));
  EXPECT_EQ(mx::nanosleep(deadline), MX_OK);
  EXPECT_GE(mx::time_get(MX_CLOCK_MONOTONIC), deadline);
  EXPECT_EQ(mx::nanosleep(0), MX_OK);  // only yields
}

// ---- mx::process --------------------------------------------------------------------------------

// Child: takes the channel labelled PA_USER0/5 with mx::get_startup_handle, checks that a second
// take gives nothing, and echoes one message back doubled.
MX_CHILD(cpp_wrappers_startup_echo) {
  mx::channel ch(mx::get_startup_handle(PA_HND(PA_USER0, 5)));
  CHILD_CHECK(ch.is_valid());
  CHILD_CHECK(!mx::get_startup_handle(PA_HND(PA_USER0, 5)).is_valid());
  mx_signals_t pending = 0;
  CHILD_CHECK_OK(ch.wait_one(MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                             mx::deadline_after(mx::sec(30)), &pending));
  uint32_t value = 0;
  uint32_t actual = 0;
  CHILD_CHECK_OK(ch.read(0, &value, sizeof(value), &actual, nullptr, 0, nullptr));
  CHILD_CHECK_EQ(actual, sizeof(value));
  value *= 2;
  CHILD_CHECK_OK(ch.write(0, &value, sizeof(value), nullptr, 0));
  return static_cast<int>(args.size());
}

TEST(ProcessWrapperTest, SelfIsUnownedProcessHandle) {
  {
    mx::unowned<mx::process> self = mx::process::self();
    ASSERT_TRUE(self->is_valid());
    EXPECT_EQ(self->get(), mx_process_self());
    mx_info_handle_basic_t info = {};
    ASSERT_EQ(self->get_basic_info(&info), MX_OK);
    EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_PROCESS));
    mx_info_process_t proc = {};
    ASSERT_EQ(self->get_process_info(&proc), MX_OK);
    EXPECT_TRUE(proc.started);
    EXPECT_FALSE(proc.exited);
  }
  // The view is gone; libmx's handle is not.
  EXPECT_EQ(HandleValidity(mx_process_self()), MX_OK);
}

TEST(ProcessWrapperTest, SpawnMovesHandlesAndReportsExitCode) {
  mx::channel ours;
  mx::channel theirs;
  ASSERT_EQ(mx::channel::create(0, &ours, &theirs), MX_OK);
  const std::string& exe = mx_test::SelfExePath();
  const char* argv[] = {exe.c_str(), "--mx-child=cpp_wrappers_startup_echo", "x", "y", "z",
                        nullptr};
  mx_spawn_handle_t handles[1] = {{PA_HND(PA_USER0, 5), theirs.get()}};
  mx::process child;
  ASSERT_EQ(mx::process::spawn(exe.c_str(), argv, nullptr, handles, 1, &child), MX_OK);
  // The handle moved into the child: our wrapper must forget the value, not close it.
  EXPECT_EQ(HandleValidity(theirs.get()), MX_ERR_BAD_HANDLE);
  static_cast<void>(theirs.release());
  ASSERT_TRUE(child.is_valid());
  KillOnExit guard{child};

  const uint32_t value = 21;
  ASSERT_EQ(ours.write(0, &value, sizeof(value), nullptr, 0), MX_OK);
  mx_signals_t pending = 0;
  ASSERT_EQ(ours.wait_one(MX_CHANNEL_READABLE, mx::deadline_after(mx::sec(30)), &pending), MX_OK);
  uint32_t reply = 0;
  uint32_t actual = 0;
  ASSERT_EQ(ours.read(0, &reply, sizeof(reply), &actual, nullptr, 0, nullptr), MX_OK);
  EXPECT_EQ(reply, 42u);

  ASSERT_EQ(child.wait_one(MX_PROCESS_TERMINATED, mx::deadline_after(mx::sec(30)), &pending),
            MX_OK);
  mx_info_process_t info = {};
  ASSERT_EQ(child.get_process_info(&info), MX_OK);
  EXPECT_TRUE(info.started);
  EXPECT_TRUE(info.exited);
  EXPECT_EQ(info.return_code, 3);  // the child returns its argument count
}

TEST(ProcessWrapperTest, KillTerminatesChild) {
  const char* argv[] = {"sleep", "60", nullptr};
  mx::process child;
  ASSERT_EQ(mx::process::spawn("/bin/sleep", argv, nullptr, nullptr, 0, &child), MX_OK);
  ASSERT_TRUE(child.is_valid());
  KillOnExit guard{child};
  mx_signals_t pending = 0;
  EXPECT_EQ(child.wait_one(MX_PROCESS_TERMINATED, 0, &pending), MX_ERR_TIMED_OUT);
  ASSERT_EQ(child.kill(), MX_OK);
  ASSERT_EQ(child.wait_one(MX_PROCESS_TERMINATED, mx::deadline_after(mx::sec(30)), &pending),
            MX_OK);
  mx_info_process_t info = {};
  ASSERT_EQ(child.get_process_info(&info), MX_OK);
  EXPECT_TRUE(info.exited);
  EXPECT_EQ(info.return_code, -9);
}

TEST(ProcessWrapperTest, SpawnMissingProgramFailsAndKeepsHandles) {
  mx::channel a;
  mx::channel b;
  ASSERT_EQ(mx::channel::create(0, &a, &b), MX_OK);
  const char* argv[] = {"nope", nullptr};
  mx_spawn_handle_t handles[1] = {{PA_HND(PA_USER0, 0), b.get()}};
  mx_handle_t old_value = RawEvent();
  mx::process child(old_value);
  EXPECT_EQ(
      mx::process::spawn("/nonexistent/libmx-test-program", argv, nullptr, handles, 1, &child),
      MX_ERR_NOT_FOUND);
  EXPECT_FALSE(child.is_valid());
  EXPECT_EQ(HandleValidity(old_value), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(HandleValidity(b.get()), MX_OK);
}

TEST(ProcessWrapperTest, SpawnWithoutOutputProcessStillRuns) {
  mx::channel ours;
  mx::channel theirs;
  ASSERT_EQ(mx::channel::create(0, &ours, &theirs), MX_OK);
  const std::string& exe = mx_test::SelfExePath();
  const char* argv[] = {exe.c_str(), "--mx-child=cpp_wrappers_startup_echo", nullptr};
  mx_spawn_handle_t handles[1] = {{PA_HND(PA_USER0, 5), theirs.get()}};
  ASSERT_EQ(mx::process::spawn(exe.c_str(), argv, nullptr, handles, 1, nullptr), MX_OK);
  static_cast<void>(theirs.release());
  const uint32_t value = 4;
  ASSERT_EQ(ours.write(0, &value, sizeof(value), nullptr, 0), MX_OK);
  mx_signals_t pending = 0;
  ASSERT_EQ(ours.wait_one(MX_CHANNEL_READABLE, mx::deadline_after(mx::sec(30)), &pending), MX_OK);
  uint32_t reply = 0;
  uint32_t actual = 0;
  ASSERT_EQ(ours.read(0, &reply, sizeof(reply), &actual, nullptr, 0, nullptr), MX_OK);
  EXPECT_EQ(reply, 8u);
  // The child exits; its end closes.
  EXPECT_EQ(ours.wait_one(MX_CHANNEL_PEER_CLOSED, mx::deadline_after(mx::sec(30)), &pending),
            MX_OK);
}

TEST(ProcessWrapperTest, GetStartupHandleWithoutHandleReturnsInvalid) {
  mx::handle h = mx::get_startup_handle(PA_HND(PA_USER2, 0x7777));
  EXPECT_FALSE(h.is_valid());
}

}  // namespace
