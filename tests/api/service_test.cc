// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of <magenta/service.h>: named rendezvous in one process. The
// cross-process cases (credentials of another process, permissions as another user) are in
// tests/multiprocess/vmo_service_test.cc.
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;

constexpr mx_duration_t kTimeout = MX_SEC(30);

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

std::string UniqueAbstractName() {
  static std::atomic<int> counter{0};
  return "@libmx-service-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/libmx-service-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/svc";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
  std::string path_;
};

// Connect, write before the accept, accept, read: the message is there and the ends are peers.
void ExpectRendezvous(const char* name) {
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(name, 0, &listener), MX_OK);
  mx_signals_t observed = 0;
  EXPECT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, 0, &observed), MX_ERR_TIMED_OUT);
  EXPECT_EQ(observed & MX_SERVICE_READABLE, 0u);

  mx_handle_t client;
  ASSERT_EQ(mx_service_connect(name, 0, &client), MX_OK);
  ASSERT_EQ(mx_channel_write(client, 0, "hi", 2, nullptr, 0), MX_OK);
  ASSERT_EQ(
      mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), &observed),
      MX_OK);
  mx_handle_t server;
  ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
  EXPECT_EQ(mx_service_accept(listener, &server), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, 0, &observed), MX_ERR_TIMED_OUT);

  char buf[8];
  uint32_t nb = 0, nh = 0;
  ASSERT_EQ(mx_object_wait_one(server, MX_CHANNEL_READABLE, mx_deadline_after(kTimeout), nullptr),
            MX_OK);
  ASSERT_EQ(mx_channel_read(server, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, nb), "hi");
  ASSERT_EQ(mx_channel_write(server, 0, "yo", 2, nullptr, 0), MX_OK);
  ASSERT_EQ(mx_object_wait_one(client, MX_CHANNEL_READABLE, mx_deadline_after(kTimeout), nullptr),
            MX_OK);
  ASSERT_EQ(mx_channel_read(client, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh), MX_OK);
  EXPECT_EQ(std::string(buf, nb), "yo");

  mx_info_handle_basic_t s = BasicInfo(server), c = BasicInfo(client);
  EXPECT_EQ(s.type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(s.rights, static_cast<mx_rights_t>(MX_DEFAULT_CHANNEL_RIGHTS));
  EXPECT_EQ(c.rights, static_cast<mx_rights_t>(MX_DEFAULT_CHANNEL_RIGHTS));
  EXPECT_EQ(s.related_koid, c.koid);
  EXPECT_EQ(c.related_koid, s.koid);

  EXPECT_EQ(mx_handle_close(client), MX_OK);
  EXPECT_EQ(
      mx_object_wait_one(server, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(kTimeout), nullptr),
      MX_OK);
  EXPECT_EQ(mx_handle_close(server), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

TEST_F(ServiceTest, RendezvousOnAPathDeliversMessagesWrittenBeforeTheAccept) {
  ExpectRendezvous(path_.c_str());
}

TEST_F(ServiceTest, RendezvousOnAnAbstractName) { ExpectRendezvous(UniqueAbstractName().c_str()); }

TEST_F(ServiceTest, ListenerIsReadableWhileAClientWaitsAndAcceptsInOrder) {
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  mx_info_handle_basic_t info = BasicInfo(listener);
  EXPECT_EQ(info.type, MX_OBJ_TYPE_SERVICE_LISTENER);
  EXPECT_EQ(info.rights, static_cast<mx_rights_t>(MX_DEFAULT_SERVICE_LISTENER_RIGHTS));
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  mx_handle_t clients[3];
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &clients[i]), MX_OK);
    char b = static_cast<char>('a' + i);
    ASSERT_EQ(mx_channel_write(clients[i], 0, &b, 1, nullptr, 0), MX_OK);
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), nullptr),
        MX_OK);
    mx_handle_t server;
    ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
    char b = 0;
    ASSERT_EQ(mx_channel_read(server, 0, &b, nullptr, 1, 0, nullptr, nullptr), MX_OK);
    EXPECT_EQ(b, 'a' + i);
    EXPECT_EQ(mx_handle_close(server), MX_OK);
  }
  mx_signals_t observed = 0xffffffff;
  EXPECT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, 0, &observed), MX_ERR_TIMED_OUT);
  EXPECT_EQ(observed & MX_SERVICE_READABLE, 0u);
  for (mx_handle_t c : clients) EXPECT_EQ(mx_handle_close(c), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

TEST_F(ServiceTest, AcceptWithNobodyWaitingShouldWait) {
  mx_handle_t listener, server = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  EXPECT_EQ(mx_service_accept(listener, &server), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(server, MX_HANDLE_INVALID);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

TEST_F(ServiceTest, ConnectWithNothingListeningIsNotFound) {
  mx_handle_t ch = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_service_connect(path_.c_str(), 0, &ch), MX_ERR_NOT_FOUND);
  EXPECT_EQ(mx_service_connect(UniqueAbstractName().c_str(), 0, &ch), MX_ERR_NOT_FOUND);
  EXPECT_EQ(mx_service_connect("/nonexistent-dir-libmx/x", 0, &ch), MX_ERR_NOT_FOUND);
  // A socket file nobody listens on (a dead server), and a plain file.
  int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
  close(s);
  EXPECT_EQ(mx_service_connect(path_.c_str(), 0, &ch), MX_ERR_NOT_FOUND);
  std::string file = dir_ + "/plain";
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  EXPECT_EQ(mx_service_connect(file.c_str(), 0, &ch), MX_ERR_NOT_FOUND);
  unlink(file.c_str());
  EXPECT_EQ(ch, MX_HANDLE_INVALID);
}

TEST_F(ServiceTest, ListenReplacesAStaleSocketFileButNotALiveOne) {
  int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
  close(s);  // stale: the file stays, nobody listens
  mx_handle_t listener, second;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  EXPECT_EQ(mx_service_listen(path_.c_str(), 0, &second), MX_ERR_ALREADY_EXISTS);
  std::string abstract = UniqueAbstractName();
  mx_handle_t a1, a2;
  ASSERT_EQ(mx_service_listen(abstract.c_str(), 0, &a1), MX_OK);
  EXPECT_EQ(mx_service_listen(abstract.c_str(), 0, &a2), MX_ERR_ALREADY_EXISTS);
  EXPECT_EQ(mx_handle_close(a1), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

TEST_F(ServiceTest, ClosingTheListenerRemovesItsFileAndClosesWaitingClients) {
  mx_handle_t listener, client;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &client), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
  EXPECT_NE(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(
      mx_object_wait_one(client, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(kTimeout), nullptr),
      MX_OK);
  EXPECT_EQ(mx_channel_write(client, 0, "x", 1, nullptr, 0), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(mx_handle_close(client), MX_OK);
  // The name is free again.
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

TEST_F(ServiceTest, ArgumentErrors) {
  mx_handle_t h;
  std::string too_long(sizeof(sockaddr_un::sun_path), 'x');
  EXPECT_EQ(mx_service_listen(path_.c_str(), 1, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen(nullptr, 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen("", 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen("@", 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen(too_long.c_str(), 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen(path_.c_str(), 0, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_listen("/nonexistent-dir-libmx/x", 0, &h), MX_ERR_NOT_FOUND);
  EXPECT_EQ(mx_service_connect(path_.c_str(), 1, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_connect(nullptr, 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_connect("", 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_connect(too_long.c_str(), 0, &h), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(mx_service_connect(path_.c_str(), 0, nullptr), MX_ERR_INVALID_ARGS);
}

TEST_F(ServiceTest, AcceptErrorsFollowMagentaOrder) {
  mx_handle_t listener, noread, ev, out;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  ASSERT_EQ(mx_handle_duplicate(listener, MX_RIGHT_DUPLICATE, &noread), MX_OK);
  ASSERT_EQ(mx_event_create(0, &ev), MX_OK);
  EXPECT_EQ(mx_service_accept(MX_HANDLE_INVALID, &out), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_service_accept(noread, &out), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(mx_service_accept(ev, &out), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_service_accept(listener, nullptr), MX_ERR_INVALID_ARGS);
  // Not transferable.
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, &listener, 1), MX_ERR_ACCESS_DENIED);
  // A duplicate shares the listener: the file stays until the last handle goes.
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
  struct stat st;
  EXPECT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(mx_handle_close(noread), MX_OK);
  EXPECT_NE(lstat(path_.c_str(), &st), 0);
  for (mx_handle_t h : {ev, a, b}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(ServiceTest, PeerCredNamesThisProcessOnBothEnds) {
  mx_handle_t listener, client, server;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &client), MX_OK);
  ASSERT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), nullptr),
            MX_OK);
  ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
  for (mx_handle_t h : {server, client}) {
    mx_info_peer_cred_t cred;
    memset(&cred, 0xA5, sizeof(cred));
    size_t actual = 0, avail = 0;
    ASSERT_EQ(mx_object_get_info(h, MX_INFO_PEER_CRED, &cred, sizeof(cred), &actual, &avail),
              MX_OK);
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    EXPECT_EQ(cred.pid, getpid());
    EXPECT_EQ(cred.uid, geteuid());
    EXPECT_EQ(cred.gid, getegid());
    EXPECT_EQ(mx_object_get_info(h, MX_INFO_PEER_CRED, &cred, sizeof(cred) - 1, &actual, &avail),
              MX_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(actual, 0u);
    EXPECT_EQ(avail, 1u);
    EXPECT_EQ(mx_object_get_info(h, MX_INFO_PEER_CRED, nullptr, sizeof(cred), nullptr, nullptr),
              MX_ERR_INVALID_ARGS);
  }
  // Errors: bad handle, not a channel, a channel that did not come from a rendezvous.
  mx_info_peer_cred_t cred;
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_object_get_info(MX_HANDLE_INVALID, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr,
                               nullptr),
            MX_ERR_BAD_HANDLE);
  EXPECT_EQ(mx_object_get_info(listener, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr),
            MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_object_get_info(a, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr),
            MX_ERR_NOT_FOUND);
  // Credentials stay in the process that accepted: an endpoint moved through a channel loses them.
  ASSERT_EQ(mx_channel_write(a, 0, nullptr, 0, &server, 1), MX_OK);
  mx_handle_t moved;
  ASSERT_EQ(mx_channel_read(b, 0, nullptr, &moved, 0, 1, nullptr, nullptr), MX_OK);
  EXPECT_EQ(mx_object_get_info(moved, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr),
            MX_ERR_NOT_FOUND);
  for (mx_handle_t h : {a, b, moved, client, listener}) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST_F(ServiceTest, FdCountIsStableAcrossManyRendezvous) {
  // Warm up lazily created per-thread state.
  {
    mx_handle_t l, c, s;
    ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &l), MX_OK);
    ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &c), MX_OK);
    ASSERT_EQ(mx_object_wait_one(l, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), nullptr),
              MX_OK);
    ASSERT_EQ(mx_service_accept(l, &s), MX_OK);
    for (mx_handle_t h : {l, c, s}) EXPECT_EQ(mx_handle_close(h), MX_OK);
  }
  int before = CountOpenFds();
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  for (int i = 0; i < 20; ++i) {
    mx_handle_t c, s;
    ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &c), MX_OK);
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), nullptr),
        MX_OK);
    ASSERT_EQ(mx_service_accept(listener, &s), MX_OK);
    EXPECT_EQ(mx_handle_close(c), MX_OK);
    EXPECT_EQ(mx_handle_close(s), MX_OK);
  }
  // Clients that connect and give up before the accept.
  for (int i = 0; i < 5; ++i) {
    mx_handle_t c;
    ASSERT_EQ(mx_service_connect(path_.c_str(), 0, &c), MX_OK);
    EXPECT_EQ(mx_handle_close(c), MX_OK);
  }
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
  EXPECT_EQ(CountOpenFds(), before);
}

TEST_F(ServiceTest, ClientsOnManyThreadsAreEachAcceptedExactlyOnce) {
  constexpr int kThreads = 4, kPerThread = 10;
  mx_handle_t listener;
  ASSERT_EQ(mx_service_listen(path_.c_str(), 0, &listener), MX_OK);
  std::vector<std::thread> threads;
  std::vector<mx_handle_t> clients(kThreads * kPerThread, MX_HANDLE_INVALID);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int id = t * kPerThread + i;
        mx_handle_t c;
        mx_status_t st;
        while ((st = mx_service_connect(path_.c_str(), 0, &c)) == MX_ERR_SHOULD_WAIT) {
          std::this_thread::yield();  // backlog full: the acceptor is behind
        }
        ASSERT_EQ(st, MX_OK);
        ASSERT_EQ(mx_channel_write(c, 0, &id, sizeof(id), nullptr, 0), MX_OK);
        clients[static_cast<size_t>(id)] = c;
      }
    });
  }
  std::set<int> seen;
  while (seen.size() < static_cast<size_t>(kThreads * kPerThread)) {
    ASSERT_EQ(
        mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_deadline_after(kTimeout), nullptr),
        MX_OK);
    mx_handle_t s;
    mx_status_t st = mx_service_accept(listener, &s);
    if (st == MX_ERR_SHOULD_WAIT) continue;
    ASSERT_EQ(st, MX_OK);
    int id = -1;
    ASSERT_EQ(mx_object_wait_one(s, MX_CHANNEL_READABLE, mx_deadline_after(kTimeout), nullptr),
              MX_OK);
    ASSERT_EQ(mx_channel_read(s, 0, &id, nullptr, sizeof(id), 0, nullptr, nullptr), MX_OK);
    EXPECT_TRUE(seen.insert(id).second) << "accepted twice: " << id;
    EXPECT_EQ(mx_handle_close(s), MX_OK);
  }
  for (auto& t : threads) t.join();
  for (mx_handle_t c : clients) EXPECT_EQ(mx_handle_close(c), MX_OK);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

}  // namespace
