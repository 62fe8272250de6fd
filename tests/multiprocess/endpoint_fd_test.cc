// SPDX-License-Identifier: BSD-3-Clause
// What a channel endpoint costs in fds, and an endpoint with rings both ways that moves from
// process to process mid-stream.
//
// An idle endpoint holds its socket alone; a busy one its socket and the memfd of the ring it
// reads (the ring it writes is only mapped). When an endpoint moves, its send ring stays behind,
// marked done: the peer reads it empty and drops it, and the next holder announces a ring of its
// own after a few messages (docs/design.md, "Channel data path"). Every message carries its
// number in its direction and a payload made from it, so order and content are checked across
// every hop; fds are counted before and after.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/fd_count.h"
#include "support/multiprocess.h"

namespace {

// More than the messages a direction sends before its ring (kRingAfterMessages, 8).
constexpr uint64_t kPastRingSetUp = 20;

// Message |n| of a direction: its number, then 1 to 300 bytes made from it.
std::vector<uint8_t> Numbered(uint64_t n) {
  std::vector<uint8_t> bytes(sizeof(n) + 1 + (n * 37) % 300);
  std::memcpy(bytes.data(), &n, sizeof(n));
  for (size_t i = sizeof(n); i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(n * 13 + i);
  return bytes;
}

mx_status_t WriteNumbered(mx_handle_t ch, uint64_t n) {
  std::vector<uint8_t> bytes = Numbered(n);
  return mx_test::WriteMessage(ch, bytes.data(), bytes.size());
}

// Reads messages |from| to |to| (exclusive), in order; false (and why, in |*why|) otherwise.
bool ReadNumbered(mx_handle_t ch, uint64_t from, uint64_t to, std::string* why) {
  for (uint64_t n = from; n < to; ++n) {
    mx_test::Message m;
    mx_status_t st = mx_test::ReadMessage(ch, &m);
    mx_test::CloseAll(&m.handles);
    if (st != MX_OK) {
      *why = std::string("read of message ") + std::to_string(n) + " returned " +
             mx_test::StatusName(st);
      return false;
    }
    if (m.bytes != Numbered(n)) {
      uint64_t got = 0;
      if (m.bytes.size() >= sizeof(got)) std::memcpy(&got, m.bytes.data(), sizeof(got));
      *why = std::string("expected message ") + std::to_string(n) + ", got " + std::to_string(got);
      return false;
    }
  }
  return true;
}

// Where a travelling endpoint's two directions stand: what its holder reads and writes next.
struct Position {
  uint64_t next_read;
  uint64_t next_write;
};

// Sends |ep| and |pos| on |ctl|.
mx_status_t SendEndpoint(mx_handle_t ctl, mx_handle_t ep, const Position& pos) {
  return mx_test::WriteMessage(ctl, &pos, sizeof(pos), {ep});
}

bool ReceiveEndpoint(mx_handle_t ctl, mx_handle_t* ep, Position* pos) {
  mx_test::Message m;
  if (mx_test::ReadMessage(ctl, &m) != MX_OK || m.handles.size() != 1 ||
      m.bytes.size() != sizeof(*pos)) {
    mx_test::CloseAll(&m.handles);
    return false;
  }
  std::memcpy(pos, m.bytes.data(), sizeof(*pos));
  *ep = m.handles[0];
  return true;
}

// Receives the endpoint, reads |reads| of the messages in flight to it, writes |writes| of its
// own (its first ones go by socket, then a new ring), and sends it back with the rest in flight.
// args: reads, writes.
MX_CHILD(endpoint_hop_and_back) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const uint64_t reads = std::stoull(args[0]), writes = std::stoull(args[1]);
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ep;
  Position pos;
  CHILD_CHECK(ReceiveEndpoint(ctl, &ep, &pos));
  std::string why;
  if (!ReadNumbered(ep, pos.next_read, pos.next_read + reads, &why))
    mx_test::ChildFail(__FILE__, __LINE__, why);
  pos.next_read += reads;
  for (uint64_t i = 0; i < writes; ++i) CHILD_CHECK_OK(WriteNumbered(ep, pos.next_write++));
  CHILD_CHECK_OK(SendEndpoint(ctl, ep, pos));
  mx_test::Message done;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &done));  // the parent read everything we wrote
  mx_handle_close(ctl);
  return 0;
}

