// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the receive path below the API: the frame decoder (transport/wire.h; its
// overflow I/O in transport/frame_io.h): DecodeFrame on a datagram with real fds attached and
// DecodeQueue on a raw blob, then the handles of a data or startup frame that decodes installed as
// mx_channel_read would (api/materialize.h, InstallHandles: each object type checks its fds and
// extra state), read from if they are channel endpoints (a queue that travelled with an endpoint
// brings handles of its own), and closed. It lives in api/ because it drives the api layer;
// transport/ stays below it.
//
// Properties checked (a violation aborts):
//   - no crash, no sanitizer report, whatever the bytes and fds;
//   - a frame or queue that decodes re-encodes (EncodeFrame / EncodeQueue) and decodes again to
//     the same thing: same header fields, bytes, handle descriptions, and fds naming the same
//     files in the same order;
//   - installing handles either succeeds or fails with MX_ERR_IO (malformed) and nothing else;
//   - the number of open fds is the same after each input as before: every fd handed to the
//     decoder is either returned inside the decoded message or closed, and closing the installed
//     handles closes the rest.
//
// Input format (tests/fuzz/README.md; seeds in tests/fuzz/corpus/wire/):
//   byte 0   mode: even = one frame; odd = a queue blob of (byte 0 >> 1) messages
//   byte 1   bits 0-2: number n of fds to attach; bit 3: overflow mode (frames only): attach
//            252 eventfd copies plus an overflow socket, with (bits 4-6) c chunks queued on it
//   n bytes  the kind of each fd: 0 pipe read end, 1 pipe write end, 2 eventfd, 3 memfd,
//            4 SOCK_SEQPACKET end, 5 SOCK_STREAM end, 6 a sealed 4 KiB memfd (an event's shape),
//            7 a memfd holding the datagram (or blob) itself (modulo 8)
//   c * 9    overflow mode only: each chunk is 8 header bytes then a byte of fd count (% 64)
//   rest     the datagram or the queue blob
#include <magenta/syscalls.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

#include "api/materialize.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/socket.h"
#include "support/fd_count.h"
#include "support/fuzz_support.h"
#include "transport/frame_io.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

// What the inputs did, printed at exit (the figures in docs/RELIABILITY.md).
struct Stats {
  unsigned long long frames = 0, frames_rejected = 0;
  unsigned long long queues = 0, queues_rejected = 0;
  unsigned long long handles_installed = 0, installs_rejected = 0;
  unsigned long long messages_read = 0;
};
Stats g_stats;

void PrintStats() {
  std::fprintf(stderr,
               "wire_fuzzer: %llu frames decoded, %llu rejected; %llu queue blobs decoded, %llu "
               "rejected; %llu handles installed, %llu installs rejected (MX_ERR_IO); %llu "
               "messages read from installed endpoints\n",
               g_stats.frames, g_stats.frames_rejected, g_stats.queues, g_stats.queues_rejected,
               g_stats.handles_installed, g_stats.installs_rejected, g_stats.messages_read);
}

// The file |fd| names, for comparing fds across an encode and a decode.
FileId IdOf(int fd) {
  FileId id;
  FUZZ_CHECK(GetFileId(fd, &id) == MX_OK);
  return id;
}

UniqueFd Dup(int fd) {
  UniqueFd d = DupFd(fd);
  FUZZ_CHECK(d.is_valid());
  return d;
}

// The fd kinds of the input format, by byte modulo 8.
using mx_fuzz::FuzzFd;
constexpr FuzzFd kFdKinds[] = {FuzzFd::kPipeRead,    FuzzFd::kPipeWrite,        FuzzFd::kEventFd,
                               FuzzFd::kMemfd,       FuzzFd::kSeqpacketEnd,     FuzzFd::kStreamEnd,
                               FuzzFd::kSealedMemfd, FuzzFd::kMemfdWithContents};

// |contents|: what a kind-7 memfd holds.
UniqueFd MakeFd(uint8_t kind, const uint8_t* contents, size_t size) {
  return mx_fuzz::MakeFuzzFd(kFdKinds[kind % std::size(kFdKinds)], contents, size);
}

std::vector<UniqueFd> DupAll(const std::vector<int>& fds) {
  std::vector<UniqueFd> out;
  for (int fd : fds) out.push_back(Dup(fd));
  return out;
}

