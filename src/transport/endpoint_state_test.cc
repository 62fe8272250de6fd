// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the endpoint state decoder (transport/endpoint_state.h) and the queue blob rule
// (os/fd_check.h CheckQueueBlob): limits checked before anything is read, exact fd counts, sealed
// blobs without holes, and the pure decoder's agreement with the memfd path.
#include "transport/endpoint_state.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "os/fd_check.h"
#include "support/multiprocess.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

constexpr int kBlobSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;

std::vector<uint8_t> Bytes(const EndpointState& s) {
  const auto* b = reinterpret_cast<const uint8_t*>(&s);
  return std::vector<uint8_t>(b, b + sizeof(s));
}

StateCheck Parse(const EndpointState& s, uint32_t* num_fds = nullptr,
                 const QueueLimits& limits = QueueLimitsFor(size_t{4} << 20)) {
  std::vector<uint8_t> b = Bytes(s);
  EndpointState out;
  uint32_t n = 0;
  StateCheck c = ParseEndpointState(b.data(), b.size(), limits, &out, &n);
  if (num_fds != nullptr) *num_fds = n;
  return c;
}

EndpointState WithQueue(uint32_t count, uint64_t bytes, uint32_t fds) {
  EndpointState s = {};
  s.flags = kEndpointHasQueue;
  s.queue_count = count;
  s.queue_bytes = bytes;
  s.queue_fds = fds;
  return s;
}

UniqueFd Memfd(const std::vector<uint8_t>& bytes, size_t size, int seals) {
  UniqueFd fd(::memfd_create("endpoint-state-test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(fd.is_valid());
  EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
  if (!bytes.empty()) {
    EXPECT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  if (seals != 0) {
    EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, seals), 0);
  }
  return fd;
}

std::vector<uint8_t> TwoMessageBlob() {
  Message a;
  a.bytes = {1, 2, 3};
  Message b;
  b.bytes = std::vector<uint8_t>(100, 7);
  std::vector<uint8_t> blob;
  std::vector<int> fds;
  EncodeQueue({&a, &b}, &blob, &fds);
  return blob;
}

TEST(EndpointStateTest, LimitsFollowTheBufferLimit) {
  QueueLimits l = QueueLimitsFor(size_t{4} << 20);
  EXPECT_EQ(l.max_bytes, uint64_t{16} << 20);
  EXPECT_EQ(l.max_messages, 262144u);
  EXPECT_EQ(l.max_fds, kMaxHandleFds - kEndpointOwnFds);
  EXPECT_EQ(QueueLimitsFor(256 * 1024).max_bytes, uint64_t{1} << 20);
}

TEST(EndpointStateTest, FdCountFollowsTheFlagsAndQueue) {
  uint32_t n = 0;
  EndpointState s = {};
  ASSERT_EQ(Parse(s, &n), StateCheck::kOk);
  EXPECT_EQ(n, 1u);
  s.flags = kEndpointHasRecvRing;
  ASSERT_EQ(Parse(s, &n), StateCheck::kOk);
  EXPECT_EQ(n, 2u);
  s = WithQueue(2, 64, 10);
  s.flags |= kEndpointHasRecvRing;
  ASSERT_EQ(Parse(s, &n), StateCheck::kOk);
  EXPECT_EQ(n, 13u);
}

TEST(EndpointStateTest, RejectsWhatNoSenderWrites) {
  EndpointState s = {};
  s.flags = 0x80;
  EXPECT_EQ(Parse(s), StateCheck::kMalformed);
  s.flags = 1;  // a send ring: it never travels
  EXPECT_EQ(Parse(s), StateCheck::kMalformed);
  s = {};
  s.user_signals = MX_CHANNEL_READABLE;
  EXPECT_EQ(Parse(s), StateCheck::kMalformed);
  s = {};
  s.queue_count = 1;  // a queue without the flag
  EXPECT_EQ(Parse(s), StateCheck::kMalformed);
  s = {};
  s.peer_write_limit = 5;  // a limit without the flag
  EXPECT_EQ(Parse(s), StateCheck::kMalformed);
  EXPECT_EQ(Parse(WithQueue(0, 16, 0)), StateCheck::kMalformed);    // an empty queue
  EXPECT_EQ(Parse(WithQueue(10, 159, 0)), StateCheck::kMalformed);  // shorter than its records
  std::vector<uint8_t> b = Bytes(EndpointState{});
  EndpointState out;
  uint32_t n;
  EXPECT_EQ(ParseEndpointState(b.data(), b.size() - 8, DefaultQueueLimits(), &out, &n),
            StateCheck::kMalformed);
}

TEST(EndpointStateTest, MoreThanAnHonestEndpointHoldsIsOverTheLimit) {
  const QueueLimits l = QueueLimitsFor(size_t{4} << 20);
  uint32_t n = 0;
  EXPECT_EQ(Parse(WithQueue(1, l.max_bytes, 0)), StateCheck::kOk);
  EXPECT_EQ(Parse(WithQueue(1, l.max_bytes + 1, 0)), StateCheck::kOverLimit);
  EXPECT_EQ(Parse(WithQueue(l.max_messages, l.max_bytes, 0)), StateCheck::kOk);
  EXPECT_EQ(Parse(WithQueue(l.max_messages + 1, l.max_bytes, 0)), StateCheck::kOverLimit);
  EXPECT_EQ(Parse(WithQueue(1, 16, l.max_fds)), StateCheck::kOk);
  EXPECT_EQ(Parse(WithQueue(1, 16, l.max_fds + 1), &n), StateCheck::kOverLimit);
  EXPECT_EQ(n, l.max_fds + 3) << "an over-limit state still names its exact fd count";
  // The 2 GiB blob of the old limit, and the most the u32 counts can claim.
  EXPECT_EQ(Parse(WithQueue(1, uint64_t{1} << 31, 0)), StateCheck::kOverLimit);
  EXPECT_EQ(Parse(WithQueue(UINT32_MAX, uint64_t{UINT32_MAX} * 16, UINT32_MAX)),
            StateCheck::kOverLimit);
}

TEST(EndpointStateTest, DecodesAQueueAndRejectsOneThatDisagreesWithItsState) {
  std::vector<uint8_t> blob = TwoMessageBlob();
  std::vector<Message> out;
  EndpointState s = WithQueue(2, blob.size(), 0);
  ASSERT_EQ(DecodeEndpointQueue(blob.data(), blob.size(), s, {}, &out), MX_OK);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].bytes.size(), 100u);
  EXPECT_EQ(DecodeEndpointQueue(blob.data(), blob.size(), WithQueue(3, blob.size(), 0), {}, &out),
            MX_ERR_IO);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(DecodeEndpointQueue(blob.data(), blob.size() - 1, s, {}, &out), MX_ERR_IO);
  std::vector<UniqueFd> extra;
  extra.push_back(UniqueFd(::memfd_create("x", MFD_CLOEXEC)));
  EXPECT_EQ(DecodeEndpointQueue(blob.data(), blob.size(), s, std::move(extra), &out), MX_ERR_IO);
}

