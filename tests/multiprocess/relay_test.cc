// SPDX-License-Identifier: BSD-3-Clause
// An endpoint travels through processes while messages are queued on it: the ones still in the
// kernel, the ones an mx_channel_call pulled into the holder's local queue, and the ones written
// while the endpoint was in flight. All of them must come out at the final owner, in order
//.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

// The txid of the calls that nobody answers. Data messages start with their sequence number, which
// never reaches this value, so a call never takes a data message.
constexpr uint32_t kUnansweredTxid = 0xDEADBEEFu;

struct CallRequest {
  uint32_t txid;  // kUnansweredTxid
  uint32_t hop;   // who called: 0 for the parent, then the hop number
};

// Data message |seq|: 4 bytes of seq (the txid position), then a pattern whose length varies.
std::vector<uint8_t> DataBytes(uint32_t seq) {
  std::vector<uint8_t> bytes(8 + (seq * 37u) % 200u);
  memcpy(bytes.data(), &seq, sizeof(seq));
  for (size_t j = sizeof(seq); j < bytes.size(); ++j) bytes[j] = mx_test::PatternByte(seq, j);
  return bytes;
}

// Some data messages carry an event, so handles inside queued messages travel too.
bool CarriesEvent(uint32_t seq) { return seq % 7 == 3; }

// Writes data message |seq| on |x|; records the koid of the event it carries, if any.
mx_status_t WriteData(mx_handle_t x, uint32_t seq, std::vector<mx_koid_t>* koids,
                      uint64_t* checksum) {
  std::vector<uint8_t> bytes = DataBytes(seq);
  *checksum = mx_test::Fnv1a(bytes.data(), bytes.size(), *checksum);
  std::vector<mx_handle_t> handles;
  if (CarriesEvent(seq)) {
    mx_handle_t event;
    mx_status_t status = mx_event_create(0, &event);
    if (status != MX_OK) return status;
    koids->push_back(mx_test::KoidOf(event));
    handles.push_back(event);
  }
  mx_status_t status = mx_test::WriteMessage(x, bytes.data(), bytes.size(), handles);
  if (status != MX_OK) mx_test::CloseAll(&handles);
  return status;
}

// True if |msg| is exactly data message |seq|. Closes its handles; records the event's koid.
bool CheckData(Message* msg, uint32_t seq, std::vector<mx_koid_t>* koids) {
  bool ok = msg->bytes == DataBytes(seq);
  if (CarriesEvent(seq)) {
    ok = ok && msg->handles.size() == 1 &&
         mx_test::BasicInfo(msg->handles[0]).type == MX_OBJ_TYPE_EVENT;
    if (msg->handles.size() == 1) koids->push_back(mx_test::KoidOf(msg->handles[0]));
  } else {
    ok = ok && msg->handles.empty();
  }
  mx_test::CloseAll(&msg->handles);
  return ok;
}

// Makes |y| pull the messages waiting for it into its process-local queue: a call whose reply never
// comes waits on y for a while, taking in (and queueing) everything that arrives. It writes a
// CallRequest into y's peer and must time out.
mx_status_t PullIntoLocalQueue(mx_handle_t y, uint32_t hop) {
  CallRequest request{kUnansweredTxid, hop};
  uint8_t reply[MX_CHANNEL_MAX_MSG_BYTES];
  mx_handle_t reply_handles[MX_CHANNEL_MAX_MSG_HANDLES];
  mx_channel_call_args_t args = {
      &request,        nullptr, reply,         reply_handles,
      sizeof(request), 0,       sizeof(reply), MX_CHANNEL_MAX_MSG_HANDLES};
  uint32_t actual_bytes = 0, actual_handles = 0;
  mx_status_t read_status = MX_OK;
  return mx_channel_call(y, 0, mx_deadline_after(MX_MSEC(50)), &args, &actual_bytes,
                         &actual_handles, &read_status);
}