// The last holder: reads up to message |last_read|, writes up to |last_write|, waits until the
// parent read them, counts its own fds around the endpoint's close, and reports the difference.
// args: last_read, last_write.
MX_CHILD(endpoint_last_hop) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const uint64_t last_read = std::stoull(args[0]), last_write = std::stoull(args[1]);
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ep;
  Position pos;
  CHILD_CHECK(ReceiveEndpoint(ctl, &ep, &pos));
  std::string why;
  if (!ReadNumbered(ep, pos.next_read, last_read, &why))
    mx_test::ChildFail(__FILE__, __LINE__, why);
  while (pos.next_write < last_write) CHILD_CHECK_OK(WriteNumbered(ep, pos.next_write++));
  mx_test::Message done;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &done));
  // Busy both ways: the socket and the memfd of the ring we read; the ring we write is mapped.
  const int with = mx_test::CountOpenFds();
  CHILD_CHECK_OK(mx_handle_close(ep));
  const int32_t held = with - mx_test::CountOpenFds();
  CHILD_CHECK_OK(mx_test::WritePod(ctl, held));
  mx_handle_close(ctl);
  return 0;
}

class EndpointFdTest : public mx_test::MultiprocessTest {};

// Exchanges messages |from| to |to| (exclusive) each way between |a| and |b|.
void Exchange(mx_handle_t a, mx_handle_t b, uint64_t from, uint64_t to) {
  for (uint64_t n = from; n < to; ++n) {
    ASSERT_EQ(WriteNumbered(a, n), MX_OK);
    ASSERT_EQ(WriteNumbered(b, n), MX_OK);
  }
  std::string why;
  ASSERT_TRUE(ReadNumbered(b, from, to, &why)) << why;
  ASSERT_TRUE(ReadNumbered(a, from, to, &why)) << why;
}

