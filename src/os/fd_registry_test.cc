// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the FdRegistry (os/fd_registry.h): in a fork()ed child,
// FdRegistryCloseAllInChild closes exactly the registered fds. UniqueFd keeps the registry in
// step with ownership (register on take, unregister on close/release, keep across moves).
//
// The registry has no query API; every check runs in a child: the child closes the registered
// fds, probes each fd of interest with fcntl(F_GETFD) and _exits with 0, or with the 1-based
// index of the first fd whose state was wrong. (If the process's handle table exists, its
// pthread_atfork handler already closed the registered fds in the child; the result is the same.)
#include "os/fd_registry.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "os/unique_fd.h"

namespace mx::internal {
namespace {

struct Expect {
  int fd;
  bool open;  // expected state in the child after FdRegistryCloseAllInChild
};

// Forks; the child closes every registered fd and checks |expect|. Returns the child's exit
// code (0: all as expected; k: expect[k-1] was wrong; 200+: the child died otherwise).
int CheckInChild(const std::vector<Expect>& expect) {
  pid_t pid = ::fork();
  if (pid < 0) return 250;
  if (pid == 0) {
    FdRegistryCloseAllInChild();
    for (size_t i = 0; i < expect.size(); ++i) {
      bool open = ::fcntl(expect[i].fd, F_GETFD) != -1 || errno != EBADF;
      if (open != expect[i].open) ::_exit(static_cast<int>(i + 1));
    }
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 251;
  }
  if (!WIFEXITED(status)) return 252;
  return WEXITSTATUS(status);
}

// A raw pipe, not registered.
struct RawPipe {
  int fds[2] = {-1, -1};
  RawPipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~RawPipe() {
    for (int fd : fds) {
      FdRegistryRemove(fd);  // never leave a stale registration behind for later forks
      ::close(fd);
    }
  }
  RawPipe(const RawPipe&) = delete;
  RawPipe& operator=(const RawPipe&) = delete;
};

bool IsOpenHere(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(FdRegistryTest, ChildClosesRegisteredFdsOnly) {
  RawPipe registered, unregistered, removed;
  FdRegistryAdd(registered.fds[0]);
  FdRegistryAdd(registered.fds[1]);
  FdRegistryAdd(removed.fds[0]);
  FdRegistryAdd(removed.fds[1]);
  FdRegistryRemove(removed.fds[0]);
  FdRegistryRemove(removed.fds[1]);
  EXPECT_EQ(CheckInChild({{registered.fds[0], false},
                          {registered.fds[1], false},
                          {unregistered.fds[0], true},
                          {unregistered.fds[1], true},
                          {removed.fds[0], true},
                          {removed.fds[1], true},
                          {STDERR_FILENO, true}}),
            0);
  // The parent's fds are untouched.
  EXPECT_TRUE(IsOpenHere(registered.fds[0]));
  EXPECT_TRUE(IsOpenHere(registered.fds[1]));
}

TEST(FdRegistryTest, AddingTwiceAndRemovingOnceUnregisters) {
  // A bitmap, not a count: the registry tracks fd numbers, which have one owner at a time.
  RawPipe p;
  FdRegistryAdd(p.fds[0]);
  FdRegistryAdd(p.fds[0]);
  FdRegistryRemove(p.fds[0]);
  EXPECT_EQ(CheckInChild({{p.fds[0], true}}), 0);
}

TEST(FdRegistryTest, UniqueFdRegistersWhatItOwns) {
  RawPipe raw;  // for fd numbers that stay unregistered
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd owned(p[0]);
  UniqueFd released(p[1]);
  int released_fd = released.release();
  ASSERT_EQ(released_fd, p[1]);

  int q[2];
  ASSERT_EQ(::pipe2(q, O_CLOEXEC), 0);
  UniqueFd from(q[0]);
  UniqueFd moved(std::move(from));  // the registration moves with the fd
  UniqueFd assigned;
  assigned = UniqueFd(q[1]);
  int r[2];
  ASSERT_EQ(::pipe2(r, O_CLOEXEC), 0);
  UniqueFd reset_target(r[0]);
  reset_target.reset(r[1]);  // closes r[0] (and unregisters it), registers r[1]

  EXPECT_EQ(CheckInChild({{owned.get(), false},
                          {released_fd, true},
                          {moved.get(), false},
                          {assigned.get(), false},
                          {reset_target.get(), false},
                          {raw.fds[0], true}}),
            0);
  // r[0] was closed by reset(); a new fd that reuses its number is not registered.
  int reused = ::fcntl(raw.fds[0], F_DUPFD_CLOEXEC, r[0]);
  ASSERT_GE(reused, 0);
  if (reused == r[0]) {
    EXPECT_EQ(CheckInChild({{reused, true}}), 0);
  }
  ::close(reused);
  ::close(released_fd);
}

TEST(FdRegistryTest, ClosedUniqueFdIsUnregistered) {
  int fd;
  {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd a(p[0]);
    fd = a.get();
    ::close(p[1]);
  }
  // Reopen something at the same number, unregistered: the child must leave it open.
  RawPipe holder;
  int again = ::fcntl(holder.fds[0], F_DUPFD_CLOEXEC, fd);
  ASSERT_GE(again, 0);
  if (again == fd) {
    EXPECT_EQ(CheckInChild({{again, true}}), 0);
  }
  ::close(again);
}

TEST(FdRegistryTest, HighFdNumbersAcrossWordAndChunkBoundaries) {
  struct rlimit rl;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  const rlim_t need = 16384 + 70;
  if (rl.rlim_cur < need) {
    if (rl.rlim_max < need) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below " << need;
    rl.rlim_cur = need;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  RawPipe source;
  std::vector<int> registered, unregistered;
  // Both sides of the 64-fd word boundary and of the 16384-fd chunk boundary.
  for (int want : {63, 64, 127, 128, 16383, 16384, 16385, 16384 + 64}) {
    int fd = ::fcntl(source.fds[0], F_DUPFD_CLOEXEC, want);
    ASSERT_GE(fd, 0);
    registered.push_back(fd);
    FdRegistryAdd(fd);
    int neighbour = ::fcntl(source.fds[0], F_DUPFD_CLOEXEC, fd + 1);
    ASSERT_GE(neighbour, 0);
    unregistered.push_back(neighbour);
  }
  std::vector<Expect> expect;
  for (int fd : registered) expect.push_back({fd, false});
  for (int fd : unregistered) expect.push_back({fd, true});
  EXPECT_EQ(CheckInChild(expect), 0);
  for (int fd : registered) {
    FdRegistryRemove(fd);
    ::close(fd);
  }
  for (int fd : unregistered) ::close(fd);
}

TEST(FdRegistryTest, OutOfRangeValuesAreIgnored) {
  FdRegistryAdd(-1);
  FdRegistryRemove(-1);
  FdRegistryAdd(-12345);
  FdRegistryAdd(1 << 22);  // past the bitmap
  FdRegistryAdd((1 << 22) + 5);
  FdRegistryRemove(1 << 22);
  FdRegistryRemove(1 << 30);
  FdRegistryRemove(200000);  // a chunk that was never allocated
  RawPipe p;
  EXPECT_EQ(CheckInChild({{p.fds[0], true}, {p.fds[1], true}}), 0);
}

TEST(FdRegistryTest, ConcurrentAddRemoveOnSharedWordsKeepsEveryBit) {
  // Four threads flip bits of the same 64-bit words; the final state must be exactly what each
  // thread left for its own fds.
  RawPipe source;
  std::vector<int> fds;
  for (int i = 0; i < 128; ++i) {
    int fd = ::fcntl(source.fds[0], F_DUPFD_CLOEXEC, 1024);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&fds, t] {
      for (int round = 0; round < 2000; ++round) {
        for (size_t i = static_cast<size_t>(t); i < fds.size(); i += kThreads) {
          FdRegistryAdd(fds[i]);
          FdRegistryRemove(fds[i]);
        }
      }
      // Leave the even-indexed fds of this thread registered.
      for (size_t i = static_cast<size_t>(t); i < fds.size(); i += kThreads) {
        if ((i / kThreads) % 2 == 0) FdRegistryAdd(fds[i]);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Expect> expect;
  for (size_t i = 0; i < fds.size(); ++i) expect.push_back({fds[i], (i / kThreads) % 2 != 0});
  EXPECT_EQ(CheckInChild(expect), 0);
  for (int fd : fds) {
    FdRegistryRemove(fd);
    ::close(fd);
  }
}

}  // namespace
}  // namespace mx::internal
