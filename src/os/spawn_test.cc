// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for os/spawn.h and os/pidfd.h: the child gets the environment and the descriptors
// it is given, and the parent sees it exit through its pidfd.
#include "os/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "os/clock.h"
#include "os/pidfd.h"
#include "os/unique_fd.h"

namespace mx::internal {
namespace {

// Waits (up to 10 s) for the child behind |pidfd| to exit and returns its code.
int WaitForExit(int pidfd) {
  const mx_time_t deadline = MonotonicNow() + 10'000'000'000;
  int code = 0;
  while (!TryReapPidfd(pidfd, &code)) {
    if (MonotonicNow() > deadline) return -1000;
    ::usleep(1000);
  }
  return code;
}

// Runs |script| under /bin/sh with |request|'s environment and fds; returns its exit code.
int RunShell(const std::string& script, SpawnRequest request) {
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  request.path = "/bin/sh";
  request.argv = argv;
  pid_t pid = -1;
  if (SpawnProcess(request, &pid) != MX_OK) return -2000;
  UniqueFd pidfd;
  if (!OpenPidfd(pid, &pidfd)) return -3000;
  return WaitForExit(pidfd.get());
}

TEST(SpawnTest, OverridesReplaceVariablesOfTheSameNameOnly) {
  const char* envp[] = {"MX_A=old", "MX_AB=keep", "MX_B=b", nullptr};
  SpawnRequest request;
  request.envp = envp;
  request.env_overrides = {"MX_A=new"};
  EXPECT_EQ(RunShell(R"(test "$MX_A" = new && test "$MX_AB" = keep && test "$MX_B" = b)", request),
            0);
}

TEST(SpawnTest, ChildKeepsOnlyTheFdsItIsGiven) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  SpawnRequest request;
  const std::string probe = "test -e /proc/self/fd/" + std::to_string(w.get());
  EXPECT_EQ(RunShell(probe, request), 1);  // close-on-exec: not inherited
  request.fds.push_back({w.get(), w.get()});
  EXPECT_EQ(RunShell(probe, request), 0);
  // Still close-on-exec here: only the child's copy lost the flag.
  EXPECT_NE(::fcntl(w.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(SpawnTest, MissingProgramIsNotFoundAndExitCodesAndSignalsAreReported) {
  const char* argv[] = {"/nonexistent/mx-program", nullptr};
  SpawnRequest request;
  request.path = argv[0];
  request.argv = argv;
  pid_t pid = -1;
  EXPECT_EQ(SpawnProcess(request, &pid), MX_ERR_NOT_FOUND);

  EXPECT_EQ(RunShell("exit 7", SpawnRequest{}), 7);
  EXPECT_EQ(RunShell("kill -9 $$", SpawnRequest{}), -9);
}

TEST(PidfdTest, KillEndsTheChildAndAGoneChildIsNoError) {
  const char* argv[] = {"/bin/sh", "-c", "sleep 30", nullptr};
  SpawnRequest request;
  request.path = argv[0];
  request.argv = argv;
  pid_t pid = -1;
  ASSERT_EQ(SpawnProcess(request, &pid), MX_OK);
  UniqueFd pidfd;
  ASSERT_TRUE(OpenPidfd(pid, &pidfd));
  EXPECT_FALSE(PidfdExited(pidfd.get()));
  EXPECT_EQ(KillPidfd(pidfd.get()), MX_OK);
  EXPECT_EQ(WaitForExit(pidfd.get()), -9);
  EXPECT_TRUE(PidfdExited(pidfd.get()));
  EXPECT_EQ(KillPidfd(pidfd.get()), MX_OK);  // already gone
}

}  // namespace
}  // namespace mx::internal
