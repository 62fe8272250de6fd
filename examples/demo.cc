// SPDX-License-Identifier: BSD-3-Clause
// mx_demo: libmx between real processes, step by step.
//
// The parent spawns this same binary as a worker ("--worker"), handing it one end of a channel as
// its startup handle PA_USER0, then:
//   1. makes 8 threads x 200 concurrent mx_channel_call()s, each with its own txid;
//   2. passes it a pipe's write end as an fd handle; the worker writes a line into it;
//   3. passes it a second channel, which the worker serves too;
//   4. spawns a second worker ("--sleeper") and kills it while waiting on a channel to it;
//   5. closes the first worker's channel: the worker sees PEER_CLOSED and exits with 0.
// Every wait has a deadline. Exits 0 only if every step worked.
#include <fcntl.h>
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <mx/channel.h>
#include <mx/process.h>
#include <mx/time.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr mx_duration_t kStepTimeout = MX_SEC(5);   // every wait in the parent
constexpr mx_duration_t kIdleTimeout = MX_SEC(30);  // a worker left alone this long gives up
constexpr uint32_t kStartup = PA_HND(PA_USER0, 0);

// Every message starts with a Header: its txid first, as mx_channel_call() requires.
enum Op : uint32_t { kHello = 1, kEcho = 2, kWriteToFd = 3, kServeChannel = 4 };
struct Header {
  mx_txid_t txid;
  uint32_t op;
};
struct Reply {  // kHello, kWriteToFd, kServeChannel
  Header header;
  int32_t value;  // pid / mx_status_t
  uint32_t reserved;
  mx_koid_t koid;
};

// ---- Worker ------------------------------------------------------------------------------------

void Serve(mx_handle_t ch, const uint8_t* msg, uint32_t n, mx_handle_t* handles, uint32_t nh,
           std::vector<mx_handle_t>* channels) {
  Reply r = {};
  if (n >= sizeof(Header)) memcpy(&r.header, msg, sizeof(Header));
  if (r.header.op == kEcho) {
    mx_channel_write(ch, 0, msg, n, nullptr, 0);
  } else if (r.header.op == kHello) {
    r.value = getpid();
  } else if (r.header.op == kWriteToFd && nh == 1) {
    int fd = -1;
    r.value = mx_fd_unwrap(handles[0], &fd);
    if (r.value == MX_OK) {
      nh = 0;  // consumed
      dprintf(fd, "hello from worker %d via the pipe\n", getpid());
      close(fd);
    }
  } else if (r.header.op == kServeChannel && nh == 1) {
    mx_info_handle_basic_t info = {};
    r.value =
        mx_object_get_info(handles[0], MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr);
    r.koid = info.koid;
    if (r.value == MX_OK && info.type == MX_OBJ_TYPE_CHANNEL) {
      channels->push_back(handles[0]);
      nh = 0;
    }
  }
  if (r.header.op != kEcho) mx_channel_write(ch, 0, &r, sizeof(r), nullptr, 0);
  for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles[i]);
}

// Serves every channel it holds until the parent closes the first one, then exits with 0.
int Worker() {
  std::vector<mx_handle_t> channels = {mx_get_startup_handle(kStartup)};
  if (channels[0] == MX_HANDLE_INVALID) return 10;
  std::vector<uint8_t> buf(MX_CHANNEL_MAX_MSG_BYTES);
  mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
  for (;;) {
    std::vector<mx_wait_item_t> items;
    for (mx_handle_t ch : channels) {
      items.push_back({ch, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0});
    }
    if (mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()),
                            mx_deadline_after(kIdleTimeout)) != MX_OK) {
      return 11;
    }
    for (size_t i = items.size(); i-- > 0;) {  // backwards: erasing keeps lower indices valid
      if (items[i].pending == 0) continue;
      mx_handle_t ch = items[i].handle;
      mx_status_t st;
      uint32_t n = 0, nh = 0;
      while ((st = mx_channel_read(ch, 0, buf.data(), handles, static_cast<uint32_t>(buf.size()),
                                   MX_CHANNEL_MAX_MSG_HANDLES, &n, &nh)) == MX_OK) {
        Serve(ch, buf.data(), n, handles, nh, &channels);
      }
      if (st == MX_ERR_PEER_CLOSED) {
        if (i == 0) {  // the parent hung up: done
          for (mx_handle_t c : channels) mx_handle_close(c);
          return 0;
        }
        mx_handle_close(ch);
        channels.erase(channels.begin() + static_cast<ptrdiff_t>(i));
      } else if (st != MX_ERR_SHOULD_WAIT) {
        return 12;
      }
    }
  }
}

// Says "ready" and waits to be killed.
int Sleeper() {
  mx_handle_t ch = mx_get_startup_handle(kStartup);
  if (mx_channel_write(ch, 0, "ready", 5, nullptr, 0) != MX_OK) return 10;
  mx_object_wait_one(ch, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(kIdleTimeout), nullptr);
  return 1;  // not killed
}

// ---- Parent ------------------------------------------------------------------------------------

mx_time_t g_start;
int g_failures = 0;

