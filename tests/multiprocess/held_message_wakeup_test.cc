// SPDX-License-Identifier: BSD-3-Clause
// A message with handles that nobody has read yet must not hide the frames queued behind it on
// the channel's socket: the wake-up (kick) of a writer blocked on a full ring, and the peer's
// user signals. The peer is a real child process; the victim's thread blocks in a wait with a
// 10 s deadline, so a lost wake-up fails the test (TIMED_OUT) instead of hanging it.
//
//   - WriterBlockedOnTheRingWakes: the victim filled its ring and waits for WRITABLE; the peer
//     sends a message with |fds| fds, then reads everything (its reader kicks the victim).
//   - UserSignalAfterTheMessageWakes: the victim waits for USER_SIGNAL_0; the peer sends a
//     message with |fds| fds, then signals.
// With 1 fd the wait installs the message into the local queue and keeps watching the socket;
// with 40 fds (more than a wait may queue, see docs/channels.md "fd budget") the message stays in
// the kernel and a wait for WRITABLE looks again on a short timer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr uint32_t kChunk = 64 * 1024;

// True if thread |tid| of this process is inside a blocking poll (it sleeps in the kernel).
bool InPoll(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long nr = -1;
  if (!(f >> nr)) return false;
  return nr == SYS_ppoll || nr == SYS_epoll_pwait
#ifdef SYS_epoll_pwait2
         || nr == SYS_epoll_pwait2
#endif
      ;
}

// args: mode ("drain", "signal"), fds per message. PA_USER0: the channel, PA_USER1: control.
MX_CHILD(held_message_peer) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const std::string mode = args[0];
  const int nfds = std::stoi(args[1]);
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  mx_test::Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg));  // "send"
  std::vector<mx_handle_t> events(nfds);
  for (mx_handle_t& e : events) CHILD_CHECK_OK(mx_event_create(0, &e));
  CHILD_CHECK_OK(
      mx_channel_write(ch, 0, "with fds", 8, events.data(), static_cast<uint32_t>(events.size())));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "sent", 4));
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg));  // "go": the victim is blocked
  if (mode == "drain") {
    std::vector<uint8_t> buf(kChunk);
    for (;;) {
      uint32_t n = 0;
      mx_status_t st = mx_channel_read(ch, 0, buf.data(), nullptr, kChunk, 0, &n, nullptr);
      if (st == MX_ERR_SHOULD_WAIT) break;
      CHILD_CHECK_OK(st);
    }
  } else {
    CHILD_CHECK_OK(mx_object_signal_peer(ch, 0, MX_USER_SIGNAL_0));
  }
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg));  // "done"
  return 0;
}

struct Case {
  const char* mode;
  int fds;
};

class HeldMessageWakeupTest : public ::testing::TestWithParam<Case> {};

TEST_P(HeldMessageWakeupTest, WaitBehindAnUnreadMessageWithFdsWakes) {
  const Case c = GetParam();
  const bool drain = std::string(c.mode) == "drain";
  mx_handle_t a, b, ctl_a, ctl_b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl_a, &ctl_b), MX_OK);
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("held_message_peer",
                                {{PA_HND(PA_USER0, 0), b}, {PA_HND(PA_USER1, 0), ctl_b}},
                                {c.mode, std::to_string(c.fds)}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);

  if (drain) {
    // Fill the channel (socket, then ring) until writes return SHOULD_WAIT.
    std::vector<uint8_t> chunk(kChunk, 0x5a);
    int written = 0;
    for (; written < 100000; ++written) {
      mx_status_t st = mx_channel_write(a, 0, chunk.data(), kChunk, nullptr, 0);
      if (st == MX_ERR_SHOULD_WAIT) break;
      ASSERT_EQ(st, MX_OK);
    }
    ASSERT_LT(written, 100000);
  }
  ASSERT_EQ(mx_test::WriteMessage(ctl_a, "send", 4), MX_OK);
  mx_test::Message msg;
  ASSERT_EQ(mx_test::ReadMessage(ctl_a, &msg), MX_OK);  // "sent": the message is on our socket

  const mx_signals_t wanted = drain ? MX_CHANNEL_WRITABLE : MX_USER_SIGNAL_0;
  std::atomic<pid_t> tid{0};
  mx_status_t wait_status = MX_ERR_INTERNAL;
  mx_signals_t observed = 0;
  mx_time_t started = 0, ended = 0;
  std::thread waiter([&] {
    tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
    started = mx_time_get(MX_CLOCK_MONOTONIC);
    wait_status = mx_object_wait_one(a, wanted, mx_deadline_after(MX_SEC(10)), &observed);
    ended = mx_time_get(MX_CLOCK_MONOTONIC);
  });
  // Let the peer act only once the waiter sleeps in the kernel (it looked at the signals and
  // saw the message first); the look costs no clock, only the waiter's own progress.
  const mx_time_t give_up = mx_deadline_after(MX_SEC(10));
  while ((tid.load() == 0 || !InPoll(tid.load())) && mx_time_get(MX_CLOCK_MONOTONIC) < give_up) {
    sched_yield();
  }
  ASSERT_EQ(mx_test::WriteMessage(ctl_a, "go", 2), MX_OK);
  waiter.join();
  const double ms = (ended - started) / 1e6;
  printf("[attack] %s behind a message with %d fd(s): wait for 0x%x returned %s in %.1f ms\n",
         c.mode, c.fds, wanted, mx_test::StatusName(wait_status), ms);
  EXPECT_EQ(wait_status, MX_OK);
  EXPECT_TRUE(observed & wanted);
  EXPECT_LT(ms, 5000);

  // The message is still there, whole, for the reader.
  std::vector<mx_handle_t> handles(c.fds);
  char bytes[16];
  uint32_t nb = 0, nh = 0;
  ASSERT_EQ(mx_channel_read(a, 0, bytes, handles.data(), sizeof(bytes),
                            static_cast<uint32_t>(handles.size()), &nb, &nh),
            MX_OK);
  EXPECT_EQ(nb, 8u);
  EXPECT_EQ(nh, static_cast<uint32_t>(c.fds));
  for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles[i]);
  ASSERT_EQ(mx_test::WriteMessage(ctl_a, "done", 4), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(a);
  mx_handle_close(ctl_a);
}

INSTANTIATE_TEST_SUITE_P(Cases, HeldMessageWakeupTest,
                         ::testing::Values(Case{"drain", 1}, Case{"signal", 1}, Case{"drain", 40}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.mode[0] == 'd' ? "WriterBlockedOnRing"
                                                                        : "UserSignal") +
                                  "Behind" + std::to_string(info.param.fds) + "Fds";
                         });

}  // namespace
