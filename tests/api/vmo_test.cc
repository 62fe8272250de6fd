// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of VMOs and the root VMAR, in one process: create / read / write /
// size round trips, every error path in Magenta's order, mappings, transfer through a channel,
// and the C++ wrappers.
#include <errno.h>
#include <gtest/gtest.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <mx/channel.h>
#include <mx/vmo.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
constexpr uint32_t kRW = MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE;

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info;
  memset(&info, 0xA5, sizeof(info));
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

class VmoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(mx_vmar_root_self(), MX_HANDLE_INVALID);
    ASSERT_EQ(mx_vmo_create(4 * kPage, 0, &vmo_), MX_OK);
  }
  void TearDown() override { EXPECT_EQ(mx_handle_close(vmo_), MX_OK); }
  mx_handle_t vmo_ = MX_HANDLE_INVALID;
};

TEST_F(VmoTest, NewVmoHasDefaultRightsTypeAndIsNotWaitable) {
  mx_info_handle_basic_t info = BasicInfo(vmo_);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_VMO));
  EXPECT_EQ(info.rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS));
  EXPECT_EQ(info.rights, 0x10FFu);
  EXPECT_NE(info.koid, MX_KOID_INVALID);
  EXPECT_EQ(info.related_koid, MX_KOID_INVALID);
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_NONE));
  EXPECT_EQ(mx_object_wait_one(vmo_, MX_USER_SIGNAL_0, 0, nullptr), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(mx_object_signal(vmo_, 0, MX_USER_SIGNAL_0), MX_ERR_NOT_SUPPORTED);
}

