// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for MessageRing (transport/message_ring.h): ordered delivery across many wrap-arounds
// between a writer and a reader that map the same memfd separately, the payload limit, the
// writer-wake hysteresis, Attach's validation of a received fd, and a hostile peer that scribbles
// on the shared mapping: the ring must report broken() and never crash or read out of bounds
// (run this file under ASan/UBSan too).
#include "transport/message_ring.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <vector>

#include "os/cpu_placement.h"
#include "os/socket.h"
#include "support/ring_layout.h"
#include "support/test_util.h"

namespace mx::internal {
namespace {

using mx_test::CountOpenFds;

// The shared layout, mirrored from message_ring.cc (struct MessageRing::Header and Record). The
// LayoutMatches test below fails if the two drift apart.
using MirrorHeader = mx_test::RingHeader;
struct MirrorRecord {
  uint64_t seq;
  uint32_t len;
  uint32_t flags;
};
constexpr uint32_t kRingMagic = 0x474e524du;
constexpr size_t kHeaderBytes = mx_test::kRingHeaderBytes;
constexpr uint32_t kWrapFlag = 1;
// The smallest capacity Create accepts: two maximum-size records.
constexpr size_t kMinCapacity = 2 * (MX_CHANNEL_MAX_MSG_BYTES + 16);

constexpr uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }
constexpr uint64_t RecordBytes(uint32_t len) { return 16 + Align8(len); }

UniqueFd Dup(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

// Our own view of a ring's shared memory, as a hostile peer would have it.
class Mapping {
 public:
  explicit Mapping(int fd) {
    struct stat st;
    EXPECT_EQ(::fstat(fd, &st), 0);
    size_ = static_cast<size_t>(st.st_size);
    base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_NE(base_, MAP_FAILED);
  }
  ~Mapping() {
    if (base_ != MAP_FAILED) ::munmap(base_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  MirrorHeader* header() const { return static_cast<MirrorHeader*>(base_); }
  uint8_t* data() const { return static_cast<uint8_t*>(base_) + kHeaderBytes; }
  size_t capacity() const { return size_ - kHeaderBytes; }
  MirrorRecord ReadRecord(uint64_t pos) const {
    MirrorRecord r;
    std::memcpy(&r, data() + pos, sizeof(r));
    return r;
  }
  void WriteRecord(uint64_t pos, MirrorRecord r) { std::memcpy(data() + pos, &r, sizeof(r)); }

 private:
  void* base_ = MAP_FAILED;
  size_t size_ = 0;
};

std::vector<uint8_t> Pattern(uint64_t seq, uint32_t len) {
  std::vector<uint8_t> v(len);
  for (uint32_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(seq * 131 + i * 7 + (i >> 8));
  return v;
}

// A writer ring (Create) and a reader ring (Attach of a dup of its fd): two mappings of one memfd,
// like the two processes of a channel.
struct RingPair {
  MessageRing writer;
  MessageRing reader;
};

void MakePair(size_t capacity, size_t payload_limit, RingPair* out) {
  ASSERT_EQ(MessageRing::Create(capacity, payload_limit, &out->writer), MX_OK);
  ASSERT_TRUE(out->writer.valid());
  ASSERT_EQ(MessageRing::Attach(Dup(out->writer.fd()), &out->reader), MX_OK);
  ASSERT_TRUE(out->reader.valid());
}

// Writes one record and reads it back through |reader|, checking everything.
void WriteAndRead(RingPair* p, uint64_t seq, uint32_t len, uint32_t flags = 0) {
  std::vector<uint8_t> payload = Pattern(seq, len);
  ASSERT_TRUE(p->writer.TryWrite(seq, payload.data(), len, flags));
  uint64_t got_seq = 0;
  uint32_t got_flags = 99;
  ASSERT_TRUE(p->reader.Peek(&got_seq, &got_flags));
  EXPECT_EQ(got_seq, seq);
  EXPECT_EQ(got_flags, flags);
  std::vector<uint8_t> out;
  p->reader.Pop(&out);
  EXPECT_EQ(out, payload);
  EXPECT_FALSE(p->reader.broken());
}

// ---- Layout, creation ----------------------------------------------------------------------

TEST(MessageRingTest, LayoutMatchesTheMirrorUsedByTheseTests) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  EXPECT_EQ(m.header()->magic, kRingMagic);
  EXPECT_EQ(m.header()->version, mx_test::kRingVersion);
  EXPECT_EQ(m.header()->capacity, kMinCapacity);
  EXPECT_EQ(m.capacity(), kMinCapacity);
  const uint8_t payload[5] = {1, 2, 3, 4, 5};
  ASSERT_TRUE(p.writer.TryWrite(77, payload, 5));
  EXPECT_EQ(m.header()->head.load(), RecordBytes(5));
  EXPECT_EQ(m.header()->payload_in.load(), 5u);
  if (p.writer.LockForWriter()) {
    EXPECT_EQ(m.header()->busy.load(), 1u);
    p.writer.UnlockForWriter();
  } else {
    ADD_FAILURE() << "LockForWriter failed on a free ring";
  }
  EXPECT_EQ(m.header()->busy.load(), 0u);
  MirrorRecord r = m.ReadRecord(0);
  EXPECT_EQ(r.seq, 77u);
  EXPECT_EQ(r.len, 5u);
  EXPECT_EQ(r.flags, 0u);
  EXPECT_EQ(std::memcmp(m.data() + 16, payload, 5), 0);
  std::vector<uint8_t> out;
  uint64_t seq;
  ASSERT_TRUE(p.reader.Peek(&seq));
  p.reader.Pop(&out);
  EXPECT_EQ(m.header()->tail.load(), RecordBytes(5));
  EXPECT_EQ(m.header()->payload_out.load(), 5u);
  // Each end published where its thread may run, and each reads the other's.
  EXPECT_EQ(m.header()->writer_cpus.load(), OwnPlacement());
  EXPECT_EQ(m.header()->reader_cpus.load(), OwnPlacement());
  EXPECT_EQ(p.reader.WriterPlacement(), OwnPlacement());
  EXPECT_EQ(p.writer.ReaderPlacement(), OwnPlacement());
  // The fast-path words.
  EXPECT_FALSE(p.writer.TakeKick());  // nobody waits
  p.reader.SetReaderWaiting(true);
  EXPECT_EQ(m.header()->reader_waiting.load(), 1u);
  EXPECT_TRUE(p.writer.TakeKick());
  EXPECT_EQ(m.header()->kick_pending.load(), 1u);
  EXPECT_FALSE(p.writer.TakeKick()) << "one kick until the reader reads it";
  p.reader.ClearKickPending();
  EXPECT_EQ(m.header()->kick_pending.load(), 0u);
  p.reader.SetReaderWaiting(false);
  EXPECT_EQ(m.header()->reader_waiting.load(), 0u);
  p.writer.CountSocketFrame();
  EXPECT_EQ(m.header()->socket_frames.load(), 1u);
  EXPECT_EQ(p.reader.SocketFrames(), 1u);
  EXPECT_FALSE(p.reader.WriterDone());
  p.writer.MarkWriterDone();
  EXPECT_EQ(m.header()->writer_done.load(), 1u);
  EXPECT_TRUE(p.reader.WriterDone());
  p.reader.MarkReaderClosed();
  EXPECT_EQ(m.header()->reader_closed.load(), 1u);
  EXPECT_TRUE(p.writer.ReaderClosed());
  EXPECT_FALSE(p.writer.ReaderAttached());
  p.reader.MarkAttached();
  EXPECT_EQ(m.header()->reader_attached.load(), 1u);
  EXPECT_TRUE(p.writer.ReaderAttached());
  p.writer.SetWriterWaiting();
  EXPECT_EQ(m.header()->writer_waiting.load(), 1u);
}

TEST(MessageRingTest, AWriterKeepsOnlyTheMappingAndADoneRingIsFinishedOnceReadEmpty) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  UniqueFd fd = p.writer.TakeFd();
  ASSERT_TRUE(fd);
  fd.reset();
  EXPECT_EQ(p.writer.fd(), -1);
  EXPECT_TRUE(p.writer.valid());
  const uint8_t payload[3] = {1, 2, 3};
  ASSERT_TRUE(p.writer.TryWrite(0, payload, 3)) << "the mapping keeps the memory";
  ASSERT_TRUE(p.writer.TryWrite(1, payload, 3));
  EXPECT_FALSE(p.reader.Finished()) << "the writer is not done";
  p.writer.MarkWriterDone();
  std::vector<uint8_t> out;
  uint64_t seq;
  for (uint64_t want = 0; want < 2; ++want) {
    EXPECT_FALSE(p.reader.Finished()) << "records are still unread";
    ASSERT_TRUE(p.reader.Peek(&seq));
    EXPECT_EQ(seq, want);
    p.reader.Pop(&out);
    EXPECT_EQ(out, std::vector<uint8_t>(payload, payload + 3));
  }
  EXPECT_TRUE(p.reader.Finished());
  EXPECT_FALSE(p.reader.broken());
}

TEST(MessageRingTest, CreateRejectsCapacityOutsideLimits) {
  MessageRing ring;
  EXPECT_EQ(MessageRing::Create(0, 100, &ring), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(MessageRing::Create(kMinCapacity - 8, 100, &ring), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(MessageRing::Create((size_t{1} << 30) + 8, 100, &ring), MX_ERR_INVALID_ARGS);
  EXPECT_FALSE(ring.valid());
  EXPECT_EQ(MessageRing::Create(kMinCapacity - 4, 100, &ring), MX_OK);  // rounded up to 8
}

TEST(MessageRingTest, CreatedMemfdIsSealedAgainstShrinking) {
  MessageRing ring;
  ASSERT_EQ(MessageRing::Create(kMinCapacity, kMinCapacity, &ring), MX_OK);
  int seals = ::fcntl(ring.fd(), F_GET_SEALS);
  EXPECT_NE(seals & F_SEAL_SHRINK, 0);
  EXPECT_NE(::ftruncate(ring.fd(), 4096), 0);
}

TEST(MessageRingTest, EmptyRingHasNothingToPeek) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  uint64_t seq;
  EXPECT_FALSE(p.reader.Peek(&seq));
  std::vector<uint8_t> out = {1};
  p.reader.Pop(&out);  // Pop on empty does nothing
  EXPECT_EQ(out, std::vector<uint8_t>{1});
  EXPECT_FALSE(p.reader.broken());
  EXPECT_EQ(p.reader.BufferedPayload(), 0u);
}

TEST(MessageRingTest, DefaultRingIsInvalidAndInert) {
  MessageRing ring;
  EXPECT_FALSE(ring.valid());
  EXPECT_FALSE(ring.HasRoom(0));
  EXPECT_FALSE(ring.TryWrite(1, nullptr, 0));
  uint64_t seq;
  EXPECT_FALSE(ring.Peek(&seq));
  EXPECT_EQ(ring.BufferedPayload(), 0u);
  ring.SetWriterWaiting();
  EXPECT_FALSE(ring.TakeWriterWake());
}

// ---- Ordered delivery ----------------------------------------------------------------------

TEST(MessageRingTest, RecordsArriveInOrderAcrossManyWrapArounds) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  std::mt19937 rng(12345);
  uint64_t next_write = 1000, next_read = 1000;
  uint64_t written_bytes = 0;
  std::vector<uint32_t> lens;  // lengths of records in flight, in order
  size_t read_index = 0;
  size_t full_events = 0;
  while (written_bytes < 8 * kMinCapacity) {
    // Sizes: mostly small, sometimes near the maximum, sometimes empty.
    uint32_t len;
    switch (rng() % 6) {
      case 0:
        len = 0;
        break;
      case 1:
        len = MX_CHANNEL_MAX_MSG_BYTES - rng() % 64;
        break;
      case 2:
        len = rng() % 20000;
        break;
      default:
        len = rng() % 300;
        break;
    }
    std::vector<uint8_t> payload = Pattern(next_write, len);
    uint32_t flags = (rng() % 4 == 0) ? MessageRing::kRecordHasHandles : 0;
    if (p.writer.TryWrite(next_write, payload.data(), len, flags | (flags << 4))) {
      lens.push_back(len | (flags << 30));
      ++next_write;
      written_bytes += RecordBytes(len);
    } else {
      ++full_events;
      ASSERT_FALSE(p.writer.broken());
      ASSERT_LT(read_index, lens.size()) << "ring full but empty";
    }
    // The reader drains a random number of records, fewer than are written on average so the
    // ring fills and wraps (sometimes all: an empty ring rewinds to the front).
    size_t to_read = rng() % 2;
    if (rng() % 16 == 0) to_read = lens.size() - read_index;
    for (size_t i = 0; i < to_read && read_index < lens.size(); ++i) {
      uint64_t seq = 0;
      uint32_t got_flags = 0;
      ASSERT_TRUE(p.reader.Peek(&seq, &got_flags));
      ASSERT_EQ(seq, next_read);
      uint32_t want_len = lens[read_index] & 0x3fffffff;
      EXPECT_EQ(got_flags, lens[read_index] >> 30);
      std::vector<uint8_t> out;
      p.reader.Pop(&out);
      ASSERT_EQ(out, Pattern(next_read, want_len)) << "record " << next_read;
      ++next_read;
      ++read_index;
    }
  }
  while (read_index < lens.size()) {
    uint64_t seq = 0;
    ASSERT_TRUE(p.reader.Peek(&seq));
    ASSERT_EQ(seq, next_read);
    std::vector<uint8_t> out;
    p.reader.Pop(&out);
    ASSERT_EQ(out, Pattern(next_read, lens[read_index] & 0x3fffffff));
    ++next_read;
    ++read_index;
  }
  uint64_t seq;
  EXPECT_FALSE(p.reader.Peek(&seq));
  EXPECT_FALSE(p.reader.broken());
  EXPECT_FALSE(p.writer.broken());
  EXPECT_GT(full_events, 0u) << "the test never filled the ring";
  EXPECT_EQ(p.reader.BufferedPayload(), 0u);
}

// The wrap tests keep a record unread while the writer reaches the end (an empty ring rewinds
// to the front instead of wrapping).
void Write(RingPair* p, uint64_t seq, uint32_t len) {
  std::vector<uint8_t> payload = Pattern(seq, len);
  ASSERT_TRUE(p->writer.TryWrite(seq, payload.data(), len));
}

void Read(RingPair* p, uint64_t seq, uint32_t len) {
  uint64_t got = 0;
  ASSERT_TRUE(p->reader.Peek(&got));
  ASSERT_EQ(got, seq);
  std::vector<uint8_t> out;
  p->reader.Pop(&out);
  EXPECT_EQ(out, Pattern(seq, len));
  EXPECT_FALSE(p->reader.broken());
}

TEST(MessageRingTest, ShortGapAtTheEndIsSkippedWithoutAMarker) {
  // Leave exactly 8 bytes before the end of the data area: too small for a record header, so the
  // writer skips it without writing a wrap marker and the reader skips it implicitly.
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  const uint32_t second = static_cast<uint32_t>(kMinCapacity - 8 - 65552 - 16);
  Write(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);  // 65552 bytes
  Write(&p, 2, second);
  ASSERT_EQ(m.header()->head.load() % kMinCapacity, kMinCapacity - 8);
  Read(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
  std::memset(m.data() + kMinCapacity - 8, 0xff, 8);  // garbage in the gap is never read
  Write(&p, 3, 100);
  EXPECT_EQ(m.header()->head.load(), kMinCapacity + RecordBytes(100));
  Read(&p, 2, second);
  Read(&p, 3, 100);
  WriteAndRead(&p, 4, 0);
}

TEST(MessageRingTest, LargerGapAtTheEndGetsAWrapMarker) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  const uint32_t second = static_cast<uint32_t>(kMinCapacity - 24 - 65552 - 16);
  Write(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
  Write(&p, 2, second);
  ASSERT_EQ(m.header()->head.load() % kMinCapacity, kMinCapacity - 24);
  Read(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
  Write(&p, 3, 9);  // needs 32 bytes: 24 are left, so it wraps
  MirrorRecord marker = m.ReadRecord(kMinCapacity - 24);
  EXPECT_EQ(marker.flags, kWrapFlag);
  EXPECT_EQ(m.ReadRecord(0).seq, 3u);
  Read(&p, 2, second);
  Read(&p, 3, 9);
  WriteAndRead(&p, 4, 8);
}

TEST(MessageRingTest, RecordThatExactlyFillsTheEndDoesNotWrap) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  const uint32_t second = static_cast<uint32_t>(kMinCapacity - 24 - 65552 - 16);
  Write(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
  Write(&p, 2, second);
  ASSERT_EQ(m.header()->head.load() % kMinCapacity, kMinCapacity - 24);
  Read(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
  Write(&p, 3, 8);  // exactly 24 bytes
  EXPECT_EQ(m.ReadRecord(kMinCapacity - 24).seq, 3u);
  EXPECT_EQ(m.header()->head.load(), kMinCapacity);
  Read(&p, 2, second);
  Read(&p, 3, 8);
  WriteAndRead(&p, 4, 1);
  EXPECT_EQ(m.ReadRecord(0).seq, 4u);
}

TEST(MessageRingTest, AReaderThatKeepsUpRewindsToTheFront) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  // 300-byte records read one by one: once the reader empties the ring 16 KiB or more into the
  // data area, both indices move to the next multiple of the capacity.
  uint64_t max_offset = 0;
  for (uint64_t seq = 0; seq < 1000; ++seq) {
    WriteAndRead(&p, seq, 300);
    uint64_t head = m.header()->head.load();
    EXPECT_EQ(head, m.header()->tail.load());
    max_offset = std::max(max_offset, head % kMinCapacity);
  }
  EXPECT_LT(max_offset, 16 * 1024 + RecordBytes(300));
  EXPECT_GE(m.header()->head.load(), 5 * kMinCapacity) << "the indices only ever grow";
}

TEST(MessageRingTest, NoRewindWhileARecordIsUnread) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  for (uint64_t seq = 0; seq < 100; ++seq) Write(&p, seq, 300);
  for (uint64_t seq = 0; seq < 99; ++seq) Read(&p, seq, 300);
  EXPECT_EQ(m.header()->tail.load(), 99 * RecordBytes(300));
  Read(&p, 99, 300);
  EXPECT_EQ(m.header()->tail.load(), kMinCapacity);
  EXPECT_EQ(m.header()->head.load(), kMinCapacity);
}

TEST(MessageRingTest, AWriterThatHoldsTheLockMakesTheReaderSkipTheRewind) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  for (uint64_t seq = 0; seq < 100; ++seq) Write(&p, seq, 300);
  m.header()->busy.store(1);  // as if the writer were placing a record
  for (uint64_t seq = 0; seq < 100; ++seq) Read(&p, seq, 300);
  EXPECT_EQ(m.header()->tail.load(), 100 * RecordBytes(300)) << "no rewind under the lock";
  // ...and a writer finding the lock taken (a hostile or slow reader) gives up at once.
  const uint8_t byte = 1;
  EXPECT_FALSE(p.writer.TryWrite(100, &byte, 1));
  EXPECT_FALSE(p.writer.broken());
  m.header()->busy.store(0);
  WriteAndRead(&p, 100, 1);
}

TEST(MessageRingTest, PagesOfABurstAreReleasedOnceTheRingIsEmpty) {
  RingPair p;
  MakePair(size_t{4} << 20, size_t{4} << 20, &p);
  struct stat st;
  // A burst of 2 MiB, then the reader drains it.
  const uint32_t len = 60000;
  for (uint64_t seq = 0; seq < 35; ++seq) Write(&p, seq, len);
  ASSERT_EQ(::fstat(p.writer.fd(), &st), 0);
  const long long burst_blocks = st.st_blocks;
  EXPECT_GT(burst_blocks * 512, 2'000'000);
  for (uint64_t seq = 0; seq < 35; ++seq) Read(&p, seq, len);
  ASSERT_EQ(::fstat(p.writer.fd(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 200'000) << "the burst's pages must go back to the kernel";
  // The ring still works, from the front.
  WriteAndRead(&p, 35, len);
}

TEST(MessageRingTest, FlagsOtherThanHasHandlesAreNotStored) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  const uint8_t b = 1;
  ASSERT_TRUE(p.writer.TryWrite(5, &b, 1, 0xffffffffu));
  uint64_t seq;
  uint32_t flags;
  ASSERT_TRUE(p.reader.Peek(&seq, &flags));
  EXPECT_EQ(flags, MessageRing::kRecordHasHandles);
}

// ---- Room and limits -----------------------------------------------------------------------

TEST(MessageRingTest, PayloadLimitBoundsBufferedBytes) {
  RingPair p;
  MakePair(kMinCapacity, 1000, &p);
  std::vector<uint8_t> data(600, 1);
  EXPECT_TRUE(p.writer.HasRoom(600));
  EXPECT_TRUE(p.writer.HasRoom(1000));
  EXPECT_FALSE(p.writer.HasRoom(1001));
  ASSERT_TRUE(p.writer.TryWrite(1, data.data(), 600));
  EXPECT_EQ(p.writer.BufferedPayload(), 600u);
  EXPECT_EQ(p.reader.BufferedPayload(), 600u);
  EXPECT_TRUE(p.writer.HasRoom(400));
  EXPECT_FALSE(p.writer.HasRoom(401));
  EXPECT_FALSE(p.writer.TryWrite(2, data.data(), 600));
  // Empty records cost no payload: many fit.
  for (uint64_t s = 2; s < 50; ++s) ASSERT_TRUE(p.writer.TryWrite(s, nullptr, 0));
  std::vector<uint8_t> out;
  p.reader.Pop(&out);
  EXPECT_EQ(out.size(), 600u);
  EXPECT_EQ(p.writer.BufferedPayload(), 0u);
  EXPECT_TRUE(p.writer.TryWrite(50, data.data(), 600));
  EXPECT_FALSE(p.writer.broken());
}

TEST(MessageRingTest, HasRoomTracksSpaceWithoutWriting) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  std::vector<uint8_t> big(MX_CHANNEL_MAX_MSG_BYTES, 3);
  // The ring holds exactly two maximum-size records.
  ASSERT_TRUE(p.writer.HasRoom(MX_CHANNEL_MAX_MSG_BYTES));
  EXPECT_EQ(m.header()->head.load(), 0u);
  ASSERT_TRUE(p.writer.TryWrite(1, big.data(), MX_CHANNEL_MAX_MSG_BYTES));
  ASSERT_TRUE(p.writer.TryWrite(2, big.data(), MX_CHANNEL_MAX_MSG_BYTES));
  EXPECT_FALSE(p.writer.HasRoom(0));
  EXPECT_FALSE(p.writer.TryWrite(3, nullptr, 0));
  std::vector<uint8_t> out;
  p.reader.Pop(&out);
  EXPECT_TRUE(p.writer.HasRoom(MX_CHANNEL_MAX_MSG_BYTES));
  EXPECT_FALSE(p.writer.HasRoom(MX_CHANNEL_MAX_MSG_BYTES + 1));
  EXPECT_FALSE(p.writer.broken());
}

TEST(MessageRingTest, WriterIsNotAllowedRecordsTheReaderWouldRejectAsCorrupt) {
  // The reader treats any record longer than MX_CHANNEL_MAX_MSG_BYTES as corruption, so the
  // writer must not produce one even when the capacity and payload limit would allow it.
  RingPair p;
  MakePair(4 * kMinCapacity, 4 * kMinCapacity, &p);
  std::vector<uint8_t> big(MX_CHANNEL_MAX_MSG_BYTES + 8, 1);
  EXPECT_FALSE(p.writer.HasRoom(MX_CHANNEL_MAX_MSG_BYTES + 1));
  EXPECT_FALSE(p.writer.TryWrite(1, big.data(), static_cast<uint32_t>(big.size())))
      << "the writer wrote a record its own reader rejects";
  EXPECT_FALSE(p.writer.broken());
  uint64_t seq;
  EXPECT_FALSE(p.reader.Peek(&seq));
  EXPECT_FALSE(p.reader.broken());
  // The largest legal record still goes through.
  WriteAndRead(&p, 1, MX_CHANNEL_MAX_MSG_BYTES);
}

TEST(MessageRingTest, WriterWakeIsTakenOnceWhenAtMostHalfFull) {
  RingPair p;
  MakePair(kMinCapacity, 1000, &p);
  std::vector<uint8_t> data(400, 1);
  ASSERT_TRUE(p.writer.TryWrite(1, data.data(), 400));
  ASSERT_TRUE(p.writer.TryWrite(2, data.data(), 400));
  EXPECT_FALSE(p.reader.TakeWriterWake()) << "nobody is waiting";
  p.writer.SetWriterWaiting();
  EXPECT_FALSE(p.reader.TakeWriterWake()) << "800 > 500 buffered";
  std::vector<uint8_t> out;
  p.reader.Pop(&out);
  EXPECT_TRUE(p.reader.TakeWriterWake());
  EXPECT_FALSE(p.reader.TakeWriterWake()) << "taken once";
}

// ---- Attach --------------------------------------------------------------------------------

TEST(MessageRingTest, AttachWorksWithAnFdReceivedOverASocket) {
  MessageRing writer;
  ASSERT_EQ(MessageRing::Create(kMinCapacity, kMinCapacity, &writer), MX_OK);
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  uint8_t byte = 0;
  struct iovec iov = {&byte, 1};
  int fd = writer.fd();
  ASSERT_EQ(SendDatagram(a.get(), &iov, 1, &fd, 1), MX_OK);
  ReceivedDatagram got;
  ASSERT_EQ(ReceiveDatagram(b.get(), &byte, 1, &got), MX_OK);
  ASSERT_EQ(got.fds.size(), 1u);
  MessageRing reader;
  ASSERT_EQ(MessageRing::Attach(std::move(got.fds[0]), &reader), MX_OK);
  const char msg[] = "across processes";
  ASSERT_TRUE(writer.TryWrite(1, msg, sizeof(msg)));
  uint64_t seq;
  ASSERT_TRUE(reader.Peek(&seq));
  std::vector<uint8_t> out;
  reader.Pop(&out);
  EXPECT_EQ(std::memcmp(out.data(), msg, sizeof(msg)), 0);
  // The writer sees the reader's progress.
  EXPECT_EQ(writer.BufferedPayload(), 0u);
}

TEST(MessageRingTest, MovedRingKeepsWorking) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  MessageRing moved(std::move(p.reader));
  EXPECT_FALSE(p.reader.valid());
  MessageRing again;
  again = std::move(moved);
  ASSERT_TRUE(again.valid());
  const uint8_t b = 7;
  ASSERT_TRUE(p.writer.TryWrite(1, &b, 1));
  uint64_t seq;
  EXPECT_TRUE(again.Peek(&seq));
}

// A memfd of |size| bytes with a valid ring header, sealed with |seals|.
UniqueFd MakeRingLikeMemfd(size_t size, int seals, uint32_t magic = kRingMagic) {
  UniqueFd fd(::memfd_create("fake-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(fd.is_valid());
  EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
  MirrorHeader h = {};
  h.magic = magic;
  h.version = mx_test::kRingVersion;
  h.capacity = size - kHeaderBytes;
  h.payload_limit = 1000;
  EXPECT_EQ(::pwrite(fd.get(), &h, sizeof(h), 0), static_cast<ssize_t>(sizeof(h)));
  if (seals != 0) {
    EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, seals), 0);
  }
  return fd;
}

void ExpectAttachRejected(UniqueFd fd) {
  const int before = CountOpenFds();
  MessageRing ring;
  EXPECT_EQ(MessageRing::Attach(std::move(fd), &ring), MX_ERR_IO);
  EXPECT_FALSE(ring.valid());
  EXPECT_EQ(CountOpenFds(), before - 1) << "Attach must close the fd it rejects";
}

constexpr int kRingSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

TEST(MessageRingTest, AttachAcceptsAProperlySealedMemfd) {
  MessageRing ring;
  ASSERT_EQ(MessageRing::Attach(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, kRingSeals), &ring),
            MX_OK);
  EXPECT_TRUE(ring.valid());
  // The payload limit comes from the header (1000), capped by the capacity.
  EXPECT_TRUE(ring.HasRoom(1000));
  EXPECT_FALSE(ring.HasRoom(1001));
}

TEST(MessageRingTest, AttachRejectsMemfdWithoutShrinkSeal) {
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, 0));
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, F_SEAL_GROW));
}

