// SPDX-License-Identifier: BSD-3-Clause
// Hostile peers against a port: one channel on a port must not stall the port, the other channels
// on it, or the port's waiters' deadlines, and no peer can make a port's pending work grow.
//
// The attacker is a real child holding the raw SOCK_SEQPACKET socket under one end of a channel
// that the victim has armed on its port (it reaches the victim through a named rendezvous, by
// hand: tests/support/wire_layout.h). It floods signal frames ({clear, set} toggling one user
// signal): they add nothing to the channel's queue, so every evaluation of that channel has
// frames to pump for as long as the flood runs.
//
// Every scenario prints one line "[attack] <name>: ..." with its figures.
#include <errno.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

namespace {

using namespace mx_test::wire;

// How long the flood runs at most if nobody stops it: far beyond every bound below, so that a
// victim stuck for the whole flood fails its bound instead of passing by luck.
constexpr mx_duration_t kFloodCeiling = MX_SEC(20);
// The loose bound for anything the victim does while the flood runs.
constexpr mx_duration_t kBound = MX_SEC(3);

struct FloodReport {
  uint64_t frames;      // frames the kernel accepted
  uint64_t elapsed_ns;  // from "go" to the end of the flood
};

double Ms(mx_duration_t ns) { return static_cast<double>(ns) / 1e6; }
mx_time_t Now() { return mx_time_get(MX_CLOCK_MONOTONIC); }

// ---- The children -------------------------------------------------------------------------------

// Sends up to 64 toggles in one sendmmsg (the flood must outrun the victim's pump, one
// recvmsg per frame), waiting up to 1 s for room. The number sent, or -1 if the socket is
// unusable or stayed full.
int SendToggles(int sock, std::vector<uint8_t> (&toggles)[2]) {
  constexpr int kBatch = 64;
  struct iovec iov[kBatch];
  struct mmsghdr msgs[kBatch] = {};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {toggles[i & 1].data(), toggles[i & 1].size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (int tries = 0; tries < 10; ++tries) {
    const int n = sendmmsg(sock, msgs, kBatch, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) return n;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
    struct pollfd p = {sock, POLLOUT, 0};
    poll(&p, 1, 100);
  }
  return -1;
}

// args: mode, service name[, count]. PA_USER0: control channel. Connects to the service as a raw
// peer and waits for "go", answers "on", then
//   - "signals": sends signal frames toggling MX_USER_SIGNAL_0 until the victim says "stop" (or
//     kFloodCeiling passes);
//   - "data": sends |count| data frames of 8 bytes (the frame's number), then waits for "stop";
//   - "backlog": sends |count| signal frames that change nothing, then one data frame, answers
//     "sent" and waits for "stop".
// Reports a FloodReport and exits.
MX_CHILD(port_flooder) {
  CHILD_CHECK(args.size() >= 2);
  const bool signals = args[0] == "signals";
  const bool backlog = args[0] == "backlog";
  const uint64_t count = signals ? 0 : std::stoull(args.at(2));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  int sock = -1;
  CHILD_CHECK_EQ(ConnectRawPeer(args[1], &sock), 0);
  // A deep send buffer keeps the victim's socket from ever running dry while this process is
  // descheduled (as much as the kernel grants: any user may ask for net.core.wmem_max).
  const int want = 16 << 20;
  if (setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0) {
    setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
  }
  mx_test::Message go;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &go));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "on", 2));
  std::vector<uint8_t> toggles[2];
  for (int i = 0; i < 2; ++i) {
    const uint32_t masks[2] = {i == 0 ? MX_USER_SIGNAL_0 : 0u, i == 0 ? 0u : MX_USER_SIGNAL_0};
    toggles[i] =
        FrameSpec(kFrameSignal, 0, std::string(reinterpret_cast<const char*>(masks), sizeof(masks)))
            .Encode();
  }
  const mx_time_t start = Now();
  const mx_time_t ceiling = start + kFloodCeiling;
  uint64_t sent = 0, batches = 0;
  for (;;) {
    if (signals) {
      const int n = SendToggles(sock, toggles);
      if (n < 0) break;
      sent += static_cast<uint64_t>(n);
      if (++batches % 4 == 0) {
        if (Now() >= ceiling) break;
        if (mx_object_wait_one(ctl, MX_CHANNEL_READABLE, 0, nullptr) == MX_OK) break;
      }
    } else if (backlog) {
      // Whole batches of no-op frames (the socket's deep buffer holds them all).
      std::vector<uint8_t> noops[2];
      const uint32_t nothing[2] = {0, 0};
      noops[0] = noops[1] =
          FrameSpec(kFrameSignal, 0,
                    std::string(reinterpret_cast<const char*>(nothing), sizeof(nothing)))
              .Encode();
      while (sent < count) {
        const int n = SendToggles(sock, noops);
        if (n < 0) break;
        sent += static_cast<uint64_t>(n);
      }
      if (sent < count) {
        // The kernel would not queue that many (net.core.wmem_max is small here).
        CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "full", 4));
        break;
      }
      const uint64_t zero = 0;
      const std::vector<uint8_t> frame =
          FrameSpec(kFrameData, 0, std::string(reinterpret_cast<const char*>(&zero), sizeof(zero)))
              .Encode();
      CHILD_CHECK_EQ(SendOn(sock, frame.data(), frame.size(), nullptr, 0), 0);
      ++sent;
      CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "sent", 4));
      break;
    } else {
      if (sent == count) break;
      const std::vector<uint8_t> frame =
          FrameSpec(kFrameData, sent,
                    std::string(reinterpret_cast<const char*>(&sent), sizeof(sent)))
              .Encode();
      if (SendOn(sock, frame.data(), frame.size(), nullptr, 0) != 0) break;
      ++sent;
    }
  }
  const FloodReport report = {sent, static_cast<uint64_t>(Now() - start)};
  mx_test::Message stop;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &stop, mx_deadline_after(MX_SEC(120))));
  CHILD_CHECK_OK(mx_test::WritePod(ctl, report));
  close(sock);
  mx_handle_close(ctl);
  return 0;
}

