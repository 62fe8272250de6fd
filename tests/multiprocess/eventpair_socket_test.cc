// SPDX-License-Identifier: BSD-3-Clause
// Event pairs, events and sockets across real processes: signals set with signal_peer in
// one process are seen by waiters in another; one side duplicated in several processes has one
// signal state; PEER_CLOSED follows the last handle of a side in any process (handles in flight
// and SIGKILL included); a socket end sent to a child streams data with backpressure. Every test
// checks that this process's fd count is the same before and after (MultiprocessTest).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr uint32_t kSideInfo = PA_HND(PA_USER0, 0);
constexpr uint32_t kControlInfo = PA_HND(PA_USER1, 0);

std::string Text(const Message& msg) { return std::string(msg.bytes.begin(), msg.bytes.end()); }

mx_status_t WriteText(mx_handle_t ch, const char* text) {
  return mx_test::WriteMessage(ch, text, strlen(text));
}

// Expects the next message on |ch| to be |text|; a child-side check.
#define CHILD_EXPECT_TEXT(ch, text)                  \
  do {                                               \
    Message m_;                                      \
    CHILD_CHECK_OK(mx_test::ReadMessage((ch), &m_)); \
    CHILD_CHECK(Text(m_) == (text));                 \
  } while (0)

class EventPairProcessTest : public mx_test::MultiprocessTest {};
class SocketProcessTest : public mx_test::MultiprocessTest {};

// ---- Event pairs ------------------------------------------------------------------------------

// Sets SIGNALED | USER_0 on the parent's side with signal_peer, then waits for the parent to set
// USER_1 on the child's side the same way.
MX_CHILD(epair_ping) {
  mx_handle_t side = mx_test::TakeStartupHandle(kSideInfo);
  CHILD_CHECK_EQ(mx_test::BasicInfo(side).type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT_PAIR));
  CHILD_CHECK_OK(mx_object_signal_peer(side, 0, MX_EPAIR_SIGNALED | MX_USER_SIGNAL_0));
  mx_signals_t observed = 0;
  CHILD_CHECK_OK(mx_object_wait_one(side, MX_USER_SIGNAL_1, mx_test::DefaultDeadline(), &observed));
  CHILD_CHECK(observed & MX_SIGNAL_LAST_HANDLE);
  CHILD_CHECK_OK(mx_handle_close(side));
  return 0;
}

TEST_F(EventPairProcessTest, ChildSignalPeerIsSeenByParentWaitAndBack) {
  mx_handle_t a, b, process;
  ASSERT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
  const mx_koid_t b_koid = mx_test::KoidOf(b);
  ASSERT_EQ(mx_test::SpawnChild("epair_ping", {{kSideInfo, b}}, {}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(a, MX_USER_SIGNAL_0, mx_test::DefaultDeadline(), &observed), MX_OK);
  EXPECT_TRUE(observed & MX_EPAIR_SIGNALED);
  EXPECT_EQ(mx_test::BasicInfo(a).related_koid, b_koid);
  ASSERT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_1), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  ASSERT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(observed,
            MX_EPAIR_SIGNALED | MX_USER_SIGNAL_0 | MX_EPAIR_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// Duplicates its side, closes the original, reports "dup-only"; on "close" closes the duplicate
// and reports "closed"; then waits for the parent to close the control channel.
MX_CHILD(epair_dup_then_close) {
  mx_handle_t side = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t dup = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_handle_duplicate(side, MX_RIGHT_SAME_RIGHTS, &dup));
  CHILD_CHECK_EQ(mx_test::PendingSignals(side) & MX_SIGNAL_LAST_HANDLE, 0u);
  CHILD_CHECK_OK(mx_handle_close(side));
  CHILD_CHECK(mx_test::PendingSignals(dup) & MX_SIGNAL_LAST_HANDLE);
  CHILD_CHECK_OK(WriteText(control, "dup-only"));
  CHILD_EXPECT_TEXT(control, "close");
  CHILD_CHECK_OK(mx_handle_close(dup));
  CHILD_CHECK_OK(WriteText(control, "closed"));
  Message msg;
  CHILD_CHECK_EQ(mx_test::ReadMessage(control, &msg), MX_ERR_PEER_CLOSED);
  return 0;
}

TEST_F(EventPairProcessTest, PeerClosedOnlyAfterChildClosesItsLastDuplicate) {
  mx_handle_t a, b, c0, c1, process;
  ASSERT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("epair_dup_then_close", {{kSideInfo, b}, {kControlInfo, c1}}, {},
                                &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  ASSERT_EQ(Text(msg), "dup-only");
  // The child still holds a duplicate: the side is alive and reachable.
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, 0, nullptr), MX_ERR_TIMED_OUT);
  EXPECT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_4), MX_OK);
  ASSERT_EQ(WriteText(c0, "close"), MX_OK);
  // PEER_CLOSED arrives while the child process is still running.
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  EXPECT_EQ(Text(msg), "closed");
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(process, MX_PROCESS_TERMINATED, 0, &s), MX_ERR_TIMED_OUT);
  ASSERT_EQ(mx_handle_close(c0), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// Takes an event the parent also holds, duplicates it and closes the handle it received; once
// the parent has closed its own, the duplicate must be the last handle. (The received handle's
// lock description used to stay alive inside the event's mapping.)
MX_CHILD(event_dup_then_close_received) {
  mx_handle_t event = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t dup = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &dup));
  CHILD_CHECK_OK(mx_handle_close(event));
  CHILD_CHECK_EQ(mx_test::PendingSignals(dup) & MX_SIGNAL_LAST_HANDLE, 0u);
  CHILD_CHECK_OK(WriteText(control, "dup-only"));
  CHILD_EXPECT_TEXT(control, "closed");
  CHILD_CHECK_OK(
      mx_object_wait_one(dup, MX_SIGNAL_LAST_HANDLE, mx_test::DefaultDeadline(), nullptr));
  CHILD_CHECK_OK(WriteText(control, "last"));
  CHILD_CHECK_OK(mx_handle_close(dup));
  return 0;
}

