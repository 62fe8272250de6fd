// SPDX-License-Identifier: BSD-3-Clause
#include "transport/inbound_sequencer.h"

#include "base/check.h"

namespace mx::internal {

InboundSequencer::FrameAction InboundSequencer::OnDataFrame(const FrameHeader& header,
                                                            bool have_ring) {
  if (header.seq >= write_limit_) {
    return Break(FrameAction::kBreak, "data from an end that left without WRITE");
  }
  if (header.seq == next_ && !(header.flags & kFlagPayloadInRing)) return FrameAction::kDeliver;
  // Only ring records can fill the numbers before it; without a ring nothing can.
  if (header.seq >= next_ && have_ring) return FrameAction::kStash;
  return Break(FrameAction::kBreak, "data frame out of sequence");
}

InboundSequencer::StashAction InboundSequencer::OnStash(std::optional<RingHead> head) {
  MX_DCHECK(stash_);
  const FrameHeader& frame = stash_->header;
  if (frame.seq == next_) {
    if (!(frame.flags & kFlagPayloadInRing)) return StashAction::kDeliverStash;
    if (!head) return StashAction::kWaitForPayload;
    if (head->seq != next_ || !head->has_handles) {
      return Break(StashAction::kBreak, "ring record does not match its frame");
    }
    return StashAction::kJoinRecord;
  }
  // Ring records with lower sequence numbers come first, each a message of its own.
  if (!head || head->seq != next_ || head->has_handles) {
    return Break(StashAction::kBreak, "sequence gap");
  }
  return StashAction::kDeliverRecord;
}

Frame InboundSequencer::TakeStash() {
  MX_DCHECK(stash_);
  Frame frame = std::move(*stash_);
  stash_.reset();
  return frame;
}

}  // namespace mx::internal
