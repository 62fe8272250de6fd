// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of mx_channel_call: txid matching, concurrent callers, the wait-phase
// outcomes (timeout, peer closed, cancelled, reply too large) and the write-phase errors.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

constexpr mx_signals_t kNewEndpointSignals = 0x400002;
constexpr mx_status_t kUntouchedStatus = 0x5A5A;
constexpr uint32_t kUntouchedCount = 0xA5A5A5A5u;

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

bool IsValid(mx_handle_t h) {
  return mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == MX_OK;
}

mx_koid_t KoidOf(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info.koid;
}

mx_handle_t MakeEvent() {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_event_create(0, &h), MX_OK);
  return h;
}

void ReduceRights(mx_handle_t* h, mx_rights_t rights) {
  mx_handle_t out = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(*h, rights, &out), MX_OK);
  *h = out;
}

bool EventUsable(mx_handle_t e) {
  if (mx_object_signal(e, 0, MX_USER_SIGNAL_0) != MX_OK) return false;
  bool ok = mx_object_wait_one(e, MX_USER_SIGNAL_0, 0, nullptr) == MX_OK;
  return mx_object_signal(e, MX_USER_SIGNAL_0, 0) == MX_OK && ok;
}

// A message whose first four bytes are |txid|.
std::string Msg(mx_txid_t txid, const std::string& body) {
  std::string m(sizeof(txid), '\0');
  memcpy(m.data(), &txid, sizeof(txid));
  return m + body;
}

mx_txid_t TxidOf(const void* bytes) {
  mx_txid_t t;
  memcpy(&t, bytes, sizeof(t));
  return t;
}

// A request as the server saw it.
struct Request {
  mx_status_t status = 1;
  std::string bytes;
  std::vector<mx_handle_t> handles;
};

// Waits (up to 10 s) for one message on |h| and reads it.
Request ReadRequest(mx_handle_t h) {
  Request r;
  r.status = mx_object_wait_one(h, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr);
  if (r.status != MX_OK) return r;
  std::vector<char> buf(MX_CHANNEL_MAX_MSG_BYTES);
  mx_handle_t hs[64];
  uint32_t n = 0, nh = 0;
  r.status = mx_channel_read(h, 0, buf.data(), hs, MX_CHANNEL_MAX_MSG_BYTES, 64, &n, &nh);
  if (r.status == MX_OK) {
    r.bytes.assign(buf.data(), n);
    r.handles.assign(hs, hs + nh);
  }
  return r;
}

struct CallResult {
  mx_status_t status = 1;
  mx_status_t read_status = kUntouchedStatus;
  uint32_t actual_bytes = kUntouchedCount;
  uint32_t actual_handles = kUntouchedCount;
  std::string reply;
  std::vector<mx_handle_t> handles;
};

// Calls on |h| with |request| (and |handles|), reply buffers of |rd_bytes| / |rd_handles|.
CallResult Call(mx_handle_t h, const std::string& request, std::vector<mx_handle_t> handles = {},
                mx_time_t deadline = 0, uint32_t rd_bytes = 1024, uint32_t rd_handles = 64) {
  if (deadline == 0) deadline = DeadlineIn10s();
  CallResult r;
  std::vector<char> buf(rd_bytes + 1);
  std::vector<mx_handle_t> hbuf(rd_handles + 1);
  mx_channel_call_args_t args = {};
  args.wr_bytes = request.data();
  args.wr_num_bytes = static_cast<uint32_t>(request.size());
  args.wr_handles = handles.data();
  args.wr_num_handles = static_cast<uint32_t>(handles.size());
  args.rd_bytes = buf.data();
  args.rd_num_bytes = rd_bytes;
  args.rd_handles = hbuf.data();
  args.rd_num_handles = rd_handles;
  r.status =
      mx_channel_call(h, 0, deadline, &args, &r.actual_bytes, &r.actual_handles, &r.read_status);
  if (r.status == MX_OK) {
    r.reply.assign(buf.data(), std::min(r.actual_bytes, rd_bytes));
    r.handles.assign(hbuf.data(), hbuf.data() + std::min(r.actual_handles, rd_handles));
  }
  return r;
}

