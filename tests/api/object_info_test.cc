// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of mx_object_get_info and the runtime side of the A.2 constants
// (default rights, object types, properties).
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <string.h>

#include <set>
#include <vector>

namespace {

mx_handle_t MakeEvent() {
  mx_handle_t h = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_event_create(0, &h), MX_OK);
  return h;
}

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info;
  memset(&info, 0xA5, sizeof(info));
  size_t actual = 99, avail = 99;
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail),
            MX_OK);
  EXPECT_EQ(actual, 1u);
  EXPECT_EQ(avail, 1u);
  return info;
}

TEST(ObjectInfoTest, BasicRecordIs32Bytes) { EXPECT_EQ(sizeof(mx_info_handle_basic_t), 32u); }

TEST(ObjectInfoTest, HandleValidReturnsOkForLiveHandle) {
  mx_handle_t e = MakeEvent();
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, HandleValidReturnsBadHandleForClosedOrInvalidHandle) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr),
            MX_ERR_BAD_HANDLE);
  EXPECT_EQ(
      mx_object_get_info(MX_HANDLE_INVALID, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr),
      MX_ERR_BAD_HANDLE);
}

TEST(ObjectInfoTest, HandleValidNeedsNoRights) {
  mx_handle_t e = MakeEvent(), r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_replace(e, 0, &r), MX_OK);
  EXPECT_EQ(mx_object_get_info(r, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
}

TEST(ObjectInfoTest, BasicForChannelReportsKoidRightsTypeRelatedKoidAndProps) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_info_handle_basic_t ia = BasicInfo(a), ib = BasicInfo(b);
  EXPECT_NE(ia.koid, MX_KOID_INVALID);
  EXPECT_NE(ib.koid, MX_KOID_INVALID);
  EXPECT_NE(ia.koid, ib.koid);
  EXPECT_EQ(ia.rights, MX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(ia.type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(ia.type, 4u);
  EXPECT_EQ(ia.related_koid, ib.koid);
  EXPECT_EQ(ib.related_koid, ia.koid);
  EXPECT_EQ(ia.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_EQ(ib.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ObjectInfoTest, BasicKeepsRelatedKoidAfterPeerCloses) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  const mx_koid_t peer = BasicInfo(b).koid;
  const mx_koid_t self = BasicInfo(a).koid;
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  ASSERT_EQ(mx_object_wait_one(a, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(MX_SEC(10)), nullptr),
            MX_OK);
  mx_info_handle_basic_t ia = BasicInfo(a);
  EXPECT_EQ(ia.koid, self);
  EXPECT_EQ(ia.related_koid, peer);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

TEST(ObjectInfoTest, BasicForEventReportsType5AndDefaultRights) {
  mx_handle_t e = MakeEvent();
  mx_info_handle_basic_t info = BasicInfo(e);
  EXPECT_NE(info.koid, MX_KOID_INVALID);
  EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(info.type, 5u);
  EXPECT_EQ(info.related_koid, MX_KOID_INVALID);
  EXPECT_EQ(info.props, static_cast<uint32_t>(MX_OBJ_PROP_WAITABLE));
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, BasicReportsTheRightsOfThisHandle) {
  mx_handle_t e = MakeEvent(), d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(e, MX_RIGHT_READ | MX_RIGHT_DUPLICATE, &d), MX_OK);
  EXPECT_EQ(BasicInfo(d).rights, MX_RIGHT_READ | MX_RIGHT_DUPLICATE);
  EXPECT_EQ(BasicInfo(e).rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(BasicInfo(d).koid, BasicInfo(e).koid);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, BasicNeedsNoRights) {
  mx_handle_t a, b, r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_replace(a, 0, &r), MX_OK);
  mx_info_handle_basic_t info = BasicInfo(r);
  EXPECT_EQ(info.rights, 0u);
  EXPECT_EQ(info.type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(info.related_koid, BasicInfo(b).koid);
  EXPECT_EQ(mx_handle_close(r), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ObjectInfoTest, BasicWithSmallBufferReturnsBufferTooSmall) {
  mx_handle_t e = MakeEvent();
  for (size_t size : {size_t{0}, size_t{4}, size_t{31}}) {
    unsigned char buf[32];
    memset(buf, 0xCC, sizeof(buf));
    size_t actual = 99, avail = 99;
    EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, buf, size, &actual, &avail),
              MX_ERR_BUFFER_TOO_SMALL)
        << size;
    EXPECT_EQ(actual, 0u) << size;
    EXPECT_EQ(avail, 1u) << size;
    for (unsigned char c : buf) ASSERT_EQ(c, 0xCC) << "buffer written with size " << size;
  }
  size_t actual = 99, avail = 99;
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, nullptr, 0, &actual, &avail),
            MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 1u);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, BasicWithLargerBufferWritesOneRecord) {
  mx_handle_t e = MakeEvent();
  unsigned char buf[64];
  memset(buf, 0xCC, sizeof(buf));
  size_t actual = 99, avail = 99;
  ASSERT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, buf, sizeof(buf), &actual, &avail), MX_OK);
  EXPECT_EQ(actual, 1u);
  EXPECT_EQ(avail, 1u);
  mx_info_handle_basic_t info;
  memcpy(&info, buf, sizeof(info));
  EXPECT_EQ(info.type, 5u);
  EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, BasicActualAndAvailAreOptional) {
  mx_handle_t e = MakeEvent();
  mx_info_handle_basic_t info;
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  EXPECT_EQ(info.type, 5u);
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info, 4, nullptr, nullptr),
            MX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, BasicOnBadHandleReturnsBadHandle) {
  mx_handle_t e = MakeEvent();
  ASSERT_EQ(mx_handle_close(e), MX_OK);
  mx_info_handle_basic_t info;
  memset(&info, 0xCC, sizeof(info));
  size_t actual = 99, avail = 99;
  EXPECT_EQ(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail),
            MX_ERR_BAD_HANDLE);
  EXPECT_EQ(actual, 99u);
  EXPECT_EQ(avail, 99u);
}

TEST(ObjectInfoTest, UnknownTopicReturnsNotSupported) {
  mx_handle_t e = MakeEvent();
  unsigned char buf[256];
  for (uint32_t topic : {0u, 99u, 1000u, 0xFFFFFFFFu}) {
    EXPECT_EQ(mx_object_get_info(e, topic, buf, sizeof(buf), nullptr, nullptr),
              MX_ERR_NOT_SUPPORTED)
        << topic;
  }
  EXPECT_EQ(mx_handle_close(e), MX_OK);
}

TEST(ObjectInfoTest, ProcessTopicOnChannelReturnsWrongType) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  mx_info_process_t info;
  EXPECT_EQ(mx_object_get_info(a, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr),
            MX_ERR_WRONG_TYPE);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(ObjectInfoTest, KoidsAreDistinctAcrossLiveObjects) {
  std::vector<mx_handle_t> handles;
  std::set<mx_koid_t> koids;
  for (int i = 0; i < 20; ++i) {
    mx_handle_t a, b;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    handles.insert(handles.end(), {a, b, MakeEvent()});
  }
  for (mx_handle_t h : handles) {
    mx_koid_t k = BasicInfo(h).koid;
    EXPECT_NE(k, MX_KOID_INVALID);
    EXPECT_TRUE(koids.insert(k).second) << "koid " << k << " given twice";
  }
  for (mx_handle_t h : handles) EXPECT_EQ(mx_handle_close(h), MX_OK);
}

}  // namespace
