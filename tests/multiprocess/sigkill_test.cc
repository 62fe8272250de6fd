// SPDX-License-Identifier: BSD-3-Clause
// A process killed with SIGKILL: its handles close, pending calls on its channels fail with
// CALL_FAILED/PEER_CLOSED, what it wrote before dying stays readable, and endpoints sitting unread
// in its queues are closed too.
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>

#include <string>
#include <thread>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

struct Request {
  uint32_t txid;
  uint32_t value;
};

// Reads one request on PA_USER0 (the call channel), writes three messages on PA_USER1 (the side
// channel), then dies: args[0] == "raise" kills itself with SIGKILL, otherwise it says "ready" on
// PA_USER2 (after the three writes have returned) and blocks until the parent kills it.
MX_CHILD(never_answer) {
  mx_handle_t calls = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t side = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  mx_handle_t ready = mx_test::TakeStartupHandle(PA_HND(PA_USER2, 0));
  Request request;
  CHILD_CHECK_OK(mx_test::ReadPod(calls, &request));
  CHILD_CHECK_OK(mx_test::WritePod(side, request));  // "got it"
  CHILD_CHECK_OK(mx_test::WriteMessage(side, "note 1", 6));
  mx_handle_t event;
  CHILD_CHECK_OK(mx_event_create(0, &event));
  CHILD_CHECK_OK(mx_test::WriteMessage(side, "note 2", 6, {event}));
  if (!args.empty() && args[0] == "raise") raise(SIGKILL);
  CHILD_CHECK_OK(mx_test::WriteMessage(ready, "ready", 5));
  // Block until killed; the parent never writes on |ready|.
  Message msg;
  mx_test::ReadMessage(ready, &msg, mx_deadline_after(MX_SEC(60)));
  return 1;
}

struct CallOutcome {
  mx_status_t status = MX_ERR_INTERNAL;
  mx_status_t read_status = MX_OK;
};

CallOutcome CallOnce(mx_handle_t ch, uint32_t txid) {
  Request request{txid, 1234};
  Request reply;
  mx_channel_call_args_t args = {&request,        nullptr, &reply,        nullptr,
                                 sizeof(request), 0,       sizeof(reply), 0};
  CallOutcome out;
  uint32_t actual_bytes = 0, actual_handles = 0;
  out.status = mx_channel_call(ch, 0, mx_test::DefaultDeadline(), &args, &actual_bytes,
                               &actual_handles, &out.read_status);
  return out;
}

