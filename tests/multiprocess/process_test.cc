// SPDX-License-Identifier: BSD-3-Clause
// Process handles and startup handles: exit codes through MX_INFO_PROCESS, MX_PROCESS_TERMINATED,
// mx_task_kill, and mx_spawn's all-or-nothing handle transfer.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

mx_info_process_t ProcessInfo(mx_handle_t process, mx_status_t* status) {
  mx_info_process_t info;
  memset(&info, 0xa5, sizeof(info));
  size_t actual = 0, avail = 0;
  *status = mx_object_get_info(process, MX_INFO_PROCESS, &info, sizeof(info), &actual, &avail);
  return info;
}

// Returns atoi(args[0]).
MX_CHILD(exit_with) { return args.empty() ? 1 : atoi(args[0].c_str()); }

// Says "ready" on PA_USER0, then exits with the first byte of the next message (3 if the parent
// hangs up instead).
MX_CHILD(wait_for_word) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "ready", 5));
  Message msg;
  mx_status_t status = mx_test::ReadMessage(ctl, &msg, mx_deadline_after(MX_SEC(60)));
  if (status == MX_ERR_PEER_CLOSED) return 3;
  CHILD_CHECK_OK(status);
  CHILD_CHECK(!msg.bytes.empty());
  return msg.bytes[0];
}

void ExpectReady(mx_handle_t ctl) {
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(ctl, &msg), MX_OK);
  ASSERT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "ready");
}

using ProcessTest = mx_test::MultiprocessTest;

TEST_F(ProcessTest, ReturnCodeIsReportedThroughProcessHandle) {
  for (int code : {7, 0, 255}) {
    SCOPED_TRACE(testing::Message() << "child returns " << code);
    mx_handle_t process = MX_HANDLE_INVALID;
    ASSERT_EQ(mx_test::SpawnChild("exit_with", {}, {std::to_string(code)}, &process), MX_OK);
    mx_test::ScopedProcess child(process);

    mx_info_handle_basic_t basic = mx_test::BasicInfo(process);
    EXPECT_EQ(basic.type, static_cast<uint32_t>(MX_OBJ_TYPE_PROCESS));
    EXPECT_EQ(basic.rights, MX_DEFAULT_PROCESS_RIGHTS);
    EXPECT_NE(basic.koid, MX_KOID_INVALID);

    mx_signals_t observed = 0;
    ASSERT_EQ(
        mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_test::DefaultDeadline(), &observed),
        MX_OK);
    EXPECT_TRUE(observed & MX_PROCESS_TERMINATED);
    mx_status_t status;
    mx_info_process_t info = ProcessInfo(process, &status);
    ASSERT_EQ(status, MX_OK);
    EXPECT_TRUE(info.started);
    EXPECT_TRUE(info.exited);
    EXPECT_FALSE(info.debugger_attached);
    EXPECT_EQ(info.return_code, code);
    // The state stays.
    EXPECT_TRUE(mx_test::PendingSignals(process) & MX_PROCESS_TERMINATED);
    EXPECT_EQ(child.Join(), code);
  }
}

TEST_F(ProcessTest, TerminatedIsAssertedOnlyOnceTheChildHasExited) {
  mx_handle_t ctl, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &remote), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("wait_for_word", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_NO_FATAL_FAILURE(ExpectReady(ctl));

  // The child is alive: blocked waiting for our word.
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(process, MX_PROCESS_TERMINATED, 0, &observed), MX_ERR_TIMED_OUT);
  EXPECT_FALSE(observed & MX_PROCESS_TERMINATED);
  mx_status_t status;
  mx_info_process_t info = ProcessInfo(process, &status);
  ASSERT_EQ(status, MX_OK);
  EXPECT_TRUE(info.started);
  EXPECT_FALSE(info.exited);

  const uint8_t word = 42;
  ASSERT_EQ(mx_test::WriteMessage(ctl, &word, 1), MX_OK);
  EXPECT_EQ(child.Join(), 42);
  // Its end of ctl was closed when it exited.
  EXPECT_TRUE(mx_test::PendingSignals(ctl) & MX_CHANNEL_PEER_CLOSED);
  mx_handle_close(ctl);
}

TEST_F(ProcessTest, KilledChildHasExitedWithNonZeroReturnCode) {
  mx_handle_t ctl, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &remote), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("wait_for_word", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_NO_FATAL_FAILURE(ExpectReady(ctl));

  ASSERT_EQ(mx_task_kill(process), MX_OK);
  mx_signals_t observed = 0;
  ASSERT_EQ(
      mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_test::DefaultDeadline(), &observed),
      MX_OK);
  mx_status_t status;
  mx_info_process_t info = ProcessInfo(process, &status);
  ASSERT_EQ(status, MX_OK);
  EXPECT_TRUE(info.exited);
  EXPECT_NE(info.return_code, 0);
  EXPECT_EQ(info.return_code, -SIGKILL) << "<magenta/syscalls/object.h>: a process killed by a "
                                           "signal reports -(signal number)";
  EXPECT_EQ(child.Join(), -SIGKILL);

  Message msg;
  EXPECT_EQ(mx_test::ReadMessage(ctl, &msg), MX_ERR_PEER_CLOSED);
  mx_handle_close(ctl);
}

