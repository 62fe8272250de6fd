// SPDX-License-Identifier: BSD-3-Clause
#include "transport/frame_io.h"

#include <sys/uio.h>

#include <algorithm>

#include "os/log.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

static_assert(kWireFdsPerDatagram == kMaxFdsPerDatagram,
              "the wire format's fds per datagram are the kernel's SCM_MAX_FD");

// Reads one chunk from the overflow socket into |decoder|.
FrameReject ReadOverflowChunk(FrameDecoder* decoder) {
  OverflowChunk chunk;
  ReceivedDatagram got;
  if (ReceiveDatagram(decoder->overflow_socket(), &chunk, sizeof(chunk), &got) != MX_OK) {
    return FrameReject::kOverflowUnreadable;
  }
  return decoder->AddOverflowChunk(&chunk, got.size, got.truncated, got.bad_control,
                                   std::move(got.fds));
}

// Creates the overflow socket and queues the last |count| entries of |fds| on it, in chunks of
// at most kWireFdsPerDatagram; then |fds| keeps the inline ones followed by the socket's
// receiving end, which moves to |overflow|.
mx_status_t SendOverflow(size_t count, std::vector<int>* fds, UniqueFd* overflow) {
  UniqueFd a, b;
  mx_status_t st = CreateSeqpacketPair(&a, &b);
  if (st != MX_OK) return st;
  const size_t inline_count = fds->size() - count;
  for (size_t pos = inline_count; pos < fds->size(); pos += kWireFdsPerDatagram) {
    size_t n = std::min(kWireFdsPerDatagram, fds->size() - pos);
    OverflowChunk chunk = {kOverflowMagic, static_cast<uint32_t>(n)};
    struct iovec iov = {&chunk, sizeof(chunk)};
    st = SendDatagram(a.get(), &iov, 1, fds->data() + pos, n);
    if (st != MX_OK) return st == MX_ERR_SHOULD_WAIT ? MX_ERR_NO_RESOURCES : st;
  }
  fds->resize(inline_count);
  fds->push_back(b.get());
  *overflow = std::move(b);
  return MX_OK;
}

}  // namespace

mx_status_t DecodeFrame(const uint8_t* data, size_t size, std::vector<UniqueFd> fds, Frame* out) {
  FrameDecoder decoder;
  FrameReject reason = decoder.Start(data, size, std::move(fds));
  while (reason == FrameReject::kNone && decoder.overflow_fds_missing() > 0) {
    reason = ReadOverflowChunk(&decoder);
  }
  if (reason == FrameReject::kNone) reason = decoder.Finish(out);
  if (reason == FrameReject::kNone) return MX_OK;
  DebugLog("frame rejected: %s", FrameRejectName(reason));
  return MX_ERR_IO;
}

mx_status_t EncodeFrame(const FrameHeader& header, const uint8_t* payload, size_t num_payload,
                        const std::vector<RawHandle>& handles, std::vector<uint8_t>* bytes,
                        std::vector<int>* fds, UniqueFd* overflow) {
  const size_t count = EncodeFrameBytes(header, payload, num_payload, handles, bytes, fds);
  if (count == 0) return MX_OK;
  return SendOverflow(count, fds, overflow);
}

}  // namespace mx::internal
