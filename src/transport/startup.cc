// SPDX-License-Identifier: BSD-3-Clause
#include "transport/startup.h"

#include <cstring>

#include "transport/frame_io.h"
#include "transport/wire.h"

namespace mx::internal {

mx_status_t EncodeStartupFrame(const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                               std::vector<int>* fds, UniqueFd* overflow) {
  FrameHeader header = {};
  header.kind = kFrameStartup;
  return EncodeFrame(header, nullptr, 0, handles, bytes, fds, overflow);
}

bool StartupHeaderAcceptable(const uint8_t* head, size_t head_size, size_t datagram_size) {
  if (head_size < sizeof(FrameHeader) || datagram_size < sizeof(FrameHeader)) return false;
  FrameHeader h;
  std::memcpy(&h, head, sizeof(h));
  return h.magic == kFrameMagic && h.kind == kFrameStartup && h.reserved == 0 &&
         (h.flags & ~kFlagFdOverflow) == 0 && h.num_bytes == 0 &&
         h.num_handles <= kMaxStartupHandles &&
         sizeof(FrameHeader) + static_cast<uint64_t>(h.desc_bytes) == datagram_size;
}

mx_status_t DecodeStartupFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds,
                               std::vector<RawHandle>* out) {
  // The header rules apply to what was read too: the datagram may differ from the one peeked
  // (the sender may still hold the other end), and the decoder alone allows more handles.
  if (!StartupHeaderAcceptable(data, size, size)) return MX_ERR_IO;
  Frame frame;
  if (DecodeFrame(data, size, std::move(fds), &frame) != MX_OK) return MX_ERR_IO;
  if (frame.header.kind != kFrameStartup || frame.message.handles.size() > kMaxStartupHandles) {
    return MX_ERR_IO;
  }
  *out = std::move(frame.message.handles);
  return MX_OK;
}

}  // namespace mx::internal
