// SPDX-License-Identifier: BSD-3-Clause
// A message holding the only other handle to an event, dropped by another process that closes
// the message's receiving endpoint unread (the message still on its socket, or already pulled
// into its queue): the parent, holding the last handle, is told at once — its port wait armed
// earlier fires and its mx_object_wait_one in another thread returns — while the child lives on.
#include <gtest/gtest.h>

#include <string>

#include "support/last_handle_watch.h"
#include "support/multiprocess.h"

namespace {

using mx_test::LastHandleWatch;

// PA_USER0: the endpoint the message waits on; PA_USER1: the control channel. On "go" it closes
// the endpoint unread (args[0] == "pull": after waiting for it to be readable, which pulls the
// message in), answers "closed", and stays until "exit".
MX_CHILD(close_unread) {
  mx_handle_t ep = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t control = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  mx_test::Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(control, &msg));
  if (!args.empty() && args[0] == "pull") {
    CHILD_CHECK_OK(
        mx_object_wait_one(ep, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr));
  }
  CHILD_CHECK_OK(mx_handle_close(ep));
  CHILD_CHECK_OK(mx_test::WriteMessage(control, "closed", 6));
  CHILD_CHECK_OK(mx_test::ReadMessage(control, &msg));
  return 0;
}

class LastHandleAcrossProcessesTest : public mx_test::MultiprocessTest,
                                      public ::testing::WithParamInterface<const char*> {};

TEST_P(LastHandleAcrossProcessesTest, ParentIsToldWhenTheChildDropsTheMessage) {
  mx_handle_t a, b, control, child_control;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &control, &child_control), MX_OK);
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("close_unread",
                                {{PA_HND(PA_USER0, 0), b}, {PA_HND(PA_USER1, 0), child_control}},
                                {GetParam()}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  mx_handle_t kept, sent;
  ASSERT_EQ(mx_event_create(0, &kept), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(kept, MX_RIGHT_SAME_RIGHTS, &sent), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "x", 1, &sent, 1), MX_OK);
  EXPECT_FALSE(LastHandleWatch::Signals(kept) & MX_SIGNAL_LAST_HANDLE);
  {
    LastHandleWatch watch(kept);
    ASSERT_TRUE(watch.WaitUntilBlocked(mx_test::DefaultDeadline()));
    ASSERT_EQ(mx_test::WriteMessage(control, "go", 2), MX_OK);
    mx_test::Message msg;
    ASSERT_EQ(mx_test::ReadMessage(control, &msg), MX_OK);  // "closed"
    EXPECT_TRUE(watch.PortFired(mx_test::DefaultDeadline()));
    EXPECT_TRUE(watch.WaiterWoke(mx_test::DefaultDeadline()));
    if (!watch.Finish()) {
      EXPECT_EQ(mx_handle_close(kept), MX_OK);
    }
  }
  ASSERT_EQ(mx_test::WriteMessage(control, "exit", 4), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(a);
  mx_handle_close(control);
}

INSTANTIATE_TEST_SUITE_P(Drops, LastHandleAcrossProcessesTest, ::testing::Values("unread", "pull"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
