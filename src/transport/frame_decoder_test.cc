// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the pure frame codec (transport/wire.h: EncodeFrameBytes, FrameDecoder): what a
// frame announces, and the named reason for each rejection, from bytes and fd lists alone. No
// socket is involved: the decoder never looks at what its fds are, so copies of a pipe's write
// end stand for every fd, the overflow socket included. Once the decoder closed every copy, the
// (non-blocking) read end reports EOF: that is how a test sees that a rejection closed them all.
// The socket I/O around the codec is covered by wire_test.cc.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <magenta/types.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "support/fd_count.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

using mx_test::CountOpenFds;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe MakePipe() {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// |n| copies of |fd|.
std::vector<UniqueFd> Copies(int fd, size_t n) {
  std::vector<UniqueFd> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  return out;
}

bool WriteEndsClosed(int read_fd) {
  char c;
  return ::read(read_fd, &c, 1) == 0;
}

FrameHeader Header(uint8_t kind) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kind;
  h.seq = 7;
  return h;
}

// An endpoint descriptor that carries |num_fds| fds (its socket, a queue blob and the fds of the
// handles queued in it): the one handle type whose fd count is not fixed.
RawHandle EndpointHandle(std::vector<UniqueFd> fds) {
  EndpointState s = {};
  s.flags = kEndpointHasQueue;
  s.queue_count = 1;
  s.queue_bytes = 16;
  s.queue_fds = static_cast<uint32_t>(fds.size()) - 2;
  RawHandle h;
  h.type = MX_OBJ_TYPE_CHANNEL;
  h.koid = 1001;
  const auto* b = reinterpret_cast<const uint8_t*>(&s);
  h.extra.assign(b, b + sizeof(s));
  h.fds = std::move(fds);
  return h;
}

// A frame of |handles| endpoints with |fds_each| fds each, encoded; fds are copies of |fd|.
std::vector<uint8_t> EndpointFrame(int fd, size_t handles, size_t fds_each,
                                   size_t* overflow = nullptr) {
  std::vector<RawHandle> raw;
  for (size_t i = 0; i < handles; ++i) raw.push_back(EndpointHandle(Copies(fd, fds_each)));
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  const uint8_t payload[] = {1, 2, 3};
  size_t n = EncodeFrameBytes(Header(kFrameData), payload, sizeof(payload), raw, &bytes, &fds);
  EXPECT_EQ(fds.size(), handles * fds_each) << "the pure encoder lists every fd";
  if (overflow != nullptr) *overflow = n;
  return bytes;
}

FrameHeader HeaderOf(const std::vector<uint8_t>& bytes) {
  FrameHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  return h;
}

std::vector<uint8_t> Bytes(const FrameHeader& h, size_t extra = 0) {
  std::vector<uint8_t> out(sizeof(h) + extra, 0);
  std::memcpy(out.data(), &h, sizeof(h));
  return out;
}

// A decoder started on an overflowing frame of 300 fds: 252 attached plus the stand-in for the
// overflow socket, 48 missing.
struct OverflowFixture {
  Pipe pipe = MakePipe();
  std::vector<uint8_t> bytes = EndpointFrame(pipe.write.get(), 3, 100);
  FrameDecoder decoder;

  OverflowFixture() {
    EXPECT_EQ(decoder.Start(bytes.data(), bytes.size(), Copies(pipe.write.get(), 253)),
              FrameReject::kNone);
    pipe.write.reset();
  }
};

std::vector<uint8_t> Chunk(uint32_t magic, uint32_t count) {
  OverflowChunk c = {magic, count};
  std::vector<uint8_t> out(sizeof(c));
  std::memcpy(out.data(), &c, sizeof(c));
  return out;
}

// ---- Encoding --------------------------------------------------------------------------------

