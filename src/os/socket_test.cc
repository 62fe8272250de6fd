// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/socket.h: the end of a stream against an empty datagram (which a hostile peer
// may send, libmx never does), and SocketType.
#include "os/socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mx::internal {
namespace {

TEST(SocketTest, EmptyDatagramFromALivePeerIsADatagramNotTheEndOfTheStream) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ASSERT_EQ(::send(a.get(), "", 0, MSG_DONTWAIT), 0);
  char buffer[16];
  ReceivedDatagram got;
  ASSERT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_OK);
  EXPECT_EQ(got.size, 0u);
  EXPECT_FALSE(got.truncated);
  EXPECT_FALSE(got.bad_control);
  EXPECT_TRUE(got.fds.empty());
  EXPECT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_ERR_SHOULD_WAIT);
}

TEST(SocketTest, DatagramsQueuedBeforeThePeerClosedComeFirstThenTheEnd) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ASSERT_EQ(::send(a.get(), "x", 1, MSG_DONTWAIT), 1);
  a.reset();
  char buffer[16];
  ReceivedDatagram got;
  ASSERT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_OK);
  EXPECT_EQ(got.size, 1u);
  EXPECT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_ERR_PEER_CLOSED);
}

TEST(SocketTest, EmptyDatagramFromAPeerThatIsGoneReadsAsTheEnd) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  ASSERT_EQ(::send(a.get(), "", 0, MSG_DONTWAIT), 0);
  a.reset();
  char buffer[16];
  ReceivedDatagram got;
  EXPECT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_ERR_PEER_CLOSED);
}

TEST(SocketTest, ShutdownEndsTheStreamForThePeerWhileADuplicateIsOpen) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  UniqueFd duplicate(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_TRUE(duplicate);
  EXPECT_FALSE(PeerHungUp(b.get()));
  ShutdownSocket(a.get());
  EXPECT_TRUE(PeerHungUp(b.get()));
  char buffer[16];
  ReceivedDatagram got;
  EXPECT_EQ(ReceiveDatagram(b.get(), buffer, sizeof(buffer), &got), MX_ERR_PEER_CLOSED);
}

TEST(SocketTest, SocketTypeNamesTheKindOfSocket) {
  UniqueFd a, b;
  ASSERT_EQ(CreateSeqpacketPair(&a, &b), MX_OK);
  EXPECT_EQ(SocketType(a.get()), SOCK_SEQPACKET);
  int stream[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream), 0);
  EXPECT_EQ(SocketType(stream[0]), SOCK_STREAM);
  ::close(stream[0]);
  ::close(stream[1]);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  EXPECT_EQ(SocketType(pipe_fds[0]), -1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(SocketType(-1), -1);
}

}  // namespace
}  // namespace mx::internal