// PA_USER0: a channel. Echoes every message until the peer closes.
MX_CHILD(port_echo) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (;;) {
    mx_test::Message msg;
    mx_status_t status = mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(120)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size()));
  }
  mx_handle_close(ch);
  return 0;
}

// ---- The victim ---------------------------------------------------------------------------------

std::atomic<uint32_t> g_service_counter{0};

class HostilePortTest : public mx_test::MultiprocessTest {
 protected:
  // Starts the flooder and accepts its connection: hostile_ is the victim's end.
  void StartFlooder(const std::vector<std::string>& mode = {"signals"}) {
    const std::string service = "@libmx-hostile-port-" + std::to_string(getpid()) + "-" +
                                std::to_string(g_service_counter++);
    mx_handle_t listener, remote, process;
    ASSERT_EQ(mx_service_listen(service.c_str(), 0, &listener), MX_OK);
    ASSERT_EQ(mx_channel_create(0, &flood_ctl_, &remote), MX_OK);
    std::vector<std::string> args = mode;
    args.insert(args.begin() + 1, service);
    ASSERT_EQ(mx_test::SpawnChild("port_flooder", {{PA_HND(PA_USER0, 0), remote}}, args, &process),
              MX_OK);
    flooder_ = mx_test::ScopedProcess(process);
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
        MX_OK);
    ASSERT_EQ(mx_service_accept(listener, &hostile_), MX_OK);
    mx_handle_close(listener);
  }

  // Tells the flooder to start and waits until it does.
  void StartFlood() {
    ASSERT_EQ(mx_test::WriteMessage(flood_ctl_, "go", 2), MX_OK);
    mx_test::Message on;
    ASSERT_EQ(mx_test::ReadMessage(flood_ctl_, &on), MX_OK);
  }

  FloodReport StopFlood() {
    FloodReport report = {};
    EXPECT_EQ(mx_test::WriteMessage(flood_ctl_, "stop", 4), MX_OK);
    EXPECT_EQ(mx_test::ReadPod(flood_ctl_, &report), MX_OK);
    return report;
  }

  void StartEcho() {
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &benign_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("port_echo", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
              MX_OK);
    echo_ = mx_test::ScopedProcess(process);
  }

  void TearDown() override {
    for (mx_handle_t* h : {&hostile_, &flood_ctl_, &benign_}) {
      if (*h != MX_HANDLE_INVALID) mx_handle_close(*h);
      *h = MX_HANDLE_INVALID;
    }
    if (flooder_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(flooder_.Join(), 0);
    }
    if (echo_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(echo_.Join(), 0);
    }
    flooder_ = mx_test::ScopedProcess();
    echo_ = mx_test::ScopedProcess();
    mx_test::MultiprocessTest::TearDown();
  }

  mx_handle_t hostile_ = MX_HANDLE_INVALID;
  mx_handle_t flood_ctl_ = MX_HANDLE_INVALID;
  mx_handle_t benign_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess flooder_;
  mx_test::ScopedProcess echo_;
};

