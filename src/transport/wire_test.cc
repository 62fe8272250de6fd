// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the channel wire format (transport/wire.h) with its socket I/O
// (transport/frame_io.h): frames and queue blobs round-trip with their handles and fds, the
// >253-fd overflow socket works over a real socketpair, and every malformed frame is rejected
// with MX_ERR_IO without crashing and without leaking a single fd.
//
// The fd checks use two tools: the number of entries in /proc/self/fd before and after, and the
// write end of a pipe handed to the decoder: once the decoder closed every copy of it, the
// (non-blocking) read end reports EOF instead of EAGAIN.
#include "transport/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "os/socket.h"
#include "support/multiprocess.h"
#include "support/test_util.h"
#include "transport/frame_io.h"

namespace mx::internal {
namespace {

using mx_test::CountOpenFds;

// ---- Helpers -------------------------------------------------------------------------------

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

FileId IdOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return {};
  return {st.st_dev, st.st_ino};
}

// A pipe whose read end is non-blocking, so that "is every write end closed" is a read().
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe MakePipe() {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// True if every write end of the pipe whose read end is |read_fd| is closed.
bool WriteEndsClosed(int read_fd) {
  char c;
  ssize_t n = ::read(read_fd, &c, 1);
  return n == 0;
}

UniqueFd Dup(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

UniqueFd MakeMemfd(const char* name = "wire-test") {
  return UniqueFd(::memfd_create(name, MFD_CLOEXEC));
}

UniqueFd MakeEventfd() { return UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)); }

// Lets a test hold a few thousand fds at once (the default soft limit may be 1024).
void RaiseFdLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < 8192 && rl.rlim_max > rl.rlim_cur) {
    rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void Append(std::vector<uint8_t>* out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

// A descriptor of an fd handle (one fd, no extra) unless the counts say otherwise: tests that
// use other counts expect a rejection.
WireHandle MakeWireHandle(uint32_t num_fds, uint32_t extra_bytes) {
  WireHandle w = {};
  w.type = MX_OBJ_TYPE_FD;
  w.rights = 3;
  w.koid = 1001;
  w.num_fds = num_fds;
  w.extra_bytes = extra_bytes;
  return w;
}

FrameHeader DataHeader() {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameData;
  h.seq = 1;
  return h;
}

// Builds a datagram by hand: |h| (fields used as given), then |payload|, then |section|.
// |h.num_bytes| and |h.desc_bytes| are filled in from the sizes unless |keep_sizes|.
std::vector<uint8_t> RawFrame(FrameHeader h, const std::vector<uint8_t>& payload,
                              const std::vector<uint8_t>& section, bool keep_sizes = false) {
  if (!keep_sizes) {
    h.num_bytes = static_cast<uint32_t>(payload.size());
    h.desc_bytes = static_cast<uint32_t>(section.size());
  }
  std::vector<uint8_t> out;
  Append(&out, &h, sizeof(h));
  Append(&out, payload.data(), payload.size());
  Append(&out, section.data(), section.size());
  return out;
}

std::vector<uint8_t> Section(const std::vector<std::pair<WireHandle, size_t>>& handles) {
  std::vector<uint8_t> out;
  for (const auto& [w, extra] : handles) {
    Append(&out, &w, sizeof(w));
    out.insert(out.end(), extra, 0xab);
  }
  return out;
}

// The state of an endpoint that carries exactly |num_fds| fds: the socket alone, or the socket,
// a queue blob and num_fds - 2 fds of queued handles. |tag| makes states tell apart.
EndpointState EndpointWithFds(uint32_t num_fds, uint64_t tag = 0) {
  EndpointState s = {};
  s.send_seq = tag;
  if (num_fds > 1) {
    s.flags = kEndpointHasQueue;
    s.queue_count = 1;
    s.queue_bytes = 16;
    s.queue_fds = num_fds - 2;
  }
  return s;
}

std::vector<uint8_t> EndpointExtra(uint32_t num_fds, uint64_t tag = 0) {
  EndpointState s = EndpointWithFds(num_fds, tag);
  const auto* b = reinterpret_cast<const uint8_t*>(&s);
  return std::vector<uint8_t>(b, b + sizeof(s));
}

// A handle section of one endpoint descriptor carrying |num_fds| fds.
std::vector<uint8_t> EndpointSection(uint32_t num_fds) {
  WireHandle w = {};
  w.type = MX_OBJ_TYPE_CHANNEL;
  w.num_fds = num_fds;
  w.extra_bytes = sizeof(EndpointState);
  std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(&w),
                           reinterpret_cast<const uint8_t*>(&w) + sizeof(w));
  std::vector<uint8_t> extra = EndpointExtra(num_fds);
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// A handle description with |fds| and |extra| bytes of state.
RawHandle MakeRawHandle(uint32_t type, std::vector<UniqueFd> fds, std::vector<uint8_t> extra) {
  RawHandle h;
  h.type = type;
  h.rights = 0x1234;
  h.koid = 0x1111222233334444ull + type;
  h.related_koid = 0x5555;
  h.info = 0x77;
  h.extra = std::move(extra);
  h.fds = std::move(fds);
  return h;
}

// A handle whose shape frame decoding accepts for its fd count: 1 fd an fd handle (or a plain
// endpoint with |as_channel|), 3 an event, 6 an eventpair side, any other count an endpoint with
// a queue. Frame decoding looks at shapes, not at what the fds are.
RawHandle ShapedHandle(uint64_t tag, std::vector<UniqueFd> fds, bool as_channel = false) {
  const uint32_t n = static_cast<uint32_t>(fds.size());
  uint32_t type = MX_OBJ_TYPE_CHANNEL;
  if (!as_channel && n == 1) type = MX_OBJ_TYPE_FD;
  if (!as_channel && n == kEventWireFds) type = MX_OBJ_TYPE_EVENT;
  if (!as_channel && n == kEventPairWireFds) type = MX_OBJ_TYPE_EVENT_PAIR;
  RawHandle h =
      MakeRawHandle(type, std::move(fds),
                    type == MX_OBJ_TYPE_CHANNEL ? EndpointExtra(n, tag) : std::vector<uint8_t>{});
  h.koid = 0x1111222233334444ull + tag;
  return h;
}

std::vector<UniqueFd> OneFd(int fd) {
  std::vector<UniqueFd> v;
  v.push_back(UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)));
  return v;
}

// Owned duplicates of borrowed fds, as a receiver would get them.
std::vector<UniqueFd> DupAll(const std::vector<int>& fds) {
  std::vector<UniqueFd> out;
  for (int fd : fds) out.push_back(Dup(fd));
  return out;
}

void ExpectSameHandle(const RawHandle& want, const RawHandle& got) {
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.rights, want.rights);
  EXPECT_EQ(got.koid, want.koid);
  EXPECT_EQ(got.related_koid, want.related_koid);
  EXPECT_EQ(got.info, want.info);
  EXPECT_EQ(got.extra, want.extra);
  ASSERT_EQ(got.fds.size(), want.fds.size());
  for (size_t i = 0; i < want.fds.size(); ++i) {
    EXPECT_TRUE(got.fds[i].is_valid());
    EXPECT_NE(got.fds[i].get(), want.fds[i].get()) << "decoded fds must be the receiver's own";
    EXPECT_EQ(IdOf(got.fds[i].get()), IdOf(want.fds[i].get())) << "fd " << i;
  }
}

// ---- Frames: round trips -------------------------------------------------------------------

