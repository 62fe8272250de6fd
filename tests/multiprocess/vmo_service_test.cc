// SPDX-License-Identifier: BSD-3-Clause
// VMOs and named rendezvous across real processes: a VMO mapped in two
// processes shares its pages both ways; a child finds its parent by name (path or abstract),
// writes before the accept, and the parent learns the child's pid/uid/gid from MX_INFO_PEER_CRED;
// file permissions on the path decide who may connect.
#include <grp.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr size_t kVmoBytes = 8u << 20;
constexpr uint32_t kRW = MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE;
constexpr uint32_t kNobody = 65534;

struct Ack {
  uint64_t value;
};

// Who the child is, as it reports itself.
struct Identity {
  int32_t pid;
  uint32_t uid;
  uint32_t gid;
};

uint8_t ChildByte(size_t i) { return static_cast<uint8_t>(i * 31u + 7u); }
uint8_t ParentByte(size_t i) { return static_cast<uint8_t>(i * 13u + 1u); }

// Child: maps the VMO it is sent, checks the parent's pattern is visible, writes its own pattern
// over it, says so; then waits for the parent's second pattern and checks it through the mapping.
MX_CHILD(vmo_share) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  Ack ack;
  std::vector<mx_handle_t> handles;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &ack, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  mx_handle_t vmo = handles[0];
  uint64_t size = 0;
  CHILD_CHECK_OK(mx_vmo_get_size(vmo, &size));
  CHILD_CHECK_EQ(size, kVmoBytes);
  uintptr_t addr = 0;
  CHILD_CHECK_OK(mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kVmoBytes, kRW, &addr));
  auto* p = reinterpret_cast<volatile uint8_t*>(addr);
  for (size_t i = 0; i < kVmoBytes; i += 4093) CHILD_CHECK_EQ(p[i], ParentByte(i));
  for (size_t i = 0; i < kVmoBytes; ++i) p[i] = ChildByte(i);
  CHILD_CHECK_OK(mx_test::WritePod(ch, Ack{1}));
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &ack));
  for (size_t i = 0; i < kVmoBytes; i += 4093) CHILD_CHECK_EQ(p[i], ParentByte(i + 1));
  CHILD_CHECK_OK(mx_vmar_unmap(mx_vmar_root_self(), addr, kVmoBytes));
  CHILD_CHECK_OK(mx_handle_close(vmo));
  CHILD_CHECK_OK(mx_test::WritePod(ch, Ack{2}));
  CHILD_CHECK_OK(mx_handle_close(ch));
  return 0;
}

class VmoServiceTest : public mx_test::MultiprocessTest {};

TEST_F(VmoServiceTest, VmoMappedInTwoProcessesSeesEachOthersWrites) {
  mx_handle_t vmo, dup, a, b, process;
  ASSERT_EQ(mx_vmo_create(kVmoBytes, 0, &vmo), MX_OK);
  uintptr_t addr = 0;
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kVmoBytes, kRW, &addr), MX_OK);
  auto* p = reinterpret_cast<volatile uint8_t*>(addr);
  for (size_t i = 0; i < kVmoBytes; ++i) p[i] = ParentByte(i);
  ASSERT_EQ(mx_handle_duplicate(vmo, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("vmo_share", {{PA_HND(PA_USER0, 0), b}}, {}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::WritePod(a, Ack{0}, {dup}), MX_OK);
  Ack ack;
  ASSERT_EQ(mx_test::ReadPod(a, &ack), MX_OK);
  ASSERT_EQ(ack.value, 1u);
  // The child's stores are visible through our own mapping and through vmo_read.
  for (size_t i = 0; i < kVmoBytes; ++i) {
    if (p[i] != ChildByte(i)) {
      ADD_FAILURE() << "byte " << i;
      break;
    }
  }
  uint8_t byte = 0;
  size_t actual = 0;
  ASSERT_EQ(mx_vmo_read(vmo, &byte, 12345, 1, &actual), MX_OK);
  EXPECT_EQ(byte, ChildByte(12345));
  for (size_t i = 0; i < kVmoBytes; ++i) p[i] = ParentByte(i + 1);
  ASSERT_EQ(mx_test::WritePod(a, Ack{3}), MX_OK);
  ASSERT_EQ(mx_test::ReadPod(a, &ack), MX_OK);
  EXPECT_EQ(ack.value, 2u);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kVmoBytes), MX_OK);
  EXPECT_EQ(mx_handle_close(vmo), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// Child: connects to args[0], writes its identity at once (before any accept), then waits for
// one reply and echoes it back.
MX_CHILD(service_client) {
  CHILD_CHECK_EQ(args.size(), 1u);
  mx_handle_t ch = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_service_connect(args[0].c_str(), 0, &ch));
  Identity me{static_cast<int32_t>(getpid()), static_cast<uint32_t>(geteuid()),
              static_cast<uint32_t>(getegid())};
  CHILD_CHECK_OK(mx_test::WritePod(ch, me));
  Ack ack;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &ack));
  CHILD_CHECK_OK(mx_test::WritePod(ch, Ack{ack.value + 1}));
  // The server's credentials are on our end too.
  mx_info_peer_cred_t cred;
  CHILD_CHECK_OK(mx_object_get_info(ch, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr));
  CHILD_CHECK_EQ(cred.pid, getppid());
  CHILD_CHECK_OK(mx_handle_close(ch));
  return 0;
}

