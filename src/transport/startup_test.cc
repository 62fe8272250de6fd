// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the startup frame checks, and the generator of mx_startup_fuzzer's seeds.
#include "transport/startup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/processargs.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "transport/wire.h"

namespace mx::internal {
namespace {

std::vector<uint8_t> Frame(FrameHeader h, const std::vector<uint8_t>& rest) {
  // One allocation and two copies: GCC 12 at -O3 warns (-Warray-bounds) on growing a 32-byte
  // vector with insert().
  std::vector<uint8_t> out(sizeof(h) + rest.size());
  std::memcpy(out.data(), &h, sizeof(h));
  if (!rest.empty()) std::memcpy(out.data() + sizeof(h), rest.data(), rest.size());
  return out;
}

FrameHeader Header(uint32_t num_handles, uint32_t desc_bytes, uint32_t num_fds) {
  FrameHeader h = {};
  h.magic = kFrameMagic;
  h.kind = kFrameStartup;
  h.num_handles = num_handles;
  h.desc_bytes = desc_bytes;
  h.num_fds = num_fds;
  return h;
}

// |count| fd handles, the i-th tagged PA_HND(PA_USER0, i), each with |fds_each| fds.
std::vector<uint8_t> FdHandles(uint32_t count, uint32_t fds_each) {
  std::vector<uint8_t> out;
  for (uint32_t i = 0; i < count; ++i) {
    WireHandle w = {};
    w.type = MX_OBJ_TYPE_FD;
    w.rights = MX_RIGHT_SAME_RIGHTS;
    w.koid = 0x1000 + i;
    w.num_fds = fds_each;
    w.info = PA_HND(PA_USER0, i);
    const auto* p = reinterpret_cast<const uint8_t*>(&w);
    out.insert(out.end(), p, p + sizeof(w));
  }
  return out;
}

std::vector<UniqueFd> PipeEnds(size_t n) {
  std::vector<UniqueFd> out;
  for (size_t i = 0; i < n; ++i) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ::close(p[1]);
    out.emplace_back(p[0]);
  }
  return out;
}

TEST(StartupTest, DecodesWhatMxSpawnSends) {
  std::vector<uint8_t> desc = FdHandles(2, 1);
  std::vector<uint8_t> frame = Frame(Header(2, static_cast<uint32_t>(desc.size()), 2), desc);
  EXPECT_TRUE(StartupHeaderAcceptable(frame.data(), sizeof(FrameHeader), frame.size()));
  std::vector<RawHandle> handles;
  ASSERT_EQ(DecodeStartupFrame(frame.data(), frame.size(), PipeEnds(2), &handles), MX_OK);
  ASSERT_EQ(handles.size(), 2u);
  EXPECT_EQ(handles[1].info, PA_HND(PA_USER0, 1));
}

TEST(StartupTest, RefusesMoreThan64Handles) {
  std::vector<uint8_t> desc = FdHandles(65, 0);
  std::vector<uint8_t> frame = Frame(Header(65, static_cast<uint32_t>(desc.size()), 0), desc);
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), sizeof(FrameHeader), frame.size()));
  std::vector<RawHandle> handles;
  EXPECT_EQ(DecodeStartupFrame(frame.data(), frame.size(), {}, &handles), MX_ERR_IO);
  desc = FdHandles(64, 0);
  frame = Frame(Header(64, static_cast<uint32_t>(desc.size()), 0), desc);
  EXPECT_TRUE(StartupHeaderAcceptable(frame.data(), sizeof(FrameHeader), frame.size()));
}

TEST(StartupTest, RefusesOtherFramesAndSizesThatDisagree) {
  FrameHeader h = Header(0, 0, 0);
  std::vector<uint8_t> frame = Frame(h, {});
  EXPECT_TRUE(StartupHeaderAcceptable(frame.data(), frame.size(), frame.size()));
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), frame.size(), frame.size() + 1));
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), frame.size() - 1, frame.size()));
  h.kind = kFrameData;
  frame = Frame(h, {});
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), frame.size(), frame.size()));
  h = Header(0, 0, 0);
  h.num_bytes = 4;
  frame = Frame(h, {'a', 'b', 'c', 'd'});
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), frame.size(), frame.size()));
  h = Header(0, 0, 0);
  h.magic = 0xdeadbeef;
  frame = Frame(h, {});
  EXPECT_FALSE(StartupHeaderAcceptable(frame.data(), frame.size(), frame.size()));
}

// Writes mx_startup_fuzzer's seeds.
// Input format: byte 0 = fd count (bits 0-2), then the fd kinds (see startup_fuzzer.cc), then the
// datagram.
// Not a test but a corpus writer: `cmake --build --preset debug --target mx_write_corpus`
// rewrites tests/fuzz/corpus/startup/ (tests/fuzz/README.md). args[0]: the directory.
MX_CHILD(write_startup_corpus) {
  CHILD_CHECK(args.size() == 1);
  const char* dir = args[0].c_str();
  auto write = [&](const std::string& name, const std::vector<uint8_t>& kinds,
                   const std::vector<uint8_t>& datagram) {
    std::vector<uint8_t> out = {static_cast<uint8_t>(kinds.size())};
    out.insert(out.end(), kinds.begin(), kinds.end());
    out.insert(out.end(), datagram.begin(), datagram.end());
    std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    CHILD_CHECK(f.good());
  };
  const std::vector<uint8_t> one = FdHandles(1, 1), two = FdHandles(2, 1), many = FdHandles(65, 0);
  write("empty", {}, Frame(Header(0, 0, 0), {}));
  write("one_fd_handle", {0}, Frame(Header(1, static_cast<uint32_t>(one.size()), 1), one));
  write("two_fd_handles", {0, 4}, Frame(Header(2, static_cast<uint32_t>(two.size()), 2), two));
  write("handle_fd_count_lies", {0, 4},
        Frame(Header(1, static_cast<uint32_t>(one.size()), 2), one));
  write("sixty_five_handles", {}, Frame(Header(65, static_cast<uint32_t>(many.size()), 0), many));
  FrameHeader h = Header(0, 0, 0);
  h.num_bytes = 4;
  write("payload", {}, Frame(h, {'a', 'b', 'c', 'd'}));
  h = Header(1, static_cast<uint32_t>(one.size()), 1);
  h.kind = kFrameData;
  write("data_kind", {0}, Frame(h, one));
  h = Header(0, 0, 0);
  h.magic = 0xdeadbeef;
  write("bad_magic", {}, Frame(h, {}));
  h = Header(1, static_cast<uint32_t>(one.size()), 1);
  h.flags = kFlagFdOverflow;
  write("overflow_flag", {0}, Frame(h, one));
  write("size_mismatch", {0}, Frame(Header(1, static_cast<uint32_t>(one.size()) + 8, 1), one));
  std::vector<uint8_t> short_header = Frame(Header(0, 0, 0), {});
  short_header.pop_back();
  write("short_header", {}, short_header);
  // EXPECT_* in the helpers it shares with the tests report here, outside any test.
  return ::testing::UnitTest::GetInstance()->Failed() ? 1 : 0;
}

}  // namespace
}  // namespace mx::internal