void CheckSameHandles(const std::vector<RawHandle>& a, const std::vector<RawHandle>& b) {
  FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    FUZZ_CHECK(a[i].type == b[i].type);
    FUZZ_CHECK(a[i].rights == b[i].rights);
    FUZZ_CHECK(a[i].koid == b[i].koid);
    FUZZ_CHECK(a[i].related_koid == b[i].related_koid);
    FUZZ_CHECK(a[i].info == b[i].info);
    FUZZ_CHECK(a[i].extra == b[i].extra);
    FUZZ_CHECK(a[i].fds.size() == b[i].fds.size());
    for (size_t f = 0; f < a[i].fds.size(); ++f) {
      FUZZ_CHECK(a[i].fds[f].is_valid() && b[i].fds[f].is_valid());
      FUZZ_CHECK(IdOf(a[i].fds[f].get()) == IdOf(b[i].fds[f].get()));
    }
  }
}

// Reads up to 4 messages from an installed endpoint (its travelling queue, then its socket) and
// closes the handles they bring, which were installed like any received handle.
void ReadSome(mx_handle_t channel) {
  static std::vector<uint8_t> bytes(MX_CHANNEL_MAX_MSG_BYTES);
  mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
  for (int i = 0; i < 4; ++i) {
    uint32_t num_bytes = 0, num_handles = 0;
    mx_status_t st = mx_channel_read(channel, 0, bytes.data(), handles, MX_CHANNEL_MAX_MSG_BYTES,
                                     MX_CHANNEL_MAX_MSG_HANDLES, &num_bytes, &num_handles);
    if (st != MX_OK && st != MX_ERR_SHOULD_WAIT && st != MX_ERR_PEER_CLOSED) {
      std::fprintf(stderr, "wire_fuzzer: read from an installed endpoint returned %d\n", st);
    }
    // ACCESS_DENIED: the sender described the endpoint without READ (rights are its claim).
    FUZZ_CHECK(st == MX_OK || st == MX_ERR_SHOULD_WAIT || st == MX_ERR_PEER_CLOSED ||
               st == MX_ERR_ACCESS_DENIED);
    if (st != MX_OK) return;
    g_stats.messages_read++;
    for (uint32_t k = 0; k < num_handles; ++k) FUZZ_CHECK(mx_handle_close(handles[k]) == MX_OK);
  }
}

// Installs decoded handles as mx_channel_read would, then closes them (all or nothing: a
// malformed one fails the install with MX_ERR_IO and closes every fd).
void InstallAndClose(std::vector<RawHandle>* raws) {
  if (raws->empty()) return;
  std::vector<mx_handle_t> values(raws->size(), MX_HANDLE_INVALID);
  mx_status_t st = InstallHandles(raws, values.data());
  FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
  if (st != MX_OK) {
    g_stats.installs_rejected++;
    return;
  }
  g_stats.handles_installed += values.size();
  for (mx_handle_t v : values) {
    mx_info_handle_basic_t info;
    FUZZ_CHECK(mx_object_get_info(v, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr) ==
               MX_OK);
    if (info.type == MX_OBJ_TYPE_CHANNEL) ReadSome(v);
    FUZZ_CHECK(mx_handle_close(v) == MX_OK);
  }
}

