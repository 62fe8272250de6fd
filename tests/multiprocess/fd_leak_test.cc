// SPDX-License-Identifier: BSD-3-Clause
// Nothing leaks: the fds of this process and of a child are the same before
// and after thousands of create / transfer / close cycles, and closing an endpoint releases the
// endpoints and objects queued inside it, transitively, in whichever process it is closed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

enum : uint32_t {
  kOpEcho = 1,   // send the handles back with the same bytes
  kOpCount = 2,  // reply {kOpCount, number of open fds in the child}
  kOpDrop = 3,   // close every handle that came with the message, reply {kOpDrop, count}
};

struct Op {
  uint32_t op;
  uint32_t arg;
};

// Echoes endpoints (and anything else) back on PA_USER0 and reports its own fd count on request.
MX_CHILD(endpoint_echo) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_test::WarmUpLibmx();
  for (;;) {
    Message msg;
    mx_status_t status = mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(60)));
    if (status == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(status);
    CHILD_CHECK_EQ(msg.bytes.size(), sizeof(Op));
    Op op;
    memcpy(&op, msg.bytes.data(), sizeof(op));
    switch (op.op) {
      case kOpEcho:
        CHILD_CHECK_OK(mx_test::WritePod(ch, op, msg.handles));
        break;
      case kOpCount:
        CHILD_CHECK(msg.handles.empty());
        CHILD_CHECK_OK(
            mx_test::WritePod(ch, Op{kOpCount, static_cast<uint32_t>(mx_test::CountOpenFds())}));
        break;
      case kOpDrop: {
        const uint32_t n = static_cast<uint32_t>(msg.handles.size());
        mx_test::CloseAll(&msg.handles);
        CHILD_CHECK_OK(mx_test::WritePod(ch, Op{kOpDrop, n}));
        break;
      }
      default:
        CHILD_CHECK(false);
    }
  }
  mx_handle_close(ch);
  return 0;
}

class FdLeakTest : public mx_test::MultiprocessTest {
 protected:
  void StartChild() {
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &ch_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("endpoint_echo", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
              MX_OK);
    child_ = mx_test::ScopedProcess(process);
  }

  void TearDown() override {
    mx_handle_close(ch_);
    ch_ = MX_HANDLE_INVALID;
    if (child_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(child_.Join(), 0);
    }
    child_ = mx_test::ScopedProcess();
    mx_test::MultiprocessTest::TearDown();
  }

  uint32_t ChildFdCount() {
    Op reply = {};
    EXPECT_EQ(mx_test::WritePod(ch_, Op{kOpCount, 0}), MX_OK);
    EXPECT_EQ(mx_test::ReadPod(ch_, &reply), MX_OK);
    EXPECT_EQ(reply.op, kOpCount);
    return reply.arg;
  }

  // One cycle: a fresh channel (a, b), sometimes a message (with an event, sometimes also a pipe
  // end) queued on b, b sent to the child and back or through a channel in this process, the
  // queued message read from b at its destination, everything closed. Returns false on the first
  // problem (recorded with ADD_FAILURE).
  bool Cycle(int i, bool via_child, mx_handle_t local_in, mx_handle_t local_out) {
    mx_handle_t a, b;
    if (mx_channel_create(0, &a, &b) != MX_OK) {
      ADD_FAILURE() << "cycle " << i << ": mx_channel_create";
      return false;
    }
    const mx_koid_t b_koid = mx_test::KoidOf(b);
    const bool queue_message = i % 10 == 0;
    size_t queued_handles = 0;
    if (queue_message) {
      std::vector<mx_handle_t> handles;
      mx_handle_t event;
      if (mx_event_create(0, &event) != MX_OK) return false;
      handles.push_back(event);
      if (i % 1000 == 0) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return false;
        close(fds[1]);
        mx_handle_t fd_handle;
        if (mx_fd_wrap(fds[0], &fd_handle) != MX_OK) return false;
        handles.push_back(fd_handle);
      }
      queued_handles = handles.size();
      if (mx_test::WriteMessage(a, &i, sizeof(i), handles) != MX_OK) {
        ADD_FAILURE() << "cycle " << i << ": queueing a message on b";
        return false;
      }
    }
    const Op op{kOpEcho, static_cast<uint32_t>(i)};
    mx_handle_t back_channel = via_child ? ch_ : local_out;
    if (mx_test::WritePod(via_child ? ch_ : local_in, op, {b}) != MX_OK) {
      ADD_FAILURE() << "cycle " << i << ": sending b";
      return false;
    }
    Op got = {};
    std::vector<mx_handle_t> back;
    mx_status_t status = mx_test::ReadPod(back_channel, &got, &back);
    if (status != MX_OK || got.arg != op.arg || back.size() != 1 ||
        mx_test::KoidOf(back[0]) != b_koid) {
      ADD_FAILURE() << "cycle " << i << ": b did not come back intact ("
                    << mx_test::StatusName(status) << ", " << back.size() << " handles)";
      mx_test::CloseAll(&back);
      return false;
    }
    b = back[0];
    if (queue_message) {
      Message msg;
      status = mx_test::ReadMessage(b, &msg);
      const size_t n = msg.handles.size();
      mx_test::CloseAll(&msg.handles);
      if (status != MX_OK || n != queued_handles) {
        ADD_FAILURE() << "cycle " << i
                      << ": the message queued on b: " << mx_test::StatusName(status) << ", " << n
                      << " handles";
        return false;
      }
    }
    return mx_handle_close(a) == MX_OK && mx_handle_close(b) == MX_OK;
  }

  mx_handle_t ch_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess child_;
};