struct Channel {
  mx_handle_t a = MX_HANDLE_INVALID;  // the caller's end
  mx_handle_t b = MX_HANDLE_INVALID;  // the server's end
  Channel() { EXPECT_EQ(mx_channel_create(0, &a, &b), MX_OK); }
  ~Channel() {
    if (a != MX_HANDLE_INVALID) mx_handle_close(a);
    if (b != MX_HANDLE_INVALID) mx_handle_close(b);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
};

// ---- Success ---------------------------------------------------------------------------------

TEST(ChannelCallTest, CallReturnsReplyWithMatchingTxid) {
  Channel ch;
  Request req;
  std::thread server([&] {
    req = ReadRequest(ch.b);
    if (req.status != MX_OK || req.bytes.size() < 4) return;
    std::string reply = Msg(TxidOf(req.bytes.data()), "pong");
    EXPECT_EQ(
        mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
        MX_OK);
  });
  CallResult r = Call(ch.a, Msg(0x11223344u, "ping"));
  server.join();
  ASSERT_EQ(req.status, MX_OK);
  EXPECT_EQ(req.bytes, Msg(0x11223344u, "ping"));
  ASSERT_EQ(r.status, MX_OK);
  EXPECT_EQ(r.actual_bytes, 8u);
  EXPECT_EQ(r.actual_handles, 0u);
  EXPECT_EQ(r.reply, Msg(0x11223344u, "pong"));  // the reply includes its txid
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  // The reply was taken by the call: it never made the endpoint READABLE.
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
}

TEST(ChannelCallTest, CallTransfersHandlesBothWays) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  const mx_koid_t koid = KoidOf(e);
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    ASSERT_EQ(req.handles.size(), 1u);
    std::string reply = Msg(TxidOf(req.bytes.data()), "back");
    EXPECT_EQ(mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()),
                               req.handles.data(), 1),
              MX_OK);
  });
  CallResult r = Call(ch.a, Msg(7, "take"), {e});
  server.join();
  ASSERT_EQ(r.status, MX_OK);
  ASSERT_EQ(r.actual_handles, 1u);
  ASSERT_EQ(r.handles.size(), 1u);
  EXPECT_EQ(KoidOf(r.handles[0]), koid);
  EXPECT_TRUE(EventUsable(r.handles[0]));
  EXPECT_EQ(mx_handle_close(r.handles[0]), MX_OK);
}

TEST(ChannelCallTest, NonMatchingMessageGoesToGeneralQueueWhileCallWaits) {
  Channel ch;
  mx_status_t saw_readable = 1;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    std::string other = Msg(TxidOf(req.bytes.data()) + 1, "unrelated");
    ASSERT_EQ(
        mx_channel_write(ch.b, 0, other.data(), static_cast<uint32_t>(other.size()), nullptr, 0),
        MX_OK);
    // The call is still waiting (no reply yet), and the other message made the caller READABLE.
    saw_readable = mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr);
    std::string reply = Msg(TxidOf(req.bytes.data()), "reply");
    EXPECT_EQ(
        mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
        MX_OK);
  });
  CallResult r = Call(ch.a, Msg(500, "req"));
  server.join();
  EXPECT_EQ(saw_readable, MX_OK);
  ASSERT_EQ(r.status, MX_OK);
  EXPECT_EQ(r.reply, Msg(500, "reply"));
  char buf[64];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(buf, n), Msg(501, "unrelated"));
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
}

TEST(ChannelCallTest, ConcurrentCallsGetTheirOwnRepliesInAnyOrder) {
  constexpr int kCallers = 10;
  Channel ch;
  std::thread server([&] {
    std::vector<Request> reqs;
    for (int i = 0; i < kCallers; ++i) {
      reqs.push_back(ReadRequest(ch.b));
      if (reqs.back().status != MX_OK) {
        ADD_FAILURE() << "request " << i << " did not arrive: " << reqs.back().status;
        return;
      }
    }
    // Answer in the reverse order of arrival.
    for (int i = kCallers - 1; i >= 0; --i) {
      const std::string& q = reqs[i].bytes;
      std::string reply = Msg(TxidOf(q.data()), "re:" + q.substr(4));
      EXPECT_EQ(
          mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
          MX_OK);
    }
  });
  std::vector<CallResult> results(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back(
        [&, i] { results[i] = Call(ch.a, Msg(0x1000u + i, "caller" + std::to_string(i))); });
  }
  for (std::thread& t : callers) t.join();
  server.join();
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_EQ(results[i].status, MX_OK) << "caller " << i;
    if (results[i].status != MX_OK) continue;
    EXPECT_EQ(results[i].reply, Msg(0x1000u + i, "re:caller" + std::to_string(i)));
  }
  // Every reply went to its caller: none is left in the general queue.
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  char buf[64];
  uint32_t n = 0;
  while (mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr) == MX_OK) {
    ADD_FAILURE() << "reply with txid " << std::hex << TxidOf(buf) << " left in the queue";
  }
}

