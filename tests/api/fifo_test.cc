// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of fifos: mx_fifo_create's limits, mx_fifo_write / mx_fifo_read of whole
// elements (partial, full, empty), Magenta's errors and their order, the READABLE / WRITABLE /
// PEER_CLOSED signals, user signals, waits and ports, transfer through a channel, and mx::fifo.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <mx/channel.h>
#include <mx/fifo.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "support/fd_count.h"
#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

// Both sides of a new fifo of |count| elements of 8 bytes, closed at the end if still open.
struct Fifo {
  explicit Fifo(uint32_t count = 4) { EXPECT_EQ(mx_fifo_create(count, 8, 0, &a, &b), MX_OK); }
  ~Fifo() {
    if (a != MX_HANDLE_INVALID) mx_handle_close(a);
    if (b != MX_HANDLE_INVALID) mx_handle_close(b);
  }
  void CloseB() {
    EXPECT_EQ(mx_handle_close(b), MX_OK);
    b = MX_HANDLE_INVALID;
  }
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
};

// ---- Create --------------------------------------------------------------------------------

TEST(FifoTest, CreateChecksOptionsAndPointersThenTheShape) {
  mx_handle_t a, b;
  EXPECT_EQ(mx_fifo_create(4, 8, 1, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_fifo_create(4, 8, 0, nullptr, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_fifo_create(4, 8, 0, &a, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_fifo_create(3, 8, 1, &a, &b), MX_ERR_OUT_OF_RANGE);  // the shape before the options
  EXPECT_EQ(mx_fifo_create(0, 0, 1, &a, &b), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_create(0, 8, 0, &a, &b), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_create(4, 0, 0, &a, &b), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_create(3, 8, 0, &a, &b), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_create(1024, 8, 0, &a, &b), MX_ERR_OUT_OF_RANGE);  // 8 KiB
  EXPECT_EQ(mx_fifo_create(8192, 1, 0, &a, &b), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_create(1, 4097, 0, &a, &b), MX_ERR_OUT_OF_RANGE);
  for (auto [count, size] : {std::pair{4096u, 1u}, {1u, 4096u}, {512u, 8u}, {1u, 1u}}) {
    ASSERT_EQ(mx_fifo_create(count, size, 0, &a, &b), MX_OK) << count << " x " << size;
    EXPECT_EQ(mx_handle_close(a), MX_OK);
    EXPECT_EQ(mx_handle_close(b), MX_OK);
  }
}

TEST(FifoTest, NewSidesAreWritableFifosOfEachOther) {
  Fifo f;
  const mx_info_handle_basic_t ia = BasicInfo(f.a), ib = BasicInfo(f.b);
  EXPECT_EQ(ia.type, static_cast<uint32_t>(MX_OBJ_TYPE_FIFO));
  EXPECT_EQ(ia.rights, static_cast<mx_rights_t>(MX_DEFAULT_FIFO_RIGHTS));
  EXPECT_EQ(ia.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
  EXPECT_NE(ia.koid, ib.koid);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(f.b), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
}

// ---- Read and write ------------------------------------------------------------------------

TEST(FifoTest, ElementsGoBothWaysInOrder) {
  Fifo f;
  uint64_t out[2] = {11, 12}, in[4] = {};
  uint32_t n = 0;
  ASSERT_EQ(mx_fifo_write(f.a, out, sizeof(out), &n), MX_OK);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(SignalsOf(f.b), MX_FIFO_READABLE | MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  uint64_t back = 21;
  ASSERT_EQ(mx_fifo_write(f.b, &back, sizeof(back), &n), MX_OK);
  ASSERT_EQ(mx_fifo_read(f.b, in, sizeof(in), &n), MX_OK);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(in[0], 11u);
  EXPECT_EQ(in[1], 12u);
  EXPECT_EQ(SignalsOf(f.b), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  ASSERT_EQ(mx_fifo_read(f.a, in, sizeof(in), &n), MX_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(in[0], 21u);
}

TEST(FifoTest, WritesAndReadsArePartialInWholeElements) {
  Fifo f(4);
  uint64_t out[6] = {1, 2, 3, 4, 5, 6}, in[6] = {};
  uint32_t n = 0;
  // 6 elements and 7 stray bytes: rounded down to 6, of which 4 fit.
  ASSERT_EQ(mx_fifo_write(f.a, out, sizeof(out) + 7 - 8, &n), MX_OK);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(SignalsOf(f.a), MX_SIGNAL_LAST_HANDLE);  // full: not WRITABLE
  EXPECT_EQ(mx_fifo_write(f.a, out, 8, &n), MX_ERR_SHOULD_WAIT);
  ASSERT_EQ(mx_fifo_read(f.b, in, 3 * 8 + 5, &n), MX_OK);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  // Wraps around the end of the slots.
  ASSERT_EQ(mx_fifo_write(f.a, &out[4], 16, &n), MX_OK);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(mx_fifo_read(f.b, in, sizeof(in), &n), MX_OK);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(in[0], 4u);
  EXPECT_EQ(in[1], 5u);
  EXPECT_EQ(in[2], 6u);
  EXPECT_EQ(mx_fifo_read(f.b, in, sizeof(in), &n), MX_ERR_SHOULD_WAIT);
}

TEST(FifoTest, LessThanOneElementIsOutOfRange) {
  Fifo f;
  uint64_t v = 0;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(f.a, &v, 7, &n), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_write(f.a, &v, 0, &n), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_fifo_read(f.b, &v, 7, &n), MX_ERR_OUT_OF_RANGE);
  // Read: the size before the emptiness.
  EXPECT_EQ(mx_fifo_read(f.b, &v, 0, &n), MX_ERR_OUT_OF_RANGE);
}

TEST(FifoTest, NullPointersAreInvalidArgsWhereMagentaCopied) {
  Fifo f;
  uint64_t v = 5;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_read(f.b, nullptr, 8, &n), MX_ERR_SHOULD_WAIT);  // empty first
  EXPECT_EQ(mx_fifo_write(f.a, nullptr, 8, &n), MX_ERR_INVALID_ARGS);
  // A null count: the element moved, then the count could not be stored.
  EXPECT_EQ(mx_fifo_write(f.a, &v, 8, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_fifo_read(f.b, nullptr, 8, &n), MX_ERR_INVALID_ARGS);
  uint64_t in = 0;
  EXPECT_EQ(mx_fifo_read(f.b, &in, 8, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(in, 5u);
  EXPECT_EQ(mx_fifo_read(f.b, &in, 8, &n), MX_ERR_SHOULD_WAIT);
}

TEST(FifoTest, HandleLookupErrors) {
  Fifo f;
  uint64_t v = 0;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(MX_HANDLE_INVALID, &v, 8, &n), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_fifo_read(MX_HANDLE_INVALID, &v, 8, &n), MX_ERR_BAD_HANDLE);
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  EXPECT_EQ(mx_fifo_write(event, &v, 8, &n), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_fifo_read(event, &v, 8, &n), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
  mx_handle_t read_only, write_only;
  ASSERT_EQ(mx_handle_duplicate(f.a, MX_RIGHT_READ, &read_only), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(f.b, MX_RIGHT_WRITE, &write_only), MX_OK);
  EXPECT_EQ(mx_fifo_write(read_only, &v, 8, &n), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_fifo_read(write_only, &v, 8, &n), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_fifo_write(write_only, &v, 8, &n), MX_OK);
  EXPECT_EQ(mx_fifo_read(read_only, &v, 8, &n), MX_OK);
  EXPECT_EQ(mx_handle_close(read_only), MX_OK);
  EXPECT_EQ(mx_handle_close(write_only), MX_OK);
}

// ---- Peer closed -----------------------------------------------------------------------------

TEST(FifoTest, PeerClosedStopsWritesButLeavesElementsToRead) {
  Fifo f;
  uint64_t v[2] = {7, 8};
  uint32_t n = 0;
  ASSERT_EQ(mx_fifo_write(f.b, v, sizeof(v), &n), MX_OK);
  f.CloseB();
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_READABLE | MX_FIFO_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_fifo_write(f.a, v, 8, &n), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_fifo_write(f.a, v, 0, &n), MX_ERR_PEER_CLOSED);  // the peer before the size
  uint64_t in[4];
  ASSERT_EQ(mx_fifo_read(f.a, in, sizeof(in), &n), MX_OK);
  EXPECT_EQ(n, 2u);
  // Magenta's read of an empty fifo says SHOULD_WAIT whether or not the peer is there.
  EXPECT_EQ(mx_fifo_read(f.a, in, sizeof(in), &n), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
}

TEST(FifoTest, ADuplicateKeepsTheSideOpen) {
  Fifo f;
  mx_handle_t dup;
  ASSERT_EQ(mx_handle_duplicate(f.b, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  EXPECT_EQ(SignalsOf(f.b), MX_FIFO_WRITABLE);  // two handles: no LAST_HANDLE
  f.CloseB();
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  uint64_t v = 1;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_OK);
  EXPECT_EQ(mx_fifo_read(dup, &v, 8, &n), MX_OK);
  EXPECT_EQ(mx_handle_close(dup), MX_OK);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
}

// ---- User signals ----------------------------------------------------------------------------

TEST(FifoTest, UserSignalsOnEitherSide) {
  Fifo f;
  EXPECT_EQ(mx_object_signal(f.a, 0, MX_USER_SIGNAL_0), MX_OK);
  EXPECT_EQ(mx_object_signal_peer(f.a, 0, MX_USER_SIGNAL_1), MX_OK);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_USER_SIGNAL_0 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(f.b), MX_FIFO_WRITABLE | MX_USER_SIGNAL_1 | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_signal(f.a, MX_USER_SIGNAL_0, 0), MX_OK);
  EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_signal(f.a, 0, MX_FIFO_READABLE), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_object_signal_peer(f.a, MX_FIFO_PEER_CLOSED, 0), MX_ERR_INVALID_ARGS);
  f.CloseB();
  EXPECT_EQ(mx_object_signal_peer(f.a, 0, MX_USER_SIGNAL_1), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_object_signal(f.a, 0, MX_USER_SIGNAL_2), MX_OK);
}

// ---- Waiting ---------------------------------------------------------------------------------

TEST(FifoTest, WaitOneWakesForAWriteFromAnotherThread) {
  Fifo f;
  for (int round = 0; round < 50; ++round) {
    std::thread writer([&] {
      uint64_t v = static_cast<uint64_t>(round);
      uint32_t n = 0;
      EXPECT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_OK);
    });
    mx_signals_t observed = 0;
    ASSERT_EQ(mx_object_wait_one(f.b, MX_FIFO_READABLE, DeadlineIn10s(), &observed), MX_OK);
    writer.join();
    uint64_t in = 0;
    uint32_t n = 0;
    ASSERT_EQ(mx_fifo_read(f.b, &in, 8, &n), MX_OK);
    EXPECT_EQ(in, static_cast<uint64_t>(round));
  }
}

TEST(FifoTest, WaitManyWakesForRoomAndForPeerClosed) {
  Fifo f(1);
  uint64_t v = 1;
  uint32_t n = 0;
  ASSERT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_OK);
  std::thread reader([&] {
    uint64_t in;
    uint32_t got;
    EXPECT_EQ(mx_fifo_read(f.b, &in, 8, &got), MX_OK);
  });
  mx_wait_item_t items[1] = {{f.a, MX_FIFO_WRITABLE, 0}};
  ASSERT_EQ(mx_object_wait_many(items, 1, DeadlineIn10s()), MX_OK);
  EXPECT_TRUE(items[0].pending & MX_FIFO_WRITABLE);
  reader.join();
  std::thread closer([&] { f.CloseB(); });
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(f.a, MX_FIFO_PEER_CLOSED, DeadlineIn10s(), &observed), MX_OK);
  closer.join();
}

TEST(FifoTest, PortWaitAsyncSeesReadableAndPeerClosed) {
  Fifo f;
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(f.b, port, 7, MX_FIFO_READABLE, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_object_wait_async(f.a, port, 8, MX_FIFO_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  std::thread writer([&] {
    uint64_t v = 3;
    uint32_t n = 0;
    EXPECT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_OK);
  });
  mx_port_packet_t packet = {};
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  writer.join();
  EXPECT_EQ(packet.key, 7u);
  EXPECT_EQ(packet.type, static_cast<uint32_t>(MX_PKT_TYPE_SIGNAL_ONE));
  EXPECT_TRUE(packet.signal.observed & MX_FIFO_READABLE);
  f.CloseB();
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 8u);
  EXPECT_TRUE(packet.signal.observed & MX_FIFO_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
}

TEST(FifoTest, RepeatingPortWaitSeesEveryBatch) {
  Fifo f(64);
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(f.b, port, 9, MX_FIFO_READABLE, MX_WAIT_ASYNC_REPEATING), MX_OK);
  for (uint64_t i = 0; i < 100; ++i) {
    std::thread writer([&] {
      uint32_t n = 0;
      EXPECT_EQ(mx_fifo_write(f.a, &i, 8, &n), MX_OK);
    });
    mx_port_packet_t packet = {};
    ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
    writer.join();
    EXPECT_EQ(packet.key, 9u);
    uint64_t in = 0;
    uint32_t n = 0;
    ASSERT_EQ(mx_fifo_read(f.b, &in, 8, &n), MX_OK);
    EXPECT_EQ(in, i);
  }
  EXPECT_EQ(mx_handle_close(port), MX_OK);
}

// ---- Transfer --------------------------------------------------------------------------------

// One trip of side b through a fresh channel, checked on the way.
void SendSideThroughAChannel() {
  {
    Fifo f;
    const mx_info_handle_basic_t before = BasicInfo(f.b);
    uint64_t v = 42;
    uint32_t n = 0;
    ASSERT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_OK);
    mx_handle_t c0, c1;
    ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
    ASSERT_EQ(mx_channel_write(c0, 0, nullptr, 0, &f.b, 1), MX_OK);
    f.b = MX_HANDLE_INVALID;
    // In flight, the side is still held: no PEER_CLOSED.
    EXPECT_EQ(SignalsOf(f.a), MX_FIFO_WRITABLE | MX_SIGNAL_LAST_HANDLE);
    uint32_t bytes = 0, handles = 0;
    ASSERT_EQ(mx_channel_read(c1, 0, nullptr, &f.b, 0, 1, &bytes, &handles), MX_OK);
    ASSERT_EQ(handles, 1u);
    const mx_info_handle_basic_t after = BasicInfo(f.b);
    EXPECT_EQ(after.koid, before.koid);
    EXPECT_EQ(after.related_koid, before.related_koid);
    EXPECT_EQ(after.rights, before.rights);
    uint64_t in = 0;
    ASSERT_EQ(mx_fifo_read(f.b, &in, 8, &n), MX_OK);
    EXPECT_EQ(in, 42u);
    f.CloseB();
    EXPECT_EQ(SignalsOf(f.a), MX_FIFO_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_EQ(mx_handle_close(c0), MX_OK);
    EXPECT_EQ(mx_handle_close(c1), MX_OK);
  }
}

TEST(FifoTest, SideSentThroughAChannelKeepsItsQueueAndPeer) {
  // The first trip may open what libmx keeps for the process or thread (a waker, koids).
  SendSideThroughAChannel();
  const int fds_before = mx_test::CountOpenFds();
  SendSideThroughAChannel();
  EXPECT_EQ(mx_test::CountOpenFds(), fds_before);
}

TEST(FifoTest, SideDiscardedInAnUnreadMessageClosesIt) {
  Fifo f;
  mx_handle_t c0, c1;
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_channel_write(c0, 0, nullptr, 0, &f.b, 1), MX_OK);
  f.b = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_handle_close(c1), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  // The handle in flight never reached an object: the kernel's hang-up tells.
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(f.a, MX_FIFO_PEER_CLOSED, DeadlineIn10s(), &observed), MX_OK);
  uint64_t v = 0;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(f.a, &v, 8, &n), MX_ERR_PEER_CLOSED);
}

TEST(FifoTest, ASideCostsThreeFdsHoweverManyHandles) {
  const int before = mx_test::CountOpenFds();
  mx_handle_t a, b, dup;
  ASSERT_EQ(mx_fifo_create(16, 16, 0, &a, &b), MX_OK);
  EXPECT_EQ(mx_test::CountOpenFds(), before + 6);
  ASSERT_EQ(mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  EXPECT_EQ(mx_test::CountOpenFds(), before + 6);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_test::CountOpenFds(), before + 3);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(dup), MX_OK);
  EXPECT_EQ(mx_test::CountOpenFds(), before);
}