TEST(WireTest, DataFrameWithPayloadHandlesExtraAndFdsRoundTrips) {
  const int fds_before = CountOpenFds();
  {
    Pipe pipe = MakePipe();
    UniqueFd memfd = MakeMemfd();
    UniqueFd eventfd = MakeEventfd();
    std::vector<RawHandle> handles;
    {
      std::vector<UniqueFd> fds;
      fds.push_back(Dup(pipe.read.get()));
      fds.push_back(Dup(pipe.write.get()));
      handles.push_back(ShapedHandle(1, std::move(fds)));  // two fds: an endpoint with a queue
    }
    handles.push_back(ShapedHandle(2, OneFd(memfd.get()), /*as_channel=*/true));  // 56 extra too
    {
      std::vector<UniqueFd> fds;
      fds.push_back(Dup(memfd.get()));
      fds.push_back(Dup(memfd.get()));
      fds.push_back(Dup(eventfd.get()));
      handles.push_back(ShapedHandle(3, std::move(fds)));
    }
    std::vector<uint8_t> payload(1000);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);

    FrameHeader h = {};
    h.kind = kFrameData;
    h.seq = 0x0102030405060708ull;
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    ASSERT_EQ(EncodeFrame(h, payload.data(), payload.size(), handles, &bytes, &fds, &overflow),
              MX_OK);
    EXPECT_FALSE(overflow.is_valid());
    ASSERT_EQ(fds.size(), 6u);
    // Borrowed, in handle order.
    EXPECT_EQ(fds[0], handles[0].fds[0].get());
    EXPECT_EQ(fds[1], handles[0].fds[1].get());
    EXPECT_EQ(fds[2], handles[1].fds[0].get());
    EXPECT_EQ(fds[3], handles[2].fds[0].get());
    EXPECT_EQ(fds[4], handles[2].fds[1].get());
    EXPECT_EQ(fds[5], handles[2].fds[2].get());
    EXPECT_EQ(bytes.size(), sizeof(FrameHeader) + payload.size() + 3 * sizeof(WireHandle) +
                                2 * kChannelWireExtra);

    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &frame), MX_OK);
    EXPECT_EQ(frame.header.magic, kFrameMagic);
    EXPECT_EQ(frame.header.kind, kFrameData);
    EXPECT_EQ(frame.header.flags, 0);
    EXPECT_EQ(frame.header.seq, h.seq);
    EXPECT_EQ(frame.header.num_bytes, payload.size());
    EXPECT_EQ(frame.header.num_handles, 3u);
    EXPECT_EQ(frame.header.num_fds, 6u);
    EXPECT_EQ(frame.message.bytes, payload);
    ASSERT_EQ(frame.message.handles.size(), handles.size());
    for (size_t i = 0; i < handles.size(); ++i)
      ExpectSameHandle(handles[i], frame.message.handles[i]);

    // The decoded fds are live: the eventfd and the pipe work through them.
    uint64_t one = 1;
    ASSERT_EQ(::write(frame.message.handles[2].fds[2].get(), &one, sizeof(one)), 8);
    uint64_t got = 0;
    ASSERT_EQ(::read(eventfd.get(), &got, sizeof(got)), 8);
    EXPECT_EQ(got, 1u);
    ASSERT_EQ(::write(frame.message.handles[0].fds[1].get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(pipe.read.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, EmptyDataFrameRoundTrips) {
  FrameHeader h = {};
  h.kind = kFrameData;
  h.seq = 42;
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  ASSERT_EQ(EncodeFrame(h, nullptr, 0, {}, &bytes, &fds, &overflow), MX_OK);
  EXPECT_EQ(bytes.size(), sizeof(FrameHeader));
  EXPECT_TRUE(fds.empty());
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), {}, &frame), MX_OK);
  EXPECT_EQ(frame.header.seq, 42u);
  EXPECT_TRUE(frame.message.bytes.empty());
  EXPECT_TRUE(frame.message.handles.empty());
}

TEST(WireTest, MaxSizeDataFrameRoundTrips) {
  std::vector<uint8_t> payload(MX_CHANNEL_MAX_MSG_BYTES, 0x5a);
  Pipe pipe = MakePipe();
  std::vector<RawHandle> handles;
  for (uint32_t i = 0; i < MX_CHANNEL_MAX_MSG_HANDLES; ++i) {
    handles.push_back(ShapedHandle(i, OneFd(pipe.write.get()), /*as_channel=*/true));
  }
  FrameHeader h = {};
  h.kind = kFrameData;
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  ASSERT_EQ(EncodeFrame(h, payload.data(), payload.size(), handles, &bytes, &fds, &overflow),
            MX_OK);
  EXPECT_EQ(bytes.size(), kMaxFrameBytes);
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &frame), MX_OK);
  EXPECT_EQ(frame.message.bytes, payload);
  ASSERT_EQ(frame.message.handles.size(), handles.size());
  for (size_t i = 0; i < handles.size(); ++i)
    ExpectSameHandle(handles[i], frame.message.handles[i]);
}

TEST(WireTest, PayloadInRingFrameKeepsItsFlagAndHandles) {
  Pipe pipe = MakePipe();
  std::vector<RawHandle> handles;
  {
    std::vector<UniqueFd> fds;
    fds.push_back(Dup(pipe.write.get()));
    handles.push_back(ShapedHandle(5, std::move(fds)));
  }
  FrameHeader h = {};
  h.kind = kFrameData;
  h.flags = kFlagPayloadInRing | kFlagFdOverflow | 0x80;  // only kFlagPayloadInRing is kept
  h.seq = 9;
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  ASSERT_EQ(EncodeFrame(h, nullptr, 0, handles, &bytes, &fds, &overflow), MX_OK);
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &frame), MX_OK);
  EXPECT_EQ(frame.header.flags, kFlagPayloadInRing);
  ASSERT_EQ(frame.message.handles.size(), 1u);
  ExpectSameHandle(handles[0], frame.message.handles[0]);
}

TEST(WireTest, SignalKickAndRingFramesDecode) {
  {
    uint32_t masks[2] = {1, 2};
    FrameHeader h = {};
    h.kind = kFrameSignal;
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    ASSERT_EQ(EncodeFrame(h, reinterpret_cast<const uint8_t*>(masks), sizeof(masks), {}, &bytes,
                          &fds, &overflow),
              MX_OK);
    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), {}, &frame), MX_OK);
    EXPECT_EQ(frame.header.kind, kFrameSignal);
    EXPECT_EQ(frame.message.bytes.size(), 8u);
  }
  {
    FrameHeader h = {};
    h.kind = kFrameKick;
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    ASSERT_EQ(EncodeFrame(h, nullptr, 0, {}, &bytes, &fds, &overflow), MX_OK);
    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), {}, &frame), MX_OK);
    EXPECT_EQ(frame.header.kind, kFrameKick);
  }
  {
    // A ring announcement as ChannelEndpoint::SendControlLocked builds it: 8 bytes, one fd.
    UniqueFd memfd = MakeMemfd();
    FrameHeader h = {};
    h.magic = kFrameMagic;
    h.kind = kFrameRing;
    h.num_fds = 1;
    std::vector<uint8_t> bytes = RawFrame(h, std::vector<uint8_t>(8, 0), {});
    std::vector<UniqueFd> fds;
    fds.push_back(Dup(memfd.get()));
    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(fds), &frame), MX_OK);
    ASSERT_EQ(frame.message.handles.size(), 1u);
    ASSERT_EQ(frame.message.handles[0].fds.size(), 1u);
    EXPECT_EQ(IdOf(frame.message.handles[0].fds[0].get()), IdOf(memfd.get()));
  }
}

