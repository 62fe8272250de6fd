// SPDX-License-Identifier: BSD-3-Clause
// The fds each kind of object holds in a process, counted in /proc/self/fd: the numbers
// docs/resources.md gives. kCosts below and that page's table change together; a failure prints
// the measured table in the page's format.
#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/process.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::CountOpenFds;

struct Cost {
  const char* what;  // the row of docs/resources.md's table
  int fds;           // fds the row adds to the process
};

// What each row adds, as docs/resources.md says.
constexpr Cost kCosts[] = {
    {"channel endpoint, idle", 1},
    {"channel endpoint, busy", 2},
    {"event, first handle", 2},
    {"event, each further handle", 1},
    {"eventpair, each side's first handle", 4},
    {"eventpair, each further handle", 1},
    {"port", 2},
    {"port, each further handle", 0},
    {"port, each async wait", 0},
    {"socket endpoint", 1},
    {"socket, each further handle", 0},
    {"VMO", 1},
    {"VMO, each further handle or mapping", 0},
    {"fd handle", 0},
    {"fd handle, each further handle", 0},
    {"process handle (mx_process_self)", 1},
    {"process, each further handle", 0},
    {"service listener", 1},
    {"a thread's first blocking wait", 1},
};

// Fds |body| leaves open (the objects it made are still alive).
int Added(const std::function<void()>& body) {
  const int before = CountOpenFds();
  body();
  return CountOpenFds() - before;
}

void Close(std::vector<mx_handle_t>* handles) {
  for (mx_handle_t h : *handles) mx_handle_close(h);
  handles->clear();
}

// Sends |count| handle-free messages from |from| to |to| and reads them.
void Exchange(mx_handle_t from, mx_handle_t to, int count) {
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(mx_channel_write(from, 0, &i, sizeof(i), nullptr, 0), MX_OK);
  }
  for (int i = 0; i < count; ++i) {
    int got = -1;
    uint32_t nb = 0, nh = 0;
    ASSERT_EQ(mx_channel_read(to, 0, &got, nullptr, sizeof(got), 0, &nb, &nh), MX_OK);
    ASSERT_EQ(got, i);
  }
}

// Measures every row of kCosts, in order.
std::vector<int> Measure() {
  std::vector<int> got;
  std::vector<mx_handle_t> h(4, MX_HANDLE_INVALID);
  const auto pair = [&](auto create) { return Added([&] { create(&h[0], &h[1]); }); };

  got.push_back(pair([](mx_handle_t* a, mx_handle_t* b) { mx_channel_create(0, a, b); }) / 2);
  Close(&h);
  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(pair([](mx_handle_t* a, mx_handle_t* b) {
                  mx_channel_create(0, a, b);
                  // Past the messages that go by the socket alone, each way: both rings exist.
                  Exchange(*a, *b, 12);
                  Exchange(*b, *a, 12);
                }) /
                2);
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(Added([&] { mx_event_create(0, &h[0]); }));
  got.push_back(Added([&] { mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[1]); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(pair([](mx_handle_t* a, mx_handle_t* b) { mx_eventpair_create(0, a, b); }) / 2);
  got.push_back(Added([&] { mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[2]); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(Added([&] { mx_port_create(0, &h[0]); }));
  got.push_back(Added([&] { mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[2]); }));
  mx_event_create(0, &h[1]);
  got.push_back(Added([&] { mx_object_wait_async(h[1], h[0], 1, MX_EVENT_SIGNALED, 0); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(pair([](mx_handle_t* a, mx_handle_t* b) { mx_socket_create(0, a, b); }) / 2);
  got.push_back(Added([&] { mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[2]); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(Added([&] { mx_vmo_create(4096, 0, &h[0]); }));
  uintptr_t addr = 0;
  got.push_back(Added([&] {
    mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[1]);
    mx_vmar_map(mx_vmar_root_self(), 0, h[0], 0, 4096, MX_VM_FLAG_PERM_READ, &addr);
  }));
  mx_vmar_unmap(mx_vmar_root_self(), addr, 4096);
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  close(fds[1]);
  got.push_back(Added([&] { mx_fd_wrap(fds[0], &h[0]); }));
  got.push_back(Added([&] { mx_handle_duplicate(h[0], MX_RIGHT_SAME_RIGHTS, &h[1]); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  got.push_back(Added([] { mx_process_self(); }));
  got.push_back(
      Added([&] { mx_handle_duplicate(mx_process_self(), MX_RIGHT_SAME_RIGHTS, &h[0]); }));
  Close(&h);

  h.assign(4, MX_HANDLE_INVALID);
  char path[] = "/tmp/mx-fd-cost-XXXXXX";
  EXPECT_NE(mkdtemp(path), nullptr);
  const std::string socket_path = std::string(path) + "/listener";
  got.push_back(Added([&] { mx_service_listen(socket_path.c_str(), 0, &h[0]); }));
  Close(&h);
  unlink(socket_path.c_str());
  rmdir(path);

  h.assign(4, MX_HANDLE_INVALID);
  mx_event_create(0, &h[0]);
  int waker = -1;
  std::thread([&] {
    waker = Added([&] {
      mx_object_wait_one(h[0], MX_EVENT_SIGNALED, mx_deadline_after(MX_MSEC(1)), nullptr);
    });
  }).join();
  got.push_back(waker);
  Close(&h);
  return got;
}

TEST(FdCostTest, EachObjectHoldsTheFdsTheResourcesPageSays) {
  const std::vector<int> got = Measure();
  ASSERT_EQ(got.size(), std::size(kCosts));
  std::string table = "| object | fds |\n|---|---:|\n";
  for (size_t i = 0; i < got.size(); ++i) {
    table += "| ";
    table += kCosts[i].what;
    table += " | ";
    table += std::to_string(got[i]);
    table += " |\n";
  }
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], kCosts[i].fds) << kCosts[i].what << "\nmeasured:\n" << table;
  }
}

}  // namespace
