// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of handle values, close, duplicate, replace, LAST_HANDLE, the lookup order and
// the cancellation of waits when a handle leaves the table.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

// The current signals of |h|, read with a zero-signal poll.
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

// Replaces |*h| with a handle carrying |rights|.
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

// Runs wait_one(h, signals, 10 s) on another thread; |action| runs once that thread is blocked.
struct WaitResult {
  mx_status_t status = 1;
  mx_signals_t observed = 0;
};
template <typename Action>
WaitResult WaitOneWhile(mx_handle_t h, mx_signals_t signals, Action action) {
  WaitResult r;
  std::atomic<pid_t> tid{0};
  std::thread waiter([&] {
    tid.store(gettid());
    r.status = mx_object_wait_one(h, signals, DeadlineIn10s(), &r.observed);
  });
  while (tid.load() == 0) sched_yield();
  EXPECT_TRUE(WaitUntilThreadBlocked(tid.load())) << "the waiter never blocked";
  action();
  waiter.join();
  return r;
}

// ---- Values ----------------------------------------------------------------------------------

TEST(HandleTest, ValuesAreOddPositiveNonzeroAndDistinct) {
  std::vector<mx_handle_t> handles;
  for (int i = 0; i < 32; ++i) {
    mx_handle_t a, b, e;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(mx_event_create(0, &e), MX_OK);
    handles.insert(handles.end(), {a, b, e});
  }
  std::set<mx_handle_t> seen;
  for (mx_handle_t h : handles) {
    EXPECT_NE(h, MX_HANDLE_INVALID);
    EXPECT_GT(h, 0);
    EXPECT_EQ(h & 1, 1) << "handle value " << h << " is even";
    EXPECT_TRUE(seen.insert(h).second) << "handle value " << h << " given twice";
  }
  for (mx_handle_t h : handles) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST(HandleTest, CloseOfInvalidHandleIsOk) { EXPECT_EQ(mx_handle_close(MX_HANDLE_INVALID), MX_OK); }

TEST(HandleTest, DoubleCloseReturnsBadHandle) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_ERR_BAD_HANDLE);
}

TEST(HandleTest, StaleValueAfterCloseReturnsBadHandle) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_FALSE(IsValid(a));
  EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_READABLE, 0, nullptr), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(a), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, ClosedValueIsNotReusedByTheNextHandles) {
  // A handle carries a generation: a freed slot's old value stays stale.
  std::vector<mx_handle_t> closed;
  for (int i = 0; i < 100; ++i) {
    mx_handle_t e = MakeEvent();
    for (mx_handle_t old : closed)
      ASSERT_NE(e, old) << "stale value reused after " << i << " rounds";
    ASSERT_EQ(mx_handle_close(e), MX_OK);
    closed.push_back(e);
  }
  for (mx_handle_t old : closed) EXPECT_FALSE(IsValid(old));
}

