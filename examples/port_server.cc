// SPDX-License-Identifier: BSD-3-Clause
// port_server: one thread serves many client processes through one port, driven by an
// ordinary epoll loop (the port's fd from mx_port_get_fd sits next to a timerfd).
//
// The parent spawns 8 clients (this program with --client), each with its own channel, and
// arms a REPEATING wait for READABLE|PEER_CLOSED on every channel. Each client makes 500
// mx_channel_call requests and exits; the server answers each request (the number doubled) and
// stops when every client has gone. A timerfd prints progress once a second, to show the port
// living in somebody else's event loop.
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int kClients = 8;
constexpr int kCallsPerClient = 500;

struct Request {
  uint32_t txid;
  uint32_t value;
};

int Client() {
  mx_handle_t ch = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  for (uint32_t i = 0; i < kCallsPerClient; ++i) {
    Request req = {0x1000u + i, i}, reply = {};
    mx_channel_call_args_t args = {&req,        nullptr, &reply,        nullptr,
                                   sizeof(req), 0,       sizeof(reply), 0};
    uint32_t nb = 0, nh = 0;
    mx_status_t rs = MX_OK;
    if (mx_channel_call(ch, 0, mx_deadline_after(MX_SEC(30)), &args, &nb, &nh, &rs) != MX_OK ||
        reply.txid != req.txid || reply.value != 2 * i) {
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--client") == 0) return Client();
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';

  mx_handle_t port;
  if (mx_port_create(0, &port) != MX_OK) return 1;
  std::vector<mx_handle_t> channels(kClients), processes(kClients);
  for (int i = 0; i < kClients; ++i) {
    mx_handle_t remote;
    if (mx_channel_create(0, &channels[i], &remote) != MX_OK) return 1;
    const char* args[] = {self, "--client", nullptr};
    mx_spawn_handle_t startup = {PA_HND(PA_USER0, 0), remote};
    if (mx_spawn(self, args, nullptr, &startup, 1, &processes[i]) != MX_OK) return 1;
    if (mx_object_wait_async(channels[i], port, static_cast<uint64_t>(i),
                             MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                             MX_WAIT_ASYNC_REPEATING) != MX_OK) {
      return 1;
    }
  }

  // An ordinary epoll loop: the port's fd and a one-second timer.
  int port_fd = -1;
  if (mx_port_get_fd(port, &port_fd) != MX_OK) return 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct itimerspec second = {{1, 0}, {1, 0}};
  timerfd_settime(timer, 0, &second, nullptr);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = port_fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, port_fd, &ev);
  ev.data.fd = timer;
  epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);

  mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  int alive = kClients;
  uint64_t served = 0;
  std::vector<bool> gone(kClients, false);
  while (alive > 0) {
    struct epoll_event ready[2];
    int n = epoll_wait(ep, ready, 2, 30000);
    if (n <= 0) {
      fprintf(stderr, "no progress for 30 s\n");
      return 1;
    }
    for (int r = 0; r < n; ++r) {
      if (ready[r].data.fd == timer) {
        uint64_t ticks;
        if (read(timer, &ticks, sizeof(ticks)) > 0) {
          printf("  ... %llu requests served\n", static_cast<unsigned long long>(served));
        }
        continue;
      }
      // The port may hold several packets; take them all without blocking.
      mx_port_packet_t p;
      while (mx_port_wait(port, 0, &p, 0) == MX_OK) {
        size_t i = static_cast<size_t>(p.key);
        if (i >= channels.size() || gone[i]) continue;
        Request req;
        uint32_t nb = 0;
        while (mx_channel_read(channels[i], 0, &req, nullptr, sizeof(req), 0, &nb, nullptr) ==
               MX_OK) {
          req.value *= 2;
          if (mx_channel_write(channels[i], 0, &req, sizeof(req), nullptr, 0) == MX_OK) ++served;
        }
        if (p.signal.observed & MX_CHANNEL_PEER_CLOSED) {
          gone[i] = true;
          --alive;
          mx_handle_close(channels[i]);
        }
      }
    }
  }
  double secs = static_cast<double>(mx_time_get(MX_CLOCK_MONOTONIC) - start) / 1e9;
  int failures = 0;
  for (mx_handle_t process : processes) {
    mx_info_process_t info = {};
    mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(30)), nullptr);
    mx_object_get_info(process, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr);
    if (!info.exited || info.return_code != 0) ++failures;
    mx_handle_close(process);
  }
  printf("one thread, one port, %d clients: %llu requests in %.2f s (%.0f requests/s), %s\n",
         kClients, static_cast<unsigned long long>(served), secs,
         static_cast<double>(served) / secs, failures == 0 ? "every client OK" : "CLIENT FAILED");
  close(timer);
  close(ep);
  mx_handle_close(port);
  return failures == 0 && served == static_cast<uint64_t>(kClients) * kCallsPerClient ? 0 : 1;
}