TEST_F(VmoTest, CreateChecksOptionsAndOut) {
  mx_handle_t h;
  EXPECT_EQ(MX_VMO_NON_RESIZABLE, 1u);
  EXPECT_EQ(mx_vmo_create(kPage, 2, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_create(kPage, MX_VMO_NON_RESIZABLE | (1u << 31), &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_create(kPage, 0, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_create(kPage, MX_VMO_NON_RESIZABLE, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_create(UINT64_MAX, 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_create(UINT64_MAX, MX_VMO_NON_RESIZABLE, &h), MX_ERR_INVALID_ARGS);
}

TEST_F(VmoTest, NonResizableVmoRefusesEverySizeChange) {
  mx_handle_t h;
  ASSERT_EQ(mx_vmo_create(1000, MX_VMO_NON_RESIZABLE, &h), MX_OK);
  EXPECT_EQ(BasicInfo(h).rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS));
  // Shrinking, growing, and even setting the same size (as in Zircon): UNAVAILABLE.
  EXPECT_EQ(mx_vmo_set_size(h, 0), MX_ERR_UNAVAILABLE);
  EXPECT_EQ(mx_vmo_set_size(h, 2 * kPage), MX_ERR_UNAVAILABLE);
  EXPECT_EQ(mx_vmo_set_size(h, 1000), MX_ERR_UNAVAILABLE);
  // Rights come first, and an impossible size is still OUT_OF_RANGE.
  mx_handle_t ro;
  ASSERT_EQ(mx_handle_duplicate(h, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE, &ro), MX_OK);
  EXPECT_EQ(mx_vmo_set_size(ro, 0), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmo_set_size(h, UINT64_MAX), MX_ERR_OUT_OF_RANGE);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(h, &size), MX_OK);
  EXPECT_EQ(size, 1000u);
  // Reads, writes and mappings work as for any VMO.
  const char kMsg[] = "fixed";
  size_t actual = 0;
  ASSERT_EQ(mx_vmo_write(h, kMsg, 990, sizeof(kMsg), &actual), MX_OK);
  EXPECT_EQ(actual, sizeof(kMsg));
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, h, 0, kPage, kRW, &addr), MX_OK);
  EXPECT_STREQ(reinterpret_cast<const char*>(addr) + 990, kMsg);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  EXPECT_EQ(mx_handle_close(ro), MX_OK);
  EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(VmoTest, RequireNonResizableMapsOnlyASealedVmoWithinItsSize) {
  mx_handle_t root = mx_vmar_root_self();
  constexpr uint32_t kFlags = kRW | MX_VM_FLAG_REQUIRE_NON_RESIZABLE;
  uintptr_t addr = 0;
  // A resizable VMO (the default): refused as Zircon refused it.
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kFlags, &addr), MX_ERR_NOT_SUPPORTED);
  mx_handle_t fixed;
  ASSERT_EQ(mx_vmo_create(2 * kPage + 1, MX_VMO_NON_RESIZABLE, &fixed), MX_OK);
  // Checks before it, in order: MAP right, protection, rights, flags, geometry.
  mx_handle_t nomap;
  ASSERT_EQ(mx_handle_duplicate(fixed, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_MAP, &nomap), MX_OK);
  EXPECT_EQ(mx_vmar_map(root, 0, nomap, 0, kPage, kFlags, &addr), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage,
                        MX_VM_FLAG_PERM_WRITE | MX_VM_FLAG_REQUIRE_NON_RESIZABLE, &addr),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 0, kPage, kFlags | MX_VM_FLAG_COMPACT, &addr),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 0, kPage, kFlags | (1u << 13), &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 1, kPage, kFlags, &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 0, kPage, kFlags, nullptr), MX_ERR_INVALID_ARGS);
  // Past the last (partial) page of the VMO the mapping could fault: OUT_OF_RANGE.
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 0, 4 * kPage, kFlags, &addr), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_vmar_map(root, 0, fixed, 3 * kPage, kPage, kFlags, &addr), MX_ERR_OUT_OF_RANGE);
  // Within it, including the partial last page: mapped.
  ASSERT_EQ(mx_vmar_map(root, 0, fixed, 0, 3 * kPage, kFlags, &addr), MX_OK);
  auto* p = reinterpret_cast<volatile uint8_t*>(addr);
  p[3 * kPage - 1] = 7;
  EXPECT_EQ(p[3 * kPage - 1], 7);
  EXPECT_EQ(mx_vmar_unmap(root, addr, 3 * kPage), MX_OK);
  ASSERT_EQ(mx_vmar_map(root, 0, fixed, 2 * kPage, kPage,
                        MX_VM_FLAG_PERM_READ | MX_VM_FLAG_REQUIRE_NON_RESIZABLE, &addr),
            MX_OK);
  EXPECT_EQ(mx_vmar_unmap(root, addr, kPage), MX_OK);
  // Without the flag the old rules hold: a mapping may reach past the end.
  ASSERT_EQ(mx_vmar_map(root, 0, fixed, 0, 4 * kPage, kRW, &addr), MX_OK);
  EXPECT_EQ(mx_vmar_unmap(root, addr, 4 * kPage), MX_OK);
  EXPECT_EQ(mx_handle_close(nomap), MX_OK);
  EXPECT_EQ(mx_handle_close(fixed), MX_OK);
}

