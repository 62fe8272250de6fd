// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of <magenta/fd.h>: file descriptors as handles.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/syscalls.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;

constexpr mx_rights_t kFdRights =
    MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE;

bool IsValid(mx_handle_t h) {
  return mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == MX_OK;
}

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info;
  memset(&info, 0xA5, sizeof(info));
  EXPECT_EQ(mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
            MX_OK);
  return info;
}

bool FdIsOpen(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// A pipe whose ends are plain (not close-on-exec) descriptors.
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

// True once the read end |r| reports end-of-file (every write end closed), waiting up to 10 s.
bool SeesEofWithin10s(int r) {
  struct pollfd pfd = {r, POLLIN, 0};
  if (poll(&pfd, 1, 10000) != 1) return false;
  char c;
  return read(r, &c, 1) == 0;
}

// Writes |msg| to |fd| and checks it comes out of |r|.
void ExpectConnected(int fd, int r, const char* msg) {
  const size_t len = strlen(msg);
  ASSERT_EQ(write(fd, msg, len), static_cast<ssize_t>(len));
  struct pollfd pfd = {r, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "nothing arrived at the pipe's read end";
  char buf[64] = {};
  ASSERT_EQ(read(r, buf, sizeof(buf)), static_cast<ssize_t>(len));
  EXPECT_STREQ(buf, msg);
}

TEST(FdTest, WrapReturnsHandleOfTypeFdWithDefaultRights) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;  // owned by the handle now
  EXPECT_NE(h, MX_HANDLE_INVALID);
  EXPECT_EQ(h & 1, 1);
  mx_info_handle_basic_t info = BasicInfo(h);
  EXPECT_EQ(info.type, MX_OBJ_TYPE_FD);
  EXPECT_EQ(info.rights, kFdRights);
  EXPECT_EQ(info.rights, static_cast<mx_rights_t>(MX_DEFAULT_FD_RIGHTS));
  EXPECT_NE(info.koid, MX_KOID_INVALID);
  EXPECT_EQ(mx_handle_close(h), MX_OK);
}

TEST(FdTest, WrapOfClosedFdReturnsBadHandle) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(close(fds[1]), 0);
  mx_handle_t h = 12345;
  EXPECT_EQ(mx_fd_wrap(fds[1], &h), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(h, 12345);
  EXPECT_EQ(mx_fd_wrap(-1, &h), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(h, 12345);
  ASSERT_EQ(close(fds[0]), 0);
}

TEST(FdTest, WrapWithNullOutReturnsInvalidArgs) {
  Pipe p;
  EXPECT_EQ(mx_fd_wrap(p.w, nullptr), MX_ERR_INVALID_ARGS);
  // Whether the fd was consumed is not pinned down by <magenta/fd.h>; don't double-close it.
  if (!FdIsOpen(p.w)) p.w = -1;
}

TEST(FdTest, ClosingTheHandleClosesTheFd) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  ASSERT_EQ(mx_handle_close(h), MX_OK);
  // The only write end is gone: the read end sees end-of-file.
  EXPECT_TRUE(SeesEofWithin10s(p.r));
}

TEST(FdTest, UnwrapReturnsTheSameOpenFileAndConsumesTheHandle) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(h, &fd), MX_OK);
  EXPECT_GE(fd, 0);
  EXPECT_FALSE(IsValid(h));
  EXPECT_EQ(mx_handle_close(h), MX_ERR_BAD_HANDLE);
  ExpectConnected(fd, p.r, "unwrapped");
  EXPECT_EQ(close(fd), 0);
  EXPECT_TRUE(SeesEofWithin10s(p.r));  // it was the only write end
}

TEST(FdTest, UnwrapReturnsCloseOnExecFd) {
  Pipe p;
  ASSERT_EQ(fcntl(p.w, F_GETFD) & FD_CLOEXEC, 0);
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(h, &fd), MX_OK);
  const int flags = fcntl(fd, F_GETFD);
  ASSERT_NE(flags, -1);
  EXPECT_NE(flags & FD_CLOEXEC, 0);
  EXPECT_EQ(close(fd), 0);
}

