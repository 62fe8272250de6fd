// SPDX-License-Identifier: BSD-3-Clause
// A peer that writes and then dies (exits or is SIGKILLed): every message it wrote is still
// readable, in order, and then the reader sees PEER_CLOSED.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <tuple>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr int kMessages = 100;

std::vector<uint8_t> Payload(uint32_t seq) {
  std::vector<uint8_t> bytes(sizeof(seq) + (seq * 163u) % 16384u);
  for (size_t j = 0; j < bytes.size(); ++j) bytes[j] = mx_test::PatternByte(seq, j);
  memcpy(bytes.data(), &seq, sizeof(seq));
  return bytes;
}

bool CarriesHandle(uint32_t seq) { return seq % 10 == 9; }

// Writes args[0] messages on PA_USER0 (every tenth with an event), then exits 0 (args[1] ==
// "exit") or kills itself with SIGKILL ("kill").
MX_CHILD(write_n_then_die) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_EQ(args.size(), 2u);
  const uint32_t n = static_cast<uint32_t>(atoi(args[0].c_str()));
  for (uint32_t seq = 0; seq < n; ++seq) {
    std::vector<uint8_t> bytes = Payload(seq);
    std::vector<mx_handle_t> handles;
    if (CarriesHandle(seq)) {
      mx_handle_t event;
      CHILD_CHECK_OK(mx_event_create(0, &event));
      handles.push_back(event);
    }
    CHILD_CHECK_OK(mx_test::WriteMessage(ch, bytes.data(), bytes.size(), handles));
  }
  if (args[1] == "kill") raise(SIGKILL);
  return 0;  // |ch| is closed by the exit, not by us
}

// (how the child dies, whether the parent waits for the death before reading)
class PeerDeathTest : public mx_test::MultiprocessTest,
                      public testing::WithParamInterface<std::tuple<const char*, bool>> {};

TEST_P(PeerDeathTest, ReaderGetsEveryMessageInOrderThenPeerClosed) {
  const std::string how = std::get<0>(GetParam());
  const bool wait_for_death_first = std::get<1>(GetParam());
  mx_handle_t ch, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("write_n_then_die", {{PA_HND(PA_USER0, 0), remote}},
                                {std::to_string(kMessages), how}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  const int expected_code = how == "kill" ? -SIGKILL : 0;
  if (wait_for_death_first) {
    ASSERT_EQ(child.Join(), expected_code);
    EXPECT_TRUE(mx_test::PendingSignals(ch) & MX_CHANNEL_PEER_CLOSED);
    EXPECT_TRUE(mx_test::PendingSignals(ch) & MX_CHANNEL_READABLE)
        << "the dead child's messages must still be queued";
  }

  for (uint32_t seq = 0; seq < kMessages; ++seq) {
    Message msg;
    ASSERT_EQ(mx_test::ReadMessage(ch, &msg), MX_OK) << "message " << seq;
    EXPECT_TRUE(msg.bytes == Payload(seq)) << "message " << seq << " is not the one expected";
    if (CarriesHandle(seq)) {
      ASSERT_EQ(msg.handles.size(), 1u) << "message " << seq;
      EXPECT_EQ(mx_test::BasicInfo(msg.handles[0]).type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
    } else {
      EXPECT_TRUE(msg.handles.empty()) << "message " << seq;
    }
    mx_test::CloseAll(&msg.handles);
  }
  Message msg;
  EXPECT_EQ(mx_test::ReadMessage(ch, &msg), MX_ERR_PEER_CLOSED);
  const mx_signals_t signals = mx_test::PendingSignals(ch);
  EXPECT_TRUE(signals & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(signals & MX_CHANNEL_READABLE);
  EXPECT_FALSE(signals & MX_CHANNEL_WRITABLE);
  uint32_t word = 0;
  EXPECT_EQ(mx_channel_write(ch, 0, &word, sizeof(word), nullptr, 0), MX_ERR_PEER_CLOSED);
  if (!wait_for_death_first) {
    EXPECT_EQ(child.Join(), expected_code);
  }
  mx_handle_close(ch);
}

INSTANTIATE_TEST_SUITE_P(ExitOrKill, PeerDeathTest,
                         testing::Combine(testing::Values("exit", "kill"), testing::Bool()),
                         [](const testing::TestParamInfo<std::tuple<const char*, bool>>& info) {
                           return std::string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_ReadAfterDeath"
                                                           : "_ReadWhileWriting");
                         });

}  // namespace