TEST_F(VmoTest, NonResizableStaysSoThroughAChannel) {
  mx_handle_t fixed, a, b;
  ASSERT_EQ(mx_vmo_create(kPage, MX_VMO_NON_RESIZABLE, &fixed), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "f", 1, &fixed, 1), MX_OK);
  char byte;
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t nb, nh;
  ASSERT_EQ(mx_channel_read(b, 0, &byte, &got, 1, 1, &nb, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  EXPECT_EQ(BasicInfo(got).rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS));
  EXPECT_EQ(mx_vmo_set_size(got, 0), MX_ERR_UNAVAILABLE);
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, got, 0, kPage,
                        kRW | MX_VM_FLAG_REQUIRE_NON_RESIZABLE, &addr),
            MX_OK);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  for (mx_handle_t h : {a, b, got}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(VmoTest, NewVmoIsZeroFilledAndReportsItsByteSize) {
  mx_handle_t h;
  ASSERT_EQ(mx_vmo_create(1000, 0, &h), MX_OK);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(h, &size), MX_OK);
  EXPECT_EQ(size, 1000u);
  std::vector<uint8_t> buf(1000, 0xff);
  size_t actual = 0;
  EXPECT_EQ(mx_vmo_read(h, buf.data(), 0, buf.size(), &actual), MX_OK);
  EXPECT_EQ(actual, 1000u);
  EXPECT_EQ(buf, std::vector<uint8_t>(1000, 0));
  EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(VmoTest, WriteThenReadRoundTrips) {
  std::vector<uint8_t> out(3 * kPage + 17);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7 + 3);
  size_t actual = 0;
  ASSERT_EQ(mx_vmo_write(vmo_, out.data(), 5, out.size(), &actual), MX_OK);
  EXPECT_EQ(actual, out.size());
  std::vector<uint8_t> in(out.size());
  ASSERT_EQ(mx_vmo_read(vmo_, in.data(), 5, in.size(), &actual), MX_OK);
  EXPECT_EQ(actual, in.size());
  EXPECT_EQ(in, out);
}

TEST_F(VmoTest, ReadAndWriteAreTrimmedAtTheEndAsInMagenta) {
  std::vector<uint8_t> buf(100, 0x5a);
  size_t actual = 0;
  EXPECT_EQ(mx_vmo_write(vmo_, buf.data(), 4 * kPage - 10, buf.size(), &actual), MX_OK);
  EXPECT_EQ(actual, 10u);
  EXPECT_EQ(mx_vmo_read(vmo_, buf.data(), 4 * kPage - 10, buf.size(), &actual), MX_OK);
  EXPECT_EQ(actual, 10u);
  // Exactly at the end: in range, nothing copied.
  EXPECT_EQ(mx_vmo_read(vmo_, buf.data(), 4 * kPage, buf.size(), &actual), MX_OK);
  EXPECT_EQ(actual, 0u);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(vmo_, &size), MX_OK);
  EXPECT_EQ(size, 4 * kPage);  // a write never grows the VMO
}