TEST(HandleTest, ForgedValuesReturnBadHandle) {
  mx_handle_t e = MakeEvent();
  for (mx_handle_t forged : {e + 1, e - 1, -1, -e, static_cast<mx_handle_t>(INT32_MIN), 2}) {
    EXPECT_FALSE(IsValid(forged)) << forged;
    EXPECT_EQ(mx_object_signal(forged, 0, MX_EVENT_SIGNALED), MX_ERR_BAD_HANDLE) << forged;
    EXPECT_EQ(mx_handle_close(forged), MX_ERR_BAD_HANDLE) << forged;
  }
  EXPECT_TRUE(IsValid(e));
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

// ---- Duplicate -------------------------------------------------------------------------------

TEST(HandleTest, DuplicateOfBadHandleReturnsBadHandle) {
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_duplicate(MX_HANDLE_INVALID, MX_RIGHT_SAME_RIGHTS, &out), MX_ERR_BAD_HANDLE);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  // BAD_HANDLE comes before the rights checks, even with bad rights.
  EXPECT_EQ(mx_handle_duplicate(e, 0x7fffffff, &out), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(out, 12345);
}

TEST(HandleTest, DuplicateOfChannelReturnsAccessDenied) {
  mx_handle_t a, b, out = 12345;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &out), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_duplicate(a, MX_RIGHT_READ, &out), MX_ERR_ACCESS_DENIED);
  // ACCESS_DENIED comes before the rights-mask check.
  EXPECT_EQ(mx_handle_duplicate(a, 0x7fffffff, &out), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(out, 12345);
  EXPECT_TRUE(IsValid(a));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, DuplicateOfEventWithoutDuplicateRightReturnsAccessDenied) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_DUPLICATE);
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &out), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(out, 12345);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, DuplicateOfEventWithSameRightsGivesNewHandleToSameObject) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  EXPECT_NE(d, e);
  EXPECT_TRUE(IsValid(e));
  EXPECT_TRUE(IsValid(d));
  mx_info_handle_basic_t ie = BasicInfo(e), id = BasicInfo(d);
  EXPECT_EQ(id.koid, ie.koid);
  EXPECT_EQ(id.rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(id.type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  // Both handles share the signal state.
  ASSERT_EQ(mx_object_signal(d, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_EVENT_SIGNALED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
}

TEST(HandleTest, DuplicateWithSubsetRightsGivesExactlyThoseRights) {
  mx_handle_t e = MakeEvent();
  const mx_rights_t subset = MX_RIGHT_READ | MX_RIGHT_TRANSFER;
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, subset, &d), MX_OK);
  EXPECT_EQ(BasicInfo(d).rights, subset);
  EXPECT_EQ(BasicInfo(e).rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, DuplicateWithSupersetRightsReturnsInvalidArgs) {
  mx_handle_t e = MakeEvent();
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_duplicate(e, MX_DEFAULT_EVENT_RIGHTS | MX_RIGHT_SIGNAL_PEER, &out),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, 12345);
  ReduceRights(&e, MX_RIGHT_DUPLICATE | MX_RIGHT_READ);
  EXPECT_EQ(mx_handle_duplicate(e, MX_RIGHT_DUPLICATE | MX_RIGHT_WRITE, &out), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, 12345);
  EXPECT_TRUE(IsValid(e));
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, DuplicateWithSameRightsOrOtherBitsReturnsInvalidArgs) {
  mx_handle_t e = MakeEvent();
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS | MX_RIGHT_READ, &out),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, 12345);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, DuplicateWithZeroRightsSucceeds) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, 0, &d), MX_OK);
  EXPECT_TRUE(IsValid(d));
  mx_info_handle_basic_t info = BasicInfo(d);
  EXPECT_EQ(info.rights, 0u);
  EXPECT_EQ(info.koid, BasicInfo(e).koid);
  // No rights: nothing but close and BASIC info works.
  EXPECT_EQ(mx_object_wait_one(d, MX_EVENT_SIGNALED, 0, nullptr), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_signal(d, 0, MX_EVENT_SIGNALED), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, DuplicateWithNullOutReturnsInvalidArgs) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, nullptr), MX_ERR_INVALID_ARGS);
  // No handle was created: the event still has a single handle.
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

// ---- Replace ---------------------------------------------------------------------------------

TEST(HandleTest, ReplaceOfChannelSucceedsAndInvalidatesOriginal) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  const mx_koid_t koid = BasicInfo(a).koid;
  mx_handle_t r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(a, MX_RIGHT_SAME_RIGHTS, &r), MX_OK);
  EXPECT_FALSE(IsValid(a));
  EXPECT_EQ(mx_handle_close(a), MX_ERR_BAD_HANDLE);
  mx_info_handle_basic_t info = BasicInfo(r);
  EXPECT_EQ(info.koid, koid);
  EXPECT_EQ(info.rights, MX_DEFAULT_CHANNEL_RIGHTS);
  // The replaced endpoint is still the same endpoint.
  ASSERT_EQ(mx_channel_write(r, 0, "hi", 2, nullptr, 0), MX_OK);
  char buf[4];
  uint32_t n = 0;
  EXPECT_EQ(mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, ReplaceWithSubsetRightsReducesRights) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_handle_t r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(a, MX_RIGHT_READ | MX_RIGHT_TRANSFER, &r), MX_OK);
  EXPECT_EQ(BasicInfo(r).rights, MX_RIGHT_READ | MX_RIGHT_TRANSFER);
  EXPECT_EQ(mx_channel_write(r, 0, "x", 1, nullptr, 0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, ReplaceDoesNotNeedDuplicateRight) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_RIGHT_READ | MX_RIGHT_SIGNAL);
  mx_handle_t r = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_handle_replace(e, MX_RIGHT_READ, &r), MX_OK);
  EXPECT_EQ(BasicInfo(r).rights, MX_RIGHT_READ);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
}