TEST(WireTest, StartupFrameAllowsMoreHandlesThanAChannelMessage) {
  Pipe pipe = MakePipe();
  std::vector<RawHandle> handles;
  for (uint32_t i = 0; i < MX_CHANNEL_MAX_MSG_HANDLES + 10; ++i) {
    RawHandle h = ShapedHandle(i, OneFd(pipe.write.get()));
    h.info = 0x100 + i;
    handles.push_back(std::move(h));
  }
  FrameHeader h = {};
  h.kind = kFrameStartup;
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  ASSERT_EQ(EncodeFrame(h, nullptr, 0, handles, &bytes, &fds, &overflow), MX_OK);
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &frame), MX_OK);
  ASSERT_EQ(frame.message.handles.size(), handles.size());
  EXPECT_EQ(frame.message.handles.back().info, 0x100 + MX_CHANNEL_MAX_MSG_HANDLES + 9);

  // The same handles in a data frame are too many.
  h.kind = kFrameData;
  ASSERT_EQ(EncodeFrame(h, nullptr, 0, handles, &bytes, &fds, &overflow), MX_OK);
  EXPECT_EQ(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &frame), MX_ERR_IO);
}

// ---- Frames: the overflow socket -----------------------------------------------------------

TEST(WireTest, FrameWith300FdsTravelsThroughTheOverflowSocket) {
  RaiseFdLimit();
  const int fds_before = CountOpenFds();
  {
    // Three handles with 100 distinct files each (memfds: each has its own inode).
    std::vector<RawHandle> handles;
    std::vector<FileId> want;
    for (uint32_t i = 0; i < 3; ++i) {
      std::vector<UniqueFd> fds;
      for (int f = 0; f < 100; ++f) {
        fds.push_back(MakeMemfd());
        ASSERT_TRUE(fds.back().is_valid());
        want.push_back(IdOf(fds.back().get()));
      }
      handles.push_back(ShapedHandle(i, std::move(fds)));
    }
    FrameHeader h = {};
    h.kind = kFrameData;
    h.seq = 3;
    const uint8_t payload[] = {1, 2, 3};
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    ASSERT_EQ(EncodeFrame(h, payload, sizeof(payload), handles, &bytes, &fds, &overflow), MX_OK);
    ASSERT_TRUE(overflow.is_valid()) << "EncodeFrame must create the overflow socket";
    ASSERT_EQ(fds.size(), kMaxFdsPerDatagram);
    EXPECT_EQ(fds.back(), overflow.get());
    for (size_t i = 0; i + 1 < fds.size(); ++i) EXPECT_EQ(IdOf(fds[i]), want[i]);

    UniqueFd a, b;
    ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
    struct iovec iov = {bytes.data(), bytes.size()};
    ASSERT_EQ(SendDatagram(a.get(), &iov, 1, fds.data(), fds.size()), MX_OK);
    overflow.reset();  // the sender keeps nothing once the frame is sent

    std::vector<uint8_t> buffer(kMaxFrameBytes);
    ReceivedDatagram got;
    ASSERT_EQ(ReceiveDatagram(b.get(), buffer.data(), buffer.size(), &got), MX_OK);
    ASSERT_FALSE(got.truncated);
    ASSERT_FALSE(got.bad_control);
    ASSERT_EQ(got.fds.size(), kMaxFdsPerDatagram);

    Frame frame;
    ASSERT_EQ(DecodeFrame(buffer.data(), got.size, std::move(got.fds), &frame), MX_OK);
    EXPECT_EQ(frame.header.num_fds, 300u);
    EXPECT_EQ(frame.header.flags & kFlagFdOverflow, kFlagFdOverflow);
    EXPECT_EQ(frame.message.bytes, std::vector<uint8_t>(payload, payload + 3));
    ASSERT_EQ(frame.message.handles.size(), 3u);
    EXPECT_EQ(frame.message.total_fds(), 300u);
    size_t k = 0;
    for (const RawHandle& rh : frame.message.handles) {
      ASSERT_EQ(rh.fds.size(), 100u);
      for (const UniqueFd& fd : rh.fds) {
        EXPECT_EQ(IdOf(fd.get()), want[k]) << "fd " << k << " out of order";
        ++k;
      }
    }
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, FrameWith2000FdsUsesSeveralOverflowChunks) {
  RaiseFdLimit();
  const int fds_before = CountOpenFds();
  {
    // 2000 fds (copies of 7 memfds in a repeating pattern) over 4 handles: 252 inline, then 7
    // full chunks of 253 and a partial one.
    std::vector<UniqueFd> files;
    for (int i = 0; i < 7; ++i) files.push_back(MakeMemfd());
    std::vector<RawHandle> handles;
    for (int hi = 0; hi < 4; ++hi) {
      std::vector<UniqueFd> fds;
      for (int f = 0; f < 500; ++f) {
        fds.push_back(Dup(files[static_cast<size_t>(hi * 500 + f) % 7].get()));
      }
      handles.push_back(ShapedHandle(static_cast<uint32_t>(hi), std::move(fds)));
    }
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    ASSERT_EQ(EncodeFrame(DataHeader(), nullptr, 0, handles, &bytes, &fds, &overflow), MX_OK);
    ASSERT_TRUE(overflow.is_valid());
    std::vector<UniqueFd> received = DupAll(fds);  // what the kernel would hand the receiver
    handles.clear();  // the receiver's copies must not depend on the sender's
    overflow.reset();
    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(received), &frame), MX_OK);
    ASSERT_EQ(frame.message.handles.size(), 4u);
    size_t k = 0;
    for (const RawHandle& rh : frame.message.handles) {
      ASSERT_EQ(rh.fds.size(), 500u);
      for (const UniqueFd& fd : rh.fds) {
        ASSERT_EQ(IdOf(fd.get()), IdOf(files[k % 7].get())) << "fd " << k;
        ++k;
      }
    }
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, FrameWithExactly253FdsNeedsNoOverflowSocket) {
  RaiseFdLimit();
  Pipe pipe = MakePipe();
  std::vector<UniqueFd> fds;
  for (size_t i = 0; i < kMaxFdsPerDatagram; ++i) fds.push_back(Dup(pipe.write.get()));
  std::vector<RawHandle> handles;
  handles.push_back(ShapedHandle(1, std::move(fds)));
  std::vector<uint8_t> bytes;
  std::vector<int> out_fds;
  UniqueFd overflow;
  ASSERT_EQ(EncodeFrame(DataHeader(), nullptr, 0, handles, &bytes, &out_fds, &overflow), MX_OK);
  EXPECT_FALSE(overflow.is_valid());
  EXPECT_EQ(out_fds.size(), kMaxFdsPerDatagram);
  FrameHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  EXPECT_EQ(h.flags & kFlagFdOverflow, 0);
}

// ---- Frames: malformed input ---------------------------------------------------------------