TEST_F(VmoTest, OffsetPastTheEndOrWrappingIsOutOfRange) {
  uint8_t b[8] = {};
  size_t actual = 1234;
  EXPECT_EQ(mx_vmo_read(vmo_, b, 4 * kPage + 1, sizeof(b), &actual), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_vmo_write(vmo_, b, 4 * kPage + 1, sizeof(b), &actual), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(mx_vmo_read(vmo_, b, UINT64_MAX - 2, sizeof(b), &actual), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(actual, 1234u);
}

TEST_F(VmoTest, ErrorsFollowMagentaOrder) {
  uint8_t b[8] = {};
  size_t actual;
  uint64_t size;
  // BAD_HANDLE first.
  EXPECT_EQ(mx_vmo_read(MX_HANDLE_INVALID, b, 0, 8, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmo_write(vmo_ ^ 0x100, b, 0, 8, &actual), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmo_get_size(MX_HANDLE_INVALID, &size), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmo_set_size(MX_HANDLE_INVALID, 0), MX_ERR_BAD_HANDLE);
  // Rights before type: an event without READ is ACCESS_DENIED for read, not WRONG_TYPE.
  mx_handle_t ev, ev_ro;
  ASSERT_EQ(mx_event_create(0, &ev), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(ev, MX_RIGHT_DUPLICATE, &ev_ro), MX_OK);
  EXPECT_EQ(mx_vmo_read(ev_ro, b, 0, 8, &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmo_read(ev, b, 0, 8, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_vmo_write(ev, b, 0, 8, &actual), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_vmo_get_size(ev_ro, &size), MX_ERR_WRONG_TYPE);  // no right needed
  EXPECT_EQ(mx_vmo_set_size(ev, 0), MX_ERR_WRONG_TYPE);
  // A VMO handle without READ / WRITE.
  mx_handle_t ro, wo;
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_RIGHT_READ, &ro), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_RIGHT_WRITE, &wo), MX_OK);
  EXPECT_EQ(mx_vmo_write(ro, b, 0, 8, &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmo_set_size(ro, kPage), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmo_read(wo, b, 0, 8, &actual), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmo_get_size(wo, &size), MX_OK);
  // Then pointers.
  EXPECT_EQ(mx_vmo_read(vmo_, nullptr, 0, 8, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_read(vmo_, b, 0, 8, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_write(vmo_, nullptr, 0, 8, &actual), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmo_get_size(vmo_, nullptr), MX_ERR_INVALID_ARGS);
  for (mx_handle_t h : {ev, ev_ro, ro, wo}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(VmoTest, SetSizeGrowsWithZerosAndShrinks) {
  uint8_t pattern[16];
  memset(pattern, 0x77, sizeof(pattern));
  size_t actual;
  ASSERT_EQ(mx_vmo_write(vmo_, pattern, 0, sizeof(pattern), &actual), MX_OK);
  ASSERT_EQ(mx_vmo_set_size(vmo_, 8), MX_OK);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(vmo_, &size), MX_OK);
  EXPECT_EQ(size, 8u);
  ASSERT_EQ(mx_vmo_set_size(vmo_, 10 * kPage), MX_OK);
  EXPECT_EQ(mx_vmo_get_size(vmo_, &size), MX_OK);
  EXPECT_EQ(size, 10 * kPage);
  uint8_t in[16];
  ASSERT_EQ(mx_vmo_read(vmo_, in, 0, sizeof(in), &actual), MX_OK);
  EXPECT_EQ(memcmp(in, pattern, 8), 0);
  for (int i = 8; i < 16; ++i) EXPECT_EQ(in[i], 0) << i;  // cut off, then regrown as zeros
  EXPECT_EQ(mx_vmo_set_size(vmo_, UINT64_MAX), MX_ERR_OUT_OF_RANGE);
}

TEST_F(VmoTest, MappingSeesWritesAndReadsSeeMappingStores) {
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo_, 0, 4 * kPage, kRW, &addr), MX_OK);
  ASSERT_NE(addr, 0u);
  EXPECT_EQ(addr % kPage, 0u);
  auto* p = reinterpret_cast<uint8_t*>(addr);
  const char kMsg[] = "hello, vmo";
  size_t actual;
  ASSERT_EQ(mx_vmo_write(vmo_, kMsg, kPage + 3, sizeof(kMsg), &actual), MX_OK);
  EXPECT_EQ(memcmp(p + kPage + 3, kMsg, sizeof(kMsg)), 0);
  p[3 * kPage] = 0xab;
  uint8_t b = 0;
  ASSERT_EQ(mx_vmo_read(vmo_, &b, 3 * kPage, 1, &actual), MX_OK);
  EXPECT_EQ(b, 0xab);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, 4 * kPage), MX_OK);
}

TEST_F(VmoTest, TwoMappingsOfOneVmoShareTheirPages) {
  uintptr_t a = 0, b = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo_, 0, 4 * kPage, kRW, &a), MX_OK);
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo_, kPage, kPage, MX_VM_FLAG_PERM_READ, &b),
            MX_OK);
  EXPECT_NE(a, b);
  reinterpret_cast<volatile uint8_t*>(a)[kPage + 9] = 42;
  EXPECT_EQ(reinterpret_cast<volatile uint8_t*>(b)[9], 42);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), a, 4 * kPage), MX_OK);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), b, kPage), MX_OK);
}

TEST_F(VmoTest, MappingOutlivesTheVmoHandle) {
  mx_handle_t h;
  ASSERT_EQ(mx_vmo_create(kPage, 0, &h), MX_OK);
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, h, 0, kPage, kRW, &addr), MX_OK);
  EXPECT_EQ(mx_handle_close(h), MX_OK);
  reinterpret_cast<volatile uint8_t*>(addr)[0] = 1;
  EXPECT_EQ(reinterpret_cast<volatile uint8_t*>(addr)[0], 1);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
}

