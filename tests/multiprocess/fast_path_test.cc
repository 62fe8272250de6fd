// SPDX-License-Identifier: BSD-3-Clause
// The shared-memory data path (docs/design.md, "The shared-memory data path"), between real
// processes: order across ring and socket, a hostile peer scribbling on the shared ring, a
// blocked wait that costs no CPU, and peer death seen by a spinning call.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/ring_layout.h"

namespace {

using mx_test::kRingHeaderBytes;
using mx_test::RingHeader;

// The channel ring of this process whose first record (at the front of the data area) carries
// |first| (there is one ring per direction that carried messages). Found among the process's
// mappings: the writer keeps no fd of its ring, only the mapping. The mapping is libmx's own:
// written through, never unmapped here.
RingHeader* MapRingStartingWith(const void* first, size_t first_len, size_t* size_out) {
  FILE* maps = fopen("/proc/self/maps", "re");
  CHILD_CHECK(maps != nullptr);
  RingHeader* found = nullptr;
  int count = 0;
  char line[512];
  while (fgets(line, sizeof(line), maps) != nullptr) {
    if (strstr(line, "mx-channel-ring") == nullptr) continue;
    unsigned long start = 0, end = 0;
    CHILD_CHECK(sscanf(line, "%lx-%lx", &start, &end) == 2);
    const uint8_t* record = reinterpret_cast<const uint8_t*>(start) + kRingHeaderBytes;
    uint32_t len = 0;
    memcpy(&len, record + 8, sizeof(len));
    if (len == first_len && memcmp(record + 16, first, first_len) == 0) {
      found = reinterpret_cast<RingHeader*>(start);
      *size_out = static_cast<size_t>(end - start);
      ++count;
    }
  }
  fclose(maps);
  CHILD_CHECK_EQ(count, 1);
  return found;
}

// A direction's ring is set up after its first few messages (channel_endpoint.cc,
// kRingAfterMessages); tests that need the ring send this many first.
constexpr uint32_t kWarmUpMessages = 8;

uint32_t ReadU32(mx_handle_t ch) {
  uint32_t v = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &v));
  return v;
}

// PA_USER0: the channel under attack (we write its ring). PA_USER1: a control channel.
// args[0]: what to do to the ring.
MX_CHILD(ring_vandal) {
  mx_handle_t victim = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t control = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  const std::string how = args.at(0);
  for (uint32_t i = 0; i < kWarmUpMessages; ++i) CHILD_CHECK_OK(mx_test::WritePod(victim, i));
  const char first[] = "first";  // the ring's first record
  CHILD_CHECK_OK(mx_test::WriteMessage(victim, first, sizeof(first)));
  CHILD_CHECK_EQ(ReadU32(control), 1u);  // the parent read "first"
  size_t size = 0;
  RingHeader* h = MapRingStartingWith(first, sizeof(first), &size);
  uint8_t* data = reinterpret_cast<uint8_t*>(h) + kRingHeaderBytes;
  const uint64_t capacity = size - kRingHeaderBytes;
  if (how == "head_past_capacity") {
    h->head.store(h->tail.load() + 10 * capacity);
  } else if (how == "oversized_record") {
    uint64_t head = h->head.load();
    uint64_t rec[2] = {7, (uint64_t{1} << 30)};  // seq 7, len 1 GiB, no flags
    memcpy(data + head % capacity, rec, sizeof(rec));
    h->head.store(head + 16);
  } else if (how == "random_bytes") {
    // Garbage everywhere in the data area, and a head that claims 4 KiB of it.
    std::mt19937 rng(1234);
    for (size_t i = 0; i < capacity; i += 4) {
      uint32_t v = rng();
      memcpy(data + i, &v, 4);
    }
    h->head.store(h->tail.load() + 4096);
  } else if (how == "wrong_sequence") {
    uint64_t head = h->head.load();
    uint64_t rec[2] = {0, 0};  // seq 0 again, an empty record
    memcpy(data + head % capacity, rec, sizeof(rec));
    h->head.store(head + 16);
  } else {
    CHILD_CHECK(false);
  }
  CHILD_CHECK_OK(mx_test::WritePod(control, uint32_t{2}));  // done
  CHILD_CHECK_EQ(ReadU32(control), 3u);                     // the parent is finished
  mx_handle_close(victim);
  mx_handle_close(control);
  return 0;
}

