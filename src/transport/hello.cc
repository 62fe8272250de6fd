// SPDX-License-Identifier: BSD-3-Clause
#include "transport/hello.h"

#include <cstring>

#include "os/fd_check.h"

namespace mx::internal {

const char* HelloErrorName(HelloError error) {
  switch (error) {
    case HelloError::kNone:
      return "none";
    case HelloError::kTruncated:
      return "truncated";
    case HelloError::kSize:
      return "size";
    case HelloError::kFdCount:
      return "fd_count";
    case HelloError::kMagic:
      return "magic";
    case HelloError::kKoids:
      return "koids";
    case HelloError::kNotChannel:
      return "not_channel";
  }
  return "unknown";
}

HelloWire EncodeHello(mx_koid_t server_koid, mx_koid_t client_koid) {
  return HelloWire{kHelloMagic, kHelloVersion, server_koid, client_koid};
}

HelloError DecodeHello(const uint8_t* data, size_t size, bool truncated, bool bad_control,
                       std::vector<UniqueFd> fds, Hello* out) {
  if (truncated || bad_control) return HelloError::kTruncated;
  if (size != sizeof(HelloWire)) return HelloError::kSize;
  if (fds.size() != 1) return HelloError::kFdCount;
  HelloWire wire;
  std::memcpy(&wire, data, sizeof(wire));
  if (wire.magic != kHelloMagic || wire.version != kHelloVersion) return HelloError::kMagic;
  if (wire.server_koid == MX_KOID_INVALID || wire.client_koid == MX_KOID_INVALID ||
      wire.server_koid == wire.client_koid) {
    return HelloError::kKoids;
  }
  if (!IsChannelSocket(fds[0].get())) return HelloError::kNotChannel;
  out->server_koid = wire.server_koid;
  out->client_koid = wire.client_koid;
  out->socket = std::move(fds[0]);
  return HelloError::kNone;
}

}  // namespace mx::internal
