// SPDX-License-Identifier: BSD-3-Clause
// A wait woken by the peer's kick reads the socket only until the ring's frame counter says
// nothing more was sent, and leaves the rest to its next poll(): a peer that answers and is then
// SIGKILLed must still show PEER_CLOSED to the next wait and read. Both processes are pinned to
// one CPU, so that waits never spin and every answer comes through the blocking path. Nothing
// here is timed; every wait has a deadline of seconds.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr uint32_t kEcho = 0;
constexpr uint32_t kAnswerThenDie = 1;
// More than the messages after which each end moves its writes to a ring.
constexpr int kWarmUpCalls = 40;

// The first CPU this thread may run on.
int FirstCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return -1;
}

bool PinTo(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::sched_setaffinity(0, sizeof(one), &one) == 0;
}

// PA_USER0: a channel. args[0]: the CPU to pin to. Echoes messages; after echoing one whose
// second word is kAnswerThenDie it kills itself with SIGKILL.
MX_CHILD(echo_then_die) {
  CHILD_CHECK(PinTo(std::stoi(args.at(0))));
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (;;) {
    mx_test::Message m;
    CHILD_CHECK_OK(mx_test::ReadMessage(ch, &m));
    uint32_t op = 0;
    CHILD_CHECK(m.bytes.size() >= 2 * sizeof(op));
    std::memcpy(&op, m.bytes.data() + sizeof(uint32_t), sizeof(op));
    CHILD_CHECK_OK(mx_test::WriteMessage(ch, m.bytes.data(), m.bytes.size()));
    if (op == kAnswerThenDie) ::raise(SIGKILL);
  }
}

class WakeThenDeathTest : public mx_test::MultiprocessTest {
 protected:
  // Pins this thread, starts the child on the same CPU and warms the channel up with calls.
  void Start() {
    cpu_ = FirstCpu();
    ASSERT_GE(cpu_, 0);
    ASSERT_EQ(::sched_getaffinity(0, sizeof(saved_), &saved_), 0);
    ASSERT_TRUE(PinTo(cpu_));
    pinned_ = true;
    mx_handle_t theirs;
    ASSERT_EQ(mx_channel_create(0, &ch_, &theirs), MX_OK);
    mx_handle_t process = MX_HANDLE_INVALID;
    ASSERT_EQ(mx_test::SpawnChild("echo_then_die", {{PA_HND(PA_USER0, 0), theirs}},
                                  {std::to_string(cpu_)}, &process),
              MX_OK);
    child_ = std::make_unique<mx_test::ScopedProcess>(process);
    for (uint32_t txid = 1; txid <= kWarmUpCalls; ++txid) {
      uint32_t reply[16] = {};
      ASSERT_EQ(Call(txid, kEcho, reply), MX_OK);
      ASSERT_EQ(reply[0], txid);
    }
  }

  mx_status_t Call(uint32_t txid, uint32_t op, uint32_t (&reply)[16]) {
    uint32_t request[16] = {txid, op};
    mx_channel_call_args_t c = {request,         nullptr, reply,         nullptr,
                                sizeof(request), 0,       sizeof(reply), 0};
    uint32_t bytes = 0, handles = 0;
    mx_status_t read_status = MX_OK;
    return mx_channel_call(ch_, 0, mx_test::DefaultDeadline(), &c, &bytes, &handles, &read_status);
  }

  // After the child answered and died: PEER_CLOSED shows to a wait and to a read, and the child
  // died of SIGKILL (MultiprocessTest counts this process's fds before and after).
  void ExpectPeerClosedAndClean() {
    mx_signals_t seen = 0;
    EXPECT_EQ(mx_object_wait_one(ch_, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &seen),
              MX_OK);
    EXPECT_TRUE(seen & MX_CHANNEL_PEER_CLOSED);
    mx_test::Message m;
    EXPECT_EQ(mx_test::ReadMessage(ch_, &m, 0), MX_ERR_PEER_CLOSED);
    EXPECT_EQ(child_->Join(), -SIGKILL);
    child_.reset();
    mx_handle_close(ch_);
    ch_ = MX_HANDLE_INVALID;
  }

  void TearDown() override {
    if (ch_ != MX_HANDLE_INVALID) mx_handle_close(ch_);
    child_.reset();
    if (pinned_) {
      EXPECT_EQ(::sched_setaffinity(0, sizeof(saved_), &saved_), 0);
    }
    MultiprocessTest::TearDown();
  }

  int cpu_ = -1;
  bool pinned_ = false;
  cpu_set_t saved_;
  mx_handle_t ch_ = MX_HANDLE_INVALID;
  std::unique_ptr<mx_test::ScopedProcess> child_;
};

TEST_F(WakeThenDeathTest, CallAnsweredThenPeerKilled) {
  ASSERT_NO_FATAL_FAILURE(Start());
  uint32_t reply[16] = {};
  ASSERT_EQ(Call(kWarmUpCalls + 1, kAnswerThenDie, reply), MX_OK);
  EXPECT_EQ(reply[0], static_cast<uint32_t>(kWarmUpCalls + 1));
  ExpectPeerClosedAndClean();
}

TEST_F(WakeThenDeathTest, WaitWokenThenPeerKilled) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const uint32_t request[16] = {kWarmUpCalls + 1, kAnswerThenDie};
  ASSERT_EQ(mx_channel_write(ch_, 0, request, sizeof(request), nullptr, 0), MX_OK);
  mx_signals_t seen = 0;
  ASSERT_EQ(mx_object_wait_one(ch_, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), &seen), MX_OK);
  mx_test::Message m;
  ASSERT_EQ(mx_test::ReadMessage(ch_, &m, 0), MX_OK);
  ASSERT_GE(m.bytes.size(), sizeof(uint32_t));
  uint32_t txid = 0;
  std::memcpy(&txid, m.bytes.data(), sizeof(txid));
  EXPECT_EQ(txid, static_cast<uint32_t>(kWarmUpCalls + 1));
  ExpectPeerClosedAndClean();
}

}  // namespace
