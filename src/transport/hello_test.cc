// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the rendezvous Hello decoder, and the generator of mx_hello_fuzzer's seeds.
#include "transport/hello.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace mx::internal {
namespace {

UniqueFd SocketEnd(int type) {
  int p[2];
  EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p), 0);
  ::close(p[1]);
  return UniqueFd(p[0]);
}

std::vector<UniqueFd> One(UniqueFd fd) {
  std::vector<UniqueFd> v;
  v.push_back(std::move(fd));
  return v;
}

HelloError Decode(const HelloWire& wire, std::vector<UniqueFd> fds, Hello* out,
                  size_t size = sizeof(HelloWire)) {
  return DecodeHello(reinterpret_cast<const uint8_t*>(&wire), size, false, false, std::move(fds),
                     out);
}

TEST(HelloTest, AcceptsOneChannelSocketAndTwoKoids) {
  Hello hello;
  ASSERT_EQ(Decode(EncodeHello(5, 6), One(SocketEnd(SOCK_SEQPACKET)), &hello), HelloError::kNone);
  EXPECT_EQ(hello.server_koid, 5u);
  EXPECT_EQ(hello.client_koid, 6u);
  EXPECT_TRUE(hello.socket.is_valid());
}

TEST(HelloTest, RefusesWhatAnHonestClientNeverSends) {
  Hello hello;
  EXPECT_EQ(Decode(EncodeHello(5, 6), One(SocketEnd(SOCK_STREAM)), &hello),
            HelloError::kNotChannel);
  EXPECT_EQ(Decode(EncodeHello(5, 6), {}, &hello), HelloError::kFdCount);
  std::vector<UniqueFd> two = One(SocketEnd(SOCK_SEQPACKET));
  two.push_back(SocketEnd(SOCK_SEQPACKET));
  EXPECT_EQ(Decode(EncodeHello(5, 6), std::move(two), &hello), HelloError::kFdCount);
  EXPECT_EQ(Decode(EncodeHello(5, 5), One(SocketEnd(SOCK_SEQPACKET)), &hello), HelloError::kKoids);
  EXPECT_EQ(Decode(EncodeHello(0, 6), One(SocketEnd(SOCK_SEQPACKET)), &hello), HelloError::kKoids);
  HelloWire bad = EncodeHello(5, 6);
  bad.version = 2;
  EXPECT_EQ(Decode(bad, One(SocketEnd(SOCK_SEQPACKET)), &hello), HelloError::kMagic);
  EXPECT_EQ(Decode(EncodeHello(5, 6), One(SocketEnd(SOCK_SEQPACKET)), &hello, 23),
            HelloError::kSize);
  EXPECT_EQ(DecodeHello(reinterpret_cast<const uint8_t*>(&bad), sizeof(bad), true, false,
                        One(SocketEnd(SOCK_SEQPACKET)), &hello),
            HelloError::kTruncated);
  EXPECT_FALSE(hello.socket.is_valid());
}

// Writes mx_hello_fuzzer's seeds.
// Input format: byte 0 = fd count (bits 0-2) | truncated (bit 3) | bad control (bit 4), then the
// fd kinds (see hello_fuzzer.cc), then the datagram.
// Not a test but a corpus writer: `cmake --build --preset debug --target mx_write_corpus`
// rewrites tests/fuzz/corpus/hello/ (tests/fuzz/README.md). args[0]: the directory.
MX_CHILD(write_hello_corpus) {
  CHILD_CHECK(args.size() == 1);
  const char* dir = args[0].c_str();
  auto write = [&](const std::string& name, uint8_t flags, const std::vector<uint8_t>& kinds,
                   const HelloWire& wire, size_t size = sizeof(HelloWire)) {
    std::vector<uint8_t> out = {static_cast<uint8_t>(flags | kinds.size())};
    out.insert(out.end(), kinds.begin(), kinds.end());
    const auto* p = reinterpret_cast<const uint8_t*>(&wire);
    out.insert(out.end(), p, p + std::min(size, sizeof(wire)));
    out.resize(out.size() + (size > sizeof(wire) ? size - sizeof(wire) : 0));
    std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    CHILD_CHECK(f.good());
  };
  const HelloWire ok = EncodeHello(0x1000, 0x1001);
  write("valid", 0, {0}, ok);
  write("valid_wide_koids", 0, {0}, EncodeHello(0x8000000000000001ull, ~0ull));
  write("stream_socket", 0, {1}, ok);
  write("pipe", 0, {2}, ok);
  write("listening_socket", 0, {4}, ok);
  write("unconnected_socket", 0, {5}, ok);
  write("no_fd", 0, {}, ok);
  write("two_fds", 0, {0, 0}, ok);
  HelloWire bad = ok;
  bad.magic = 0x12345678;
  write("bad_magic", 0, {0}, bad);
  bad = ok;
  bad.version = 2;
  write("bad_version", 0, {0}, bad);
  write("same_koids", 0, {0}, EncodeHello(7, 7));
  write("zero_koid", 0, {0}, EncodeHello(0, 0x1001));
  write("truncated_flag", 8, {0}, ok);
  write("bad_control_flag", 16, {0}, ok);
  write("short", 0, {0}, ok, sizeof(ok) - 1);
  write("long", 0, {0}, ok, sizeof(ok) + 1);
  // EXPECT_* in the helpers it shares with the tests report here, outside any test.
  return ::testing::UnitTest::GetInstance()->Failed() ? 1 : 0;
}

}  // namespace
}  // namespace mx::internal
