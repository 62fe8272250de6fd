// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for Port (object/port.h): how a port evaluates its registrations. Objects here are
// fakes whose Signals() is as slow, as busy or as blocking as a test needs, standing in for a
// channel whose peer keeps it pumping; tests/multiprocess/hostile_port_test.cc runs the real
// attacks.
//   - no evaluation runs under the port's lock (other threads queue packets meanwhile);
//   - mx_port_wait checks its deadline between evaluations;
//   - a registration that keeps becoming ready waits its turn behind the others;
//   - the dirty list holds each registration once, however many changes happen;
//   - a wait being armed is evaluated by its arming thread only, however soon it changes.
#include "object/port.h"

#include <gtest/gtest.h>
#include <magenta/syscalls.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "object/handle_table.h"

namespace mx::internal {
namespace {

constexpr uint32_t kFakeType = 0x7e570101;

// An object whose Signals() reports |signals_| as loaded before it runs |on_signals| (when set):
// the cost or the blocking of pumping a peer's frames, or a change made while it is looked at.
// |on_wait_sources| runs when a port asks for the fds to watch, which it does while it hooks a
// new registration to the object without the port's lock: a change made there, or a thread
// parked there, lands in the middle of mx_object_wait_async.
class FakeObject final : public Object {
 public:
  FakeObject() : Object(/*koid=*/1) {}
  uint32_t type() const override { return kFakeType; }
  mx_signals_t Signals() override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = on_signals_;
    }
    const mx_signals_t now = signals_.load();
    if (hook) hook();
    evaluations_.fetch_add(1);
    return now;
  }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = on_wait_sources_;
    }
    if (hook) hook();
  }
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_NOT_SUPPORTED; }

  void set_on_signals(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_signals_ = std::move(hook);
  }
  void set_on_wait_sources(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_wait_sources_ = std::move(hook);
  }
  // Sets the signals and tells observers (ports) that they changed.
  void Assert(mx_signals_t s) {
    signals_.store(s);
    NotifySignalsSet(s);
  }
  // Changes the signals without telling anyone (a change made by another process).
  void SetQuietly(mx_signals_t s) { signals_.store(s); }
  // Tells observers without changing anything (what a peer's no-op control frame does).
  void Poke() { NotifySignalsSet(0); }
  int evaluations() const { return evaluations_.load(); }

 private:
  std::mutex mu_;
  std::function<void()> on_signals_;
  std::function<void()> on_wait_sources_;
  std::atomic<mx_signals_t> signals_{0};
  std::atomic<int> evaluations_{0};
};

class PortUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mx_port_create(0, &port_handle_), MX_OK);
    std::shared_ptr<Handle> h;
    ASSERT_EQ(HandleTable::Get().Lookup(port_handle_, 0, MX_OBJ_TYPE_PORT, &h), MX_OK);
    port_ = std::static_pointer_cast<Port>(h->object());
  }
  void TearDown() override {
    for (auto& h : handles_) h->Close();
    mx_handle_close(port_handle_);
  }

  // Arms a wait on a new fake object through a handle of its own.
  std::shared_ptr<FakeObject> Arm(uint64_t key, mx_signals_t trigger, bool repeating) {
    auto object = std::make_shared<FakeObject>();
    auto handle = std::make_shared<Handle>(object, MX_RIGHT_READ);
    handles_.push_back(handle);
    EXPECT_EQ(port_->WaitAsync(handle, key, trigger, repeating), MX_OK);
    return object;
  }

  mx_handle_t port_handle_ = MX_HANDLE_INVALID;
  std::shared_ptr<Port> port_;
  std::vector<std::shared_ptr<Handle>> handles_;
};

mx_duration_t Since(mx_time_t t) { return mx_time_get(MX_CLOCK_MONOTONIC) - t; }

