// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for InboundSequencer: socket frames and ring records merged by sequence number,
// the stash, and every protocol violation it reports.
#include "transport/inbound_sequencer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mx::internal {
namespace {

// "r" + std::to_string(seq) without the operator: GCC 12 at -O3 warns (-Wrestrict, a false
// positive, GCC bug 105651) on `const char* + std::string&&`, and warnings are errors.
std::string Tag(char kind, uint64_t seq) {
  std::string tag(1, kind);
  tag += std::to_string(seq);
  return tag;
}

using RingAction = InboundSequencer::RingAction;
using FrameAction = InboundSequencer::FrameAction;
using StashAction = InboundSequencer::StashAction;
using RingHead = InboundSequencer::RingHead;

FrameHeader Data(uint64_t seq, bool payload_in_ring = false) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameData;
  h.seq = seq;
  if (payload_in_ring) h.flags = kFlagPayloadInRing;
  return h;
}

Frame DataFrame(uint64_t seq, bool payload_in_ring = false) {
  Frame f;
  f.header = Data(seq, payload_in_ring);
  return f;
}

TEST(InboundSequencerTest, StartsAtZeroWithoutLimit) {
  InboundSequencer s;
  EXPECT_EQ(s.next(), 0u);
  EXPECT_FALSE(s.has_write_limit());
  EXPECT_FALSE(s.WritesEnded());
  EXPECT_FALSE(s.has_stash());
}

TEST(InboundSequencerTest, InOrderSocketFramesAreDelivered) {
  InboundSequencer s;
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(s.OnDataFrame(Data(i), /*have_ring=*/false), FrameAction::kDeliver);
    s.Advance();
  }
  EXPECT_EQ(s.next(), 5u);
}

TEST(InboundSequencerTest, InOrderRingRecordsAreDelivered) {
  InboundSequencer s;
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(s.OnRingHead({i, false}), RingAction::kDeliverRecord);
    s.Advance();
  }
}

TEST(InboundSequencerTest, RingAheadSendsTheReaderToTheSocket) {
  InboundSequencer s;
  EXPECT_EQ(s.OnRingHead({3, false}), RingAction::kReadSocket);
  // The next record's handles are a socket frame: the socket comes first.
  EXPECT_EQ(s.OnRingHead({0, true}), RingAction::kReadSocket);
}

TEST(InboundSequencerTest, RingGoingBackwardsBreaks) {
  InboundSequencer s;
  s.Restore(5, InboundSequencer::kNoLimit);
  EXPECT_EQ(s.OnRingHead({4, false}), RingAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "ring sequence went backwards");
}

TEST(InboundSequencerTest, SocketFrameOutOfSequenceWithoutRingBreaks) {
  InboundSequencer s;
  EXPECT_EQ(s.OnDataFrame(Data(1), /*have_ring=*/false), FrameAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "data frame out of sequence");
}

TEST(InboundSequencerTest, SocketFrameBehindBreaksEvenWithRing) {
  InboundSequencer s;
  s.Restore(4, InboundSequencer::kNoLimit);
  EXPECT_EQ(s.OnDataFrame(Data(3), /*have_ring=*/true), FrameAction::kBreak);
  // Its payload in the ring, but no ring: nothing can ever join it.
  EXPECT_EQ(s.OnDataFrame(Data(4, /*payload_in_ring=*/true), /*have_ring=*/false),
            FrameAction::kBreak);
}

// The picture in the header: ring 5 6 _ 8+, socket 7 8+ 9.
TEST(InboundSequencerTest, SparseSequenceMergesBothStreams) {
  InboundSequencer s;
  s.Restore(5, InboundSequencer::kNoLimit);
  std::vector<RingHead> ring = {{5, false}, {6, false}, {8, true}};
  std::vector<FrameHeader> socket = {Data(7), Data(8, true), Data(9)};
  size_t r = 0, k = 0;
  std::vector<std::string> order;
  while (k < socket.size()) {
    std::optional<RingHead> head;
    if (r < ring.size()) head = ring[r];
    if (s.has_stash()) {
      switch (s.OnStash(head)) {
        case StashAction::kDeliverRecord:
          order.push_back(Tag('r', ring[r++].seq));
          s.Advance();
          continue;
        case StashAction::kDeliverStash:
          order.push_back(Tag('s', s.TakeStash().header.seq));
          s.Advance();
          continue;
        case StashAction::kJoinRecord:
          order.push_back(Tag('j', s.TakeStash().header.seq));
          ++r;
          s.Advance();
          continue;
        default:
          FAIL() << s.reason();
      }
    }
    if (head && s.OnRingHead(*head) == RingAction::kDeliverRecord) {
      order.push_back(Tag('r', ring[r++].seq));
      s.Advance();
      continue;
    }
    Frame f;
    f.header = socket[k++];
    switch (s.OnDataFrame(f.header, /*have_ring=*/true)) {
      case FrameAction::kDeliver:
        order.push_back(Tag('s', f.header.seq));
        s.Advance();
        break;
      case FrameAction::kStash:
        s.Stash(std::move(f));
        break;
      default:
        FAIL() << s.reason();
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"r5", "r6", "s7", "j8", "s9"}));
  EXPECT_EQ(s.next(), 10u);
  EXPECT_EQ(r, ring.size());
}