TEST(EndpointStateTest, QueueBlobMustBeSealedExactAndWithoutHoles) {
  std::vector<uint8_t> blob = TwoMessageBlob();
  EXPECT_EQ(CheckQueueBlob(Memfd(blob, blob.size(), kBlobSeals).get(), blob.size()), MX_OK);
  // Not sealed, or sealed only against resizing: it could change under the mapping.
  EXPECT_EQ(CheckQueueBlob(Memfd(blob, blob.size(), 0).get(), blob.size()), MX_ERR_IO);
  EXPECT_EQ(
      CheckQueueBlob(Memfd(blob, blob.size(), F_SEAL_SHRINK | F_SEAL_GROW).get(), blob.size()),
      MX_ERR_IO);
  // Another size than announced.
  EXPECT_EQ(CheckQueueBlob(Memfd(blob, blob.size(), kBlobSeals).get(), blob.size() + 1), MX_ERR_IO);
  // A page never written: the sender did not pay for it.
  EXPECT_EQ(CheckQueueBlob(Memfd({}, 1 << 20, kBlobSeals).get(), 1 << 20), MX_ERR_IO);
  std::vector<uint8_t> head(4096, 0);
  EXPECT_EQ(CheckQueueBlob(Memfd(head, 1 << 20, kBlobSeals).get(), 1 << 20), MX_ERR_IO);
  // Not a memfd at all.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_EQ(CheckQueueBlob(r.get(), 0), MX_ERR_IO);
}

