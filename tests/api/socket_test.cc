// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of sockets: mx_socket_create / write / read, READABLE / WRITABLE / PEER_CLOSED,
// short writes, SHOULD_WAIT, and Magenta's argument checks.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <mx/socket.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

constexpr mx_rights_t kSocketRights = 0x300F;  // DUPLICATE TRANSFER READ WRITE SIGNAL SIGNAL_PEER

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

void ReduceRights(mx_handle_t* h, mx_rights_t rights) {
  mx_handle_t out = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(*h, rights, &out), MX_OK);
  *h = out;
}

uint8_t Pattern(size_t i) { return static_cast<uint8_t>((i * 7) ^ (i >> 9)); }

struct Socket {
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t b = MX_HANDLE_INVALID;
  Socket() { EXPECT_EQ(mx_socket_create(0, &a, &b), MX_OK); }
  ~Socket() {
    if (a != MX_HANDLE_INVALID) mx_handle_close(a);
    if (b != MX_HANDLE_INVALID) mx_handle_close(b);
  }
  void CloseA() {
    ASSERT_EQ(mx_handle_close(a), MX_OK);
    a = MX_HANDLE_INVALID;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

// Writes the pattern into |h| until SHOULD_WAIT; returns the number of bytes written.
size_t FillUntilShouldWait(mx_handle_t h) {
  std::vector<uint8_t> chunk(64 * 1024);
  size_t total = 0;
  for (;;) {
    for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = Pattern(total + i);
    size_t actual = 0;
    mx_status_t st = mx_socket_write(h, 0, chunk.data(), chunk.size(), &actual);
    if (st == MX_ERR_SHOULD_WAIT) return total;
    EXPECT_EQ(st, MX_OK);
    if (st != MX_OK) return total;
    EXPECT_GT(actual, 0u);
    total += actual;
  }
}

// ---- Creation ---------------------------------------------------------------------------------

TEST(SocketTest, CreateWithNonzeroOptionsReturnsInvalidArgs) {
  mx_handle_t a = 111, b = 222;
  EXPECT_EQ(mx_socket_create(1, &a, &b), MX_ERR_INVALID_ARGS);  // MX_SOCKET_DATAGRAM: unsupported
  EXPECT_EQ(mx_socket_create(2, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_socket_create(0x80000000u, &a, &b), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(a, 111);
  EXPECT_EQ(b, 222);
}

TEST(SocketTest, CreateWithNullOutReturnsInvalidArgs) {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_socket_create(0, nullptr, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_socket_create(0, &h, nullptr), MX_ERR_INVALID_ARGS);
}

TEST(SocketTest, NewEndsHaveDefaultRightsTypeCrossedKoidsAndAreWritable) {
  Socket s;
  mx_info_handle_basic_t ia = BasicInfo(s.a);
  mx_info_handle_basic_t ib = BasicInfo(s.b);
  EXPECT_EQ(ia.rights, kSocketRights);
  EXPECT_EQ(ia.rights, static_cast<mx_rights_t>(MX_DEFAULT_SOCKET_RIGHTS));
  EXPECT_EQ(ib.rights, kSocketRights);
  EXPECT_EQ(ia.type, static_cast<uint32_t>(MX_OBJ_TYPE_SOCKET));
  EXPECT_EQ(ia.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_NE(ia.koid, MX_KOID_INVALID);
  EXPECT_NE(ia.koid, ib.koid);
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
  EXPECT_EQ(SignalsOf(s.a), MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(s.b), MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
}

// ---- Argument checks, in Magenta's order ------------------------------------------------------

TEST(SocketTest, WriteWithNullBufferAndNonzeroSizeReturnsInvalidArgsBeforeHandleLookup) {
  Socket s;
  size_t actual = 77;
  EXPECT_EQ(mx_socket_write(s.a, 0, nullptr, 1, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_socket_write(MX_HANDLE_INVALID, 0, nullptr, 1, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(actual, 77u);
}

TEST(SocketTest, BadHandleComesBeforeOptions) {
  char buf[4] = {};
  size_t actual = 0;
  EXPECT_EQ(mx_socket_write(MX_HANDLE_INVALID, 0, buf, 4, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_socket_write(MX_HANDLE_INVALID, 1, buf, 4, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_socket_read(MX_HANDLE_INVALID, 0, buf, 4, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_socket_read(MX_HANDLE_INVALID, 1, buf, 4, &actual), MX_ERR_BAD_HANDLE);
  Socket s;
  mx_handle_t closed = s.a;
  s.CloseA();
  EXPECT_EQ(mx_socket_write(closed, 0, buf, 4, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_socket_read(closed, 0, buf, 4, &actual), MX_ERR_BAD_HANDLE);
}

TEST(SocketTest, NonzeroOptionsReturnInvalidArgs) {
  Socket s;
  char buf[4] = {1, 2, 3, 4};
  size_t actual = 77;
  EXPECT_EQ(mx_socket_write(s.a, 1, buf, 4, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_socket_write(s.a, 0x80000000u, buf, 0, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_socket_read(s.b, 1, buf, 4, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(actual, 77u);
  EXPECT_EQ(SignalsOf(s.b), MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);  // nothing was written
}

TEST(SocketTest, WriteWithoutWriteRightReturnsAccessDenied) {
  Socket s;
  ReduceRights(&s.a, kSocketRights & ~MX_RIGHT_WRITE);
  char buf[4] = {};
  size_t actual = 0;
  EXPECT_EQ(mx_socket_write(s.a, 0, buf, 4, &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_socket_write(s.a, 1, buf, 4, &actual), MX_ERR_ACCESS_DENIED);  // before options
  EXPECT_EQ(mx_socket_read(s.a, 0, buf, 4, &actual), MX_ERR_SHOULD_WAIT);     // READ kept
}

TEST(SocketTest, ReadWithoutReadRightReturnsAccessDenied) {
  Socket s;
  ReduceRights(&s.b, kSocketRights & ~MX_RIGHT_READ);
  char buf[4] = {};
  size_t actual = 0;
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, 4, &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &actual), MX_ERR_ACCESS_DENIED);
  // Without READ a wait is denied too.
  EXPECT_EQ(mx_object_wait_one(s.b, MX_SOCKET_READABLE, 0, nullptr), MX_ERR_ACCESS_DENIED);
}

TEST(SocketTest, SocketCallsOnOtherTypesReturnWrongType) {
  mx_handle_t e, c0, c1;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  char buf[4] = {};
  size_t actual = 0;
  EXPECT_EQ(mx_socket_write(e, 0, buf, 4, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_socket_read(e, 0, buf, 4, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_socket_write(c0, 0, buf, 4, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_socket_read(c0, 0, buf, 4, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(c1), MX_OK);
}

TEST(SocketTest, UserSignalsAreNotSupported) {
  Socket s;
  EXPECT_EQ(mx_object_signal(s.a, 0, MX_USER_SIGNAL_0), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(mx_object_signal_peer(s.a, 0, MX_USER_SIGNAL_0), MX_ERR_NOT_SUPPORTED);
}

// ---- Data -------------------------------------------------------------------------------------

TEST(SocketTest, WriteThenReadRoundTripsAndTogglesReadable) {
  Socket s;
  size_t actual = 0;
  ASSERT_EQ(mx_socket_write(s.a, 0, "hello", 5, &actual), MX_OK);
  EXPECT_EQ(actual, 5u);
  EXPECT_EQ(SignalsOf(s.b), MX_SOCKET_READABLE | MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(SignalsOf(s.a), MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  char buf[16] = {};
  ASSERT_EQ(mx_socket_read(s.b, 0, buf, 3, &actual), MX_OK);
  EXPECT_EQ(actual, 3u);
  EXPECT_EQ(std::memcmp(buf, "hel", 3), 0);
  ASSERT_EQ(mx_socket_read(s.b, 0, buf, sizeof(buf), &actual), MX_OK);
  EXPECT_EQ(actual, 2u);
  EXPECT_EQ(std::memcmp(buf, "lo", 2), 0);
  EXPECT_EQ(SignalsOf(s.b), MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
  // Both directions.
  ASSERT_EQ(mx_socket_write(s.b, 0, "x", 1, nullptr), MX_OK);  // actual is optional
  ASSERT_EQ(mx_socket_read(s.a, 0, buf, sizeof(buf), nullptr), MX_OK);
  EXPECT_EQ(buf[0], 'x');
}

TEST(SocketTest, ReadWhenEmptyReturnsShouldWait) {
  Socket s;
  char buf[4];
  size_t actual = 77;
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, sizeof(buf), &actual), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(actual, 77u);
}

TEST(SocketTest, ReadWithNullBufferAndZeroSizeReturnsBytesQueued) {
  Socket s;
  size_t actual = 77;
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &actual), MX_OK);  // empty: still OK
  EXPECT_EQ(actual, 0u);
  ASSERT_EQ(mx_socket_write(s.a, 0, "abcdefg", 7, nullptr), MX_OK);
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 7u);
  EXPECT_EQ(SignalsOf(s.b) & MX_SOCKET_READABLE, MX_SOCKET_READABLE);  // nothing consumed
}

TEST(SocketTest, ReadWithNullBufferAndNonzeroSizeReturnsInvalidArgs) {
  Socket s;
  ASSERT_EQ(mx_socket_write(s.a, 0, "abc", 3, nullptr), MX_OK);
  size_t actual = 77;
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 3, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(actual, 77u);
}

TEST(SocketTest, ZeroSizeReadWithBufferNeedsDataButConsumesNone) {
  Socket s;
  char buf[4];
  size_t actual = 77;
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, 0, &actual), MX_ERR_SHOULD_WAIT);
  ASSERT_EQ(mx_socket_write(s.a, 0, "abc", 3, nullptr), MX_OK);
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 3u);
}

TEST(SocketTest, ZeroSizeWriteSucceedsWithNothingWritten) {
  Socket s;
  size_t actual = 77;
  EXPECT_EQ(mx_socket_write(s.a, 0, nullptr, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(SignalsOf(s.b) & MX_SOCKET_READABLE, 0u);
}

TEST(SocketTest, LargeWriteIsShort) {
  Socket s;
  std::vector<uint8_t> big(8u << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = Pattern(i);
  size_t actual = 0;
  ASSERT_EQ(mx_socket_write(s.a, 0, big.data(), big.size(), &actual), MX_OK);
  EXPECT_GT(actual, 0u);
  EXPECT_LT(actual, big.size());
  // Exactly |actual| bytes, in order, are readable.
  std::vector<uint8_t> got(big.size());
  size_t total = 0;
  for (;;) {
    size_t n = 0;
    mx_status_t st = mx_socket_read(s.b, 0, got.data() + total, got.size() - total, &n);
    if (st == MX_ERR_SHOULD_WAIT) break;
    ASSERT_EQ(st, MX_OK);
    total += n;
  }
  EXPECT_EQ(total, actual);
  EXPECT_EQ(std::memcmp(got.data(), big.data(), total), 0);
}

TEST(SocketTest, FillUntilShouldWaitClearsWritableAndDrainRestoresIt) {
  Socket s;
  const size_t filled = FillUntilShouldWait(s.a);
  ASSERT_GT(filled, 0u);
  EXPECT_EQ(SignalsOf(s.a), MX_SIGNAL_LAST_HANDLE);  // full: not writable
  char one = 0;
  size_t actual = 77;
  EXPECT_EQ(mx_socket_write(s.a, 0, &one, 1, &actual), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(actual, 77u);
  size_t queued = 0;
  ASSERT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &queued), MX_OK);
  EXPECT_EQ(queued, filled);
  // Drain and verify order.
  std::vector<uint8_t> buf(100000);
  size_t total = 0;
  while (total < filled) {
    size_t n = 0;
    ASSERT_EQ(mx_socket_read(s.b, 0, buf.data(), buf.size(), &n), MX_OK);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(buf[i], Pattern(total + i)) << total + i;
    total += n;
  }
  EXPECT_EQ(mx_socket_read(s.b, 0, buf.data(), buf.size(), &actual), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_object_wait_one(s.a, MX_SOCKET_WRITABLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_socket_write(s.a, 0, &one, 1, &actual), MX_OK);
}

// ---- PEER_CLOSED ------------------------------------------------------------------------------

TEST(SocketTest, PeerClosedWithDataStillReadable) {
  Socket s;
  ASSERT_EQ(mx_socket_write(s.a, 0, "last words", 10, nullptr), MX_OK);
  s.CloseA();
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(s.b, MX_SOCKET_PEER_CLOSED, DeadlineIn10s(), &observed), MX_OK);
  EXPECT_EQ(observed, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  char buf[32];
  size_t actual = 0;
  ASSERT_EQ(mx_socket_read(s.b, 0, buf, sizeof(buf), &actual), MX_OK);
  EXPECT_EQ(actual, 10u);
  EXPECT_EQ(std::memcmp(buf, "last words", 10), 0);
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, sizeof(buf), &actual), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_socket_read(s.b, 0, buf, 0, &actual), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_socket_read(s.b, 0, nullptr, 0, &actual), MX_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(SignalsOf(s.b), MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
}

TEST(SocketTest, WriteAfterPeerClosedReturnsPeerClosed) {
  Socket s;
  s.CloseA();
  size_t actual = 77;
  EXPECT_EQ(mx_socket_write(s.b, 0, "x", 1, &actual), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_socket_write(s.b, 0, nullptr, 0, &actual), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(actual, 77u);
}

TEST(SocketTest, PeerClosedOnlyAfterLastDuplicateCloses) {
  Socket s;
  mx_handle_t a2 = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(s.a, MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  EXPECT_EQ(SignalsOf(a2), MX_SOCKET_WRITABLE);  // two handles: no LAST_HANDLE
  s.CloseA();
  EXPECT_EQ(mx_object_wait_one(s.b, MX_SOCKET_PEER_CLOSED, mx_deadline_after(MX_MSEC(50)), nullptr),
            MX_ERR_TIMED_OUT);
  ASSERT_EQ(mx_socket_write(a2, 0, "y", 1, nullptr), MX_OK);
  ASSERT_EQ(mx_handle_close(a2), MX_OK);
  EXPECT_EQ(mx_object_wait_one(s.b, MX_SOCKET_PEER_CLOSED, DeadlineIn10s(), nullptr), MX_OK);
  char c;
  ASSERT_EQ(mx_socket_read(s.b, 0, &c, 1, nullptr), MX_OK);
  EXPECT_EQ(c, 'y');
}

// ---- Waits from another thread ------------------------------------------------------------

TEST(SocketTest, WaitInAnotherThreadSeesReadable) {
  Socket s;
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::thread waiter(
      [&] { result = mx_object_wait_one(s.b, MX_SOCKET_READABLE, DeadlineIn10s(), nullptr); });
  ASSERT_EQ(mx_socket_write(s.a, 0, "z", 1, nullptr), MX_OK);
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
}

TEST(SocketTest, WaitInAnotherThreadSeesWritableAfterDrain) {
  Socket s;
  FillUntilShouldWait(s.a);
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::thread waiter(
      [&] { result = mx_object_wait_one(s.a, MX_SOCKET_WRITABLE, DeadlineIn10s(), nullptr); });
  std::vector<uint8_t> buf(1 << 20);
  size_t n = 0;
  while (mx_socket_read(s.b, 0, buf.data(), buf.size(), &n) == MX_OK) {
  }
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
}

TEST(SocketTest, WaitInAnotherThreadSeesPeerClosed) {
  Socket s;
  std::atomic<mx_status_t> result{MX_ERR_INTERNAL};
  std::thread waiter(
      [&] { result = mx_object_wait_one(s.b, MX_SOCKET_PEER_CLOSED, DeadlineIn10s(), nullptr); });
  s.CloseA();
  waiter.join();
  EXPECT_EQ(result.load(), MX_OK);
}

TEST(SocketTest, StreamBetweenThreadsArrivesInOrder) {
  Socket s;
  constexpr size_t kTotal = 4u << 20;
  std::thread writer([&] {
    std::vector<uint8_t> chunk(100000);
    size_t sent = 0;
    while (sent < kTotal) {
      size_t len = std::min(chunk.size(), kTotal - sent);
      for (size_t i = 0; i < len; ++i) chunk[i] = Pattern(sent + i);
      size_t actual = 0;
      mx_status_t st = mx_socket_write(s.a, 0, chunk.data(), len, &actual);
      if (st == MX_ERR_SHOULD_WAIT) {
        ASSERT_EQ(mx_object_wait_one(s.a, MX_SOCKET_WRITABLE, DeadlineIn10s(), nullptr), MX_OK);
        continue;
      }
      ASSERT_EQ(st, MX_OK);
      sent += actual;
    }
    ASSERT_EQ(mx_handle_close(s.a), MX_OK);
  });
  std::vector<uint8_t> buf(65536);
  size_t got = 0;
  bool order_ok = true;
  for (;;) {
    size_t n = 0;
    mx_status_t st = mx_socket_read(s.b, 0, buf.data(), buf.size(), &n);
    if (st == MX_ERR_SHOULD_WAIT) {
      ASSERT_EQ(mx_object_wait_one(s.b, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED, DeadlineIn10s(),
                                   nullptr),
                MX_OK);
      continue;
    }
    if (st == MX_ERR_PEER_CLOSED) break;
    ASSERT_EQ(st, MX_OK);
    for (size_t i = 0; i < n; ++i) order_ok = order_ok && buf[i] == Pattern(got + i);
    got += n;
  }
  writer.join();
  s.a = MX_HANDLE_INVALID;
  EXPECT_EQ(got, kTotal);
  EXPECT_TRUE(order_ok);
}

TEST(SocketTest, WriterRacingWithPeerCloseEndsInPeerClosed) {
  for (int round = 0; round < 20; ++round) {
    Socket s;
    std::atomic<mx_status_t> write_result{MX_ERR_INTERNAL};
    std::thread writer([&] {
      const mx_time_t deadline = DeadlineIn10s();
      char buf[512] = {};
      mx_status_t st;
      do {
        st = mx_socket_write(s.a, 0, buf, sizeof(buf), nullptr);
        if (st == MX_ERR_SHOULD_WAIT) {
          st = mx_object_wait_one(s.a, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED, deadline,
                                  nullptr);
        }
      } while (st == MX_OK && mx_time_get(MX_CLOCK_MONOTONIC) < deadline);
      write_result = st;
    });
    char buf[256];
    size_t n = 0;
    for (int i = 0; i < round; ++i) mx_socket_read(s.b, 0, buf, sizeof(buf), &n);
    ASSERT_EQ(mx_handle_close(s.b), MX_OK);
    s.b = MX_HANDLE_INVALID;
    writer.join();
    EXPECT_EQ(write_result.load(), MX_ERR_PEER_CLOSED);
  }
}

TEST(SocketTest, PortWaitAsyncSeesReadableAndPeerClosed) {
  Socket s;
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(s.b, port, 1, MX_SOCKET_READABLE, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_socket_write(s.a, 0, "p", 1, nullptr), MX_OK);
  mx_port_packet_t packet = {};
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 1u);
  EXPECT_TRUE(packet.signal.observed & MX_SOCKET_READABLE);
  ASSERT_EQ(mx_object_wait_async(s.b, port, 2, MX_SOCKET_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  s.CloseA();
  ASSERT_EQ(mx_port_wait(port, DeadlineIn10s(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 2u);
  EXPECT_TRUE(packet.signal.observed & MX_SOCKET_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
}

// ---- Transfer through a channel (same process) ------------------------------------------------

TEST(SocketTest, EndSentThroughChannelKeepsKoidAndData) {
  Socket s;
  mx_handle_t c0, c1;
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_socket_write(s.a, 0, "queued", 6, nullptr), MX_OK);
  const mx_info_handle_basic_t before = BasicInfo(s.b);
  ASSERT_EQ(mx_channel_write(c0, 0, nullptr, 0, &s.b, 1), MX_OK);
  s.b = MX_HANDLE_INVALID;
  EXPECT_EQ(SignalsOf(s.a) & MX_SOCKET_PEER_CLOSED, 0u);  // in flight: still open
  uint32_t nh = 0;
  ASSERT_EQ(mx_channel_read(c1, 0, nullptr, &s.b, 0, 1, nullptr, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  const mx_info_handle_basic_t after = BasicInfo(s.b);
  EXPECT_EQ(after.koid, before.koid);
  EXPECT_EQ(after.related_koid, before.related_koid);
  EXPECT_EQ(after.rights, before.rights);
  char buf[8];
  size_t n = 0;
  ASSERT_EQ(mx_socket_read(s.b, 0, buf, sizeof(buf), &n), MX_OK);
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(std::memcmp(buf, "queued", 6), 0);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(c1), MX_OK);
}

// ---- C++ wrapper ------------------------------------------------------------------------------

TEST(SocketTest, CppWrapperWritesAndReads) {
  mx::socket a, b;
  ASSERT_EQ(mx::socket::create(0, &a, &b), MX_OK);
  size_t actual = 0;
  ASSERT_EQ(a.write(0, "abc", 3, &actual), MX_OK);
  EXPECT_EQ(actual, 3u);
  char buf[4] = {};
  ASSERT_EQ(b.read(0, buf, sizeof(buf), &actual), MX_OK);
  EXPECT_EQ(actual, 3u);
  mx::socket a2;
  ASSERT_EQ(a.duplicate(MX_RIGHT_SAME_RIGHTS, &a2), MX_OK);
  a.reset();
  a2.reset();
  mx_signals_t pending = 0;
  EXPECT_EQ(b.wait_one(MX_SOCKET_PEER_CLOSED, DeadlineIn10s(), &pending), MX_OK);
  mx::socket c, d;
  EXPECT_EQ(mx::socket::create(1, &c, &d), MX_ERR_INVALID_ARGS);
  EXPECT_FALSE(c.is_valid());
}

}  // namespace