// Re-encodes a decoded frame and decodes it again; the two must agree.
void RoundTripFrame(const Frame& frame) {
  const FrameHeader& h = frame.header;
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  UniqueFd overflow;
  if (h.kind == kFrameRing) {
    // Ring announcements are built by hand (ChannelEndpoint::SendControlLocked): 8 bytes, 1 fd.
    FUZZ_CHECK(frame.message.handles.size() == 1 && frame.message.handles[0].fds.size() == 1);
    FrameHeader r = {};
    r.magic = kFrameMagic;
    r.kind = kFrameRing;
    r.seq = h.seq;
    r.num_bytes = static_cast<uint32_t>(frame.message.bytes.size());
    r.num_fds = 1;
    bytes.resize(sizeof(r));
    std::memcpy(bytes.data(), &r, sizeof(r));
    bytes.insert(bytes.end(), frame.message.bytes.begin(), frame.message.bytes.end());
    fds.push_back(frame.message.handles[0].fds[0].get());
  } else {
    FUZZ_CHECK(EncodeFrame(h, frame.message.bytes.data(), frame.message.bytes.size(),
                           frame.message.handles, &bytes, &fds, &overflow) == MX_OK);
    FUZZ_CHECK(fds.size() <= kMaxFdsPerDatagram);
    FUZZ_CHECK(overflow.is_valid() == (frame.message.total_fds() > kMaxFdsPerDatagram));
  }
  FUZZ_CHECK(bytes.size() <= kMaxFrameBytes);
  Frame again;
  FUZZ_CHECK(DecodeFrame(bytes.data(), bytes.size(), DupAll(fds), &again) == MX_OK);
  FUZZ_CHECK(again.header.kind == h.kind);
  FUZZ_CHECK(again.header.seq == h.seq);
  FUZZ_CHECK((again.header.flags & kFlagPayloadInRing) == (h.flags & kFlagPayloadInRing));
  FUZZ_CHECK((again.header.flags & kFlagFdOverflow) == (h.flags & kFlagFdOverflow));
  FUZZ_CHECK(again.header.num_bytes == h.num_bytes);
  FUZZ_CHECK(again.header.num_handles == h.num_handles);
  FUZZ_CHECK(again.header.num_fds == h.num_fds);
  if (h.kind != kFrameRing) FUZZ_CHECK(again.header.desc_bytes == h.desc_bytes);
  FUZZ_CHECK(again.message.bytes == frame.message.bytes);
  CheckSameHandles(again.message.handles, frame.message.handles);
}

void FuzzFrame(const uint8_t* data, size_t size, uint8_t fd_spec) {
  const size_t n = fd_spec & 7;
  if (size < n) return;
  std::vector<UniqueFd> fds;
  std::vector<FileId> ids;
  for (size_t i = 0; i < n; ++i) {
    fds.push_back(MakeFd(data[i], data + n, size - n));
    FUZZ_CHECK(fds.back().is_valid());
    ids.push_back(IdOf(fds.back().get()));
  }
  data += n;
  size -= n;

  UniqueFd spare;  // the eventfd whose copies fill an overflow frame
  if (fd_spec & 8) {
    const size_t chunks = (fd_spec >> 4) & 7;
    if (size < chunks * 9) return;
    spare = MakeFd(2, nullptr, 0);
    fds.clear();
    ids.clear();
    for (size_t i = 0; i + 1 < kMaxFdsPerDatagram; ++i) {
      fds.push_back(Dup(spare.get()));
      ids.push_back(IdOf(spare.get()));
    }
    UniqueFd a, b;
    FUZZ_CHECK(CreateSeqpacketPair(&a, &b) == MX_OK);
    for (size_t c = 0; c < chunks; ++c) {
      uint8_t header[8];
      std::memcpy(header, data, 8);
      std::vector<int> chunk_fds(data[8] % 64, spare.get());
      data += 9;
      size -= 9;
      struct iovec iov = {header, sizeof(header)};
      FUZZ_CHECK(SendDatagram(a.get(), &iov, 1, chunk_fds.data(), chunk_fds.size()) == MX_OK);
    }
    fds.push_back(std::move(b));
    ids.push_back(IdOf(fds.back().get()));
  }

  Frame frame;
  mx_status_t st = DecodeFrame(data, size, std::move(fds), &frame);
  FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
  ++(st == MX_OK ? g_stats.frames : g_stats.frames_rejected);
  if (st != MX_OK) {
    FUZZ_CHECK(frame.message.handles.empty());
    return;
  }
  // The header is the one sent; fds came out in the order they went in.
  FUZZ_CHECK(size >= sizeof(FrameHeader));
  FUZZ_CHECK(std::memcmp(&frame.header, data, sizeof(FrameHeader)) == 0);
  // An endpoint over this process's queue limits is dropped whole (its fds closed) and the
  // message kept without it; otherwise every handle and fd came out.
  // (A dropped endpoint always carried at least its socket, so fewer fds tell it was dropped.)
  FUZZ_CHECK(frame.message.total_fds() <= frame.header.num_fds);
  if (frame.message.total_fds() < frame.header.num_fds) {
    FUZZ_CHECK(frame.header.kind == kFrameData || frame.header.kind == kFrameStartup);
    FUZZ_CHECK(frame.message.handles.size() < frame.header.num_handles);
    InstallAndClose(&frame.message.handles);
    return;
  }
  if (!(fd_spec & 8)) {
    size_t k = 0;
    for (const RawHandle& h : frame.message.handles) {
      for (const UniqueFd& fd : h.fds) FUZZ_CHECK(IdOf(fd.get()) == ids[k++]);
    }
    FUZZ_CHECK(k == ids.size());
  }
  RoundTripFrame(frame);
  if (frame.header.kind == kFrameData || frame.header.kind == kFrameStartup) {
    InstallAndClose(&frame.message.handles);
  }
}

