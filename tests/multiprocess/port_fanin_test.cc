// SPDX-License-Identifier: BSD-3-Clause
// One server thread on a port, many client processes calling it: every request arrives exactly
// once and in order per channel, whether the port is busy (it polls the rings of the channels it
// is serving instead of being woken for each message) or idle (it sleeps, and the clients' next
// messages wake it); clients killed in the middle of calls end their channels with PEER_CLOSED
// and cost the others nothing.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>

#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "support/multiprocess.h"

namespace {

// A request names its client (process and channel) and its number on that channel.
struct Request {
  uint32_t txid;  // mx_channel_call's, first
  uint32_t client;
  uint32_t channel;
  uint32_t seq;
};

// args: client number, channels, calls per channel (0: call until killed), pause every so many
// calls (0: never). One thread per channel (PA_USER0 + i) calls back to back; every reply must
// echo its request.
MX_CHILD(port_fanin_client) {
  CHILD_CHECK_EQ(args.size(), 4u);
  const uint32_t client = static_cast<uint32_t>(std::stoul(args[0]));
  const uint32_t channels = static_cast<uint32_t>(std::stoul(args[1]));
  const uint32_t calls = static_cast<uint32_t>(std::stoul(args[2]));
  const uint32_t pause_every = static_cast<uint32_t>(std::stoul(args[3]));
  std::vector<mx_handle_t> ends;
  for (uint32_t i = 0; i < channels; ++i)
    ends.push_back(mx_test::TakeStartupHandle(PA_HND(PA_USER0, i)));
  std::vector<std::thread> threads;
  std::vector<int> failed(channels, 0);
  for (uint32_t i = 0; i < channels; ++i) {
    threads.emplace_back([&, i] {
      for (uint32_t seq = 0; calls == 0 || seq < calls; ++seq) {
        Request req = {0, client, i, seq};
        Request rep = {};
        mx_channel_call_args_t a = {&req, nullptr, &rep, nullptr, sizeof(req), 0, sizeof(rep), 0};
        uint32_t bytes = 0, handles = 0;
        mx_status_t read_status = MX_OK;
        mx_status_t st = mx_channel_call(ends[i], 0, mx_test::DefaultDeadline(), &a, &bytes,
                                         &handles, &read_status);
        if (st != MX_OK || bytes != sizeof(rep) || rep.client != client || rep.channel != i ||
            rep.seq != seq) {
          failed[i] = 1;
          return;
        }
        // Now and then the port runs out of work and sleeps: the next request must wake it.
        if (pause_every != 0 && seq % pause_every == pause_every - 1) {
          mx_nanosleep(mx_deadline_after(MX_MSEC(2)));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  mx_test::CloseAll(&ends);
  for (int f : failed) CHILD_CHECK_EQ(f, 0);
  return 0;
}

using PortFanInTest = mx_test::MultiprocessTest;

TEST_F(PortFanInTest, EveryRequestArrivesOnceInOrderWhileClientsAreKilledMidCall) {
  constexpr uint32_t kClients = 8;   // finish their calls and exit 0
  constexpr uint32_t kVictims = 3;   // call until they are killed
  constexpr uint32_t kChannels = 4;  // per client process, one thread each
  constexpr uint32_t kCalls = 300;   // per channel of a client
  constexpr uint32_t kPauseEvery = 50;
  mx_handle_t port;
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  struct Served {
    uint32_t client;
    uint32_t channel;
    uint32_t next_seq = 0;
    bool closed = false;
  };
  std::vector<mx_handle_t> ends;
  std::vector<Served> served;
  std::vector<mx_test::ScopedProcess> procs;
  for (uint32_t c = 0; c < kClients + kVictims; ++c) {
    std::vector<mx_spawn_handle_t> handles;
    for (uint32_t i = 0; i < kChannels; ++i) {
      mx_handle_t mine, theirs;
      ASSERT_EQ(mx_channel_create(0, &mine, &theirs), MX_OK);
      ASSERT_EQ(mx_object_wait_async(mine, port, ends.size(),
                                     MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                     MX_WAIT_ASYNC_REPEATING),
                MX_OK);
      ends.push_back(mine);
      served.push_back({c, i});
      handles.push_back({PA_HND(PA_USER0, i), theirs});
    }
    const bool victim = c >= kClients;
    mx_handle_t process;
    ASSERT_EQ(mx_test::SpawnChild(
                  "port_fanin_client", handles,
                  {std::to_string(c), std::to_string(kChannels),
                   std::to_string(victim ? 0 : kCalls), std::to_string(victim ? 0 : kPauseEvery)},
                  &process),
              MX_OK);
    procs.emplace_back(process);
  }

  // Serves until every channel reported PEER_CLOSED; the victims are killed once the others
  // have made a third of their calls, in the middle of their own.
  size_t open = ends.size();
  uint64_t total = 0;
  bool killed = false;
  const uint64_t kill_after = uint64_t{kClients} * kChannels * kCalls / 3;
  while (open > 0) {
    mx_port_packet_t p;
    ASSERT_EQ(mx_port_wait(port, mx_test::DefaultDeadline(), &p, 0), MX_OK)
        << open << " channels still open, " << total << " requests served";
    ASSERT_LT(p.key, ends.size());
    Served& s = served[p.key];
    if (s.closed) continue;  // a packet queued before the last read saw the end
    Request req;
    uint32_t bytes = 0;
    mx_status_t st;
    while ((st = mx_channel_read(ends[p.key], 0, &req, nullptr, sizeof(req), 0, &bytes, nullptr)) ==
           MX_OK) {
      ASSERT_EQ(bytes, sizeof(req));
      ASSERT_EQ(req.client, s.client);
      ASSERT_EQ(req.channel, s.channel);
      ASSERT_EQ(req.seq, s.next_seq) << "lost, duplicated or reordered request";
      ++s.next_seq;
      ++total;
      // A victim may be gone already: its reply then has nowhere to go.
      st = mx_channel_write(ends[p.key], 0, &req, sizeof(req), nullptr, 0);
      ASSERT_TRUE(st == MX_OK || (s.client >= kClients && st == MX_ERR_PEER_CLOSED))
          << mx_test::StatusName(st);
    }
    ASSERT_TRUE(st == MX_ERR_SHOULD_WAIT || st == MX_ERR_PEER_CLOSED) << mx_test::StatusName(st);
    if (st == MX_ERR_PEER_CLOSED) {
      s.closed = true;
      --open;
    }
    if (!killed && total >= kill_after) {
      killed = true;
      for (uint32_t v = kClients; v < kClients + kVictims; ++v) procs[v].KillAndJoin();
    }
  }
  EXPECT_TRUE(killed);
  for (uint32_t c = 0; c < kClients; ++c) EXPECT_EQ(procs[c].Join(), 0) << "client " << c;
  for (const Served& s : served) {
    if (s.client >= kClients) continue;  // a victim made as many calls as it could
    EXPECT_EQ(s.next_seq, kCalls) << "client " << s.client << " channel " << s.channel;
  }
  // Nothing is left over: at most a packet per channel for a change seen before its last read
  // (each channel was already at its end).
  mx_test::CloseAll(&ends);
  size_t extra = 0;
  mx_port_packet_t p;
  while (mx_port_wait(port, 0, &p, 0) == MX_OK) {
    ASSERT_LT(p.key, served.size());
    EXPECT_TRUE(served[p.key].closed);
    ASSERT_LE(++extra, served.size());
  }
  mx_handle_close(port);
}

}  // namespace
