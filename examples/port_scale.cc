// SPDX-License-Identifier: BSD-3-Clause
// port_scale: the cost of one port wake-up when 10, 1,000 or 10,000 idle channels are watched.
//
// For each N, a child process holds the far ends of N idle channels plus one "hot" channel,
// and echoes every ping on the hot channel. The parent arms a REPEATING READABLE wait on all
// N + 1 channels on one port and times ping → mx_port_wait → read. If a wake-up cost grew with
// the number of idle registrations, the round trip would grow with N.
//
//   mx_port_scale [rounds]        (default 2000 round trips per N)
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr uint32_t kBatch = 64;

mx_time_t Deadline() { return mx_deadline_after(MX_SEC(30)); }

bool Read(mx_handle_t ch, void* buf, uint32_t size, uint32_t* n, mx_handle_t* handles,
          uint32_t* nh) {
  if (mx_object_wait_one(ch, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, Deadline(), nullptr) !=
      MX_OK) {
    return false;
  }
  return mx_channel_read(ch, 0, buf, handles, size, handles ? kBatch : 0, n, nh) == MX_OK;
}

int Child() {
  mx_handle_t ctl = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  mx_handle_t hot = mx_get_startup_handle(PA_HND(PA_USER1, 0));
  std::vector<mx_handle_t> idle;
  for (;;) {  // receive idle ends until "go"
    char buf[8];
    mx_handle_t hs[kBatch];
    uint32_t n = 0, nh = 0;
    if (!Read(ctl, buf, sizeof(buf), &n, hs, &nh)) return 1;
    idle.insert(idle.end(), hs, hs + nh);
    if (n == 2 && memcmp(buf, "go", 2) == 0) break;
  }
  for (;;) {  // echo pings until the hot channel closes
    uint64_t v;
    uint32_t n = 0;
    if (!Read(hot, &v, sizeof(v), &n, nullptr, nullptr)) break;
    if (mx_channel_write(hot, 0, &v, sizeof(v), nullptr, 0) != MX_OK) break;
  }
  for (mx_handle_t h : idle) mx_handle_close(h);
  return 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Reports which step failed.
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "port_scale: %s failed (line %d)\n", #cond, __LINE__); \
      return false;                                                          \
    }                                                                        \
  } while (0)

bool Measure(const char* self, size_t n, int rounds, double* median_us, double* p99_us) {
  mx_handle_t ctl, child_ctl, hot, child_hot, port, process;
  CHECK(mx_channel_create(0, &ctl, &child_ctl) == MX_OK);
  CHECK(mx_channel_create(0, &hot, &child_hot) == MX_OK);
  CHECK(mx_port_create(0, &port) == MX_OK);
  const char* argv[] = {self, "--child", nullptr};
  mx_spawn_handle_t startup[] = {{PA_HND(PA_USER0, 0), child_ctl},
                                 {PA_HND(PA_USER1, 0), child_hot}};
  CHECK(mx_spawn(self, argv, nullptr, startup, 2, &process) == MX_OK);
  std::vector<mx_handle_t> idle;
  while (idle.size() < n) {
    mx_handle_t remotes[kBatch];
    uint32_t k = 0;
    for (; k < kBatch && idle.size() < n; ++k) {
      mx_handle_t a;
      CHECK(mx_channel_create(0, &a, &remotes[k]) == MX_OK);
      if (mx_object_wait_async(a, port, 1000 + idle.size(), MX_CHANNEL_READABLE,
                               MX_WAIT_ASYNC_REPEATING) != MX_OK) {
        return false;
      }
      idle.push_back(a);
    }
    CHECK(mx_channel_write(ctl, 0, "ends", 4, remotes, k) == MX_OK);
  }
  CHECK(mx_channel_write(ctl, 0, "go", 2, nullptr, 0) == MX_OK);
  if (mx_object_wait_async(hot, port, 1, MX_CHANNEL_READABLE, MX_WAIT_ASYNC_REPEATING) != MX_OK) {
    return false;
  }
  std::vector<double> samples;
  for (int i = 0; i < rounds + 200; ++i) {
    uint64_t v = static_cast<uint64_t>(i), back = 0;
    mx_time_t t0 = mx_time_get(MX_CLOCK_MONOTONIC);
    if (mx_channel_write(hot, 0, &v, sizeof(v), nullptr, 0) != MX_OK) {
      return false;
    }
    mx_port_packet_t p;
    do {
      if (mx_port_wait(port, Deadline(), &p, 0) != MX_OK) {
        return false;
      }
    } while (p.key != 1);
    uint32_t got = 0;
    if (mx_channel_read(hot, 0, &back, nullptr, sizeof(back), 0, &got, nullptr) != MX_OK ||
        back != v) {
      return false;
    }
    mx_time_t t1 = mx_time_get(MX_CLOCK_MONOTONIC);
    if (i >= 200) samples.push_back(static_cast<double>(t1 - t0) / 1000.0);  // after warm-up
  }
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  *median_us = Median(samples);
  *p99_us = sorted[sorted.size() * 99 / 100];
  mx_handle_close(hot);
  mx_handle_close(ctl);
  mx_object_wait_one(process, MX_PROCESS_TERMINATED, Deadline(), nullptr);
  for (mx_handle_t h : idle) mx_handle_close(h);
  mx_handle_close(port);
  mx_handle_close(process);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) return Child();
  int rounds = argc > 1 ? atoi(argv[1]) : 2000;
  if (rounds < 100) rounds = 100;
  // libmx raised the soft limit to the hard limit when it loaded (docs/resources.md), unless the
  // environment says MX_NOFILE_RAISE=0.
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  printf("| watched idle channels | round trip median (us) | p99 (us) | rounds |\n");
  printf("|---:|---:|---:|---:|\n");
  for (size_t n : {size_t{10}, size_t{1000}, size_t{10000}}) {
    if (n + 256 > rl.rlim_cur) {
      printf("| %zu | skipped: RLIMIT_NOFILE %llu too low | | |\n", n,
             static_cast<unsigned long long>(rl.rlim_cur));
      continue;
    }
    double median = 0, p99 = 0;
    if (!Measure(self, n, rounds, &median, &p99)) {
      fprintf(stderr, "measurement with %zu channels failed\n", n);
      return 1;
    }
    printf("| %zu | %.1f | %.1f | %d |\n", n, median, p99, rounds);
    fflush(stdout);
  }
  return 0;
}
