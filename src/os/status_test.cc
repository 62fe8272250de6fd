// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/status.h and os/eintr.h: the mappings the rest of libmx relies on.
#include "os/status.h"

#include <errno.h>
#include <gtest/gtest.h>

#include "os/eintr.h"

namespace mx::internal {
namespace {

TEST(StatusTest, TableMapsTheErrnosLibmxSees) {
  EXPECT_EQ(StatusFromErrno(0), MX_OK);
  EXPECT_EQ(StatusFromErrno(EAGAIN), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(StatusFromErrno(EMFILE), MX_ERR_NO_RESOURCES);
  EXPECT_EQ(StatusFromErrno(ENOMEM), MX_ERR_NO_MEMORY);
  EXPECT_EQ(StatusFromErrno(EPIPE), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(StatusFromErrno(ECONNRESET), MX_ERR_PEER_CLOSED);
  EXPECT_EQ(StatusFromErrno(EACCES), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(StatusFromErrno(EBADF), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(StatusFromErrno(EXDEV), MX_ERR_INTERNAL);
}

TEST(StatusTest, SpawnTreatsEagainAsTheProcessLimitAndOnlyActionableErrorsAsSuch) {
  EXPECT_EQ(SpawnStatus(EAGAIN), MX_ERR_NO_RESOURCES);
  EXPECT_EQ(SpawnStatus(ENOENT), MX_ERR_NOT_FOUND);
  EXPECT_EQ(SpawnStatus(ENOTDIR), MX_ERR_NOT_FOUND);
  EXPECT_EQ(SpawnStatus(EACCES), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(SpawnStatus(ENOEXEC), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(SpawnStatus(E2BIG), MX_ERR_INVALID_ARGS);
  EXPECT_EQ(SpawnStatus(ENFILE), MX_ERR_NO_RESOURCES);
  EXPECT_EQ(SpawnStatus(EIO), MX_ERR_INTERNAL);    // the table says IO
  EXPECT_EQ(SpawnStatus(EBADF), MX_ERR_INTERNAL);  // the table says BAD_HANDLE
}

TEST(StatusTest, NarrowRulesDifferFromTheTableWhereTheyShould) {
  EXPECT_EQ(AllocationStatus(ENOMEM), MX_ERR_NO_MEMORY);
  EXPECT_EQ(AllocationStatus(EAGAIN), MX_ERR_NO_RESOURCES);
  EXPECT_EQ(ReceivedFdStatus(ENOMEM), MX_ERR_NO_MEMORY);
  EXPECT_EQ(ReceivedFdStatus(ENODEV), MX_ERR_IO);
  EXPECT_EQ(SocketAllocationStatus(ENOBUFS), MX_ERR_NO_MEMORY);
  EXPECT_EQ(SocketNameStatus(ECONNREFUSED), MX_ERR_NOT_FOUND);
  EXPECT_EQ(SocketNameStatus(EADDRINUSE), MX_ERR_ALREADY_EXISTS);
  EXPECT_EQ(KillStatus(ESRCH), MX_OK);
  EXPECT_EQ(MemfdCreateStatus(EFBIG), MX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(MemfdIoStatus(EPERM), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(MemfdIoStatus(EXDEV), MX_ERR_IO);
  EXPECT_EQ(ReopenStatus(ENOENT), MX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(MmapStatus(EEXIST), MX_ERR_NO_MEMORY);
  EXPECT_EQ(PeekStatus(ENOTSOCK), MX_ERR_IO);
  EXPECT_EQ(PeekStatus(ECONNRESET), MX_ERR_PEER_CLOSED);
}

TEST(EintrTest, RetriesOnlyEintrAndKeepsErrnoOfTheLastCall) {
  int calls = 0;
  int r = RetryOnEintr([&] {
    ++calls;
    errno = calls < 3 ? EINTR : EAGAIN;
    return -1;
  });
  EXPECT_EQ(r, -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(calls, 3);

  calls = 0;
  const long n = RetryOnEintr([&] {
    ++calls;
    errno = EINTR;  // left over from an earlier call: a success is never retried
    return 5L;
  });
  EXPECT_EQ(n, 5);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace mx::internal
