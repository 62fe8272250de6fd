// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the startup frame decoder (transport/startup.h): the header check a
// process makes on the peeked datagram, then DecodeStartupFrame on the datagram with real fds
// attached, then installing the handles as TakeStartupHandles does (api/materialize.h), and
// closing them. It lives in api/ because it drives the api layer; transport/ stays below it.
//
// Properties checked (a violation aborts):
//   - no crash, no sanitizer report, whatever the bytes and fds;
//   - a frame decodes only if its header passed StartupHeaderAcceptable, and then holds at most
//     kMaxStartupHandles handles whose fds are exactly the fds attached, in order;
//   - installing the handles succeeds or fails with MX_ERR_IO (malformed) and nothing else;
//   - every fd is either returned in the decoded handles or closed: the number of open fds is the
//     same after each input as before.
//
// Input format (tests/fuzz/README.md; seeds in tests/fuzz/corpus/startup/):
//   byte 0   bits 0-2: number n of fds to attach
//   n bytes  the kind of each fd (modulo 7): 0 pipe read end, 1 pipe write end, 2 eventfd,
//            3 memfd, 4 SOCK_SEQPACKET socketpair end, 5 SOCK_STREAM socketpair end, 6 a sealed
//            4 KiB memfd (an event's shape)
//   rest     the datagram
#include <magenta/syscalls.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "api/materialize.h"
#include "support/fd_count.h"
#include "support/fuzz_support.h"
#include "transport/startup.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

struct Stats {
  unsigned long long inputs = 0, headers_refused = 0, frames_refused = 0, frames = 0;
  unsigned long long handles_installed = 0, installs_rejected = 0;
};
Stats g_stats;

void PrintStats() {
  std::fprintf(stderr,
               "startup_fuzzer: %llu inputs, %llu refused on the peeked header, %llu refused by "
               "the decoder, %llu decoded; %llu handles installed, %llu installs rejected "
               "(MX_ERR_IO)\n",
               g_stats.inputs, g_stats.headers_refused, g_stats.frames_refused, g_stats.frames,
               g_stats.handles_installed, g_stats.installs_rejected);
}

// The fd kinds of the input format, by byte modulo 7.
using mx_fuzz::FuzzFd;
constexpr FuzzFd kFdKinds[] = {FuzzFd::kPipeRead,   FuzzFd::kPipeWrite,    FuzzFd::kEventFd,
                               FuzzFd::kMemfd,      FuzzFd::kSeqpacketEnd, FuzzFd::kStreamEnd,
                               FuzzFd::kSealedMemfd};

UniqueFd MakeFd(uint8_t kind) { return mx_fuzz::MakeFuzzFd(kFdKinds[kind % std::size(kFdKinds)]); }

}  // namespace
}  // namespace mx::internal

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(mx::internal::PrintStats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mx::internal;
  if (size < 1) return 0;
  const int fds_before = mx_test::CountOpenFds();
  {
    size_t pos = 1;
    const size_t num_fds = data[0] & 7;
    if (size - pos < num_fds) return 0;
    std::vector<UniqueFd> fds;
    for (size_t i = 0; i < num_fds; ++i) {
      fds.push_back(MakeFd(data[pos + i]));
      FUZZ_CHECK(fds.back().is_valid());
    }
    pos += num_fds;
    // The datagram in a buffer of its own size, so reads past it are caught.
    std::vector<uint8_t> datagram(data + pos, data + size);
    g_stats.inputs++;
    const bool acceptable = StartupHeaderAcceptable(
        datagram.data(), std::min(datagram.size(), sizeof(FrameHeader)), datagram.size());
    if (!acceptable) g_stats.headers_refused++;
    std::vector<RawHandle> handles;
    mx_status_t st = DecodeStartupFrame(datagram.data(), datagram.size(), std::move(fds), &handles);
    FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
    if (st != MX_OK) {
      FUZZ_CHECK(handles.empty());
      if (acceptable) g_stats.frames_refused++;
    } else {
      g_stats.frames++;
      FUZZ_CHECK(acceptable);
      FUZZ_CHECK(handles.size() <= kMaxStartupHandles);
      size_t fd_total = 0;
      for (const RawHandle& h : handles) fd_total += h.fds.size();
      FUZZ_CHECK(fd_total == num_fds);
      if (!handles.empty()) {
        std::vector<mx_handle_t> values(handles.size(), MX_HANDLE_INVALID);
        st = InstallHandles(&handles, values.data());
        FUZZ_CHECK(st == MX_OK || st == MX_ERR_IO);
        if (st == MX_OK) {
          g_stats.handles_installed += values.size();
          for (mx_handle_t v : values) FUZZ_CHECK(mx_handle_close(v) == MX_OK);
        } else {
          g_stats.installs_rejected++;
        }
      }
    }
  }
  if (mx_test::CountOpenFds() != fds_before) {
    std::fprintf(stderr, "startup_fuzzer: fd leak: %d open before, %d after\n", fds_before,
                 mx_test::CountOpenFds());
    std::abort();
  }
  return 0;
}
