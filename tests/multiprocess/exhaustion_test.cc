// SPDX-License-Identifier: BSD-3-Clause
// Resource exhaustion: when a process runs out of
// file descriptors, handle-table slots or address space, every call that needs one fails with
// MX_ERR_NO_RESOURCES (or NO_MEMORY) and leaves every handle where it was — still valid, same
// value, same object: a write's handles stay in the caller's table and nothing is sent, a read's
// message stays first in the queue, a spawn's startup handles stay with the caller — and nothing
// leaks: the number of free fds after a failed call is what it was before. Once resources are
// back, everything works again.
//
// Each test runs in a child process (the parent's limits and handle table stay untouched). The
// child lowers RLIMIT_NOFILE and fills every free fd below it (FdSqueeze), then leaves exactly k
// free for k = 0, 1, 2, ... and tries each call until it succeeds: the first k that works is the
// number of fds the call needs, and every smaller k must fail cleanly. The children print
// "[exhaustion] ..." lines with those figures (docs/RELIABILITY.md quotes them).
//
// Also: a full handle table (2^18 handles), a channel filled to backpressure with a handle in
// every message, and (outside sanitizers) a lowered RLIMIT_AS.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "support/multiprocess.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MX_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define MX_TEST_SANITIZED 1
#endif
#endif
#ifndef MX_TEST_SANITIZED
#define MX_TEST_SANITIZED 0
#endif

namespace {

using mx_test::Message;

// ---- Running out of fds -------------------------------------------------------------------------

// Lowers RLIMIT_NOFILE (soft) to 2048 and fills every free fd below it with copies of /dev/null,
// so that exactly |k| fds are free: Leave(k). Raising k only closes fillers, so a sweep over
// k = 0, 1, 2, ... is cheap. The destructor gives everything back.
class FdSqueeze {
 public:
  FdSqueeze() {
    null_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(null_ >= 0);
    CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    struct rlimit low = saved_;
    if (low.rlim_cur > 2048) low.rlim_cur = 2048;
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
  }
  ~FdSqueeze() {
    Release();
    setrlimit(RLIMIT_NOFILE, &saved_);
    close(null_);
  }

  // Exactly |k| fds free from now on (until something else opens or closes fds). Assumes that
  // nothing changed the number of free fds since the last Leave unless Release was called.
  void Leave(size_t k) {
    if (!filled_ || k < free_) {
      Release();
      for (;;) {
        int fd = fcntl(null_, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
          CHILD_CHECK(errno == EMFILE);
          break;
        }
        fillers_.push_back(fd);
      }
      filled_ = true;
      free_ = 0;
    }
    CHILD_CHECK(fillers_.size() >= k - free_);
    for (; free_ < k; ++free_) {
      close(fillers_.back());
      fillers_.pop_back();
    }
  }

  // Closes every filler: the limit stays low, but there is room again.
  void Release() {
    for (int fd : fillers_) close(fd);
    fillers_.clear();
    filled_ = false;
    free_ = 0;
  }

  // The number of fds that can be opened right now (probes and gives them back).
  size_t Free() const {
    std::vector<int> probe;
    for (;;) {
      int fd = fcntl(null_, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) break;
      probe.push_back(fd);
    }
    for (int fd : probe) close(fd);
    return probe.size();
  }

 private:
  int null_ = -1;
  struct rlimit saved_ = {};
  std::vector<int> fillers_;
  bool filled_ = false;
  size_t free_ = 0;
};

// Makes, moves, duplicates and closes one object of every type before a test starts squeezing.
// Besides the usual lazy set-up (mx_test::WarmUpLibmx), this matters under UBSan: its vptr
// check validates a (type, vtable) pair the first time it sees it by writing the memory to a
// pipe, and with no free fd that fails and is reported as "invalid vptr". Seen once, a pair is
// cached.
void WarmUpEveryType() {
  mx_test::WarmUpLibmx();
  std::vector<mx_handle_t> objects(8, MX_HANDLE_INVALID);
  CHILD_CHECK_OK(mx_channel_create(0, &objects[0], &objects[1]));
  CHILD_CHECK_OK(mx_event_create(0, &objects[2]));
  CHILD_CHECK_OK(mx_eventpair_create(0, &objects[3], &objects[4]));
  CHILD_CHECK_OK(mx_socket_create(0, &objects[5], &objects[6]));
  CHILD_CHECK_OK(mx_vmo_create(4096, 0, &objects[7]));
  int p[2];
  CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
  close(p[1]);
  mx_handle_t fd_handle, port, a, b;
  CHILD_CHECK_OK(mx_fd_wrap(p[0], &fd_handle));
  objects.push_back(fd_handle);
  CHILD_CHECK_OK(mx_port_create(0, &port));
  mx_handle_close(port);
  const std::string service = "@libmx-exhaust-warm-" + std::to_string(getpid());
  mx_handle_t listener, client, server;
  CHILD_CHECK_OK(mx_service_listen(service.c_str(), 0, &listener));
  CHILD_CHECK_OK(mx_service_connect(service.c_str(), 0, &client));
  CHILD_CHECK_OK(
      mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr));
  CHILD_CHECK_OK(mx_service_accept(listener, &server));
  for (mx_handle_t h : {listener, client, server}) mx_handle_close(h);
  CHILD_CHECK_OK(mx_test::WriteMessage(objects[0], "queued", 6));
  std::vector<mx_handle_t> dups;
  for (mx_handle_t h : objects) {
    mx_handle_t dup;
    if (mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &dup) == MX_OK) dups.push_back(dup);
    mx_test::PendingSignals(h);
  }
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  std::vector<mx_handle_t> moving(objects.begin() + 1, objects.end());
  CHILD_CHECK_OK(mx_test::WriteMessage(a, "all", 3, moving));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(b, &msg));
  CHILD_CHECK_EQ(msg.handles.size(), moving.size());
  Message queued;
  CHILD_CHECK_OK(mx_test::ReadMessage(msg.handles[0], &queued));
  for (mx_handle_t h : msg.handles) mx_test::PendingSignals(h);
  mx_test::CloseAll(&msg.handles);
  mx_test::CloseAll(&dups);
  for (mx_handle_t h : {objects[0], a, b}) mx_handle_close(h);
}

bool IsResourceError(mx_status_t st) { return st == MX_ERR_NO_RESOURCES || st == MX_ERR_NO_MEMORY; }

constexpr mx_handle_t kUntouched = static_cast<mx_handle_t>(0x5a5a5a5a);

// A handle and what it must still be after a failed call.
struct Kept {
  mx_handle_t value;
  mx_koid_t koid;
  uint32_t type;
};