TEST_F(ProcessTest, KillingAnAlreadyExitedChildKeepsItsReturnCode) {
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("exit_with", {}, {"5"}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  mx_task_kill(process);  // whatever it returns, the recorded exit must not change
  EXPECT_EQ(child.Join(), 5);
}

class SpawnFailureTest : public mx_test::MultiprocessTest {
 protected:
  void SetUp() override {
    mx_test::MultiprocessTest::SetUp();
    ASSERT_EQ(mx_channel_create(0, &a_, &b_), MX_OK);
    ASSERT_EQ(mx_event_create(0, &event_), MX_OK);
  }
  void TearDown() override {
    for (mx_handle_t h : {a_, b_, event_}) mx_handle_close(h);
    mx_test::MultiprocessTest::TearDown();
  }

  // b_ and event_ are still ours and b_ is still connected to a_.
  void ExpectHandlesKept() {
    EXPECT_TRUE(mx_test::IsValidHandle(b_));
    EXPECT_TRUE(mx_test::IsValidHandle(event_));
    EXPECT_EQ(mx_test::RightsOf(b_), MX_DEFAULT_CHANNEL_RIGHTS);
    EXPECT_EQ(mx_test::RightsOf(event_), MX_DEFAULT_EVENT_RIGHTS);
    EXPECT_FALSE(mx_test::PendingSignals(a_) & MX_CHANNEL_PEER_CLOSED);
    ASSERT_EQ(mx_test::WriteMessage(a_, "still here", 10), MX_OK);
    Message msg;
    ASSERT_EQ(mx_test::ReadMessage(b_, &msg), MX_OK);
    EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "still here");
    EXPECT_EQ(mx_object_signal(event_, 0, MX_EVENT_SIGNALED), MX_OK);
  }

  mx_status_t Spawn(const char* path, const std::vector<mx_spawn_handle_t>& handles,
                    mx_handle_t* process) {
    const char* argv[] = {path, "--mx-child=exit_with", "0", nullptr};
    return mx_spawn(path, argv, nullptr, handles.data(), static_cast<uint32_t>(handles.size()),
                    process);
  }

  mx_handle_t a_ = MX_HANDLE_INVALID, b_ = MX_HANDLE_INVALID, event_ = MX_HANDLE_INVALID;
};

// A value that is in nobody's table: an odd number we never got, or failing that a closed handle.
constexpr mx_handle_t kUntouched = 0x7eadbeef;

TEST_F(SpawnFailureTest, MissingProgramIsNotFoundAndCallerKeepsHandles) {
  mx_handle_t process = kUntouched;
  EXPECT_EQ(Spawn("/nonexistent/libmx-test-program",
                  {{PA_HND(PA_USER0, 0), b_}, {PA_HND(PA_USER1, 0), event_}}, &process),
            MX_ERR_NOT_FOUND);
  EXPECT_EQ(process, kUntouched) << "out_process written on failure";
  ExpectHandlesKept();
}