TEST(FdTest, UnwrapOfNonFdHandleReturnsWrongTypeAndKeepsIt) {
  mx_handle_t e = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  int fd = 12345;
  EXPECT_EQ(mx_fd_unwrap(e, &fd), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(fd, 12345);
  EXPECT_TRUE(IsValid(e));
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  EXPECT_EQ(mx_fd_unwrap(a, &fd), MX_ERR_WRONG_TYPE);
  EXPECT_TRUE(IsValid(a));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(FdTest, UnwrapOfBadHandleReturnsBadHandle) {
  int fd = 12345;
  EXPECT_EQ(mx_fd_unwrap(MX_HANDLE_INVALID, &fd), MX_ERR_BAD_HANDLE);
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  ASSERT_EQ(mx_handle_close(h), MX_OK);
  EXPECT_EQ(mx_fd_unwrap(h, &fd), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(fd, 12345);
}

TEST(FdTest, UnwrapWithNullFdReturnsInvalidArgsAndKeepsHandle) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  EXPECT_EQ(mx_fd_unwrap(h, nullptr), MX_ERR_INVALID_ARGS);
  EXPECT_TRUE(IsValid(h));
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(h, &fd), MX_OK);
  ExpectConnected(fd, p.r, "still here");
  EXPECT_EQ(close(fd), 0);
}

TEST(FdTest, UnwrapWorksWithAnyRights) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID, r = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  ASSERT_EQ(mx_handle_replace(h, 0, &r), MX_OK);
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(r, &fd), MX_OK);
  EXPECT_FALSE(IsValid(r));
  ExpectConnected(fd, p.r, "no rights");
  EXPECT_EQ(close(fd), 0);
}

TEST(FdTest, DuplicatedFdHandlesShareTheOpenFile) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID, d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  ASSERT_EQ(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  EXPECT_EQ(BasicInfo(d).koid, BasicInfo(h).koid);
  int fd1 = -1, fd2 = -1;
  ASSERT_EQ(mx_fd_unwrap(h, &fd1), MX_OK);
  EXPECT_TRUE(IsValid(d));
  ExpectConnected(fd1, p.r, "first");
  EXPECT_EQ(close(fd1), 0);
  ASSERT_EQ(mx_fd_unwrap(d, &fd2), MX_OK);
  ExpectConnected(fd2, p.r, "second");
  EXPECT_EQ(close(fd2), 0);
  EXPECT_TRUE(SeesEofWithin10s(p.r));
}

// Writes |h| alone into a fresh channel and reads it back: the handle that arrives, or
// MX_HANDLE_INVALID (with a test failure) when the trip fails.
mx_handle_t ThroughChannel(mx_handle_t h) {
  mx_handle_t a, b;
  if (mx_channel_create(0, &a, &b) != MX_OK) {
    ADD_FAILURE() << "mx_channel_create";
    return MX_HANDLE_INVALID;
  }
  mx_handle_t got = MX_HANDLE_INVALID;
  char buf[2];
  uint32_t nh = 0;
  EXPECT_EQ(mx_channel_write(a, 0, "fd", 2, &h, 1), MX_OK);
  EXPECT_EQ(mx_channel_read(b, 0, buf, &got, 2, 1, nullptr, &nh), MX_OK);
  EXPECT_EQ(nh, 1u);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  return got;
}

TEST(FdTest, FdTravelsThroughChannel) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  const mx_info_handle_basic_t before = BasicInfo(h);
  mx_handle_t got = ThroughChannel(h);
  EXPECT_FALSE(IsValid(h));
  ASSERT_TRUE(IsValid(got));
  const mx_info_handle_basic_t after = BasicInfo(got);
  EXPECT_EQ(after.type, MX_OBJ_TYPE_FD);
  EXPECT_EQ(after.rights, before.rights);
  EXPECT_EQ(after.koid, before.koid);
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(got, &fd), MX_OK);
  ExpectConnected(fd, p.r, "through a channel");
  EXPECT_EQ(close(fd), 0);
  EXPECT_TRUE(SeesEofWithin10s(p.r));
}