Kept Keep(mx_handle_t h) {
  mx_info_handle_basic_t info = mx_test::BasicInfo(h);
  return Kept{h, info.koid, info.type};
}

bool StillThere(const Kept& k) {
  mx_info_handle_basic_t info = mx_test::BasicInfo(k.value);
  return info.koid == k.koid && info.type == k.type && k.koid != 0;
}

// Tries |op| with k = 0, 1, 2, ... free fds until it succeeds (at most |max_k|). Every failure
// must be NO_RESOURCES / NO_MEMORY, leave exactly k fds free, and pass |check_failed|; |undo|
// releases what a success made, after which (if |undo_frees_all|) k fds must be free again.
// Returns the k that worked.
size_t SweepFds(FdSqueeze& squeeze, const std::string& what, size_t max_k,
                const std::function<mx_status_t()>& op, const std::function<void()>& check_failed,
                const std::function<void()>& undo, bool undo_frees_all = true) {
  std::string statuses;  // the failures seen, for the figures
  for (size_t k = 0; k <= max_k; ++k) {
    squeeze.Leave(k);
    mx_status_t st = op();
    if (st != MX_OK && statuses.find(mx_test::StatusName(st)) == std::string::npos) {
      statuses += std::string(statuses.empty() ? "" : "/") + mx_test::StatusName(st);
    }
    if (st == MX_OK) {
      undo();
      const size_t free_after = squeeze.Free();
      if (undo_frees_all && free_after != k) {
        fprintf(stderr, "%s: %zu fds free after success and undo, expected %zu\n", what.c_str(),
                free_after, k);
        CHILD_CHECK(false);
      }
      squeeze.Release();
      if (k == 0) {
        printf("[exhaustion] %s: needs no new fd\n", what.c_str());
      } else {
        printf(
            "[exhaustion] %s: %s with 0..%zu free fds (every handle kept, no fd "
            "leaked), works with %zu\n",
            what.c_str(), statuses.c_str(), k - 1, k);
      }
      fflush(stdout);
      return k;
    }
    if (!IsResourceError(st)) {
      fprintf(stderr, "%s with %zu free fds: %s\n", what.c_str(), k, mx_test::StatusName(st));
      CHILD_CHECK(false);
    }
    const size_t free_after = squeeze.Free();
    if (free_after != k) {
      fprintf(stderr, "%s failed with %zu free fds and left %zu free (leak)\n", what.c_str(), k,
              free_after);
      CHILD_CHECK(false);
    }
    check_failed();
  }
  fprintf(stderr, "%s still fails with %zu free fds\n", what.c_str(), max_k);
  CHILD_CHECK(false);
  return 0;
}

// Every create call, with too few fds: a clean failure, out-params untouched.
MX_CHILD(exhaust_creates) {
  WarmUpEveryType();
  FdSqueeze squeeze;
  mx_handle_t a = kUntouched, b = kUntouched;
  auto untouched = [&] { CHILD_CHECK(a == kUntouched && b == kUntouched); };
  auto close_both = [&] {
    mx_handle_close(a);
    if (b != kUntouched) mx_handle_close(b);
    a = b = kUntouched;
  };
  SweepFds(
      squeeze, "mx_channel_create", 8, [&] { return mx_channel_create(0, &a, &b); }, untouched,
      close_both);
  SweepFds(
      squeeze, "mx_event_create", 8, [&] { return mx_event_create(0, &a); }, untouched, close_both);
  SweepFds(
      squeeze, "mx_eventpair_create", 16, [&] { return mx_eventpair_create(0, &a, &b); }, untouched,
      close_both);
  SweepFds(
      squeeze, "mx_socket_create", 8, [&] { return mx_socket_create(0, &a, &b); }, untouched,
      close_both);
  SweepFds(
      squeeze, "mx_vmo_create", 8, [&] { return mx_vmo_create(4096, 0, &a); }, untouched,
      close_both);
  SweepFds(
      squeeze, "mx_port_create", 8, [&] { return mx_port_create(0, &a); }, untouched, close_both);
  const std::string name = "@libmx-exhaust-" + std::to_string(getpid());
  SweepFds(
      squeeze, "mx_service_listen", 8, [&] { return mx_service_listen(name.c_str(), 0, &a); },
      untouched, close_both);

  // Recovery: with the fds back, everything works again.
  squeeze.Release();
  mx_handle_t e;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  CHILD_CHECK_OK(mx_event_create(0, &e));
  CHILD_CHECK_OK(mx_test::WriteMessage(a, "ok", 2, {e}));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(b, &msg));
  CHILD_CHECK_EQ(msg.handles.size(), 1u);
  mx_test::CloseAll(&msg.handles);
  mx_handle_close(a);
  mx_handle_close(b);
  return 0;
}

