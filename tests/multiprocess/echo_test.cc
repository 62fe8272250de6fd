// SPDX-License-Identifier: BSD-3-Clause
// A child process echoes messages back; handles cross the process boundary both ways and keep
// their koid, rights and type.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

// Requests start with this header; messages shorter than it are echoed unchanged.
struct EchoHeader {
  uint32_t op;
  uint32_t arg;
};

enum : uint32_t {
  kOpEcho = 0x4543484f,  // reply: the same bytes, the same handles in the same order
  kOpDescribe,           // reply: EchoHeader{op, n} + n HandleReport; the handles come back
  kOpMint,               // the child creates a channel and an event, sends one end and the event
  kOpCheckMinted,        // the child reads its kept end and checks its event copy is signaled
  kOpFdWrite,            // the child unwraps handle 0 and writes the payload into the fd
};

struct HandleReport {
  mx_koid_t koid;
  mx_koid_t related_koid;
  mx_rights_t rights;
  uint32_t type;
};

HandleReport ReportOf(mx_handle_t h) {
  mx_info_handle_basic_t info = mx_test::BasicInfo(h);
  return HandleReport{info.koid, info.related_koid, info.rights, info.type};
}

bool operator==(const HandleReport& a, const HandleReport& b) {
  return a.koid == b.koid && a.related_koid == b.related_koid && a.rights == b.rights &&
         a.type == b.type;
}

std::ostream& operator<<(std::ostream& os, const HandleReport& r) {
  return os << "{koid " << r.koid << ", related " << r.related_koid << ", rights 0x" << std::hex
            << r.rights << ", type 0x" << r.type << std::dec << "}";
}

std::vector<uint8_t> DescribeReply(uint32_t op, const std::vector<HandleReport>& reports) {
  EchoHeader header{op, static_cast<uint32_t>(reports.size())};
  std::vector<uint8_t> out(sizeof(header) + reports.size() * sizeof(HandleReport));
  memcpy(out.data(), &header, sizeof(header));
  if (!reports.empty()) {
    memcpy(out.data() + sizeof(header), reports.data(), reports.size() * sizeof(HandleReport));
  }
  return out;
}

std::vector<HandleReport> ParseReports(const Message& msg, uint32_t expected_op) {
  std::vector<HandleReport> reports;
  if (msg.bytes.size() < sizeof(EchoHeader)) return reports;
  EchoHeader header;
  memcpy(&header, msg.bytes.data(), sizeof(header));
  if (header.op != expected_op ||
      msg.bytes.size() != sizeof(header) + header.arg * sizeof(HandleReport)) {
    return reports;
  }
  reports.resize(header.arg);
  memcpy(reports.data(), msg.bytes.data() + sizeof(header), header.arg * sizeof(HandleReport));
  return reports;
}