// The rest of the side channel: "note 1", "note 2" (with an event), then PEER_CLOSED.
void ExpectNotesThenPeerClosed(mx_handle_t side) {
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(side, &msg), MX_OK);
  EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "note 1");
  ASSERT_EQ(mx_test::ReadMessage(side, &msg), MX_OK);
  EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "note 2");
  ASSERT_EQ(msg.handles.size(), 1u);
  EXPECT_EQ(mx_test::BasicInfo(msg.handles[0]).type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  mx_test::CloseAll(&msg.handles);
  EXPECT_EQ(mx_test::ReadMessage(side, &msg), MX_ERR_PEER_CLOSED);
  mx_signals_t observed = mx_test::PendingSignals(side);
  EXPECT_TRUE(observed & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(observed & MX_CHANNEL_READABLE);
  EXPECT_FALSE(observed & MX_CHANNEL_WRITABLE);
}

class KilledPeerTest : public mx_test::MultiprocessTest {
 protected:
  // Spawns never_answer with the given mode.
  void Start(const char* mode) {
    mx_handle_t calls_remote, side_remote, ready_remote, process;
    ASSERT_EQ(mx_channel_create(0, &calls_, &calls_remote), MX_OK);
    ASSERT_EQ(mx_channel_create(0, &side_, &side_remote), MX_OK);
    ASSERT_EQ(mx_channel_create(0, &ready_, &ready_remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("never_answer",
                                  {{PA_HND(PA_USER0, 0), calls_remote},
                                   {PA_HND(PA_USER1, 0), side_remote},
                                   {PA_HND(PA_USER2, 0), ready_remote}},
                                  {mode}, &process),
              MX_OK);
    child_ = mx_test::ScopedProcess(process);
  }

  void TearDown() override {
    for (mx_handle_t h : {calls_, side_, ready_}) mx_handle_close(h);
    child_ = mx_test::ScopedProcess();  // kills and reaps it if the test did not
    mx_test::MultiprocessTest::TearDown();
  }

  // The whole side channel: the request the child got, "note 1", "note 2", PEER_CLOSED.
  void ExpectSideChannel(uint32_t txid) {
    Request got;
    ASSERT_EQ(mx_test::ReadPod(side_, &got), MX_OK);
    EXPECT_EQ(got.txid, txid);
    ExpectNotesThenPeerClosed(side_);
  }

  mx_handle_t calls_ = MX_HANDLE_INVALID, side_ = MX_HANDLE_INVALID, ready_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess child_;
};

TEST_F(KilledPeerTest, CallFailsWithPeerClosedWhenServerKillsItselfMidCall) {
  ASSERT_NO_FATAL_FAILURE(Start("raise"));
  CallOutcome outcome = CallOnce(calls_, 0x51);
  EXPECT_EQ(outcome.status, MX_ERR_CALL_FAILED) << mx_test::StatusName(outcome.status);
  EXPECT_EQ(outcome.read_status, MX_ERR_PEER_CLOSED) << mx_test::StatusName(outcome.read_status);
  EXPECT_TRUE(mx_test::PendingSignals(calls_) & MX_CHANNEL_PEER_CLOSED);
  ExpectSideChannel(0x51);
  EXPECT_EQ(child_.Join(), -SIGKILL);
}

TEST_F(KilledPeerTest, CallFailsWithPeerClosedWhenParentKillsServerMidCall) {
  ASSERT_NO_FATAL_FAILURE(Start("wait"));
  // The killer waits until the child has the request and has written its notes, then kills it
  // while this thread is blocked in the call.
  mx_status_t ready_status = MX_ERR_INTERNAL, kill_status = MX_ERR_INTERNAL;
  const mx_handle_t process = child_.get();
  std::thread killer([&] {
    Message msg;
    ready_status = mx_test::ReadMessage(ready_, &msg);
    if (ready_status == MX_OK) kill_status = mx_task_kill(process);
  });
  CallOutcome outcome = CallOnce(calls_, 0x52);
  killer.join();
  ASSERT_EQ(ready_status, MX_OK);
  EXPECT_EQ(kill_status, MX_OK);
  EXPECT_EQ(outcome.status, MX_ERR_CALL_FAILED) << mx_test::StatusName(outcome.status);
  EXPECT_EQ(outcome.read_status, MX_ERR_PEER_CLOSED) << mx_test::StatusName(outcome.read_status);
  ExpectSideChannel(0x52);
  EXPECT_EQ(child_.Join(), -SIGKILL);
}

TEST_F(KilledPeerTest, WaiterInParentSeesPeerClosedWhenChildIsKilled) {
  ASSERT_NO_FATAL_FAILURE(Start("wait"));
  ASSERT_EQ(mx_test::WritePod(calls_, Request{0x53, 0}), MX_OK);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(ready_, &msg), MX_OK);

  mx_status_t wait_status = MX_ERR_INTERNAL;
  mx_signals_t observed = 0;
  std::thread waiter([&] {
    wait_status =
        mx_object_wait_one(calls_, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &observed);
  });
  EXPECT_EQ(child_.KillAndJoin(), -SIGKILL);
  waiter.join();
  EXPECT_EQ(wait_status, MX_OK) << mx_test::StatusName(wait_status);
  EXPECT_TRUE(observed & MX_CHANNEL_PEER_CLOSED);
  ExpectSideChannel(0x53);
  EXPECT_TRUE(mx_test::PendingSignals(ready_) & MX_CHANNEL_PEER_CLOSED);
}

// Uses x's unanswered-call trick to pull what waits on PA_USER0 into this process's local queue
// (args[0] == "pull"), says "ready" on PA_USER1, then blocks until killed. Never reads PA_USER0.
MX_CHILD(hold_unread) {
  mx_handle_t held = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  if (!args.empty() && args[0] == "pull") {
    uint32_t txid = 0xDEADBEEFu, reply = 0;
    mx_channel_call_args_t call = {&txid,        nullptr, &reply,        nullptr,
                                   sizeof(txid), 0,       sizeof(reply), 0};
    uint32_t ab = 0, ah = 0;
    mx_status_t rs = MX_OK;
    CHILD_CHECK_EQ(mx_channel_call(held, 0, mx_deadline_after(MX_MSEC(50)), &call, &ab, &ah, &rs),
                   MX_ERR_TIMED_OUT);
  }
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "ready", 5));
  Message msg;
  mx_test::ReadMessage(ctl, &msg, mx_deadline_after(MX_SEC(60)));
  return 1;
}