// The rule MessageRing::Create follows, all of it: a ring that can still grow, or whose seals can
// still change, is not the kind of memfd libmx makes; one sealed against writes cannot be mapped
// for writing.
TEST(MessageRingTest, AttachRejectsMemfdWithoutTheCreatorsExactSeals) {
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, F_SEAL_SHRINK));
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, F_SEAL_SHRINK | F_SEAL_GROW));
  ExpectAttachRejected(
      MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, kRingSeals | F_SEAL_FUTURE_WRITE));
}

TEST(MessageRingTest, AttachRejectsTooSmallMemfd) {
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity - 8, kRingSeals));
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes, kRingSeals));
  UniqueFd empty(::memfd_create("empty", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_EQ(::fcntl(empty.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
  ExpectAttachRejected(std::move(empty));
}

TEST(MessageRingTest, AttachRejectsTooLargeMemfd) {
  // Sparse: no memory is used.
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + (size_t{1} << 30) + 8, kRingSeals));
}

TEST(MessageRingTest, AttachRejectsWrongMagic) {
  ExpectAttachRejected(MakeRingLikeMemfd(kHeaderBytes + kMinCapacity, kRingSeals, 0x12345678));
}

TEST(MessageRingTest, AttachRejectsFdsThatAreNotRegularFiles) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd pr(p[0]), pw(p[1]);
  ExpectAttachRejected(std::move(pr));
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ExpectAttachRejected(std::move(a));
  ExpectAttachRejected(UniqueFd(::eventfd(0, EFD_CLOEXEC)));
  ExpectAttachRejected(UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  ExpectAttachRejected(UniqueFd(::open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  MessageRing ring;
  EXPECT_EQ(MessageRing::Attach(UniqueFd(), &ring), MX_ERR_IO);
}

// ---- A hostile peer ------------------------------------------------------------------------

// The reader must see the corruption, report broken(), and stay broken.
void ExpectReaderBroken(MessageRing* reader) {
  uint64_t seq = 0;
  uint32_t flags = 0;
  EXPECT_FALSE(reader->Peek(&seq, &flags));
  EXPECT_TRUE(reader->broken());
  std::vector<uint8_t> out;
  reader->Pop(&out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(reader->Peek(&seq, &flags)) << "a broken ring stays broken";
}

TEST(MessageRingTest, ReaderDetectsHeadTooFarAhead) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  m.header()->head.store(kMinCapacity + 8);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsHeadBehindTail) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  m.header()->tail.store(100);
  m.header()->head.store(50);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsCountersNearWrapOfUint64) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  m.header()->tail.store(~uint64_t{0} - 7);
  m.header()->head.store(24);  // "ahead" only through unsigned wrap
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsHeadInsideARecordHeader) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  m.header()->head.store(8);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsOversizedRecordLength) {
  for (uint32_t len : {static_cast<uint32_t>(MX_CHANNEL_MAX_MSG_BYTES + 1), 0xffffffffu,
                       0xfffffff9u, 0x80000000u}) {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    std::vector<uint8_t> data(100, 1);
    ASSERT_TRUE(p.writer.TryWrite(1, data.data(), 100));
    MirrorRecord r = m.ReadRecord(0);
    r.len = len;
    m.WriteRecord(0, r);
    ExpectReaderBroken(&p.reader);
  }
}

