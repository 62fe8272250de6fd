// SPDX-License-Identifier: BSD-3-Clause
// Nothing leaks into other programs: a child started with mx_spawn
// holds only its stdio and what libmx needs for the startup handles it took, however many objects
// the parent holds; after fork() the child's handle table is empty.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::FdEntry;
using mx_test::Message;

struct WireFdEntry {
  int32_t fd;
  uint32_t target_len;
  uint64_t dev;
  uint64_t ino;
};

std::vector<uint8_t> EncodeFds(const std::vector<FdEntry>& fds) {
  std::vector<uint8_t> out;
  for (const FdEntry& e : fds) {
    WireFdEntry w{e.fd, static_cast<uint32_t>(e.target.size()), static_cast<uint64_t>(e.dev),
                  static_cast<uint64_t>(e.ino)};
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&w);
    out.insert(out.end(), p, p + sizeof(w));
    out.insert(out.end(), e.target.begin(), e.target.end());
  }
  return out;
}

std::vector<FdEntry> DecodeFds(const std::vector<uint8_t>& bytes) {
  std::vector<FdEntry> fds;
  size_t at = 0;
  while (at + sizeof(WireFdEntry) <= bytes.size()) {
    WireFdEntry w;
    memcpy(&w, bytes.data() + at, sizeof(w));
    at += sizeof(w);
    if (at + w.target_len > bytes.size()) break;
    FdEntry e;
    e.fd = w.fd;
    e.dev = static_cast<dev_t>(w.dev);
    e.ino = static_cast<ino_t>(w.ino);
    e.target.assign(reinterpret_cast<const char*>(bytes.data() + at), w.target_len);
    at += w.target_len;
    fds.push_back(std::move(e));
  }
  return fds;
}

// Anonymous inodes (eventfd, epoll, timerfd, older pidfds...) share one inode machine-wide, so
// their (dev, ino) says nothing about which object they are.
bool IsAnonInode(const FdEntry& e) { return e.target.rfind("anon_inode:", 0) == 0; }

// Lists its fds right after taking its one startup handle and sends the list on it; exits when
// the parent hangs up (so the list stays true while the parent looks at it).
MX_CHILD(list_fds) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  std::vector<uint8_t> bytes = EncodeFds(mx_test::ListOpenFds());
  CHILD_CHECK(bytes.size() <= MX_CHANNEL_MAX_MSG_BYTES);
  CHILD_CHECK_OK(mx_test::WriteMessage(ch, bytes.data(), bytes.size()));
  Message msg;
  CHILD_CHECK_EQ(mx_test::ReadMessage(ch, &msg, mx_deadline_after(MX_SEC(60))), MX_ERR_PEER_CLOSED);
  return 0;
}