TEST_F(FdLeakTest, TenThousandCreateTransferCloseCyclesLeakNoFdsInParentOrChild) {
  ASSERT_NO_FATAL_FAILURE(StartChild());
  mx_handle_t local_in, local_out;
  ASSERT_EQ(mx_channel_create(0, &local_in, &local_out), MX_OK);
  // Warm up both routes, then take both baselines. The first count warms up the reply path
  // (a channel maps its shared-memory ring after its first few messages in each direction).
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(Cycle(i, i % 2 == 0, local_in, local_out));
  ASSERT_GT(ChildFdCount(), 0u);
  const uint32_t child_before = ChildFdCount();
  const std::vector<mx_test::FdEntry> before = mx_test::ListOpenFds();
  ASSERT_GT(child_before, 0u);

  constexpr int kCycles = 10000;
  for (int i = 0; i < kCycles; ++i) {
    ASSERT_TRUE(Cycle(i, i % 2 == 0, local_in, local_out)) << "cycle " << i;
  }

  const std::vector<mx_test::FdEntry> after = mx_test::ListOpenFds();
  EXPECT_EQ(after.size(), before.size()) << "before:\n"
                                         << mx_test::DescribeFds(before) << "after:\n"
                                         << mx_test::DescribeFds(after);
  EXPECT_EQ(ChildFdCount(), child_before) << "the child's fds changed over the cycles";
  mx_handle_close(local_in);
  mx_handle_close(local_out);
}

// Builds a chain: q[0]'s queue holds a message with q[1] and an event, q[1]'s holds q[2], ...
// This process keeps the p ends (the writers) and returns them.
std::vector<mx_handle_t> MakeChain(int depth, mx_handle_t* head) {
  std::vector<mx_handle_t> p(depth), q(depth);
  for (int i = 0; i < depth; ++i) {
    EXPECT_EQ(mx_channel_create(0, &p[i], &q[i]), MX_OK);
  }
  for (int i = 0; i + 1 < depth; ++i) {
    mx_handle_t event;
    EXPECT_EQ(mx_event_create(0, &event), MX_OK);
    EXPECT_EQ(mx_test::WriteMessage(p[i], &i, sizeof(i), {q[i + 1], event}), MX_OK);
  }
  *head = q[0];
  return p;
}

void ExpectAllPeerClosed(const std::vector<mx_handle_t>& p) {
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(mx_object_wait_one(p[i], MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
              MX_OK)
        << "q[" << i << "] was not closed";
  }
}

TEST_F(FdLeakTest, ClosingEndpointReleasesEndpointsNestedInItsQueueInThisProcess) {
  mx_handle_t head;
  std::vector<mx_handle_t> p = MakeChain(10, &head);
  ASSERT_EQ(mx_handle_close(head), MX_OK);
  ExpectAllPeerClosed(p);
  for (mx_handle_t h : p) mx_handle_close(h);
  // The fixture checks that every fd is gone.
}

TEST_F(FdLeakTest, ClosingEndpointInChildReleasesEndpointsNestedInItsQueue) {
  ASSERT_NO_FATAL_FAILURE(StartChild());
  // Warm the child up with one drop, then take its baseline.
  mx_handle_t warm;
  ASSERT_EQ(mx_event_create(0, &warm), MX_OK);
  ASSERT_EQ(mx_test::WritePod(ch_, Op{kOpDrop, 0}, {warm}), MX_OK);
  Op reply;
  ASSERT_EQ(mx_test::ReadPod(ch_, &reply), MX_OK);
  const uint32_t child_before = ChildFdCount();

  mx_handle_t head;
  std::vector<mx_handle_t> p = MakeChain(10, &head);
  // The child reads head (so it is in the child's table) and closes it without reading its queue.
  ASSERT_EQ(mx_test::WritePod(ch_, Op{kOpDrop, 0}, {head}), MX_OK);
  ASSERT_EQ(mx_test::ReadPod(ch_, &reply), MX_OK);
  EXPECT_EQ(reply.op, kOpDrop);
  EXPECT_EQ(reply.arg, 1u);
  ExpectAllPeerClosed(p);
  EXPECT_EQ(ChildFdCount(), child_before);
  for (mx_handle_t h : p) mx_handle_close(h);
}

}  // namespace
