// SPDX-License-Identifier: BSD-3-Clause
// What a wait takes off the socket of a channel nobody reads. With fd headroom for the largest
// frame, a wait takes each frame in one recvmsg, fds included, and the local queue may pass the
// refresh limit by that one message only; frames whose fds break the rules are refused whole and
// every fd they brought is closed. Each peer is a real child process: a raw socket under a libmx
// endpoint (reached through a named rendezvous, see support/wire_layout.h) for the hostile ones,
// a libmx writer for the ordering test. fds are counted before and after; a pipe's write end (the
// tracer) rides in every fd slot, so that a leaked duplicate keeps its read end from seeing
// end-of-file. Nothing here is timed; every wait has a deadline of seconds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

namespace {

using namespace mx_test::wire;  // NOLINT(build/namespaces): the wire layout, written out

// Large messages: each is over the refresh limit (128 KiB, as charged) on its fds alone.
constexpr int kBigMessages = 3;       // all fit the default send buffer
constexpr uint32_t kBigHandles = 48;  // one fd each
constexpr size_t kBigPayload = 60 * 1024;
// Messages of the ordering test, each with one fd.
constexpr int kOrderedMessages = 300;

std::atomic<uint32_t> g_service_counter{0};

std::string ServiceName() {
  return std::string("@libmx-refresh-") + std::to_string(getpid()) + "-" +
         std::to_string(g_service_counter++);
}

std::vector<int> Dups(int fd, size_t n) {
  std::vector<int> fds;
  for (size_t i = 0; i < n; ++i) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    CHILD_CHECK(d >= 0);
    fds.push_back(d);
  }
  return fds;
}

void CloseFds(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

// Sends a data frame numbered |seq| with |payload| and |n| fd handles (tracer duplicates)
// that |extra| more tracer fds ride along with, undeclared.
void SendData(int sock, int tracer, uint64_t seq, const std::string& payload, uint32_t n,
              uint32_t extra = 0) {
  std::vector<uint8_t> desc;
  for (uint32_t i = 0; i < n; ++i) AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  FrameSpec f(kFrameData, seq, payload, desc, n, n);
  std::vector<int> fds = Dups(tracer, n + extra);
  const std::vector<uint8_t> bytes = f.Encode();
  CHILD_CHECK_EQ(SendOn(sock, bytes.data(), bytes.size(), fds.data(), fds.size()), 0);
  CloseFds(fds);
}

// args: mode, service. PA_USER0: a channel to the test; PA_USER1: the tracer (an fd handle).
// Connects as the raw peer, sends what |mode| says, tells the test "sent", then waits for the
// test's word before it closes the socket (so the test's waits see the frames, not the end).
//   big:       kBigMessages messages of kBigPayload bytes and kBigHandles fds, numbered big0...
//   kick_fds:  a message ("before"), then a kick frame carrying 253 fds;
//   extra_fds: a message ("before"), then a message that declares 1 fd and carries 253.
MX_CHILD(refresh_peer) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const std::string& mode = args[0];
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  int tracer = -1;
  CHILD_CHECK_OK(mx_fd_unwrap(mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0)), &tracer));
  int sock = -1;
  CHILD_CHECK_EQ(ConnectRawPeer(args[1], &sock), 0);
  if (mode == "big") {
    for (int i = 0; i < kBigMessages; ++i) {
      std::string payload = std::string("big") + std::to_string(i);
      payload.resize(kBigPayload, 'p');
      SendData(sock, tracer, static_cast<uint64_t>(i), payload, kBigHandles);
    }
  } else if (mode == "kick_fds") {
    SendData(sock, tracer, 0, "before", 1);
    const std::vector<uint8_t> kick = FrameSpec(kFrameKick, 0).Encode();
    std::vector<int> fds = Dups(tracer, kMaxFdsPerDatagram);
    CHILD_CHECK_EQ(SendOn(sock, kick.data(), kick.size(), fds.data(), fds.size()), 0);
    CloseFds(fds);
  } else {
    CHILD_CHECK(mode == "extra_fds");
    SendData(sock, tracer, 0, "before", 1);
    SendData(sock, tracer, 1, "liar", 1, kMaxFdsPerDatagram - 1);
  }
  close(tracer);
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "sent", 4));
  mx_test::Message go;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &go, mx_deadline_after(MX_SEC(60))));
  close(sock);
  mx_handle_close(ctl);
  return 0;
}