TEST_F(PortUnitTest, EvaluationRunsWithoutThePortLock) {
  auto busy = Arm(1, MX_USER_SIGNAL_0, /*repeating=*/true);
  std::mutex mu;
  std::condition_variable cv;
  bool evaluating = false, queued = false, queued_in_time = false;
  // The evaluation blocks until another thread has queued a packet on the same port (at most
  // 5 s: with the port's lock held during evaluations, that thread could not).
  busy->set_on_signals([&] {
    std::unique_lock<std::mutex> lock(mu);
    evaluating = true;
    cv.notify_all();
    queued_in_time = cv.wait_for(lock, std::chrono::seconds(5), [&] { return queued; });
  });
  std::thread server([&] {
    busy->Poke();
    mx_port_packet_t p;
    EXPECT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_SEC(10)), &p, 0), MX_OK);
    EXPECT_EQ(p.type, MX_PKT_TYPE_USER);
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return evaluating; }));
  }
  mx_port_packet_t packet = {};
  packet.key = 99;
  EXPECT_EQ(mx_port_queue(port_handle_, &packet, 0), MX_OK);
  {
    std::lock_guard<std::mutex> lock(mu);
    queued = true;
  }
  cv.notify_all();
  server.join();
  busy->set_on_signals(nullptr);
  EXPECT_TRUE(queued_in_time) << "mx_port_queue waited for an evaluation to finish";
}

TEST_F(PortUnitTest, WaitChecksItsDeadlineBetweenEvaluations) {
  // 100 registrations, each evaluation 20 ms: 2 s to look at them all.
  constexpr int kObjects = 100;
  std::vector<std::shared_ptr<FakeObject>> objects;
  for (int i = 0; i < kObjects; ++i) objects.push_back(Arm(i, MX_USER_SIGNAL_0, true));
  for (auto& o : objects) {
    o->set_on_signals([] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); });
    o->Poke();
  }
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  mx_port_packet_t p;
  EXPECT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_MSEC(50)), &p, 0), MX_ERR_TIMED_OUT);
  const mx_duration_t took = Since(start);
  int looked = 0;
  for (auto& o : objects) looked += o->evaluations() - 1;  // minus the one at arming
  printf("[port] 100 slow registrations, 50 ms deadline: returned after %.1f ms, %d evaluations\n",
         static_cast<double>(took) / 1e6, looked);
  EXPECT_LT(took, MX_SEC(1)) << "the wait evaluated past its deadline";
  EXPECT_LT(looked, kObjects);
  // The rest are still pending and are looked at by later waits.
  EXPECT_GT(port_->pending_count(), 0u);
  for (auto& o : objects) o->set_on_signals(nullptr);
  while (mx_port_wait(port_handle_, 0, &p, 0) == MX_OK || port_->pending_count() > 0) {
  }
  EXPECT_EQ(port_->pending_count(), 0u);
}

TEST_F(PortUnitTest, RegistrationThatKeepsBecomingReadyWaitsItsTurn) {
  // |busy| marks itself dirty on every evaluation (a peer that never stops sending control
  // frames) and never fires; |quiet| fires once.
  auto busy = Arm(1, MX_USER_SIGNAL_0, true);
  auto quiet = Arm(2, MX_USER_SIGNAL_1, true);
  FakeObject* raw = busy.get();
  busy->set_on_signals([raw] { raw->Poke(); });
  busy->Poke();
  quiet->Assert(MX_USER_SIGNAL_1);
  const int before = busy->evaluations();
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_SEC(10)), &p, 0), MX_OK);
  EXPECT_EQ(p.key, 2u);
  EXPECT_LE(busy->evaluations() - before, 2) << "the busy registration was looked at repeatedly";
  busy->set_on_signals(nullptr);
}

TEST_F(PortUnitTest, DirtyListHoldsEachRegistrationOnce) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_object_wait_async(b, port_handle_, 1, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_REPEATING),
            MX_OK);
  auto fake = Arm(2, MX_USER_SIGNAL_0, true);
  // A server reading the channel directly: every write and every read tells the port.
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(mx_channel_write(a, 0, "m", 1, nullptr, 0), MX_OK);
    char c;
    uint32_t nb = 0;
    ASSERT_EQ(mx_channel_read(b, 0, &c, nullptr, 1, 0, &nb, nullptr), MX_OK);
    fake->Poke();
  }
  EXPECT_LE(port_->pending_count(), port_->registration_count());
  // The next wait delivers the change (REPEATING: the channel was drained and refilled).
  ASSERT_EQ(mx_channel_write(a, 0, "m", 1, nullptr, 0), MX_OK);
  mx_port_packet_t p;
  ASSERT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_SEC(10)), &p, 0), MX_OK);
  EXPECT_EQ(p.key, 1u);
  mx_handle_close(a);
  mx_handle_close(b);
}