class FastPathTest : public mx_test::MultiprocessTest {};
class RingVandalTest : public mx_test::MultiprocessTest,
                       public testing::WithParamInterface<const char*> {};

TEST_P(RingVandalTest, GarbageInTheRingBreaksOnlyThatChannel) {
  mx_handle_t victim, victim_remote, control, control_remote, bystander_a, bystander_b, process;
  ASSERT_EQ(mx_channel_create(0, &victim, &victim_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &control, &control_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &bystander_a, &bystander_b), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild(
                "ring_vandal",
                {{PA_HND(PA_USER0, 0), victim_remote}, {PA_HND(PA_USER1, 0), control_remote}},
                {GetParam()}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  // A channel in this process with traffic of its own, before and after.
  const char ping[] = "bystander";
  ASSERT_EQ(mx_test::WriteMessage(bystander_a, ping, sizeof(ping)), MX_OK);

  mx_test::Message msg;
  for (uint32_t i = 0; i < kWarmUpMessages; ++i) {
    uint32_t got = 99;
    ASSERT_EQ(mx_test::ReadPod(victim, &got), MX_OK);
    EXPECT_EQ(got, i);
  }
  ASSERT_EQ(mx_test::ReadMessage(victim, &msg), MX_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(msg.bytes.data())), "first");
  ASSERT_EQ(mx_test::WritePod(control, uint32_t{1}), MX_OK);
  uint32_t done = 0;
  ASSERT_EQ(mx_test::ReadPod(control, &done), MX_OK);
  ASSERT_EQ(done, 2u);

  // The victim channel reads as closed by its peer (the child is still alive); no crash.
  mx_signals_t observed = 0;
  ASSERT_EQ(
      mx_object_wait_one(victim, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
      MX_OK);
  uint32_t actual = 0;
  char buf[64];
  EXPECT_EQ(mx_channel_read(victim, 0, buf, nullptr, sizeof(buf), 0, &actual, nullptr),
            MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_channel_write(victim, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);

  // Everything else still works: the bystander and the control channel to the same child.
  ASSERT_EQ(mx_test::ReadMessage(bystander_b, &msg), MX_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(msg.bytes.data())), "bystander");
  ASSERT_EQ(mx_test::WritePod(control, uint32_t{3}), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  for (mx_handle_t h : {victim, control, bystander_a, bystander_b}) {
    EXPECT_EQ(mx_handle_close(h), MX_OK);
  }
}

INSTANTIATE_TEST_SUITE_P(Vandalism, RingVandalTest,
                         testing::Values("head_past_capacity", "oversized_record", "random_bytes",
                                         "wrong_sequence"));

// PA_USER0: a channel the parent writes (the ring is the parent's). The child lies: it claims the
// writer sent 1000 socket frames, and holds the ring's lock as if it were rewinding forever. The
// writer must fall back to the socket; every message still arrives in order. Reports the count on
// PA_USER1.
MX_CHILD(ring_liar) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t control = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  const uint32_t n = static_cast<uint32_t>(atoi(args.at(0).c_str()));
  mx_test::Message msg;
  for (uint32_t i = 0; i <= kWarmUpMessages; ++i) {  // the last one is the ring's first record
    CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
    CHILD_CHECK_EQ(msg.bytes.size(), sizeof(uint32_t));
  }
  size_t size = 0;
  const uint32_t first = kWarmUpMessages;
  RingHeader* h = MapRingStartingWith(&first, sizeof(first), &size);
  h->socket_frames.fetch_add(1000);
  h->busy.store(2);
  CHILD_CHECK_OK(mx_test::WritePod(control, uint32_t{1}));
  uint32_t next = kWarmUpMessages + 1;
  while (next < n) {
    CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
    uint32_t seq = 0;
    CHILD_CHECK_EQ(msg.bytes.size(), sizeof(seq));
    memcpy(&seq, msg.bytes.data(), sizeof(seq));
    CHILD_CHECK_EQ(seq, next);
    ++next;
  }
  CHILD_CHECK_OK(mx_test::WritePod(control, next));
  return 0;
}

TEST_F(FastPathTest, AReaderThatLiesAboutTheRingOnlySlowsItsChannel) {
  mx_handle_t ch, remote, control, control_remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &control, &control_remote), MX_OK);
  constexpr uint32_t kCount = 200;
  ASSERT_EQ(mx_test::SpawnChild(
                "ring_liar", {{PA_HND(PA_USER0, 0), remote}, {PA_HND(PA_USER1, 0), control_remote}},
                {std::to_string(kCount)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  for (uint32_t seq = 0; seq <= kWarmUpMessages; ++seq)
    ASSERT_EQ(mx_test::WritePod(ch, seq), MX_OK);
  uint32_t reply = 0;
  ASSERT_EQ(mx_test::ReadPod(control, &reply), MX_OK);
  ASSERT_EQ(reply, 1u);
  for (uint32_t seq = kWarmUpMessages + 1; seq < kCount; ++seq) {
    ASSERT_EQ(mx_test::WritePod(ch, seq), MX_OK) << "message " << seq;
  }
  ASSERT_EQ(mx_test::ReadPod(control, &reply), MX_OK);
  EXPECT_EQ(reply, kCount);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
  EXPECT_EQ(mx_handle_close(control), MX_OK);
}

// Writes args[0] messages on PA_USER0 without waiting for the reader: random sizes up to 64 KiB,
// every seventh with an event; SHOULD_WAIT → wait for WRITABLE and retry. So messages take the
// ring, the socket (handles; a full ring) and the ring again.
std::vector<uint8_t> MixedPayload(uint32_t seq) {
  std::mt19937 rng(seq);
  size_t len = sizeof(seq) + (rng() % 4 == 0 ? rng() % 65532 : rng() % 200);
  std::vector<uint8_t> bytes(len);
  for (size_t j = 0; j < len; ++j) bytes[j] = mx_test::PatternByte(seq, j);
  memcpy(bytes.data(), &seq, sizeof(seq));
  return bytes;
}

MX_CHILD(mixed_writer) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  const uint32_t n = static_cast<uint32_t>(atoi(args.at(0).c_str()));
  for (uint32_t seq = 0; seq < n; ++seq) {
    std::vector<uint8_t> bytes = MixedPayload(seq);
    std::vector<mx_handle_t> handles;
    if (seq % 7 == 0) {
      mx_handle_t event;
      CHILD_CHECK_OK(mx_event_create(0, &event));
      handles.push_back(event);
    }
    for (;;) {
      mx_status_t st = mx_test::WriteMessage(ch, bytes.data(), bytes.size(), handles);
      if (st == MX_OK) break;
      CHILD_CHECK_EQ(st, MX_ERR_SHOULD_WAIT);
      CHILD_CHECK_OK(
          mx_object_wait_one(ch, MX_CHANNEL_WRITABLE, mx_test::DefaultDeadline(), nullptr));
    }
  }
  return 0;
}

TEST_F(FastPathTest, RingAndSocketMessagesArriveInOneOrder) {
  mx_handle_t ch, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  constexpr uint32_t kCount = 3000;  // about 25 MiB: the writer fills both paths many times
  ASSERT_EQ(mx_test::SpawnChild("mixed_writer", {{PA_HND(PA_USER0, 0), remote}},
                                {std::to_string(kCount)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  // Let the writer run ahead until it is blocked on a full channel.
  ASSERT_EQ(mx_object_wait_one(ch, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  for (uint32_t seq = 0; seq < kCount; ++seq) {
    mx_test::Message msg;
    ASSERT_EQ(mx_test::ReadMessage(ch, &msg), MX_OK) << "message " << seq;
    ASSERT_TRUE(msg.bytes == MixedPayload(seq)) << "message " << seq << " out of order";
    ASSERT_EQ(msg.handles.size(), seq % 7 == 0 ? 1u : 0u) << "message " << seq;
    mx_test::CloseAll(&msg.handles);
  }
  EXPECT_EQ(child.Join(), 0);
  mx_test::Message msg;
  EXPECT_EQ(mx_test::ReadMessage(ch, &msg), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
}

// Writes 10 messages with an event each on PA_USER0 (socket frames), then waits for a word on
// PA_USER1 and exits without reading PA_USER0, where the parent left a message with a handle.
MX_CHILD(write_then_exit_unread) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t control = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  for (uint32_t seq = 0; seq < 10; ++seq) {
    mx_handle_t event;
    CHILD_CHECK_OK(mx_event_create(0, &event));
    CHILD_CHECK_OK(mx_test::WritePod(ch, seq, {event}));
  }
  CHILD_CHECK_EQ(ReadU32(control), 7u);
  return 0;
}

TEST_F(FastPathTest, APeerThatExitsWithOurFramesUnreadLosesNothing) {
  // Linux reports ECONNRESET once to the survivor when a socket closes with unread frames,
  // ahead of the frames the dead peer had sent. They must still be read.
  mx_handle_t ch, remote, control, control_remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &control, &control_remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("write_then_exit_unread",
                          {{PA_HND(PA_USER0, 0), remote}, {PA_HND(PA_USER1, 0), control_remote}},
                          {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_test::WritePod(ch, uint32_t{99}, {event}), MX_OK);  // never read
  ASSERT_EQ(mx_test::WritePod(control, uint32_t{7}), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  for (uint32_t seq = 0; seq < 10; ++seq) {
    uint32_t got = 0;
    std::vector<mx_handle_t> handles;
    ASSERT_EQ(mx_test::ReadPod(ch, &got, &handles), MX_OK) << "message " << seq;
    EXPECT_EQ(got, seq);
    EXPECT_EQ(handles.size(), 1u);
    mx_test::CloseAll(&handles);
  }
  mx_test::Message msg;
  EXPECT_EQ(mx_test::ReadMessage(ch, &msg), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
  EXPECT_EQ(mx_handle_close(control), MX_OK);
}

// Reads args[0] messages on PA_USER0 (so it maps the ring), says so, and waits to be killed.
MX_CHILD(read_then_wait) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  const int n = atoi(args.at(0).c_str());
  for (int i = 0; i < n; ++i) {
    mx_test::Message msg;
    CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
  }
  CHILD_CHECK_OK(mx_test::WritePod(ch, uint32_t{1}));
  mx_object_wait_one(ch, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr);
  return 0;
}

TEST_F(FastPathTest, WritesToAKilledReaderReturnPeerClosedWithinAFewMessages) {
  // A killed reader cannot say so in the ring; the writer asks the kernel every 64th write.
  mx_handle_t ch, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("read_then_wait", {{PA_HND(PA_USER0, 0), remote}}, {"20"}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  for (uint32_t i = 0; i < 20; ++i) ASSERT_EQ(mx_test::WritePod(ch, i), MX_OK);
  uint32_t ready = 0;
  ASSERT_EQ(mx_test::ReadPod(ch, &ready), MX_OK);
  EXPECT_EQ(child.KillAndJoin(), -SIGKILL);
  int ok_writes = 0;
  mx_status_t st = MX_OK;
  while (st == MX_OK && ok_writes < 1000) {
    st = mx_test::WritePod(ch, uint32_t{7});
    if (st == MX_OK) ++ok_writes;
  }
  EXPECT_EQ(st, MX_ERR_PEER_CLOSED);
  EXPECT_LE(ok_writes, 64);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
}

// PA_USER0: the data channel, PA_USER1: control. args[0]: how many messages with a handle the
// parent sends while this reader is armed but not reading. Reads the warm-up, drains the socket
// (no kick left over), then keeps a port's REPEATING wait on the data channel (so the ring says
// "reader waiting" from then on) while the parent overfills the socket; drains everything; then
// waits for one last ring message, which only a kick can announce once this thread has blocked.
MX_CHILD(armed_reader) {
  mx_handle_t data = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t control = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  const int n = atoi(args.at(0).c_str());
  for (uint32_t i = 0; i < kWarmUpMessages + 4; ++i) CHILD_CHECK_EQ(ReadU32(data), i);
  char buf[2048];
  uint32_t nb = 0, nh = 0;
  CHILD_CHECK_EQ(mx_channel_read(data, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh),
                 MX_ERR_SHOULD_WAIT);
  mx_handle_t port;
  CHILD_CHECK_OK(mx_port_create(0, &port));
  CHILD_CHECK_OK(mx_object_wait_async(data, port, 1, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_REPEATING));
  CHILD_CHECK_OK(mx_test::WritePod(control, uint32_t{1}));  // armed
  CHILD_CHECK_EQ(ReadU32(control), 2u);                     // the parent has written them all
  for (int i = 0; i < n; ++i) {
    mx_test::Message msg;
    CHILD_CHECK_OK(mx_test::ReadMessage(data, &msg));
    CHILD_CHECK_EQ(msg.bytes.size(), 1024u);
    CHILD_CHECK_EQ(msg.handles.size(), 1u);
    CHILD_CHECK_EQ(static_cast<int>(msg.bytes[0]), i % 128);
    mx_test::CloseAll(&msg.handles);
  }
  CHILD_CHECK_OK(mx_test::WritePod(control, uint32_t{3}));  // drained
  // Blocks here (after the spin). Before the fix nothing woke it: the kick that the first
  // split message asked for found the socket full, was never sent, and its pending flag
  // stopped every later kick; the wait saw the message only at its deadline (its last look).
  // A wake-up takes microseconds; anything near the deadline is a lost one.
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  CHILD_CHECK_OK(
      mx_object_wait_one(data, MX_CHANNEL_READABLE, mx_deadline_after(MX_SEC(20)), nullptr));
  CHILD_CHECK(mx_time_get(MX_CLOCK_MONOTONIC) - start < MX_SEC(10));
  CHILD_CHECK_EQ(ReadU32(data), 0x1a57u);
  CHILD_CHECK_OK(mx_handle_close(port));
  return 0;
}

TEST_F(FastPathTest, AKickThatMeetsAFullSocketIsNotLost) {
  // Found by the benchmarks (64 KiB streaming: a reader blocked for good with the last message
  // in its ring). Messages with handles fill the socket; once it is full the next ones are
  // split (handles on the socket, payload in the ring), and each ring record asks for a kick
  // for the armed reader. That kick must not be dropped for want of room, nor leave the
  // "kick pending" flag set without a kick in flight.
  constexpr int kMessages = 400;  // the socket holds far fewer 1 KiB datagrams with an fd
  mx_handle_t data, data_remote, control, control_remote, process;
  ASSERT_EQ(mx_channel_create(0, &data, &data_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &control, &control_remote), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild(
                "armed_reader",
                {{PA_HND(PA_USER0, 0), data_remote}, {PA_HND(PA_USER1, 0), control_remote}},
                {std::to_string(kMessages)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  // The socket's first messages, then the ring's.
  for (uint32_t i = 0; i < kWarmUpMessages + 4; ++i) ASSERT_EQ(mx_test::WritePod(data, i), MX_OK);
  uint32_t step = 0;
  ASSERT_EQ(mx_test::ReadPod(control, &step), MX_OK);
  ASSERT_EQ(step, 1u);
  std::vector<uint8_t> payload(1024);
  for (int i = 0; i < kMessages; ++i) {
    payload[0] = static_cast<uint8_t>(i % 128);
    mx_handle_t event;
    ASSERT_EQ(mx_event_create(0, &event), MX_OK);
    ASSERT_EQ(mx_channel_write(data, 0, payload.data(), 1024, &event, 1), MX_OK) << "message " << i;
  }
  ASSERT_EQ(mx_test::WritePod(control, uint32_t{2}), MX_OK);
  ASSERT_EQ(mx_test::ReadPod(control, &step), MX_OK);
  ASSERT_EQ(step, 3u);
  // Give the reader time to block (a reader still spinning would see the message without a
  // kick: the test then passes whether or not kicks are lost, it cannot fail wrongly).
  usleep(300'000);
  ASSERT_EQ(mx_test::WritePod(data, uint32_t{0x1a57}), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(data), MX_OK);
  EXPECT_EQ(mx_handle_close(control), MX_OK);
}

double CpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Sets MX_SPIN_US=args[0] (before any wait reads it), then waits args[1] times 100 ms on a
// channel nothing arrives on, and reports the CPU time the waits used, in microseconds.
MX_CHILD(idle_waiter) {
  setenv("MX_SPIN_US", args.at(0).c_str(), 1);
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t quiet, quiet_peer;
  CHILD_CHECK_OK(mx_channel_create(0, &quiet, &quiet_peer));
  // Give the quiet channel its rings, as a busy channel has.
  for (uint32_t i = 0; i <= kWarmUpMessages; ++i) {
    CHILD_CHECK_OK(mx_channel_write(quiet_peer, 0, "a", 1, nullptr, 0));
    CHILD_CHECK_OK(mx_channel_write(quiet, 0, "b", 1, nullptr, 0));
    char buf[4];
    uint32_t n;
    CHILD_CHECK_OK(mx_channel_read(quiet, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr));
    CHILD_CHECK_OK(mx_channel_read(quiet_peer, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr));
  }
  const int waits = atoi(args.at(1).c_str());
  double start = CpuSeconds();
  for (int i = 0; i < waits; ++i) {
    CHILD_CHECK_EQ(
        mx_object_wait_one(quiet, MX_CHANNEL_READABLE, mx_deadline_after(MX_MSEC(100)), nullptr),
        MX_ERR_TIMED_OUT);
  }
  uint64_t used_us = static_cast<uint64_t>((CpuSeconds() - start) * 1e6);
  CHILD_CHECK_OK(mx_test::WritePod(ch, used_us));
  return 0;
}

uint64_t IdleWaitCpu(const char* spin_us, int waits) {
  mx_handle_t ch, remote, process;
  EXPECT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  EXPECT_EQ(mx_test::SpawnChild("idle_waiter", {{PA_HND(PA_USER0, 0), remote}},
                                {spin_us, std::to_string(waits)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  uint64_t used_us = UINT64_MAX;
  EXPECT_EQ(mx_test::ReadPod(ch, &used_us), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
  return used_us;
}

TEST_F(FastPathTest, ABlockedWaitUsesNoCpuAfterTheSpinBudget) {
  // Ten waits of 100 ms each: 1 s of waiting. Spinning through them would cost about 1 s of
  // CPU; the spin budget (default 100 µs, here also 5 ms) is all a wait may spend.
  const uint64_t default_us = IdleWaitCpu("100", 10);
  EXPECT_LT(default_us, 100'000u) << "10 idle waits used " << default_us << " µs of CPU";
  const uint64_t long_spin_us = IdleWaitCpu("5000", 10);
  EXPECT_LT(long_spin_us, 300'000u) << "10 idle waits used " << long_spin_us << " µs of CPU";
}

// Serves one call and dies (SIGKILL) on the second request, without replying.
MX_CHILD(die_on_second_call) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_test::Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
  CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size()));
  CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
  raise(SIGKILL);
  return 1;
}

TEST_F(FastPathTest, ACallWhosePeerIsKilledFailsWithPeerClosed) {
  mx_handle_t ch, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("die_on_second_call", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  uint32_t request[2] = {1, 0}, reply[2] = {0, 0};
  mx_channel_call_args_t args = {request,         nullptr, reply,         nullptr,
                                 sizeof(request), 0,       sizeof(reply), 0};
  uint32_t bytes = 0, handles = 0;
  mx_status_t read_status = MX_OK;
  ASSERT_EQ(
      mx_channel_call(ch, 0, mx_test::DefaultDeadline(), &args, &bytes, &handles, &read_status),
      MX_OK);
  request[0] = 2;
  EXPECT_EQ(
      mx_channel_call(ch, 0, mx_test::DefaultDeadline(), &args, &bytes, &handles, &read_status),
      MX_ERR_CALL_FAILED);
  EXPECT_EQ(read_status, MX_ERR_PEER_CLOSED);
  EXPECT_EQ(child.Join(), -SIGKILL);
  EXPECT_EQ(mx_handle_close(ch), MX_OK);
}

}  // namespace
