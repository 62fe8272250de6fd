// SPDX-License-Identifier: BSD-3-Clause
#include "transport/wire.h"

#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <sys/uio.h>

#include <cstring>

#include "os/log.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

struct QueueRecord {
  uint32_t num_bytes;
  uint32_t num_handles;
  uint32_t desc_bytes;
  uint32_t num_fds;
};
static_assert(sizeof(QueueRecord) == 16);

// Overflow chunks: a small header then up to 253 fds.
constexpr uint32_t kOverflowMagic = 0x4f46584du;  // "MXFO"
struct OverflowChunk {
  uint32_t magic;
  uint32_t count;
};

// Every rejection of a frame names its check; MX_DEBUG=1 logs it.
mx_status_t Reject(int reason) {
  DebugLog("rejected a malformed frame (check %d)", reason);
  return MX_ERR_IO;
}

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
      DebugLog("rejected a handle of type %u: %u fds and %u extra bytes are not its shape",
               w.type, w.num_fds, w.extra_bytes);
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

mx_status_t EncodeFrame(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds, UniqueFd* overflow) {
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
  if (fds->size() > kMaxFdsPerDatagram) {
    UniqueFd a, b;
    mx_status_t st = CreateSeqpacketPair(&a, &b);
    if (st != MX_OK) return st;
    size_t inline_count = kMaxFdsPerDatagram - 1;
    for (size_t pos = inline_count; pos < fds->size(); pos += kMaxFdsPerDatagram) {
      size_t n = std::min(kMaxFdsPerDatagram, fds->size() - pos);
      OverflowChunk chunk = {kOverflowMagic, static_cast<uint32_t>(n)};
      struct iovec iov = {&chunk, sizeof(chunk)};
      st = SendDatagram(a.get(), &iov, 1, fds->data() + pos, n);
      if (st != MX_OK) return st == MX_ERR_SHOULD_WAIT ? MX_ERR_NO_RESOURCES : st;
    }
    fds->resize(inline_count);
    fds->push_back(b.get());
    *overflow = std::move(b);
    h.flags |= kFlagFdOverflow;
  }
  std::memcpy(bytes->data(), &h, sizeof(h));
  return MX_OK;
}

mx_status_t DecodeFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds,
                        Frame* out) {
  if (size < sizeof(FrameHeader)) return Reject(1);
  FrameHeader h;
  std::memcpy(&h, data, sizeof(h));
  if (h.magic != kFrameMagic || h.reserved != 0) return Reject(2);
  if ((h.flags & ~(kFlagFdOverflow | kFlagPayloadInRing)) != 0) return Reject(3);
  if ((h.flags & kFlagPayloadInRing) && (h.kind != kFrameData || h.num_bytes != 0)) {
    return Reject(4);
  }
  switch (h.kind) {
    case kFrameData:
    case kFrameStartup:
      if (h.num_bytes > MX_CHANNEL_MAX_MSG_BYTES) return Reject(5);
      if (h.kind == kFrameData && h.num_handles > MX_CHANNEL_MAX_MSG_HANDLES) return Reject(6);
      if (h.kind == kFrameStartup && h.num_handles > 4096) return Reject(7);
      break;
    case kFrameSignal:
      if (h.num_bytes != 8 || h.num_handles != 0 || h.num_fds != 0) return Reject(8);
      break;
    case kFrameRing:
      if (h.num_bytes != 8 || h.num_handles != 0 || h.num_fds != 1 || h.desc_bytes != 0) {
        return Reject(9);
      }
      break;
    case kFrameKick:
    case kFrameNoWrite:
      if (h.num_bytes != 0 || h.num_handles != 0 || h.num_fds != 0) return Reject(10);
      break;
    default:
      return Reject(11);
  }
  if (static_cast<uint64_t>(sizeof(FrameHeader)) + h.num_bytes + h.desc_bytes != size) {
    return Reject(12);
  }
  if (h.kind != kFrameRing && h.num_handles == 0 && (h.desc_bytes != 0 || h.num_fds != 0)) {
    return Reject(13);
  }
  if (h.num_fds > kMaxFrameFds) return Reject(21);
  // Collect overflow fds, if any, before checking the count.
  if (h.flags & kFlagFdOverflow) {
    if (fds.size() != kMaxFdsPerDatagram || h.num_fds <= kMaxFdsPerDatagram) {
      return Reject(14);
    }
    UniqueFd extra = std::move(fds.back());
    fds.pop_back();
    while (fds.size() < h.num_fds) {
      OverflowChunk chunk;
      ReceivedDatagram got;
      if (ReceiveDatagram(extra.get(), &chunk, sizeof(chunk), &got) != MX_OK) return Reject(15);
      if (got.truncated || got.bad_control || got.size != sizeof(chunk)) return Reject(16);
      if (chunk.magic != kOverflowMagic || chunk.count == 0 || chunk.count != got.fds.size()) {
        return Reject(17);
      }
      if (fds.size() + got.fds.size() > h.num_fds) return Reject(18);
      for (auto& fd : got.fds) fds.push_back(std::move(fd));
    }
  }
  if (fds.size() != h.num_fds) return Reject(19);
  out->header = h;
  const uint8_t* payload = data + sizeof(FrameHeader);
  out->message.bytes.assign(payload, payload + h.num_bytes);
  out->message.handles.clear();
  if (h.kind == kFrameRing) {
    out->message.handles.emplace_back();
    out->message.handles.back().fds.push_back(std::move(fds[0]));
    return MX_OK;
  }
  size_t fd_index = 0;
  mx_status_t st = DecodeHandles(payload + h.num_bytes, h.desc_bytes, h.num_handles, &fds,
                                 &fd_index, &out->message.handles);
  if (st != MX_OK) {
    out->message.handles.clear();
    return st;
  }
  if (fd_index != fds.size()) {
    out->message.handles.clear();
    return Reject(20);
  }
  return MX_OK;
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
                        std::vector<UniqueFd>* fds, size_t* fd_index,
                        std::vector<Message>* out) {
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
    mx_status_t st = DecodeHandles(data + pos, r.desc_bytes, r.num_handles, fds, fd_index,
                                   &m.handles);
    if (st != MX_OK) return st;
    if (*fd_index - before != r.num_fds) return MX_ERR_IO;
    pos += r.desc_bytes;
    out->push_back(std::move(m));
  }
  if (pos != size) return MX_ERR_IO;
  return MX_OK;
}

}  // namespace mx::internal