// mx_channel_write with handles (the writer duplicates their fds): out of fds → NO_RESOURCES,
// every handle still in the caller's table, nothing sent.
MX_CHILD(exhaust_write) {
  WarmUpEveryType();
  mx_handle_t a, b;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  // One of each kind of handle.
  std::vector<mx_handle_t> handles(7);
  CHILD_CHECK_OK(mx_event_create(0, &handles[0]));
  mx_handle_t peer_ep, peer_side, peer_sock;
  CHILD_CHECK_OK(mx_channel_create(0, &handles[1], &peer_ep));
  CHILD_CHECK_OK(mx_test::WriteMessage(peer_ep, "queued", 6));  // a message queued inside
  CHILD_CHECK_OK(mx_eventpair_create(0, &handles[2], &peer_side));
  CHILD_CHECK_OK(mx_socket_create(0, &handles[3], &peer_sock));
  CHILD_CHECK_OK(mx_vmo_create(4096, 0, &handles[4]));
  int pipe_fds[2];
  CHILD_CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0);
  CHILD_CHECK_OK(mx_fd_wrap(pipe_fds[0], &handles[5]));
  close(pipe_fds[1]);
  CHILD_CHECK_OK(mx_event_create(0, &handles[6]));
  std::vector<Kept> kept;
  for (mx_handle_t h : handles) kept.push_back(Keep(h));

  FdSqueeze squeeze;
  auto all_kept = [&] {
    for (const Kept& k : kept) CHILD_CHECK(StillThere(k));
    uint32_t nb = 0, nh = 0;
    char buf[16];
    CHILD_CHECK_EQ(mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh),
                   MX_ERR_SHOULD_WAIT);  // nothing was sent
  };
  SweepFds(
      squeeze,
      "mx_channel_write with 7 handles (event, endpoint with a queued message, "
      "eventpair, socket, vmo, fd, event)",
      64,
      [&] {
        return mx_channel_write(a, 0, "handles", 7, handles.data(),
                                static_cast<uint32_t>(handles.size()));
      },
      all_kept, [] {}, /*undo_frees_all=*/false);  // the handles' own fds left with them
  // It went: read it back (fds are plentiful again) and check every object arrived.
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(b, &msg));
  CHILD_CHECK_EQ(msg.handles.size(), kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    mx_info_handle_basic_t info = mx_test::BasicInfo(msg.handles[i]);
    CHILD_CHECK_EQ(info.koid, kept[i].koid);
    CHILD_CHECK_EQ(info.type, kept[i].type);
  }
  Message queued;
  CHILD_CHECK_OK(mx_test::ReadMessage(msg.handles[1], &queued));
  CHILD_CHECK(std::string(queued.bytes.begin(), queued.bytes.end()) == "queued");
  mx_test::CloseAll(&msg.handles);

  // Handle-free writes on a fresh channel with no fd free. At some point a channel sets up its
  // shared-memory ring (a memfd); whichever path a message takes, each write either succeeds
  // or fails cleanly, nothing leaks, and what was written arrives whole and in order.
  {
    mx_handle_t fresh_a, fresh_b;
    CHILD_CHECK_OK(mx_channel_create(0, &fresh_a, &fresh_b));
    constexpr int kWrites = 20;
    std::vector<int> written;
    std::string refused;
    squeeze.Leave(0);
    for (int i = 0; i < kWrites; ++i) {
      const std::string text = mx_test::Numbered("w", i);
      mx_status_t st =
          mx_channel_write(fresh_a, 0, text.data(), static_cast<uint32_t>(text.size()), nullptr, 0);
      if (st == MX_OK) {
        written.push_back(i);
      } else {
        CHILD_CHECK(IsResourceError(st) || st == MX_ERR_SHOULD_WAIT);
        if (refused.find(mx_test::StatusName(st)) == std::string::npos) {
          refused += std::string(refused.empty() ? "" : "/") + mx_test::StatusName(st);
        }
      }
      CHILD_CHECK_EQ(squeeze.Free(), 0u);
    }
    squeeze.Release();
    for (int i : written) {
      CHILD_CHECK_OK(mx_test::ReadMessage(fresh_b, &msg));
      CHILD_CHECK(std::string(msg.bytes.begin(), msg.bytes.end()) == mx_test::Numbered("w", i));
    }
    uint32_t nb = 0, nh = 0;
    char buf[8];
    CHILD_CHECK_EQ(mx_channel_read(fresh_b, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh),
                   MX_ERR_SHOULD_WAIT);
    printf(
        "[exhaustion] %d handle-free writes on a fresh channel with 0 free fds: %zu "
        "written%s%s, all read back in order, no fd leaked\n",
        kWrites, written.size(), refused.empty() ? "" : ", the rest refused with ",
        refused.c_str());
    mx_handle_close(fresh_a);
    mx_handle_close(fresh_b);
  }

  // 64 fd handles, each with a duplicate left behind, need 64 duplicates of their fds: with 10
  // free fds the write fails and gives all 10 back.
  std::vector<mx_handle_t> fds64, stay64;
  for (uint32_t i = 0; i < MX_CHANNEL_MAX_MSG_HANDLES; ++i) {
    int p[2];
    CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
    close(p[1]);
    mx_handle_t h, d;
    CHILD_CHECK_OK(mx_fd_wrap(p[0], &h));
    CHILD_CHECK_OK(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &d));
    fds64.push_back(h);
    stay64.push_back(d);
  }
  std::vector<Kept> kept64;
  for (mx_handle_t h : fds64) kept64.push_back(Keep(h));
  squeeze.Leave(10);
  CHILD_CHECK_EQ(mx_channel_write(a, 0, "64", 2, fds64.data(), 64), MX_ERR_NO_RESOURCES);
  CHILD_CHECK_EQ(squeeze.Free(), 10u);
  for (const Kept& k : kept64) CHILD_CHECK(StillThere(k));
  squeeze.Release();
  printf(
      "[exhaustion] mx_channel_write with 64 shared fd handles and 10 free fds: NO_RESOURCES, "
      "all 10 fds given back, all 64 handles kept\n");
  // Without the duplicates, each handle is its object's only one and lends its own fd to the
  // message: the write needs no new fd at all.
  mx_test::CloseAll(&stay64);
  squeeze.Leave(0);
  CHILD_CHECK_OK(mx_channel_write(a, 0, "64", 2, fds64.data(), 64));
  CHILD_CHECK_EQ(squeeze.Free(), 64u);  // the 64 fds left with the message
  squeeze.Release();
  {
    Message sent;
    CHILD_CHECK_OK(mx_test::ReadMessage(b, &sent));
    CHILD_CHECK_EQ(sent.handles.size(), 64u);
    for (size_t i = 0; i < kept64.size(); ++i) {
      CHILD_CHECK_EQ(mx_test::BasicInfo(sent.handles[i]).koid, kept64[i].koid);
    }
    mx_test::CloseAll(&sent.handles);
  }
  printf(
      "[exhaustion] mx_channel_write with 64 sole fd handles and 0 free fds: sent, 64 fds "
      "freed\n");

  // More than 253 fds in one message (the overflow socket pair): an endpoint whose queue holds
  // 5 messages of 60 fd handles.
  mx_handle_t q, q_peer;
  CHILD_CHECK_OK(mx_channel_create(0, &q, &q_peer));
  for (int m = 0; m < 5; ++m) {
    std::vector<mx_handle_t> batch;
    for (int i = 0; i < 60; ++i) {
      int p[2];
      CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
      close(p[1]);
      mx_handle_t h;
      CHILD_CHECK_OK(mx_fd_wrap(p[0], &h));
      batch.push_back(h);
    }
    CHILD_CHECK_OK(mx_test::WriteMessage(q_peer, "batch", 5, batch));
  }
  // Pull them into q's local queue: a call takes in everything already sent, with its fds,
  // before it sends its request (a wait installs no fds; a read would take one message).
  {
    uint32_t request = 0xfeed, reply = 0, nb = 0, nh = 0;
    mx_channel_call_args_t call = {&request,        nullptr, &reply,        nullptr,
                                   sizeof(request), 0,       sizeof(reply), 0};
    mx_status_t rs = MX_OK;
    CHILD_CHECK_EQ(mx_channel_call(q, 0, 0, &call, &nb, &nh, &rs), MX_ERR_TIMED_OUT);
  }
  const Kept kept_q = Keep(q);
  const size_t needed = SweepFds(
      squeeze, "mx_channel_write of an endpoint carrying 300 fds (overflow socket)", 400,
      [&] { return mx_channel_write(a, 0, "q", 1, &q, 1); },
      [&] {
        CHILD_CHECK(StillThere(kept_q));
        uint32_t nb = 0, nh = 0;
        char buf[4];
        CHILD_CHECK_EQ(mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh),
                       MX_ERR_SHOULD_WAIT);
      },
      [] {}, /*undo_frees_all=*/false);
  CHILD_CHECK(needed > 253);
  CHILD_CHECK_OK(mx_test::ReadMessage(b, &msg));
  CHILD_CHECK_EQ(msg.handles.size(), 1u);
  CHILD_CHECK_EQ(mx_test::KoidOf(msg.handles[0]), kept_q.koid);
  for (int m = 0; m < 5; ++m) {
    Message batch;
    CHILD_CHECK_OK(mx_test::ReadMessage(msg.handles[0], &batch));
    CHILD_CHECK_EQ(batch.handles.size(), 60u);
    mx_test::CloseAll(&batch.handles);
  }
  mx_test::CloseAll(&msg.handles);
  mx_handle_close(q_peer);
  for (mx_handle_t h : {a, b, peer_ep, peer_side, peer_sock}) mx_handle_close(h);
  return 0;
}