// The only handle to an fd lends the fd itself to the message; a write that fails must give it
// back: the handle stays valid, with the same descriptor, still close-on-exec, and nothing leaks.
TEST(FdTest, FailedWriteOfOnlyHandleKeepsTheHandleAndItsFd) {
  Pipe p;
  const int original = p.w;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_handle_close(b), MX_OK);
  const int fds = CountOpenFds();
  EXPECT_EQ(mx_channel_write(a, 0, "fd", 2, &h, 1), MX_ERR_PEER_CLOSED);
  EXPECT_TRUE(IsValid(h));
  EXPECT_EQ(CountOpenFds(), fds);
  // A duplicate can be made again once the write is over.
  mx_handle_t d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  EXPECT_EQ(mx_handle_close(d), MX_OK);
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(h, &fd), MX_OK);
  EXPECT_EQ(fd, original);
  EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
  ExpectConnected(fd, p.r, "still here");
  EXPECT_EQ(close(fd), 0);
  EXPECT_TRUE(SeesEofWithin10s(p.r));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// With another handle to the object left behind, a duplicate of the fd travels and the handle
// that stays keeps the object's own.
TEST(FdTest, WriteOfOneOfTwoHandlesLeavesTheOtherWorking) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID, d = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  ASSERT_EQ(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &d), MX_OK);
  mx_handle_t got = ThroughChannel(h);
  EXPECT_FALSE(IsValid(h));
  ASSERT_TRUE(IsValid(got));
  int fd = -1;
  ASSERT_EQ(mx_fd_unwrap(d, &fd), MX_OK);
  ExpectConnected(fd, p.r, "left behind");
  EXPECT_EQ(close(fd), 0);
  ASSERT_EQ(mx_fd_unwrap(got, &fd), MX_OK);
  ExpectConnected(fd, p.r, "sent");
  EXPECT_EQ(close(fd), 0);
  EXPECT_TRUE(SeesEofWithin10s(p.r));
}

TEST(FdTest, FdInDiscardedMessageIsClosed) {
  Pipe p;
  mx_handle_t h = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_fd_wrap(p.w, &h), MX_OK);
  p.w = -1;
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_write(a, 0, "fd", 2, &h, 1), MX_OK);
  ASSERT_EQ(
      mx_channel_read(b, MX_CHANNEL_READ_MAY_DISCARD, nullptr, nullptr, 0, 0, nullptr, nullptr),
      MX_ERR_BUFFER_TOO_SMALL);
  // The discard closed the only write end.
  EXPECT_TRUE(SeesEofWithin10s(p.r));
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(FdTest, WrapAndUnwrapDoNotLeakFds) {
  {
    Pipe warm;
    mx_handle_t h;
    ASSERT_EQ(mx_fd_wrap(warm.w, &h), MX_OK);
    warm.w = -1;
    ASSERT_EQ(mx_handle_close(h), MX_OK);
  }
  const int fds = CountOpenFds();
  for (int i = 0; i < 50; ++i) {
    Pipe p;
    mx_handle_t h1, h2;
    ASSERT_EQ(mx_fd_wrap(p.w, &h1), MX_OK);
    p.w = -1;
    ASSERT_EQ(mx_fd_wrap(p.r, &h2), MX_OK);
    p.r = -1;
    int fd = -1;
    ASSERT_EQ(mx_fd_unwrap(h1, &fd), MX_OK);
    ASSERT_EQ(close(fd), 0);
    ASSERT_EQ(mx_handle_close(h2), MX_OK);
  }
  EXPECT_EQ(CountOpenFds(), fds);
}

}  // namespace