// PA_USER0: a channel. Sends kOrderedMessages messages "m<i>", each with one fd handle: a memfd
// of i + 1 bytes, so that the reader can tell which fd came with which message. Then closes.
MX_CHILD(ordered_fd_writer) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (int i = 0; i < kOrderedMessages; ++i) {
    int fd = memfd_create("ordered", MFD_CLOEXEC);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(ftruncate(fd, i + 1) == 0);
    mx_handle_t h;
    CHILD_CHECK_OK(mx_fd_wrap(fd, &h));
    const std::string text = mx_test::Numbered("m", i);
    mx_status_t st;
    for (;;) {
      st = mx_channel_write(ch, 0, text.data(), static_cast<uint32_t>(text.size()), &h, 1);
      if (st != MX_ERR_SHOULD_WAIT) break;
      CHILD_CHECK_OK(mx_object_wait_one(ch, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                        mx_deadline_after(MX_SEC(60)), nullptr));
    }
    CHILD_CHECK_OK(st);
  }
  mx_handle_close(ch);
  return 0;
}

// Waits (30 s at most) until every writer of the pipe |read_fd| is gone: read() returns 0.
bool WaitForEof(int read_fd) {
  const mx_time_t deadline = mx_test::DefaultDeadline();
  for (;;) {
    struct pollfd p = {read_fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char c;
      if (read(read_fd, &c, 1) == 0) return true;
    }
    if (mx_time_get(MX_CLOCK_MONOTONIC) >= deadline) return false;
  }
}

class RefreshReceiveTest : public mx_test::MultiprocessTest {
 protected:
  // Spawns refresh_peer in |mode| and accepts it: |victim_| is the endpoint over its raw socket,
  // |ctl_| the channel to it. The peer has sent everything when this returns.
  void StartPeer(const char* mode) {
    ASSERT_EQ(pipe2(tracer_, O_CLOEXEC), 0);
    mx_handle_t tracer_handle;
    ASSERT_EQ(mx_fd_wrap(tracer_[1], &tracer_handle), MX_OK);
    const std::string service = ServiceName();
    mx_handle_t listener;
    ASSERT_EQ(mx_service_listen(service.c_str(), 0, &listener), MX_OK);
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &ctl_, &remote), MX_OK);
    ASSERT_EQ(
        mx_test::SpawnChild("refresh_peer",
                            {{PA_HND(PA_USER0, 0), remote}, {PA_HND(PA_USER1, 0), tracer_handle}},
                            {mode, service}, &process),
        MX_OK);
    peer_ = mx_test::ScopedProcess(process);
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
        MX_OK);
    ASSERT_EQ(mx_service_accept(listener, &victim_), MX_OK);
    mx_handle_close(listener);
    mx_test::Message sent;
    ASSERT_EQ(mx_test::ReadMessage(ctl_, &sent), MX_OK);
  }

  // Lets the peer close its socket and exit; then every fd it sent must be closed.
  void FinishPeer() {
    ASSERT_EQ(mx_test::WriteMessage(ctl_, "go", 2), MX_OK);
    EXPECT_EQ(peer_.Join(), 0);
    peer_ = mx_test::ScopedProcess();  // closes the process handle
    mx_handle_close(ctl_);
  }

  void ExpectEveryFdClosed(int fds_before) {
    EXPECT_TRUE(WaitForEof(tracer_[0])) << "an fd the peer sent is still open";
    close(tracer_[0]);
    EXPECT_EQ(mx_test::CountOpenFds(), fds_before);
  }

  // The peer in |mode| sends "before" with one fd, then a frame that breaks the channel. Only
  // waits and signal queries run until the channel reads as closed: the message before the bad
  // frame stays readable, and every fd the bad frame brought is closed. Returns what the wait saw.
  mx_signals_t BreakFromAWait(const char* mode) {
    const int fds_before = mx_test::CountOpenFds();
    mx_signals_t seen = 0;
    StartPeer(mode);
    if (HasFatalFailure()) return seen;
    EXPECT_EQ(
        mx_object_wait_one(victim_, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &seen),
        MX_OK);
    mx_test::Message m;
    EXPECT_EQ(mx_test::ReadMessage(victim_, &m), MX_OK);
    EXPECT_EQ(std::string(m.bytes.begin(), m.bytes.end()), "before");
    EXPECT_EQ(m.handles.size(), 1u);
    mx_test::CloseAll(&m.handles);
    EXPECT_EQ(mx_test::ReadMessage(victim_, &m), MX_ERR_PEER_CLOSED);
    FinishPeer();
    mx_handle_close(victim_);
    ExpectEveryFdClosed(fds_before);
    return seen;
  }

  int tracer_[2] = {-1, -1};
  mx_handle_t victim_ = MX_HANDLE_INVALID;
  mx_handle_t ctl_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess peer_;
};