// The echo server. Runs until its channel's peer closes.
MX_CHILD(echo) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t kept_end = MX_HANDLE_INVALID;    // from kOpMint
  mx_handle_t kept_event = MX_HANDLE_INVALID;  // from kOpMint
  for (;;) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(60)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    EchoHeader header{kOpEcho, 0};
    if (msg.bytes.size() >= sizeof(header)) memcpy(&header, msg.bytes.data(), sizeof(header));
    switch (header.op) {
      case kOpDescribe: {
        std::vector<HandleReport> reports;
        for (mx_handle_t h : msg.handles) reports.push_back(ReportOf(h));
        std::vector<uint8_t> reply = DescribeReply(kOpDescribe, reports);
        CHILD_CHECK_OK(mx_test::WriteMessage(ch, reply.data(), reply.size(), msg.handles));
        break;
      }
      case kOpMint: {
        CHILD_CHECK(kept_end == MX_HANDLE_INVALID);
        mx_handle_t sent_end, event;
        CHILD_CHECK_OK(mx_channel_create(0, &kept_end, &sent_end));
        CHILD_CHECK_OK(mx_event_create(0, &event));
        CHILD_CHECK_OK(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &kept_event));
        std::vector<HandleReport> reports = {ReportOf(sent_end), ReportOf(event)};
        std::vector<uint8_t> reply = DescribeReply(kOpMint, reports);
        CHILD_CHECK_OK(mx_test::WriteMessage(ch, reply.data(), reply.size(), {sent_end, event}));
        break;
      }
      case kOpCheckMinted: {
        CHILD_CHECK(kept_end != MX_HANDLE_INVALID);
        mx_signals_t observed = 0;
        mx_status_t wait = mx_object_wait_one(kept_event, MX_EVENT_SIGNALED,
                                              mx_test::DefaultDeadline(), &observed);
        Message got;
        CHILD_CHECK_OK(mx_test::ReadMessage(kept_end, &got));
        CHILD_CHECK(got.handles.empty());
        EchoHeader reply_header{kOpCheckMinted,
                                wait == MX_OK && (observed & MX_EVENT_SIGNALED) ? 1u : 0u};
        std::vector<uint8_t> reply(sizeof(reply_header));
        memcpy(reply.data(), &reply_header, sizeof(reply_header));
        reply.insert(reply.end(), got.bytes.begin(), got.bytes.end());
        CHILD_CHECK_OK(mx_test::WriteMessage(ch, reply.data(), reply.size()));
        break;
      }
      case kOpFdWrite: {
        CHILD_CHECK_EQ(msg.handles.size(), 1u);
        int fd = -1;
        CHILD_CHECK_OK(mx_fd_unwrap(msg.handles[0], &fd));
        const size_t n = msg.bytes.size() - sizeof(header);
        CHILD_CHECK_EQ(write(fd, msg.bytes.data() + sizeof(header), n), static_cast<ssize_t>(n));
        CHILD_CHECK_EQ(close(fd), 0);
        CHILD_CHECK_OK(mx_test::WriteMessage(ch, &header, sizeof(header)));
        break;
      }
      default:  // kOpEcho and anything shorter than a header
        CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size(), msg.handles));
        break;
    }
  }
  mx_handle_close(kept_end);
  mx_handle_close(kept_event);
  mx_handle_close(ch);
  return 0;
}

class EchoTest : public mx_test::MultiprocessTest {
 protected:
  void SetUp() override {
    mx_test::MultiprocessTest::SetUp();
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &ch_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("echo", {{PA_HND(PA_USER0, 0), remote}}, {}, &process), MX_OK);
    child_ = mx_test::ScopedProcess(process);
  }

  void TearDown() override {
    // Closing our end is the child's signal to exit 0.
    mx_handle_close(ch_);
    ch_ = MX_HANDLE_INVALID;
    if (child_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(child_.Join(), 0);
    }
    child_ = mx_test::ScopedProcess();
    mx_test::MultiprocessTest::TearDown();
  }

  // Sends a request and waits for the child's reply.
  void Request(const std::vector<uint8_t>& bytes, const std::vector<mx_handle_t>& handles,
               Message* reply) {
    ASSERT_EQ(mx_test::WriteMessage(ch_, bytes.data(), bytes.size(), handles), MX_OK);
    ASSERT_EQ(mx_test::ReadMessage(ch_, reply), MX_OK);
  }

  static std::vector<uint8_t> Header(uint32_t op, uint32_t arg = 0) {
    EchoHeader header{op, arg};
    std::vector<uint8_t> out(sizeof(header));
    memcpy(out.data(), &header, sizeof(header));
    return out;
  }

  mx_handle_t ch_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess child_;
};

TEST_F(EchoTest, BytesComeBackUnchangedAndInOrder) {
  const std::vector<size_t> sizes = {0, 1, 4, 7, 8, 100, 4096, 65535, MX_CHANNEL_MAX_MSG_BYTES};
  std::vector<std::vector<uint8_t>> sent;
  // All requests go out before any reply is read: the child sees a queue, not a ping-pong.
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<uint8_t> bytes(sizes[i]);
    for (size_t j = 0; j < bytes.size(); ++j) bytes[j] = mx_test::PatternByte(i + 1, j);
    if (bytes.size() >= sizeof(EchoHeader)) {
      EchoHeader header{kOpEcho, static_cast<uint32_t>(i)};
      memcpy(bytes.data(), &header, sizeof(header));
    }
    ASSERT_EQ(mx_test::WriteMessage(ch_, bytes.data(), bytes.size()), MX_OK) << "size " << sizes[i];
    sent.push_back(std::move(bytes));
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    Message reply;
    ASSERT_EQ(mx_test::ReadMessage(ch_, &reply), MX_OK) << "reply " << i;
    EXPECT_TRUE(reply.handles.empty());
    ASSERT_EQ(reply.bytes.size(), sent[i].size()) << "reply " << i;
    EXPECT_TRUE(reply.bytes == sent[i]) << "reply " << i << " differs from what was sent";
  }
}