// A server thread waits on the port and spends its time evaluating the flooded channel; the
// port's lock must stay free meanwhile: queueing a packet, arming a wait on another object and
// cancelling it by closing its handle all return at once.
TEST_F(HostilePortTest, FloodedChannelNeverHoldsThePortLock) {
  ASSERT_NO_FATAL_FAILURE(StartFlooder());
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(hostile_, port, 1, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                 MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> user_packets{0};
  std::thread server([&] {
    while (!stop.load()) {
      mx_port_packet_t p;
      if (mx_port_wait(port, mx_deadline_after(MX_MSEC(100)), &p, 0) == MX_OK &&
          p.type == MX_PKT_TYPE_USER) {
        ++user_packets;
      }
    }
  });
  ASSERT_NO_FATAL_FAILURE(StartFlood());

  // Samples the port lock over two seconds of flood: a round every 100 ms.
  constexpr int kOps = 20;
  mx_duration_t worst = 0, total = 0;
  int rounds = 0;
  for (int i = 0; i < kOps; ++i) {
    mx_nanosleep(mx_deadline_after(MX_MSEC(100)));
    const mx_time_t t0 = Now();
    mx_port_packet_t packet = {};
    packet.key = 1000 + static_cast<uint64_t>(i);
    EXPECT_EQ(mx_port_queue(port, &packet, 0), MX_OK);
    mx_handle_t event;
    ASSERT_EQ(mx_event_create(0, &event), MX_OK);
    EXPECT_EQ(mx_object_wait_async(event, port, 2000 + static_cast<uint64_t>(i), MX_EVENT_SIGNALED,
                                   MX_WAIT_ASYNC_ONCE),
              MX_OK);
    EXPECT_EQ(mx_handle_close(event), MX_OK);
    const mx_duration_t took = Now() - t0;
    worst = std::max(worst, took);
    total += took;
    ++rounds;
    if (took >= kBound) break;  // the rest would tell nothing new
  }
  const FloodReport flood = StopFlood();
  stop = true;
  server.join();
  // The user packets the server did not take yet are still queued.
  mx_port_packet_t p;
  while (mx_port_wait(port, 0, &p, 0) == MX_OK) {
    if (p.type == MX_PKT_TYPE_USER) ++user_packets;
  }
  printf(
      "[attack] signal flood vs the port lock: queue+arm+cancel worst %.1f ms, mean %.2f ms "
      "over %d rounds; flood %llu frames in %.1f s; %llu of %d user packets delivered\n",
      Ms(worst), Ms(total) / rounds, rounds, static_cast<unsigned long long>(flood.frames),
      static_cast<double>(flood.elapsed_ns) / 1e9,
      static_cast<unsigned long long>(user_packets.load()), rounds);
  EXPECT_LT(worst, kBound) << "a port call waited for the flooded channel's evaluation";
  EXPECT_EQ(user_packets.load(), static_cast<uint64_t>(rounds));
  mx_handle_close(port);
}

// One thread serves a port with a flooded channel and a well-behaved one (a child echoes pings).
// Every ping's answer arrives as a packet within the loose bound, and every mx_port_wait with a
// 100 ms deadline comes back within it. This needs both halves of the defence: the port's (one
// bounded evaluation per registration in turn, the deadline checked between evaluations) and
// the channel's (one signal query pumps a bounded number of frames).
TEST_F(HostilePortTest, SignalFloodDelaysNeitherDeadlinesNorOtherChannels) {
  ASSERT_NO_FATAL_FAILURE(StartFlooder());
  ASSERT_NO_FATAL_FAILURE(StartEcho());
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(hostile_, port, 1, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                 MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  ASSERT_EQ(mx_object_wait_async(benign_, port, 2, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                 MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  ASSERT_NO_FATAL_FAILURE(StartFlood());

  constexpr int kPings = 10;
  std::vector<mx_duration_t> ping_latency;
  mx_duration_t worst_late = 0;
  int waits = 0, timeouts = 0;
  const mx_time_t give_up = Now() + MX_SEC(60);
  for (int i = 0; i < kPings && Now() < give_up; ++i) {
    const mx_time_t sent = Now();
    ASSERT_EQ(mx_test::WriteMessage(benign_, "ping", 4), MX_OK);
    bool answered = false;
    while (!answered && Now() < give_up) {
      const mx_time_t deadline = mx_deadline_after(MX_MSEC(100));
      mx_port_packet_t p;
      const mx_status_t st = mx_port_wait(port, deadline, &p, 0);
      const mx_time_t back = Now();
      ++waits;
      if (st == MX_ERR_TIMED_OUT) {
        ++timeouts;
        worst_late = std::max(worst_late, back - deadline);
        continue;
      }
      ASSERT_EQ(st, MX_OK);
      if (p.key != 2) continue;
      char buf[8];
      uint32_t nb = 0;
      while (mx_channel_read(benign_, 0, buf, nullptr, sizeof(buf), 0, &nb, nullptr) == MX_OK) {
        answered = true;
      }
      if (answered) ping_latency.push_back(back - sent);
    }
  }
  // Then waits with nothing to deliver: each must time out, close to its deadline.
  for (int i = 0; i < 5 && Now() < give_up; ++i) {
    const mx_time_t deadline = mx_deadline_after(MX_MSEC(100));
    mx_port_packet_t p;
    const mx_status_t st = mx_port_wait(port, deadline, &p, 0);
    ++waits;
    if (st == MX_ERR_TIMED_OUT) {
      ++timeouts;
      worst_late = std::max(worst_late, Now() - deadline);
    } else {
      EXPECT_EQ(st, MX_OK);
      EXPECT_NE(p.key, 1u) << "the flooded channel fired without a message";
    }
  }
  const FloodReport flood = StopFlood();
  std::sort(ping_latency.begin(), ping_latency.end());
  const mx_duration_t median = ping_latency.empty() ? 0 : ping_latency[ping_latency.size() / 2];
  const mx_duration_t worst = ping_latency.empty() ? 0 : ping_latency.back();
  printf(
      "[attack] signal flood vs one port thread: %zu of %d pings answered, latency median "
      "%.1f ms, worst %.1f ms; %d port waits (%d timed out), worst %.1f ms past a 100 ms "
      "deadline; flood %llu frames in %.1f s\n",
      ping_latency.size(), kPings, Ms(median), Ms(worst), waits, timeouts, Ms(worst_late),
      static_cast<unsigned long long>(flood.frames), static_cast<double>(flood.elapsed_ns) / 1e9);
  EXPECT_EQ(ping_latency.size(), static_cast<size_t>(kPings));
  EXPECT_LT(worst, kBound) << "the benign channel waited behind the flooded one";
  EXPECT_LT(worst_late, kBound) << "mx_port_wait overran its deadline";
  mx_handle_close(port);
}

// A message queued behind a backlog of control frames that change nothing (more than one
// evaluation pumps) still produces its packet: a registration whose object has frames left to
// pump must be looked at again although no new edge comes from the socket.
TEST_F(HostilePortTest, MessageBehindAControlFrameBacklogStillFires) {
  constexpr int kNoops = 4096;
  ASSERT_NO_FATAL_FAILURE(StartFlooder({"backlog", std::to_string(kNoops)}));
  ASSERT_NO_FATAL_FAILURE(StartFlood());
  mx_test::Message sent;
  ASSERT_EQ(mx_test::ReadMessage(flood_ctl_, &sent), MX_OK);
  if (std::string(sent.bytes.begin(), sent.bytes.end()) == "full") {
    const FloodReport flood = StopFlood();
    GTEST_SKIP() << "the kernel queues only " << flood.frames << " frames on a socket here, "
                 << "fewer than the " << kNoops << " this test needs (net.core.wmem_max)";
  }
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  const mx_time_t t0 = Now();
  ASSERT_EQ(mx_object_wait_async(hostile_, port, 1, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_ONCE),
            MX_OK);
  mx_port_packet_t p = {};
  const mx_status_t st = mx_port_wait(port, mx_deadline_after(MX_SEC(10)), &p, 0);
  const mx_time_t t1 = Now();
  const FloodReport flood = StopFlood();
  printf("[attack] %llu no-op control frames ahead of a message: port wait %s after %.1f ms\n",
         static_cast<unsigned long long>(flood.frames - 1), mx_test::StatusName(st), Ms(t1 - t0));
  ASSERT_EQ(st, MX_OK) << "the message never produced its packet";
  EXPECT_EQ(p.key, 1u);
  EXPECT_TRUE(p.signal.observed & MX_CHANNEL_READABLE);
  uint64_t v = 1;
  uint32_t nb = 0;
  EXPECT_EQ(mx_channel_read(hostile_, 0, &v, nullptr, sizeof(v), 0, &nb, nullptr), MX_OK);
  EXPECT_EQ(v, 0u);
  mx_handle_close(port);
}

// Sanitizer allocators keep freed memory (quarantine, shadow pages): the resident set then grows
// with every message allocated and freed, whatever the port keeps.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kResidentSetTellsHeldMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kResidentSetTellsHeldMemory = false;
#else
constexpr bool kResidentSetTellsHeldMemory = true;
#endif
#else
constexpr bool kResidentSetTellsHeldMemory = true;
#endif

// This process's resident set, from /proc/self/status (kB).
long ResidentKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// A server that reads an armed channel directly (as servers do after a packet: read until
// SHOULD_WAIT) while the peer keeps sending: every message delivered and every message read
// changes the channel's signals and tells the port. The port's pending work must stay one entry
// per registration, however many messages went by before the next mx_port_wait. The peer sends
// raw data frames on the socket (no shared-memory ring), the path every message takes when it
// carries handles.
TEST_F(HostilePortTest, ReadingAnArmedChannelDirectlyKeepsPortWorkBounded) {
  constexpr uint64_t kMessages = 300000;
  ASSERT_NO_FATAL_FAILURE(StartFlooder({"data", std::to_string(kMessages)}));
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(hostile_, port, 7, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  const long rss_before = ResidentKb();
  ASSERT_NO_FATAL_FAILURE(StartFlood());
  const mx_time_t t0 = Now();
  uint64_t read = 0;
  while (read < kMessages) {
    uint64_t v = 0;
    uint32_t nb = 0;
    mx_status_t st = mx_channel_read(hostile_, 0, &v, nullptr, sizeof(v), 0, &nb, nullptr);
    if (st == MX_OK) {
      ASSERT_EQ(v, read);
      ++read;
      continue;
    }
    ASSERT_EQ(st, MX_ERR_SHOULD_WAIT);
    ASSERT_EQ(
        mx_object_wait_one(hostile_, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr),
        MX_OK);
  }
  const mx_time_t t1 = Now();
  const long rss_after = ResidentKb();
  // The next wait looks at everything that piled up.
  mx_port_packet_t p;
  const mx_status_t st = mx_port_wait(port, 0, &p, 0);
  const mx_time_t t2 = Now();
  EXPECT_TRUE(st == MX_OK || st == MX_ERR_TIMED_OUT) << mx_test::StatusName(st);
  const FloodReport flood = StopFlood();
  printf(
      "[attack] direct reads under a REPEATING wait: %llu messages (%llu frames sent) read "
      "in %.2f s, resident set grew %ld kB, the next mx_port_wait took %.2f ms\n",
      static_cast<unsigned long long>(read), static_cast<unsigned long long>(flood.frames),
      static_cast<double>(t1 - t0) / 1e9, rss_after - rss_before, Ms(t2 - t1));
  // An entry per change would cost 16 bytes per message: 4.8 MB for 300,000 messages. Allow
  // 2 MB for everything else.
  if (kResidentSetTellsHeldMemory) {
    EXPECT_LT(rss_after - rss_before, 2 * 1024) << "the port's pending work grew with the reads";
  } else {
    printf(
        "[attack] (resident set not checked: a sanitizer's allocator holds freed memory; "
        "PortUnitTest.DirtyListHoldsEachRegistrationOnce counts the entries)\n");
  }
  mx_handle_close(port);
}

}  // namespace