TEST_F(EndpointFdTest, IdleEndpointHoldsOneFdAndBusyOneTwo) {
  // Warm up what the first channel use opens once per process (the thread's waker).
  {
    mx_handle_t a, b;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_NO_FATAL_FAILURE(Exchange(a, b, 0, 2));
    mx_handle_close(a);
    mx_handle_close(b);
  }
  const int before = mx_test::CountOpenFds();
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_NO_FATAL_FAILURE(Exchange(a, b, 0, 2));
  EXPECT_EQ(mx_test::CountOpenFds() - before, 2) << "two idle endpoints: a socket each";
  ASSERT_NO_FATAL_FAILURE(Exchange(a, b, 2, kPastRingSetUp));
  EXPECT_EQ(mx_test::CountOpenFds() - before, 4)
      << "two busy endpoints, rings both ways: a socket and the ring it reads each";
  mx_handle_t ctl, child_ctl, process;
  // One end moves to another process: what stays is one busy endpoint, and the child's own
  // count of what its busy end held comes back.
  ASSERT_EQ(mx_channel_create(0, &ctl, &child_ctl), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild(
          "endpoint_last_hop", {{PA_HND(PA_USER0, 0), child_ctl}},
          {std::to_string(kPastRingSetUp + 10), std::to_string(kPastRingSetUp + 30)}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  for (uint64_t n = kPastRingSetUp; n < kPastRingSetUp + 10; ++n)
    ASSERT_EQ(WriteNumbered(a, n), MX_OK);
  ASSERT_EQ(SendEndpoint(ctl, b, {kPastRingSetUp, kPastRingSetUp}), MX_OK);
  std::string why;
  ASSERT_TRUE(ReadNumbered(a, kPastRingSetUp, kPastRingSetUp + 30, &why)) << why;
  ASSERT_EQ(mx_test::WriteMessage(ctl, "done", 4), MX_OK);
  int32_t child_held = 0;
  ASSERT_EQ(mx_test::ReadPod(ctl, &child_held), MX_OK);
  EXPECT_EQ(child_held, 2) << "the child's busy end: its socket and the ring it reads";
  EXPECT_EQ(child.Join(), 0);
  // Our end, busy both ways, its peer's old ring dropped and the new one read.
  const int with = mx_test::CountOpenFds();
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(with - mx_test::CountOpenFds(), 2) << "a socket and the ring it reads";
  mx_handle_close(ctl);
}

// y starts here with rings both ways and messages in flight both ways; it goes to a child, comes
// back, and goes on to a second child, with more messages in flight at every hop.
TEST_F(EndpointFdTest, EndpointWithRingsBothWaysHopsMidStream) {
  mx_handle_t x, y;
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  // Both rings exist; 10 messages are in flight each way.
  for (uint64_t n = 0; n < kPastRingSetUp; ++n) {
    ASSERT_EQ(WriteNumbered(x, n), MX_OK);
    ASSERT_EQ(WriteNumbered(y, n), MX_OK);
  }
  std::string why;
  ASSERT_TRUE(ReadNumbered(x, 0, 10, &why)) << why;
  ASSERT_TRUE(ReadNumbered(y, 0, 10, &why)) << why;
  Position pos = {10, kPastRingSetUp};  // y's next read and write

  // Hop 1: to a child, which reads 15, writes 25 and sends y back; we write 15 meanwhile.
  mx_handle_t ctl1, child_ctl1, p1;
  ASSERT_EQ(mx_channel_create(0, &ctl1, &child_ctl1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("endpoint_hop_and_back", {{PA_HND(PA_USER0, 0), child_ctl1}},
                                {"15", "25"}, &p1),
            MX_OK);
  mx_test::ScopedProcess child1(p1);
  ASSERT_EQ(SendEndpoint(ctl1, y, pos), MX_OK);
  uint64_t x_write = kPastRingSetUp;
  for (int i = 0; i < 15; ++i) ASSERT_EQ(WriteNumbered(x, x_write++), MX_OK);
  // What x reads: 10 left in y's old ring, then the child's 25 (socket first, then its ring).
  ASSERT_TRUE(ReadNumbered(x, 10, 30, &why)) << why;
  ASSERT_TRUE(ReceiveEndpoint(ctl1, &y, &pos));
  EXPECT_EQ(pos.next_read, 25u);
  EXPECT_EQ(pos.next_write, kPastRingSetUp + 25);
  ASSERT_EQ(mx_test::WriteMessage(ctl1, "done", 4), MX_OK);
  EXPECT_EQ(child1.Join(), 0);
  mx_handle_close(ctl1);

  // Back here: y reads 5 and writes 12 (its own ring after 8), with 5 of the child's still in
  // flight to x and 5 of ours to y.
  ASSERT_TRUE(ReadNumbered(y, pos.next_read, pos.next_read + 5, &why)) << why;
  pos.next_read += 5;
  for (int i = 0; i < 12; ++i) ASSERT_EQ(WriteNumbered(y, pos.next_write++), MX_OK);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(WriteNumbered(x, x_write++), MX_OK);

  // Hop 2: to a second child, which reads up to what x writes and writes 30 more.
  mx_handle_t ctl2, child_ctl2, p2;
  ASSERT_EQ(mx_channel_create(0, &ctl2, &child_ctl2), MX_OK);
  const uint64_t y_last_write = pos.next_write + 30;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(WriteNumbered(x, x_write++), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("endpoint_last_hop", {{PA_HND(PA_USER0, 0), child_ctl2}},
                                {std::to_string(x_write), std::to_string(y_last_write)}, &p2),
            MX_OK);
  mx_test::ScopedProcess child2(p2);
  ASSERT_EQ(SendEndpoint(ctl2, y, pos), MX_OK);
  ASSERT_TRUE(ReadNumbered(x, 30, y_last_write, &why)) << why;
  ASSERT_EQ(mx_test::WriteMessage(ctl2, "done", 4), MX_OK);
  int32_t child_held = 0;
  ASSERT_EQ(mx_test::ReadPod(ctl2, &child_held), MX_OK);
  EXPECT_EQ(child_held, 2) << "the last holder's busy end: its socket and the ring it reads";
  EXPECT_EQ(child2.Join(), 0);
  mx_handle_close(ctl2);
  mx_test::Message last;
  EXPECT_EQ(mx_test::ReadMessage(x, &last), MX_ERR_PEER_CLOSED);
  mx_handle_close(x);
  // The fixture checks that every fd is closed once the children's process handles are.
}

}  // namespace