TEST(InboundSequencerTest, StashedFrameWaitsForRingRecordsBeforeIt) {
  InboundSequencer s;
  ASSERT_EQ(s.OnDataFrame(Data(2), /*have_ring=*/true), FrameAction::kStash);
  s.Stash(DataFrame(2));
  EXPECT_EQ(s.OnStash(RingHead{0, false}), StashAction::kDeliverRecord);
  s.Advance();
  EXPECT_EQ(s.OnStash(RingHead{1, false}), StashAction::kDeliverRecord);
  s.Advance();
  EXPECT_EQ(s.OnStash(std::nullopt), StashAction::kDeliverStash);
  EXPECT_EQ(s.TakeStash().header.seq, 2u);
  EXPECT_FALSE(s.has_stash());
}

TEST(InboundSequencerTest, GapBeforeStashedFrameBreaks) {
  InboundSequencer s;
  s.Stash(DataFrame(2));
  EXPECT_EQ(s.OnStash(std::nullopt), StashAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "sequence gap");
  EXPECT_EQ(s.OnStash(RingHead{1, false}), StashAction::kBreak);  // 0 is missing
  // A record that carries handles cannot stand alone before the frame.
  EXPECT_EQ(s.OnStash(RingHead{0, true}), StashAction::kBreak);
}

TEST(InboundSequencerTest, FrameWithPayloadInRingJoinsItsRecord) {
  InboundSequencer s;
  ASSERT_EQ(s.OnDataFrame(Data(0, true), /*have_ring=*/true), FrameAction::kStash);
  s.Stash(DataFrame(0, true));
  // The writer publishes the payload right after sending the frame.
  EXPECT_EQ(s.OnStash(std::nullopt), StashAction::kWaitForPayload);
  EXPECT_EQ(s.OnStash(RingHead{0, true}), StashAction::kJoinRecord);
}

TEST(InboundSequencerTest, PayloadRecordThatDoesNotMatchBreaks) {
  InboundSequencer s;
  s.Stash(DataFrame(0, true));
  EXPECT_EQ(s.OnStash(RingHead{0, false}), StashAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "ring record does not match its frame");
  EXPECT_EQ(s.OnStash(RingHead{1, true}), StashAction::kBreak);
}

TEST(InboundSequencerTest, WriteLimitRefusesLaterData) {
  InboundSequencer s;
  s.LimitWrites(3);
  s.LimitWrites(7);  // a later announcement never raises the limit
  EXPECT_EQ(s.write_limit(), 3u);
  EXPECT_TRUE(s.has_write_limit());
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(s.WritesEnded());
    ASSERT_EQ(s.OnDataFrame(Data(i), false), FrameAction::kDeliver);
    s.Advance();
  }
  EXPECT_TRUE(s.WritesEnded());
  EXPECT_EQ(s.OnDataFrame(Data(3), false), FrameAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "data from an end that left without WRITE");
  EXPECT_EQ(s.OnRingHead({4, false}), RingAction::kBreak);
  EXPECT_EQ(std::string(s.reason()), "ring record from an end that left without WRITE");
}

TEST(InboundSequencerTest, RestoreCarriesPositionAndLimit) {
  InboundSequencer s;
  s.Restore(41, 50);
  EXPECT_EQ(s.next(), 41u);
  EXPECT_EQ(s.write_limit(), 50u);
  EXPECT_EQ(s.OnRingHead({41, false}), RingAction::kDeliverRecord);
}

TEST(InboundSequencerTest, DropStashForgetsTheFrame) {
  InboundSequencer s;
  s.Stash(DataFrame(1));
  s.DropStash();
  EXPECT_FALSE(s.has_stash());
  EXPECT_EQ(s.next(), 0u);
}

}  // namespace
}  // namespace mx::internal
