// SPDX-License-Identifier: BSD-3-Clause
// Behaviours that Magenta's own object tests check (docs/magenta-tests.md) and that no other suite
// here states: a port wait armed on a channel whose messages and peer-close are already there,
// port packets shared out among waiting threads, and which mapping permissions a VMO handle's
// rights allow. Our own code for the same behaviours; black-box, through the public headers.
#include <gtest/gtest.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>

#include <thread>
#include <vector>

namespace {

constexpr size_t kPage = 4096;

mx_handle_t NewPort() {
  mx_handle_t port = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_port_create(0, &port), MX_OK);
  return port;
}

// Five messages wait in a channel whose writer is gone; a wait armed only now reports both
// conditions in one packet, with the message count, in either mode.
void ExpectOnePacketForQueuedMessagesAndClose(uint32_t mode) {
  mx_handle_t ch[2];
  ASSERT_EQ(mx_channel_create(0, &ch[0], &ch[1]), MX_OK);
  for (int i = 0; i < 5; i++) ASSERT_EQ(mx_channel_write(ch[0], 0, "12345", 5, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_handle_close(ch[0]), MX_OK);
  mx_handle_t port = NewPort();
  const mx_signals_t watched = MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED;
  ASSERT_EQ(mx_object_wait_async(ch[1], port, 77u, watched, mode), MX_OK);

  std::vector<mx_port_packet_t> packets;
  mx_port_packet_t packet;
  while (mx_port_wait(port, 0, &packet, 0) == MX_OK) packets.push_back(packet);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].key, 77u);
  EXPECT_EQ(packets[0].signal.trigger, watched);
  EXPECT_EQ(packets[0].signal.observed & watched, watched);
  EXPECT_EQ(packets[0].signal.count, 5u);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
  EXPECT_EQ(mx_handle_close(ch[1]), MX_OK);
}

TEST(MagentaParityTest, OnceWaitOnClosedChannelWithQueuedMessagesGivesOnePacket) {
  ExpectOnePacketForQueuedMessagesAndClose(MX_WAIT_ASYNC_ONCE);
}

TEST(MagentaParityTest, RepeatingWaitOnClosedChannelWithQueuedMessagesGivesOnePacket) {
  ExpectOnePacketForQueuedMessagesAndClose(MX_WAIT_ASYNC_REPEATING);
}

// Three threads block in mx_port_wait; one event signal fires three waits; each thread takes one
// packet and none is lost or seen twice.
TEST(MagentaParityTest, ThreePortWaitersEachTakeOnePacket) {
  mx_handle_t port = NewPort();
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  for (uint64_t key = 500; key < 503; key++) {
    ASSERT_EQ(mx_object_wait_async(event, port, key, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE), MX_OK);
  }
  uint64_t keys[3] = {};
  mx_status_t results[3] = {MX_ERR_INTERNAL, MX_ERR_INTERNAL, MX_ERR_INTERNAL};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; i++) {
    waiters.emplace_back([&, i] {
      mx_port_packet_t packet;
      results[i] = mx_port_wait(port, mx_deadline_after(MX_SEC(10)), &packet, 0);
      keys[i] = packet.key;
    });
  }
  ASSERT_EQ(mx_object_signal(event, 0, MX_EVENT_SIGNALED), MX_OK);
  for (auto& waiter : waiters) waiter.join();
  for (mx_status_t result : results) EXPECT_EQ(result, MX_OK);
  EXPECT_EQ(keys[0] + keys[1] + keys[2], 500u + 501u + 502u);
  EXPECT_TRUE(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
  EXPECT_EQ(mx_handle_close(port), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
}

// What mx_vmar_map answers for a handle with |rights| and the permissions |flags|.
mx_status_t MapWith(mx_handle_t vmo, mx_rights_t rights, uint32_t flags) {
  mx_handle_t reduced;
  EXPECT_EQ(mx_handle_duplicate(vmo, rights, &reduced), MX_OK);
  uintptr_t addr = 0;
  mx_status_t status = mx_vmar_map(mx_vmar_root_self(), 0, reduced, 0, kPage, flags, &addr);
  if (status == MX_OK) {
    EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  }
  EXPECT_EQ(mx_handle_close(reduced), MX_OK);
  return status;
}

TEST(MagentaParityTest, MappingPermissionsFollowTheHandleRights) {
  constexpr uint32_t R = MX_VM_FLAG_PERM_READ;
  constexpr uint32_t W = MX_VM_FLAG_PERM_WRITE;
  constexpr uint32_t X = MX_VM_FLAG_PERM_EXECUTE;
  constexpr mx_rights_t kRead = MX_RIGHT_READ, kWrite = MX_RIGHT_WRITE, kExec = MX_RIGHT_EXECUTE;
  constexpr mx_rights_t kMap = MX_RIGHT_MAP;
  mx_handle_t vmo;
  ASSERT_EQ(mx_vmo_create(kPage, 0, &vmo), MX_OK);

  // Write without read is never a valid request, whatever the rights.
  EXPECT_EQ(MapWith(vmo, MX_RIGHT_SAME_RIGHTS, W), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(MapWith(vmo, kWrite | kMap, W), MX_ERR_INVALID_ARGS);
  // Without MAP nothing maps, not even with no permissions.
  for (uint32_t flags : {0u, R, R | W, R | W | X, R | X}) {
    EXPECT_EQ(MapWith(vmo, kRead | kWrite | kExec, flags), MX_ERR_ACCESS_DENIED) << flags;
  }
  // With MAP, each permission needs its right.
  struct Case {
    mx_rights_t rights;
    uint32_t flags;
    mx_status_t expected;
  };
  const Case cases[] = {
      {kRead | kMap, 0, MX_OK},
      {kRead | kMap, R, MX_OK},
      {kRead | kMap, R | W, MX_ERR_ACCESS_DENIED},
      {kRead | kMap, R | X, MX_ERR_ACCESS_DENIED},
      {kWrite | kMap, 0, MX_OK},
      {kWrite | kMap, R, MX_ERR_ACCESS_DENIED},
      {kRead | kWrite | kMap, R | W, MX_OK},
      {kRead | kWrite | kMap, R | W | X, MX_ERR_ACCESS_DENIED},
      {kRead | kExec | kMap, R | X, MX_OK},
      {kRead | kExec | kMap, R | W, MX_ERR_ACCESS_DENIED},
      {kRead | kWrite | kExec | kMap, R | W | X, MX_OK},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MapWith(vmo, c.rights, c.flags), c.expected) << c.rights << " " << c.flags;
  }
  EXPECT_EQ(mx_handle_close(vmo), MX_OK);
}

TEST(MagentaParityTest, MapAddressIsAnOutputUnlessSpecific) {
  mx_handle_t vmo;
  ASSERT_EQ(mx_vmo_create(kPage, 0, &vmo), MX_OK);
  // Not specific: whatever the out-parameter held is ignored.
  uintptr_t addr = UINTPTR_MAX;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kPage, MX_VM_FLAG_PERM_READ, &addr), MX_OK);
  EXPECT_NE(addr, UINTPTR_MAX);
  EXPECT_NE(addr, 0u);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  // Specific at an offset past the end of the address space.
  EXPECT_EQ(mx_vmar_map(mx_vmar_root_self(), UINTPTR_MAX, vmo, 0, kPage,
                        MX_VM_FLAG_PERM_READ | MX_VM_FLAG_SPECIFIC, &addr),
            MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_handle_close(vmo), MX_OK);
}

}  // namespace
