// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/doorbell.h: every ring wakes an edge-triggered waiter, nothing is ever
// queued, and no holder can make a ring block or take the filter away.
#include "os/doorbell.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>

#include "os/fd_check.h"

namespace mx::internal {
namespace {

// An epoll set watching |doorbell| as a waiter does; the registration's own report is consumed.
UniqueFd Watch(int doorbell) {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  struct epoll_event ev = {};
  ev.events = DoorbellWaitEvents() | EPOLLET;
  ev.data.fd = doorbell;
  EXPECT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, doorbell, &ev), 0);
  struct epoll_event out;
  ::epoll_wait(ep.get(), &out, 1, 0);
  return ep;
}

int Ready(int ep) {
  struct epoll_event out;
  return ::epoll_wait(ep, &out, 1, 0);
}

int Queued(int sock) {
  int bytes = -1;
  ::ioctl(sock, FIONREAD, &bytes);
  return bytes;
}

TEST(DoorbellTest, EveryRingWakesAnEdgeTriggeredWaiterAndNothingIsQueued) {
  UniqueFd bell;
  ASSERT_EQ(CreateDoorbell(&bell), MX_OK);
  EXPECT_TRUE(IsDoorbell(bell.get()));
  UniqueFd ep = Watch(bell.get());
  EXPECT_EQ(Ready(ep.get()), 0);
  for (int i = 0; i < 3; ++i) {
    RingDoorbell(bell.get());
    EXPECT_EQ(Ready(ep.get()), 1) << "ring " << i;
    EXPECT_EQ(Ready(ep.get()), 0) << "ring " << i;
  }
  for (int i = 0; i < 20000; ++i) RingDoorbell(bell.get());
  EXPECT_EQ(Queued(bell.get()), 0);
  RingDoorbell(bell.get());
  EXPECT_EQ(Ready(ep.get()), 1);
}

TEST(DoorbellTest, TheFilterCannotBeRemovedOrReplaced) {
  UniqueFd bell;
  ASSERT_EQ(CreateDoorbell(&bell), MX_OK);
  int one = 1;
  EXPECT_NE(::setsockopt(bell.get(), SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)), 0);
  struct sock_filter keep_all[] = {BPF_STMT(BPF_RET | BPF_K, 0xffff)};
  struct sock_fprog keep = {1, keep_all};
  EXPECT_NE(::setsockopt(bell.get(), SOL_SOCKET, SO_ATTACH_FILTER, &keep, sizeof(keep)), 0);
  ASSERT_EQ(::send(bell.get(), "x", 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(Queued(bell.get()), 0);
}

// A holder clears O_NONBLOCK, shrinks the send buffer and reconnects the socket to a sink whose
// queue it filled: a blocking send would now wait for the sink's reader. A ring returns.
TEST(DoorbellTest, RingsReturnAfterAHolderRewiredTheSocketToAFullSink) {
  UniqueFd bell;
  ASSERT_EQ(CreateDoorbell(&bell), MX_OK);
  ASSERT_EQ(::fcntl(bell.get(), F_SETFL, 0), 0);
  int tiny = 0;
  ASSERT_EQ(::setsockopt(bell.get(), SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny)), 0);
  UniqueFd sink(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_EQ(::bind(sink.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(sa_family_t)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(sink.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(::connect(bell.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  int accepted = 0;
  while (accepted < 100000 && ::send(bell.get(), "x", 1, MSG_DONTWAIT) == 1) ++accepted;
  ASSERT_LT(accepted, 100000) << "the sink never filled";
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) RingDoorbell(bell.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Still a doorbell by kind: the handle is not dropped, its wake-ups are silenced.
  EXPECT_TRUE(IsDoorbell(bell.get()));
}

// Shut down or disconnected, a doorbell's rings fail at once, without SIGPIPE.
TEST(DoorbellTest, RingsReturnQuietlyAfterAHolderShutItDownOrDisconnectedIt) {
  UniqueFd bell, other;
  ASSERT_EQ(CreateDoorbell(&bell), MX_OK);
  ASSERT_EQ(CreateDoorbell(&other), MX_OK);
  ASSERT_EQ(::shutdown(bell.get(), SHUT_RDWR), 0);
  RingDoorbell(bell.get());
  struct sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_EQ(::connect(other.get(), &unspec, sizeof(unspec)), 0);
  RingDoorbell(other.get());
  EXPECT_TRUE(IsDoorbell(bell.get()));
  EXPECT_TRUE(IsDoorbell(other.get()));
}

TEST(DoorbellTest, OtherSocketsAreNotDoorbells) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  EXPECT_FALSE(IsDoorbell(a.get()));  // no locked filter
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd c(sv[0]), d(sv[1]);
  EXPECT_FALSE(IsDoorbell(c.get()));
  UniqueFd file(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(IsDoorbell(file.get()));
}

}  // namespace
}  // namespace mx::internal