TEST(HandleTest, ReplaceWithZeroRightsSucceeds) {
  mx_handle_t e = MakeEvent();
  mx_handle_t r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(e, 0, &r), MX_OK);
  EXPECT_FALSE(IsValid(e));
  EXPECT_EQ(BasicInfo(r).rights, 0u);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
}

TEST(HandleTest, ReplaceOfBadHandleReturnsBadHandle) {
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_replace(MX_HANDLE_INVALID, MX_RIGHT_SAME_RIGHTS, &out), MX_ERR_BAD_HANDLE);
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_replace(e, 0x7fffffff, &out), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(out, 12345);
}

TEST(HandleTest, ReplaceWithSupersetRightsFailsAndKeepsOriginal) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_replace(a, MX_DEFAULT_CHANNEL_RIGHTS | MX_RIGHT_DUPLICATE, &out),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, 12345);
  EXPECT_TRUE(IsValid(a));
  EXPECT_EQ(BasicInfo(a).rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, ReplaceWithSameRightsOrOtherBitsFailsAndKeepsOriginal) {
  mx_handle_t e = MakeEvent();
  mx_handle_t out = 12345;
  EXPECT_EQ(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS | MX_RIGHT_READ, &out), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, 12345);
  EXPECT_TRUE(IsValid(e));
  EXPECT_EQ(BasicInfo(e).rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, ReplaceWithNullOutFailsAndKeepsOriginal) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_TRUE(IsValid(e));
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

// ---- LAST_HANDLE ------------------------------------------------------------------------------

TEST(HandleTest, NewEventHasLastHandle) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, ReplaceKeepsLastHandle) {
  mx_handle_t e = MakeEvent();
  mx_handle_t r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, &r), MX_OK);
  EXPECT_EQ(SignalsOf(r), MX_SIGNAL_LAST_HANDLE);
  mx_handle_t a, b, ra = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_replace(a, MX_RIGHT_SAME_RIGHTS, &ra), MX_OK);
  EXPECT_EQ(SignalsOf(ra), MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
  EXPECT_EQ(mx_handle_close(ra), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, LastHandleClearedByDuplicateAndSetAgainByClosingIt) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  EXPECT_EQ(SignalsOf(e) & MX_SIGNAL_LAST_HANDLE, 0u);
  EXPECT_EQ(SignalsOf(d) & MX_SIGNAL_LAST_HANDLE, 0u);
  ASSERT_EQ(mx_handle_close(d), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, HandleInFlightCountsForLastHandle) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, nullptr, 0, &d, 1), MX_OK);
  // |d| sits in a message: still two handles.
  EXPECT_EQ(SignalsOf(e) & MX_SIGNAL_LAST_HANDLE, 0u);
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(b, 0, nullptr, &got, 0, 1, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  EXPECT_EQ(SignalsOf(e) & MX_SIGNAL_LAST_HANDLE, 0u);
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, HandleInQueueOfClosedEndpointIsClosed) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, nullptr, 0, &d, 1), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);  // |d| was unread in b's queue
  EXPECT_EQ(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

// ---- Lookup order: BAD_HANDLE -> ACCESS_DENIED -> WRONG_TYPE -----------------------------------

TEST(HandleTest, LookupOnClosedHandleReturnsBadHandleBeforeRightsAndType) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, 0);
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  char buf[1];
  EXPECT_EQ(mx_channel_read(e, 0, buf, nullptr, 1, 0, nullptr, nullptr), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_channel_write(e, 0, buf, 1, nullptr, 0), MX_ERR_BAD_HANDLE);
}

