// SPDX-License-Identifier: BSD-3-Clause
// Hostile clients against a rendezvous listener (docs/rendezvous.md, "Limits").
//
// An attacker of another user opens far more connections to a listener than it has slots for
// connections without a Hello, and never sends one. The listener must
//   - keep serving: a legitimate client of another user that connects afterwards is accepted;
//   - not spin: a server's wait/accept loop wakes up only when there is something to do (READABLE
//     means an accept succeeds);
//   - evict the silent connections: the attacker sees every one of them hung up, within about
//     the Hello deadline (1 s) of the server's next look at the listener after that.
// The attacker is a child that drops to nobody, so the test needs root; without it, it skips.
// It prints "[attack] silent rendezvous: ..." with its figures.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr uint32_t kCtl = PA_HND(PA_USER0, 0);
constexpr int kSilentConnections = 300;

struct Connected {
  uint32_t connected;
};

struct Evicted {
  uint32_t hung_up;
  uint32_t elapsed_ms;  // from the last connect until the last hang-up seen
};

struct Served {
  uint32_t ok;
  uint64_t elapsed_ns;
};

int ConnectRaw(const std::string& name) {
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);  // abstract: "@..." → "\0..."
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + name.size());
  if (connect(s, reinterpret_cast<struct sockaddr*>(&addr), len) != 0) {
    close(s);
    return -1;
  }
  return s;
}

// As nobody: opens kSilentConnections connections and never sends a Hello; reports how many it
// made, then how many the listener closed and how long that took (20 s at most).
MX_CHILD(silent_attacker) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(kCtl);
  CHILD_CHECK(args.size() == 1);
  CHILD_CHECK(mx_test::BecomeNobody());
  std::vector<int> conns;
  for (int i = 0; i < kSilentConnections; ++i) {
    int s = ConnectRaw(args[0]);
    if (s >= 0) conns.push_back(s);
  }
  CHILD_CHECK_OK(mx_test::WritePod(ctl, Connected{static_cast<uint32_t>(conns.size())}));
  auto start = std::chrono::steady_clock::now();
  auto until = start + std::chrono::seconds(20);
  std::vector<struct pollfd> p;
  for (int s : conns) p.push_back({s, 0, 0});  // POLLHUP is reported whatever |events| says
  uint32_t hung_up = 0;
  while (hung_up < conns.size() && std::chrono::steady_clock::now() < until) {
    if (poll(p.data(), p.size(), 1000) < 0 && errno != EINTR) break;
    for (auto& e : p) {
      if (e.fd >= 0 && (e.revents & POLLHUP)) {
        e.fd = -1;  // poll() skips it from now on
        ++hung_up;
      }
    }
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  CHILD_CHECK_OK(mx_test::WritePod(ctl, Evicted{hung_up, static_cast<uint32_t>(ms.count())}));
  Message done;
  mx_test::ReadMessage(ctl, &done);
  for (int s : conns) close(s);
  return 0;
}

// A well-behaved client (the test's own uid): connects, sends "ping", waits for "pong".
MX_CHILD(legit_client) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(kCtl);
  CHILD_CHECK(args.size() == 1);
  auto start = std::chrono::steady_clock::now();
  mx_handle_t ch;
  CHILD_CHECK_OK(mx_service_connect(args[0].c_str(), 0, &ch));
  CHILD_CHECK_OK(mx_test::WriteMessage(ch, "ping", 4));
  Message reply;
  mx_status_t st = mx_test::ReadMessage(ch, &reply, mx_deadline_after(MX_SEC(25)));
  Served served = {
      st == MX_OK && reply.bytes.size() == 4 && memcmp(reply.bytes.data(), "pong", 4) == 0,
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count())};
  CHILD_CHECK_OK(mx_test::WritePod(ctl, served));
  mx_handle_close(ch);
  return 0;
}