// mx_channel_read of a message whose handles need new fds to be installed (an event opens a file
// description; objects that need new resources are rebuilt from duplicates): out of fds →
// NO_RESOURCES, and the message stays first in the queue until fds are freed.
// args[0] == "remote": the message comes from the parent (PA_USER0), with the koids in its bytes.
MX_CHILD(exhaust_read) {
  WarmUpEveryType();
  const bool remote = !args.empty() && args[0] == "remote";
  const int fds_at_start = mx_test::CountOpenFds();
  mx_handle_t a = MX_HANDLE_INVALID, b;
  if (remote) {
    b = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  } else {
    CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
    std::vector<mx_handle_t> handles(4);
    CHILD_CHECK_OK(mx_event_create(0, &handles[0]));
    mx_handle_t side1;
    CHILD_CHECK_OK(mx_eventpair_create(0, &handles[1], &side1));
    mx_handle_close(side1);
    CHILD_CHECK_OK(mx_vmo_create(4096, 0, &handles[2]));
    mx_handle_t ep_peer;
    CHILD_CHECK_OK(mx_channel_create(0, &handles[3], &ep_peer));
    CHILD_CHECK_OK(mx_test::WriteMessage(ep_peer, "inside", 6));
    mx_handle_close(ep_peer);
    CHILD_CHECK_OK(mx_test::WriteMessage(a, "local", 5, handles));
  }
  // The message is pulled off the socket into the local queue before fds run out (receiving
  // a message needs one fd per fd it carries: see MessageArrivingWhileOutOfFds below).
  CHILD_CHECK_OK(mx_object_wait_one(b, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr));

  {
    FdSqueeze squeeze;
    std::vector<uint8_t> bytes(256);
    std::vector<mx_handle_t> got(8, kUntouched);
    uint32_t nb = 0, nh = 0;
    // The message's shape, without taking it (buffer too small: it stays first).
    CHILD_CHECK_EQ(mx_channel_read(b, 0, nullptr, nullptr, 0, 0, &nb, &nh),
                   MX_ERR_BUFFER_TOO_SMALL);
    const uint32_t expected_bytes = nb, expected_handles = nh;
    CHILD_CHECK_EQ(expected_handles, 4u);
    auto still_first = [&] {
      for (mx_handle_t h : got) CHILD_CHECK(h == kUntouched);
      uint32_t nb2 = 0, nh2 = 0;
      CHILD_CHECK_EQ(mx_channel_read(b, 0, nullptr, nullptr, 0, 0, &nb2, &nh2),
                     MX_ERR_BUFFER_TOO_SMALL);
      CHILD_CHECK_EQ(nb2, expected_bytes);
      CHILD_CHECK_EQ(nh2, expected_handles);
      CHILD_CHECK(mx_test::PendingSignals(b) & MX_CHANNEL_READABLE);
    };
    SweepFds(
        squeeze,
        std::string("mx_channel_read of a message with an event, an eventpair side, a vmo and "
                    "an endpoint") +
            (remote ? ", sent by another process" : ""),
        64,
        [&] {
          return mx_channel_read(b, 0, bytes.data(), got.data(),
                                 static_cast<uint32_t>(bytes.size()),
                                 static_cast<uint32_t>(got.size()), &nb, &nh);
        },
        still_first,
        [&] {
          CHILD_CHECK_EQ(nb, expected_bytes);
          CHILD_CHECK_EQ(nh, expected_handles);
          const char* expected = remote ? "remote" : "local";
          CHILD_CHECK(std::string(bytes.begin(), bytes.begin() + nb) == expected);
          for (uint32_t i = 0; i < nh; ++i) CHILD_CHECK(mx_test::IsValidHandle(got[i]));
          Message inside;
          CHILD_CHECK_OK(mx_test::ReadMessage(got[3], &inside));
          for (uint32_t i = 0; i < nh; ++i) mx_handle_close(got[i]);
        },
        /*undo_frees_all=*/false);  // the message's own fds are gone with it
  }
  mx_handle_close(a);
  mx_handle_close(b);
  // Nothing leaked: what is left is what this process started with (minus b if it came from
  // the parent).
  CHILD_CHECK_EQ(mx_test::CountOpenFds(), fds_at_start - (remote ? 1 : 0));
  return 0;
}

