// SPDX-License-Identifier: BSD-3-Clause
// Ports: mx_port_create / queue / wait, mx_object_wait_async (ONCE and REPEATING), the port fd,
// and close-order safety. Black-box, through the public headers only.
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <poll.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace {

mx_time_t In10s() { return mx_deadline_after(MX_SEC(10)); }

mx_handle_t NewPort() {
  mx_handle_t port = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_port_create(0, &port), MX_OK);
  return port;
}

// True if no packet is queued (polls with deadline 0).
bool PortIsEmpty(mx_handle_t port) {
  mx_port_packet_t p;
  return mx_port_wait(port, 0, &p, 0) == MX_ERR_TIMED_OUT;
}

TEST(PortTest, CreateWithOptionsIsInvalidArgs) {
  mx_handle_t port;
  EXPECT_EQ(mx_port_create(1, &port), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_port_create(0, nullptr), MX_ERR_INVALID_ARGS);
}

TEST(PortTest, PortHasTypePortAndNoTransferRight) {
  mx_handle_t port = NewPort();
  mx_info_handle_basic_t info;
  ASSERT_EQ(mx_object_get_info(port, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_PORT));
  EXPECT_EQ(info.rights & MX_RIGHT_TRANSFER, 0u);
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_NONE));
  EXPECT_EQ(mx_handle_close(port), MX_OK);
}

TEST(PortTest, UserPacketRoundTripsWithTypeForcedToUser) {
  mx_handle_t port = NewPort();
  mx_port_packet_t in = {};
  in.key = 42;
  in.type = MX_PKT_TYPE_SIGNAL_ONE;  // forced to USER
  in.status = -7;
  for (int i = 0; i < 4; ++i) in.user.u64[i] = 0x1111111111111111ull * static_cast<uint64_t>(i + 1);
  ASSERT_EQ(mx_port_queue(port, &in, 0), MX_OK);
  mx_port_packet_t out = {};
  ASSERT_EQ(mx_port_wait(port, In10s(), &out, 0), MX_OK);
  EXPECT_EQ(out.key, 42u);
  EXPECT_EQ(out.type, MX_PKT_TYPE_USER);
  EXPECT_EQ(out.status, -7);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out.user.u64[i], in.user.u64[i]);
  EXPECT_TRUE(PortIsEmpty(port));
  mx_handle_close(port);
}

TEST(PortTest, PacketsComeOutInQueueOrder) {
  mx_handle_t port = NewPort();
  for (uint64_t k = 0; k < 100; ++k) {
    mx_port_packet_t p = {};
    p.key = k;
    ASSERT_EQ(mx_port_queue(port, &p, 0), MX_OK);
  }
  for (uint64_t k = 0; k < 100; ++k) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
    EXPECT_EQ(p.key, k);
  }
  mx_handle_close(port);
}

TEST(PortTest, WaitTimesOutWhenEmpty) {
  mx_handle_t port = NewPort();
  mx_port_packet_t p;
  mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
  EXPECT_EQ(mx_port_wait(port, deadline, &p, 0), MX_ERR_TIMED_OUT);
  EXPECT_GE(mx_time_get(MX_CLOCK_MONOTONIC), deadline);
  mx_handle_close(port);
}

TEST(PortTest, ArgumentErrors) {
  mx_handle_t port = NewPort();
  mx_port_packet_t p = {};
  EXPECT_EQ(mx_port_queue(port, nullptr, 0), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_port_wait(port, 0, nullptr, 0), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_port_queue(port, &p, 2), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_port_queue(MX_HANDLE_INVALID, &p, 0), MX_ERR_BAD_HANDLE);
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  EXPECT_EQ(mx_port_queue(event, &p, 0), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_port_wait(event, 0, &p, 0), MX_ERR_WRONG_TYPE);
  // Rights before type; WRITE to queue, READ to wait.
  mx_handle_t read_only;
  ASSERT_EQ(mx_handle_duplicate(port, MX_RIGHT_READ, &read_only), MX_OK);
  EXPECT_EQ(mx_port_queue(read_only, &p, 0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_wait_async(event, read_only, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE),
            MX_ERR_ACCESS_DENIED);
  mx_handle_t write_only;
  ASSERT_EQ(mx_handle_duplicate(port, MX_RIGHT_WRITE, &write_only), MX_OK);
  EXPECT_EQ(mx_port_wait(write_only, 0, &p, 0), MX_ERR_ACCESS_DENIED);
  // Bad options, a port that is not waitable, a handle without READ.
  EXPECT_EQ(mx_object_wait_async(event, port, 1, MX_EVENT_SIGNALED, 2), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_object_wait_async(port, port, 1, MX_USER_SIGNAL_0, MX_WAIT_ASYNC_ONCE),
            MX_ERR_NOT_SUPPORTED);
  mx_handle_t no_read;
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SIGNAL, &no_read), MX_OK);
  EXPECT_EQ(mx_object_wait_async(no_read, port, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE),
            MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_object_wait_async(event, event, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE),
            MX_ERR_WRONG_TYPE);
  // A port cannot be waited on directly.
  mx_signals_t s;
  EXPECT_EQ(mx_object_wait_one(port, MX_USER_SIGNAL_0, 0, &s), MX_ERR_NOT_SUPPORTED);
  for (mx_handle_t h : {read_only, write_only, no_read, event, port}) mx_handle_close(h);
}