// What the collector tells the parent after each phase, followed by the koids of the events it got.
struct CollectorReport {
  uint32_t phase;
  uint32_t count;      // messages read in this phase
  uint32_t first_bad;  // sequence number of the first wrong message, or UINT32_MAX
  uint32_t num_koids;
  uint64_t checksum;  // FNV-1a over all message bytes read so far, in order
};

// Forwards every message from PA_USER0 to PA_USER1 until PA_USER0's peer closes. With args
// {"pull", <hop>} it first makes every channel end it forwards pull its queue in (a CallRequest
// with that hop number goes to the end's peer).
MX_CHILD(forward) {
  mx_handle_t in = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t out = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  const bool pull = args.size() == 2 && args[0] == "pull";
  const uint32_t hop = pull ? static_cast<uint32_t>(atoi(args[1].c_str())) : 0;
  for (;;) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(in, &msg, mx_deadline_after(MX_SEC(60)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    if (pull) {
      for (mx_handle_t h : msg.handles) {
        if (mx_test::BasicInfo(h).type == MX_OBJ_TYPE_CHANNEL) {
          CHILD_CHECK_EQ(PullIntoLocalQueue(h, hop), MX_ERR_TIMED_OUT);
        }
      }
    }
    CHILD_CHECK_OK(mx_test::WriteMessage(out, msg.bytes.data(), msg.bytes.size(), msg.handles));
  }
  mx_handle_close(in);
  mx_handle_close(out);
  return 0;
}

// Receives the endpoint y as the only handle of one message on PA_USER0, then reads args[0]
// messages from it (phase 1) and args[1] more (phase 2), reporting each phase on PA_USER1.
MX_CHILD(collector) {
  mx_handle_t in = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t report = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  CHILD_CHECK_EQ(args.size(), 2u);
  const uint32_t phase_counts[2] = {static_cast<uint32_t>(atoi(args[0].c_str())),
                                    static_cast<uint32_t>(atoi(args[1].c_str()))};
  Message carrier;
  CHILD_CHECK_OK(mx_test::ReadMessage(in, &carrier));
  CHILD_CHECK_EQ(carrier.handles.size(), 1u);
  const mx_handle_t y = carrier.handles[0];
  uint32_t seq = 0;
  uint64_t checksum = mx_test::kFnvOffset;
  for (uint32_t phase = 0; phase < 2; ++phase) {
    CollectorReport r{phase, 0, UINT32_MAX, 0, 0};
    std::vector<mx_koid_t> koids;
    for (uint32_t i = 0; i < phase_counts[phase]; ++i, ++seq) {
      Message msg;
      CHILD_CHECK_OK(mx_test::ReadMessage(y, &msg));
      checksum = mx_test::Fnv1a(msg.bytes.data(), msg.bytes.size(), checksum);
      if (!CheckData(&msg, seq, &koids) && r.first_bad == UINT32_MAX) r.first_bad = seq;
      ++r.count;
    }
    r.checksum = checksum;
    r.num_koids = static_cast<uint32_t>(koids.size());
    std::vector<uint8_t> bytes(sizeof(r) + koids.size() * sizeof(mx_koid_t));
    memcpy(bytes.data(), &r, sizeof(r));
    if (!koids.empty()) {
      memcpy(bytes.data() + sizeof(r), koids.data(), koids.size() * sizeof(mx_koid_t));
    }
    CHILD_CHECK_OK(mx_test::WriteMessage(report, bytes.data(), bytes.size()));
  }
  // Nothing beyond what the parent announced.
  CHILD_CHECK_EQ(mx_channel_read(y, 0, nullptr, nullptr, 0, 0, nullptr, nullptr),
                 MX_ERR_SHOULD_WAIT);
  mx_handle_close(y);
  mx_handle_close(in);
  mx_handle_close(report);
  return 0;
}

class EndpointRelayTest : public mx_test::MultiprocessTest {
 protected:
  // Reads one CollectorReport from |report| and checks it against what the parent sent.
  void ExpectReport(mx_handle_t report, uint32_t phase, uint32_t count, uint64_t checksum,
                    const std::vector<mx_koid_t>& koids) {
    Message msg;
    ASSERT_EQ(mx_test::ReadMessage(report, &msg), MX_OK) << "phase " << phase;
    ASSERT_GE(msg.bytes.size(), sizeof(CollectorReport));
    CollectorReport r;
    memcpy(&r, msg.bytes.data(), sizeof(r));
    ASSERT_EQ(msg.bytes.size(), sizeof(r) + r.num_koids * sizeof(mx_koid_t));
    std::vector<mx_koid_t> got(r.num_koids);
    if (!got.empty()) memcpy(got.data(), msg.bytes.data() + sizeof(r), got.size() * 8);
    EXPECT_EQ(r.phase, phase);
    EXPECT_EQ(r.count, count) << "phase " << phase;
    EXPECT_EQ(r.first_bad, UINT32_MAX)
        << "phase " << phase << ": message " << r.first_bad
        << " arrived wrong (lost, reordered, duplicated or corrupted)";
    EXPECT_EQ(r.checksum, checksum) << "phase " << phase;
    EXPECT_EQ(got, koids) << "phase " << phase << ": the events inside the queued messages";
  }

  // Reads the CallRequests the pulls wrote into x, expecting hops |hops| in that order, and then
  // PEER_CLOSED (the final owner of y has exited).
  void ExpectCallRequestsThenPeerClosed(mx_handle_t x, const std::vector<uint32_t>& hops) {
    for (uint32_t hop : hops) {
      CallRequest request;
      ASSERT_EQ(mx_test::ReadPod(x, &request), MX_OK) << "call request of hop " << hop;
      EXPECT_EQ(request.txid, kUnansweredTxid);
      EXPECT_EQ(request.hop, hop);
    }
    Message msg;
    EXPECT_EQ(mx_test::ReadMessage(x, &msg), MX_ERR_PEER_CLOSED);
  }
};

TEST_F(EndpointRelayTest, QueuedAndPulledMessagesFollowEndpointThroughTwoProcesses) {
  constexpr uint32_t kBefore = 30, kAfter = 20;
  mx_handle_t x, y, ab_a, ab_b, bc_b, bc_c, report_a, report_c;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ab_a, &ab_b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &bc_b, &bc_c), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &report_a, &report_c), MX_OK);

  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("collector",
                                {{PA_HND(PA_USER0, 0), bc_c}, {PA_HND(PA_USER1, 0), report_c}},
                                {std::to_string(kBefore), std::to_string(kAfter)}, &process),
            MX_OK);
  mx_test::ScopedProcess c(process);
  ASSERT_EQ(
      mx_test::SpawnChild("forward", {{PA_HND(PA_USER0, 0), ab_b}, {PA_HND(PA_USER1, 0), bc_b}},
                          {"pull", "1"}, &process),
      MX_OK);
  mx_test::ScopedProcess b(process);

  // N messages queue up on y; the call pulls them (or some of them) into this process's local
  // queue for y; then y leaves for B, which pulls again and passes it on to C.
  uint64_t checksum = mx_test::kFnvOffset;
  std::vector<mx_koid_t> koids_before, koids_after;
  uint32_t seq = 0;
  for (; seq < kBefore; ++seq) ASSERT_EQ(WriteData(x, seq, &koids_before, &checksum), MX_OK);
  ASSERT_EQ(PullIntoLocalQueue(y, 0), MX_ERR_TIMED_OUT);
  EXPECT_TRUE(mx_test::PendingSignals(y) & MX_CHANNEL_READABLE)
      << "a call that did not match must leave the messages readable";
  const mx_koid_t y_koid = mx_test::KoidOf(y);
  ASSERT_EQ(mx_test::WriteMessage(ab_a, "y", 1, {y}), MX_OK);
  const uint64_t checksum_before = checksum;
  // More messages while y is in flight or already at C.
  for (; seq < kBefore + kAfter; ++seq)
    ASSERT_EQ(WriteData(x, seq, &koids_after, &checksum), MX_OK);
  EXPECT_EQ(mx_test::BasicInfo(x).related_koid, y_koid);

  ExpectReport(report_a, 0, kBefore, checksum_before, koids_before);
  ExpectReport(report_a, 1, kAfter, checksum, koids_after);
  EXPECT_EQ(c.Join(), 0);
  ExpectCallRequestsThenPeerClosed(x, {0, 1});

  mx_handle_close(ab_a);  // B exits when its input closes
  EXPECT_EQ(b.Join(), 0);
  mx_handle_close(x);
  mx_handle_close(report_a);
}