// Same as exhaust_read but every handle is checked after the successful read: the values are
// new, the koids are the sender's, the endpoint still holds its queued message.
MX_CHILD(exhaust_read_check) {
  WarmUpEveryType();
  mx_handle_t a, b;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  std::vector<mx_handle_t> handles(2);
  CHILD_CHECK_OK(mx_event_create(0, &handles[0]));
  mx_handle_t ep_peer;
  CHILD_CHECK_OK(mx_channel_create(0, &handles[1], &ep_peer));
  CHILD_CHECK_OK(mx_test::WriteMessage(ep_peer, "inside", 6));
  const mx_koid_t event_koid = mx_test::KoidOf(handles[0]);
  const mx_koid_t ep_koid = mx_test::KoidOf(handles[1]);
  CHILD_CHECK_OK(mx_object_signal(handles[0], 0, MX_USER_SIGNAL_2));
  CHILD_CHECK_OK(mx_test::WriteMessage(a, "two", 3, handles));
  CHILD_CHECK_OK(mx_object_wait_one(b, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr));
  FdSqueeze squeeze;
  squeeze.Leave(0);
  char buf[8];
  mx_handle_t got[2] = {kUntouched, kUntouched};
  uint32_t nb = 0, nh = 0;
  CHILD_CHECK(IsResourceError(mx_channel_read(b, 0, buf, got, sizeof(buf), 2, &nb, &nh)));
  CHILD_CHECK(got[0] == kUntouched && got[1] == kUntouched);
  CHILD_CHECK_EQ(squeeze.Free(), 0u);
  squeeze.Release();  // recovery
  CHILD_CHECK_OK(mx_channel_read(b, 0, buf, got, sizeof(buf), 2, &nb, &nh));
  CHILD_CHECK_EQ(nb, 3u);
  CHILD_CHECK_EQ(nh, 2u);
  CHILD_CHECK_EQ(mx_test::KoidOf(got[0]), event_koid);
  CHILD_CHECK_EQ(mx_test::KoidOf(got[1]), ep_koid);
  CHILD_CHECK(mx_test::PendingSignals(got[0]) & MX_USER_SIGNAL_2);  // the same event
  Message inside;
  CHILD_CHECK_OK(mx_test::ReadMessage(got[1], &inside));
  CHILD_CHECK(std::string(inside.bytes.begin(), inside.bytes.end()) == "inside");
  // The endpoint is the peer of ep_peer: a message written now arrives.
  CHILD_CHECK_OK(mx_test::WriteMessage(ep_peer, "later", 5));
  CHILD_CHECK_OK(mx_test::ReadMessage(got[1], &inside));
  for (mx_handle_t h : {a, b, ep_peer, got[0], got[1]}) mx_handle_close(h);
  printf(
      "[exhaustion] mx_channel_read of an event and an endpoint with 0 free fds: "
      "NO_RESOURCES, message kept; after freeing fds the same read returns both objects\n");
  return 0;
}

// Messages still on the socket when fds have run out: receiving one needs one fd per fd it
// carries, and the kernel drops what it cannot install (MSG_CTRUNC). args[0] says what arrives:
// "handles", a message with 3 fd handles; "plain", 40 handle-free messages on a fresh channel,
// whose sender sets up the channel's shared-memory ring along the way (its memfd arrives on the
// socket). What happens today is printed; the guarantees checked are the ones that hold: no
// crash, no fd leaked, messages whole and in order, an error rather than a silent loss — see
// docs/channels.md ("Known limits").
constexpr int kPlainMessages = 40;

MX_CHILD(exhaust_receive) {
  CHILD_CHECK_EQ(args.size(), 1u);
  WarmUpEveryType();
  mx_handle_t b = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  FdSqueeze squeeze;
  squeeze.Leave(0);
  // Tell the parent to send now. (A handle-free write needs no new fd: a channel that cannot
  // set up its ring keeps to its socket.)
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "go", 2));
  CHILD_CHECK_OK(mx_object_wait_one(b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                    mx_test::DefaultDeadline(), nullptr));
  if (args[0] == "plain") {
    // Read everything that can be read while no fd is free, then with fds back.
    std::vector<std::string> received;
    mx_status_t ends[2] = {MX_OK, MX_OK};
    for (int pass = 0; pass < 2; ++pass) {
      for (;;) {
        char buf[16];
        uint32_t nb = 0, nh = 0;
        mx_status_t st = mx_channel_read(b, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh);
        if (st == MX_ERR_SHOULD_WAIT && received.size() < kPlainMessages) {
          // More is on its way: wait for it.
          st = mx_object_wait_one(b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                  mx_test::DefaultDeadline(), nullptr);
          if (st == MX_OK) continue;
        }
        if (st != MX_OK) {
          ends[pass] = st;
          break;
        }
        received.emplace_back(buf, nb);
      }
      if (pass == 0) {
        CHILD_CHECK_EQ(squeeze.Free(), 0u);
        squeeze.Release();
      }
    }
    for (size_t i = 0; i < received.size(); ++i) {
      CHILD_CHECK(received[i] == mx_test::Numbered("m", i));  // whole and in order
    }
    CHILD_CHECK(received.size() == kPlainMessages || ends[1] == MX_ERR_PEER_CLOSED);
    printf(
        "[exhaustion] %d handle-free messages arriving on a fresh channel while 0 fds are "
        "free: %zu read (in order), then %s; with fds back: %s\n",
        kPlainMessages, received.size(), mx_test::StatusName(ends[0]),
        mx_test::StatusName(ends[1]));
  } else {
    char buf[16];
    mx_handle_t got[4] = {kUntouched, kUntouched, kUntouched, kUntouched};
    uint32_t nb = 0, nh = 0;
    mx_status_t st = mx_channel_read(b, 0, buf, got, sizeof(buf), 4, &nb, &nh);
    CHILD_CHECK(st != MX_OK);
    CHILD_CHECK(IsResourceError(st) || st == MX_ERR_PEER_CLOSED);
    CHILD_CHECK_EQ(squeeze.Free(), 0u);
    squeeze.Release();
    mx_status_t after = mx_channel_read(b, 0, buf, got, sizeof(buf), 4, &nb, &nh);
    printf(
        "[exhaustion] a message with 3 fds arriving while 0 fds are free: first read %s, "
        "after freeing fds %s (%s)\n",
        mx_test::StatusName(st), mx_test::StatusName(after),
        after == MX_OK ? "the message was kept"
                       : "the message was lost: the kernel dropped its fds and the "
                         "channel broke");
    if (after == MX_OK) {
      for (uint32_t i = 0; i < nh; ++i) mx_handle_close(got[i]);
    }
  }
  mx_handle_close(b);
  mx_handle_close(ctl);
  return 0;
}

// mx_handle_duplicate of an event (a new handle opens its own file description): out of fds →
// NO_RESOURCES, the original untouched. Fd and vmo handles share their object: no fd needed.
MX_CHILD(exhaust_duplicate) {
  WarmUpEveryType();
  mx_handle_t event, side0, side1, vmo;
  CHILD_CHECK_OK(mx_event_create(0, &event));
  CHILD_CHECK_OK(mx_eventpair_create(0, &side0, &side1));
  CHILD_CHECK_OK(mx_vmo_create(4096, 0, &vmo));
  FdSqueeze squeeze;
  for (mx_handle_t h : {event, side0, vmo}) {
    const Kept kept = Keep(h);
    mx_handle_t dup = kUntouched;
    const std::string what =
        std::string("mx_handle_duplicate of ") + (h == event   ? "an event"
                                                  : h == side0 ? "an eventpair side"
                                                               : "a vmo");
    SweepFds(
        squeeze, what.c_str(), 8,
        [&] { return mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &dup); },
        [&] {
          CHILD_CHECK(dup == kUntouched);
          CHILD_CHECK(StillThere(kept));
        },
        [&] {
          CHILD_CHECK_EQ(mx_test::KoidOf(dup), kept.koid);
          mx_handle_close(dup);
          dup = kUntouched;
        });
  }
  for (mx_handle_t h : {event, side0, side1, vmo}) mx_handle_close(h);
  return 0;
}

