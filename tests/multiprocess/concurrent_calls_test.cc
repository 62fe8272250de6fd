// SPDX-License-Identifier: BSD-3-Clause
// Many threads call through one channel to a server in another process that answers in reverse
// order: each caller gets exactly its own reply.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr uint32_t kNotice = 0;  // txid of the server's unsolicited messages

struct CallMessage {
  uint32_t txid;
  uint32_t caller;  // thread index
  uint32_t round;
  uint32_t value;  // request: a per-call value; reply: value * 3 + 1
};

// Collects args[0] requests per round for args[1] rounds on PA_USER0; after each round's last
// request it writes args[2] notices (txid 0) and then answers the requests in reverse order, each
// reply carrying a fresh event.
MX_CHILD(reverse_server) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_EQ(args.size(), 3u);
  const int callers = atoi(args[0].c_str());
  const int rounds = atoi(args[1].c_str());
  const int notices = atoi(args[2].c_str());
  for (int round = 0; round < rounds; ++round) {
    std::vector<CallMessage> requests;
    while (static_cast<int>(requests.size()) < callers) {
      CallMessage request;
      CHILD_CHECK_OK(mx_test::ReadPod(ch, &request));
      CHILD_CHECK(request.txid != kNotice);
      requests.push_back(request);
    }
    for (int i = 0; i < notices; ++i) {
      CallMessage notice{kNotice, UINT32_MAX, static_cast<uint32_t>(round),
                         static_cast<uint32_t>(i)};
      CHILD_CHECK_OK(mx_test::WritePod(ch, notice));
    }
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      CallMessage reply = *it;
      reply.value = it->value * 3 + 1;
      mx_handle_t event;
      CHILD_CHECK_OK(mx_event_create(0, &event));
      CHILD_CHECK_OK(mx_test::WritePod(ch, reply, {event}));
    }
  }
  // Wait for the parent to hang up so that nothing it still wants to read is lost on exit.
  Message msg;
  CHILD_CHECK_EQ(mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(60))), MX_ERR_PEER_CLOSED);
  mx_handle_close(ch);
  return 0;
}

struct CallResult {
  mx_status_t status = MX_ERR_INTERNAL;
  mx_status_t read_status = MX_OK;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  CallMessage reply = {};
  uint32_t handle_type = 0;
};

CallResult DoCall(mx_handle_t ch, uint32_t caller, uint32_t round) {
  CallResult result;
  CallMessage request{0x10000u + round * 0x100u + caller, caller, round, caller * 1000u + round};
  mx_handle_t reply_handle = MX_HANDLE_INVALID;
  mx_channel_call_args_t args = {&request,        nullptr, &result.reply,        &reply_handle,
                                 sizeof(request), 0,       sizeof(result.reply), 1};
  result.status = mx_channel_call(ch, 0, mx_test::DefaultDeadline(), &args, &result.actual_bytes,
                                  &result.actual_handles, &result.read_status);
  if (result.status == MX_OK && result.actual_handles == 1) {
    result.handle_type = mx_test::BasicInfo(reply_handle).type;
    mx_handle_close(reply_handle);
  }
  return result;
}

class ConcurrentCallTest : public mx_test::MultiprocessTest {
 protected:
  void RunRounds(int callers, int rounds, int notices) {
    mx_handle_t ch, remote, process;
    ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
    ASSERT_EQ(
        mx_test::SpawnChild(
            "reverse_server", {{PA_HND(PA_USER0, 0), remote}},
            {std::to_string(callers), std::to_string(rounds), std::to_string(notices)}, &process),
        MX_OK);
    mx_test::ScopedProcess server(process);

    for (int round = 0; round < rounds; ++round) {
      std::vector<CallResult> results(callers);
      std::vector<std::thread> threads;
      for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&, i] {
          results[i] = DoCall(ch, static_cast<uint32_t>(i), static_cast<uint32_t>(round));
        });
      }
      for (std::thread& t : threads) t.join();
      for (int i = 0; i < callers; ++i) {
        const CallResult& r = results[i];
        SCOPED_TRACE(testing::Message() << "round " << round << ", caller " << i);
        ASSERT_EQ(r.status, MX_OK) << mx_test::StatusName(r.status) << " read_status "
                                   << mx_test::StatusName(r.read_status);
        EXPECT_EQ(r.actual_bytes, sizeof(CallMessage));
        EXPECT_EQ(r.actual_handles, 1u);
        EXPECT_EQ(r.handle_type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
        EXPECT_EQ(r.reply.txid, 0x10000u + static_cast<uint32_t>(round) * 0x100u + i)
            << "a caller got someone else's reply";
        EXPECT_EQ(r.reply.caller, static_cast<uint32_t>(i));
        EXPECT_EQ(r.reply.round, static_cast<uint32_t>(round));
        EXPECT_EQ(r.reply.value, (i * 1000u + round) * 3 + 1);
      }
      // The notices are nobody's reply: they wait in the queue, in order.
      for (int n = 0; n < notices; ++n) {
        CallMessage notice;
        ASSERT_EQ(mx_test::ReadPod(ch, &notice), MX_OK) << "notice " << n;
        EXPECT_EQ(notice.txid, kNotice);
        EXPECT_EQ(notice.round, static_cast<uint32_t>(round));
        EXPECT_EQ(notice.value, static_cast<uint32_t>(n));
      }
      EXPECT_EQ(mx_channel_read(ch, 0, nullptr, nullptr, 0, 0, nullptr, nullptr),
                MX_ERR_SHOULD_WAIT)
          << "a reply was left in the general queue";
    }
    mx_handle_close(ch);
    EXPECT_EQ(server.Join(), 0);
  }
};

TEST_F(ConcurrentCallTest, TenThreadsOnOneChannelEachGetTheirOwnReplyWhenAnsweredInReverse) {
  RunRounds(10, 1, 0);
}

TEST_F(ConcurrentCallTest, RepliesAnsweredInReverseOverManyRoundsWithNoticesInterleaved) {
  RunRounds(10, 20, 3);
}

}  // namespace