TEST(MessageRingTest, ReaderDetectsRecordLongerThanWhatWasPublished) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  std::vector<uint8_t> data(100, 1);
  ASSERT_TRUE(p.writer.TryWrite(1, data.data(), 100));
  MirrorRecord r = m.ReadRecord(0);
  r.len = 200;  // head says 116 bytes were published
  m.WriteRecord(0, r);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsRecordRunningPastTheEnd) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  // A record at 64 bytes before the end claiming 1000 bytes, with head far enough ahead.
  const uint64_t start = kMinCapacity - 64;
  m.header()->tail.store(start);
  m.header()->payload_out.store(0);
  m.WriteRecord(start, {1, 1000, 0});
  m.header()->head.store(start + 2000);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsUnknownRecordFlags) {
  for (uint32_t flags : {4u, 3u, 0x80000000u, kWrapFlag | MessageRing::kRecordHasHandles}) {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    const uint8_t b = 1;
    ASSERT_TRUE(p.writer.TryWrite(1, &b, 1));
    MirrorRecord r = m.ReadRecord(0);
    r.flags = flags;
    m.WriteRecord(0, r);
    ExpectReaderBroken(&p.reader);
  }
}

TEST(MessageRingTest, ReaderDetectsWrapMarkersThatLoop) {
  // A wrap marker at the start of the data area would send the reader around forever.
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  const uint64_t start = kMinCapacity - 32;
  m.header()->tail.store(start);
  m.WriteRecord(start, {0, 0, kWrapFlag});
  m.WriteRecord(0, {0, 0, kWrapFlag});
  m.header()->head.store(start + 32 + 64);
  ExpectReaderBroken(&p.reader);
}