// mx_spawn out of fds: NO_RESOURCES, the startup handle stays with the caller; once it works,
// the child really has it (it echoes one message back).
MX_CHILD(exhaust_echo_once) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
  CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size()));
  mx_handle_close(ch);
  return 0;
}

MX_CHILD(exhaust_spawn) {
  WarmUpEveryType();
  mx_handle_t a, b;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  const Kept kept = Keep(b);
  mx_handle_t process = kUntouched;
  FdSqueeze squeeze;
  SweepFds(
      squeeze, "mx_spawn with a channel endpoint", 16,
      [&] {
        return mx_test::SpawnChild("exhaust_echo_once", {{PA_HND(PA_USER0, 0), b}}, {}, &process);
      },
      [&] {
        CHILD_CHECK(process == kUntouched);
        CHILD_CHECK(StillThere(kept));
      },
      [&] { CHILD_CHECK(!mx_test::IsValidHandle(b)); },  // the child has b now
      /*undo_frees_all=*/false);
  // The child got b: it echoes.
  CHILD_CHECK_OK(mx_test::WriteMessage(a, "echo", 4));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(a, &msg));
  CHILD_CHECK(std::string(msg.bytes.begin(), msg.bytes.end()) == "echo");
  int code = -1;
  CHILD_CHECK_OK(mx_test::WaitForExit(process, mx_test::DefaultDeadline(), &code));
  CHILD_CHECK_EQ(code, 0);
  mx_handle_close(process);
  mx_handle_close(a);
  return 0;
}

class ExhaustionTest : public mx_test::MultiprocessTest {
 protected:
  void RunChild(const char* name, std::vector<mx_spawn_handle_t> handles = {},
                std::vector<std::string> args = {}) {
    mx_handle_t process;
    ASSERT_EQ(mx_test::SpawnChild(name, handles, args, &process), MX_OK);
    mx_test::ScopedProcess child(process);
    EXPECT_EQ(child.Join(), 0) << "see the child's stderr above";
  }
};

TEST_F(ExhaustionTest, CreatesOutOfFdsFailWithNoResourcesLeakNothingAndRecover) {
  RunChild("exhaust_creates");
}

TEST_F(ExhaustionTest, WriteOutOfFdsKeepsEveryHandleSendsNothingAndRecovers) {
  RunChild("exhaust_write");
}

TEST_F(ExhaustionTest, ReadOutOfFdsKeepsTheMessageFirstUntilFdsAreFreed) {
  RunChild("exhaust_read");
}

TEST_F(ExhaustionTest, ReadOutOfFdsThenRecoveryReturnsTheSameObjects) {
  RunChild("exhaust_read_check");
}

TEST_F(ExhaustionTest, ReadOutOfFdsOfAMessageFromAnotherProcessKeepsIt) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  // The message: an event, an eventpair side, a vmo and an endpoint with a queued message.
  std::vector<mx_handle_t> handles(4);
  ASSERT_EQ(mx_event_create(0, &handles[0]), MX_OK);
  mx_handle_t side1, ep_peer;
  ASSERT_EQ(mx_eventpair_create(0, &handles[1], &side1), MX_OK);
  ASSERT_EQ(mx_vmo_create(4096, 0, &handles[2]), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &handles[3], &ep_peer), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(ep_peer, "inside", 6), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(a, "remote", 6, handles), MX_OK);
  RunChild("exhaust_read", {{PA_HND(PA_USER0, 0), b}}, {"remote"});
  for (mx_handle_t h : {a, side1, ep_peer}) mx_handle_close(h);
}