TEST_F(EndpointRelayTest, EndpointPassesThroughFiveProcessesWithoutLossOrReordering) {
  constexpr int kForwarders = 4;  // y visits 4 forwarders and then the collector: 5 processes
  constexpr uint32_t kBefore = 50, kAfter = 50;
  mx_handle_t x, y, report_a, report_c;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &report_a, &report_c), MX_OK);
  // links[i] connects hop i to hop i+1; hop 0 is this process.
  std::vector<std::pair<mx_handle_t, mx_handle_t>> links(kForwarders + 1);
  for (auto& link : links) ASSERT_EQ(mx_channel_create(0, &link.first, &link.second), MX_OK);

  std::vector<mx_test::ScopedProcess> children;
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild(
                "collector",
                {{PA_HND(PA_USER0, 0), links[kForwarders].second}, {PA_HND(PA_USER1, 0), report_c}},
                {std::to_string(kBefore), std::to_string(kAfter)}, &process),
            MX_OK);
  children.emplace_back(process);
  for (int hop = 1; hop <= kForwarders; ++hop) {
    ASSERT_EQ(mx_test::SpawnChild("forward",
                                  {{PA_HND(PA_USER0, 0), links[hop - 1].second},
                                   {PA_HND(PA_USER1, 0), links[hop].first}},
                                  {"pull", std::to_string(hop)}, &process),
              MX_OK);
    children.emplace_back(process);
  }

  uint64_t checksum = mx_test::kFnvOffset;
  std::vector<mx_koid_t> koids_before, koids_after;
  uint32_t seq = 0;
  // Half of the first batch is written before this process pulls, half after.
  for (; seq < kBefore / 2; ++seq) ASSERT_EQ(WriteData(x, seq, &koids_before, &checksum), MX_OK);
  ASSERT_EQ(PullIntoLocalQueue(y, 0), MX_ERR_TIMED_OUT);
  for (; seq < kBefore; ++seq) ASSERT_EQ(WriteData(x, seq, &koids_before, &checksum), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(links[0].first, "y", 1, {y}), MX_OK);
  const uint64_t checksum_before = checksum;
  for (; seq < kBefore + kAfter; ++seq)
    ASSERT_EQ(WriteData(x, seq, &koids_after, &checksum), MX_OK);

  ExpectReport(report_a, 0, kBefore, checksum_before, koids_before);
  ExpectReport(report_a, 1, kAfter, checksum, koids_after);
  EXPECT_EQ(children[0].Join(), 0) << "collector";
  ExpectCallRequestsThenPeerClosed(x, {0, 1, 2, 3, 4});

  mx_handle_close(links[0].first);  // the forwarders exit one after the other
  for (int hop = 1; hop <= kForwarders; ++hop) EXPECT_EQ(children[hop].Join(), 0) << "hop " << hop;
  mx_handle_close(x);
  mx_handle_close(report_a);
}

