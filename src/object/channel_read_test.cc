// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for ChannelEndpoint::ReadTransaction: a read looks at the front message and then
// takes it (Commit), drops it (Discard) or leaves it first (destroyed untouched).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "object/channel_endpoint.h"

namespace mx::internal {
namespace {

Message Text(const std::string& s) {
  Message m;
  m.bytes.assign(s.begin(), s.end());
  return m;
}

std::string TextOf(const Message& m) { return std::string(m.bytes.begin(), m.bytes.end()); }

class ReadTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(ChannelEndpoint::CreatePair(&a_, &b_), MX_OK); }

  std::shared_ptr<ChannelEndpoint> a_, b_;
};

TEST_F(ReadTransactionTest, EmptyChannelShouldWait) {
  ChannelEndpoint::ReadTransaction read = a_->BeginRead();
  EXPECT_EQ(read.status(), MX_ERR_SHOULD_WAIT);
}

TEST_F(ReadTransactionTest, CommitTakesTheFrontMessage) {
  ASSERT_EQ(b_->Write(Text("one")), MX_OK);
  ASSERT_EQ(b_->Write(Text("two")), MX_OK);
  {
    ChannelEndpoint::ReadTransaction read = a_->BeginRead();
    ASSERT_EQ(read.status(), MX_OK);
    EXPECT_EQ(TextOf(read.front()), "one");
    EXPECT_EQ(TextOf(read.Commit()), "one");
  }
  ChannelEndpoint::ReadTransaction read = a_->BeginRead();
  ASSERT_EQ(read.status(), MX_OK);
  EXPECT_EQ(TextOf(read.Commit()), "two");
}

TEST_F(ReadTransactionTest, EndedWithoutCommitLeavesTheMessageFirst) {
  ASSERT_EQ(b_->Write(Text("kept")), MX_OK);
  {
    ChannelEndpoint::ReadTransaction read = a_->BeginRead();
    ASSERT_EQ(read.status(), MX_OK);
    EXPECT_EQ(read.front().bytes.size(), 4u);
  }
  EXPECT_NE(a_->Signals() & MX_CHANNEL_READABLE, 0u);
  ChannelEndpoint::ReadTransaction read = a_->BeginRead();
  ASSERT_EQ(read.status(), MX_OK);
  EXPECT_EQ(TextOf(read.front()), "kept");
}

TEST_F(ReadTransactionTest, DiscardDropsTheFrontMessage) {
  ASSERT_EQ(b_->Write(Text("dropped")), MX_OK);
  ASSERT_EQ(b_->Write(Text("next")), MX_OK);
  a_->BeginRead().Discard();
  ChannelEndpoint::ReadTransaction read = a_->BeginRead();
  ASSERT_EQ(read.status(), MX_OK);
  EXPECT_EQ(TextOf(read.front()), "next");
}

TEST_F(ReadTransactionTest, LastMessageTakenClearsReadable) {
  ASSERT_EQ(b_->Write(Text("only")), MX_OK);
  a_->BeginRead().Commit();
  EXPECT_EQ(a_->Signals() & MX_CHANNEL_READABLE, 0u);
}

TEST_F(ReadTransactionTest, PeerClosedAfterEverythingWasRead) {
  ASSERT_EQ(b_->Write(Text("last words")), MX_OK);
  b_->OnLastHandleClosed();
  {
    ChannelEndpoint::ReadTransaction read = a_->BeginRead();
    ASSERT_EQ(read.status(), MX_OK);
    EXPECT_EQ(TextOf(read.Commit()), "last words");
  }
  EXPECT_EQ(a_->BeginRead().status(), MX_ERR_PEER_CLOSED);
}

TEST_F(ReadTransactionTest, ClosedEndpointIsABadHandle) {
  a_->OnLastHandleClosed();
  EXPECT_EQ(a_->BeginRead().status(), MX_ERR_BAD_HANDLE);
}

}  // namespace
}  // namespace mx::internal