TEST_F(VmoTest, MapErrorsFollowMagentaOrder) {
  mx_handle_t root = mx_vmar_root_self();
  uintptr_t addr = 0;
  // Handles: VMAR valid and of its type, then the VMO.
  EXPECT_EQ(mx_vmar_map(MX_HANDLE_INVALID, 0, vmo_, 0, kPage, kRW, &addr), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmar_map(vmo_, 0, vmo_, 0, kPage, kRW, &addr), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_vmar_map(root, 0, MX_HANDLE_INVALID, 0, kPage, kRW, &addr), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmar_map(root, 0, root, 0, kPage, kRW, &addr), MX_ERR_WRONG_TYPE);
  // No MAP right.
  mx_handle_t nomap;
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_MAP, &nomap), MX_OK);
  EXPECT_EQ(mx_vmar_map(root, 0, nomap, 0, kPage, kRW, &addr), MX_ERR_ACCESS_DENIED);
  // Write without read can't be expressed; CAN_MAP_* are not mapping flags.
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, MX_VM_FLAG_PERM_WRITE, &addr),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kRW | MX_VM_FLAG_CAN_MAP_READ, &addr),
            MX_ERR_INVALID_ARGS);
  // A permission the VMO handle lacks.
  mx_handle_t ro;
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_RIGHT_MAP | MX_RIGHT_READ, &ro), MX_OK);
  EXPECT_EQ(mx_vmar_map(root, 0, ro, 0, kPage, kRW, &addr), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(
      mx_vmar_map(root, 0, ro, 0, kPage, MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_EXECUTE, &addr),
      MX_ERR_ACCESS_DENIED);
  // Placement flags.
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kRW | MX_VM_FLAG_SPECIFIC_OVERWRITE, &addr),
            MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kRW | MX_VM_FLAG_COMPACT, &addr),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kRW | (1u << 20), &addr), MX_ERR_INVALID_ARGS);
  // Geometry.
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, 0, kRW, &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 1, kPage, kRW, &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, kPage, vmo_, 0, kPage, kRW, &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, SIZE_MAX, kRW, &addr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_map(root, 0, vmo_, 0, kPage, kRW, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_handle_close(nomap), MX_OK);
  EXPECT_EQ(mx_handle_close(ro), MX_OK);
}

TEST_F(VmoTest, ReadOnlyHandleMapsReadOnly) {
  mx_handle_t ro;
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_RIGHT_MAP | MX_RIGHT_READ, &ro), MX_OK);
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, ro, 0, kPage, MX_VM_FLAG_PERM_READ, &addr), MX_OK);
  EXPECT_EQ(reinterpret_cast<volatile uint8_t*>(addr)[0], 0);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  EXPECT_EQ(mx_handle_close(ro), MX_OK);
}