// Decodes |bytes| with |num_attached| copies of a pipe's write end attached and checks that the
// frame is rejected with MX_ERR_IO, that every attached fd was closed, and that no fd leaked.
void ExpectRejected(const std::vector<uint8_t>& bytes, size_t num_attached,
                    size_t size = SIZE_MAX) {
  const int fds_before = CountOpenFds();
  {
    Pipe pipe = MakePipe();
    std::vector<UniqueFd> fds;
    for (size_t i = 0; i < num_attached; ++i) fds.push_back(Dup(pipe.write.get()));
    pipe.write.reset();
    Frame frame;
    EXPECT_EQ(
        DecodeFrame(bytes.data(), size == SIZE_MAX ? bytes.size() : size, std::move(fds), &frame),
        MX_ERR_IO);
    EXPECT_TRUE(frame.message.handles.empty());
    EXPECT_TRUE(WriteEndsClosed(pipe.read.get())) << "DecodeFrame kept an attached fd open";
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

// A well-formed frame with one fd handle (one fd, no extra); tests break one field.
struct GoodFrame {
  FrameHeader header = DataHeader();
  std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  WireHandle handle = MakeWireHandle(1, 0);
  std::vector<uint8_t> Bytes() const {
    FrameHeader h = header;
    h.num_handles = 1;
    h.num_fds = 1;
    return RawFrame(h, payload, Section({{handle, 0}}));
  }
};

TEST(WireTest, GoodFrameUsedByRejectionTestsIsAccepted) {
  // Sanity check for the rejection tests below: without the defect, the frame decodes.
  std::vector<uint8_t> bytes = GoodFrame().Bytes();
  Pipe pipe = MakePipe();
  std::vector<UniqueFd> fds;
  fds.push_back(Dup(pipe.write.get()));
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(fds), &frame), MX_OK);
  ASSERT_EQ(frame.message.handles.size(), 1u);
  EXPECT_EQ(frame.message.handles[0].type, static_cast<uint32_t>(MX_OBJ_TYPE_FD));
}

TEST(WireTest, RejectsTruncatedHeader) {
  std::vector<uint8_t> bytes = GoodFrame().Bytes();
  ExpectRejected(bytes, 1, sizeof(FrameHeader) - 1);
  ExpectRejected(bytes, 1, 0);
  ExpectRejected(bytes, 1, 1);
}

TEST(WireTest, RejectsTruncatedBody) {
  std::vector<uint8_t> bytes = GoodFrame().Bytes();
  for (size_t cut = 1; cut < bytes.size() - sizeof(FrameHeader); cut += 7) {
    ExpectRejected(bytes, 1, bytes.size() - cut);
  }
}

TEST(WireTest, RejectsWrongMagic) {
  GoodFrame f;
  f.header.magic = kFrameMagic ^ 1;
  ExpectRejected(f.Bytes(), 1);
  f.header.magic = 0;
  ExpectRejected(f.Bytes(), 1);
}

TEST(WireTest, RejectsNonZeroReserved) {
  GoodFrame f;
  f.header.reserved = 1;
  ExpectRejected(f.Bytes(), 1);
}

TEST(WireTest, RejectsUnknownKind) {
  for (uint8_t kind : {0, 6, 7, 0x7f, 0xff}) {
    GoodFrame f;
    f.header.kind = kind;
    ExpectRejected(f.Bytes(), 1);
  }
}

TEST(WireTest, RejectsNumBytesLargerThanTheDatagram) {
  GoodFrame f;
  std::vector<uint8_t> bytes = f.Bytes();
  FrameHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  for (uint32_t n : {h.num_bytes + 1, h.num_bytes + 100, 0xffffffffu, 0xfffffff0u,
                     static_cast<uint32_t>(MX_CHANNEL_MAX_MSG_BYTES)}) {
    FrameHeader bad = h;
    bad.num_bytes = n;
    std::memcpy(bytes.data(), &bad, sizeof(bad));
    ExpectRejected(bytes, 1);
  }
}

TEST(WireTest, RejectsPayloadOverTheMessageLimit) {
  FrameHeader h = DataHeader();
  std::vector<uint8_t> payload(MX_CHANNEL_MAX_MSG_BYTES + 1, 1);
  ExpectRejected(RawFrame(h, payload, {}), 0);
}

TEST(WireTest, RejectsDescBytesThatDisagreeWithTheDatagramSize) {
  GoodFrame f;
  std::vector<uint8_t> bytes = f.Bytes();
  FrameHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  for (uint32_t d :
       {h.desc_bytes - 1, h.desc_bytes + 1, 0u, 0xffffffffu, 0xffffffffu - h.num_bytes - 31}) {
    FrameHeader bad = h;
    bad.desc_bytes = d;
    std::memcpy(bytes.data(), &bad, sizeof(bad));
    ExpectRejected(bytes, 1);
  }
}

TEST(WireTest, RejectsLyingNumHandles) {
  GoodFrame f;
  // More handles claimed than described.
  FrameHeader h = f.header;
  h.num_handles = 2;
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, f.payload, Section({{f.handle, 4}})), 1);
  // Fewer handles claimed than described (trailing descriptor).
  h.num_handles = 1;
  ExpectRejected(RawFrame(h, f.payload, Section({{f.handle, 4}, {MakeWireHandle(0, 0), 0}})), 1);
  // No handles claimed but a section present.
  h.num_handles = 0;
  h.num_fds = 0;
  ExpectRejected(RawFrame(h, f.payload, Section({{MakeWireHandle(0, 0), 0}})), 0);
  // No handles claimed but an fd attached and counted.
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, f.payload, {}), 1);
  // Over the per-message handle limit.
  h.num_handles = MX_CHANNEL_MAX_MSG_HANDLES + 1;
  h.num_fds = 0;
  std::vector<std::pair<WireHandle, size_t>> many(MX_CHANNEL_MAX_MSG_HANDLES + 1,
                                                  {MakeWireHandle(0, 0), 0});
  ExpectRejected(RawFrame(h, f.payload, Section(many)), 0);
  // A huge count with a tiny section.
  h.num_handles = 0xffffffffu;
  ExpectRejected(RawFrame(h, f.payload, Section({{MakeWireHandle(0, 0), 0}})), 0);
}

TEST(WireTest, RejectsFewerFdsAttachedThanNumFdsClaims) {
  GoodFrame f;
  FrameHeader h = f.header;
  h.num_handles = 1;
  h.num_fds = 2;
  ExpectRejected(RawFrame(h, f.payload, Section({{MakeWireHandle(2, 4), 4}})), 1);
  ExpectRejected(RawFrame(h, f.payload, Section({{MakeWireHandle(2, 4), 4}})), 0);
}

TEST(WireTest, RejectsMoreFdsAttachedThanNumFdsClaims) {
  // "Extra fds": the descriptors and num_fds agree, but more fds arrived.
  GoodFrame f;
  ExpectRejected(f.Bytes(), 2);
  ExpectRejected(f.Bytes(), 10);
  FrameHeader h = DataHeader();
  ExpectRejected(RawFrame(h, {1, 2}, {}), 1);  // a handle-free frame with an fd
  h.kind = kFrameKick;
  ExpectRejected(RawFrame(h, {}, {}), 1);
  h.kind = kFrameSignal;
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), {}), 1);
}

TEST(WireTest, RejectsHandleFdCountsThatExceedTheAttachedFds) {
  FrameHeader h = DataHeader();
  h.num_handles = 2;
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, {}, Section({{MakeWireHandle(1, 0), 0}, {MakeWireHandle(1, 0), 0}})),
                 1);
  // A single descriptor claiming more than the limit.
  h.num_handles = 1;
  ExpectRejected(RawFrame(h, {}, Section({{MakeWireHandle(kMaxHandleFds + 1, 0), 0}})), 1);
  ExpectRejected(RawFrame(h, {}, Section({{MakeWireHandle(0xffffffffu, 0), 0}})), 1);
}