TEST_F(EventPairProcessTest, EventDuplicateInChildBecomesLastAfterReceivedHandleAndParentsClose) {
  mx_handle_t event, keep, c0, c1, process;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &keep), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("event_dup_then_close_received",
                                {{kSideInfo, event}, {kControlInfo, c1}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  ASSERT_EQ(Text(msg), "dup-only");
  EXPECT_EQ(mx_test::PendingSignals(keep) & MX_SIGNAL_LAST_HANDLE, 0u);
  ASSERT_EQ(mx_handle_close(keep), MX_OK);
  ASSERT_EQ(WriteText(c0, "closed"), MX_OK);
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  EXPECT_EQ(Text(msg), "last");
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
}

// Sets USER_2 on its own side (a handle the parent also holds a duplicate of), reports, then
// waits until the parent sets USER_3 on that same side through its own duplicate.
MX_CHILD(epair_shared_state) {
  mx_handle_t side = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  CHILD_CHECK_EQ(mx_test::PendingSignals(side) & MX_SIGNAL_LAST_HANDLE, 0u);
  CHILD_CHECK_OK(mx_object_signal(side, 0, MX_USER_SIGNAL_2));
  CHILD_CHECK_OK(WriteText(control, "set"));
  CHILD_CHECK_OK(mx_object_wait_one(side, MX_USER_SIGNAL_3, mx_test::DefaultDeadline(), nullptr));
  CHILD_CHECK_OK(mx_handle_close(side));
  CHILD_CHECK_OK(WriteText(control, "done"));
  return 0;
}

TEST_F(EventPairProcessTest, SideDuplicatedIntoTwoProcessesHasOneSignalState) {
  mx_handle_t a, b, b_here, c0, c1, process;
  ASSERT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(b, MX_RIGHT_SAME_RIGHTS, &b_here), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("epair_shared_state", {{kSideInfo, b}, {kControlInfo, c1}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  EXPECT_EQ(mx_test::PendingSignals(b_here) & MX_SIGNAL_LAST_HANDLE, 0u);
  ASSERT_EQ(mx_object_wait_one(b_here, MX_USER_SIGNAL_2, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  EXPECT_EQ(Text(msg), "set");
  ASSERT_EQ(mx_object_signal(b_here, 0, MX_USER_SIGNAL_3), MX_OK);
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  EXPECT_EQ(Text(msg), "done");
  EXPECT_EQ(child.Join(), 0);
  // The child's handle is gone: this one is the last; the side lives on (no PEER_CLOSED on a).
  EXPECT_EQ(mx_object_wait_one(b_here, MX_SIGNAL_LAST_HANDLE, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, 0, nullptr), MX_ERR_TIMED_OUT);
  EXPECT_EQ(mx_handle_close(b_here), MX_OK);
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
}

// Holds its side, says "ready", and blocks until killed.
MX_CHILD(epair_hold_until_killed) {
  mx_handle_t side = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t dup = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_handle_duplicate(side, MX_RIGHT_SAME_RIGHTS, &dup));
  CHILD_CHECK_OK(WriteText(control, "ready"));
  Message msg;
  mx_test::ReadMessage(control, &msg, mx_deadline_after(MX_SEC(60)));
  return 1;
}

TEST_F(EventPairProcessTest, SigkillOfChildHoldingSideAssertsPeerClosed) {
  mx_handle_t a, b, c0, c1, process;
  ASSERT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("epair_hold_until_killed", {{kSideInfo, b}, {kControlInfo, c1}}, {},
                                &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  ASSERT_EQ(Text(msg), "ready");
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, 0, nullptr), MX_ERR_TIMED_OUT);
  EXPECT_NE(child.KillAndJoin(), 0);
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(observed, MX_EPAIR_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
}

TEST_F(EventPairProcessTest, SideStuckInDeadChildsQueueIsClosedToo) {
  // The side sits unread in a channel queue of the child when it is killed.
  mx_handle_t a, b, c0, c1, q0, q1, process;
  ASSERT_EQ(mx_eventpair_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &q0, &q1), MX_OK);
  ASSERT_EQ(mx_channel_write(q0, 0, "x", 1, &b, 1), MX_OK);
  ASSERT_EQ(mx_handle_close(q0), MX_OK);
  // The child gets q1 (holding b unread) as its "side" handle.
  ASSERT_EQ(mx_test::SpawnChild("epair_hold_until_killed_channel",
                                {{kSideInfo, q1}, {kControlInfo, c1}}, {}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(c0, &msg), MX_OK);
  ASSERT_EQ(Text(msg), "ready");
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, 0, nullptr), MX_ERR_TIMED_OUT);
  EXPECT_NE(child.KillAndJoin(), 0);
  EXPECT_EQ(mx_object_wait_one(a, MX_EPAIR_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
}

MX_CHILD(epair_hold_until_killed_channel) {
  mx_handle_t ch = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  CHILD_CHECK(mx_test::PendingSignals(ch) & MX_CHANNEL_READABLE);
  CHILD_CHECK_OK(WriteText(control, "ready"));
  Message msg;
  mx_test::ReadMessage(control, &msg, mx_deadline_after(MX_SEC(60)));
  return 1;
}

// ---- Sockets ----------------------------------------------------------------------------------

constexpr size_t kStreamBytes = 8u << 20;

// Streams kStreamBytes of PatternByte(0, i) into its socket end, waiting for WRITABLE whenever
// the socket is full, then sends the FNV-1a of what it wrote and the count on the control channel.
MX_CHILD(socket_stream_out) {
  mx_handle_t sock = mx_test::TakeStartupHandle(kSideInfo);
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  CHILD_CHECK_EQ(mx_test::BasicInfo(sock).type, static_cast<uint32_t>(MX_OBJ_TYPE_SOCKET));
  // Larger than any socket buffer, so every write that is not SHOULD_WAIT is short.
  std::vector<uint8_t> chunk(1u << 20);
  uint64_t hash = mx_test::kFnvOffset;
  size_t sent = 0;
  size_t short_writes = 0;
  while (sent < kStreamBytes) {
    const size_t len = std::min(chunk.size(), kStreamBytes - sent);
    for (size_t i = 0; i < len; ++i) chunk[i] = mx_test::PatternByte(0, sent + i);
    size_t actual = 0;
    mx_status_t st = mx_socket_write(sock, 0, chunk.data(), len, &actual);
    if (st == MX_ERR_SHOULD_WAIT) {
      mx_signals_t observed = 0;
      CHILD_CHECK_OK(mx_object_wait_one(sock, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED,
                                        mx_test::DefaultDeadline(), &observed));
      CHILD_CHECK((observed & MX_SOCKET_PEER_CLOSED) == 0);
      continue;
    }
    CHILD_CHECK_OK(st);
    CHILD_CHECK(actual > 0 && actual <= len);
    if (actual < len) ++short_writes;
    hash = mx_test::Fnv1a(chunk.data(), actual, hash);
    sent += actual;
  }
  CHILD_CHECK(short_writes > 0);
  uint64_t report[2] = {hash, sent};
  CHILD_CHECK_OK(mx_test::WriteMessage(control, report, sizeof(report)));
  CHILD_CHECK_OK(mx_handle_close(sock));
  return 0;
}

TEST_F(SocketProcessTest, EndSentToChildStreams8MiBWithChecksum) {
  mx_handle_t s0, s1, c0, c1, process;
  ASSERT_EQ(mx_socket_create(0, &s0, &s1), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c0, &c1), MX_OK);
  const mx_koid_t s1_koid = mx_test::KoidOf(s1);
  ASSERT_EQ(
      mx_test::SpawnChild("socket_stream_out", {{kSideInfo, s1}, {kControlInfo, c1}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  EXPECT_EQ(mx_test::BasicInfo(s0).related_koid, s1_koid);
  std::vector<uint8_t> buf(96 * 1024);
  uint64_t hash = mx_test::kFnvOffset;
  size_t got = 0;
  bool pattern_ok = true;
  for (;;) {
    size_t n = 0;
    mx_status_t st = mx_socket_read(s0, 0, buf.data(), buf.size(), &n);
    if (st == MX_ERR_SHOULD_WAIT) {
      ASSERT_EQ(mx_object_wait_one(s0, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                   mx_test::DefaultDeadline(), nullptr),
                MX_OK);
      continue;
    }
    if (st == MX_ERR_PEER_CLOSED) break;
    ASSERT_EQ(st, MX_OK);
    for (size_t i = 0; i < n && pattern_ok; ++i) {
      pattern_ok = buf[i] == mx_test::PatternByte(0, got + i);
    }
    hash = mx_test::Fnv1a(buf.data(), n, hash);
    got += n;
  }
  EXPECT_TRUE(pattern_ok);
  EXPECT_EQ(got, kStreamBytes);
  uint64_t report[2] = {};
  ASSERT_EQ(mx_test::ReadPod(c0, &report), MX_OK);
  EXPECT_EQ(report[0], hash);
  EXPECT_EQ(report[1], kStreamBytes);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_test::PendingSignals(s0), MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  size_t actual = 0;
  EXPECT_EQ(mx_socket_write(s0, 0, "x", 1, &actual), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(s0), MX_OK);
  EXPECT_EQ(mx_handle_close(c0), MX_OK);
}

// Reads "ping" from the socket, answers "pong", and exits (its end closes with it).
MX_CHILD(socket_ping_pong) {
  mx_handle_t sock = mx_test::TakeStartupHandle(kSideInfo);
  char buf[4];
  size_t got = 0;
  while (got < 4) {
    size_t n = 0;
    mx_status_t st = mx_socket_read(sock, 0, buf + got, 4 - got, &n);
    if (st == MX_ERR_SHOULD_WAIT) {
      CHILD_CHECK_OK(
          mx_object_wait_one(sock, MX_SOCKET_READABLE, mx_test::DefaultDeadline(), nullptr));
      continue;
    }
    CHILD_CHECK_OK(st);
    got += n;
  }
  CHILD_CHECK(std::string(buf, 4) == "ping");
  size_t actual = 0;
  CHILD_CHECK_OK(mx_socket_write(sock, 0, "pong", 4, &actual));
  CHILD_CHECK_EQ(actual, 4u);
  return 0;  // exit closes the end
}

TEST_F(SocketProcessTest, ChildExitAssertsPeerClosedAfterItsLastBytes) {
  mx_handle_t s0, s1, process;
  ASSERT_EQ(mx_socket_create(0, &s0, &s1), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("socket_ping_pong", {{kSideInfo, s1}}, {}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_socket_write(s0, 0, "ping", 4, nullptr), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(s0, MX_SOCKET_PEER_CLOSED, mx_test::DefaultDeadline(), &observed),
            MX_OK);
  EXPECT_EQ(observed, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
  char buf[8];
  size_t n = 0;
  ASSERT_EQ(mx_socket_read(s0, 0, buf, sizeof(buf), &n), MX_OK);
  EXPECT_EQ(std::string(buf, n), "pong");
  EXPECT_EQ(mx_socket_read(s0, 0, buf, sizeof(buf), &n), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(s0), MX_OK);
}

}  // namespace