// Starts exhaust_receive (|what|: "handles" or "plain"), waits until the child has no free fd,
// then sends it the message(s).
void SendToSqueezedChild(const char* what) {
  mx_handle_t a, b, ctl, ctl_remote;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("exhaust_receive",
                                {{PA_HND(PA_USER0, 0), b}, {PA_HND(PA_USER1, 0), ctl_remote}},
                                {what}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  Message go;
  ASSERT_EQ(mx_test::ReadMessage(ctl, &go), MX_OK);
  if (std::string(what) == "plain") {
    for (int i = 0; i < kPlainMessages; ++i) {
      const std::string text = mx_test::Numbered("m", i);
      mx_status_t st = mx_test::WriteMessage(a, text.data(), text.size());
      if (st == MX_ERR_PEER_CLOSED) break;  // the child's end broke (see the child)
      ASSERT_EQ(st, MX_OK);
    }
  } else {
    std::vector<mx_handle_t> handles(3);
    for (mx_handle_t& h : handles) {
      int p[2];
      ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
      close(p[1]);
      ASSERT_EQ(mx_fd_wrap(p[0], &h), MX_OK);
    }
    ASSERT_EQ(mx_test::WriteMessage(a, "three", 5, handles), MX_OK);
  }
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(a);
  mx_handle_close(ctl);
}

TEST_F(ExhaustionTest, MessageWithFdsArrivingWhileOutOfFdsIsAnErrorNotACrashOrALeak) {
  SendToSqueezedChild("handles");
}

TEST_F(ExhaustionTest, PlainMessagesArrivingWhileOutOfFdsAreReadInOrderOrAnError) {
  SendToSqueezedChild("plain");
}

TEST_F(ExhaustionTest, DuplicateOutOfFdsKeepsTheOriginal) { RunChild("exhaust_duplicate"); }

TEST_F(ExhaustionTest, SpawnOutOfFdsKeepsTheStartupHandles) { RunChild("exhaust_spawn"); }

// ---- A full handle table
// --------------------------------------------------------------------------

constexpr size_t kTableSlots = size_t{1} << 18;  // HandleTable::kMaxHandles

MX_CHILD(exhaust_table) {
  WarmUpEveryType();
  mx_handle_t a, b, event, vmo, spawn_a, spawn_b;
  CHILD_CHECK_OK(mx_channel_create(0, &a, &b));
  CHILD_CHECK_OK(mx_channel_create(0, &spawn_a, &spawn_b));
  CHILD_CHECK_OK(mx_event_create(0, &event));
  CHILD_CHECK_OK(mx_vmo_create(4096, 0, &vmo));
  // A message with two handles, already in b's local queue.
  mx_handle_t e1, e2;
  CHILD_CHECK_OK(mx_event_create(0, &e1));
  CHILD_CHECK_OK(mx_event_create(0, &e2));
  const mx_koid_t k1 = mx_test::KoidOf(e1), k2 = mx_test::KoidOf(e2);
  mx_handle_t pair[2] = {e1, e2};
  CHILD_CHECK_OK(mx_channel_write(a, 0, "two", 3, pair, 2));
  // A read with no room takes the message, with its fds, into the local queue and leaves it
  // first (a wait installs no fds).
  {
    uint32_t nb = 0, nh = 0;
    CHILD_CHECK_EQ(mx_channel_read(b, 0, nullptr, nullptr, 0, 0, &nb, &nh),
                   MX_ERR_BUFFER_TOO_SMALL);
  }
  const Kept kept_event = Keep(event), kept_spawn_b = Keep(spawn_b);

  // Fill the table with duplicates of the vmo handle (they need no fd).
  std::vector<mx_handle_t> fill;
  fill.reserve(kTableSlots);
  for (;;) {
    mx_handle_t dup;
    mx_status_t st = mx_handle_duplicate(vmo, MX_RIGHT_SAME_RIGHTS, &dup);
    if (st != MX_OK) {
      CHILD_CHECK_EQ(st, MX_ERR_NO_RESOURCES);
      break;
    }
    fill.push_back(dup);
    CHILD_CHECK(fill.size() <= kTableSlots);
  }
  const int fds_full = mx_test::CountOpenFds();

  mx_handle_t x = kUntouched, y = kUntouched;
  CHILD_CHECK_EQ(mx_channel_create(0, &x, &y), MX_ERR_NO_RESOURCES);
  CHILD_CHECK(x == kUntouched && y == kUntouched);
  CHILD_CHECK_EQ(mx_event_create(0, &x), MX_ERR_NO_RESOURCES);
  CHILD_CHECK_EQ(mx_handle_duplicate(event, MX_RIGHT_SAME_RIGHTS, &x), MX_ERR_NO_RESOURCES);
  CHILD_CHECK(x == kUntouched);
  CHILD_CHECK(StillThere(kept_event));
  // The read: no slots for its 2 handles → NO_RESOURCES, the message stays first.
  char buf[8];
  mx_handle_t got[2] = {kUntouched, kUntouched};
  uint32_t nb = 0, nh = 0;
  CHILD_CHECK_EQ(mx_channel_read(b, 0, buf, got, sizeof(buf), 2, &nb, &nh), MX_ERR_NO_RESOURCES);
  CHILD_CHECK(got[0] == kUntouched && got[1] == kUntouched);
  // mx_spawn: the process handle would not fit; the child must not start with spawn_b.
  mx_handle_t process = kUntouched;
  CHILD_CHECK_EQ(
      mx_test::SpawnChild("exhaust_echo_once", {{PA_HND(PA_USER0, 0), spawn_b}}, {}, &process),
      MX_ERR_NO_RESOURCES);
  CHILD_CHECK(process == kUntouched);
  CHILD_CHECK(StillThere(kept_spawn_b));
  CHILD_CHECK_EQ(mx_test::CountOpenFds(), fds_full);  // nothing leaked by the failures

  // One slot free: still not enough for the 2-handle message.
  mx_handle_close(fill.back());
  fill.pop_back();
  CHILD_CHECK_EQ(mx_channel_read(b, 0, buf, got, sizeof(buf), 2, &nb, &nh), MX_ERR_NO_RESOURCES);
  // Two: it works, and brings the same events.
  mx_handle_close(fill.back());
  fill.pop_back();
  CHILD_CHECK_OK(mx_channel_read(b, 0, buf, got, sizeof(buf), 2, &nb, &nh));
  CHILD_CHECK_EQ(nh, 2u);
  CHILD_CHECK_EQ(mx_test::KoidOf(got[0]), k1);
  CHILD_CHECK_EQ(mx_test::KoidOf(got[1]), k2);
  const size_t filled = fill.size() + 2;

  // Recovery: everything works once the table has room.
  for (mx_handle_t h : fill) mx_handle_close(h);
  CHILD_CHECK_OK(
      mx_test::SpawnChild("exhaust_echo_once", {{PA_HND(PA_USER0, 0), spawn_b}}, {}, &process));
  CHILD_CHECK_OK(mx_test::WriteMessage(spawn_a, "echo", 4));
  Message msg;
  CHILD_CHECK_OK(mx_test::ReadMessage(spawn_a, &msg));
  int code = -1;
  CHILD_CHECK_OK(mx_test::WaitForExit(process, mx_test::DefaultDeadline(), &code));
  CHILD_CHECK_EQ(code, 0);
  printf(
      "[exhaustion] handle table full after %zu duplicates: channel_create, event_create, "
      "handle_duplicate, spawn and a 2-handle read return NO_RESOURCES with every handle "
      "kept; the read works once 2 slots are free\n",
      filled);
  for (mx_handle_t h : {a, b, event, vmo, spawn_a, got[0], got[1], process}) mx_handle_close(h);
  return 0;
}

TEST_F(ExhaustionTest, FullHandleTableFailsCleanlyAndRecovers) { RunChild("exhaust_table"); }

// ---- Memory pressure: a channel filled to backpressure, a handle in every message
// ----------------

struct Record {
  uint64_t seq;
  mx_koid_t koid;  // of the event that rides with the message
};

constexpr size_t kFillMessageBytes = 32 * 1024;

// Writes 32 KiB messages, each with a fresh event, to PA_USER0 until SHOULD_WAIT; checks that the
// refused write's event is still ours; reports the count on PA_USER1; once WRITABLE returns,
// writes the refused message (same event) and a last empty one.
MX_CHILD(fill_with_handles) {
  mx_handle_t data = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  std::vector<uint8_t> bytes(kFillMessageBytes);
  uint64_t seq = 0;
  mx_handle_t event;
  Kept kept = {};
  for (;;) {
    CHILD_CHECK_OK(mx_event_create(0, &event));
    kept = Keep(event);
    Record r = {seq, kept.koid};
    memcpy(bytes.data(), &r, sizeof(r));
    for (size_t i = sizeof(r); i < bytes.size(); ++i) bytes[i] = mx_test::PatternByte(seq, i);
    mx_status_t st =
        mx_channel_write(data, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), &event, 1);
    if (st == MX_ERR_SHOULD_WAIT) break;
    CHILD_CHECK_OK(st);
    ++seq;
    CHILD_CHECK(seq < 100000);
  }
  CHILD_CHECK(StillThere(kept));  // the refused write kept its event
  CHILD_CHECK(!(mx_test::PendingSignals(data) & MX_CHANNEL_WRITABLE));
  CHILD_CHECK_OK(mx_test::WritePod(ctl, seq));
  // Wait for room, then send the refused message (same bytes, same event).
  for (;;) {
    mx_signals_t observed = 0;
    CHILD_CHECK_OK(mx_object_wait_one(data, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                      mx_test::DefaultDeadline(), &observed));
    CHILD_CHECK(!(observed & MX_CHANNEL_PEER_CLOSED));
    mx_status_t st =
        mx_channel_write(data, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), &event, 1);
    if (st == MX_OK) break;
    CHILD_CHECK_EQ(st, MX_ERR_SHOULD_WAIT);
  }
  CHILD_CHECK(!mx_test::IsValidHandle(event));
  Message done;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &done));  // the parent has read everything
  mx_handle_close(data);
  mx_handle_close(ctl);
  return 0;
}