TEST(FrameDecoderTest, EncoderReportsTheFdsThatGoToTheOverflow) {
  Pipe pipe = MakePipe();
  size_t overflow = 0;
  std::vector<uint8_t> bytes = EndpointFrame(pipe.write.get(), 3, 100, &overflow);
  EXPECT_EQ(overflow, 300u - kInlineOverflowFds);
  EXPECT_EQ(HeaderOf(bytes).flags & kFlagFdOverflow, kFlagFdOverflow);
  EXPECT_EQ(HeaderOf(bytes).num_fds, 300u);

  bytes = EndpointFrame(pipe.write.get(), 1, kWireFdsPerDatagram, &overflow);
  EXPECT_EQ(overflow, 0u) << "253 fds fit one datagram";
  EXPECT_EQ(HeaderOf(bytes).flags & kFlagFdOverflow, 0);
}

TEST(FrameDecoderTest, FrameWithoutFdsRoundTrips) {
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  const uint8_t payload[] = {9, 8, 7, 6};
  ASSERT_EQ(EncodeFrameBytes(Header(kFrameData), payload, sizeof(payload), {}, &bytes, &fds), 0u);
  EXPECT_TRUE(fds.empty());
  FrameDecoder decoder;
  ASSERT_EQ(decoder.Start(bytes.data(), bytes.size(), {}), FrameReject::kNone);
  EXPECT_EQ(decoder.overflow_fds_missing(), 0u);
  EXPECT_EQ(decoder.overflow_socket(), -1);
  Frame frame;
  ASSERT_EQ(decoder.Finish(&frame), FrameReject::kNone);
  EXPECT_EQ(frame.header.seq, 7u);
  EXPECT_EQ(frame.message.bytes, std::vector<uint8_t>(payload, payload + sizeof(payload)));
  EXPECT_TRUE(frame.message.handles.empty());
}

// ---- Overflow, from bytes alone ----------------------------------------------------------------