mx_time_t Now() { return mx::time_get(MX_CLOCK_MONOTONIC); }
mx_time_t Deadline() { return mx::deadline_after(kStepTimeout); }
double Us(mx_time_t ns) { return static_cast<double>(ns) / 1e3; }
double Ms(mx_time_t ns) { return static_cast<double>(ns) / 1e6; }

__attribute__((format(printf, 1, 2))) void Log(const char* format, ...) {
  printf("[%7.1f ms] ", Ms(Now() - g_start));
  va_list ap;
  va_start(ap, format);
  vprintf(format, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

bool Check(bool ok, const char* what) {
  if (!ok) Log("FAILED: %s", what);
  g_failures += ok ? 0 : 1;
  return ok;
}

std::string SignalNames(mx_signals_t s) {
  const char* names[] = {"READABLE", "WRITABLE", "PEER_CLOSED"};  // bits 0..2
  std::string out;
  for (int bit = 0; bit < 3; ++bit) {
    if (s & (1u << bit)) out.append(out.empty() ? "" : "|").append(names[bit]);
  }
  if (s & MX_SIGNAL_LAST_HANDLE) out.append(out.empty() ? "" : "|").append("LAST_HANDLE");
  return out.empty() ? "0" : out;
}

// One mx_channel_call() with a Reply-shaped answer; |handle| (optional) travels with the request.
mx_status_t CallReply(const mx::channel& ch, Op op, mx_handle_t* handle, Reply* reply) {
  Header req = {0x1000 + op, op};
  mx_channel_call_args_t args = {&req,        handle,           reply,          nullptr,
                                 sizeof(req), handle ? 1u : 0u, sizeof(*reply), 0};
  uint32_t n = 0, nh = 0;
  mx_status_t st = ch.call(0, Deadline(), &args, &n, &nh, nullptr);
  return st == MX_OK && n != sizeof(*reply) ? MX_ERR_IO : st;
}

// Waits for |p| to terminate and reads its MX_INFO_PROCESS record.
bool Terminated(const mx::process& p, mx_info_process_t* info) {
  return p.wait_one(MX_PROCESS_TERMINATED, Deadline(), nullptr) == MX_OK &&
         p.get_process_info(info) == MX_OK && info->exited;
}

mx_status_t Spawn(const char* mode, mx::channel* ours, mx::process* process) {
  mx::channel theirs;
  mx_status_t st = mx::channel::create(0, ours, &theirs);
  if (st != MX_OK) return st;
  const char* argv[] = {"mx_demo", mode, nullptr};
  mx_spawn_handle_t start = {kStartup, theirs.release()};
  st = mx::process::spawn("/proc/self/exe", argv, nullptr, &start, 1, process);
  if (st != MX_OK) mx_handle_close(start.handle);  // on failure it is still ours
  return st;
}

void Calls(const mx::channel& ctl) {
  constexpr int kThreads = 8, kCalls = 200;
  std::vector<std::vector<mx_time_t>> rtt(kThreads);
  std::atomic<int> bad{0};
  mx_time_t t0 = Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        uint8_t req[64], rsp[64];
        Header h = {static_cast<mx_txid_t>(((t + 1) << 16) | i), kEcho};  // unique txid
        memset(req, t * 31 + i, sizeof(req));
        memcpy(req, &h, sizeof(h));
        mx_channel_call_args_t args = {req, nullptr, rsp, nullptr, sizeof(req), 0, sizeof(rsp), 0};
        uint32_t n = 0, nh = 0;
        mx_time_t start = Now();
        mx_status_t st = ctl.call(0, Deadline(), &args, &n, &nh, nullptr);
        rtt[t].push_back(Now() - start);
        if (st != MX_OK || n != sizeof(rsp) || memcmp(req, rsp, sizeof(req)) != 0) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  mx_time_t wall = Now() - t0;
  std::vector<mx_time_t> all;
  for (auto& v : rtt) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  if (!Check(bad == 0, "a call failed or got a wrong reply")) return;
  Log("1. calls:   %d threads x %d mx_channel_call, every reply matched its txid", kThreads,
      kCalls);
  Log("            %.0f calls/s; round trip median %.0f us, p99 %.0f us (%.1f ms in all)",
      static_cast<double>(all.size()) / (static_cast<double>(wall) / 1e9), Us(all[all.size() / 2]),
      Us(all[all.size() * 99 / 100]), Ms(wall));
}

void PassFd(const mx::channel& ctl) {
  int p[2];
  mx_handle_t h;
  if (!Check(pipe2(p, O_CLOEXEC) == 0 && mx_fd_wrap(p[1], &h) == MX_OK, "pipe/mx_fd_wrap")) return;
  Reply r = {};
  mx_status_t st = CallReply(ctl, kWriteToFd, &h, &r);  // the worker writes, then replies
  char line[256] = {};
  struct pollfd pfd = {p[0], POLLIN, 0};
  ssize_t got = st == MX_OK && poll(&pfd, 1, static_cast<int>(kStepTimeout / MX_MSEC(1))) == 1
                    ? read(p[0], line, sizeof(line) - 1)
                    : -1;
  close(p[0]);
  if (Check(r.value == MX_OK && got > 1 && line[got - 1] == '\n', "fd passing")) {
    line[got - 1] = '\0';
    Log("2. fd:      sent a pipe's write end (mx_fd_wrap); read back: \"%s\"", line);
  }
}

void PassChannel(const mx::channel& ctl) {
  mx::channel mine, theirs;
  mx_info_handle_basic_t info = {};
  if (!Check(
          mx::channel::create(0, &mine, &theirs) == MX_OK && theirs.get_basic_info(&info) == MX_OK,
          "channel create")) {
    return;
  }
  mx_handle_t h = theirs.release();
  Reply r = {};
  mx_status_t st = CallReply(ctl, kServeChannel, &h, &r);
  if (!Check(st == MX_OK && r.value == MX_OK && r.koid == info.koid, "channel passing")) return;
  struct Echo {
    Header header;
    char text[40];
  } msg = {{7, kEcho}, "hello over the second channel"}, echo = {};
  mx_channel_call_args_t args = {&msg, nullptr, &echo, nullptr, sizeof(msg), 0, sizeof(echo), 0};
  uint32_t n = 0, nh = 0;
  mx_time_t t0 = Now();
  st = mine.call(0, Deadline(), &args, &n, &nh, nullptr);
  mx_time_t rtt = Now() - t0;
  if (Check(st == MX_OK && n == sizeof(msg) && memcmp(&msg, &echo, n) == 0, "second channel")) {
    Log("3. channel: sent one end of a new channel (koid %llu); the worker sees the same koid",
        static_cast<unsigned long long>(info.koid));
    Log("            and serves it: \"%s\" echoed in %.0f us", echo.text, Us(rtt));
  }
}  // |mine| closes here; the worker sees PEER_CLOSED on its end and drops it

void KillSleeper() {
  mx::channel ch;
  mx::process sleeper;
  char ready[8] = {};
  uint32_t n = 0;
  if (!Check(Spawn("--sleeper", &ch, &sleeper) == MX_OK &&
                 ch.wait_one(MX_CHANNEL_READABLE, Deadline(), nullptr) == MX_OK &&
                 ch.read(0, ready, sizeof(ready), &n, nullptr, 0, nullptr) == MX_OK,
             "spawning the sleeper")) {
    return;
  }
  mx_time_t killed_at = 0;
  mx_status_t kill_status = MX_ERR_INTERNAL;
  std::thread killer([&] {
    mx::nanosleep(mx::deadline_after(mx::msec(20)));
    killed_at = Now();
    kill_status = sleeper.kill();  // mx_task_kill
  });
  mx_signals_t observed = 0;
  mx_time_t t0 = Now();
  mx_status_t st = ch.wait_one(MX_CHANNEL_PEER_CLOSED, Deadline(), &observed);
  mx_time_t woke = Now();
  killer.join();
  mx_info_process_t info = {};
  bool ok = st == MX_OK && kill_status == MX_OK && (observed & MX_CHANNEL_PEER_CLOSED) &&
            Terminated(sleeper, &info) && info.return_code == -SIGKILL;
  if (Check(ok, "killing the sleeper")) {
    Log("4. kill:    a second worker said \"%s\"; waited on its channel, mx_task_kill at +%.1f ms",
        ready, Ms(killed_at - t0));
    mx_signals_t now = 0;
    ch.wait_one(0, 0, &now);  // TIMED_OUT, with the current signals
    Log("            the wait ended %.0f us after the kill: observed %s, now %s",
        Us(woke - killed_at), SignalNames(observed).c_str(), SignalNames(now).c_str());
    Log("            MX_INFO_PROCESS: exited, exit code %d (-SIGKILL)", info.return_code);
  }
}

int Parent() {
  g_start = Now();
  printf("libmx demo: parent pid %d\n", getpid());
  mx::channel ctl;
  mx::process worker;
  Reply hello = {};
  if (!Check(Spawn("--worker", &ctl, &worker) == MX_OK, "mx_spawn") ||
      !Check(CallReply(ctl, kHello, nullptr, &hello) == MX_OK, "first call to the worker")) {
    return 1;
  }
  Log("0. spawn:   worker pid %d is up and answered its first call", hello.value);
  Calls(ctl);
  PassFd(ctl);
  PassChannel(ctl);
  KillSleeper();

  mx_time_t t0 = Now();
  ctl.reset();  // the worker's wait ends with PEER_CLOSED; it returns 0
  mx_info_process_t info = {};
  if (Check(Terminated(worker, &info) && info.return_code == 0, "worker exit")) {
    Log("5. exit:    closed the worker's channel; MX_PROCESS_TERMINATED after %.1f ms, code %d",
        Ms(Now() - t0), info.return_code);
  }
  printf("%s\n", g_failures == 0 ? "all steps OK" : "some steps FAILED");
  return g_failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--worker") == 0) return Worker();
  if (argc > 1 && strcmp(argv[1], "--sleeper") == 0) return Sleeper();
  return Parent();
}