TEST(MessageRingTest, ReaderDetectsWrapMarkerPastHead) {
  RingPair p;
  MakePair(kMinCapacity, kMinCapacity, &p);
  Mapping m(p.writer.fd());
  // Published: 16 bytes at the very start, which claim to be a wrap marker. Skipping to the end
  // would move tail past head.
  m.WriteRecord(0, {0, 0, kWrapFlag});
  m.header()->head.store(16);
  uint64_t seq;
  EXPECT_FALSE(p.reader.Peek(&seq));
  EXPECT_TRUE(p.reader.broken());
}

// The writer keeps a view of the reader's counters and reads them afresh only when that view
// shows too little room; then it checks them. Fills the ring until it must look.
void FillUntilWriterLooks(MessageRing* writer) {
  const uint8_t b[64] = {};
  for (size_t i = 0; i <= kMinCapacity / RecordBytes(sizeof(b)) + 1; ++i) {
    if (!writer->TryWrite(i, b, sizeof(b))) return;
  }
  ADD_FAILURE() << "the writer never found the ring full";
}

TEST(MessageRingTest, WriterDetectsReaderCountersOutOfRange) {
  {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    m.header()->tail.store(uint64_t{1} << 60);  // tail ahead of head
    FillUntilWriterLooks(&p.writer);
    EXPECT_TRUE(p.writer.broken());
    EXPECT_FALSE(p.writer.HasRoom(0));
  }
  {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    m.header()->payload_out.store(uint64_t{1} << 60);  // more payload consumed than produced
    FillUntilWriterLooks(&p.writer);
    EXPECT_TRUE(p.writer.broken());
    EXPECT_FALSE(p.writer.HasRoom(1));
  }
  {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    m.header()->head.store(3 * kMinCapacity);  // head too far ahead of tail
    EXPECT_FALSE(p.writer.HasRoom(1));
    EXPECT_TRUE(p.writer.broken());
  }
}