TEST_F(VmoTest, SpecificMappingLandsAtTheAddressAndRefusesToOverlap) {
  // Find a free, page-aligned spot by reserving and releasing it.
  void* spot = mmap(nullptr, 2 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(spot, MAP_FAILED);
  ASSERT_EQ(munmap(spot, 2 * kPage), 0);
  auto want = reinterpret_cast<uintptr_t>(spot);
  uintptr_t addr = 0;
  ASSERT_EQ(
      mx_vmar_map(mx_vmar_root_self(), want, vmo_, 0, kPage, kRW | MX_VM_FLAG_SPECIFIC, &addr),
      MX_OK);
  EXPECT_EQ(addr, want);
  uintptr_t again = 0;
  EXPECT_EQ(
      mx_vmar_map(mx_vmar_root_self(), want, vmo_, 0, kPage, kRW | MX_VM_FLAG_SPECIFIC, &again),
      MX_ERR_NO_MEMORY);
  EXPECT_EQ(
      mx_vmar_map(mx_vmar_root_self(), want + 1, vmo_, 0, kPage, kRW | MX_VM_FLAG_SPECIFIC, &again),
      MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
}

TEST_F(VmoTest, UnmapChecksArgumentsAndSplitsMappings) {
  mx_handle_t root = mx_vmar_root_self();
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(root, 0, vmo_, 0, 4 * kPage, kRW, &addr), MX_OK);
  EXPECT_EQ(mx_vmar_unmap(MX_HANDLE_INVALID, addr, kPage), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_vmar_unmap(vmo_, addr, kPage), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_vmar_unmap(root, addr + 1, kPage), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_vmar_unmap(root, addr, 0), MX_ERR_INVALID_ARGS);
  // Punch out the second page; the others stay usable and unmap later.
  ASSERT_EQ(mx_vmar_unmap(root, addr + kPage, 1), MX_OK);  // length rounds up to a page
  reinterpret_cast<volatile uint8_t*>(addr)[0] = 1;
  reinterpret_cast<volatile uint8_t*>(addr)[2 * kPage] = 2;
  EXPECT_EQ(mx_vmar_unmap(root, addr, 4 * kPage), MX_OK);
}

TEST_F(VmoTest, UnmapNeverTouchesMemoryLibmxDidNotMap) {
  // A private mapping next to nothing libmx knows: unmapping it through the VMAR is a no-op.
  void* own = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(own, MAP_FAILED);
  static_cast<volatile uint8_t*>(own)[0] = 7;
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), reinterpret_cast<uintptr_t>(own), kPage), MX_OK);
  EXPECT_EQ(static_cast<volatile uint8_t*>(own)[0], 7);  // still mapped
  ASSERT_EQ(munmap(own, kPage), 0);
}

TEST_F(VmoTest, RootVmarIsOwnedByLibmxAndNotTransferable) {
  mx_handle_t root = mx_vmar_root_self();
  EXPECT_EQ(mx_vmar_root_self(), root);
  mx_info_handle_basic_t info = BasicInfo(root);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_VMAR));
  EXPECT_EQ(info.rights & MX_RIGHT_TRANSFER, 0u);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, &root, 1), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_vmar_root_self(), root);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST_F(VmoTest, VmoTravelsThroughAChannelWithItsKoidAndRights) {
  mx_handle_t a, b, ro;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE, &ro), MX_OK);
  mx_koid_t koid = BasicInfo(vmo_).koid;
  ASSERT_EQ(mx_channel_write(a, 0, "v", 1, &ro, 1), MX_OK);
  char byte;
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t nb, nh;
  ASSERT_EQ(mx_channel_read(b, 0, &byte, &got, 1, 1, &nb, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  mx_info_handle_basic_t info = BasicInfo(got);
  EXPECT_EQ(info.koid, koid);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_VMO));
  EXPECT_EQ(info.rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE));
  const char kMsg[] = "shared";
  size_t actual;
  ASSERT_EQ(mx_vmo_write(vmo_, kMsg, 0, sizeof(kMsg), &actual), MX_OK);
  char in[sizeof(kMsg)] = {};
  ASSERT_EQ(mx_vmo_read(got, in, 0, sizeof(in), &actual), MX_OK);
  EXPECT_STREQ(in, kMsg);
  EXPECT_EQ(mx_vmo_write(got, kMsg, 0, sizeof(kMsg), &actual), MX_ERR_ACCESS_DENIED);
  for (mx_handle_t h : {a, b, got}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

// A VMO sent without WRITE arrives as a read-only description: the kernel refuses writes through
// a read-only mapping of it even after mprotect, which a shared writable description would allow.
TEST_F(VmoTest, VmoSentWithoutWriteCannotBeMadeWritableByMprotect) {
  mx_handle_t a, b, ro;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(vmo_, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE, &ro), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "v", 1, &ro, 1), MX_OK);
  char byte;
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t nb, nh;
  ASSERT_EQ(mx_channel_read(b, 0, &byte, &got, 1, 1, &nb, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  uintptr_t addr = 0;
  EXPECT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, got, 0, kPage, kRW, &addr), MX_ERR_ACCESS_DENIED);
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, got, 0, kPage, MX_VM_FLAG_PERM_READ, &addr), MX_OK);
  errno = 0;
  EXPECT_NE(mprotect(reinterpret_cast<void*>(addr), kPage, PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  // Sent on again, with every right it has, it still carries no WRITE.
  ASSERT_EQ(mx_channel_write(b, 0, "w", 1, &got, 1), MX_OK);
  ASSERT_EQ(mx_channel_read(a, 0, &byte, &got, 1, 1, &nb, &nh), MX_OK);
  ASSERT_EQ(nh, 1u);
  EXPECT_EQ(BasicInfo(got).rights,
            static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE));
  for (mx_handle_t h : {a, b, got}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(VmoTest, ClosingEverythingReleasesEveryFd) {
  mx_vmar_root_self();
  int before = CountOpenFds();
  for (int i = 0; i < 8; ++i) {
    mx_handle_t h, dup;
    ASSERT_EQ(mx_vmo_create(8 << 20, 0, &h), MX_OK);
    ASSERT_EQ(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
    uintptr_t addr;
    ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, h, 0, 8 << 20, kRW, &addr), MX_OK);
    memset(reinterpret_cast<void*>(addr), i, 8 << 20);
    ASSERT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, 8 << 20), MX_OK);
    EXPECT_EQ(mx_handle_close(h), MX_OK);
    EXPECT_EQ(mx_handle_close(dup), MX_OK);
  }
  EXPECT_EQ(CountOpenFds(), before);
}