TEST(FrameDecoderTest, OverflowFrameAnnouncesTheFdsStillToCome) {
  const int fds_before = CountOpenFds();
  {
    OverflowFixture f;
    EXPECT_EQ(f.decoder.overflow_fds_missing(), 48u);
    EXPECT_GE(f.decoder.overflow_socket(), 0) << "the last attached fd is the overflow socket";
    std::vector<uint8_t> chunk = Chunk(kOverflowMagic, 40);
    ASSERT_EQ(f.decoder.AddOverflowChunk(chunk.data(), chunk.size(), false, false,
                                         Copies(f.pipe.read.get(), 40)),
              FrameReject::kNone);
    EXPECT_EQ(f.decoder.overflow_fds_missing(), 8u);
    chunk = Chunk(kOverflowMagic, 8);
    ASSERT_EQ(f.decoder.AddOverflowChunk(chunk.data(), chunk.size(), false, false,
                                         Copies(f.pipe.read.get(), 8)),
              FrameReject::kNone);
    EXPECT_EQ(f.decoder.overflow_fds_missing(), 0u);
    Frame frame;
    ASSERT_EQ(f.decoder.Finish(&frame), FrameReject::kNone);
    EXPECT_EQ(frame.header.num_fds, 300u);
    ASSERT_EQ(frame.message.handles.size(), 3u);
    EXPECT_EQ(frame.message.total_fds(), 300u);
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

// Each bad chunk is rejected for its reason, and the rejection closes every fd the decoder held:
// the attached ones, the chunk's, and the overflow socket.
TEST(FrameDecoderTest, BadOverflowChunksAreRejectedByName) {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    bool truncated;
    bool bad_control;
    size_t fds;
    FrameReject want;
  };
  const std::vector<Case> cases = {
      {"truncated", Chunk(kOverflowMagic, 4), true, false, 4, FrameReject::kOverflowChunkTruncated},
      {"foreign control data", Chunk(kOverflowMagic, 4), false, true, 4,
       FrameReject::kOverflowChunkTruncated},
      {"short", std::vector<uint8_t>(4, 0), false, false, 4, FrameReject::kOverflowChunkTruncated},
      {"wrong magic", Chunk(kFrameMagic, 4), false, false, 4, FrameReject::kBadOverflowChunk},
      {"empty", Chunk(kOverflowMagic, 0), false, false, 0, FrameReject::kBadOverflowChunk},
      {"count lies", Chunk(kOverflowMagic, 5), false, false, 4, FrameReject::kBadOverflowChunk},
      {"more than announced", Chunk(kOverflowMagic, 49), false, false, 49,
       FrameReject::kOverflowCountMismatch},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const int fds_before = CountOpenFds();
    {
      OverflowFixture f;
      Pipe chunk_pipe = MakePipe();
      std::vector<UniqueFd> chunk_fds = Copies(chunk_pipe.write.get(), c.fds);
      chunk_pipe.write.reset();
      EXPECT_EQ(f.decoder.AddOverflowChunk(c.bytes.data(), c.bytes.size(), c.truncated,
                                           c.bad_control, std::move(chunk_fds)),
                c.want);
      EXPECT_TRUE(WriteEndsClosed(f.pipe.read.get())) << "the decoder kept an fd open";
      EXPECT_TRUE(WriteEndsClosed(chunk_pipe.read.get())) << "the chunk's fds stayed open";
      EXPECT_EQ(f.decoder.overflow_socket(), -1);
    }
    EXPECT_EQ(CountOpenFds(), fds_before);
  }
}

// ---- Malformed frames ------------------------------------------------------------------------

struct BadFrame {
  const char* what;
  std::vector<uint8_t> bytes;
  size_t attached;
  FrameReject want;
};

std::vector<BadFrame> BadFrames() {
  std::vector<BadFrame> out;
  out.push_back({"short header", std::vector<uint8_t>(sizeof(FrameHeader) - 1, 0), 0,
                 FrameReject::kShortHeader});
  FrameHeader h = Header(kFrameData);
  h.magic ^= 1;
  out.push_back({"magic", Bytes(h), 0, FrameReject::kBadMagic});
  h = Header(kFrameData);
  h.reserved = 1;
  out.push_back({"reserved", Bytes(h), 0, FrameReject::kBadMagic});
  h = Header(kFrameData);
  h.flags = 0x80;
  out.push_back({"flags", Bytes(h), 0, FrameReject::kUnknownFlags});
  h = Header(kFrameSignal);
  h.flags = kFlagPayloadInRing;
  out.push_back({"payload in ring", Bytes(h), 0, FrameReject::kPayloadInRingMisused});
  h = Header(kFrameData);
  h.num_bytes = MX_CHANNEL_MAX_MSG_BYTES + 1;
  out.push_back({"payload", Bytes(h), 0, FrameReject::kPayloadTooLarge});
  h = Header(kFrameData);
  h.num_handles = MX_CHANNEL_MAX_MSG_HANDLES + 1;
  out.push_back({"handles", Bytes(h), 0, FrameReject::kTooManyHandles});
  h = Header(kFrameStartup);
  h.num_handles = 4097;
  out.push_back({"startup handles", Bytes(h), 0, FrameReject::kTooManyStartupHandles});
  h = Header(kFrameSignal);
  h.num_bytes = 4;
  out.push_back({"signal", Bytes(h, 4), 0, FrameReject::kBadSignalFrame});
  h = Header(kFrameRing);
  h.num_bytes = 8;
  h.num_fds = 2;
  out.push_back({"ring", Bytes(h, 8), 2, FrameReject::kBadRingFrame});
  h = Header(kFrameKick);
  h.num_bytes = 1;
  out.push_back({"kick", Bytes(h, 1), 0, FrameReject::kBadEmptyFrame});
  out.push_back({"kind", Bytes(Header(99)), 0, FrameReject::kUnknownKind});
  h = Header(kFrameData);
  h.num_bytes = 3;
  out.push_back({"size", Bytes(h, 4), 0, FrameReject::kSizeMismatch});
  h = Header(kFrameData);
  h.num_fds = 1;
  out.push_back({"fds without handles", Bytes(h), 1, FrameReject::kFdsWithoutHandles});
  h = Header(kFrameData);
  h.num_handles = 1;
  h.num_fds = kMaxFrameFds + 1;
  out.push_back({"fds", Bytes(h), 3, FrameReject::kTooManyFds});
  h = Header(kFrameData);
  h.flags = kFlagFdOverflow;
  h.num_handles = 1;
  h.num_fds = 300;
  out.push_back(
      {"overflow with 252 fds attached", Bytes(h), 252, FrameReject::kBadOverflowAnnouncement});
  h.num_fds = kWireFdsPerDatagram;
  out.push_back({"overflow of nothing", Bytes(h), 253, FrameReject::kBadOverflowAnnouncement});
  // One fd handle (one fd, no extra) makes a well-formed frame; the cases below break it.
  WireHandle w = {};
  w.type = MX_OBJ_TYPE_FD;
  w.num_fds = 1;
  h = Header(kFrameData);
  h.num_handles = 1;
  h.num_fds = 1;
  h.desc_bytes = sizeof(w);
  std::vector<uint8_t> good = Bytes(h, sizeof(w));
  std::memcpy(good.data() + sizeof(h), &w, sizeof(w));
  out.push_back({"fds missing", good, 0, FrameReject::kFdCountMismatch});
  out.push_back({"fds extra", good, 2, FrameReject::kFdCountMismatch});
  std::vector<uint8_t> bad = good;
  w.type = 999;
  std::memcpy(bad.data() + sizeof(h), &w, sizeof(w));
  out.push_back({"handle type", bad, 1, FrameReject::kBadHandleSection});
  bad = good;
  h.num_fds = 2;
  std::memcpy(bad.data(), &h, sizeof(h));
  out.push_back({"unclaimed fd", bad, 2, FrameReject::kUnclaimedFds});
  return out;
}

TEST(FrameDecoderTest, WellFormedFrameOfTheRejectionTestsIsAccepted) {
  // The frame the last cases break, unbroken.
  std::vector<BadFrame> frames = BadFrames();
  const BadFrame& fds_missing = frames[frames.size() - 4];
  ASSERT_EQ(fds_missing.want, FrameReject::kFdCountMismatch);
  Pipe pipe = MakePipe();
  FrameDecoder decoder;
  ASSERT_EQ(decoder.Start(fds_missing.bytes.data(), fds_missing.bytes.size(),
                          Copies(pipe.write.get(), 1)),
            FrameReject::kNone);
  Frame frame;
  ASSERT_EQ(decoder.Finish(&frame), FrameReject::kNone);
  ASSERT_EQ(frame.message.handles.size(), 1u);
}

TEST(FrameDecoderTest, MalformedFramesAreRejectedByName) {
  for (BadFrame& c : BadFrames()) {
    SCOPED_TRACE(c.what);
    const int fds_before = CountOpenFds();
    {
      Pipe pipe = MakePipe();
      std::vector<UniqueFd> fds = Copies(pipe.write.get(), c.attached);
      pipe.write.reset();
      FrameDecoder decoder;
      FrameReject got = decoder.Start(c.bytes.data(), c.bytes.size(), std::move(fds));
      if (got == FrameReject::kNone) {
        EXPECT_EQ(decoder.overflow_fds_missing(), 0u);
        Frame frame;
        got = decoder.Finish(&frame);
        EXPECT_TRUE(frame.message.handles.empty());
      }
      EXPECT_EQ(got, c.want) << FrameRejectName(got) << " instead of " << FrameRejectName(c.want);
      EXPECT_TRUE(WriteEndsClosed(pipe.read.get())) << "the decoder kept an attached fd open";
    }
    EXPECT_EQ(CountOpenFds(), fds_before);
  }
}

TEST(FrameDecoderTest, EveryReasonHasItsOwnName) {
  EXPECT_STREQ(FrameRejectName(FrameReject::kOverflowCountMismatch), "overflow_count_mismatch");
  EXPECT_STREQ(FrameRejectName(FrameReject::kShortHeader), "short_header");
  std::vector<std::string> names;
  for (int r = 0; r <= static_cast<int>(FrameReject::kUnclaimedFds); ++r) {
    std::string name = FrameRejectName(static_cast<FrameReject>(r));
    EXPECT_NE(name, "unknown") << "reason " << r;
    for (char ch : name) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == '_') << name;
    for (const std::string& other : names) EXPECT_NE(name, other);
    names.push_back(name);
  }
}

}  // namespace
}  // namespace mx::internal