TEST_F(EchoTest, TransferredHandlesKeepKoidRightsAndTypeInChildAndBack) {
  // A channel end, a channel end with a message queued on it, an event, a reduced-rights
  // duplicate of it, and a wrapped pipe end.
  mx_handle_t a, b, c, d, event, event_keep, event_reduced, fd_handle;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &c, &d), MX_OK);
  const char queued[] = "queued on d before it moved";
  ASSERT_EQ(mx_test::WriteMessage(c, queued, sizeof(queued)), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &event_keep), MX_OK);
  const mx_rights_t reduced = MX_RIGHT_TRANSFER | MX_RIGHT_READ;
  ASSERT_EQ(mx_handle_duplicate(event, reduced, &event_reduced), MX_OK);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  ASSERT_EQ(mx_fd_wrap(pipe_fds[0], &fd_handle), MX_OK);

  const std::vector<mx_handle_t> sent = {b, d, event, event_reduced, fd_handle};
  std::vector<HandleReport> expected;
  for (mx_handle_t h : sent) expected.push_back(ReportOf(h));
  // Sanity of what we are about to compare against.
  EXPECT_EQ(expected[0].type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(expected[0].rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(expected[0].related_koid, mx_test::KoidOf(a));
  EXPECT_EQ(expected[2].type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(expected[2].rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(expected[3].rights, reduced);
  EXPECT_EQ(expected[3].koid, expected[2].koid);
  EXPECT_EQ(expected[4].type, MX_OBJ_TYPE_FD);
  EXPECT_EQ(expected[4].rights, MX_DEFAULT_FD_RIGHTS);
  for (const HandleReport& r : expected) EXPECT_NE(r.koid, MX_KOID_INVALID);

  Message reply;
  ASSERT_NO_FATAL_FAILURE(Request(Header(kOpDescribe), sent, &reply));
  // The handles left this process with the write.
  for (mx_handle_t h : sent) EXPECT_FALSE(mx_test::IsValidHandle(h));

  // What the child saw.
  std::vector<HandleReport> seen_by_child = ParseReports(reply, kOpDescribe);
  ASSERT_EQ(seen_by_child.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(seen_by_child[i], expected[i]) << "handle " << i << " as seen by the child";
  }
  // What came back.
  ASSERT_EQ(reply.handles.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(ReportOf(reply.handles[i]), expected[i]) << "handle " << i << " after the round trip";
  }
  const mx_handle_t b2 = reply.handles[0], d2 = reply.handles[1], event2 = reply.handles[2],
                    event_reduced2 = reply.handles[3], fd_handle2 = reply.handles[4];

  // The objects still work as one object on both sides.
  const char ping[] = "a -> b after the round trip";
  ASSERT_EQ(mx_test::WriteMessage(a, ping, sizeof(ping)), MX_OK);
  Message got;
  ASSERT_EQ(mx_test::ReadMessage(b2, &got), MX_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(got.bytes.data()), got.bytes.size()),
            std::string(ping, sizeof(ping)));

  ASSERT_EQ(mx_test::ReadMessage(d2, &got), MX_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(got.bytes.data()), got.bytes.size()),
            std::string(queued, sizeof(queued)))
      << "the message queued on d before its trip";

  ASSERT_EQ(mx_object_signal(event_keep, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_TRUE(mx_test::PendingSignals(event2) & MX_EVENT_SIGNALED);
  EXPECT_TRUE(mx_test::PendingSignals(event_reduced2) & MX_EVENT_SIGNALED);
  EXPECT_EQ(mx_object_signal(event_reduced2, 0, MX_USER_SIGNAL_0), MX_ERR_ACCESS_DENIED)
      << "the reduced duplicate must not have gained SIGNAL on its way";

  int read_fd = -1;
  ASSERT_EQ(mx_fd_unwrap(fd_handle2, &read_fd), MX_OK);
  ASSERT_EQ(write(pipe_fds[1], "xyz", 3), 3);
  char buf[8] = {};
  EXPECT_EQ(read(read_fd, buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "xyz");

  close(read_fd);
  close(pipe_fds[1]);
  for (mx_handle_t h : {a, c, b2, d2, event2, event_reduced2, event_keep}) {
    EXPECT_EQ(mx_handle_close(h), MX_OK);
  }
}

TEST_F(EchoTest, HandlesCreatedInChildArriveWithTheKoidsTheChildReported) {
  Message reply;
  ASSERT_NO_FATAL_FAILURE(Request(Header(kOpMint), {}, &reply));
  std::vector<HandleReport> reported = ParseReports(reply, kOpMint);
  ASSERT_EQ(reported.size(), 2u);
  ASSERT_EQ(reply.handles.size(), 2u);
  const mx_handle_t end = reply.handles[0], event = reply.handles[1];

  EXPECT_EQ(ReportOf(end), reported[0]);
  EXPECT_EQ(ReportOf(event), reported[1]);
  EXPECT_EQ(reported[0].type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(reported[0].rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_NE(reported[0].related_koid, MX_KOID_INVALID);
  EXPECT_EQ(reported[1].type, static_cast<uint32_t>(MX_OBJ_TYPE_EVENT));
  EXPECT_EQ(reported[1].rights, MX_DEFAULT_EVENT_RIGHTS);
  // Koids are machine-wide: nothing in this process may share them.
  EXPECT_NE(reported[0].koid, mx_test::KoidOf(ch_));
  EXPECT_NE(reported[0].related_koid, mx_test::KoidOf(ch_));

  // The endpoint is still connected to the end the child kept, and the event is the child's.
  const char ping[] = "parent writes on the child's channel";
  ASSERT_EQ(mx_test::WriteMessage(end, ping, sizeof(ping)), MX_OK);
  ASSERT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  ASSERT_NO_FATAL_FAILURE(Request(Header(kOpCheckMinted), {}, &reply));
  ASSERT_EQ(reply.bytes.size(), sizeof(EchoHeader) + sizeof(ping));
  EchoHeader header;
  memcpy(&header, reply.bytes.data(), sizeof(header));
  EXPECT_EQ(header.op, kOpCheckMinted);
  EXPECT_EQ(header.arg, 1u) << "the child did not see the event signaled by the parent";
  EXPECT_EQ(memcmp(reply.bytes.data() + sizeof(header), ping, sizeof(ping)), 0);

  EXPECT_EQ(mx_handle_close(end), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
}

TEST_F(EchoTest, WrappedPipeEndIsUsableInChildAndNoCopyStaysBehind) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  mx_handle_t write_end;
  ASSERT_EQ(mx_fd_wrap(pipe_fds[1], &write_end), MX_OK);

  const std::string text = "written into the pipe by the child";
  std::vector<uint8_t> request = Header(kOpFdWrite);
  request.insert(request.end(), text.begin(), text.end());
  Message reply;
  ASSERT_NO_FATAL_FAILURE(Request(request, {write_end}, &reply));
  EXPECT_FALSE(mx_test::IsValidHandle(write_end));

  // The child closed the only write end it got; if neither libmx in this process nor in the
  // child kept a copy, the pipe shows the text and then end-of-file.
  std::string got;
  for (;;) {
    struct pollfd pfd = {pipe_fds[0], POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 30000), 1) << "no EOF: a copy of the pipe's write end is still open "
                                          "somewhere; read so far: '"
                                       << got << "'";
    char buf[256];
    ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    ASSERT_GE(n, 0);
    if (n == 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, text);
  close(pipe_fds[0]);
}

TEST_F(EchoTest, MessageWithMaximumHandleCountRoundTrips) {
  std::vector<mx_handle_t> events(MX_CHANNEL_MAX_MSG_HANDLES);
  std::vector<HandleReport> expected;
  for (mx_handle_t& e : events) {
    ASSERT_EQ(mx_event_create(0, &e), MX_OK);
    expected.push_back(ReportOf(e));
  }
  Message reply;
  ASSERT_NO_FATAL_FAILURE(Request(Header(kOpDescribe), events, &reply));
  std::vector<HandleReport> seen = ParseReports(reply, kOpDescribe);
  ASSERT_EQ(seen.size(), events.size());
  ASSERT_EQ(reply.handles.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(seen[i], expected[i]) << "event " << i << " in the child";
    EXPECT_EQ(ReportOf(reply.handles[i]), expected[i]) << "event " << i << " back home";
  }
  mx_test::CloseAll(&reply.handles);
}

}  // namespace