class ServiceMultiprocessTest : public mx_test::MultiprocessTest {
 protected:
  void SetUp() override {
    mx_test::MultiprocessTest::SetUp();
    char tmpl[] = "/tmp/libmx-mp-service-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/svc";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
    mx_test::MultiprocessTest::TearDown();
  }

  void ServeOneClient(const std::string& name) {
    mx_handle_t listener, process, server;
    ASSERT_EQ(mx_service_listen(name.c_str(), 0, &listener), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("service_client", {}, {name}, &process), MX_OK);
    mx_test::ScopedProcess child(process);
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
        MX_OK);
    ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
    Identity id;
    ASSERT_EQ(mx_test::ReadPod(server, &id), MX_OK);
    mx_info_peer_cred_t cred;
    ASSERT_EQ(mx_object_get_info(server, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr),
              MX_OK);
    EXPECT_EQ(cred.pid, id.pid);
    EXPECT_NE(cred.pid, getpid());
    EXPECT_EQ(cred.uid, id.uid);
    EXPECT_EQ(cred.gid, id.gid);
    ASSERT_EQ(mx_test::WritePod(server, Ack{41}), MX_OK);
    Ack ack;
    ASSERT_EQ(mx_test::ReadPod(server, &ack), MX_OK);
    EXPECT_EQ(ack.value, 42u);
    EXPECT_EQ(child.Join(), 0);
    EXPECT_EQ(mx_handle_close(server), MX_OK);
    EXPECT_EQ(mx_handle_close(listener), MX_OK);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(ServiceMultiprocessTest, ChildConnectsByPathAndPeerCredNamesIt) { ServeOneClient(path_); }

TEST_F(ServiceMultiprocessTest, ChildConnectsByAbstractName) {
  ServeOneClient("@libmx-mp-service-" + std::to_string(getpid()));
}

// Child: optionally becomes nobody, connects to args[0] and exits with the status it got,
// mapped to a small code (0 OK, 1 ACCESS_DENIED, 2 anything else); 3 if it could not drop.
MX_CHILD(connect_as) {
  CHILD_CHECK_EQ(args.size(), 2u);
  if (args[1] == "nobody") {
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) return 3;
  }
  mx_handle_t ch = MX_HANDLE_INVALID;
  mx_status_t st = mx_service_connect(args[0].c_str(), 0, &ch);
  if (st == MX_OK) {
    mx_handle_close(ch);
    return 0;
  }
  return st == MX_ERR_ACCESS_DENIED ? 1 : 2;
}

TEST_F(ServiceMultiprocessTest, FilePermissionsDecideWhoMayConnect) {
  // Root bypasses file permissions: as root the child drops to nobody first.
  const std::string who = geteuid() == 0 ? "nobody" : "self";
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);  // nobody must be able to reach the socket file
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  auto run = [&](int* code) {
    mx_handle_t process;
    ASSERT_EQ(mx_test::SpawnChild("connect_as", {}, {path_, who}, &process), MX_OK);
    mx_test::ScopedProcess child(process);
    *code = child.Join();
  };
  int code = -1;
  ASSERT_EQ(chmod(path_.c_str(), 0000), 0);
  run(&code);
  if (code == 3) {
    EXPECT_EQ(mx_handle_close(listener), MX_OK);
    GTEST_SKIP() << "cannot drop privileges to uid/gid 65534 in a child";
  }
  EXPECT_EQ(code, 1) << "mode 0000: expected MX_ERR_ACCESS_DENIED";
  ASSERT_EQ(chmod(path_.c_str(), 0777), 0);
  run(&code);
  EXPECT_EQ(code, 0) << "mode 0777: expected MX_OK";
  // Drain what the allowed child left in the backlog.
  ASSERT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  mx_handle_t server;
  ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
  mx_info_peer_cred_t cred;
  ASSERT_EQ(mx_object_get_info(server, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr),
            MX_OK);
  if (who == "nobody") {
    EXPECT_EQ(cred.uid, kNobody);
    EXPECT_EQ(cred.gid, kNobody);
  }
  EXPECT_EQ(mx_handle_close(server), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

}  // namespace