class EndpointsInKilledChildTest : public mx_test::MultiprocessTest,
                                   public testing::WithParamInterface<const char*> {};

TEST_P(EndpointsInKilledChildTest, UnreadEndpointsInItsQueuesAreClosed) {
  // q1 and q2 travel inside messages queued on the child's end of |held| (q1 before the child
  // starts, q2 after); an event rides along. The child never reads them and is killed.
  mx_handle_t held, held_remote, ctl, ctl_remote, p1, q1, p2, q2, event, event_keep, process;
  ASSERT_EQ(mx_channel_create(0, &held, &held_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &p1, &q1), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &p2, &q2), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &event_keep), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(p1, "inside q1's queue", 17), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(held, "q1", 2, {q1, event}), MX_OK);
  const std::string mode = GetParam();
  ASSERT_EQ(
      mx_test::SpawnChild("hold_unread",
                          {{PA_HND(PA_USER0, 0), held_remote}, {PA_HND(PA_USER1, 0), ctl_remote}},
                          {mode}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  if (mode != "pull") {
    ASSERT_EQ(mx_test::WriteMessage(held, "q2", 2, {q2}), MX_OK);
  }
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(ctl, &msg), MX_OK);
  ASSERT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "ready");
  if (mode == "pull") {
    // After the pull, so that q2 goes straight to the kernel queue behind the pulled message.
    ASSERT_EQ(mx_test::WriteMessage(held, "q2", 2, {q2}), MX_OK);
    uint32_t txid = 0;
    ASSERT_EQ(mx_test::ReadPod(held, &txid), MX_OK);  // the child's unanswered call
    EXPECT_EQ(txid, 0xDEADBEEFu);
  }
  EXPECT_FALSE(mx_test::PendingSignals(p1) & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(mx_test::PendingSignals(p2) & MX_CHANNEL_PEER_CLOSED);

  EXPECT_EQ(child.KillAndJoin(), -SIGKILL);
  EXPECT_EQ(mx_object_wait_one(p1, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK)
      << "q1 sat in the killed child's queue and was not closed";
  EXPECT_EQ(mx_object_wait_one(p2, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK)
      << "q2 sat in the killed child's queue and was not closed";
  EXPECT_EQ(
      mx_object_wait_one(event_keep, MX_SIGNAL_LAST_HANDLE, mx_test::DefaultDeadline(), nullptr),
      MX_OK)
      << "the event in the killed child's queue was not closed";
  EXPECT_EQ(mx_object_wait_one(held, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  for (mx_handle_t h : {held, ctl, p1, p2, event_keep}) mx_handle_close(h);
}

INSTANTIATE_TEST_SUITE_P(QueuedInKernelOrPulledLocally, EndpointsInKilledChildTest,
                         testing::Values("none", "pull"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "pull" ? "PulledIntoLocalQueue"
                                                                    : "LeftInKernelQueue";
                         });

}  // namespace