// Messages over the refresh limit: waits and signal queries queue at most one of them (the one
// that passes the limit), with its fds; the reader then gets every message, in order, each with
// its fds, and the peer's end.
TEST_F(RefreshReceiveTest, WaitsQueueAtMostOneMessagePastTheLimit) {
  const int fds_before = mx_test::CountOpenFds();
  ASSERT_NO_FATAL_FAILURE(StartPeer("big"));
  const int fds_started = mx_test::CountOpenFds();
  mx_signals_t seen = 0;
  ASSERT_EQ(mx_object_wait_one(victim_, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), &seen),
            MX_OK);
  EXPECT_TRUE(seen & MX_CHANNEL_READABLE);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(mx_test::PendingSignals(victim_) & MX_CHANNEL_READABLE);
  }
  // The frames stay in the kernel (0 fds installed), or one message came in with its fds.
  const int queued = mx_test::CountOpenFds() - fds_started;
  EXPECT_TRUE(queued == 0 || queued == static_cast<int>(kBigHandles)) << queued;
  printf("[refresh] %d messages of %zu bytes and %u fds each: waits installed %d fds\n",
         kBigMessages, kBigPayload, kBigHandles, queued);
  for (int i = 0; i < kBigMessages; ++i) {
    mx_test::Message m;
    ASSERT_EQ(mx_test::ReadMessage(victim_, &m), MX_OK) << i;
    ASSERT_GE(m.bytes.size(), 4u);
    EXPECT_EQ(std::string(m.bytes.begin(), m.bytes.begin() + 4),
              std::string("big") + std::to_string(i));
    EXPECT_EQ(m.bytes.size(), kBigPayload);
    ASSERT_EQ(m.handles.size(), kBigHandles);
    for (mx_handle_t h : m.handles) EXPECT_EQ(mx_test::BasicInfo(h).type, MX_OBJ_TYPE_FD);
    mx_test::CloseAll(&m.handles);
  }
  ASSERT_NO_FATAL_FAILURE(FinishPeer());
  mx_test::Message end;
  EXPECT_EQ(mx_test::ReadMessage(victim_, &end), MX_ERR_PEER_CLOSED);
  mx_handle_close(victim_);
  ExpectEveryFdClosed(fds_before);
}

// A kick frame carrying fds, or a message carrying more fds than it declares: a wait that takes
// it breaks the channel (after the message before it) and closes every fd the frame brought.
TEST_F(RefreshReceiveTest, KickWithFdsBreaksTheChannelFromAWait) {
  EXPECT_TRUE(BreakFromAWait("kick_fds") & MX_CHANNEL_READABLE);
}

TEST_F(RefreshReceiveTest, UndeclaredFdsBreakTheChannelFromAWait) { BreakFromAWait("extra_fds"); }

// A libmx writer's messages with one fd each, taken by waits and reads alike: every message in
// order, each with its own fd.
TEST_F(RefreshReceiveTest, FdMessagesArriveInOrderWithTheirOwnFds) {
  const int fds_before = mx_test::CountOpenFds();
  mx_handle_t a, b, process;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("ordered_fd_writer", {{PA_HND(PA_USER0, 0), b}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess writer(process);
  for (int i = 0; i < kOrderedMessages; ++i) {
    // Every other message is first waited for, so that both the wait and the read take frames.
    if (i % 2 == 0) {
      ASSERT_EQ(mx_object_wait_one(a, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr),
                MX_OK);
    }
    mx_test::Message m;
    ASSERT_EQ(mx_test::ReadMessage(a, &m), MX_OK) << i;
    EXPECT_EQ(std::string(m.bytes.begin(), m.bytes.end()), mx_test::Numbered("m", i));
    ASSERT_EQ(m.handles.size(), 1u) << i;
    int fd = -1;
    ASSERT_EQ(mx_fd_unwrap(m.handles[0], &fd), MX_OK);
    struct stat st = {};
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_EQ(st.st_size, i + 1);
    close(fd);
  }
  mx_test::Message end;
  EXPECT_EQ(mx_test::ReadMessage(a, &end), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(writer.Join(), 0);
  writer = mx_test::ScopedProcess();  // closes the process handle
  mx_handle_close(a);
  EXPECT_EQ(mx_test::CountOpenFds(), fds_before);
}

}  // namespace