TEST(PortTest, OnceWaitDeliversOnePacketWhenSignaled) {
  mx_handle_t port = NewPort(), event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 7, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  ASSERT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
  EXPECT_EQ(p.key, 7u);
  EXPECT_EQ(p.type, MX_PKT_TYPE_SIGNAL_ONE);
  EXPECT_EQ(p.status, MX_OK);
  EXPECT_EQ(p.signal.trigger, MX_EVENT_SIGNALED);
  EXPECT_EQ(p.signal.observed, MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(p.signal.count, 1u);
  // ONCE: clearing and setting again delivers nothing more.
  ASSERT_EQ(mx_object_signal(event, MX_EVENT_SIGNALED, 0), MX_OK);
  ASSERT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  mx_handle_close(event);
  mx_handle_close(port);
}

TEST(PortTest, OnceWaitOnAlreadyAssertedSignalFiresAtOnce) {
  mx_handle_t port = NewPort(), event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_object_signal(event, 0, MX_USER_SIGNAL_3), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 1, MX_USER_SIGNAL_3, MX_WAIT_ASYNC_ONCE), MX_OK);
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port, 0, &p, 0), MX_OK);
  EXPECT_EQ(p.key, 1u);
  EXPECT_TRUE(p.signal.observed & MX_USER_SIGNAL_3);
  mx_handle_close(event);
  mx_handle_close(port);
}

TEST(PortTest, RepeatingWaitDeliversAPacketPerChange) {
  mx_handle_t port = NewPort(), event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 9, MX_USER_SIGNAL_0, MX_WAIT_ASYNC_REPEATING), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(mx_object_signal(event, 0, MX_USER_SIGNAL_0), MX_OK);
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK) << "round " << round;
    EXPECT_EQ(p.key, 9u);
    EXPECT_EQ(p.type, MX_PKT_TYPE_SIGNAL_REP);
    EXPECT_TRUE(p.signal.observed & MX_USER_SIGNAL_0);
    ASSERT_EQ(mx_object_signal(event, MX_USER_SIGNAL_0, 0), MX_OK);
    // Clearing the trigger is a change, but no trigger bit is asserted: no packet.
    EXPECT_TRUE(PortIsEmpty(port));
  }
  mx_handle_close(event);
  mx_handle_close(port);
}