TEST(MessageRingTest, RandomScribblesNeverCrashOrReadOutOfBounds) {
  // A peer writes random values into the counters and into record headers while both sides keep
  // using the ring. Every read must stay inside the mapping (ASan/SEGV would tell) and payloads
  // handed out must be at most MX_CHANNEL_MAX_MSG_BYTES.
  std::mt19937_64 rng(777);
  size_t broken_count = 0;
  for (int round = 0; round < 300; ++round) {
    RingPair p;
    MakePair(kMinCapacity, kMinCapacity, &p);
    Mapping m(p.writer.fd());
    std::vector<uint8_t> data(70000, 0x33);
    for (int step = 0; step < 40; ++step) {
      uint32_t len = static_cast<uint32_t>(rng() % (MX_CHANNEL_MAX_MSG_BYTES + 1));
      if (rng() % 2) len %= 512;
      p.writer.TryWrite(step, data.data(), len, static_cast<uint32_t>(rng()));
      p.writer.HasRoom(static_cast<uint32_t>(rng()));
      switch (rng() % 8) {
        case 0: {
          // A counter: small garbage, around capacity, or huge.
          std::atomic<uint64_t>* counters[] = {&m.header()->head, &m.header()->tail,
                                               &m.header()->payload_in, &m.header()->payload_out};
          uint64_t v = counters[rng() % 4]->load();
          switch (rng() % 4) {
            case 0:
              v += rng() % 64;
              break;
            case 1:
              v -= rng() % 64;
              break;
            case 2:
              v += kMinCapacity - rng() % 64;
              break;
            default:
              v = rng();
              break;
          }
          counters[rng() % 4]->store(v);
          break;
        }
        case 1: {
          // A record header at the reader's position or anywhere (8-aligned).
          uint64_t pos = (rng() % 2) ? m.header()->tail.load() % kMinCapacity
                                     : (rng() % (kMinCapacity / 8)) * 8;
          if (pos + 16 <= kMinCapacity) {
            MirrorRecord r = {rng(), static_cast<uint32_t>(rng()),
                              static_cast<uint32_t>(rng() % 8)};
            if (rng() % 2) r.len %= 70000;
            m.WriteRecord(pos, r);
          }
          break;
        }
        case 2:
          m.header()->payload_limit = rng();
          m.header()->capacity = rng();
          break;
        default:
          break;
      }
      for (int r = 0; r < 3; ++r) {
        uint64_t seq;
        uint32_t flags;
        if (!p.reader.Peek(&seq, &flags)) break;
        EXPECT_EQ(flags & ~MessageRing::kRecordHasHandles, 0u);
        std::vector<uint8_t> out;
        p.reader.Pop(&out);
        EXPECT_LE(out.size(), MX_CHANNEL_MAX_MSG_BYTES);
      }
      p.reader.BufferedPayload();
      p.reader.TakeWriterWake();
    }
    if (p.reader.broken() || p.writer.broken()) ++broken_count;
  }
  EXPECT_GT(broken_count, 100u) << "the scribbles should have been noticed most of the time";
}

}  // namespace
}  // namespace mx::internal