// ---- C++ wrapper -----------------------------------------------------------------------------

TEST(FifoTest, CppWrapperCreatesWritesAndReads) {
  mx::fifo a, b;
  ASSERT_EQ(mx::fifo::create(8, 16, 0, &a, &b), MX_OK);
  struct Elem {
    uint64_t x, y;
  } out[3] = {{1, 2}, {3, 4}, {5, 6}}, in[3] = {};
  uint32_t n = 0;
  ASSERT_EQ(a.write(out, sizeof(out), &n), MX_OK);
  EXPECT_EQ(n, 3u);
  ASSERT_EQ(b.read(in, sizeof(in), &n), MX_OK);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(in[2].y, 6u);
  mx::fifo c, d;
  EXPECT_EQ(mx::fifo::create(3, 16, 0, &c, &d), MX_ERR_OUT_OF_RANGE);
  EXPECT_FALSE(c.is_valid());
  mx::fifo moved(std::move(a));
  EXPECT_TRUE(moved.is_valid());
  mx_info_handle_basic_t info = {};
  ASSERT_EQ(moved.get_basic_info(&info), MX_OK);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_FIFO));
  EXPECT_EQ(moved.signal_peer(0, MX_USER_SIGNAL_3), MX_OK);
  mx_signals_t pending = 0;
  EXPECT_EQ(b.wait_one(MX_USER_SIGNAL_3, mx_deadline_after(MX_SEC(10)), &pending), MX_OK);
  mx::fifo dup;
  EXPECT_EQ(b.duplicate(MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
}

}  // namespace
