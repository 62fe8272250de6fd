// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the rendezvous Hello decoder (transport/hello.h): DecodeHello on a
// datagram with real fds of several kinds attached, as the listener would receive it.
//
// Properties checked (a violation aborts):
//   - no crash, no sanitizer report, whatever the bytes, flags and fds;
//   - a Hello is accepted only if it is exactly sizeof(HelloWire) bytes with the magic and
//     version, two different valid koids, and exactly one fd, which is a connected AF_UNIX
//     SOCK_SEQPACKET socket; the accepted koids are the ones in the bytes, and EncodeHello of
//     them gives the same bytes back;
//   - every fd is either returned in the decoded Hello or closed: the number of open fds is the
//     same after each input as before.
//
// Input format (tests/fuzz/README.md; seeds in tests/fuzz/corpus/hello/):
//   byte 0   bits 0-2: number n of fds to attach; bit 3: truncated; bit 4: bad control
//   n bytes  the kind of each fd (modulo 6): 0 SOCK_SEQPACKET socketpair end, 1 SOCK_STREAM
//            socketpair end, 2 pipe read end, 3 memfd, 4 a listening SOCK_SEQPACKET socket,
//            5 an unconnected SOCK_SEQPACKET socket
//   rest     the datagram
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

#include "os/fd_check.h"
#include "support/fd_count.h"
#include "support/fuzz_support.h"
#include "transport/hello.h"

namespace mx::internal {
namespace {

struct Stats {
  unsigned long long inputs = 0, accepted = 0;
  unsigned long long refused[8] = {};
};
Stats g_stats;

void PrintStats() {
  std::fprintf(stderr,
               "hello_fuzzer: %llu Hellos decoded, %llu accepted; refused: %llu truncated, %llu "
               "size, %llu fd count, %llu magic, %llu koids, %llu not a channel socket\n",
               g_stats.inputs, g_stats.accepted, g_stats.refused[1], g_stats.refused[2],
               g_stats.refused[3], g_stats.refused[4], g_stats.refused[5], g_stats.refused[6]);
}

// The fd kinds of the input format, by byte modulo 6.
using mx_fuzz::FuzzFd;
constexpr FuzzFd kFdKinds[] = {FuzzFd::kSeqpacketEnd,       FuzzFd::kStreamEnd,
                               FuzzFd::kPipeRead,           FuzzFd::kMemfd,
                               FuzzFd::kListeningSeqpacket, FuzzFd::kUnconnectedSeqpacket};

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
    const uint8_t flags = data[0];
    size_t pos = 1;
    const size_t num_fds = flags & 7;
    if (size - pos < num_fds) return 0;
    std::vector<UniqueFd> fds;
    std::vector<uint8_t> kinds;
    for (size_t i = 0; i < num_fds; ++i) {
      kinds.push_back(data[pos + i]);
      fds.push_back(MakeFd(data[pos + i]));
      FUZZ_CHECK(fds.back().is_valid());
    }
    pos += num_fds;
    // The listener receives into a HelloWire-sized buffer: a longer datagram is cut (truncated).
    const size_t received = std::min(size - pos, sizeof(HelloWire));
    const bool truncated = (flags & 8) != 0 || size - pos > sizeof(HelloWire);
    const bool bad_control = (flags & 16) != 0;
    std::vector<uint8_t> buffer(data + pos, data + pos + received);
    Hello hello;
    g_stats.inputs++;
    HelloError err =
        DecodeHello(buffer.data(), buffer.size(), truncated, bad_control, std::move(fds), &hello);
    g_stats.refused[static_cast<int>(err) & 7]++;
    if (err == HelloError::kNone) {
      g_stats.accepted++;
      FUZZ_CHECK(!truncated && !bad_control && received == sizeof(HelloWire));
      FUZZ_CHECK(num_fds == 1 && kinds[0] % 6 == 0);
      FUZZ_CHECK(IsChannelSocket(hello.socket.get()));
      FUZZ_CHECK(hello.server_koid != MX_KOID_INVALID && hello.client_koid != MX_KOID_INVALID);
      FUZZ_CHECK(hello.server_koid != hello.client_koid);
      HelloWire again = EncodeHello(hello.server_koid, hello.client_koid);
      FUZZ_CHECK(std::memcmp(&again, buffer.data(), sizeof(again)) == 0);
    } else {
      FUZZ_CHECK(!hello.socket.is_valid());
    }
  }
  if (mx_test::CountOpenFds() != fds_before) {
    std::fprintf(stderr, "hello_fuzzer: fd leak: %d open before, %d after\n", fds_before,
                 mx_test::CountOpenFds());
    std::abort();
  }
  return 0;
}