// Receives y on PA_USER0, pulls its queue in, reads one data message from it, and sends y back
// with {hop, seq read, ok}. Repeats until PA_USER0's peer closes.
struct BounceReply {
  uint32_t hop;
  uint32_t seq;
  uint32_t ok;
};

MX_CHILD(bounce) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (;;) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(ctl, &msg, mx_deadline_after(MX_SEC(60)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    CHILD_CHECK_EQ(msg.bytes.size(), sizeof(uint32_t));
    CHILD_CHECK_EQ(msg.handles.size(), 1u);
    uint32_t hop;
    memcpy(&hop, msg.bytes.data(), sizeof(hop));
    const mx_handle_t y = msg.handles[0];
    CHILD_CHECK_EQ(PullIntoLocalQueue(y, hop), MX_ERR_TIMED_OUT);
    Message data;
    CHILD_CHECK_OK(mx_test::ReadMessage(y, &data));
    BounceReply reply{hop, UINT32_MAX, 0};
    if (data.bytes.size() >= sizeof(uint32_t)) {
      memcpy(&reply.seq, data.bytes.data(), sizeof(reply.seq));
      std::vector<mx_koid_t> unused;
      reply.ok = CheckData(&data, reply.seq, &unused) ? 1 : 0;
    }
    mx_test::CloseAll(&data.handles);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, reply, {y}));
  }
  mx_handle_close(ctl);
  return 0;
}