TEST(EndpointStateTest, LoadAgreesWithTheDecoderAndCreateQueueBlobPassesTheCheck) {
  std::vector<uint8_t> blob = TwoMessageBlob();
  UniqueFd fd;
  ASSERT_EQ(CreateQueueBlob(blob, &fd), MX_OK);
  EXPECT_EQ(CheckQueueBlob(fd.get(), blob.size()), MX_OK);
  std::vector<Message> out;
  ASSERT_EQ(LoadEndpointQueue(fd.get(), WithQueue(2, blob.size(), 0), {}, &out), MX_OK);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, (std::vector<uint8_t>{1, 2, 3}));
  UniqueFd unsealed = Memfd(blob, blob.size(), 0);
  EXPECT_EQ(LoadEndpointQueue(unsealed.get(), WithQueue(2, blob.size(), 0), {}, &out), MX_ERR_IO);
}

// Writes tests/fuzz/corpus/endpoint_state/ seeds in the format
// endpoint_state_fuzzer.cc reads (byte 0 mode, 56 bytes of state, the blob).
// Not a test but a corpus writer: `cmake --build --preset debug --target mx_write_corpus`
// rewrites tests/fuzz/corpus/endpoint_state/ (tests/fuzz/README.md). args[0]: the directory.
MX_CHILD(write_endpoint_state_corpus) {
  CHILD_CHECK(args.size() == 1);
  const char* dir = args[0].c_str();
  auto write = [&](const std::string& name, uint8_t mode, const EndpointState& s,
                   const std::vector<uint8_t>& blob) {
    std::vector<uint8_t> out = {mode};
    std::vector<uint8_t> b = Bytes(s);
    out.insert(out.end(), b.begin(), b.end());
    out.insert(out.end(), blob.begin(), blob.end());
    std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    CHILD_CHECK(f.good());
  };
  EndpointState plain = {};
  write("plain", 0, plain, {});
  EndpointState rings = {};
  rings.flags = kEndpointHasRecvRing;
  rings.send_seq = 10;
  rings.recv_seq = 7;
  rings.user_signals = MX_USER_SIGNAL_0;
  write("rings", 0, rings, {});
  EndpointState send_ring = rings;  // the earlier shape, with a send ring: refused
  send_ring.flags |= 1;
  write("send_ring_refused", 0, send_ring, {});

  EndpointState no_write = {};
  no_write.flags = kEndpointPeerNoWrite;
  no_write.peer_write_limit = 3;
  write("peer_no_write", 0, no_write, {});
  std::vector<uint8_t> blob = TwoMessageBlob();
  write("queue_two", 3, WithQueue(2, blob.size(), 0), blob);
  EndpointState ring_and_queue = WithQueue(2, blob.size(), 0);  // mid-stream: ring and queue
  ring_and_queue.flags |= kEndpointHasRecvRing;
  ring_and_queue.send_seq = 40;
  ring_and_queue.recv_seq = 12;
  write("recv_ring_and_queue", 3, ring_and_queue, blob);
  {
    // One message carrying an fd handle and a plain endpoint: two queued fds.
    Message m;
    m.bytes = {'q'};
    int p[2];
    CHILD_CHECK_EQ(::pipe2(p, O_CLOEXEC), 0);
    RawHandle fd_handle;
    fd_handle.type = MX_OBJ_TYPE_FD;
    fd_handle.fds.push_back(UniqueFd(p[0]));
    RawHandle ep;
    ep.type = MX_OBJ_TYPE_CHANNEL;
    ep.extra = Bytes(EndpointState{});
    ep.fds.push_back(UniqueFd(p[1]));
    m.handles.push_back(std::move(fd_handle));
    m.handles.push_back(std::move(ep));
    std::vector<uint8_t> b;
    std::vector<int> fds;
    EncodeQueue({&m}, &b, &fds);
    write("queue_with_handles", 3, WithQueue(1, b.size(), 2), b);
  }
  write("over_limit_bytes", 0, WithQueue(1, uint64_t{64} << 20, 0), {});
  write("bad_count", 1, WithQueue(3, blob.size(), 0), blob);
  // EXPECT_* in the helpers it shares with the tests report here, outside any test.
  return ::testing::UnitTest::GetInstance()->Failed() ? 1 : 0;
}

}  // namespace
}  // namespace mx::internal