void FuzzQueue(const uint8_t* data, size_t size, uint32_t count, uint8_t fd_spec) {
  const size_t n = fd_spec & 7;
  if (size < n) return;
  std::vector<UniqueFd> fds;
  for (size_t i = 0; i < n; ++i) {
    fds.push_back(MakeFd(data[i], data + n, size - n));
    FUZZ_CHECK(fds.back().is_valid());
  }
  data += n;
  size -= n;
  size_t fd_index = 0;
  std::vector<Message> messages;
  mx_status_t st = DecodeQueue(data, size, count, &fds, &fd_index, &messages);
  FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
  ++(st == MX_OK ? g_stats.queues : g_stats.queues_rejected);
  FUZZ_CHECK(fd_index <= fds.size());
  if (st != MX_OK) return;
  FUZZ_CHECK(messages.size() == count);
  size_t total = 0;
  for (const Message& m : messages) total += m.total_fds();
  // A dropped endpoint (over the queue limits) takes its fds with it: then nothing re-encodes.
  FUZZ_CHECK(total <= fd_index);
  if (total != fd_index) return;

  std::vector<const Message*> ptrs;
  for (const Message& m : messages) ptrs.push_back(&m);
  std::vector<uint8_t> blob;
  std::vector<int> out_fds;
  EncodeQueue(ptrs, &blob, &out_fds);
  FUZZ_CHECK(blob.size() == size);
  FUZZ_CHECK(out_fds.size() == fd_index);
  std::vector<UniqueFd> owned = DupAll(out_fds);
  size_t index2 = 0;
  std::vector<Message> again;
  FUZZ_CHECK(DecodeQueue(blob.data(), blob.size(), count, &owned, &index2, &again) == MX_OK);
  FUZZ_CHECK(index2 == owned.size());
  FUZZ_CHECK(again.size() == messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    FUZZ_CHECK(again[i].bytes == messages[i].bytes);
    CheckSameHandles(again[i].handles, messages[i].handles);
  }
  for (Message& m : messages) InstallAndClose(&m.handles);
}

}  // namespace
}  // namespace mx::internal

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Lazily created libmx state must exist before the first input counts its fds: use a channel
  // and an event once.
  mx_handle_t a, b, ev;
  if (mx_channel_create(0, &a, &b) != MX_OK || mx_event_create(0, &ev) != MX_OK) std::abort();
  uint32_t nb = 0, nh = 0;
  char byte = 'x';
  mx_channel_write(a, 0, &byte, 1, &ev, 1);
  mx_channel_read(b, 0, &byte, &ev, 1, 1, &nb, &nh);
  mx_object_wait_one(b, MX_CHANNEL_READABLE, 0, nullptr);
  mx_handle_close(ev);
  mx_handle_close(a);
  mx_handle_close(b);
  std::atexit(mx::internal::PrintStats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int fds_before = mx_test::CountOpenFds();
  const uint8_t mode = data[0];
  const uint8_t fd_spec = data[1];
  if (mode & 1) {
    mx::internal::FuzzQueue(data + 2, size - 2, mode >> 1, fd_spec);
  } else {
    mx::internal::FuzzFrame(data + 2, size - 2, fd_spec);
  }
  const int fds_after = mx_test::CountOpenFds();
  if (fds_after != fds_before) {
    std::fprintf(stderr, "wire_fuzzer: fd leak: %d open before, %d after\n", fds_before, fds_after);
    std::abort();
  }
  return 0;
}