TEST(PortTest, ChannelReadablePacketCountsQueuedMessages) {
  mx_handle_t port = NewPort(), a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(mx_channel_write(a, 0, "m", 1, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_object_wait_async(b, port, 5, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_ONCE), MX_OK);
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
  EXPECT_EQ(p.key, 5u);
  EXPECT_TRUE(p.signal.observed & MX_CHANNEL_READABLE);
  EXPECT_EQ(p.signal.count, 3u);
  mx_handle_close(a);
  mx_handle_close(b);
  mx_handle_close(port);
}

TEST(PortTest, ChannelPeerClosedArrivesAsPacket) {
  mx_handle_t port = NewPort(), a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_object_wait_async(b, port, 11, MX_CHANNEL_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  std::thread closer([&] { mx_handle_close(a); });
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
  closer.join();
  EXPECT_EQ(p.key, 11u);
  EXPECT_TRUE(p.signal.observed & MX_CHANNEL_PEER_CLOSED);
  mx_handle_close(b);
  mx_handle_close(port);
}

TEST(PortTest, SeveralWaitsOnOneObjectFireNewestFirst) {
  mx_handle_t port = NewPort(), event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  for (uint64_t key = 1; key <= 3; ++key) {
    ASSERT_EQ(mx_object_wait_async(event, port, key, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE), MX_OK);
  }
  ASSERT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  for (uint64_t key = 3; key >= 1; --key) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
    EXPECT_EQ(p.key, key);
  }
  EXPECT_TRUE(PortIsEmpty(port));
  mx_handle_close(event);
  mx_handle_close(port);
}

TEST(PortTest, ClosingTheHandleCancelsItsWaitSilently) {
  mx_handle_t port = NewPort(), event, keep;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &keep), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  ASSERT_EQ(mx_handle_close(event), MX_OK);
  // The object lives on through |keep|; the wait armed through |event| is gone.
  ASSERT_EQ(mx_object_signal(keep, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  mx_handle_close(keep);
  mx_handle_close(port);
}

TEST(PortTest, ClosingThePortWithArmedWaitsIsSafeAndObjectsStayUsable) {
  mx_handle_t port = NewPort(), event, a, b;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  ASSERT_EQ(mx_object_wait_async(b, port, 2, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(mx_handle_close(port), MX_OK);
  EXPECT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, "x", 1, nullptr, 0), MX_OK);
  mx_signals_t s;
  EXPECT_EQ(mx_object_wait_one(b, MX_CHANNEL_READABLE, In10s(), &s), MX_OK);
  for (mx_handle_t h : {event, a, b}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST(PortTest, ClosingTheObjectPeerWhileArmedIsSafe) {
  mx_handle_t port = NewPort(), a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_object_wait_async(b, port, 3, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_REPEATING), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  ASSERT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_TRUE(PortIsEmpty(port));
  mx_handle_close(port);
}

TEST(PortTest, PortFdBecomesReadableWhenAPacketIsQueued) {
  mx_handle_t port = NewPort(), event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  int fd = -1;
  ASSERT_EQ(mx_port_get_fd(port, &fd), MX_OK);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(mx_port_get_fd(port, nullptr), MX_ERR_INVALID_ARGS);
  ASSERT_EQ(mx_object_wait_async(event, port, 4, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE), MX_OK);
  std::thread signaler([&] { mx_object_signal(event, 0, MX_EVENT_SIGNALED); });
  struct pollfd pfd = {fd, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1);
  signaler.join();
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port, 0, &p, 0), MX_OK);
  EXPECT_EQ(p.key, 4u);
  mx_handle_close(event);
  mx_handle_close(port);
}

TEST(PortTest, ManyChannelsOnOnePortDeliverExactlyTheReadyOnes) {
  constexpr int kChannels = 2000;
  mx_handle_t port = NewPort();
  std::vector<mx_handle_t> local(kChannels), remote(kChannels);
  for (int i = 0; i < kChannels; ++i) {
    ASSERT_EQ(mx_channel_create(0, &local[i], &remote[i]), MX_OK);
    ASSERT_EQ(mx_object_wait_async(local[i], port, static_cast<uint64_t>(i), MX_CHANNEL_READABLE,
                                   MX_WAIT_ASYNC_ONCE),
              MX_OK);
  }
  std::set<uint64_t> expected;
  for (int i = 0; i < kChannels; i += 37) {
    ASSERT_EQ(mx_channel_write(remote[i], 0, "r", 1, nullptr, 0), MX_OK);
    expected.insert(static_cast<uint64_t>(i));
  }
  std::set<uint64_t> got;
  while (got.size() < expected.size()) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, In10s(), &p, 0), MX_OK);
    EXPECT_TRUE(got.insert(p.key).second) << "key " << p.key << " twice";
  }
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(PortIsEmpty(port));
  for (int i = 0; i < kChannels; ++i) {
    mx_handle_close(local[i]);
    mx_handle_close(remote[i]);
  }
  mx_handle_close(port);
}

TEST(PortTest, ConcurrentArmCloseAndWaitStaySafe) {
  // Close-order races: one thread waits on the port, others arm waits and close handles and
  // signal objects in any order; the port is closed at the end while waits are still armed.
  mx_handle_t port = NewPort();
  std::atomic<bool> stop{false};
  std::atomic<int> packets{0};
  std::thread waiter([&] {
    mx_port_packet_t p;
    while (!stop.load()) {
      if (mx_port_wait(port, mx_deadline_after(MX_MSEC(5)), &p, 0) == MX_OK) ++packets;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        mx_handle_t event;
        if (mx_event_create(0, &event) != MX_OK) continue;
        mx_object_wait_async(event, port, static_cast<uint64_t>(t * 1000 + i), MX_EVENT_SIGNALED,
                             (i % 2) ? MX_WAIT_ASYNC_ONCE : MX_WAIT_ASYNC_REPEATING);
        if (i % 3 == 0) mx_object_signal(event, 0, MX_EVENT_SIGNALED);
        mx_handle_close(event);
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  waiter.join();
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_object_wait_async(event, port, 1, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
  EXPECT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
}

}  // namespace

// The C++ wrapper, briefly: create, arm through object<T>::wait_async, wait, close on scope exit.
#include <mx/event.h>
#include <mx/port.h>

namespace {

TEST(PortWrapperTest, WaitAsyncThroughWrappersDeliversPacket) {
  mx::port port;
  ASSERT_EQ(mx::port::create(0, &port), MX_OK);
  mx::event event;
  ASSERT_EQ(mx::event::create(0, &event), MX_OK);
  ASSERT_EQ(event.wait_async(port, 77, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE), MX_OK);
  ASSERT_EQ(event.signal(0, MX_EVENT_SIGNALED), MX_OK);
  mx_port_packet_t p;
  ASSERT_EQ(port.wait(mx_deadline_after(MX_SEC(10)), &p, 0), MX_OK);
  EXPECT_EQ(p.key, 77u);
  int fd = -1;
  EXPECT_EQ(port.get_fd(&fd), MX_OK);
  EXPECT_GE(fd, 0);
  mx_port_packet_t user = {};
  user.key = 5;
  ASSERT_EQ(port.queue(&user, 0), MX_OK);
  ASSERT_EQ(port.wait(0, &p, 0), MX_OK);
  EXPECT_EQ(p.type, MX_PKT_TYPE_USER);
}

}  // namespace
