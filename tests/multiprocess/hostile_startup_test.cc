// SPDX-License-Identifier: BSD-3-Clause
// A process started with an MX_STARTUP_FD that does not name mx_spawn's startup socket
// (docs/processes.md, "Startup handles").
//
// The variable can leak from an unrelated ancestor, and the fd number it names can be anything in
// the new process: stdin, a pipe, a stream socket, a socket whose first datagram is garbage or a
// startup frame with more handles than mx_spawn ever sends. libmx reads its startup handles before
// main; it must leave every such fd exactly as it was (open, its close-on-exec flag unchanged,
// its data unread) and start with no startup handles.
//
// The test spawns the test binary itself with posix_spawn (not mx_spawn, which would set the
// variable correctly), the fd at a fixed number and MX_STARTUP_FD naming it; the child's body
// checks the fd in main and exits 0 if it was left alone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

extern char** environ;

namespace {

using namespace mx_test::wire;

constexpr int kTargetFd = 10;
constexpr char kPayload[] = "left alone";
constexpr uint32_t kInfo = PA_HND(PA_USER0, 0);

// The garbage a socket's first datagram holds: a frame header with a bad magic.
std::vector<uint8_t> GarbageFrame() {
  FrameSpec spec(kFrameStartup, 0);
  spec.header.magic = 0xdeadbeef;
  return spec.Encode();
}

// A well-formed startup frame with 65 fd handles (mx_spawn sends at most 64); the first is
// tagged kInfo.
std::vector<uint8_t> OversizedStartupFrame() {
  std::vector<uint8_t> desc;
  for (uint32_t i = 0; i < 65; ++i) {
    WireHandle w = {};
    w.type = MX_OBJ_TYPE_FD;
    w.rights = 0xffffffffu;
    w.koid = 0x7e57000000000001ull + i;
    w.num_fds = 1;
    w.info = i == 0 ? kInfo : PA_HND(PA_USER1, i);
    AppendBytes(&desc, &w, sizeof(w));
  }
  FrameSpec spec(kFrameStartup, 0, {}, desc, 65, 65);
  return spec.Encode();
}

// In the child: checks that |fd| is still what the parent set up, unread, and that there are no
// startup handles.
MX_CHILD(startup_probe) {
  CHILD_CHECK(args.size() == 2);
  const std::string& kind = args[0];
  const int fd = std::stoi(args[1]);
  CHILD_CHECK_EQ(mx_get_startup_handle(kInfo), MX_HANDLE_INVALID);
  // libmx's own objects must not have taken the fd's number.
  mx_handle_t a, b;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  int flags = fcntl(fd, F_GETFD);
  CHILD_CHECK(flags >= 0);                 // still open
  CHILD_CHECK((flags & FD_CLOEXEC) == 0);  // as inherited
  std::vector<uint8_t> buffer(65536);
  struct pollfd p = {fd, POLLIN, 0};
  CHILD_CHECK(poll(&p, 1, 30000) == 1);
  if (kind == "pipe" || kind == "stdin" || kind == "stream") {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    CHILD_CHECK_EQ(n, static_cast<ssize_t>(sizeof(kPayload)));
    CHILD_CHECK(memcmp(buffer.data(), kPayload, sizeof(kPayload)) == 0);
  } else {
    std::vector<uint8_t> expected = kind == "garbage" ? GarbageFrame() : OversizedStartupFrame();
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253)];
    struct iovec iov = {buffer.data(), buffer.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    CHILD_CHECK_EQ(n, static_cast<ssize_t>(expected.size()));
    CHILD_CHECK(memcmp(buffer.data(), expected.data(), expected.size()) == 0);
    size_t fds = 0;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int got;
        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        close(got);
      }
      fds += count;
    }
    CHILD_CHECK_EQ(fds, kind == "garbage" ? size_t{0} : size_t{65});
  }
  mx_handle_close(a);
  mx_handle_close(b);
  return 0;
}

// Spawns startup_probe with |fd| at |target| and MX_STARTUP_FD=|target|; returns its exit code
// (or -1 if it did not exit within 30 s, after killing it).
int RunProbe(const std::string& kind, int fd, int target) {
  std::vector<std::string> arg_storage = {mx_test::SelfExePath(), "--mx-child=startup_probe", kind,
                                          std::to_string(target)};
  std::vector<char*> argv;
  for (auto& s : arg_storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, "MX_STARTUP_FD=", 14) != 0) env_storage.emplace_back(*e);
  }
  env_storage.push_back("MX_STARTUP_FD=" + std::to_string(target));
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, target);  // clears close-on-exec on |target|
  pid_t pid = -1;
  int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -2;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1) kill(pid, SIGKILL);
    close(pidfd);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(HostileStartupTest, PipeIsLeftAlone) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(write(p[1], kPayload, sizeof(kPayload)), static_cast<ssize_t>(sizeof(kPayload)));
  int code = RunProbe("pipe", p[0], kTargetFd);
  printf("[attack] startup fd is a pipe: child exit %d\n", code);
  EXPECT_EQ(code, 0);
  close(p[0]);
  close(p[1]);
}

TEST(HostileStartupTest, StdinIsLeftAlone) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(write(p[1], kPayload, sizeof(kPayload)), static_cast<ssize_t>(sizeof(kPayload)));
  int code = RunProbe("stdin", p[0], 0);
  printf("[attack] startup fd is stdin: child exit %d\n", code);
  EXPECT_EQ(code, 0);
  close(p[0]);
  close(p[1]);
}

TEST(HostileStartupTest, StreamSocketIsLeftAlone) {
  int s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
  ASSERT_EQ(write(s[1], kPayload, sizeof(kPayload)), static_cast<ssize_t>(sizeof(kPayload)));
  int code = RunProbe("stream", s[0], kTargetFd);
  printf("[attack] startup fd is a stream socket: child exit %d\n", code);
  EXPECT_EQ(code, 0);
  close(s[0]);
  close(s[1]);
}

TEST(HostileStartupTest, SeqpacketSocketWithGarbageIsLeftAlone) {
  int s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
  std::vector<uint8_t> frame = GarbageFrame();
  ASSERT_EQ(SendOn(s[1], frame.data(), frame.size(), nullptr, 0), 0);
  int code = RunProbe("garbage", s[0], kTargetFd);
  printf("[attack] startup fd is a socket with a garbage frame: child exit %d\n", code);
  EXPECT_EQ(code, 0);
  close(s[0]);
  close(s[1]);
}

TEST(HostileStartupTest, FrameWithMoreThan64HandlesIsLeftAlone) {
  int s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  std::vector<int> fds(65, p[0]);
  std::vector<uint8_t> frame = OversizedStartupFrame();
  ASSERT_EQ(SendOn(s[1], frame.data(), frame.size(), fds.data(), fds.size()), 0);
  int code = RunProbe("oversized", s[0], kTargetFd);
  printf("[attack] startup frame with 65 handles: child exit %d\n", code);
  EXPECT_EQ(code, 0);
  close(p[0]);
  close(p[1]);
  close(s[0]);
  close(s[1]);
}

}  // namespace