TEST(ChannelCallTest, ShortMessagesHaveTxidZero) {
  Channel ch;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    EXPECT_EQ(req.bytes, "hi");
    // A 4-byte message with a nonzero txid does not match; a 1-byte one (txid 0) does.
    std::string other = Msg(5, "");
    ASSERT_EQ(mx_channel_write(ch.b, 0, other.data(), 4, nullptr, 0), MX_OK);
    ASSERT_EQ(mx_channel_write(ch.b, 0, "!", 1, nullptr, 0), MX_OK);
  });
  CallResult r = Call(ch.a, "hi");
  server.join();
  ASSERT_EQ(r.status, MX_OK);
  EXPECT_EQ(r.actual_bytes, 1u);
  EXPECT_EQ(r.reply, "!");
  char buf[8];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(buf, n), Msg(5, ""));
}

TEST(ChannelCallTest, EmptyRequestMatchesReplyWithZeroTxid) {
  Channel ch;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    EXPECT_EQ(req.bytes.size(), 0u);
    std::string reply = Msg(0, "zero");
    ASSERT_EQ(
        mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
        MX_OK);
  });
  CallResult r = Call(ch.a, "");
  server.join();
  ASSERT_EQ(r.status, MX_OK);
  EXPECT_EQ(r.reply, Msg(0, "zero"));
}

// ---- Wait phase ------------------------------------------------------------------------------

TEST(ChannelCallTest, CallTimesOutAndLateReplyGoesToGeneralQueue) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  const mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  CallResult r = Call(ch.a, Msg(42, "slow"), {e}, deadline);
  EXPECT_EQ(r.status, MX_ERR_TIMED_OUT);
  EXPECT_GE(mx_time_get(MX_CLOCK_MONOTONIC), deadline);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_EQ(r.actual_handles, kUntouchedCount);
  // The request was sent: its handle is gone from the caller.
  EXPECT_FALSE(IsValid(e));
  Request req = ReadRequest(ch.b);
  ASSERT_EQ(req.status, MX_OK);
  EXPECT_EQ(req.bytes, Msg(42, "slow"));
  ASSERT_EQ(req.handles.size(), 1u);
  EXPECT_EQ(mx_handle_close(req.handles[0]), MX_OK);
  // The late reply lands in the general queue.
  std::string reply = Msg(42, "late");
  ASSERT_EQ(
      mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
      MX_OK);
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr), MX_OK);
  char buf[16];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(buf, n), reply);
}

TEST(ChannelCallTest, CallWithPastDeadlineTimesOutAfterSending) {
  Channel ch;
  CallResult r = Call(ch.a, Msg(1, "x"), {}, 1);
  EXPECT_EQ(r.status, MX_ERR_TIMED_OUT);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  Request req = ReadRequest(ch.b);
  ASSERT_EQ(req.status, MX_OK);
  EXPECT_EQ(req.bytes, Msg(1, "x"));
}

TEST(ChannelCallTest, PeerClosingDuringCallFailsWithPeerClosed) {
  Channel ch;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    EXPECT_EQ(req.status, MX_OK);
    EXPECT_EQ(mx_handle_close(ch.b), MX_OK);
    ch.b = MX_HANDLE_INVALID;
  });
  CallResult r = Call(ch.a, Msg(9, "anyone?"));
  server.join();
  EXPECT_EQ(r.status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(r.read_status, MX_ERR_PEER_CLOSED);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_EQ(r.actual_handles, kUntouchedCount);
}

TEST(ChannelCallTest, ReadStatusIsOptional) {
  Channel ch;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    EXPECT_EQ(req.status, MX_OK);
    EXPECT_EQ(mx_handle_close(ch.b), MX_OK);
    ch.b = MX_HANDLE_INVALID;
  });
  std::string q = Msg(9, "q");
  char buf[16];
  mx_channel_call_args_t args = {};
  args.wr_bytes = q.data();
  args.wr_num_bytes = static_cast<uint32_t>(q.size());
  args.rd_bytes = buf;
  args.rd_num_bytes = sizeof(buf);
  uint32_t n = 0, nh = 0;
  EXPECT_EQ(mx_channel_call(ch.a, 0, DeadlineIn10s(), &args, &n, &nh, nullptr), MX_ERR_CALL_FAILED);
  server.join();
}