class CloseOnExecTest : public mx_test::MultiprocessTest {
 protected:
  // Spawns list_fds; returns its fd list and this process's fd list taken while it is alive.
  void ListChildFds(std::vector<FdEntry>* child_fds, std::vector<FdEntry>* parent_fds) {
    mx_handle_t ch, remote, process;
    ASSERT_EQ(mx_channel_create(0, &ch, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("list_fds", {{PA_HND(PA_USER0, 0), remote}}, {}, &process),
              MX_OK);
    mx_test::ScopedProcess child(process);
    Message msg;
    ASSERT_EQ(mx_test::ReadMessage(ch, &msg), MX_OK);
    *child_fds = DecodeFds(msg.bytes);
    *parent_fds = mx_test::ListOpenFds();
    mx_handle_close(ch);
    EXPECT_EQ(child.Join(), 0);
  }
};

TEST_F(CloseOnExecTest, SpawnedChildInheritsNoneOfTheParentsObjects) {
  // A child spawned while this process holds almost nothing.
  std::vector<FdEntry> baseline_child, unused;
  ASSERT_NO_FATAL_FAILURE(ListChildFds(&baseline_child, &unused));

  const std::vector<FdEntry> parent_before_objects = mx_test::ListOpenFds();
  // Now hold many fd-backed objects: channel ends (one with endpoints queued inside it),
  // events, wrapped pipe ends, and a process handle of a live child.
  std::vector<mx_handle_t> held;
  for (int i = 0; i < 20; ++i) {
    mx_handle_t a, b;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    held.push_back(a);
    held.push_back(b);
  }
  for (int i = 0; i < 10; ++i) {
    mx_handle_t e;
    ASSERT_EQ(mx_event_create(0, &e), MX_OK);
    held.push_back(e);
  }
  std::vector<int> raw_fds;
  for (int i = 0; i < 10; ++i) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    mx_handle_t h;
    ASSERT_EQ(mx_fd_wrap(fds[0], &h), MX_OK);
    held.push_back(h);
    raw_fds.push_back(fds[1]);
  }
  {
    mx_handle_t a, b, c, d;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(mx_channel_create(0, &c, &d), MX_OK);
    ASSERT_EQ(mx_test::WriteMessage(a, "d inside", 8, {d}), MX_OK);
    held.push_back(a);
    held.push_back(b);
    held.push_back(c);
  }
  mx_handle_t other_ctl, other_remote, other_process;
  ASSERT_EQ(mx_channel_create(0, &other_ctl, &other_remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("list_fds", {{PA_HND(PA_USER0, 0), other_remote}}, {}, &other_process),
      MX_OK);
  mx_test::ScopedProcess other(other_process);
  Message ignored;
  ASSERT_EQ(mx_test::ReadMessage(other_ctl, &ignored), MX_OK);

  // The files behind the objects created above (not those of the channel the next child gets,
  // which it may legitimately share with this process, e.g. a shared-memory ring).
  std::set<std::pair<dev_t, ino_t>> held_files;
  for (const FdEntry& e : mx_test::ListOpenFds()) {
    if (e.fd > 2 && !IsAnonInode(e)) held_files.insert({e.dev, e.ino});
  }
  for (const FdEntry& e : parent_before_objects) held_files.erase({e.dev, e.ino});
  EXPECT_GE(held_files.size(), 10u) << "expected the held objects to be backed by files";

  std::vector<FdEntry> child_fds, parent_fds;
  ASSERT_NO_FATAL_FAILURE(ListChildFds(&child_fds, &parent_fds));

  std::set<int> child_numbers;
  for (const FdEntry& e : child_fds) child_numbers.insert(e.fd);
  EXPECT_TRUE(child_numbers.count(0) && child_numbers.count(1) && child_numbers.count(2))
      << "the child lost its stdio:\n"
      << mx_test::DescribeFds(child_fds);
  EXPECT_EQ(child_fds.size(), baseline_child.size())
      << "a child spawned while the parent holds many objects has more fds than one spawned "
         "while it held few.\nbaseline child:\n"
      << mx_test::DescribeFds(baseline_child) << "child:\n"
      << mx_test::DescribeFds(child_fds);

  // No fd of the child (beyond stdio) is the file of one of the objects this process holds.
  for (const FdEntry& e : child_fds) {
    if (e.fd <= 2 || IsAnonInode(e)) continue;
    EXPECT_EQ(held_files.count({e.dev, e.ino}), 0u)
        << "the child inherited fd " << e.fd << " -> " << e.target;
  }

  mx_handle_close(other_ctl);
  EXPECT_EQ(other.Join(), 0);
  mx_test::CloseAll(&held);
  for (int fd : raw_fds) close(fd);
}

// Waits up to 30 s for |pid| to exit (through a pidfd, without sleeping) and returns its wait
// status, or -1.
int WaitPid(pid_t pid) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int ready = poll(&pfd, 1, 30000);
    close(pidfd);
    if (ready != 1) {
      kill(pid, SIGKILL);
    }
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST_F(CloseOnExecTest, ForkedChildStartsWithEmptyHandleTable) {
  mx_handle_t a, b, event;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(a, "before fork", 11), MX_OK);

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // In the forked child: none of the parent's handles exist; new ones work.
    int code = 0;
    for (mx_handle_t h : {a, b, event}) {
      if (mx_object_get_info(h, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) !=
          MX_ERR_BAD_HANDLE) {
        code |= 1;
      }
    }
    uint8_t buf[16];
    uint32_t n = 0;
    if (mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr) != MX_ERR_BAD_HANDLE) {
      code |= 2;
    }
    mx_handle_t x, y;
    if (mx_channel_create(0, &x, &y) != MX_OK) {
      code |= 4;
    } else if (mx_channel_write(x, 0, "hi", 2, nullptr, 0) != MX_OK ||
               mx_channel_read(y, 0, buf, nullptr, sizeof(buf), 0, &n, nullptr) != MX_OK ||
               n != 2) {
      code |= 8;
    }
    _exit(code);
  }
  const int status = WaitPid(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "forked child did not exit normally (status " << status << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "bits: 1 = a parent handle was valid in the forked child; 2 = reading the parent's "
         "channel there did not fail with BAD_HANDLE; 4/8 = a new channel did not work there";

  // The parent's objects are untouched by the child's existence and exit.
  EXPECT_FALSE(mx_test::PendingSignals(a) & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(mx_test::PendingSignals(b) & MX_CHANNEL_PEER_CLOSED);
  Message msg;
  ASSERT_EQ(mx_test::ReadMessage(b, &msg), MX_OK);
  EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "before fork");
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
  EXPECT_EQ(mx_handle_close(event), MX_OK);
}

}  // namespace