TEST_F(VmoTest, ThreadsMapWriteAndUnmapConcurrently) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        uintptr_t addr = 0;
        ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo_, 0, 4 * kPage, kRW, &addr), MX_OK);
        reinterpret_cast<volatile uint8_t*>(addr)[static_cast<size_t>(t) * kPage] =
            static_cast<uint8_t>(i);
        ASSERT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, 4 * kPage), MX_OK);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < 4; ++t) {
    uint8_t b = 0;
    size_t actual = 0;
    ASSERT_EQ(mx_vmo_read(vmo_, &b, t * kPage, 1, &actual), MX_OK);
    EXPECT_EQ(b, 49);
  }
}

TEST(VmoCppTest, WrappersCreateReadWriteMapAndClose) {
  mx::vmo vmo;
  ASSERT_EQ(mx::vmo::create(kPage, 0, &vmo), MX_OK);
  size_t actual = 0;
  ASSERT_EQ(vmo.write("abc", 0, 3, &actual), MX_OK);
  char in[3];
  ASSERT_EQ(vmo.read(in, 0, 3, &actual), MX_OK);
  EXPECT_EQ(memcmp(in, "abc", 3), 0);
  uint64_t size;
  ASSERT_EQ(vmo.set_size(2 * kPage), MX_OK);
  ASSERT_EQ(vmo.get_size(&size), MX_OK);
  EXPECT_EQ(size, 2 * kPage);
  uintptr_t addr = 0;
  ASSERT_EQ(mx::vmar::root_self()->map(0, vmo, 0, kPage, kRW, &addr), MX_OK);
  EXPECT_EQ(reinterpret_cast<const char*>(addr)[1], 'b');
  EXPECT_EQ(mx::vmar::root_self()->unmap(addr, kPage), MX_OK);
  mx::vmo dup;
  ASSERT_EQ(vmo.duplicate(MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  mx_handle_t raw = vmo.get();
  vmo.reset();
  EXPECT_EQ(mx_handle_close(raw), MX_ERR_BAD_HANDLE);
  EXPECT_TRUE(dup.is_valid());
  // The root VMAR view never closes the root handle.
  { auto root = mx::vmar::root_self(); }
  EXPECT_EQ(
      mx_object_get_info(mx_vmar_root_self(), MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr),
      MX_OK);
}

}  // namespace
