// SPDX-License-Identifier: BSD-3-Clause
// The rendezvous Hello: the one datagram a client sends on its listening connection
// (docs/rendezvous.md, "Protocol"). It carries the koids of the two endpoints and, as its only
// fd, the server's end of the channel's socket pair.
//
// Decoding is a pure function of what arrived (bytes, the receive's flags, the fds), so it can
// be fuzzed; the listener does the I/O around it. Everything in a Hello is attacker-controlled.
#pragma once

#include <magenta/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {

constexpr uint32_t kHelloMagic = 0x4f4c4548u;  // "HELO"
constexpr uint32_t kHelloVersion = 1;

struct HelloWire {
  uint32_t magic;
  uint32_t version;
  uint64_t server_koid;  // the koid of the endpoint the server builds
  uint64_t client_koid;  // the koid of the client's endpoint (the server's related koid)
};
static_assert(sizeof(HelloWire) == 24);

struct Hello {
  mx_koid_t server_koid = MX_KOID_INVALID;
  mx_koid_t client_koid = MX_KOID_INVALID;
  UniqueFd socket;  // the server's end: a connected AF_UNIX SOCK_SEQPACKET socket
};

// Why a Hello was refused (for the debug log, by HelloErrorName, and the fuzzer's counters).
enum class HelloError {
  kNone = 0,
  kTruncated,   // the datagram was larger than a Hello, or its control data was cut short
  kSize,        // not exactly sizeof(HelloWire) bytes
  kFdCount,     // not exactly one fd
  kMagic,       // wrong magic or version
  kKoids,       // a koid is MX_KOID_INVALID, or both are the same
  kNotChannel,  // the fd is not a connected AF_UNIX SOCK_SEQPACKET socket
};

// The reason's name for the debug log: "truncated", "size", "fd_count", "magic", "koids",
// "not_channel" ("none" for kNone).
const char* HelloErrorName(HelloError error);

// Encodes a Hello for |server_koid| and |client_koid| (the fd travels beside it).
HelloWire EncodeHello(mx_koid_t server_koid, mx_koid_t client_koid);

// Decodes a received Hello: |size| bytes of |data| (|truncated| / |bad_control| as the receive
// reported them) and the fds that came with it, which are consumed: the one fd moves into |out|
// on success, everything else is closed. Returns kNone or the reason for refusing it; never
// blocks (the fd check only asks the kernel about the fd).
HelloError DecodeHello(const uint8_t* data, size_t size, bool truncated, bool bad_control,
                       std::vector<UniqueFd> fds, Hello* out);

}  // namespace mx::internal
