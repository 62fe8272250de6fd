// SPDX-License-Identifier: BSD-3-Clause
// Ports across processes: packets for changes made by another process (messages, peer death,
// event signals), and 10,000 channels watched by one port while a child writes to some of them.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <sys/resource.h>

#include <set>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr uint32_t kBatch = 64;

// Receives args[0] channel endpoints on PA_USER0 in batches, then writes one byte on every
// endpoint whose index is a multiple of args[1], says "done", and waits for "bye".
MX_CHILD(port_fanout_writer) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_EQ(args.size(), 2u);
  const size_t n = static_cast<size_t>(std::stoul(args[0]));
  const size_t step = static_cast<size_t>(std::stoul(args[1]));
  std::vector<mx_handle_t> ends;
  while (ends.size() < n) {
    mx_test::Message msg;
    CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg));
    ends.insert(ends.end(), msg.handles.begin(), msg.handles.end());
  }
  for (size_t i = 0; i < n; i += step)
    CHILD_CHECK_OK(mx_channel_write(ends[i], 0, "w", 1, nullptr, 0));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "done", 4));
  mx_test::Message bye;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &bye));
  mx_test::CloseAll(&ends);
  return 0;
}

// Signals the event on PA_USER0, then exits (closing the channel on PA_USER1).
MX_CHILD(port_signal_then_exit) {
  mx_handle_t event = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  CHILD_CHECK_OK(mx_object_signal(event, 0, MX_USER_SIGNAL_5));
  CHILD_CHECK_OK(mx_test::WriteMessage(ch, "bye", 3));
  return 0;
}

using PortMultiprocessTest = mx_test::MultiprocessTest;

TEST_F(PortMultiprocessTest, ChangesMadeByAChildArriveAsPackets) {
  mx_handle_t port, event, child_event, ch, child_ch, process;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &child_event), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ch, &child_ch), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 1, MX_USER_SIGNAL_5, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_object_wait_async(ch, port, 2, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_object_wait_async(ch, port, 3, MX_CHANNEL_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("port_signal_then_exit",
                          {{PA_HND(PA_USER0, 0), child_event}, {PA_HND(PA_USER1, 0), child_ch}}, {},
                          &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  std::set<uint64_t> keys;
  while (keys.size() < 3) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, mx_test::DefaultDeadline(), &p, 0), MX_OK)
        << "got " << keys.size() << " packets";
    EXPECT_TRUE(keys.insert(p.key).second);
    const mx_signals_t want = p.key == 1   ? MX_USER_SIGNAL_5
                              : p.key == 2 ? MX_CHANNEL_READABLE
                                           : MX_CHANNEL_PEER_CLOSED;
    EXPECT_TRUE(p.signal.observed & want) << "key " << p.key;
  }
  EXPECT_EQ(child.Join(), 0);
  for (mx_handle_t h : {port, event, ch}) mx_handle_close(h);
}

TEST_F(PortMultiprocessTest, TenThousandChannelsOnOnePortStayCorrect) {
  constexpr size_t kChannels = 10000;
  constexpr size_t kStep = 97;
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < kChannels + 512) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, kChannels + 1024);
    setrlimit(RLIMIT_NOFILE, &rl);
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  if (rl.rlim_cur < kChannels + 512) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max << " is below " << kChannels + 512;
  }
  mx_handle_t port, ctl, child_ctl, process;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &child_ctl), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("port_fanout_writer", {{PA_HND(PA_USER0, 0), child_ctl}},
                                {std::to_string(kChannels), std::to_string(kStep)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  std::vector<mx_handle_t> local;
  local.reserve(kChannels);
  while (local.size() < kChannels) {
    std::vector<mx_handle_t> remotes;
    for (uint32_t i = 0; i < kBatch && local.size() < kChannels; ++i) {
      mx_handle_t a, b;
      ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
      ASSERT_EQ(
          mx_object_wait_async(a, port, local.size(), MX_CHANNEL_READABLE, MX_WAIT_ASYNC_ONCE),
          MX_OK);
      local.push_back(a);
      remotes.push_back(b);
    }
    ASSERT_EQ(mx_test::WriteMessage(ctl, "ends", 4, remotes), MX_OK);
  }
  mx_test::Message done;
  ASSERT_EQ(mx_test::ReadMessage(ctl, &done), MX_OK);
  std::set<uint64_t> expected, got;
  for (size_t i = 0; i < kChannels; i += kStep) expected.insert(i);
  while (got.size() < expected.size()) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, mx_test::DefaultDeadline(), &p, 0), MX_OK)
        << got.size() << " of " << expected.size() << " packets";
    EXPECT_TRUE(got.insert(p.key).second) << "key " << p.key << " twice";
  }
  EXPECT_EQ(got, expected);
  mx_port_packet_t extra;
  EXPECT_EQ(mx_port_wait(port, 0, &extra, 0), MX_ERR_TIMED_OUT);
  ASSERT_EQ(mx_test::WriteMessage(ctl, "bye", 3), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  for (mx_handle_t h : local) mx_handle_close(h);
  mx_handle_close(ctl);
  mx_handle_close(port);
}

}  // namespace