TEST_F(PortUnitTest, ChangeDuringAnEvaluationIsNotLost) {
  // Thread A evaluates the registration and misses a change made meanwhile (it loaded the
  // signals before); the change's kick is collected by thread B while A still evaluates. The
  // registration must be evaluated again once A is done.
  auto object = Arm(1, MX_USER_SIGNAL_0, true);
  FakeObject* raw = object.get();
  std::mutex mu;
  std::condition_variable cv;
  bool in_hook = false;
  bool collected = false;
  std::atomic<bool> once{false};
  object->set_on_signals([&, raw] {
    if (once.exchange(true)) return;
    raw->SetQuietly(MX_USER_SIGNAL_0);
    raw->Poke();
    {
      std::lock_guard<std::mutex> lock(mu);
      in_hook = true;
    }
    cv.notify_all();
    const mx_time_t give_up = mx_deadline_after(MX_SEC(5));
    while (port_->pending_count() != 0 && mx_time_get(MX_CLOCK_MONOTONIC) < give_up) {
      std::this_thread::yield();
    }
    collected = port_->pending_count() == 0;
  });
  object->Poke();
  std::vector<mx_port_packet_t> got;
  auto waiter = [&] {
    mx_port_packet_t p = {};
    EXPECT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_SEC(10)), &p, 0), MX_OK);
    std::lock_guard<std::mutex> lock(mu);
    got.push_back(p);
    cv.notify_all();
  };
  std::thread a(waiter);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return in_hook; }));
  }
  std::thread b(waiter);
  // Whichever thread takes the signal packet, the other one is released by a user packet.
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !got.empty(); }));
  }
  mx_port_packet_t release = {};
  release.key = 77;
  ASSERT_EQ(mx_port_queue(port_handle_, &release, 0), MX_OK);
  a.join();
  b.join();
  EXPECT_TRUE(collected) << "thread B never collected the kick";
  ASSERT_EQ(got.size(), 2u);
  const mx_port_packet_t& signal = got[0].key == 1 ? got[0] : got[1];
  const mx_port_packet_t& user = got[0].key == 1 ? got[1] : got[0];
  EXPECT_EQ(signal.key, 1u);
  EXPECT_EQ(signal.type, MX_PKT_TYPE_SIGNAL_REP);
  EXPECT_TRUE(signal.signal.observed & MX_USER_SIGNAL_0);
  EXPECT_EQ(user.key, 77u);
  object->set_on_signals(nullptr);
}

TEST_F(PortUnitTest, RegistrationEndedDuringItsEvaluationQueuesNothing) {
  auto object = std::make_shared<FakeObject>();
  auto handle = std::make_shared<Handle>(object, MX_RIGHT_READ);
  handles_.push_back(handle);
  ASSERT_EQ(port_->WaitAsync(handle, 1, MX_USER_SIGNAL_0, true), MX_OK);
  // The handle leaves the table while the evaluation that sees the signal runs.
  object->set_on_signals([handle] { handle->Close(); });
  object->Assert(MX_USER_SIGNAL_0);
  mx_port_packet_t p;
  EXPECT_EQ(mx_port_wait(port_handle_, mx_deadline_after(MX_MSEC(50)), &p, 0), MX_ERR_TIMED_OUT);
  EXPECT_EQ(port_->registration_count(), 0u);
  object->set_on_signals(nullptr);
}

