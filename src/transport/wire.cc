// SPDX-License-Identifier: BSD-3-Clause
#include "transport/wire.h"

#include <magenta/fd.h>
#include <magenta/syscalls.h>

#include <cstring>

#include "base/check.h"
#include "os/log.h"

namespace mx::internal {
namespace {

struct QueueRecord {
  uint32_t num_bytes;
  uint32_t num_handles;
  uint32_t desc_bytes;
  uint32_t num_fds;
};
static_assert(sizeof(QueueRecord) == 16);

// The most handles a startup frame may describe (transport/startup.h sends far fewer).
constexpr uint32_t kMaxStartupFrameHandles = 4096;

void Append(std::vector<uint8_t>* out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

}  // namespace

void EncodeHandles(const std::vector<RawHandle>& handles, std::vector<uint8_t>* out,
                   std::vector<int>* fds) {
  for (const RawHandle& h : handles) {
    WireHandle w = {};
    w.type = h.type;
    w.rights = h.rights;
    w.koid = h.koid;
    w.related_koid = h.related_koid;
    w.num_fds = static_cast<uint32_t>(h.fds.size());
    w.extra_bytes = static_cast<uint32_t>(h.extra.size());
    w.info = h.info;
    Append(out, &w, sizeof(w));
    Append(out, h.extra.data(), h.extra.size());
    for (const UniqueFd& fd : h.fds) fds->push_back(fd.get());
  }
}

ShapeCheck CheckHandleShape(uint32_t type, const uint8_t* extra, uint32_t extra_bytes,
                            uint32_t num_fds, const QueueLimits& limits) {
  uint32_t want_fds = 0;
  uint32_t want_extra = 0;
  switch (type) {
    case MX_OBJ_TYPE_CHANNEL: {
      EndpointState state;
      StateCheck c = ParseEndpointState(extra, extra_bytes, limits, &state, &want_fds);
      if (c == StateCheck::kMalformed || num_fds != want_fds) return ShapeCheck::kMalformed;
      return c == StateCheck::kOk ? ShapeCheck::kOk : ShapeCheck::kOverLimit;
    }
    case MX_OBJ_TYPE_EVENT:
      want_fds = kEventWireFds;
      break;
    case MX_OBJ_TYPE_EVENT_PAIR:
      want_fds = kEventPairWireFds;
      break;
    case MX_OBJ_TYPE_VMO:
      want_fds = kVmoWireFds;
      break;
    case MX_OBJ_TYPE_SOCKET:
      want_fds = kSocketWireFds;
      break;
    case MX_OBJ_TYPE_FD:
      want_fds = kFdWireFds;
      break;
    case MX_OBJ_TYPE_FIFO:
      want_fds = kFifoWireFds;
      break;
    default:
      return ShapeCheck::kMalformed;
  }
  return num_fds == want_fds && extra_bytes == want_extra ? ShapeCheck::kOk
                                                          : ShapeCheck::kMalformed;
}

mx_status_t DecodeHandles(const uint8_t* data, size_t size, uint32_t count,
                          std::vector<UniqueFd>* fds, size_t* fd_index,
                          std::vector<RawHandle>* out) {
  const QueueLimits& limits = DefaultQueueLimits();
  size_t pos = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (size - pos < sizeof(WireHandle)) return MX_ERR_IO;
    WireHandle w;
    std::memcpy(&w, data + pos, sizeof(w));
    pos += sizeof(w);
    if (w.extra_bytes > kMaxExtraBytes || w.num_fds > kMaxHandleFds || w.reserved != 0) {
      return MX_ERR_IO;
    }
    if (size - pos < w.extra_bytes) return MX_ERR_IO;
    if (fds->size() - *fd_index < w.num_fds) return MX_ERR_IO;
    ShapeCheck shape = CheckHandleShape(w.type, data + pos, w.extra_bytes, w.num_fds, limits);
    if (shape == ShapeCheck::kMalformed) {
      DebugLog("rejected a handle of type %u: %u fds and %u extra bytes are not its shape", w.type,
               w.num_fds, w.extra_bytes);
      return MX_ERR_IO;
    }
    if (shape == ShapeCheck::kOverLimit) {
      DebugLog("dropped an endpoint whose queue exceeds this process's limits");
      for (uint32_t f = 0; f < w.num_fds; ++f) (*fds)[(*fd_index)++].reset();
      pos += w.extra_bytes;
      continue;
    }
    RawHandle h;
    h.type = w.type;
    h.rights = w.rights;
    h.koid = w.koid;
    h.related_koid = w.related_koid;
    h.info = w.info;
    h.extra.assign(data + pos, data + pos + w.extra_bytes);
    pos += w.extra_bytes;
    h.fds.reserve(w.num_fds);
    for (uint32_t f = 0; f < w.num_fds; ++f) h.fds.push_back(std::move((*fds)[(*fd_index)++]));
    out->push_back(std::move(h));
  }
  if (pos != size) return MX_ERR_IO;
  return MX_OK;
}

const char* FrameRejectName(FrameReject reason) {
  switch (reason) {
    case FrameReject::kNone:
      return "none";
    case FrameReject::kShortHeader:
      return "short_header";
    case FrameReject::kBadMagic:
      return "bad_magic";
    case FrameReject::kUnknownFlags:
      return "unknown_flags";
    case FrameReject::kPayloadInRingMisused:
      return "payload_in_ring_misused";
    case FrameReject::kPayloadTooLarge:
      return "payload_too_large";
    case FrameReject::kTooManyHandles:
      return "too_many_handles";
    case FrameReject::kTooManyStartupHandles:
      return "too_many_startup_handles";
    case FrameReject::kBadSignalFrame:
      return "bad_signal_frame";
    case FrameReject::kBadRingFrame:
      return "bad_ring_frame";
    case FrameReject::kBadEmptyFrame:
      return "bad_empty_frame";
    case FrameReject::kUnknownKind:
      return "unknown_kind";
    case FrameReject::kSizeMismatch:
      return "size_mismatch";
    case FrameReject::kFdsWithoutHandles:
      return "fds_without_handles";
    case FrameReject::kTooManyFds:
      return "too_many_fds";
    case FrameReject::kBadOverflowAnnouncement:
      return "bad_overflow_announcement";
    case FrameReject::kOverflowUnreadable:
      return "overflow_unreadable";
    case FrameReject::kOverflowChunkTruncated:
      return "overflow_chunk_truncated";
    case FrameReject::kBadOverflowChunk:
      return "bad_overflow_chunk";
    case FrameReject::kOverflowCountMismatch:
      return "overflow_count_mismatch";
    case FrameReject::kFdCountMismatch:
      return "fd_count_mismatch";
    case FrameReject::kBadHandleSection:
      return "bad_handle_section";
    case FrameReject::kUnclaimedFds:
      return "unclaimed_fds";
  }
  return "unknown";
}

size_t EncodeFrameBytes(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds) {
  bytes->clear();
  fds->clear();
  bytes->reserve(sizeof(FrameHeader) + num_payload + handles.size() * (sizeof(WireHandle) + 64));
  bytes->resize(sizeof(FrameHeader));
  Append(bytes, payload, num_payload);
  size_t desc_start = bytes->size();
  EncodeHandles(handles, bytes, fds);
  FrameHeader h = header;
  h.magic = kFrameMagic;
  h.num_bytes = static_cast<uint32_t>(num_payload);
  h.num_handles = static_cast<uint32_t>(handles.size());
  h.desc_bytes = static_cast<uint32_t>(bytes->size() - desc_start);
  h.num_fds = static_cast<uint32_t>(fds->size());
  h.flags = header.flags & kFlagPayloadInRing;
  size_t overflow = 0;
  if (fds->size() > kWireFdsPerDatagram) {
    overflow = fds->size() - kInlineOverflowFds;
    h.flags |= kFlagFdOverflow;
  }
  std::memcpy(bytes->data(), &h, sizeof(h));
  return overflow;
}

FrameReject FrameDecoder::Reject(FrameReject reason) {
  step_ = Step::kDone;
  fds_.clear();
  overflow_.reset();
  return reason;
}

// Every check on the header, in one function so that their order reads top to bottom: a frame is
// rejected for the first one it fails, and that order (the one FrameReject lists) is what names
// the reason.
FrameReject FrameDecoder::Start(const uint8_t* data, size_t size, std::vector<UniqueFd> fds) {
  MX_DCHECK(step_ == Step::kIdle);
  step_ = Step::kDone;
  if (size < sizeof(FrameHeader)) return FrameReject::kShortHeader;
  FrameHeader h;
  std::memcpy(&h, data, sizeof(h));
  if (h.magic != kFrameMagic || h.reserved != 0) return FrameReject::kBadMagic;
  if ((h.flags & ~(kFlagFdOverflow | kFlagPayloadInRing)) != 0) return FrameReject::kUnknownFlags;
  if ((h.flags & kFlagPayloadInRing) && (h.kind != kFrameData || h.num_bytes != 0)) {
    return FrameReject::kPayloadInRingMisused;
  }
  switch (h.kind) {
    case kFrameData:
    case kFrameStartup:
      if (h.num_bytes > MX_CHANNEL_MAX_MSG_BYTES) return FrameReject::kPayloadTooLarge;
      if (h.kind == kFrameData && h.num_handles > MX_CHANNEL_MAX_MSG_HANDLES) {
        return FrameReject::kTooManyHandles;
      }
      if (h.kind == kFrameStartup && h.num_handles > kMaxStartupFrameHandles) {
        return FrameReject::kTooManyStartupHandles;
      }
      break;
    case kFrameSignal:
      if (h.num_bytes != 8 || h.num_handles != 0 || h.num_fds != 0) {
        return FrameReject::kBadSignalFrame;
      }
      break;
    case kFrameRing:
      if (h.num_bytes != 8 || h.num_handles != 0 || h.num_fds != 1 || h.desc_bytes != 0) {
        return FrameReject::kBadRingFrame;
      }
      break;
    case kFrameKick:
    case kFrameNoWrite:
      if (h.num_bytes != 0 || h.num_handles != 0 || h.num_fds != 0) {
        return FrameReject::kBadEmptyFrame;
      }
      break;
    default:
      return FrameReject::kUnknownKind;
  }
  if (static_cast<uint64_t>(sizeof(FrameHeader)) + h.num_bytes + h.desc_bytes != size) {
    return FrameReject::kSizeMismatch;
  }
  if (h.kind != kFrameRing && h.num_handles == 0 && (h.desc_bytes != 0 || h.num_fds != 0)) {
    return FrameReject::kFdsWithoutHandles;
  }
  if (h.num_fds > kMaxFrameFds) return FrameReject::kTooManyFds;
  if (h.flags & kFlagFdOverflow) {
    if (fds.size() != kWireFdsPerDatagram || h.num_fds <= kWireFdsPerDatagram) {
      return FrameReject::kBadOverflowAnnouncement;
    }
    overflow_ = std::move(fds.back());
    fds.pop_back();
  }
  data_ = data;
  header_ = h;
  fds_ = std::move(fds);
  step_ = overflow_.is_valid() ? Step::kOverflow : Step::kReady;
  return FrameReject::kNone;
}

uint32_t FrameDecoder::overflow_fds_missing() const {
  if (step_ != Step::kOverflow) return 0;
  return header_.num_fds - static_cast<uint32_t>(fds_.size());
}

FrameReject FrameDecoder::AddOverflowChunk(const void* data, size_t size, bool truncated,
                                           bool bad_control, std::vector<UniqueFd> fds) {
  MX_DCHECK(step_ == Step::kOverflow);
  if (truncated || bad_control || size != sizeof(OverflowChunk)) {
    return Reject(FrameReject::kOverflowChunkTruncated);
  }
  OverflowChunk chunk;
  std::memcpy(&chunk, data, sizeof(chunk));
  if (chunk.magic != kOverflowMagic || chunk.count == 0 || chunk.count != fds.size()) {
    return Reject(FrameReject::kBadOverflowChunk);
  }
  if (fds_.size() + fds.size() > header_.num_fds) {
    return Reject(FrameReject::kOverflowCountMismatch);
  }
  for (auto& fd : fds) fds_.push_back(std::move(fd));
  if (fds_.size() == header_.num_fds) step_ = Step::kReady;
  return FrameReject::kNone;
}

FrameReject FrameDecoder::Finish(Frame* out) {
  MX_DCHECK(step_ == Step::kReady);
  step_ = Step::kDone;
  if (fds_.size() != header_.num_fds) return Reject(FrameReject::kFdCountMismatch);
  const FrameHeader& h = header_;
  out->header = h;
  const uint8_t* payload = data_ + sizeof(FrameHeader);
  out->message.bytes.assign(payload, payload + h.num_bytes);
  out->message.handles.clear();
  if (h.kind == kFrameRing) {
    out->message.handles.emplace_back();
    out->message.handles.back().fds.push_back(std::move(fds_[0]));
    fds_.clear();
    return FrameReject::kNone;
  }
  size_t fd_index = 0;
  mx_status_t st = DecodeHandles(payload + h.num_bytes, h.desc_bytes, h.num_handles, &fds_,
                                 &fd_index, &out->message.handles);
  FrameReject result = FrameReject::kNone;
  if (st != MX_OK) {
    result = FrameReject::kBadHandleSection;
  } else if (fd_index != fds_.size()) {
    result = FrameReject::kUnclaimedFds;
  }
  if (result != FrameReject::kNone) {
    out->message.handles.clear();
    return Reject(result);
  }
  fds_.clear();
  return FrameReject::kNone;
}

void EncodeQueue(const std::vector<const Message*>& messages, std::vector<uint8_t>* out,
                 std::vector<int>* fds) {
  for (const Message* m : messages) {
    size_t rec_pos = out->size();
    out->resize(rec_pos + sizeof(QueueRecord));
    Append(out, m->bytes.data(), m->bytes.size());
    size_t desc_start = out->size();
    size_t fd_start = fds->size();
    EncodeHandles(m->handles, out, fds);
    QueueRecord r = {static_cast<uint32_t>(m->bytes.size()),
                     static_cast<uint32_t>(m->handles.size()),
                     static_cast<uint32_t>(out->size() - desc_start),
                     static_cast<uint32_t>(fds->size() - fd_start)};
    std::memcpy(out->data() + rec_pos, &r, sizeof(r));
  }
}

mx_status_t DecodeQueue(const uint8_t* data, size_t size, uint32_t count,
                        std::vector<UniqueFd>* fds, size_t* fd_index, std::vector<Message>* out) {
  size_t pos = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (size - pos < sizeof(QueueRecord)) return MX_ERR_IO;
    QueueRecord r;
    std::memcpy(&r, data + pos, sizeof(r));
    pos += sizeof(r);
    if (r.num_bytes > MX_CHANNEL_MAX_MSG_BYTES || r.num_handles > MX_CHANNEL_MAX_MSG_HANDLES) {
      return MX_ERR_IO;
    }
    if (size - pos < r.num_bytes) return MX_ERR_IO;
    Message m;
    m.bytes.assign(data + pos, data + pos + r.num_bytes);
    pos += r.num_bytes;
    if (size - pos < r.desc_bytes) return MX_ERR_IO;
    if (fds->size() - *fd_index < r.num_fds) return MX_ERR_IO;
    size_t before = *fd_index;
    mx_status_t st =
        DecodeHandles(data + pos, r.desc_bytes, r.num_handles, fds, fd_index, &m.handles);
    if (st != MX_OK) return st;
    if (*fd_index - before != r.num_fds) return MX_ERR_IO;
    pos += r.desc_bytes;
    out->push_back(std::move(m));
  }
  if (pos != size) return MX_ERR_IO;
  return MX_OK;
}

}  // namespace mx::internal
