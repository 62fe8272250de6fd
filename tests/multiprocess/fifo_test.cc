// SPDX-License-Identifier: BSD-3-Clause
// Fifos across real processes: a side handed to a child at spawn or through a channel carries
// elements both ways; PEER_CLOSED reaches waits and ports when the child is SIGKILLed; a hostile
// child that scribbles on the shared page (the queue indices, the writers' lock word) breaks the
// pair or makes writes wait, never hangs or crashes the parent. Every test checks that this
// process's fd count is the same before and after (MultiprocessTest).
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/fifo_layout.h"
#include "support/multiprocess.h"

namespace {

constexpr uint32_t kFifoInfo = PA_HND(PA_USER0, 0);
constexpr uint32_t kControlInfo = PA_HND(PA_USER1, 0);
constexpr uint64_t kEnd = ~uint64_t{0};
// 16-byte elements: a tag and a value, as a shared-memory transport's control plane would use.
struct Elem {
  uint64_t tag;
  uint64_t value;
};

class FifoProcessTest : public mx_test::MultiprocessTest {};

// Waits for |signals| on |h| (or PEER_CLOSED); false if the wait failed.
bool WaitFor(mx_handle_t h, mx_signals_t signals, mx_signals_t* observed) {
  return mx_object_wait_one(h, signals | MX_FIFO_PEER_CLOSED, mx_test::DefaultDeadline(),
                            observed) == MX_OK;
}

// Writes all of |elems|, waiting for room. MX_OK or the first error other than SHOULD_WAIT.
mx_status_t WriteAll(mx_handle_t fifo, const Elem* elems, size_t count) {
  while (count > 0) {
    uint32_t n = 0;
    mx_status_t st = mx_fifo_write(fifo, elems, count * sizeof(Elem), &n);
    if (st == MX_ERR_SHOULD_WAIT) {
      mx_signals_t observed = 0;
      if (!WaitFor(fifo, MX_FIFO_WRITABLE, &observed)) return MX_ERR_TIMED_OUT;
      continue;
    }
    if (st != MX_OK) return st;
    elems += n;
    count -= n;
  }
  return MX_OK;
}

// Reads one element, waiting for it.
mx_status_t ReadOne(mx_handle_t fifo, Elem* out) {
  for (;;) {
    uint32_t n = 0;
    mx_status_t st = mx_fifo_read(fifo, out, sizeof(*out), &n);
    if (st != MX_ERR_SHOULD_WAIT) return st;
    mx_signals_t observed = 0;
    if (!WaitFor(fifo, MX_FIFO_READABLE, &observed)) return MX_ERR_TIMED_OUT;
    if ((observed & (MX_FIFO_READABLE | MX_FIFO_PEER_CLOSED)) == MX_FIFO_PEER_CLOSED) {
      return MX_ERR_PEER_CLOSED;
    }
  }
}

// Echoes every element back with value + 1 until the end marker, which it echoes too.
int EchoLoop(mx_handle_t fifo) {
  for (;;) {
    Elem e;
    CHILD_CHECK_OK(ReadOne(fifo, &e));
    if (e.tag != kEnd) ++e.value;
    CHILD_CHECK_OK(WriteAll(fifo, &e, 1));
    if (e.tag == kEnd) break;
  }
  CHILD_CHECK_OK(mx_handle_close(fifo));
  return 0;
}

MX_CHILD(fifo_echo) {
  mx_handle_t fifo = mx_test::TakeStartupHandle(kFifoInfo);
  CHILD_CHECK_EQ(mx_test::BasicInfo(fifo).type, static_cast<uint32_t>(MX_OBJ_TYPE_FIFO));
  return EchoLoop(fifo);
}

// Sends |n| elements through |fifo| (whose peer echoes) in bursts, checks every echo.
void PingPong(mx_handle_t fifo, uint64_t n) {
  std::vector<Elem> burst;
  uint64_t sent = 0, got = 0;
  while (got < n) {
    burst.clear();
    for (int i = 0; i < 5 && sent < n; ++i, ++sent) burst.push_back({sent, sent * 3});
    ASSERT_EQ(WriteAll(fifo, burst.data(), burst.size()), MX_OK);
    while (got < sent) {
      Elem e;
      ASSERT_EQ(ReadOne(fifo, &e), MX_OK);
      ASSERT_EQ(e.tag, got);
      ASSERT_EQ(e.value, got * 3 + 1);
      ++got;
    }
  }
  Elem end = {kEnd, 0};
  ASSERT_EQ(WriteAll(fifo, &end, 1), MX_OK);
  Elem e;
  ASSERT_EQ(ReadOne(fifo, &e), MX_OK);
  EXPECT_EQ(e.tag, kEnd);
}

TEST_F(FifoProcessTest, SideSpawnedIntoAChildCarriesElementsBothWays) {
  mx_handle_t a, b, process;
  ASSERT_EQ(mx_fifo_create(8, sizeof(Elem), 0, &a, &b), MX_OK);
  const mx_koid_t b_koid = mx_test::KoidOf(b);
  ASSERT_EQ(mx_test::SpawnChild("fifo_echo", {{kFifoInfo, b}}, {}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  PingPong(a, 3000);
  EXPECT_EQ(child.Join(), 0);
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(a, MX_FIFO_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(mx_test::BasicInfo(a).related_koid, b_koid);
  Elem e = {1, 1};
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(a, &e, sizeof(e), &n), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// Takes a fifo side from the first message on its control channel, then echoes.
MX_CHILD(fifo_echo_from_channel) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_test::Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(control, &msg));
  CHILD_CHECK_EQ(msg.handles.size(), 1u);
  CHILD_CHECK_OK(mx_handle_close(control));
  return EchoLoop(msg.handles[0]);
}

TEST_F(FifoProcessTest, SideSentThroughAChannelCarriesElementsBothWays) {
  mx_handle_t a, b, c0, c1, process;
  ASSERT_EQ(mx_fifo_create(4, sizeof(Elem), 0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("fifo_echo_from_channel", {{kControlInfo, c1}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  // Elements written before the side travels wait for it in the shared queue.
  Elem first = {0, 0};
  uint32_t n = 0;
  ASSERT_EQ(mx_fifo_write(a, &first, sizeof(first), &n), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(c0, "fifo", 4, {b}), MX_OK);
  Elem e;
  ASSERT_EQ(ReadOne(a, &e), MX_OK);
  EXPECT_EQ(e.value, 1u);
  Elem end = {kEnd, 0};
  ASSERT_EQ(WriteAll(a, &end, 1), MX_OK);
  ASSERT_EQ(ReadOne(a, &e), MX_OK);
  EXPECT_EQ(e.tag, kEnd);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// Writes one element to say it holds the side, then waits to be killed.
MX_CHILD(fifo_hold) {
  mx_handle_t fifo = mx_test::TakeStartupHandle(kFifoInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  // 16 bytes: one element of a 16-byte fifo, two of an 8-byte one.
  const uint64_t ready[2] = {1, 1};
  uint32_t n = 0;
  CHILD_CHECK_OK(mx_fifo_write(fifo, ready, sizeof(ready), &n));
  mx_signals_t observed = 0;
  mx_object_wait_one(control, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(MX_SEC(120)), &observed);
  return 0;
}

TEST_F(FifoProcessTest, SigkillOfTheOnlyHolderIsPeerClosedForWaitsPortsAndWrites) {
  mx_handle_t a, b, c0, c1, process, port;
  ASSERT_EQ(mx_fifo_create(4, sizeof(Elem), 0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("fifo_hold", {{kFifoInfo, b}, {kControlInfo, c1}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Elem e;
  ASSERT_EQ(ReadOne(a, &e), MX_OK);
  ASSERT_EQ(mx_port_create(0, &port), MX_OK);
  ASSERT_EQ(mx_object_wait_async(a, port, 5, MX_FIFO_PEER_CLOSED, MX_WAIT_ASYNC_ONCE), MX_OK);
  // A thread blocks in a wait before the kill.
  std::atomic<mx_status_t> waited{MX_ERR_INTERNAL};
  std::atomic<mx_signals_t> seen{0};
  std::thread waiter([&] {
    mx_signals_t observed = 0;
    waited = mx_object_wait_one(a, MX_FIFO_PEER_CLOSED, mx_test::DefaultDeadline(), &observed);
    seen = observed;
  });
  EXPECT_NE(child.KillAndJoin(), 0);
  waiter.join();
  EXPECT_EQ(waited.load(), MX_OK);
  EXPECT_TRUE(seen.load() & MX_FIFO_PEER_CLOSED);
  // |observed| gathers what the wait saw (WRITABLE before the kill); now it is gone.
  EXPECT_EQ(mx_test::PendingSignals(a) & (MX_FIFO_WRITABLE | MX_FIFO_PEER_CLOSED),
            MX_FIFO_PEER_CLOSED);
  mx_port_packet_t packet = {};
  ASSERT_EQ(mx_port_wait(port, mx_test::DefaultDeadline(), &packet, 0), MX_OK);
  EXPECT_EQ(packet.key, 5u);
  EXPECT_TRUE(packet.signal.observed & MX_FIFO_PEER_CLOSED);
  // Writes learn it at once: this process's waits saw the hang-up.
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(a, &e, sizeof(e), &n), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST_F(FifoProcessTest, WritesIntoAKilledReaderStopWithinTheKernelCheckInterval) {
  mx_handle_t a, b, c0, c1, process;
  ASSERT_EQ(mx_fifo_create(256, 8, 0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("fifo_hold", {{kFifoInfo, b}, {kControlInfo, c1}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  uint64_t ready[2];
  uint32_t n = 0;
  mx_signals_t observed = 0;
  ASSERT_TRUE(WaitFor(a, MX_FIFO_READABLE, &observed));
  ASSERT_EQ(mx_fifo_read(a, ready, sizeof(ready), &n), MX_OK);  // the child's 16-byte "ready"
  EXPECT_NE(child.KillAndJoin(), 0);
  // No wait here: only the writes' own look at the kernel can tell.
  int ok = 0;
  mx_status_t st = MX_OK;
  uint64_t v = 0;
  while ((st = mx_fifo_write(a, &v, 8, &n)) == MX_OK) ++ok;
  EXPECT_EQ(st, MX_ERR_PEER_CLOSED);
  EXPECT_LE(ok, 64);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// ---- A hostile peer ----------------------------------------------------------------------------

// This process's mapping of the fifo page (it holds one side only), as libmx mapped it.
mx_test::FifoPageMirror* FindFifoPage() {
  FILE* maps = fopen("/proc/self/maps", "re");
  CHILD_CHECK(maps != nullptr);
  mx_test::FifoPageMirror* found = nullptr;
  int count = 0;
  char line[512];
  while (fgets(line, sizeof(line), maps) != nullptr) {
    if (strstr(line, mx_test::kFifoMemfdName) == nullptr) continue;
    unsigned long start = 0, end = 0;
    CHILD_CHECK(sscanf(line, "%lx-%lx", &start, &end) == 2);
    found = reinterpret_cast<mx_test::FifoPageMirror*>(start);
    ++count;
  }
  fclose(maps);
  CHILD_CHECK_EQ(count, 1);
  return found;
}

// Holds side 1 and corrupts the page as args[0] says, reports "done" on the control channel,
// then waits for the parent to close it.
MX_CHILD(fifo_scribble) {
  mx_handle_t fifo = mx_test::TakeStartupHandle(kFifoInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  CHILD_CHECK_EQ(args.size(), 1u);
  mx_test::FifoPageMirror* page = FindFifoPage();
  CHILD_CHECK_EQ(page->version, mx_test::kFifoVersion);
  if (args[0] == "head") {
    // The queue the parent reads claims far more elements than it has slots.
    page->queue[1].head.store(page->queue[1].tail.load() + 1000);
  } else if (args[0] == "tail") {
    // The queue the parent writes: its tail moved past its head.
    page->queue[0].tail.store(page->queue[0].head.load() + 7);
  } else if (args[0] == "lock") {
    page->queue[0].write_lock.store(1);  // held forever
  } else if (args[0] == "shape") {
    page->elem_size = 4096;  // the parent validated its copy when the side arrived
    page->elem_count = 4096;
  }
  CHILD_CHECK_OK(mx_test::WriteMessage(control, "done", 4));
  mx_signals_t observed = 0;
  CHILD_CHECK_OK(
      mx_object_wait_one(control, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &observed));
  CHILD_CHECK_OK(mx_handle_close(fifo));
  return 0;
}

struct Scribbled {
  mx_handle_t a = MX_HANDLE_INVALID;
  mx_handle_t control = MX_HANDLE_INVALID;
  mx_test::ScopedProcess child;
};

void StartScribbler(const char* how, uint32_t elem_size, Scribbled* s) {
  mx_handle_t b, c1, process;
  ASSERT_EQ(mx_fifo_create(4, elem_size, 0, &s->a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &s->control, &c1), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("fifo_scribble", {{kFifoInfo, b}, {kControlInfo, c1}}, {how}, &process),
      MX_OK);
  s->child = mx_test::ScopedProcess(process);
  mx_test::Message msg;
  ASSERT_EQ(mx_test::ReadMessage(s->control, &msg), MX_OK);
}

void FinishScribbler(Scribbled* s) {
  EXPECT_EQ(mx_handle_close(s->control), MX_OK);
  EXPECT_EQ(s->child.Join(), 0);
  EXPECT_EQ(mx_handle_close(s->a), MX_OK);
}

TEST_F(FifoProcessTest, ImpossibleIndicesInTheQueueWeReadBreakThePair) {
  Scribbled s;
  ASSERT_NO_FATAL_FAILURE(StartScribbler("head", 8, &s));
  uint64_t buf[4];
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_read(s.a, buf, sizeof(buf), &n), MX_ERR_PEER_CLOSED);
  mx_signals_t observed = 0;
  // A wait for READABLE ends (with PEER_CLOSED), it does not block on the lie.
  ASSERT_EQ(mx_object_wait_one(s.a, MX_FIFO_READABLE | MX_FIFO_PEER_CLOSED,
                               mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(observed & (MX_FIFO_READABLE | MX_FIFO_PEER_CLOSED), MX_FIFO_PEER_CLOSED);
  EXPECT_EQ(mx_fifo_write(s.a, buf, 8, &n), MX_ERR_PEER_CLOSED);
  FinishScribbler(&s);
}

TEST_F(FifoProcessTest, ImpossibleIndicesInTheQueueWeWriteBreakThePair) {
  Scribbled s;
  ASSERT_NO_FATAL_FAILURE(StartScribbler("tail", 8, &s));
  uint64_t v = 1;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(s.a, &v, 8, &n), MX_ERR_PEER_CLOSED);
  EXPECT_TRUE(mx_test::PendingSignals(s.a) & MX_FIFO_PEER_CLOSED);
  FinishScribbler(&s);
}

TEST_F(FifoProcessTest, AWriteLockHeldByAPeerIsShouldWaitNotAHang) {
  Scribbled s;
  ASSERT_NO_FATAL_FAILURE(StartScribbler("lock", 8, &s));
  uint64_t v = 1;
  uint32_t n = 0;
  EXPECT_EQ(mx_fifo_write(s.a, &v, 8, &n), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_handle_close(s.control), MX_OK);
  s.control = MX_HANDLE_INVALID;
  EXPECT_EQ(s.child.Join(), 0);
  // Once the peer is gone the held lock is PEER_CLOSED, like any write.
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(s.a, MX_FIFO_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(mx_fifo_write(s.a, &v, 8, &n), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(s.a), MX_OK);
}

TEST_F(FifoProcessTest, AShapeChangedAfterTheSideArrivedIsIgnored) {
  Scribbled s;
  ASSERT_NO_FATAL_FAILURE(StartScribbler("shape", 8, &s));
  uint64_t out[4] = {1, 2, 3, 4}, in[8] = {};
  uint32_t n = 0;
  ASSERT_EQ(mx_fifo_write(s.a, out, sizeof(out), &n), MX_OK);
  EXPECT_EQ(n, 4u);  // still 4 slots of 8 bytes
  EXPECT_EQ(mx_fifo_write(s.a, out, 8, &n), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_fifo_read(s.a, in, sizeof(in), &n), MX_ERR_SHOULD_WAIT);
  FinishScribbler(&s);
}

}  // namespace