TEST_F(EndpointRelayTest, EndpointBouncedTwentyTimesBetweenProcessesKeepsOrder) {
  constexpr uint32_t kRounds = 20, kPerRound = 3;
  mx_handle_t x, y, ctl, ctl_child, process;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_child), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("bounce", {{PA_HND(PA_USER0, 0), ctl_child}}, {}, &process), MX_OK);
  mx_test::ScopedProcess child(process);

  uint64_t unused_checksum = mx_test::kFnvOffset;
  std::vector<mx_koid_t> koids;
  uint32_t written = 0, next_expected = 0, hop = 0;
  for (uint32_t round = 0; round < kRounds; ++round) {
    for (uint32_t i = 0; i < kPerRound; ++i, ++written) {
      ASSERT_EQ(WriteData(x, written, &koids, &unused_checksum), MX_OK);
    }
    // This process's turn: pull, consume one.
    ASSERT_EQ(PullIntoLocalQueue(y, hop++), MX_ERR_TIMED_OUT) << "round " << round;
    Message data;
    std::vector<mx_koid_t> unused;
    ASSERT_EQ(mx_test::ReadMessage(y, &data), MX_OK);
    ASSERT_TRUE(CheckData(&data, next_expected, &unused))
        << "round " << round << ": expected message " << next_expected;
    ++next_expected;
    // The child's turn.
    ASSERT_EQ(mx_test::WritePod(ctl, hop++, {y}), MX_OK);
    std::vector<mx_handle_t> back;
    BounceReply reply;
    ASSERT_EQ(mx_test::ReadPod(ctl, &reply, &back), MX_OK);
    ASSERT_EQ(back.size(), 1u);
    y = back[0];
    EXPECT_EQ(reply.hop, hop - 1);
    EXPECT_EQ(reply.seq, next_expected) << "round " << round;
    EXPECT_EQ(reply.ok, 1u) << "round " << round << ": message contents";
    ++next_expected;
  }
  // Everything not consumed yet is still on y, in order.
  for (; next_expected < written; ++next_expected) {
    Message data;
    std::vector<mx_koid_t> unused;
    ASSERT_EQ(mx_test::ReadMessage(y, &data), MX_OK) << "message " << next_expected;
    EXPECT_TRUE(CheckData(&data, next_expected, &unused)) << "message " << next_expected;
  }
  EXPECT_EQ(mx_channel_read(y, 0, nullptr, nullptr, 0, 0, nullptr, nullptr), MX_ERR_SHOULD_WAIT);
  // Every pull wrote a CallRequest into x, in hop order, whoever held y.
  for (uint32_t h = 0; h < hop; ++h) {
    CallRequest request;
    ASSERT_EQ(mx_test::ReadPod(x, &request), MX_OK) << "call request " << h;
    EXPECT_EQ(request.txid, kUnansweredTxid);
    EXPECT_EQ(request.hop, h);
  }
  EXPECT_EQ(mx_channel_read(x, 0, nullptr, nullptr, 0, 0, nullptr, nullptr), MX_ERR_SHOULD_WAIT);

  mx_handle_close(ctl);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(x);
  mx_handle_close(y);
}

}  // namespace
