// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/memfd.h: the memfds it makes pass the checks a receiver makes of them
// (os/fd_check.h), and a Mapping owns exactly one mapping.
#include "os/memfd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "os/fd_check.h"

namespace mx::internal {
namespace {

// True if [addr, addr + 1) is mapped in this process.
bool IsMapped(void* addr) {
  unsigned char vec = 0;
  const uintptr_t page = reinterpret_cast<uintptr_t>(addr) & ~uintptr_t{4095};
  return ::mincore(reinterpret_cast<void*>(page), 1, &vec) == 0;
}

TEST(MemfdTest, SealedMemfdHasTheSizeSealsAndPassesTheRingAndSignalWordChecks) {
  UniqueFd fd;
  ASSERT_EQ(CreateSealedMemfd("mx-test", 8192, &fd), MX_OK);
  EXPECT_EQ(static_cast<unsigned>(::fcntl(fd.get(), F_GET_SEALS)), kSizeSeals);
  EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  uint64_t size = 0;
  EXPECT_EQ(CheckRingMemfd(fd.get(), 8192, 8192, &size), MX_OK);
  EXPECT_EQ(size, 8192u);
  EXPECT_EQ(CheckMemfd(fd.get(), SignalWordMemfdRule(8192), nullptr), MX_OK);
  EXPECT_NE(::ftruncate(fd.get(), 4096), 0);             // sealed against shrinking
  EXPECT_EQ(CheckQueueBlob(fd.get(), 8192), MX_ERR_IO);  // not frozen
}

TEST(MemfdTest, FrozenMemfdHoldsTheBytesAndPassesTheQueueBlobCheck) {
  std::vector<uint8_t> bytes(10000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  UniqueFd fd;
  ASSERT_EQ(CreateFrozenMemfd("mx-test", bytes.data(), bytes.size(), &fd), MX_OK);
  EXPECT_EQ(static_cast<unsigned>(::fcntl(fd.get(), F_GET_SEALS)), kFrozenSeals);
  EXPECT_EQ(CheckQueueBlob(fd.get(), bytes.size()), MX_OK);
  std::vector<uint8_t> back(bytes.size());
  ASSERT_EQ(::pread(fd.get(), back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
  EXPECT_EQ(back, bytes);
  EXPECT_LT(::pwrite(fd.get(), "x", 1, 0), 0);  // sealed against writes
  EXPECT_EQ(CheckRingMemfd(fd.get(), 0, UINT64_MAX, nullptr), MX_ERR_IO);

  UniqueFd empty;
  ASSERT_EQ(CreateFrozenMemfd("mx-test", nullptr, 0, &empty), MX_OK);
  EXPECT_EQ(CheckQueueBlob(empty.get(), 0), MX_OK);
}

TEST(MemfdTest, SealedMappingIsSharedWritableAndUnmappedWithTheMapping) {
  UniqueFd fd;
  void* addr = nullptr;
  {
    Mapping map;
    ASSERT_EQ(CreateSealedMapping("mx-test", 4096, &fd, &map), MX_OK);
    ASSERT_TRUE(map.is_valid());
    EXPECT_EQ(map.size(), 4096u);
    addr = map.get();
    std::memcpy(addr, "ring", 4);
    char back[4] = {};
    ASSERT_EQ(::pread(fd.get(), back, 4, 0), 4);
    EXPECT_EQ(std::memcmp(back, "ring", 4), 0);
    EXPECT_TRUE(IsMapped(addr));

    Mapping moved = std::move(map);
    EXPECT_FALSE(map.is_valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(moved.get(), addr);
    EXPECT_TRUE(IsMapped(addr));
  }
  EXPECT_FALSE(IsMapped(addr));
}

TEST(MemfdTest, MapReceivedReportsADescriptorThatIsNoMemoryAsIo) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  Mapping map;
  EXPECT_EQ(map.MapReceived(r.get(), 4096, /*writable=*/false), MX_ERR_IO);
  EXPECT_FALSE(map.is_valid());

  UniqueFd fd;
  ASSERT_EQ(CreateSealedMemfd("mx-test", 4096, &fd), MX_OK);
  UniqueFd read_only(
      ::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(read_only);
  EXPECT_EQ(map.MapReceived(read_only.get(), 4096, /*writable=*/true), MX_ERR_IO);
  EXPECT_EQ(map.MapReceived(read_only.get(), 4096, /*writable=*/false), MX_OK);
  EXPECT_TRUE(map.is_valid());
}

TEST(MemfdTest, PunchHoleGivesPagesBackAndKeepsTheSize) {
  UniqueFd fd;
  Mapping map;
  ASSERT_EQ(CreateSealedMapping("mx-test", 4 * 4096, &fd, &map), MX_OK);
  std::memset(map.get(), 0xab, 4 * 4096);
  PunchHole(fd.get(), 4096, 2 * 4096);
  const auto* p = static_cast<const uint8_t*>(map.get());
  EXPECT_EQ(p[0], 0xab);
  EXPECT_EQ(p[4096], 0);
  EXPECT_EQ(p[3 * 4096 - 1], 0);
  EXPECT_EQ(p[3 * 4096], 0xab);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_END), 4 * 4096);
}

}  // namespace
}  // namespace mx::internal