TEST_F(ExhaustionTest, ChannelFilledToBackpressureWithHandlesKeepsThemAndDeliversAllInOrder) {
  mx_handle_t data, data_remote, ctl, ctl_remote, process;
  ASSERT_EQ(mx_channel_create(0, &data, &data_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("fill_with_handles",
                          {{PA_HND(PA_USER0, 0), data_remote}, {PA_HND(PA_USER1, 0), ctl_remote}},
                          {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  uint64_t accepted = 0;
  ASSERT_EQ(mx_test::ReadPod(ctl, &accepted), MX_OK);
  EXPECT_GE(accepted * kFillMessageBytes, size_t{4} << 20) << "less than 4 MiB buffered";
  // Everything, in order, each with its own event; then the refused message.
  for (uint64_t seq = 0; seq <= accepted; ++seq) {
    Message msg;
    ASSERT_EQ(mx_test::ReadMessage(data, &msg), MX_OK) << "message " << seq;
    ASSERT_EQ(msg.bytes.size(), kFillMessageBytes);
    Record r;
    memcpy(&r, msg.bytes.data(), sizeof(r));
    ASSERT_EQ(r.seq, seq);
    ASSERT_EQ(msg.handles.size(), 1u);
    EXPECT_EQ(mx_test::KoidOf(msg.handles[0]), r.koid);
    bool pattern_ok = true;
    for (size_t i = sizeof(r); i < msg.bytes.size() && pattern_ok; ++i) {
      pattern_ok = msg.bytes[i] == mx_test::PatternByte(seq, i);
    }
    EXPECT_TRUE(pattern_ok) << "message " << seq << " corrupted";
    mx_test::CloseAll(&msg.handles);
  }
  ASSERT_EQ(mx_test::WriteMessage(ctl, "done", 4), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  printf(
      "[exhaustion] backpressure with a handle in every message: SHOULD_WAIT after %llu "
      "messages of 32 KiB (%.1f MiB); the refused write kept its event; all %llu arrived in "
      "order with their events\n",
      static_cast<unsigned long long>(accepted),
      static_cast<double>(accepted * kFillMessageBytes) / (1 << 20),
      static_cast<unsigned long long>(accepted + 1));
  mx_handle_close(data);
  mx_handle_close(ctl);
}

// ---- Address space (RLIMIT_AS)
// --------------------------------------------------------------------

size_t VmSizeBytes() {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kib = 0;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (sscanf(line, "VmSize: %zu kB", &kib) == 1) break;
  }
  fclose(f);
  return kib * 1024;
}

// An endpoint whose local queue holds 3 MiB arrives in a message. Installing it reads the queue
// into memory and maps its message ring; with the address space capped just above what the process
// uses, the read fails with NO_MEMORY and keeps the message; with the cap lifted it succeeds.
MX_CHILD(exhaust_address_space) {
  WarmUpEveryType();
  mx_handle_t p, q;
  CHILD_CHECK_OK(mx_channel_create(0, &p, &q));
  std::vector<uint8_t> bytes(60 * 1024);
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    memcpy(bytes.data(), &i, sizeof(i));
    CHILD_CHECK_OK(
        mx_channel_write(p, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), nullptr, 0));
  }
  // A call pulls everything already sent into q's local queue before it sends its request;
  // with a deadline in the past it then gives up at once.
  uint32_t request = 0xfeed, reply = 0, nb = 0, nh = 0;
  mx_channel_call_args_t call = {&request,        nullptr, &reply,        nullptr,
                                 sizeof(request), 0,       sizeof(reply), 0};
  mx_status_t rs = MX_OK;
  CHILD_CHECK_EQ(mx_channel_call(q, 0, 0, &call, &nb, &nh, &rs), MX_ERR_TIMED_OUT);
  mx_handle_t x, y;
  CHILD_CHECK_OK(mx_channel_create(0, &x, &y));
  const mx_koid_t q_koid = mx_test::KoidOf(q);
  CHILD_CHECK_OK(mx_test::WriteMessage(x, "q", 1, {q}));
  CHILD_CHECK_OK(mx_object_wait_one(y, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr));

  struct rlimit saved;
  CHILD_CHECK(getrlimit(RLIMIT_AS, &saved) == 0);
  struct rlimit low = saved;
  low.rlim_cur = VmSizeBytes() + (1 << 20);
  char buf[4];
  mx_handle_t got = kUntouched;
  CHILD_CHECK(setrlimit(RLIMIT_AS, &low) == 0);
  mx_status_t st = mx_channel_read(y, 0, buf, &got, sizeof(buf), 1, &nb, &nh);
  setrlimit(RLIMIT_AS, &saved);
  CHILD_CHECK_EQ(st, MX_ERR_NO_MEMORY);
  CHILD_CHECK(got == kUntouched);
  CHILD_CHECK_OK(mx_channel_read(y, 0, buf, &got, sizeof(buf), 1, &nb, &nh));
  CHILD_CHECK_EQ(mx_test::KoidOf(got), q_koid);
  for (int i = 0; i < kMessages; ++i) {
    Message msg;
    CHILD_CHECK_OK(mx_test::ReadMessage(got, &msg));
    int seq;
    memcpy(&seq, msg.bytes.data(), sizeof(seq));
    CHILD_CHECK_EQ(seq, i);
  }
  printf(
      "[exhaustion] RLIMIT_AS 1 MiB above use: reading an endpoint that carries a 3 MiB "
      "queue returns NO_MEMORY and keeps the message; with the limit lifted the same read "
      "works and all %d queued messages follow in order\n",
      kMessages);
  for (mx_handle_t h : {p, got, x, y}) mx_handle_close(h);
  return 0;
}

TEST_F(ExhaustionTest, AddressSpaceLimitFailsReadWithNoMemoryAndKeepsTheMessage) {
  if (MX_TEST_SANITIZED) {
    GTEST_SKIP() << "RLIMIT_AS cannot be lowered under AddressSanitizer or ThreadSanitizer: "
                    "their shadow memory reserves terabytes of address space";
  }
  RunChild("exhaust_address_space");
}

}  // namespace
