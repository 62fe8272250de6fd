// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the event's wire shape: which descriptions a handle travels with, and the
// receiver's refusal of descriptions that disagree with the rights they come with.
#include "object/event.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "object/eventpair.h"

namespace mx::internal {
namespace {

int AccessOf(const UniqueFd& fd) { return ::fcntl(fd.get(), F_GETFL) & O_ACCMODE; }

RawHandle Transfer(const Handle& handle) {
  RawHandle raw;
  EXPECT_EQ(handle.object()->PrepareTransfer(handle, &raw), MX_OK);
  return raw;
}

TEST(EventWireTest, AHandleWithoutSignalTravelsWithReadOnlyDescriptionsOnly) {
  std::shared_ptr<Event> event;
  std::unique_ptr<Handle> handle;
  ASSERT_EQ(Event::Create(&event, &handle, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_SIGNAL), MX_OK);
  RawHandle raw = Transfer(*handle);
  ASSERT_EQ(raw.fds.size(), Event::kWireFds);
  EXPECT_EQ(raw.extra.size(), Event::kWireExtraBytes);
  EXPECT_EQ(AccessOf(raw.fds[0]), O_RDONLY);
  EXPECT_EQ(AccessOf(raw.fds[1]), O_RDONLY);
  std::unique_ptr<Handle> received;
  ASSERT_EQ(Event::FromRaw(std::move(raw), &received), MX_OK);
  EXPECT_EQ(received->object()->UserSignal(0, MX_EVENT_SIGNALED), MX_ERR_ACCESS_DENIED);
  // A handle of this object can still be sent on (read-only again) and received.
  RawHandle again = Transfer(*received);
  EXPECT_EQ(AccessOf(again.fds[1]), O_RDONLY);
  std::unique_ptr<Handle> third;
  EXPECT_EQ(Event::FromRaw(std::move(again), &third), MX_OK);
}

TEST(EventWireTest, AHandleWithSignalTravelsWithAWritableWord) {
  std::shared_ptr<Event> event;
  std::unique_ptr<Handle> handle;
  ASSERT_EQ(Event::Create(&event, &handle, MX_DEFAULT_EVENT_RIGHTS), MX_OK);
  RawHandle raw = Transfer(*handle);
  EXPECT_EQ(AccessOf(raw.fds[0]), O_RDONLY);
  EXPECT_EQ(AccessOf(raw.fds[1]), O_RDWR);
  std::unique_ptr<Handle> received;
  ASSERT_EQ(Event::FromRaw(std::move(raw), &received), MX_OK);
  ASSERT_EQ(received->object()->UserSignal(0, MX_USER_SIGNAL_3), MX_OK);
  EXPECT_TRUE(event->Signals() & MX_USER_SIGNAL_3);
}

TEST(EventWireTest, RightsThatDisagreeWithTheDescriptionsAreMalformed) {
  std::shared_ptr<Event> event;
  std::unique_ptr<Handle> reader, writer;
  ASSERT_EQ(Event::Create(&event, &reader, MX_DEFAULT_EVENT_RIGHTS & ~MX_RIGHT_SIGNAL), MX_OK);
  ASSERT_EQ(Event::Create(&event, &writer, MX_DEFAULT_EVENT_RIGHTS), MX_OK);
  // Claims SIGNAL with a read-only word.
  RawHandle forged = Transfer(*reader);
  forged.rights |= MX_RIGHT_SIGNAL;
  std::unique_ptr<Handle> out;
  EXPECT_EQ(Event::FromRaw(std::move(forged), &out), MX_ERR_IO);
  // A writable word without SIGNAL.
  forged = Transfer(*writer);
  forged.rights &= ~MX_RIGHT_SIGNAL;
  EXPECT_EQ(Event::FromRaw(std::move(forged), &out), MX_ERR_IO);
  // One fd short, and a token that is not the word's file.
  forged = Transfer(*writer);
  forged.fds.pop_back();
  EXPECT_EQ(Event::FromRaw(std::move(forged), &out), MX_ERR_IO);
  RawHandle a = Transfer(*reader);
  RawHandle b = Transfer(*writer);
  std::swap(a.fds[0], b.fds[0]);
  EXPECT_EQ(Event::FromRaw(std::move(a), &out), MX_ERR_IO);
}

TEST(EventPairWireTest, EachWordIsWritableOnlyWithItsRight) {
  std::unique_ptr<Handle> h0, h1;
  ASSERT_EQ(EventPairSide::Create(MX_DEFAULT_EVENTPAIR_RIGHTS & ~MX_RIGHT_SIGNAL_PEER, &h0, &h1),
            MX_OK);
  RawHandle raw = Transfer(*h0);
  ASSERT_EQ(raw.fds.size(), EventPairSide::kWireFds);
  EXPECT_EQ(AccessOf(raw.fds[0]), O_RDONLY);
  EXPECT_EQ(AccessOf(raw.fds[1]), O_RDWR);
  EXPECT_EQ(AccessOf(raw.fds[2]), O_RDONLY);
  std::unique_ptr<Handle> received;
  ASSERT_EQ(EventPairSide::FromRaw(std::move(raw), &received), MX_OK);
  EXPECT_EQ(received->object()->UserSignal(0, MX_USER_SIGNAL_1), MX_OK);
  EXPECT_EQ(received->object()->UserSignalPeer(0, MX_USER_SIGNAL_1), MX_ERR_ACCESS_DENIED);
  RawHandle forged = Transfer(*h1);
  forged.rights |= MX_RIGHT_SIGNAL_PEER;
  std::unique_ptr<Handle> out;
  EXPECT_EQ(EventPairSide::FromRaw(std::move(forged), &out), MX_ERR_IO);
}

}  // namespace
}  // namespace mx::internal