double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(HostileRendezvousTest, SilentConnectionsOfAnotherUserNeitherStarveNorSpinTheListener) {
  if (!mx_test::CanBecomeAnotherUser()) {
    GTEST_SKIP() << "needs root: the attacker must run as another user (nobody)";
  }
  {
    // The first wait of a thread sets up what it waits with (fds that stay): not ours to count.
    mx_handle_t e;
    ASSERT_EQ(mx_event_create(0, &e), MX_OK);
    mx_object_wait_one(e, MX_EVENT_SIGNALED, 0, nullptr);
    mx_handle_close(e);
  }
  const int fds_before = mx_test::CountOpenFds();
  const std::string name = "@mx-hostile-rendezvous-" + std::to_string(getpid());
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(name.c_str(), 0, &listener), MX_OK);

  mx_handle_t attacker_ctl, b, process;
  ASSERT_EQ(mx_channel_create(0, &attacker_ctl, &b), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("silent_attacker", {{kCtl, b}}, {name}, &process), MX_OK);
  auto attacker = std::make_unique<mx_test::ScopedProcess>(process);
  Connected connected;
  ASSERT_EQ(mx_test::ReadPod(attacker_ctl, &connected), MX_OK);
  EXPECT_EQ(connected.connected, static_cast<uint32_t>(kSilentConnections));

  mx_handle_t client_ctl;
  ASSERT_EQ(mx_channel_create(0, &client_ctl, &b), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("legit_client", {{kCtl, b}}, {name}, &process), MX_OK);
  auto client = std::make_unique<mx_test::ScopedProcess>(process);

  // The server's loop: wait for the listener and both children's reports; accept and answer.
  bool served_reported = false, evicted_reported = false;
  Served served = {};
  Evicted evicted = {};
  uint64_t iterations = 0, accepted = 0, empty_accepts = 0;
  std::vector<mx_handle_t> server_channels;
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  const mx_time_t give_up = mx_deadline_after(MX_SEC(30));
  while ((!served_reported || !evicted_reported) && mx_time_get(MX_CLOCK_MONOTONIC) < give_up) {
    ++iterations;
    // Each child's channel is watched until its report is in (then the child may exit).
    mx_wait_item_t items[3] = {{listener, MX_SERVICE_READABLE, 0}};
    uint32_t count = 1;
    int client_index = -1, attacker_index = -1;
    if (!served_reported) {
      client_index = static_cast<int>(count);
      items[count++] = {client_ctl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0};
    }
    if (!evicted_reported) {
      attacker_index = static_cast<int>(count);
      items[count++] = {attacker_ctl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0};
    }
    mx_status_t st = mx_object_wait_many(items, count, mx_deadline_after(MX_MSEC(250)));
    if (st != MX_OK && st != MX_ERR_TIMED_OUT) {
      ADD_FAILURE() << "wait_many: " << st;
      break;
    }
    if (items[0].pending & MX_SERVICE_READABLE) {
      mx_handle_t ch;
      if (mx_service_accept(listener, &ch) == MX_OK) {
        ++accepted;
        Message ping;
        if (mx_test::ReadMessage(ch, &ping) == MX_OK) mx_test::WriteMessage(ch, "pong", 4);
        server_channels.push_back(ch);
      } else {
        ++empty_accepts;
      }
    }
    const mx_signals_t news = MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED;
    if (client_index >= 0 && (items[client_index].pending & news) != 0) {
      ASSERT_EQ(mx_test::ReadPod(client_ctl, &served), MX_OK);
      served_reported = true;
    }
    if (attacker_index >= 0 && (items[attacker_index].pending & news) != 0) {
      ASSERT_EQ(mx_test::ReadPod(attacker_ctl, &evicted), MX_OK);
      evicted_reported = true;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  printf(
      "[attack] silent rendezvous: %u silent connections of nobody; legit client %s after %.1f ms; "
      "server loop: %llu wake-ups in %.2f s (%.0f/s), %llu accepts, %llu accepts that found "
      "nothing, "
      "%.2f s CPU; attacker saw %u of its connections closed after %u ms\n",
      connected.connected, served.ok ? "served" : "NOT served",
      static_cast<double>(served.elapsed_ns) / 1e6, static_cast<unsigned long long>(iterations),
      seconds, static_cast<double>(iterations) / seconds, static_cast<unsigned long long>(accepted),
      static_cast<unsigned long long>(empty_accepts), cpu, evicted.hung_up, evicted.elapsed_ms);
  EXPECT_TRUE(served_reported && served.ok) << "the legitimate client was not served";
  EXPECT_EQ(accepted, 1u);
  // A loop that spins wakes tens of thousands of times; at one wake-up per 250 ms timeout plus
  // one per event, this one needs a few dozen.
  EXPECT_LT(iterations, 1000u) << "the wait/accept loop spun";
  EXPECT_EQ(evicted.hung_up, connected.connected) << "silent connections were not evicted";

  uint8_t done = 1;
  mx_test::WriteMessage(attacker_ctl, &done, 1);
  EXPECT_EQ(attacker->Join(), 0);
  EXPECT_EQ(client->Join(), 0);
  attacker.reset();
  client.reset();
  for (mx_handle_t h : server_channels) mx_handle_close(h);
  mx_handle_close(attacker_ctl);
  mx_handle_close(client_ctl);
  mx_handle_close(listener);
  EXPECT_EQ(mx_test::CountOpenFds(), fds_before);
}

}  // namespace