TEST(WireTest, RejectsHandleFdCountsThatLeaveAttachedFdsUnclaimed) {
  FrameHeader h = DataHeader();
  h.num_handles = 2;
  h.num_fds = 3;
  ExpectRejected(RawFrame(h, {}, Section({{MakeWireHandle(1, 0), 0}, {MakeWireHandle(1, 0), 0}})),
                 3);
}

TEST(WireTest, RejectsExtraBytesBeyondTheSection) {
  FrameHeader h = DataHeader();
  h.num_handles = 1;
  h.num_fds = 1;
  // The descriptor claims 100 extra bytes, 10 follow.
  ExpectRejected(RawFrame(h, {9}, Section({{MakeWireHandle(1, 100), 10}})), 1);
  // Past the limit, even though the bytes are there.
  ExpectRejected(
      RawFrame(h, {9}, Section({{MakeWireHandle(1, kMaxExtraBytes + 1), kMaxExtraBytes + 1}})), 1);
  ExpectRejected(RawFrame(h, {9}, Section({{MakeWireHandle(1, 0xffffffffu), 8}})), 1);
  // The second handle's extra runs past the end.
  h.num_handles = 2;
  h.num_fds = 2;
  ExpectRejected(RawFrame(h, {}, Section({{MakeWireHandle(1, 8), 8}, {MakeWireHandle(1, 8), 4}})),
                 2);
}

TEST(WireTest, RejectsInvalidFlags) {
  for (uint8_t flags : {4, 8, 0x80, 0xff, 0xfc}) {
    GoodFrame f;
    f.header.flags = flags;
    ExpectRejected(f.Bytes(), 1);
  }
}

TEST(WireTest, RejectsPayloadInRingWithAPayload) {
  GoodFrame f;
  f.header.flags = kFlagPayloadInRing;
  ExpectRejected(f.Bytes(), 1);
  // And on a kind other than data.
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameKick;
  h.flags = kFlagPayloadInRing;
  ExpectRejected(RawFrame(h, {}, {}), 0);
  h.kind = kFrameStartup;
  ExpectRejected(RawFrame(h, {}, {}), 0);
}

TEST(WireTest, RejectsControlFramesWithWrongShapes) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameSignal;
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(7, 0), {}), 0);
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(9, 0), {}), 0);
  h.kind = kFrameRing;
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), {}), 0);  // the memfd is missing
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), {}), 2);
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(4, 0), {}), 1);
  h.num_fds = 0;
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), {}), 0);
  h.kind = kFrameKick;
  ExpectRejected(RawFrame(h, {1}, {}), 0);
}

TEST(WireTest, RejectsRingFrameWithTrailingBytes) {
  // A ring announcement has no handle section; bytes after the payload are not ignored.
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameRing;
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), {1, 2, 3}), 1);
  ExpectRejected(RawFrame(h, std::vector<uint8_t>(8, 0), Section({{MakeWireHandle(1, 0), 0}})), 1);
}

// Overflow frames: 252 attached fds (copies of one pipe's write end) + |overflow| last.
void ExpectOverflowRejected(uint32_t num_fds, UniqueFd overflow) {
  const int fds_before = CountOpenFds();
  {
    Pipe pipe = MakePipe();
    std::vector<UniqueFd> fds;
    for (size_t i = 0; i + 1 < kMaxFdsPerDatagram; ++i) fds.push_back(Dup(pipe.write.get()));
    pipe.write.reset();
    fds.push_back(std::move(overflow));
    FrameHeader h = DataHeader();
    h.flags = kFlagFdOverflow;
    h.num_handles = 1;
    h.num_fds = num_fds;
    std::vector<uint8_t> bytes = RawFrame(h, {}, Section({{MakeWireHandle(num_fds, 0), 0}}));
    Frame frame;
    EXPECT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(fds), &frame), MX_ERR_IO);
    EXPECT_TRUE(WriteEndsClosed(pipe.read.get())) << "DecodeFrame kept an attached fd open";
  }
  EXPECT_EQ(CountOpenFds(), fds_before - 1);  // |overflow| was counted before and is consumed
}

// A seqpacket pair whose |sender| end queued |chunks| ({magic, count} headers, each with
// |fds_per_chunk| copies of |fd| attached), then closed. Returns the receiving end.
struct Chunk {
  uint32_t magic;
  uint32_t count;
};
constexpr uint32_t kOverflowMagicForTest = 0x4f46584du;  // "MXFO", as in wire.cc

UniqueFd OverflowSocketWith(const std::vector<Chunk>& chunks, const std::vector<size_t>& nfds,
                            int fd, size_t chunk_bytes = sizeof(Chunk)) {
  UniqueFd a, b;
  EXPECT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::vector<uint8_t> buf(chunk_bytes, 0);
    std::memcpy(buf.data(), &chunks[i], std::min(chunk_bytes, sizeof(Chunk)));
    std::vector<int> fds(nfds[i], fd);
    struct iovec iov = {buf.data(), buf.size()};
    EXPECT_EQ(SendDatagram(a.get(), &iov, 1, fds.data(), fds.size()), MX_OK);
  }
  return b;
}

TEST(WireTest, RejectsOverflowFlagWithoutEnoughAttachedFds) {
  FrameHeader h = DataHeader();
  h.flags = kFlagFdOverflow;
  h.num_handles = 1;
  h.num_fds = 300;
  std::vector<uint8_t> bytes = RawFrame(h, {}, Section({{MakeWireHandle(300, 0), 0}}));
  ExpectRejected(bytes, 0);
  ExpectRejected(bytes, 1);
  ExpectRejected(bytes, kMaxFdsPerDatagram - 1);
}

TEST(WireTest, RejectsOverflowFlagWithSmallNumFds) {
  // Overflow only makes sense past 253 fds.
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ExpectOverflowRejected(kMaxFdsPerDatagram, std::move(b));
}

TEST(WireTest, RejectsOverflowSocketThatIsNotASocket) {
  Pipe other = MakePipe();
  UniqueFd not_a_socket = std::move(other.read);
  ExpectOverflowRejected(300, std::move(not_a_socket));
  ExpectOverflowRejected(300, MakeMemfd());
  ExpectOverflowRejected(300, MakeEventfd());
}

TEST(WireTest, RejectsOverflowSocketWithNothingQueued) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ExpectOverflowRejected(300, std::move(b));  // peer alive, queue empty: would block
  UniqueFd c, d;
  ASSERT_EQ(CreateSeqpacketPair(&c, &d), MX_OK);
  c.reset();
  ExpectOverflowRejected(300, std::move(d));  // peer gone, queue empty
}