TEST_F(SpawnFailureTest, HandleWithoutTransferRightIsAccessDeniedAndCallerKeepsAllHandles) {
  mx_handle_t no_transfer;
  ASSERT_EQ(mx_handle_duplicate(event_, MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE,
                                &no_transfer),
            MX_OK);
  mx_handle_t process = kUntouched;
  // The transferable handles come first: nothing may have moved by the time the bad one is seen.
  EXPECT_EQ(Spawn(mx_test::SelfExePath().c_str(),
                  {{PA_HND(PA_USER0, 0), b_},
                   {PA_HND(PA_USER1, 0), event_},
                   {PA_HND(PA_USER2, 0), no_transfer}},
                  &process),
            MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(process, kUntouched);
  EXPECT_TRUE(mx_test::IsValidHandle(no_transfer));
  ExpectHandlesKept();
  mx_handle_close(no_transfer);
}

TEST_F(SpawnFailureTest, StaleHandleIsBadHandleAndCallerKeepsTheOthers) {
  mx_handle_t stale;
  ASSERT_EQ(mx_event_create(0, &stale), MX_OK);
  ASSERT_EQ(mx_handle_close(stale), MX_OK);
  mx_handle_t process = kUntouched;
  EXPECT_EQ(
      Spawn(
          mx_test::SelfExePath().c_str(),
          {{PA_HND(PA_USER0, 0), b_}, {PA_HND(PA_USER1, 0), event_}, {PA_HND(PA_USER2, 0), stale}},
          &process),
      MX_ERR_BAD_HANDLE);
  EXPECT_EQ(process, kUntouched);
  ExpectHandlesKept();
}

TEST_F(SpawnFailureTest, SameInfoTwiceIsInvalidArgsAndCallerKeepsHandles) {
  mx_handle_t process = kUntouched;
  EXPECT_EQ(Spawn(mx_test::SelfExePath().c_str(),
                  {{PA_HND(PA_USER0, 0), b_}, {PA_HND(PA_USER0, 0), event_}}, &process),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(process, kUntouched);
  ExpectHandlesKept();
}

// What take_twice saw, sent back on the first handle.
struct TakeReport {
  uint32_t first_valid;
  uint32_t second_invalid;
  uint32_t unknown_type_invalid;
  uint32_t other_arg_invalid;
  uint32_t event_type;
  uint32_t event_again_invalid;
  uint32_t self_type;
  uint32_t pad;
  mx_koid_t event_koid;
};

MX_CHILD(take_twice) {
  TakeReport r = {};
  mx_handle_t ctl = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  r.first_valid = ctl != MX_HANDLE_INVALID;
  r.second_invalid = mx_get_startup_handle(PA_HND(PA_USER0, 0)) == MX_HANDLE_INVALID;
  r.unknown_type_invalid = mx_get_startup_handle(PA_HND(PA_USER2, 0)) == MX_HANDLE_INVALID;
  r.other_arg_invalid = mx_get_startup_handle(PA_HND(PA_USER0, 1)) == MX_HANDLE_INVALID;
  mx_handle_t event = mx_get_startup_handle(PA_HND(PA_USER1, 7));
  r.event_type = mx_test::BasicInfo(event).type;
  r.event_koid = mx_test::KoidOf(event);
  r.event_again_invalid = mx_get_startup_handle(PA_HND(PA_USER1, 7)) == MX_HANDLE_INVALID;
  r.self_type = mx_test::BasicInfo(mx_process_self()).type;
  CHILD_CHECK(ctl != MX_HANDLE_INVALID);
  CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  mx_handle_close(event);
  mx_handle_close(ctl);
  return 0;
}

TEST_F(ProcessTest, StartupHandleIsReturnedOnlyOnce) {
  mx_handle_t ctl, remote, event, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &remote), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  const mx_koid_t event_koid = mx_test::KoidOf(event);
  ASSERT_EQ(mx_test::SpawnChild("take_twice",
                                {{PA_HND(PA_USER0, 0), remote}, {PA_HND(PA_USER1, 7), event}}, {},
                                &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  EXPECT_FALSE(mx_test::IsValidHandle(remote)) << "mx_spawn must move the handles";
  EXPECT_FALSE(mx_test::IsValidHandle(event));

  TakeReport r;
  ASSERT_EQ(mx_test::ReadPod(ctl, &r), MX_OK);
  EXPECT_TRUE(r.first_valid);
  EXPECT_TRUE(r.second_invalid) << "a startup handle was returned twice";
  EXPECT_TRUE(r.unknown_type_invalid);
  EXPECT_TRUE(r.other_arg_invalid) << "PA_HND's arg must be part of the match";
  EXPECT_EQ(r.event_type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(r.event_koid, event_koid);
  EXPECT_TRUE(r.event_again_invalid);
  EXPECT_EQ(r.self_type, static_cast<uint32_t>(MX_OBJ_TYPE_PROCESS));
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(ctl);
}

// Takes only PA_USER0; says "ready"; exits 0 on the next message.
MX_CHILD(take_only_first) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "ready", 5));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg, mx_deadline_after(MX_SEC(60))));
  mx_handle_close(ctl);
  return 0;
}

TEST_F(ProcessTest, UntakenStartupHandlesAreClosedWhenChildExits) {
  mx_handle_t ctl, ctl_remote, p, q, event, event_keep, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &p, &q), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &event_keep), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("take_only_first",
                                {{PA_HND(PA_USER0, 0), ctl_remote},
                                 {PA_HND(PA_USER1, 0), q},
                                 {PA_HND(PA_USER2, 0), event}},
                                {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_NO_FATAL_FAILURE(ExpectReady(ctl));

  // While the child lives it could still take them, so they must still exist.
  EXPECT_FALSE(mx_test::PendingSignals(p) & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(mx_test::PendingSignals(event_keep) & MX_SIGNAL_LAST_HANDLE);

  ASSERT_EQ(mx_test::WriteMessage(ctl, "exit", 4), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(p, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK)
      << "the untaken channel end was not closed when the child exited";
  EXPECT_EQ(
      mx_object_wait_one(event_keep, MX_SIGNAL_LAST_HANDLE, mx_test::DefaultDeadline(), &observed),
      MX_OK)
      << "the untaken event handle was not closed when the child exited";
  for (mx_handle_t h : {ctl, p, event_keep}) mx_handle_close(h);
}

TEST_F(ProcessTest, SpawningAndReapingManyChildrenLeaksNoFds) {
  // The fixture compares this process's fds before and after.
  for (int i = 0; i < 20; ++i) {
    mx_handle_t a, b, process;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(
        mx_test::SpawnChild("exit_with", {{PA_HND(PA_USER0, 0), b}}, {std::to_string(i)}, &process),
        MX_OK);
    mx_test::ScopedProcess child(process);
    EXPECT_EQ(child.Join(), i);
    EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
              MX_OK);
    mx_handle_close(a);
  }
}

}  // namespace