TEST_F(PortUnitTest, WaitWhileAOnceWaitIsArmedLeavesItToTheArmingThread) {
  // The object changes while mx_object_wait_async hooks the registration (the port's lock is
  // released then), and another thread runs mx_port_wait at that very point. That wait must not
  // evaluate the registration: if it did, it would take the ONCE packet, end the registration
  // and unhook it before the arming thread put it into the port's maps, where it would then
  // stay, unhooked, until the port closes.
  auto object = std::make_shared<FakeObject>();
  auto handle = std::make_shared<Handle>(object, MX_RIGHT_READ);
  handles_.push_back(handle);
  FakeObject* raw = object.get();
  mx_status_t during = MX_OK;
  object->set_on_wait_sources([&, raw] {
    raw->Assert(MX_USER_SIGNAL_0);
    std::thread other([&] {
      mx_port_packet_t p;
      during = mx_port_wait(port_handle_, 0, &p, 0);
    });
    other.join();
  });
  ASSERT_EQ(port_->WaitAsync(handle, 5, MX_USER_SIGNAL_0, /*repeating=*/false), MX_OK);
  object->set_on_wait_sources(nullptr);
  EXPECT_EQ(during, MX_ERR_TIMED_OUT) << "a wait evaluated a registration still being armed";
  // The arming thread's own evaluation fires it, once, and ends it.
  int packets = during == MX_OK ? 1 : 0;
  mx_port_packet_t p = {};
  while (mx_port_wait(port_handle_, 0, &p, 0) == MX_OK) {
    EXPECT_EQ(p.key, 5u);
    EXPECT_EQ(p.type, MX_PKT_TYPE_SIGNAL_ONE);
    ++packets;
  }
  EXPECT_EQ(packets, 1);
  EXPECT_EQ(port_->registration_count(), 0u) << "an ended registration stayed in the port";
}

TEST_F(PortUnitTest, WaitWhileARepeatingWaitIsArmedNeverEvaluatesItTwiceAtOnce) {
  // As above, with the arming thread parked until the other thread either evaluates the
  // registration (and is then held inside Signals() until the arming thread's own evaluation
  // arrives there too: two evaluations at once) or returns from mx_port_wait. Nothing here
  // waits for a timeout unless the port is broken.
  auto object = std::make_shared<FakeObject>();
  auto handle = std::make_shared<Handle>(object, MX_RIGHT_READ);
  handles_.push_back(handle);
  FakeObject* raw = object.get();
  const std::thread::id arming = std::this_thread::get_id();
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, most_inside = 0;
  bool other_evaluating = false, other_done = false;
  mx_status_t during = MX_OK;
  object->set_on_signals([&] {
    std::unique_lock<std::mutex> lock(mu);
    most_inside = std::max(most_inside, ++inside);
    if (std::this_thread::get_id() != arming) other_evaluating = true;
    cv.notify_all();
    if (std::this_thread::get_id() != arming) {
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return most_inside >= 2; });
    }
    --inside;
  });
  std::thread other;
  object->set_on_wait_sources([&, raw] {
    raw->Assert(MX_USER_SIGNAL_0);
    other = std::thread([&] {
      mx_port_packet_t p;
      const mx_status_t st = mx_port_wait(port_handle_, 0, &p, 0);
      std::lock_guard<std::mutex> lock(mu);
      during = st;
      other_done = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return other_evaluating || other_done; }));
  });
  ASSERT_EQ(port_->WaitAsync(handle, 6, MX_USER_SIGNAL_0, /*repeating=*/true), MX_OK);
  other.join();
  object->set_on_wait_sources(nullptr);
  object->set_on_signals(nullptr);
  EXPECT_EQ(most_inside, 1) << "two threads evaluated one registration at once";
  EXPECT_EQ(during, MX_ERR_TIMED_OUT) << "a wait evaluated a registration still being armed";
  // One packet for the one change; the change the other thread collected gets one more look,
  // which finds nothing new.
  int packets = during == MX_OK ? 1 : 0;
  for (;;) {
    mx_port_packet_t p = {};
    if (mx_port_wait(port_handle_, 0, &p, 0) == MX_OK) {
      packets += p.key == 6 ? 1 : 0;
    } else if (port_->pending_count() == 0) {
      break;
    }
  }
  EXPECT_EQ(packets, 1);
  EXPECT_EQ(port_->registration_count(), 1u);
}

}  // namespace
}  // namespace mx::internal