TEST(HandleTest, ChannelReadOnEventWithoutReadRightReturnsAccessDenied) {
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_READ);
  char buf[1];
  EXPECT_EQ(mx_channel_read(e, 0, buf, nullptr, 1, 0, nullptr, nullptr), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, ChannelReadOnEventWithReadRightReturnsWrongType) {
  mx_handle_t e = MakeEvent();
  char buf[1];
  EXPECT_EQ(mx_channel_read(e, 0, buf, nullptr, 1, 0, nullptr, nullptr), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(HandleTest, ChannelWriteOnEventChecksWriteRightBeforeType) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_channel_write(e, 0, "x", 1, nullptr, 0), MX_ERR_WRONG_TYPE);
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_WRITE);
  EXPECT_EQ(mx_channel_write(e, 0, "x", 1, nullptr, 0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

// ---- Waits end when the handle leaves the table ------------------------------------------------

TEST(HandleTest, WaitIsCanceledWhenHandleClosedByAnotherThread) {
  mx_handle_t e = MakeEvent();
  WaitResult r = WaitOneWhile(e, MX_EVENT_SIGNALED, [&] { EXPECT_EQ(mx_handle_close(e), MX_OK); });
  EXPECT_EQ(r.status, MX_ERR_CANCELED);
  EXPECT_NE(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << r.observed;
  EXPECT_EQ(r.observed & MX_EVENT_SIGNALED, 0u);
}

TEST(HandleTest, WaitOnChannelIsCanceledWhenHandleClosedByAnotherThread) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  WaitResult r =
      WaitOneWhile(a, MX_CHANNEL_READABLE, [&] { EXPECT_EQ(mx_handle_close(a), MX_OK); });
  EXPECT_EQ(r.status, MX_ERR_CANCELED);
  EXPECT_NE(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << r.observed;
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, WaitIsCanceledWhenHandleReplaced) {
  mx_handle_t e = MakeEvent();
  mx_handle_t r2 = MX_HANDLE_INVALID;
  WaitResult r = WaitOneWhile(e, MX_EVENT_SIGNALED, [&] {
    EXPECT_EQ(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, &r2), MX_OK);
  });
  EXPECT_EQ(r.status, MX_ERR_CANCELED);
  EXPECT_NE(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << r.observed;
  // The object lives on through the new handle.
  EXPECT_TRUE(IsValid(r2));
  EXPECT_EQ(mx_object_signal(r2, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_handle_close(r2), MX_OK);
}

TEST(HandleTest, WaitIsCanceledWhenHandleWrittenIntoChannel) {
  mx_handle_t e = MakeEvent();
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  WaitResult r = WaitOneWhile(e, MX_EVENT_SIGNALED,
                              [&] { EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, &e, 1), MX_OK); });
  EXPECT_EQ(r.status, MX_ERR_CANCELED);
  EXPECT_NE(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << r.observed;
  mx_handle_t got = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_read(b, 0, nullptr, &got, 0, 1, nullptr, nullptr), MX_OK);
  EXPECT_TRUE(IsValid(got));
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(HandleTest, WaitOnChannelEndpointIsCanceledWhenItIsWrittenIntoAnotherChannel) {
  mx_handle_t a, b, x, y;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  WaitResult r = WaitOneWhile(a, MX_CHANNEL_READABLE,
                              [&] { EXPECT_EQ(mx_channel_write(x, 0, nullptr, 0, &a, 1), MX_OK); });
  EXPECT_EQ(r.status, MX_ERR_CANCELED);
  EXPECT_NE(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u) << std::hex << r.observed;
  mx_handle_t got = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_read(y, 0, nullptr, &got, 0, 1, nullptr, nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(got), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
  EXPECT_EQ(mx_handle_close(y), MX_OK);
}

TEST(HandleTest, WaitOnOtherHandleToSameObjectIsNotCanceled) {
  mx_handle_t e = MakeEvent();
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  WaitResult r = WaitOneWhile(e, MX_EVENT_SIGNALED, [&] {
    EXPECT_EQ(mx_handle_close(d), MX_OK);
    EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  });
  EXPECT_EQ(r.status, MX_OK);
  EXPECT_NE(r.observed & MX_EVENT_SIGNALED, 0u);
  EXPECT_EQ(r.observed & MX_SIGNAL_HANDLE_CLOSED, 0u);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

}  // namespace