TEST(ChannelCallTest, ClosingCallersHandleFromAnotherThreadCancelsCall) {
  Channel ch;
  CallResult r;
  std::thread caller([&] { r = Call(ch.a, Msg(3, "wait")); });
  // Once the request arrived, the call is in its wait phase.
  Request req = ReadRequest(ch.b);
  EXPECT_EQ(req.status, MX_OK);
  EXPECT_EQ(mx_handle_close(ch.a), MX_OK);
  caller.join();
  ch.a = MX_HANDLE_INVALID;
  EXPECT_EQ(r.status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(r.read_status, MX_ERR_CANCELED);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_EQ(mx_object_wait_one(ch.b, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
}

TEST(ChannelCallTest, WritingCallersEndpointIntoChannelCancelsCall) {
  Channel ch;
  Channel carrier;
  CallResult r;
  std::thread caller([&] { r = Call(ch.a, Msg(77, "wait")); });
  Request req = ReadRequest(ch.b);
  EXPECT_EQ(req.status, MX_OK);
  EXPECT_EQ(mx_channel_write(carrier.a, 0, nullptr, 0, &ch.a, 1), MX_OK);
  caller.join();
  EXPECT_EQ(r.status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(r.read_status, MX_ERR_CANCELED);
  // The endpoint lives on: a reply sent now waits in its queue for its next owner.
  std::string reply = Msg(77, "reply");
  ASSERT_EQ(
      mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
      MX_OK);
  mx_handle_t moved = MX_HANDLE_INVALID;
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(carrier.b, 0, nullptr, &moved, 0, 1, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  ch.a = moved;
  EXPECT_EQ(mx_object_wait_one(ch.a, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr), MX_OK);
  char buf[16];
  uint32_t n = 0;
  ASSERT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(buf, n), reply);
}

TEST(ChannelCallTest, ReplyWithTooManyBytesFailsWithBufferTooSmallAndIsDiscarded) {
  Channel ch;
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    std::string reply = Msg(TxidOf(req.bytes.data()), std::string(96, 'r'));
    EXPECT_EQ(
        mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
        MX_OK);
  });
  CallResult r = Call(ch.a, Msg(11, "q"), {}, 0, /*rd_bytes=*/16, /*rd_handles=*/4);
  server.join();
  EXPECT_EQ(r.status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(r.read_status, MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_EQ(r.actual_handles, kUntouchedCount);
  // Discarded, not queued.
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  char buf[128];
  EXPECT_EQ(mx_channel_read(ch.a, 0, buf, nullptr, sizeof(buf), 0, nullptr, nullptr),
            MX_ERR_SHOULD_WAIT);
}

// Once a channel has its rings (after 8 messages each way), a handle-free request goes straight
// into the ring and a reply that fits is copied straight from the ring into rd_bytes: the same
// matching, and a reply that does not fit is still discarded with the buffer untouched.
TEST(ChannelCallTest, OnARingChannelRepliesMatchAsOnTheSocket) {
  Channel ch;
  for (uint32_t i = 0; i < 16; ++i) {
    std::string m = Msg(1000 + i, "warm");
    ASSERT_EQ(mx_channel_write(ch.a, 0, m.data(), static_cast<uint32_t>(m.size()), nullptr, 0),
              MX_OK);
    ASSERT_EQ(ReadRequest(ch.b).status, MX_OK);
    ASSERT_EQ(mx_channel_write(ch.b, 0, m.data(), static_cast<uint32_t>(m.size()), nullptr, 0),
              MX_OK);
    ASSERT_EQ(ReadRequest(ch.a).status, MX_OK);
  }
  std::thread server([&] {
    for (int round = 0; round < 3; ++round) {
      Request req = ReadRequest(ch.b);
      ASSERT_EQ(req.status, MX_OK);
      const mx_txid_t txid = TxidOf(req.bytes.data());
      // Not the reply first (except for txid 41): it goes to the general queue.
      std::string other = Msg(txid + 1, "other");
      std::string reply = Msg(txid, std::string(40, 'r'));
      if (txid != 41) {
        EXPECT_EQ(mx_channel_write(ch.b, 0, other.data(), static_cast<uint32_t>(other.size()),
                                   nullptr, 0),
                  MX_OK);
      }
      EXPECT_EQ(
          mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
          MX_OK);
    }
  });
  CallResult ok = Call(ch.a, Msg(21, "q"));
  ASSERT_EQ(ok.status, MX_OK);
  EXPECT_EQ(ok.reply, Msg(21, std::string(40, 'r')));
  EXPECT_EQ(ok.actual_handles, 0u);
  // The reply alone: the next record is the call's reply.
  CallResult alone = Call(ch.a, Msg(41, "q"));
  ASSERT_EQ(alone.status, MX_OK);
  EXPECT_EQ(alone.reply, Msg(41, std::string(40, 'r')));
  EXPECT_EQ(alone.actual_bytes, 44u);

  char small[16];
  memset(small, 'x', sizeof(small));
  std::string request = Msg(31, "q");
  mx_channel_call_args_t args = {};
  args.wr_bytes = request.data();
  args.wr_num_bytes = static_cast<uint32_t>(request.size());
  args.rd_bytes = small;
  args.rd_num_bytes = sizeof(small);
  uint32_t actual_bytes = kUntouchedCount, actual_handles = kUntouchedCount;
  mx_status_t read_status = kUntouchedStatus;
  EXPECT_EQ(mx_channel_call(ch.a, 0, DeadlineIn10s(), &args, &actual_bytes, &actual_handles,
                            &read_status),
            MX_ERR_CALL_FAILED);
  server.join();
  EXPECT_EQ(read_status, MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual_bytes, kUntouchedCount);
  EXPECT_EQ(std::string(small, sizeof(small)), std::string(sizeof(small), 'x'));
  // The two messages that were no call's reply, in order.
  Request first = ReadRequest(ch.a);
  ASSERT_EQ(first.status, MX_OK);
  EXPECT_EQ(first.bytes, Msg(22, "other"));
  Request second = ReadRequest(ch.a);
  ASSERT_EQ(second.status, MX_OK);
  EXPECT_EQ(second.bytes, Msg(32, "other"));
}

TEST(ChannelCallTest, ReplyWithTooManyHandlesFailsWithBufferTooSmallAndClosesThem) {
  Channel ch;
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    std::string reply = Msg(TxidOf(req.bytes.data()), "h");
    EXPECT_EQ(mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), &y, 1),
              MX_OK);
  });
  CallResult r = Call(ch.a, Msg(12, "q"), {}, 0, /*rd_bytes=*/64, /*rd_handles=*/0);
  server.join();
  EXPECT_EQ(r.status, MX_ERR_CALL_FAILED);
  EXPECT_EQ(r.read_status, MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_EQ(r.actual_handles, kUntouchedCount);
  EXPECT_EQ(SignalsOf(ch.a), kNewEndpointSignals);
  // The endpoint the discarded reply carried was closed.
  EXPECT_EQ(mx_object_wait_one(x, MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
}

// ---- Write phase: errors returned directly, handles kept ---------------------------------------

TEST(ChannelCallTest, NullArgsReturnsInvalidArgs) {
  Channel ch;
  mx_status_t rs = kUntouchedStatus;
  uint32_t n = kUntouchedCount, nh = kUntouchedCount;
  EXPECT_EQ(mx_channel_call(ch.a, 0, DeadlineIn10s(), nullptr, &n, &nh, &rs), MX_ERR_INVALID_ARGS);
  // args are checked before the handle.
  EXPECT_EQ(mx_channel_call(MX_HANDLE_INVALID, 0, DeadlineIn10s(), nullptr, &n, &nh, &rs),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(rs, kUntouchedStatus);
  EXPECT_EQ(n, kUntouchedCount);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelCallTest, NonzeroOptionsReturnsInvalidArgsAndKeepsHandles) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  std::string q = Msg(1, "q");
  mx_channel_call_args_t args = {};
  args.wr_bytes = q.data();
  args.wr_num_bytes = static_cast<uint32_t>(q.size());
  args.wr_handles = &e;
  args.wr_num_handles = 1;
  mx_status_t rs = kUntouchedStatus;
  uint32_t n = 0, nh = 0;
  EXPECT_EQ(mx_channel_call(ch.a, 1, DeadlineIn10s(), &args, &n, &nh, &rs), MX_ERR_INVALID_ARGS);
  // Options are checked before the handle.
  EXPECT_EQ(mx_channel_call(MX_HANDLE_INVALID, 1, DeadlineIn10s(), &args, &n, &nh, &rs),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(rs, kUntouchedStatus);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, BadHandleReturnsBadHandle) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  CallResult r = Call(a, Msg(1, "q"));
  EXPECT_EQ(r.status, MX_ERR_BAD_HANDLE);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ChannelCallTest, CallNeedsReadRight) {
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_READ);
  mx_handle_t e = MakeEvent();
  CallResult r = Call(ch.a, Msg(1, "q"), {e});
  EXPECT_EQ(r.status, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, CallNeedsWriteRight) {
  Channel ch;
  ReduceRights(&ch.a, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_WRITE);
  CallResult r = Call(ch.a, Msg(1, "q"));
  EXPECT_EQ(r.status, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelCallTest, CallOnEventReturnsWrongTypeAfterRightsCheck) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(Call(e, Msg(1, "q")).status, MX_ERR_WRONG_TYPE);
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_READ);
  EXPECT_EQ(Call(e, Msg(1, "q")).status, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, TooManyBytesReturnsOutOfRange) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  CallResult r = Call(ch.a, std::string(65537, 'x'), {e});
  EXPECT_EQ(r.status, MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, TooManyHandlesReturnsOutOfRange) {
  Channel ch;
  std::vector<mx_handle_t> events(65);
  for (mx_handle_t& e : events) e = MakeEvent();
  CallResult r = Call(ch.a, Msg(1, "q"), events);
  EXPECT_EQ(r.status, MX_ERR_OUT_OF_RANGE);
  for (mx_handle_t e : events) {
    EXPECT_TRUE(EventUsable(e));
    EXPECT_EQ(mx_handle_close(e), MX_OK);
  }
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
}

TEST(ChannelCallTest, MaxBytesAndHandlesAreAccepted) {
  Channel ch;
  std::vector<mx_handle_t> events(64);
  for (mx_handle_t& e : events) e = MakeEvent();
  std::thread server([&] {
    Request req = ReadRequest(ch.b);
    ASSERT_EQ(req.status, MX_OK);
    EXPECT_EQ(req.bytes.size(), 65536u);
    EXPECT_EQ(req.handles.size(), 64u);
    for (mx_handle_t h : req.handles) EXPECT_EQ(mx_handle_close(h), MX_OK);
    std::string reply = Msg(TxidOf(req.bytes.data()), "ok");
    EXPECT_EQ(
        mx_channel_write(ch.b, 0, reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0),
        MX_OK);
  });
  CallResult r = Call(ch.a, Msg(8, std::string(65532, 'b')), events);
  server.join();
  EXPECT_EQ(r.status, MX_OK);
  EXPECT_EQ(r.reply, Msg(8, "ok"));
}

TEST(ChannelCallTest, BadHandleInArrayReturnsBadHandleAndKeepsOthers) {
  Channel ch;
  mx_handle_t e = MakeEvent(), dead = MakeEvent();
  ASSERT_EQ(mx_handle_close(dead), MX_OK);
  CallResult r = Call(ch.a, Msg(1, "q"), {e, dead});
  EXPECT_EQ(r.status, MX_ERR_BAD_HANDLE);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, OwnEndpointInArrayReturnsNotSupported) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  CallResult r = Call(ch.a, Msg(1, "q"), {e, ch.a});
  EXPECT_EQ(r.status, MX_ERR_NOT_SUPPORTED);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_TRUE(IsValid(ch.a));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, HandleWithoutTransferRightReturnsAccessDenied) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  ReduceRights(&e, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_TRANSFER);
  CallResult r = Call(ch.a, Msg(1, "q"), {e});
  EXPECT_EQ(r.status, MX_ERR_ACCESS_DENIED);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, SameHandleTwiceReturnsInvalidArgs) {
  Channel ch;
  mx_handle_t e = MakeEvent();
  CallResult r = Call(ch.a, Msg(1, "q"), {e, e});
  EXPECT_EQ(r.status, MX_ERR_INVALID_ARGS);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(SignalsOf(e), MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(ch.b), kNewEndpointSignals);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ChannelCallTest, ClosedPeerReturnsPeerClosedDirectlyAndKeepsHandles) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  mx_handle_t e = MakeEvent();
  CallResult r = Call(a, Msg(1, "q"), {e});
  EXPECT_EQ(r.status, MX_ERR_PEER_CLOSED);
  EXPECT_EQ(r.read_status, kUntouchedStatus);
  EXPECT_EQ(r.actual_bytes, kUntouchedCount);
  EXPECT_TRUE(EventUsable(e));
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

}  // namespace