TEST(WireTest, RejectsBogusOverflowChunks) {
  // The fds inside the chunks are copies of |inner|'s write end: they must be closed too.
  struct Case {
    const char* name;
    std::vector<Chunk> chunks;
    std::vector<size_t> nfds;
    size_t chunk_bytes;
  };
  const std::vector<Case> cases = {
      {"wrong magic", {{0x12345678, 48}}, {48}, sizeof(Chunk)},
      {"count disagrees with attached", {{kOverflowMagicForTest, 47}}, {48}, sizeof(Chunk)},
      {"more fds than claimed", {{kOverflowMagicForTest, 60}}, {60}, sizeof(Chunk)},
      {"too few fds, then nothing", {{kOverflowMagicForTest, 10}}, {10}, sizeof(Chunk)},
      {"chunk too long", {{kOverflowMagicForTest, 48}}, {48}, sizeof(Chunk) + 8},
      {"chunk too short", {{kOverflowMagicForTest, 48}}, {48}, 4},
      {"second chunk overshoots",
       {{kOverflowMagicForTest, 40}, {kOverflowMagicForTest, 40}},
       {40, 40},
       sizeof(Chunk)},
      {"empty chunks",
       {{kOverflowMagicForTest, 0}, {kOverflowMagicForTest, 0}},
       {0, 0},
       sizeof(Chunk)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Pipe inner = MakePipe();
    UniqueFd sock = OverflowSocketWith(c.chunks, c.nfds, inner.write.get(), c.chunk_bytes);
    inner.write.reset();
    ExpectOverflowRejected(300, std::move(sock));  // 252 inline + 48 expected
    EXPECT_TRUE(WriteEndsClosed(inner.read.get())) << "an fd from an overflow chunk leaked";
  }
}

TEST(WireTest, AcceptsHandBuiltOverflowFrame) {
  // The same machinery as the rejections above, with a correct chunk: guards the test helpers.
  Pipe inner = MakePipe();
  UniqueFd sock = OverflowSocketWith({{kOverflowMagicForTest, 48}}, {48}, inner.write.get());
  Pipe outer = MakePipe();
  std::vector<UniqueFd> fds;
  for (size_t i = 0; i + 1 < kMaxFdsPerDatagram; ++i) fds.push_back(Dup(outer.write.get()));
  fds.push_back(std::move(sock));
  FrameHeader h = DataHeader();
  h.flags = kFlagFdOverflow;
  h.num_handles = 1;
  h.num_fds = 300;
  std::vector<uint8_t> bytes = RawFrame(h, {}, EndpointSection(300));
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(fds), &frame), MX_OK);
  ASSERT_EQ(frame.message.handles.size(), 1u);
  ASSERT_EQ(frame.message.handles[0].fds.size(), 300u);
  EXPECT_EQ(IdOf(frame.message.handles[0].fds[251].get()), IdOf(outer.write.get()));
  EXPECT_EQ(IdOf(frame.message.handles[0].fds[252].get()), IdOf(inner.write.get()));
}

// ---- Frames: each handle type's shape ------------------------------------------------------

// A frame with one handle of |type| carrying |num_fds| fds and |extra| (tracer pipe copies).
std::vector<uint8_t> OneHandleFrame(uint32_t type, uint32_t num_fds,
                                    const std::vector<uint8_t>& extra) {
  WireHandle w = {};
  w.type = type;
  w.num_fds = num_fds;
  w.extra_bytes = static_cast<uint32_t>(extra.size());
  std::vector<uint8_t> section;
  Append(&section, &w, sizeof(w));
  Append(&section, extra.data(), extra.size());
  FrameHeader h = DataHeader();
  h.num_handles = 1;
  h.num_fds = num_fds;
  return RawFrame(h, {'s'}, section);
}

mx_status_t DecodeWithFds(const std::vector<uint8_t>& bytes, uint32_t num_fds, Frame* frame) {
  Pipe pipe = MakePipe();
  std::vector<UniqueFd> fds;
  for (uint32_t i = 0; i < num_fds; ++i) fds.push_back(Dup(pipe.write.get()));
  return DecodeFrame(bytes.data(), bytes.size(), std::move(fds), frame);
}

TEST(WireTest, AcceptsEachTypeWithItsExactShapeOnly) {
  struct Shape {
    uint32_t type;
    uint32_t fds;
  };
  const Shape shapes[] = {{MX_OBJ_TYPE_EVENT, kEventWireFds},
                          {MX_OBJ_TYPE_EVENT_PAIR, kEventPairWireFds},
                          {MX_OBJ_TYPE_VMO, kVmoWireFds},
                          {MX_OBJ_TYPE_SOCKET, kSocketWireFds},
                          {MX_OBJ_TYPE_FD, kFdWireFds}};
  for (const Shape& shape : shapes) {
    SCOPED_TRACE(shape.type);
    Frame frame;
    ASSERT_EQ(DecodeWithFds(OneHandleFrame(shape.type, shape.fds, {}), shape.fds, &frame), MX_OK);
    ASSERT_EQ(frame.message.handles.size(), 1u);
    ExpectRejected(OneHandleFrame(shape.type, shape.fds + 1, {}), shape.fds + 1);
    ExpectRejected(OneHandleFrame(shape.type, shape.fds - 1, {}), shape.fds - 1);
    // Extra bytes that cost the sender nothing and describe nothing.
    ExpectRejected(OneHandleFrame(shape.type, shape.fds, std::vector<uint8_t>(1300, 1)), shape.fds);
    ExpectRejected(OneHandleFrame(shape.type, shape.fds, {0}), shape.fds);
  }
  // Endpoints: the state decides the count.
  Frame frame;
  ASSERT_EQ(DecodeWithFds(OneHandleFrame(MX_OBJ_TYPE_CHANNEL, 7, EndpointExtra(7)), 7, &frame),
            MX_OK);
  ExpectRejected(OneHandleFrame(MX_OBJ_TYPE_CHANNEL, 6, EndpointExtra(7)), 6);
  ExpectRejected(OneHandleFrame(MX_OBJ_TYPE_CHANNEL, 1, std::vector<uint8_t>(48, 0)), 1);
  std::vector<uint8_t> bad_flags = EndpointExtra(1);
  bad_flags[offsetof(EndpointState, flags)] = 0x80;
  ExpectRejected(OneHandleFrame(MX_OBJ_TYPE_CHANNEL, 1, bad_flags), 1);
  // Types that never travel.
  ExpectRejected(OneHandleFrame(MX_OBJ_TYPE_PROCESS, 1, {}), 1);
  ExpectRejected(OneHandleFrame(0x7e5701u, 1, {}), 1);
  ExpectRejected(OneHandleFrame(0, 0, {}), 0);
}

TEST(WireTest, DropsAnEndpointOverTheQueueLimitsAndKeepsTheMessage) {
  const int fds_before = CountOpenFds();
  {
    Pipe kept = MakePipe();
    Pipe dropped = MakePipe();
    // fd handle, an endpoint claiming a 1 GiB queue, fd handle.
    EndpointState s = {};
    s.flags = kEndpointHasQueue;
    s.queue_count = 1;
    s.queue_bytes = uint64_t{1} << 30;
    s.queue_fds = 1;
    std::vector<uint8_t> section;
    WireHandle fd_handle = MakeWireHandle(1, 0);
    WireHandle ep = {};
    ep.type = MX_OBJ_TYPE_CHANNEL;
    ep.num_fds = 3;
    ep.extra_bytes = sizeof(s);
    Append(&section, &fd_handle, sizeof(fd_handle));
    Append(&section, &ep, sizeof(ep));
    Append(&section, &s, sizeof(s));
    Append(&section, &fd_handle, sizeof(fd_handle));
    FrameHeader h = DataHeader();
    h.num_handles = 3;
    h.num_fds = 5;
    std::vector<uint8_t> bytes = RawFrame(h, {'m'}, section);
    std::vector<UniqueFd> fds;
    fds.push_back(Dup(kept.write.get()));
    for (int i = 0; i < 3; ++i) fds.push_back(Dup(dropped.write.get()));
    fds.push_back(Dup(kept.write.get()));
    dropped.write.reset();
    Frame frame;
    ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), std::move(fds), &frame), MX_OK);
    EXPECT_EQ(frame.message.bytes, std::vector<uint8_t>{'m'});
    ASSERT_EQ(frame.message.handles.size(), 2u);
    EXPECT_EQ(frame.message.handles[0].type, static_cast<uint32_t>(MX_OBJ_TYPE_FD));
    EXPECT_EQ(frame.message.handles[1].type, static_cast<uint32_t>(MX_OBJ_TYPE_FD));
    EXPECT_TRUE(WriteEndsClosed(dropped.read.get())) << "the dropped endpoint's fds stay open";
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, RejectsFramesClaimingMoreFdsThanAFrameMayCarry) {
  FrameHeader h = DataHeader();
  h.flags = kFlagFdOverflow;
  h.num_handles = 1;
  h.num_fds = kMaxFrameFds + 1;
  ExpectRejected(RawFrame(h, {}, EndpointSection(kMaxFrameFds + 1)), kMaxFdsPerDatagram);
}

TEST(WireTest, NoWriteFrameCarriesNothing) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameNoWrite;
  h.seq = 12;
  std::vector<uint8_t> bytes = RawFrame(h, {}, {});
  Frame frame;
  ASSERT_EQ(DecodeFrame(bytes.data(), bytes.size(), {}, &frame), MX_OK);
  EXPECT_EQ(frame.header.seq, 12u);
  ExpectRejected(RawFrame(h, {1}, {}), 0);
  h.num_fds = 1;
  ExpectRejected(RawFrame(h, {}, {}), 1);
}

// ---- Queue blobs ---------------------------------------------------------------------------

TEST(WireTest, QueueBlobRoundTrips) {
  const int fds_before = CountOpenFds();
  {
    Pipe pipe = MakePipe();
    UniqueFd memfd = MakeMemfd();
    std::vector<Message> messages(4);
    messages[0].bytes = {1, 2, 3};
    // messages[1]: empty
    messages[2].bytes.assign(5000, 0x42);
    {
      std::vector<UniqueFd> fds;
      fds.push_back(Dup(pipe.write.get()));
      fds.push_back(Dup(memfd.get()));
      messages[2].handles.push_back(ShapedHandle(1, std::move(fds)));
      messages[2].handles.push_back(ShapedHandle(2, OneFd(memfd.get()), /*as_channel=*/true));
    }
    {
      std::vector<UniqueFd> fds;
      fds.push_back(Dup(pipe.read.get()));
      messages[3].handles.push_back(ShapedHandle(3, std::move(fds)));
    }
    std::vector<const Message*> ptrs;
    for (const Message& m : messages) ptrs.push_back(&m);
    std::vector<uint8_t> blob = {0xee};  // EncodeQueue appends
    std::vector<int> fds = {-5};
    EncodeQueue(ptrs, &blob, &fds);
    ASSERT_EQ(blob[0], 0xee);
    ASSERT_EQ(fds.size(), 5u);
    EXPECT_EQ(fds[0], -5);

    std::vector<UniqueFd> owned = DupAll(std::vector<int>(fds.begin() + 1, fds.end()));
    size_t fd_index = 0;
    std::vector<Message> decoded;
    ASSERT_EQ(DecodeQueue(blob.data() + 1, blob.size() - 1, 4, &owned, &fd_index, &decoded), MX_OK);
    EXPECT_EQ(fd_index, 4u);
    ASSERT_EQ(decoded.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(decoded[i].bytes, messages[i].bytes);
      ASSERT_EQ(decoded[i].handles.size(), messages[i].handles.size());
      for (size_t j = 0; j < messages[i].handles.size(); ++j) {
        ExpectSameHandle(messages[i].handles[j], decoded[i].handles[j]);
      }
    }
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, QueueBlobDecodingConsumesFdsFromTheGivenIndex) {
  // Several blobs can share one fd vector (nested queues): decoding starts at *fd_index.
  Pipe pipe = MakePipe();
  Message m;
  std::vector<UniqueFd> hfds;
  hfds.push_back(Dup(pipe.write.get()));
  m.handles.push_back(ShapedHandle(1, std::move(hfds)));
  std::vector<uint8_t> blob;
  std::vector<int> fds;
  EncodeQueue({&m}, &blob, &fds);
  std::vector<UniqueFd> owned;
  owned.push_back(MakeEventfd());
  owned.push_back(Dup(fds[0]));
  size_t fd_index = 1;
  std::vector<Message> decoded;
  ASSERT_EQ(DecodeQueue(blob.data(), blob.size(), 1, &owned, &fd_index, &decoded), MX_OK);
  EXPECT_EQ(fd_index, 2u);
  EXPECT_TRUE(owned[0].is_valid());
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(IdOf(decoded[0].handles[0].fds[0].get()), IdOf(pipe.write.get()));
}

void ExpectQueueRejected(const std::vector<uint8_t>& blob, uint32_t count, size_t num_fds) {
  const int fds_before = CountOpenFds();
  {
    Pipe pipe = MakePipe();
    {
      std::vector<UniqueFd> fds;
      for (size_t i = 0; i < num_fds; ++i) fds.push_back(Dup(pipe.write.get()));
      pipe.write.reset();
      size_t fd_index = 0;
      std::vector<Message> out;
      EXPECT_EQ(DecodeQueue(blob.data(), blob.size(), count, &fds, &fd_index, &out), MX_ERR_IO);
    }
    EXPECT_TRUE(WriteEndsClosed(pipe.read.get()));
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(WireTest, RejectsMalformedQueueBlobs) {
  Message m;
  m.bytes = {1, 2, 3, 4};
  std::vector<uint8_t> blob;
  std::vector<int> fds;
  EncodeQueue({&m, &m}, &blob, &fds);
  {
    // Sanity: the blob decodes.
    std::vector<UniqueFd> none;
    size_t fd_index = 0;
    std::vector<Message> out;
    ASSERT_EQ(DecodeQueue(blob.data(), blob.size(), 2, &none, &fd_index, &out), MX_OK);
  }
  ExpectQueueRejected(blob, 3, 0);  // more messages claimed than present
  ExpectQueueRejected(blob, 1, 0);  // trailing bytes
  for (size_t cut = 1; cut < blob.size(); cut += 5) {
    ExpectQueueRejected(std::vector<uint8_t>(blob.begin(), blob.end() - cut), 2, 0);
  }
  // Corrupt each of the first record's four counts.
  for (size_t field = 0; field < 4; ++field) {
    for (uint32_t v : {0xffffffffu, 0x10001u, 1000u}) {
      std::vector<uint8_t> bad = blob;
      std::memcpy(bad.data() + field * 4, &v, 4);
      ExpectQueueRejected(bad, 2, field == 3 ? 2 : 0);
    }
  }
  // A record with num_fds smaller than its handles need, and the fds present.
  {
    Message with_fd;
    Pipe p = MakePipe();
    std::vector<UniqueFd> hfds;
    hfds.push_back(Dup(p.write.get()));
    with_fd.handles.push_back(ShapedHandle(1, std::move(hfds)));
    std::vector<uint8_t> b;
    std::vector<int> f;
    EncodeQueue({&with_fd}, &b, &f);
    uint32_t zero = 0;
    std::memcpy(b.data() + 12, &zero, 4);
    ExpectQueueRejected(b, 1, 1);
  }
  // Over the per-message limits.
  {
    uint32_t rec[4] = {MX_CHANNEL_MAX_MSG_BYTES + 1, 0, 0, 0};
    std::vector<uint8_t> b(sizeof(rec) + MX_CHANNEL_MAX_MSG_BYTES + 1, 0);
    std::memcpy(b.data(), rec, sizeof(rec));
    ExpectQueueRejected(b, 1, 0);
  }
}

// ---- Seed corpus for the fuzzer ------------------------------------------------------------

// Writes tests/fuzz/corpus/wire/ seeds in the format wire_fuzzer.cc reads.
// Input format: byte 0 mode (even: frame, odd: queue; queue count = byte 0 >> 1),
// byte 1 number of fds n (low 3 bits), bytes 2..2+n fd kinds (see wire_fuzzer.cc), then the data.
// Not a test but a corpus writer: `cmake --build --preset debug --target mx_write_corpus`
// rewrites tests/fuzz/corpus/wire/ (tests/fuzz/README.md). args[0]: the directory.
MX_CHILD(write_wire_corpus) {
  CHILD_CHECK(args.size() == 1);
  const char* dir = args[0].c_str();
  auto write = [&](const std::string& name, uint8_t mode, const std::vector<uint8_t>& kinds,
                   const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out = {mode, static_cast<uint8_t>(kinds.size())};
    out.insert(out.end(), kinds.begin(), kinds.end());
    out.insert(out.end(), data.begin(), data.end());
    std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    CHILD_CHECK(f.good());
  };
  auto encode = [](FrameHeader h, const std::vector<uint8_t>& payload,
                   const std::vector<RawHandle>& handles) {
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    EXPECT_EQ(EncodeFrame(h, payload.data(), payload.size(), handles, &bytes, &fds, &overflow),
              MX_OK);
    return bytes;
  };
  Pipe pipe = MakePipe();
  auto fds_of = [&](size_t n) {
    std::vector<UniqueFd> v;
    for (size_t i = 0; i < n; ++i) v.push_back(Dup(pipe.write.get()));
    return v;
  };
  FrameHeader h = {};
  h.kind = kFrameData;
  h.seq = 1;
  write("data_empty", 0, {}, encode(h, {}, {}));
  write("data_payload", 0, {}, encode(h, {'h', 'e', 'l', 'l', 'o'}, {}));
  {
    std::vector<RawHandle> hs;
    hs.push_back(ShapedHandle(3, fds_of(1)));
    write("data_one_handle", 0, {2}, encode(h, {'x'}, hs));
  }
  {
    std::vector<RawHandle> hs;
    hs.push_back(ShapedHandle(4, fds_of(2)));
    hs.push_back(ShapedHandle(2, fds_of(1), /*as_channel=*/true));
    hs.push_back(ShapedHandle(1, fds_of(1)));
    write("data_three_handles", 0, {0, 1, 4, 3}, encode(h, std::vector<uint8_t>(40, 'p'), hs));
  }
  {
    FrameHeader r = h;
    r.flags = kFlagPayloadInRing;
    std::vector<RawHandle> hs;
    hs.push_back(ShapedHandle(3, fds_of(1)));
    write("data_payload_in_ring", 0, {4}, encode(r, {}, hs));
  }
  {
    FrameHeader s = {};
    s.kind = kFrameSignal;
    write("signal", 0, {}, encode(s, std::vector<uint8_t>(8, 0), {}));
    s.kind = kFrameKick;
    write("kick", 0, {}, encode(s, {}, {}));
    FrameHeader ring = {};
    ring.magic = kFrameMagic;
    ring.kind = kFrameRing;
    ring.num_fds = 1;
    write("ring", 0, {2}, RawFrame(ring, std::vector<uint8_t>(8, 0), {}));
  }
  {
    FrameHeader st = {};
    st.kind = kFrameStartup;
    std::vector<RawHandle> hs;
    hs.push_back(ShapedHandle(5, fds_of(1)));
    hs.back().info = 0x10;
    write("startup", 0, {5}, encode(st, {}, hs));
  }
  // Handles that install (each object type's own checks pass; wire_fuzzer.cc installs the
  // handles of every frame that decodes), so the fuzzer starts past those checks. The fd kinds
  // are wire_fuzzer.cc's: 0 pipe read end, 2 eventfd, 3 memfd, 4 SOCK_SEQPACKET, 5 SOCK_STREAM,
  // 6 sealed 4 KiB memfd.
  {
    auto one = [&](const char* name, uint32_t type, const std::vector<uint8_t>& kinds,
                   std::vector<uint8_t> extra) {
      std::vector<RawHandle> hs;
      hs.push_back(MakeRawHandle(type, fds_of(kinds.size()), std::move(extra)));
      write(name, 0, kinds, encode(h, {'i'}, hs));
    };
    one("install_fd", MX_OBJ_TYPE_FD, {0}, {});
    one("install_vmo", MX_OBJ_TYPE_VMO, {3}, {});
    one("install_socket", MX_OBJ_TYPE_SOCKET, {5}, {});
    one("install_event_shape", MX_OBJ_TYPE_EVENT, {6, 2}, {});  // fails at the event's magic
    // An endpoint without rings or queue.
    one("install_channel", MX_OBJ_TYPE_CHANNEL, {4}, EndpointExtra(1));
  }
  // Invalid frames.
  {
    std::vector<uint8_t> good = GoodFrame().Bytes();
    write("bad_truncated_header", 0, {0}, std::vector<uint8_t>(good.begin(), good.begin() + 20));
    std::vector<uint8_t> bad = good;
    bad[0] ^= 1;
    write("bad_magic", 0, {0}, bad);
    bad = good;
    bad[4] = 9;
    write("bad_kind", 0, {0}, bad);
    write("bad_extra_fds", 0, {0, 1}, good);
    bad = good;
    bad[5] = kFlagFdOverflow;
    write("bad_overflow", 0, {0}, bad);
  }
  // An overflow frame: 252 inline fds + the overflow socket carrying one chunk of 48 fds.
  {
    FrameHeader o = DataHeader();
    o.flags = kFlagFdOverflow;
    o.num_handles = 1;
    o.num_fds = 300;
    std::vector<uint8_t> data(8 + 1);
    Chunk chunk = {kOverflowMagicForTest, 48};
    std::memcpy(data.data(), &chunk, sizeof(chunk));
    data[8] = 48;
    std::vector<uint8_t> frame = RawFrame(o, {}, EndpointSection(300));
    data.insert(data.end(), frame.begin(), frame.end());
    // Byte 1: no plain fds, overflow mode (bit 3), one chunk (bits 4-6).
    std::vector<uint8_t> out = {0, 0x18};
    out.insert(out.end(), data.begin(), data.end());
    std::ofstream f(std::string(dir) + "/overflow_300_fds", std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    CHILD_CHECK(f.good());
  }
  // Queue blobs.
  {
    Message a;
    a.bytes = {1, 2, 3};
    Message b;
    b.handles.push_back(ShapedHandle(2, fds_of(1)));
    b.handles.push_back(ShapedHandle(3, fds_of(1), /*as_channel=*/true));
    std::vector<uint8_t> blob;
    std::vector<int> fds;
    EncodeQueue({&a, &b}, &blob, &fds);
    write("queue_two", 2 << 1 | 1, {0, 4}, blob);
    write("queue_bad_count", 3 << 1 | 1, {0, 4}, blob);
  }
  // EXPECT_* in the helpers it shares with the tests report here, outside any test.
  return ::testing::UnitTest::GetInstance()->Failed() ? 1 : 0;
}

}  // namespace
}  // namespace mx::internal
